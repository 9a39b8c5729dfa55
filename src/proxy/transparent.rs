//! Transparent mode: a connection a gateway's firewall redirected here, served
//! by where it was going. TLS for an intercepted name (its ClientHello's SNI)
//! is decrypted as a CONNECT to it would be; other TLS, and anything that is
//! neither TLS nor HTTP, is tunnelled to the original destination; plain
//! HTTP is served by its `Host`.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{header, Method, Request, Uri};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
async fn read_opening(tcp: &mut TcpStream) -> std::io::Result<(Opening, Vec<u8>)> {
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
            // A request line opens with a method's capitals.
            let http = head
                .iter()
                .take_while(|&&b| b != b' ')
                .all(u8::is_ascii_uppercase)
                && head.contains(&b' ');
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
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read_timeout.get())
        .max_buf_size(intercept::max_buf(&shared))
        .max_header_size(shared.limits.max_header_bytes.get() as usize)
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
