//! sluice: a data-residency proxy.
//!
//! # Layout
//! - [`config`]: YAML → validated `Config`; every error at once with file:line:col and a key path.
//! - [`net`]: accept loop, client ACL, CONNECT / absolute-form detection, tunnels.
//! - [`tls`]: the local CA, leaf minting and its cache, rustls server and upstream client configs.
//! - [`proxy`]: the hyper service: request metadata, hold/spool, upstream client, synthetic
//!   responses, and the WebSocket relay that holds each message.
//! - [`inspect`]: PURE: decoders, normalisation, detectors, the streaming `Scanner`.
//! - [`policy`]: PURE: regions and jurisdictions, compiled rules, `evaluate(meta, findings)`.
//! - [`audit`]: typed audit records, the hash-chained JSON Lines sink, `audit verify`.
//! - [`replay`]: HAR loading, offline evaluation, live replay through a proxy.
//! - [`admin`]: the loopback endpoint with `/healthz` and Prometheus `/metrics`.
//! - [`app`]: wires the pieces together; owns reload and shutdown.
//! - [`cmd`]: the subcommands' bodies (`main.rs` only parses and maps results to exit codes).
//!
//! `inspect` and `policy` never touch sockets, so `scan`, `replay`, the benches and
//! the live proxy all run the very same code.

pub mod admin;
pub mod app;
pub mod audit;
pub mod cmd;
pub mod config;
pub mod inspect;
pub mod net;
pub mod policy;
pub mod proxy;
pub mod replay;
pub mod tls;

#[cfg(test)]
mod testutil;
