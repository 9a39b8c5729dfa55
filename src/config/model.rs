//! The configuration as typed data: serde mirrors of the YAML sections, with the
//! production defaults that apply when a key is absent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Deserialize;

use super::units::{Bytes, Dur};
use crate::inspect::{Engine, Settings as InspectSettings};
use crate::policy::{Policy, PolicyConfig, RegionsConfig};

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 3128))
}

/// Who may use the proxy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsConfig {
    /// Client address ranges allowed to connect. Loopback only by default.
    #[serde(default = "default_client_allow")]
    pub allow: Vec<IpNet>,
}

fn default_client_allow() -> Vec<IpNet> {
    vec![
        "127.0.0.0/8".parse().expect("static CIDR"),
        "::1/128".parse().expect("static CIDR"),
    ]
}

impl Default for ClientsConfig {
    fn default() -> Self {
        ClientsConfig {
            allow: default_client_allow(),
        }
    }
}

/// Optional HTTP Basic proxy authentication (`Proxy-Authorization`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default = "default_realm")]
    pub realm: String,
    pub users: Vec<UserConfig>,
}

fn default_realm() -> String {
    "sluice".into()
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    /// Hex SHA-256 of the password, so the file does not hold it in the clear
    /// (`printf %s 'secret' | sha256sum`).
    pub password_sha256: String,
}

impl std::fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserConfig")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Connection limits and timeouts.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_connections: usize,
    /// Time to receive a complete request head. For HTTP/1.1 the timer also runs
    /// while a keep-alive connection waits for its next request.
    pub header_read_timeout: Dur,
    /// A connection (or tunnel) with no bytes either way for this long is closed.
    pub idle_timeout: Dur,
    pub connect_timeout: Dur,
    /// How long in-flight requests may run on after SIGINT/SIGTERM.
    pub shutdown_grace: Dur,
    /// Largest request head accepted on the proxy listener (431 beyond it).
    /// Intercepted connections bound heads by hyper's read buffer, at least 256 KiB.
    pub max_header_bytes: Bytes,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_connections: 4096,
            header_read_timeout: Dur::secs(30),
            idle_timeout: Dur::secs(120),
            connect_timeout: Dur::secs(10),
            shutdown_grace: Dur::secs(10),
            max_header_bytes: Bytes::kib(64),
        }
    }
}

/// Which CONNECT destinations are decrypted, and which never are.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InterceptConfig {
    /// Host patterns to decrypt and inspect: `host` or `*.suffix`.
    pub hosts: Vec<String>,
    /// Host patterns never decrypted even when `hosts` matches (pinned apps).
    pub bypass: Vec<String>,
    /// Refuse CONNECT and requests to loopback, link-local, unspecified and
    /// cloud-metadata addresses (the `resolve` mappings are exempt).
    pub refuse_internal: bool,
}

impl Default for InterceptConfig {
    fn default() -> Self {
        InterceptConfig {
            hosts: vec![
                "*.dingtalk.com".into(),
                "*.dingtalk.io".into(),
                "*.aliyuncs.com".into(),
            ],
            bypass: Vec::new(),
            refuse_internal: true,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Where `sluice-ca.pem` and `sluice-ca.key` live.
    pub ca_dir: PathBuf,
    /// Constrain the CA to the intercepted domains (X.509 name constraints).
    pub name_constraints: bool,
    /// Minted leaf certificates kept in memory.
    pub leaf_cache: usize,
    /// Extra PEM files of upstream roots, beside the built-in web roots.
    pub upstream_ca: Vec<PathBuf>,
    /// Trust the built-in web roots (Mozilla's) for upstream servers.
    pub web_roots: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            ca_dir: PathBuf::from("certs"),
            name_constraints: true,
            leaf_cache: 1024,
            upstream_ca: Vec::new(),
            web_roots: true,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// JSON Lines file, hash-chained. Relative paths are from the working directory.
    pub path: PathBuf,
    /// `sync_data` after every record (slower; survives power loss).
    pub fsync: bool,
    /// Past this size the file is closed under a name with the time and a new
    /// one begun, the chain going on across them (`null`: never).
    pub rotate: Option<Bytes>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            path: PathBuf::from("sluice-audit.jsonl"),
            fsync: false,
            rotate: Some(Bytes::mib(256)),
        }
    }
}

/// The admin endpoint (`/healthz`, `/metrics`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Where it listens; loopback by default, `null` for none.
    pub listen: Option<SocketAddr>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

