//! Transparent mode: a connection a gateway's firewall redirected here, served
//! by where it was going. TLS for an intercepted name (its ClientHello's SNI)
//! is decrypted as a CONNECT to it would be; other TLS, and anything that is
//! neither TLS nor HTTP, is tunnelled to the original destination; plain
//! HTTP is served by its `Host`.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{header, Method, Request, Uri};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::forward::ConnCtx;
use super::respond::Refusal;
use super::{front, intercept, Shared};
use crate::net::idle::{Activity, Tracked};
use crate::net::normalize_host;
use crate::net::redirect::Prefixed;

/// Bytes read at most to find a ClientHello's end: a hello with post-quantum
/// key shares is about 2 KiB; one this size is no browser's.
const MAX_HELLO: usize = 64 * 1024;

/// What the first bytes of a connection are.
enum Opening {
    /// A TLS ClientHello, and the name it asks for.
    Tls(Option<String>),
    /// An HTTP/1 request line.
    Http,
    /// Neither, or a hello that did not parse: only a tunnel can carry it.
    Other,
}

/// Serves one redirected connection. `orig` is where it was going (see
/// `net::redirect::original_dst`); the first bytes say what it is.
pub async fn serve(
    shared: Arc<Shared>,
    mut tcp: TcpStream,
    client: SocketAddr,
    orig: SocketAddr,
    drain: watch::Receiver<bool>,
) {
    let timeout = shared.limits.header_read_timeout.get();
    let (opening, head) = match tokio::time::timeout(timeout, read_opening(&mut tcp)).await {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            return tracing::debug!(client.addr = %client, error = %e, "redirected connection closed before it said anything")
        }
        Err(_) => {
            return tracing::debug!(client.addr = %client, "redirected connection sent nothing in time")
        }
    };
    match opening {
        Opening::Tls(Some(sni)) if shared.intercepts(&sni) => {
            let port = orig.port();
            // As for CONNECT: no leaf exists for a name whose upstream has not
            // proved itself.
            if let Err(e) = shared.upstream.verify(&sni, port).await {
                return tracing::info!(client.addr = %client, tls.sni = %sni, error = %e, "upstream refused for interception; closing");
            }
            intercept::serve(shared, client, sni, port, Prefixed::new(head, tcp), drain).await;
        }
        Opening::Http => serve_http(shared, Prefixed::new(head, tcp), client, orig, drain).await,
        Opening::Tls(sni) => tunnel(shared, tcp, head, client, orig, sni, drain).await,
        Opening::Other => tunnel(shared, tcp, head, client, orig, None, drain).await,
    }
}

/// Reads until the opening is known: a whole ClientHello, or the first bytes
/// of anything else. Returns what was read, to be read again.
async fn read_opening<R: AsyncRead + Unpin>(tcp: &mut R) -> std::io::Result<(Opening, Vec<u8>)> {
    let mut head = Vec::with_capacity(2048);
    loop {
        let mut chunk = [0u8; 4096];
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            if head.is_empty() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            return Ok((Opening::Other, head));
        }
        head.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        if head.first() != Some(&0x16) {
            // A request line opens with a method's capitals and a space; a
            // client may send the method alone first.
            let method = head.iter().take_while(|&&b| b != b' ');
            let capitals = method.clone().all(u8::is_ascii_uppercase);
            if capitals && !head.contains(&b' ') && head.len() < 16 {
                continue;
            }
            let http = capitals && method.count() > 0 && head.contains(&b' ');
            return Ok((if http { Opening::Http } else { Opening::Other }, head));
        }
        // rustls reads the hello from a copy: the stream keeps every byte for
        // the handshake (or the tunnel) that follows.
        let mut acceptor = rustls::server::Acceptor::default();
        let mut rest = head.as_slice();
        while !rest.is_empty() {
            if acceptor.read_tls(&mut rest).is_err() {
                return Ok((Opening::Other, head));
            }
        }
        match acceptor.accept() {
            Ok(Some(hello)) => {
                let sni = hello.client_hello().server_name().map(normalize_host);
                return Ok((Opening::Tls(sni), head));
            }
            Ok(None) if head.len() < MAX_HELLO => continue,
            Ok(None) | Err(_) => return Ok((Opening::Other, head)),
        }
    }
}

/// What is not intercepted goes where it was going, byte for byte, with a
/// tunnel record as a CONNECT's.
async fn tunnel(
    shared: Arc<Shared>,
    tcp: TcpStream,
    head: Vec<u8>,
    client: SocketAddr,
    orig: SocketAddr,
    sni: Option<String>,
    drain: watch::Receiver<bool>,
) {
    // Holding `drain` keeps shutdown waiting (up to its grace period) for the tunnel.
    let _drain = drain;
    let host = sni.unwrap_or_else(|| orig.ip().to_string());
    // The address it was going to, not the name's: the name is the client's
    // word, the address is what the firewall saw.
    let dial = shared
        .upstream
        .connector()
        .dialer()
        .connect(&orig.ip().to_string(), orig.port())
        .await;
    let mut server = match dial {
        Ok((s, _)) => s,
        Err(e) => {
            return tracing::info!(client.addr = %client, tunnel.host = %host, error = %e, "cannot reach a redirected connection's destination")
        }
    };
    if let Err(e) = server.write_all(&head).await {
        return tracing::debug!(client.addr = %client, tunnel.host = %host, error = %e, "destination closed at once");
    }
    let idle = shared.limits.idle_timeout.get();
    let mut stats = crate::net::tunnel::splice(tcp, server, idle, shared.hard_stop.clone()).await;
    stats.client_to_server += head.len() as u64;
    front::audit_tunnel(&shared, client, &host, orig.port(), stats, None);
}

