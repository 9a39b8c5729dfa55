//! The inspection engine: bytes in, findings out, fed chunk by chunk. Pure: no
//! tokio, no hyper, no sockets, so the proxy, `scan`, `replay` and the benches share it.

pub mod detect;
pub mod findings;
pub mod sink;

pub use detect::{DetectorSettings, Detectors, SettingsError, TextScan};
pub use findings::{Category, Class, Findings, Incomplete, IncompleteReason};
pub use sink::TextSink;
