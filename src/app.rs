//! Wires listener, TLS, proxy, audit and admin together; owns reload and shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::net::idle::{Activity, Tracked};
use crate::net::{Acl, Dialer, HostPattern, HostSet, ProxyAuth};
use crate::proxy::forward::ConnCtx;
use crate::proxy::respond::raw_refusal;
use crate::proxy::upstream::{Connector, Upstream};
use crate::proxy::{front, intercept, Runtime, Shared};
use crate::tls::{Alpn, CaOptions, CertAuthority, LeafCache, TlsError, UpstreamTls};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Record(#[from] crate::replay::record::RecordError),
}

/// A running proxy: its address, its CA, and the handle that stops it.
pub struct Running {
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    transparent_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    pub ca_cert: PathBuf,
    pub ca_created: bool,
    begin_shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where redirected connections are taken (`transparent.listen`), if anywhere.
    pub fn transparent_addr(&self) -> Option<SocketAddr> {
        self.transparent_addr
    }

    /// Where `/healthz` and `/metrics` answer (`None`: not configured, or the
    /// address could not be bound).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// Stops accepting, lets in-flight requests finish up to the grace period,
    /// then ends whatever is left.
    pub async fn shutdown(self) {
        let _ = self.begin_shutdown.send(true);
        let _ = self.task.await;
    }

    /// Puts the policy, inspection settings and hold limits of `cfg` in force.
    /// Listener, TLS and client settings need a restart.
    pub fn apply(&self, cfg: &Config) {
        self.shared.swap_runtime(Runtime::from_config(cfg));
    }

    /// The hash of the policy in force.
    pub fn policy_hash(&self) -> String {
        self.shared.runtime().policy.hash().to_string()
    }

    /// Re-reads `path` (or the embedded config) and applies it, or keeps the old
    /// policy serving and returns the new file's errors.
    pub fn reload(
        &self,
        path: Option<&std::path::Path>,
        overrides: &crate::config::Overrides,
    ) -> Result<String, crate::config::ConfigErrors> {
        let mut cfg = match crate::config::load(path) {
            Ok(c) => c,
            Err(e) => {
                self.shared.metrics.reloaded(false);
                return Err(e);
            }
        };
        cfg.apply(overrides);
        self.apply(&cfg);
        self.shared.metrics.reloaded(true);
        // The audit file is reopened, not moved: its path, sync and size
        // settings need a restart, as the listener's do.
        if let Err(e) = self.shared.audit.reopen() {
            tracing::error!(error = %e, "reload: cannot reopen the audit log");
        }
        Ok(self.policy_hash())
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully; SIGHUP reloads.
    /// Install `signals` before saying the proxy is ready: until they are
    /// installed, a SIGHUP (a reload sent right after start) kills the process.
    pub async fn until_signal(
        self,
        signals: Signals,
        path: Option<&std::path::Path>,
        overrides: &crate::config::Overrides,
    ) -> std::io::Result<()> {
        let Signals {
            mut term,
            mut int,
            mut hup,
        } = signals;
        loop {
            tokio::select! {
                _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); break; }
                _ = int.recv() => { tracing::info!("SIGINT: shutting down"); break; }
                _ = hup.recv() => match self.reload(path, overrides) {
                    Ok(hash) => tracing::info!(policy.hash = %hash, "SIGHUP: configuration reloaded"),
                    Err(errors) => tracing::error!("SIGHUP: the new configuration is invalid; the old one keeps serving:\n{errors}"),
                },
            }
        }
        self.shutdown().await;
        Ok(())
    }
}

/// The signals `until_signal` answers, installed (so no longer fatal).
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; needs a Tokio runtime.
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

/// CA options from the config: constrained to the intercepted domains unless
/// the operator turned that off.
pub fn ca_options(cfg: &Config) -> CaOptions {
    let mut opts = CaOptions::default();
    if cfg.tls.name_constraints {
        for p in &cfg.intercept.hosts {
            if let Ok(p) = HostPattern::parse(p) {
                match p.domain().parse::<std::net::IpAddr>() {
                    Ok(ip) => opts.ip_constraints.push(ip.into()),
                    Err(_) => opts.name_constraints.push(p.domain().to_string()),
                }
            }
        }
    }
    opts
}

