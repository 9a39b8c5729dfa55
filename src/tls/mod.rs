//! The local CA, per-host leaf minting and its cache, and the rustls server and upstream client configs.
//!
//! # Layout
//! - [`ca`]: the CA itself: generating it, reading it from PEM, what it may sign.
//! - `store`: the CA's files (`sluice ca init`, first start): 0700 dir, 0600 key, refusing unsafe keys.
//! - `constraints`: building, reading back and checking the CA's name constraints.
//! - [`host`]: turning an SNI / CONNECT authority into the name a leaf is minted for.
//! - [`mint`]: leaf certificates: a fresh P-256 key per leaf, short validity, signed by the CA.
//! - [`cache`]: the bounded leaf cache; concurrent requests for one host share one mint.
//! - [`server`]: the client-facing rustls `ServerConfig` (ALPN h2 + http/1.1).
//! - [`upstream`]: the upstream rustls `ClientConfig` (web roots + `--upstream-ca`, full verification)
//!   and short human reasons for failed handshakes.
//!
//! Every rustls config here is built with the ring provider passed explicitly, so nothing depends on
//! a process-wide default provider being installed (or on aws-lc being absent).
//!
//! # Why the CA is name-constrained
//! A leaked interception CA is a skeleton key for every site its holder's browser trusts it for.
//! Constraining it to the intercepted DNS subtrees (and excluding every IP address unless the operator
//! lists IP ranges) limits a leak to the domains sluice inspects anyway. The constraints are fixed
//! when the CA is made: intercepting a new domain means `sluice ca init --overwrite` and reinstalling
//! the CA; [`CertAuthority::permits`] lets the caller warn at start-up instead of failing per request.

pub mod ca;
pub mod cache;
mod constraints;
pub mod host;
pub mod mint;
pub mod server;
mod store;
pub mod upstream;

#[cfg(test)]
pub(crate) mod testutil;

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use rustls::crypto::CryptoProvider;

pub use ca::{CaFiles, CaOptions, CertAuthority, CA_CERT_FILE, CA_KEY_FILE};
pub use cache::{Leaf, LeafCache};
pub use host::LeafHost;
pub use server::server_config;
pub use upstream::{describe_verify_error, Alpn, UpstreamTls};

/// What can go wrong in this module. Messages name files and hosts, never key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is readable by group or others (mode {mode:o}); a CA key must be private: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    KeyPermissions { path: PathBuf, mode: u32 },
    #[error("a CA already exists in {} (refusing to overwrite it)", dir.display())]
    AlreadyExists { dir: PathBuf },
    #[error("{}: not a usable CA certificate: {reason}", path.display())]
    BadCaCert { path: PathBuf, reason: String },
    #[error("{}: not a usable CA private key: {reason}", path.display())]
    BadCaKey { path: PathBuf, reason: String },
    #[error("the CA key in {} does not belong to the certificate in {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("invalid CA name constraint {value:?}: {reason}")]
    BadConstraint { value: String, reason: &'static str },
    #[error("cannot mint a certificate for {host:?}: not a DNS name or an IP address")]
    BadHost { host: String },
    #[error(
        "the CA's name constraints do not permit {host}; add it to the intercepted domains and recreate the CA \
         (`sluice ca init --overwrite`), then reinstall it"
    )]
    NotPermitted { host: String },
    #[error("the CA expires at {not_after} (or has expired); recreate it with `sluice ca init --overwrite`")]
    CaExpired { not_after: time::OffsetDateTime },
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("upstream certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("{}: no PEM certificate found", path.display())]
    NoRootsInFile { path: PathBuf },
    #[error("{}: certificate #{index} is not a usable root: {reason}", path.display())]
    BadRoot {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error(
        "no upstream trust anchors: web roots are disabled and no --upstream-ca file was given"
    )]
    NoRoots,
}

/// The one crypto provider every config in this module uses.
static PROVIDER: LazyLock<Arc<CryptoProvider>> =
    LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::clone(&PROVIDER)
}

/// Cuts a peer-supplied string for an error message so a hostile SNI cannot flood a log line.
pub(crate) fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
        None => s.to_owned(),
    }
}
