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
    /// Request heads seen, counted before any body is read: proves a request did
    /// (or did not) reach the origin at all.
    pub heads: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// Canned answers: a request whose path starts with the prefix gets this JSON.
pub type Routes = Arc<Vec<(String, String)>>;

#[derive(Clone)]
struct State {
    received: Arc<Mutex<Vec<Received>>>,
    heads: Arc<std::sync::atomic::AtomicUsize>,
    routes: Routes,
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
        Self::start(Some(id), Vec::new()).await
    }

    /// HTTPS that answers requests under the given path prefixes with canned JSON.
    pub async fn https_routes(id: Identity, routes: Vec<(&str, String)>) -> Origin {
        let routes = routes
            .into_iter()
            .map(|(p, b)| (p.to_string(), b))
            .collect();
        Self::start(Some(id), routes).await
    }

    /// Plain HTTP/1.1 (and h2c prior knowledge).
    pub async fn http() -> Origin {
        Self::start(None, Vec::new()).await
    }

    async fn start(id: Option<Identity>, routes: Vec<(String, String)>) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let acceptor = id.map(|id| tokio_rustls::TlsAcceptor::from(server_config(id)));
        let rec = State {
            received: received.clone(),
            heads: heads.clone(),
            routes: Arc::new(routes),
        };
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
            heads,
            task,
        }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Origin {
    pub fn heads_seen(&self) -> usize {
        self.heads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn handle(
    state: State,
    mut req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    state
        .heads
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let rec = state.received.clone();
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
    let canned = state
        .routes
        .iter()
        .find(|(prefix, _)| r.path.starts_with(prefix.as_str()))
        .map(|(_, body)| body.clone());
    let answer = serde_json::json!({
        "method": r.method,
        "path": r.path,
        "host": r.host,
        "version": r.version,
        "len": r.len,
        "sha256": r.sha256,
    });
    rec.lock().unwrap().push(r);
    let mut resp = Response::new(Full::new(Bytes::from(
        canned.unwrap_or_else(|| answer.to_string()),
    )));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        "application/json".parse().unwrap(),
    );
    Ok(resp)
}
