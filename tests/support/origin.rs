//! Origins on 127.0.0.1:0 that answer every request with the SHA-256 and length
//! of the body they received, and keep a record of each request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::pki::{server_config, Identity};

/// What an origin saw of one request.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub host: Option<String>,
    pub version: String,
    pub len: u64,
    pub sha256: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

pub struct Origin {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Origin {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// HTTPS speaking h1 and h2 (ALPN), presenting `id`.
    pub async fn https(id: Identity) -> Origin {
        Self::start(Some(id)).await
    }

    /// Plain HTTP/1.1 (and h2c prior knowledge).
    pub async fn http() -> Origin {
        Self::start(None).await
    }

    async fn start(id: Option<Identity>) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let acceptor = id.map(|id| tokio_rustls::TlsAcceptor::from(server_config(id)));
        let rec = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let rec = rec.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(rec.clone(), req));
                    let builder = auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        Some(a) => {
                            if let Ok(tls) = a.accept(tcp).await {
                                let _ = builder
                                    .serve_connection_with_upgrades(TokioIo::new(tls), svc)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection_with_upgrades(TokioIo::new(tcp), svc)
                                .await;
                        }
                    }
                });
            }
        });
        Origin {
            addr,
            received,
            task,
        }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    rec: Arc<Mutex<Vec<Received>>>,
    mut req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/ws" && req.headers().contains_key(http::header::UPGRADE) {
        // A minimal echo "WebSocket": after 101 every byte comes back.
        let on = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            if let Ok(up) = on.await {
                let mut io = TokioIo::new(up);
                let mut buf = [0u8; 1024];
                while let Ok(n) = io.read(&mut buf).await {
                    if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        });
        let mut resp = Response::new(Full::new(Bytes::new()));
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        resp.headers_mut()
            .insert(http::header::CONNECTION, "upgrade".parse().unwrap());
        resp.headers_mut()
            .insert(http::header::UPGRADE, "websocket".parse().unwrap());
        return Ok(resp);
    }
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    let r = Received {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        host,
        version: format!("{:?}", parts.version),
        len: body.len() as u64,
        sha256: super::sha256_hex(&body),
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    let answer = serde_json::json!({
        "method": r.method,
        "path": r.path,
        "host": r.host,
        "version": r.version,
        "len": r.len,
        "sha256": r.sha256,
    });
    rec.lock().unwrap().push(r);
    let mut resp = Response::new(Full::new(Bytes::from(answer.to_string())));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        "application/json".parse().unwrap(),
    );
    Ok(resp)
}