/// Transparent mode: a listener for connections a gateway's firewall
/// redirects to sluice (`iptables … -j REDIRECT`), served by where they were
/// going.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransparentConfig {
    /// Where it listens; `null` (the default) for no transparent mode.
    pub listen: Option<SocketAddr>,
}

/// How request bodies are held while they are inspected.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HoldConfig {
    /// Bytes of one body kept in memory before it spills to an encrypted temp file.
    pub memory: Bytes,
    /// Largest body held at all; past it the rule's `on_incomplete` decides.
    pub max: Bytes,
    /// Where spilled bodies go (the system temp dir by default).
    pub spool_dir: Option<PathBuf>,
}

impl Default for HoldConfig {
    fn default() -> Self {
        HoldConfig {
            memory: Bytes::mib(8),
            max: Bytes::mib(512),
            spool_dir: None,
        }
    }
}

/// The top-level document, one field per section, plus the policy compiled from
/// its `policy` and `regions` sections (a config that loaded has a policy that compiled).
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the config came from (`<embedded>` or a path): used in messages.
    pub source: String,
    pub listen: SocketAddr,
    pub clients: ClientsConfig,
    pub auth: Option<AuthConfig>,
    pub limits: LimitsConfig,
    pub intercept: InterceptConfig,
    pub tls: TlsConfig,
    pub resolve: Vec<ResolveRule>,
    pub audit: AuditConfig,
    pub admin: AdminConfig,
    pub transparent: TransparentConfig,
    pub hold: HoldConfig,
    pub policy_config: PolicyConfig,
    pub regions_config: RegionsConfig,
    pub policy: Arc<Policy>,
    pub inspect_config: InspectSettings,
    pub engine: Arc<Engine>,
}

/// The engine with the shipped dictionaries and limits, compiled once per process:
/// every config without an `inspect` section shares it.
pub fn shipped_engine() -> Arc<Engine> {
    static SHIPPED: std::sync::OnceLock<Arc<Engine>> = std::sync::OnceLock::new();
    SHIPPED.get_or_init(|| Arc::new(Engine::shipped())).clone()
}

/// The shipped regions table (`config/regions.yaml`).
pub fn default_regions() -> RegionsConfig {
    serde_yaml::from_str(crate::policy::DEFAULT_REGIONS_YAML).expect("shipped regions.yaml parses")
}

impl Config {
    pub(crate) fn with_defaults(source: String) -> Config {
        let policy_config = PolicyConfig::default();
        let regions_config = default_regions();
        let policy = crate::policy::compile(&policy_config, &regions_config)
            .map(Arc::new)
            .expect("an empty policy over the shipped regions compiles");
        Config {
            source,
            listen: default_listen(),
            clients: ClientsConfig::default(),
            auth: None,
            limits: LimitsConfig::default(),
            intercept: InterceptConfig::default(),
            tls: TlsConfig::default(),
            resolve: Vec::new(),
            audit: AuditConfig::default(),
            admin: AdminConfig::default(),
            transparent: TransparentConfig::default(),
            hold: HoldConfig::default(),
            policy_config,
            regions_config,
            policy,
            inspect_config: InspectSettings::default(),
            engine: shipped_engine(),
        }
    }
}

/// `HOST:PORT:IP:PORT2`: connect to IP:PORT2 whenever a request is for HOST:PORT
/// (curl's `--connect-to` in one flag). TLS still verifies HOST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveRule {
    pub host: String,
    pub port: u16,
    pub to: SocketAddr,
}

impl std::str::FromStr for ResolveRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid resolve mapping {s:?}: expected HOST:PORT:IP:PORT2");
        let mut parts = s.splitn(3, ':');
        let host = parts.next().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        let port: u16 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let rest = parts.next().ok_or_else(bad)?;
        let to: SocketAddr = match rest.parse() {
            Ok(a) => a,
            Err(_) => {
                // Accept a bare IPv6 address without brackets: the port is after the last colon.
                let (ip, p) = rest.rsplit_once(':').ok_or_else(bad)?;
                let ip: std::net::IpAddr = ip.parse().map_err(|_| bad())?;
                SocketAddr::new(ip, p.parse().map_err(|_| bad())?)
            }
        };
        if port == 0 || to.port() == 0 {
            return Err(format!("invalid resolve mapping {s:?}: port 0"));
        }
        Ok(ResolveRule {
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            port,
            to,
        })
    }
}

impl std::fmt::Display for ResolveRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.host, self.port, self.to)
    }
}
