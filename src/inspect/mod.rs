//! The inspection engine: bytes in, findings out, fed chunk by chunk. Pure: no
//! tokio, no hyper, no sockets, so the proxy, `scan`, `replay` and the benches share it.
//!
//! - [`decode`]: what a body is and what text and structure it holds (encodings,
//!   multipart, JSON, forms, CSV, OOXML, PDF, base64), within [`Limits`].
//! - [`detect`]: what that text contains (identity numbers with their check digits,
//!   health and financial evidence, contacts), behind the [`TextSink`] seam.
//! - [`scanner`]: drives the decoders over a body fed chunk by chunk.
//! - [`engine`]: the two together, configured once, giving [`Findings`].

pub mod cpu;
pub mod decode;
pub mod detect;
pub mod engine;
pub mod findings;
#[cfg(target_arch = "aarch64")]
mod neon;
pub mod scanner;
pub mod sink;

pub use decode::{sniff, ContentHint, Kind, Limits};
pub use detect::{DetectorSettings, Detectors, SettingsError, TextScan};
pub use engine::{BodyScan, Engine, QueryData, Settings};
pub use findings::{Category, Class, Findings, Incomplete, IncompleteReason};
pub use scanner::{ScanReport, Scanner};
pub use sink::TextSink;