/// Plain HTTP: each request in origin form is read as the absolute-form
/// request its `Host` makes it, and goes through the pipeline as on the
/// proxy listener.
async fn serve_http(
    shared: Arc<Shared>,
    io: Prefixed<TcpStream>,
    client: SocketAddr,
    orig: SocketAddr,
    drain: watch::Receiver<bool>,
) {
    let activity = Activity::default();
    let io = TokioIo::new(Tracked::new(io, activity.clone()));
    let ctx = Arc::new(ConnCtx {
        client,
        tls_host: None,
    });
    let svc = {
        let shared = shared.clone();
        service_fn(move |req| {
            let (shared, ctx) = (shared.clone(), ctx.clone());
            async move {
                match absolute(req, orig) {
                    Ok(req) => super::pipeline::handle(shared, ctx, req).await,
                    Err(refusal) => Ok(refusal.into_response()),
                }
            }
        })
    };
    let conn = intercept::h1_builder(&shared)
        .serve_connection(io, svc)
        .with_upgrades();
    super::drive(conn, &shared, drain, activity, client).await;
}

/// The absolute-form request a redirected origin-form one stands for.
fn absolute<B>(mut req: Request<B>, orig: SocketAddr) -> Result<Request<B>, Refusal> {
    if req.method() == Method::CONNECT {
        return Err(Refusal::BadRequest(
            "CONNECT on a redirected connection: this is not a proxy listener".into(),
        ));
    }
    if req.uri().scheme().is_some() {
        return Ok(req);
    }
    let authority = match req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        Some(h) if h.contains(':') || orig.port() == 80 => h.to_string(),
        Some(h) => format!("{h}:{}", orig.port()),
        None => orig.to_string(),
    };
    let pq = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let uri: Uri = format!("http://{authority}{pq}")
        .parse()
        .map_err(|_| Refusal::BadRequest("the Host header is not a host".into()))?;
    *req.uri_mut() = uri;
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read_opening` makes of `pieces` sent one after another.
    async fn opening(pieces: Vec<Vec<u8>>) -> (Opening, Vec<u8>) {
        let (mut client, mut server) = tokio::io::duplex(1 << 16);
        let writer = tokio::spawn(async move {
            for p in pieces {
                client.write_all(&p).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            client
        });
        let got = read_opening(&mut server).await.unwrap();
        drop(writer.await.unwrap());
        got
    }

    /// A real ClientHello, as rustls sends one for `name`.
    fn client_hello(name: &str) -> Vec<u8> {
        let roots = rustls::RootCertStore::empty();
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut conn =
            rustls::ClientConnection::new(Arc::new(cfg), name.to_string().try_into().unwrap())
                .unwrap();
        let mut out = Vec::new();
        conn.write_tls(&mut out).unwrap();
        out
    }

    #[tokio::test]
    async fn openings_are_told_apart_however_they_arrive() {
        let hello = client_hello("oapi.dingtalk.com");
        let (first, rest) = hello.split_at(40);
        for pieces in [vec![hello.clone()], vec![first.to_vec(), rest.to_vec()]] {
            let (o, head) = opening(pieces).await;
            assert!(matches!(o, Opening::Tls(Some(ref n)) if n == "oapi.dingtalk.com"));
            assert_eq!(head, hello, "every byte kept for the handshake");
        }
        let (o, _) = opening(vec![b"GE".to_vec(), b"T / HTTP/1.1\r\n".to_vec()]).await;
        assert!(matches!(o, Opening::Http));
        let (o, head) = opening(vec![b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()]).await;
        assert!(matches!(o, Opening::Other));
        assert_eq!(head, b"SSH-2.0-OpenSSH_9.2\r\n");
        // A record that says it is a handshake but is none.
        let (o, _) = opening(vec![b"\x16\x03\x01\x00\x05hello".to_vec()]).await;
        assert!(matches!(o, Opening::Other));
    }

    fn req(uri: &str, host: Option<&str>) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        if let Some(h) = host {
            b = b.header(header::HOST, h);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn origin_form_becomes_absolute_by_its_host() {
        let orig: SocketAddr = "203.0.113.5:80".parse().unwrap();
        let r = absolute(req("/a?b=1", Some("oapi.dingtalk.com")), orig).unwrap();
        assert_eq!(r.uri(), "http://oapi.dingtalk.com/a?b=1");
        let alt: SocketAddr = "203.0.113.5:8080".parse().unwrap();
        let r = absolute(req("/", Some("example.test")), alt).unwrap();
        assert_eq!(r.uri(), "http://example.test:8080/");
        let r = absolute(req("/x", None), alt).unwrap();
        assert_eq!(r.uri(), "http://203.0.113.5:8080/x");
        assert!(absolute(req("/", Some("bad host")), orig).is_err());
        let connect = Request::builder()
            .method(Method::CONNECT)
            .uri("example.test:443")
            .body(())
            .unwrap();
        assert!(absolute(connect, orig).is_err());
    }
}
