//! The upstream side: connecting (through the `Dialer`'s rules), TLS with full
//! verification, and the pooled HTTP/1.1 + HTTP/2 client every forwarded request uses.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::body::{Body, BoxError};
use crate::net::{DialError, Dialer};

/// Why an upstream could not be used. Every variant says it in words fit for a 502 body.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(transparent)]
    Dial(#[from] DialError),
    #[error("TLS with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("invalid upstream host {0:?}")]
    BadHost(String),
    #[error("upstream request failed: {0}")]
    Http(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Refused(String),
}

impl UpstreamError {
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            UpstreamError::Timeout(_) | UpstreamError::Dial(DialError::Timeout { .. })
        )
    }

    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            UpstreamError::Refused(_) | UpstreamError::Dial(DialError::Refused { .. })
        )
    }
}

/// A connection to an upstream: plain TCP for `http`, TLS for `https`.
pub enum UpStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl UpStream {
    pub fn negotiated_h2(&self) -> bool {
        match self {
            UpStream::Plain(_) => false,
            UpStream::Tls(t) => t.get_ref().1.alpn_protocol() == Some(b"h2"),
        }
    }
}

impl Connection for UpStream {
    fn connected(&self) -> Connected {
        let c = Connected::new();
        if self.negotiated_h2() {
            c.negotiated_h2()
        } else {
            c
        }
    }
}

impl AsyncRead for UpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            UpStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            UpStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            UpStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            UpStream::Plain(s) => s.is_write_vectored(),
            UpStream::Tls(s) => s.is_write_vectored(),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpStream::Plain(s) => Pin::new(s).poll_flush(cx),
            UpStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            UpStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Opens upstream connections; a `tower::Service<Uri>` for hyper-util's pooled client.
#[derive(Clone)]
pub struct Connector {
    dialer: Dialer,
    /// ALPN h2 + http/1.1.
    tls: TlsConnector,
    /// ALPN http/1.1 only: HTTP/1.1 clients and upgrades (WebSocket).
    tls_h1: TlsConnector,
    /// Which of the two the pooled client built on this connector offers.
    h1_only: bool,
}

impl Connector {
    pub fn new(
        dialer: Dialer,
        tls: Arc<rustls::ClientConfig>,
        tls_h1: Arc<rustls::ClientConfig>,
    ) -> Connector {
        Connector {
            dialer,
            tls: TlsConnector::from(tls),
            tls_h1: TlsConnector::from(tls_h1),
            h1_only: false,
        }
    }

    fn h1_only(&self) -> Connector {
        Connector {
            h1_only: true,
            ..self.clone()
        }
    }

    pub fn dialer(&self) -> &Dialer {
        &self.dialer
    }

    pub async fn connect(
        &self,
        https: bool,
        host: &str,
        port: u16,
        h1_only: bool,
    ) -> Result<UpStream, UpstreamError> {
        let (tcp, _) = self.dialer.connect(host, port).await?;
        if !https {
            return Ok(UpStream::Plain(tcp));
        }
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| UpstreamError::BadHost(host.to_string()))?;
        let tls = if h1_only { &self.tls_h1 } else { &self.tls };
        let handshake = tls.connect(name, tcp);
        match tokio::time::timeout(self.dialer.connect_timeout(), handshake).await {
            Ok(Ok(s)) => Ok(UpStream::Tls(Box::new(s))),
            Ok(Err(e)) => Err(UpstreamError::Tls {
                host: host.to_string(),
                reason: crate::tls::describe_verify_error(&e),
            }),
            Err(_) => Err(UpstreamError::Timeout(format!(
                "TLS handshake with {host} timed out after {:?}",
                self.dialer.connect_timeout()
            ))),
        }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<UpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let https = uri.scheme_str() == Some("https");
            let host = uri
                .host()
                .ok_or_else(|| UpstreamError::BadHost(uri.to_string()))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let s = this.connect(https, &host, port, this.h1_only).await?;
            Ok(TokioIo::new(s))
        })
    }
}

/// How long a successful upstream verification lets later CONNECTs to the same
/// host skip the check. Every pooled connection is still fully verified.
const VERIFIED_TTL: Duration = Duration::from_secs(60);
const VERIFIED_MAX: usize = 4096;

/// The pooled upstream clients plus the CONNECT-time verification cache.
///
/// A request goes upstream in the HTTP version its client used where the origin
/// allows it: HTTP/1.1 clients get an HTTP/1.1 pool (no HTTP/2 flow-control windows
/// between a streaming upload and the origin), HTTP/2 clients an h2-first pool.
pub struct Upstream {
    client: Client<Connector, Body>,
    client_h1: Client<Connector, Body>,
    connector: Connector,
    verified: Mutex<HashMap<(String, u16), Instant>>,
}

impl Upstream {
    pub fn new(connector: Connector, idle: Duration) -> Upstream {
        let build = |c: Connector| {
            Client::builder(TokioExecutor::new())
                .timer(TokioTimer::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(idle)
                .pool_max_idle_per_host(64)
                // Uploads are large: let the window follow the connection's
                // bandwidth-delay product instead of h2's 64 KiB default.
                .http2_adaptive_window(true)
                .http2_max_frame_size(64 * 1024)
                .build(c)
        };
        Upstream {
            client: build(connector.clone()),
            client_h1: build(connector.h1_only()),
            connector,
            verified: Mutex::new(HashMap::new()),
        }
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Proves that `host:port` presents a certificate the upstream trust store
    /// accepts for `host`, before any leaf is minted for it (invariant 5).
    pub async fn verify(&self, host: &str, port: u16) -> Result<(), UpstreamError> {
        let key = (host.to_string(), port);
        if let Ok(v) = self.verified.lock() {
            if v.get(&key).is_some_and(|t| t.elapsed() < VERIFIED_TTL) {
                return Ok(());
            }
        }
        let conn = self.connector.connect(true, host, port, false).await?;
        drop(conn);
        if let Ok(mut v) = self.verified.lock() {
            if v.len() >= VERIFIED_MAX {
                v.retain(|_, t| t.elapsed() < VERIFIED_TTL);
                if v.len() >= VERIFIED_MAX {
                    v.clear();
                }
            }
            v.insert(key, Instant::now());
        }
        Ok(())
    }

    /// Sends a request whose URI is absolute (`https://host:port/path`), over
    /// HTTP/2 only when `h2` (the client's own version) and the origin agrees.
    pub async fn send(
        &self,
        req: Request<Body>,
        h2: bool,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let client = if h2 { &self.client } else { &self.client_h1 };
        client.request(req).await.map_err(|e| {
            // The connector's own error, if that is where it failed, says it best.
            let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = src {
                if let Some(u) = s.downcast_ref::<UpstreamError>() {
                    let text = u.to_string();
                    return if u.is_refused() {
                        UpstreamError::Refused(text)
                    } else if u.is_timeout() {
                        UpstreamError::Timeout(text)
                    } else {
                        UpstreamError::Http(text)
                    };
                }
                src = s.source();
            }
            UpstreamError::Http(describe_hyper_error(&e))
        })
    }
}

fn describe_hyper_error(e: &hyper_util::client::legacy::Error) -> String {
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
