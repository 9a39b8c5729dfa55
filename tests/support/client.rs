//! Clients that talk through the proxy: raw CONNECT, TLS with chosen roots,
//! and HTTP/1.1 or HTTP/2 requests over the result.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::pki::client_config;

pub type ReqBody = BoxBody<Bytes, std::io::Error>;

pub fn full_body(data: impl Into<Bytes>) -> ReqBody {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A body of `data` sent in `chunk`-sized frames with no length announced:
/// HTTP/1.1 sends it chunked.
pub fn chunked_body(data: Vec<u8>, chunk: usize) -> ReqBody {
    let frames: std::collections::VecDeque<Bytes> = data
        .chunks(chunk.max(1))
        .map(Bytes::copy_from_slice)
        .collect();
    Frames(frames).boxed()
}

struct Frames(std::collections::VecDeque<Bytes>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }
    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
    // No size hint: the length is not announced, so HTTP/1.1 uses chunked.
}

/// The head and body of a response the proxy gave instead of a tunnel.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub head: String,
    pub body: String,
}

/// Sends raw bytes and reads one HTTP/1.1 response head (and a Content-Length body).
pub async fn raw_exchange<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, request: &[u8]) -> Refused {
    s.write_all(request).await.unwrap();
    read_response(s).await
}

async fn read_response<S: AsyncRead + Unpin>(s: &mut S) -> Refused {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
        assert!(buf.len() < 65536, "response head too long");
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::IM_A_TEAPOT);
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if len > 0 {
        let _ = s.read_exact(&mut body).await;
    }
    Refused {
        status,
        head,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// `CONNECT authority` through the proxy; the open stream on 200.
pub async fn connect_via(
    proxy: SocketAddr,
    authority: &str,
    extra_headers: &str,
) -> Result<TcpStream, Refused> {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    let req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{extra_headers}\r\n");
    let r = raw_exchange(&mut s, req.as_bytes()).await;
    if r.status == StatusCode::OK {
        Ok(s)
    } else {
        Err(r)
    }
}

/// TLS over `io` for `host`, trusting exactly `roots`.
pub async fn tls_over<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    host: &str,
    roots: Arc<rustls::RootCertStore>,
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<IO>> {
    let cfg = client_config(roots, alpn);
    let name = ServerName::try_from(host.to_string()).unwrap();
    tokio_rustls::TlsConnector::from(cfg)
        .connect(name, io)
        .await
}

/// The certificate chain the server presented.
pub fn peer_chain<IO>(tls: &TlsStream<IO>) -> Vec<CertificateDer<'static>> {
    tls.get_ref()
        .1
        .peer_certificates()
        .map(|c| c.to_vec())
        .unwrap_or_default()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The origin answered with the SHA-256 of what it received: `sent`, byte-exact.
    pub fn assert_origin_got(&self, sent: &[u8], what: &str) {
        assert_eq!(
            self.json()["sha256"].as_str(),
            Some(super::sha256_hex(sent).as_str()),
            "{what}: {}",
            self.text()
        );
    }
}

/// Sends one request over `io` with HTTP/2 when `h2`, else HTTP/1.1.
pub async fn send<IO>(io: IO, h2: bool, req: Request<ReqBody>) -> Answer
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let resp = if h2 {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .expect("h2 handshake");
        tokio::spawn(conn);
        sender.send_request(req).await.expect("h2 request")
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .expect("h1 handshake");
        tokio::spawn(conn);
        sender.send_request(req).await.expect("h1 request")
    };
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("response body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// One absolute-form (plain HTTP) request through the proxy on a new connection.
pub async fn plain_via(proxy: SocketAddr, req: Request<ReqBody>) -> Answer {
    let tcp = TcpStream::connect(proxy).await.unwrap();
    send(tcp, false, req).await
}

/// A request builder for intercepted (https) or absolute-form (http) requests.
pub fn request(method: &str, uri: &str, body: ReqBody) -> Request<ReqBody> {
    let uri: http::Uri = uri.parse().unwrap();
    let mut b = Request::builder().method(method).uri(uri.clone());
    if let Some(a) = uri.authority() {
        b = b.header(http::header::HOST, a.as_str());
    }
    b.body(body).unwrap()
}

/// Runs curl, bounded in time, through `proxy` or through none (whatever
/// the environment says): whether it succeeded, its stdout, its stderr.
pub async fn run_curl<S: AsRef<std::ffi::OsStr>>(
    proxy: Option<&str>,
    args: &[S],
) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-sS", "--max-time", "30"]);
    match proxy {
        Some(p) => cmd.args(["--proxy", p]),
        None => cmd.args(["--noproxy", "*"]),
    };
    let out = cmd
        .args(args)
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .output()
        .await
        .expect("curl is installed (.ci/run installs it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