/// What a run needs beyond its configuration.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// `--record FILE.har`: write intercepted flows there, sensitive values masked.
    pub record: Option<PathBuf>,
}

/// Builds everything from a validated config, binds the listener and starts serving.
pub async fn start(cfg: &Config) -> Result<Running, StartError> {
    start_with(cfg, &StartOptions::default()).await
}

pub async fn start_with(cfg: &Config, opts: &StartOptions) -> Result<Running, StartError> {
    let (ca, ca_created) = CertAuthority::load_or_init(&cfg.tls.ca_dir, &ca_options(cfg))?;
    let ca_cert = cfg.tls.ca_dir.join("sluice-ca.pem");
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: cfg.listen,
        source,
    })?;

    // Transparent mode is asked for by name: a port it cannot have is an
    // error, not a warning.
    let transparent = match cfg.transparent.listen {
        Some(at) => {
            let l = TcpListener::bind(at)
                .await
                .map_err(|source| StartError::Bind { addr: at, source })?;
            let bound = l
                .local_addr()
                .map_err(|source| StartError::Bind { addr: at, source })?;
            if cfg.auth.is_some() {
                tracing::warn!(listen = %bound, "proxy authentication does not apply to transparent connections: the client ACL is their only gate");
            }
            Some((l, bound))
        }
        None => None,
    };
    let mut own = vec![addr];
    own.extend(transparent.as_ref().map(|(_, a)| *a));

    let upstream_tls = UpstreamTls::new(&cfg.tls.upstream_ca, cfg.tls.web_roots)?;
    let dialer = Dialer::new(
        &cfg.resolve,
        cfg.intercept.refuse_internal,
        own,
        cfg.limits.connect_timeout.get(),
    );
    let connector = Connector::new(
        dialer,
        upstream_tls.client_config(Alpn::H2Http1),
        upstream_tls.client_config(Alpn::Http1Only),
    );
    let (hard_tx, hard_rx) = watch::channel(false);
    let fsync = if cfg.audit.fsync {
        crate::audit::Fsync::Always
    } else {
        crate::audit::Fsync::Never
    };
    let audit = crate::audit::AuditSink::open_with(&cfg.audit.path, fsync)?
        .rotate_at(cfg.audit.rotate.map(|b| b.get()));
    let recorder = match &opts.record {
        Some(path) => Some(Arc::new(crate::replay::record::Recorder::create(
            path,
            cfg.engine.clone(),
        )?)),
        None => None,
    };
    let mut shared = Shared::new(
        cfg.limits.clone(),
        HostSet::new(cfg.intercept.hosts.iter().map(String::as_str)).map_err(StartError::Config)?,
        HostSet::new(cfg.intercept.bypass.iter().map(String::as_str))
            .map_err(StartError::Config)?,
        cfg.auth.as_ref().map(ProxyAuth::new),
        Upstream::new(connector, cfg.limits.idle_timeout.get()),
        LeafCache::new(Arc::new(ca), cfg.tls.leaf_cache),
        hard_rx,
        audit,
        Runtime::from_config(cfg),
    );
    shared.recorder = recorder;
    let shared = Arc::new(shared);
    let acl = Acl::new(&cfg.clients.allow);
    let (begin_tx, begin_rx) = watch::channel(false);
    let grace = cfg.limits.shutdown_grace.get();
    let permits = Arc::new(Semaphore::new(cfg.limits.max_connections));
    let mut admin_addr = None;
    if let Some(listener) = match cfg.admin.listen {
        Some(a) => crate::admin::bind(a).await,
        None => None,
    } {
        admin_addr = listener.local_addr().ok();
        let sources = crate::admin::Sources {
            shared: shared.clone(),
            permits: permits.clone(),
            max_connections: cfg.limits.max_connections,
        };
        tokio::spawn(crate::admin::serve(listener, sources, begin_rx.clone()));
    }
    let transparent_addr = transparent.as_ref().map(|(_, a)| *a);
    let listeners = Listeners {
        proxy: listener,
        transparent: transparent.map(|(l, _)| l),
    };
    let task = tokio::spawn(accept_loop(
        listeners,
        acl,
        permits,
        shared.clone(),
        begin_rx,
        hard_tx,
        grace,
    ));
    Ok(Running {
        addr,
        admin_addr,
        transparent_addr,
        shared: shared.clone(),
        ca_cert,
        ca_created,
        begin_shutdown: begin_tx,
        task,
    })
}

