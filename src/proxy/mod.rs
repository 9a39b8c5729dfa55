//! The per-request HTTP service: request metadata, the hold, the upstream client,
//! synthetic responses.
//!
//! - [`front`]: the proxy listener's service: proxy auth, CONNECT (tunnel or
//!   intercept) and absolute-form plain HTTP.
//! - [`intercept`]: a CONNECT that is decrypted: TLS accept with a minted leaf,
//!   then HTTP/1.1 or HTTP/2 served by [`forward`].
//! - [`forward`]: one request to its upstream target.
//! - [`upstream`]: connections, TLS verification and the pooled client.
//! - [`respond`]: every response the proxy writes itself.
//! - [`websocket`]: the messages on an upgraded connection, each held and
//!   decided as an upload.

pub mod body;
pub mod forward;
pub mod front;
pub mod headers;
pub mod hold;
pub mod intercept;
pub mod pipeline;
pub mod record;
pub mod respond;
pub mod transparent;
pub mod upstream;
pub mod websocket;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use crate::audit::AuditSink;
use crate::config::{Config, HoldConfig, LimitsConfig};
use crate::inspect::Engine;
use crate::net::{HostSet, ProxyAuth};
use crate::policy::{LearnedRegions, Policy};
use crate::tls::LeafCache;

/// What a reload replaces: the policy, the engine and the hold settings. A request
/// takes one `Arc<Runtime>` when it starts and keeps it to its end.
#[derive(Debug)]
pub struct Runtime {
    pub policy: Arc<Policy>,
    pub engine: Arc<Engine>,
    pub hold: HoldConfig,
}

impl Runtime {
    pub fn from_config(cfg: &Config) -> Runtime {
        Runtime {
            policy: cfg.policy.clone(),
            engine: cfg.engine.clone(),
            hold: cfg.hold.clone(),
        }
    }
}

/// What every connection of one running proxy shares.
pub struct Shared {
    pub limits: LimitsConfig,
    /// CONNECT hosts to decrypt…
    pub intercept: HostSet,
    /// …except these.
    pub bypass: HostSet,
    pub auth: Option<ProxyAuth>,
    pub upstream: upstream::Upstream,
    pub leaves: LeafCache,
    /// Turns true when the shutdown grace period is over: long-lived tunnels end.
    pub hard_stop: watch::Receiver<bool>,
    pub audit: AuditSink,
    /// Where DingTalk said uploads will go; outlives reloads.
    pub learned: LearnedRegions,
    /// What the first parts of multipart uploads were; outlives reloads.
    pub parts: crate::policy::UploadParts,
    /// What was decided, for the admin endpoint; outlives reloads.
    pub metrics: crate::admin::Metrics,
    /// `run --record FILE.har`.
    pub recorder: Option<Arc<crate::replay::record::Recorder>>,
    runtime: RwLock<Arc<Runtime>>,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        limits: LimitsConfig,
        intercept: HostSet,
        bypass: HostSet,
        auth: Option<ProxyAuth>,
        upstream: upstream::Upstream,
        leaves: LeafCache,
        hard_stop: watch::Receiver<bool>,
        audit: AuditSink,
        runtime: Runtime,
    ) -> Shared {
        Shared {
            learned: LearnedRegions::new(runtime.policy.learn_capacity()),
            parts: crate::policy::UploadParts::new(),
            metrics: crate::admin::Metrics::new(),
            limits,
            intercept,
            bypass,
            auth,
            upstream,
            leaves,
            hard_stop,
            audit,
            recorder: None,
            runtime: RwLock::new(Arc::new(runtime)),
        }
    }

    /// The policy in force now.
    pub fn runtime(&self) -> Arc<Runtime> {
        match self.runtime.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Atomically puts a new policy in force; requests already started keep theirs.
    pub fn swap_runtime(&self, rt: Runtime) {
        let rt = Arc::new(rt);
        match self.runtime.write() {
            Ok(mut g) => *g = rt,
            Err(poisoned) => *poisoned.into_inner() = rt,
        }
    }

    /// Appends `rec` to the audit log and counts it (or the failure) in the
    /// metrics: every decided request and tunnel is written through here.
    pub fn write_record(
        &self,
        rec: crate::audit::AuditRecord,
    ) -> Result<crate::audit::AuditRecord, crate::audit::AuditError> {
        let written = self.audit.append(rec);
        match &written {
            Ok(r) => self.metrics.recorded(r),
            Err(_) => self.metrics.audit_failed(),
        }
        written
    }

    /// Whether a CONNECT to `host` is decrypted and inspected.
    pub fn intercepts(&self, host: &str) -> bool {
        self.intercept.matches(host) && !self.bypass.matches(host)
    }
}

/// A served connection that can be asked to finish its in-flight requests and close.
pub trait GracefulConn: Future {
    fn graceful_shutdown(self: std::pin::Pin<&mut Self>);
}

impl<I, S, B> GracefulConn for hyper::server::conn::http1::UpgradeableConnection<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: http_body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn graceful_shutdown(self: std::pin::Pin<&mut Self>) {
        hyper::server::conn::http1::UpgradeableConnection::graceful_shutdown(self)
    }
}

impl<I, S, E, B> GracefulConn for hyper_util::server::conn::auto::UpgradeableConnection<'_, I, S, E>
where
    S: hyper::service::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>,
    S::Future: 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn graceful_shutdown(self: std::pin::Pin<&mut Self>) {
        hyper_util::server::conn::auto::UpgradeableConnection::graceful_shutdown(self)
    }
}

/// Runs a served connection to its end: closes it when idle, finishes it
/// gracefully when shutdown begins, and drops it when the grace period is over.
pub async fn drive<C, E>(
    conn: C,
    shared: &Shared,
    mut drain: watch::Receiver<bool>,
    activity: crate::net::idle::Activity,
    peer: SocketAddr,
) where
    C: GracefulConn<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut conn = pin!(conn);
    let mut hard = shared.hard_stop.clone();
    let idle = shared.limits.idle_timeout.get();
    let mut draining = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(client.addr = %peer, error = %e, "connection ended");
                }
                return;
            }
            _ = activity.idle(idle) => {
                return tracing::debug!(client.addr = %peer, "connection idle; closing");
            }
            _ = async { let _ = drain.wait_for(|d| *d).await; }, if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = async { let _ = hard.wait_for(|s| *s).await; } => return,
        }
    }
}
