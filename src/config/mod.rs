//! YAML configuration: load, validate and report every error with file:line:col and a key path.
//!
//! Two stages, as ripgrep does with its flags: [`model`] mirrors the YAML and only
//! validates; the modules that use a section compile it into what their hot path needs.
//! serde_yaml (archived) stays behind [`parse`] so it can be swapped.

pub mod locate;
pub mod model;
pub mod units;

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml::Value;

pub use model::*;

use locate::{PathIndex, Pos};

/// The embedded default configuration, compiled into the binary.
pub const EMBEDDED: &str = include_str!("../../config/sluice.yaml");
pub const EMBEDDED_NAME: &str = "<embedded config/sluice.yaml>";

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub pos: Option<Pos>,
    /// Key path such as `policy.rules[3].when.classes[1]`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}:{}: ", self.file, p.line, p.col)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Loads `path`, or the embedded default when `None`.
pub fn load(path: Option<&Path>) -> Result<Config, ConfigErrors> {
    match path {
        None => parse(EMBEDDED, EMBEDDED_NAME),
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).map_err(|e| {
                ConfigErrors(vec![ConfigError {
                    file: name.clone(),
                    pos: None,
                    path: String::new(),
                    message: format!("cannot read: {e}"),
                }])
            })?;
            parse(&text, &name)
        }
    }
}

/// Collects errors for one document, placing each at its key's position.
pub struct Collector<'a> {
    file: &'a str,
    index: &'a PathIndex,
    errors: Vec<ConfigError>,
}

impl Collector<'_> {
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        let pos = self.index.find(&path);
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            pos,
            path,
            message: message.into(),
        });
    }

    /// Deserializes one section, recording a located error on failure.
    pub fn section<T: DeserializeOwned>(&mut self, path: &str, value: Value) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let (inner, message) = describe_serde_error(&e);
                self.error(join_path(path, &inner), message);
                None
            }
        }
    }

    fn finish(mut self) -> Result<(), ConfigErrors> {
        if self.errors.is_empty() {
            return Ok(());
        }
        self.errors.sort_by_key(|e| e.pos.map(|p| (p.line, p.col)));
        Err(ConfigErrors(self.errors))
    }
}

pub fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_string(),
        (_, true) => parent.to_string(),
        _ if child.starts_with('[') => format!("{parent}{child}"),
        _ => format!("{parent}.{child}"),
    }
}

/// serde_path_to_error's path, in our `a.b[3]` form, plus a message that names
/// an unknown key's closest known neighbour.
fn describe_serde_error(e: &serde_path_to_error::Error<serde_yaml::Error>) -> (String, String) {
    use serde_path_to_error::Segment;
    let mut path = String::new();
    for seg in e.path().iter() {
        match seg {
            Segment::Seq { index } => path.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                path = join_path(&path, key);
            }
            Segment::Unknown => {}
        }
    }
    let mut message = e.inner().to_string();
    // serde_yaml appends "at line N column M" relative to the Value, which is meaningless here.
    if let Some(cut) = message.find(" at line ") {
        message.truncate(cut);
    }
    if let Some(field) = unknown_field(&message) {
        let expected = expected_fields(&message);
        if !path.ends_with(field.as_str()) {
            path = join_path(&path, &field);
        }
        message = match did_you_mean(&field, expected.iter().map(String::as_str)) {
            Some(s) => format!("unknown key \"{field}\" (did you mean \"{s}\"?)"),
            None if !expected.is_empty() => {
                format!(
                    "unknown key \"{field}\" (expected one of: {})",
                    expected.join(", ")
                )
            }
            None => format!("unknown key \"{field}\""),
        };
    }
    (path, message)
}