/// What the accept loop takes connections from.
struct Listeners {
    /// The explicit proxy's.
    proxy: TcpListener,
    /// Transparent mode's, for redirected connections.
    transparent: Option<TcpListener>,
}

async fn accept_loop(
    Listeners {
        proxy: listener,
        transparent,
    }: Listeners,
    acl: Acl,
    permits: Arc<Semaphore>,
    shared: Arc<Shared>,
    mut begin: watch::Receiver<bool>,
    hard_stop: watch::Sender<bool>,
    grace: std::time::Duration,
) {
    // Every connection task holds a clone of `drain`: it tells them to finish, and
    // `drain_tx.closed()` completes once the last of them has.
    let (drain_tx, drain) = watch::channel(false);
    loop {
        let (accepted, redirected) = tokio::select! {
            r = listener.accept() => (r, false),
            r = accept_on(transparent.as_ref()) => (r, true),
            _ = async { let _ = begin.wait_for(|b| *b).await; } => break,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        if redirected {
            // A redirected client speaks to where it was going, not to a
            // proxy: it gets no proxy's refusal, only a closed connection.
            if !acl.permits(peer.ip()) {
                tracing::info!(client.addr = %peer, "redirected client not allowed by ACL");
                continue;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracing::warn!(client.addr = %peer, "connection limit reached");
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let local = match tcp.local_addr() {
                Ok(a) => a,
                Err(_) => continue,
            };
            let orig = crate::net::redirect::original_dst(&tcp, local).unwrap_or(local);
            let shared = shared.clone();
            let drain = drain.clone();
            tokio::spawn(async move {
                crate::proxy::transparent::serve(shared, tcp, peer, orig, drain).await;
                drop(permit);
            });
            continue;
        }
        if !acl.permits(peer.ip()) {
            tracing::info!(client.addr = %peer, "client not allowed by ACL");
            tokio::spawn(refuse(
                tcp,
                http::StatusCode::FORBIDDEN,
                "your address may not use this proxy",
            ));
            continue;
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(client.addr = %peer, "connection limit reached");
            tokio::spawn(refuse(
                tcp,
                http::StatusCode::SERVICE_UNAVAILABLE,
                "the proxy is at its connection limit",
            ));
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let drain = drain.clone();
        tokio::spawn(async move {
            serve_client(shared, tcp, peer, drain).await;
            drop(permit);
        });
    }
    drop(listener);
    drop(transparent);
    drop(drain);
    let _ = drain_tx.send(true);
    tokio::select! {
        _ = drain_tx.closed() => tracing::debug!("all connections finished"),
        _ = tokio::time::sleep(grace) => tracing::info!("shutdown grace period over; closing remaining connections"),
    }
    let _ = hard_stop.send(true);
}

/// Accepts on `listener`, or never when there is none.
async fn accept_on(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn serve_client(
    shared: Arc<Shared>,
    tcp: TcpStream,
    peer: SocketAddr,
    drain: watch::Receiver<bool>,
) {
    let activity = Activity::default();
    let io = TokioIo::new(Tracked::new(tcp, activity.clone()));
    let ctx = Arc::new(ConnCtx {
        client: peer,
        tls_host: None,
    });
    let svc = {
        let shared = shared.clone();
        let drain = drain.clone();
        service_fn(move |req| front::serve(shared.clone(), ctx.clone(), drain.clone(), req))
    };
    let conn = intercept::h1_builder(&shared)
        .serve_connection(io, svc)
        .with_upgrades();
    crate::proxy::drive(conn, &shared, drain, activity, peer).await;
}

async fn refuse(mut tcp: TcpStream, status: http::StatusCode, detail: &str) {
    use tokio::io::AsyncWriteExt;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let _ = tcp.write_all(&raw_refusal(status, detail)).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}
