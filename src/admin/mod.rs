//! The admin endpoint: `GET /healthz` and `GET /metrics` (Prometheus text) on a
//! listener of its own, on loopback unless the operator says otherwise.
//!
//! It answers nothing else and changes nothing: no reload, no policy, no
//! records. What it shows is counts, the policy hash and the version; never a
//! host, a path or a value from traffic.

mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

pub use metrics::{Gauges, Metrics};

use crate::proxy::Shared;

/// Admin connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 16;
/// A scraper that sends no request in this long is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// What the endpoint reads beside the shared state: the proxy's connection
/// permits, to tell how many client connections are open.
#[derive(Clone)]
pub struct Sources {
    pub shared: Arc<Shared>,
    pub permits: Arc<Semaphore>,
    pub max_connections: usize,
}

impl Sources {
    fn gauges(&self) -> Gauges {
        let free = self.permits.available_permits();
        Gauges {
            connections_open: self.max_connections.saturating_sub(free) as u64,
            connections_max: self.max_connections as u64,
            policy_hash: self.shared.runtime().policy.hash().to_string(),
        }
    }
}

/// Serves the endpoint on `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, sources: Sources, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
        };
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "admin: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
        };
        let sources = sources.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let sources = sources.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&sources, &req)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(tcp), svc);
            let _ = tokio::time::timeout(Duration::from_secs(30), conn).await;
            drop(permit);
        });
    }
}

/// Binds `addr`; a failure is reported and the proxy runs on without it (the
/// endpoint serves the operator, the proxy serves everyone).
pub async fn bind(addr: SocketAddr) -> Option<TcpListener> {
    if !addr.ip().is_loopback() {
        tracing::warn!(admin.addr = %addr, "the admin endpoint listens beyond loopback: anyone who can reach it sees the counters and the policy hash");
    }
    match TcpListener::bind(addr).await {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(admin.addr = %addr, error = %e, "admin endpoint not started");
            None
        }
    }
}

fn answer(sources: &Sources, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let shared = &sources.shared;
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match req.uri().path() {
        "/healthz" => {
            let g = sources.gauges();
            let failing = shared.metrics.audit_failing();
            let body = serde_json::json!({
                "status": if failing { "failing" } else { "ok" },
                "audit": if failing {
                    "the last audit write failed: decided uploads are refused"
                } else {
                    "ok"
                },
                "policy": g.policy_hash,
                "version": env!("CARGO_PKG_VERSION"),
                "uptime_seconds": shared.metrics.uptime_seconds(),
            });
            let status = if failing {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            reply(status, "application/json", format!("{body}\n"))
        }
        "/metrics" => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            shared.metrics.render(&sources.gauges()),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: /healthz or /metrics\n".into(),
        ),
    }
}

fn reply(status: StatusCode, ctype: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