fn unknown_field(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

fn expected_fields(msg: &str) -> Vec<String> {
    msg.split('`')
        .skip(3)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

pub use crate::policy::did_you_mean;

const SECTIONS: &[&str] = &[
    "listen",
    "clients",
    "auth",
    "limits",
    "intercept",
    "tls",
    "resolve",
    "audit",
    "admin",
    "transparent",
    "hold",
    "policy",
    "regions",
    "inspect",
];

/// Parses and validates a whole document, reporting every error at once.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigErrors> {
    let one = |pos: Option<Pos>, message: String| {
        ConfigErrors(vec![ConfigError {
            file: file.to_string(),
            pos,
            path: String::new(),
            message,
        }])
    };
    let index = PathIndex::build(text).map_err(|e| one(Some(e.pos), e.message))?;
    let doc: Value = serde_yaml::from_str(text).map_err(|e| {
        let pos = e.location().map(|l| Pos {
            line: l.line(),
            col: l.column(),
        });
        one(pos, e.to_string())
    })?;
    let map = match doc {
        Value::Mapping(m) => m,
        Value::Null => serde_yaml::Mapping::new(),
        _ => {
            return Err(one(
                Some(Pos { line: 1, col: 1 }),
                "the top level must be a mapping".into(),
            ))
        }
    };

    let mut c = Collector {
        file,
        index: &index,
        errors: Vec::new(),
    };
    let mut cfg = Config::with_defaults(file.to_string());
    // Sections that failed to parse are reported already; what is compiled from
    // them (the policy, the engine) is skipped rather than compiled from defaults.
    let mut sections_ok = (true, true);
    // Without an `inspect` section the shipped engine (compiled once) applies as is.
    let mut inspect_given = false;
    for (k, v) in map {
        let Some(key) = k.as_str().map(str::to_string) else {
            c.error("", "top-level keys must be strings");
            continue;
        };
        match key.as_str() {
            "listen" => {
                if let Some(s) = c.section::<String>("listen", v) {
                    match s.parse() {
                        Ok(a) => cfg.listen = a,
                        Err(_) => {
                            c.error("listen", format!("invalid address {s:?}: expected IP:PORT"))
                        }
                    }
                }
            }
            "clients" => {
                if let Some(s) = c.section("clients", v) {
                    cfg.clients = s;
                }
            }
            "auth" => cfg.auth = c.section::<Option<AuthConfig>>("auth", v).flatten(),
            "limits" => {
                if let Some(s) = c.section("limits", v) {
                    cfg.limits = s;
                }
            }
            "intercept" => {
                if let Some(s) = c.section("intercept", v) {
                    cfg.intercept = s;
                }
            }
            "tls" => {
                if let Some(s) = c.section("tls", v) {
                    cfg.tls = s;
                }
            }
            "resolve" => {
                if let Some(list) = c.section::<Vec<String>>("resolve", v) {
                    for (i, r) in list.iter().enumerate() {
                        match r.parse() {
                            Ok(rule) => cfg.resolve.push(rule),
                            Err(e) => c.error(format!("resolve[{i}]"), e),
                        }
                    }
                }
            }
            "audit" => {
                if let Some(s) = c.section("audit", v) {
                    cfg.audit = s;
                }
            }
            "admin" => {
                if let Some(s) = c.section("admin", v) {
                    cfg.admin = s;
                }
            }
            "transparent" => {
                if let Some(s) = c.section("transparent", v) {
                    cfg.transparent = s;
                }
            }
            "hold" => {
                if let Some(s) = c.section("hold", v) {
                    cfg.hold = s;
                }
            }
            "policy" => match c.section("policy", v) {
                Some(s) => cfg.policy_config = s,
                None => sections_ok.0 = false,
            },
            "regions" => match c.section("regions", v) {
                Some(s) => cfg.regions_config = s,
                None => sections_ok.0 = false,
            },
            "inspect" => {
                inspect_given = true;
                match c.section("inspect", v) {
                    Some(s) => cfg.inspect_config = s,
                    None => sections_ok.1 = false,
                }
            }
            other => {
                let msg = match did_you_mean(other, SECTIONS.iter().copied()) {
                    Some(s) => format!("unknown key \"{other}\" (did you mean \"{s}\"?)"),
                    None => format!(
                        "unknown key \"{other}\" (expected one of: {})",
                        SECTIONS.join(", ")
                    ),
                };
                c.error(other, msg);
            }
        }
    }
    validate(&cfg, &mut c);
    if sections_ok.0 {
        match crate::policy::compile(&cfg.policy_config, &cfg.regions_config) {
            Ok(p) => cfg.policy = std::sync::Arc::new(p),
            Err(issues) => {
                for i in issues {
                    let section = match i.origin {
                        crate::policy::Origin::Policy => "policy",
                        crate::policy::Origin::Regions => "regions",
                    };
                    c.error(join_path(section, &i.path), i.message);
                }
            }
        }
    }
    if inspect_given && sections_ok.1 {
        match crate::inspect::Engine::new(&cfg.inspect_config) {
            Ok(e) => cfg.engine = std::sync::Arc::new(e),
            Err(errs) => {
                for e in errs {
                    c.error(join_path("inspect", &e.path), e.message);
                }
            }
        }
    }
    c.finish()?;
    Ok(cfg)
}

/// Checks that need more than one key's value, or more than serde can say.
fn validate(cfg: &Config, c: &mut Collector<'_>) {
    for (i, p) in cfg.intercept.hosts.iter().enumerate() {
        if let Err(e) = crate::net::HostPattern::parse(p) {
            c.error(format!("intercept.hosts[{i}]"), e);
        }
    }
    for (i, p) in cfg.intercept.bypass.iter().enumerate() {
        if let Err(e) = crate::net::HostPattern::parse(p) {
            c.error(format!("intercept.bypass[{i}]"), e);
        }
    }
    if cfg.limits.max_connections == 0 {
        c.error("limits.max_connections", "must be at least 1");
    }
    if cfg.limits.max_header_bytes.get() < 1024 {
        c.error("limits.max_header_bytes", "must be at least 1KiB");
    }
    if cfg.tls.leaf_cache == 0 {
        c.error("tls.leaf_cache", "must be at least 1");
    }
    if cfg.hold.memory > cfg.hold.max {
        c.error("hold.memory", "must not exceed hold.max");
    }
    if let Some(auth) = &cfg.auth {
        if auth.users.is_empty() {
            c.error("auth.users", "at least one user is needed when auth is set");
        }
        for (i, u) in auth.users.iter().enumerate() {
            let ok = u.password_sha256.len() == 64
                && u.password_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                c.error(
                    format!("auth.users[{i}].password_sha256"),
                    "must be 64 hex digits (the SHA-256 of the password)",
                );
            }
            if u.name.contains(':') || u.name.is_empty() {
                c.error(
                    format!("auth.users[{i}].name"),
                    "must be non-empty and contain no ':'",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// Command-line flags that override the file (DESIGN.md, "Command line").
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub listen: Option<std::net::SocketAddr>,
    pub ca_dir: Option<std::path::PathBuf>,
    pub audit_log: Option<std::path::PathBuf>,
    /// Added after the file's mappings; a flag for the same HOST:PORT wins.
    pub resolve: Vec<ResolveRule>,
    pub upstream_ca: Vec<std::path::PathBuf>,
}

impl Config {
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(l) = o.listen {
            self.listen = l;
        }
        if let Some(d) = &o.ca_dir {
            self.tls.ca_dir = d.clone();
        }
        if let Some(a) = &o.audit_log {
            self.audit.path = a.clone();
        }
        for r in &o.resolve {
            self.resolve
                .retain(|x| !(x.host == r.host && x.port == r.port));
            self.resolve.push(r.clone());
        }
        self.tls.upstream_ca.extend(o.upstream_ca.iter().cloned());
    }
}
