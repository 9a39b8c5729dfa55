//! `spawn_proxy(config)`: a real sluice on 127.0.0.1:0 with its CA in a temp dir.

use std::net::SocketAddr;
use std::path::PathBuf;

use sluice::app::Running;
use sluice::config::{self, Config};

pub struct TestProxy {
    pub addr: SocketAddr,
    /// sluice's own CA certificate (what clients must trust).
    pub ca_pem_path: PathBuf,
    pub ca_dir: PathBuf,
    pub audit_path: PathBuf,
    /// The admin endpoint (`/healthz`, `/metrics`).
    pub admin: Option<std::net::SocketAddr>,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

impl TestProxy {
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(&self.ca_pem_path).unwrap()
    }

    /// Graceful shutdown, as SIGTERM would do.
    pub async fn shutdown(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    /// The audit log's records, parsed.
    pub fn audit_records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.audit_path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
            .collect()
    }

    /// `method path` on the admin endpoint over plain HTTP/1.1: the status and
    /// the body.
    pub async fn admin_request(&self, method: &str, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.admin.expect("the admin endpoint is up");
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            tcp.read_to_end(&mut raw),
        )
        .await
        .expect("the admin endpoint answers")
        .unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A config for tests of the proxy core: the embedded defaults with a policy that
/// has no rules (everything streams), listening on 127.0.0.1:0, with upstream roots
/// and `--resolve` mappings given by the test.
pub fn test_config(upstream_ca: Option<PathBuf>, resolve: &[(&str, u16, SocketAddr)]) -> Config {
    let mut cfg = shipped_config(upstream_ca, resolve);
    set_policy(&mut cfg, "policy: {default: allow}\n");
    cfg
}

/// Like `test_config`, with the shipped default policy.
pub fn shipped_config(upstream_ca: Option<PathBuf>, resolve: &[(&str, u16, SocketAddr)]) -> Config {
    let mut cfg = config::load(None).expect("embedded config");
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.admin.listen = Some("127.0.0.1:0".parse().unwrap());
    cfg.tls.upstream_ca.extend(upstream_ca);
    // Tunnels cannot be closed gracefully; do not let them hold a test for 10s.
    cfg.limits.shutdown_grace = sluice::config::units::Dur::secs(1);
    for (host, port, to) in resolve {
        cfg.resolve
            .push(format!("{host}:{port}:{to}").parse().expect("resolve rule"));
    }
    cfg
}

/// Starts a proxy on `cfg` with a fresh CA directory and an audit log in a temp dir.
pub async fn spawn_proxy(cfg: Config) -> TestProxy {
    spawn_proxy_with(cfg, sluice::app::StartOptions::default()).await
}

pub async fn spawn_proxy_with(mut cfg: Config, opts: sluice::app::StartOptions) -> TestProxy {
    let dir = tempfile::tempdir().unwrap();
    cfg.tls.ca_dir = dir.path().join("certs");
    if cfg.audit.path.is_relative() {
        cfg.audit.path = dir.path().join("audit.jsonl");
    }
    let running = sluice::app::start_with(&cfg, &opts)
        .await
        .expect("proxy starts");
    TestProxy {
        addr: running.local_addr(),
        admin: running.admin_addr(),
        ca_pem_path: running.ca_cert.clone(),
        ca_dir: cfg.tls.ca_dir.clone(),
        audit_path: cfg.audit.path.clone(),
        running: Some(running),
        _dir: dir,
    }
}

/// Replaces the policy (and anything else `yaml` sets) by parsing `yaml` as a
/// config document and taking its policy, regions and inspect sections.
pub fn set_policy(cfg: &mut Config, yaml: &str) {
    let other = config::parse(yaml, "test policy").unwrap_or_else(|e| panic!("{e}"));
    cfg.policy_config = other.policy_config;
    cfg.regions_config = other.regions_config;
    cfg.policy = other.policy;
    cfg.inspect_config = other.inspect_config;
    cfg.engine = other.engine;
}
