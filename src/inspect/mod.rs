//! The inspection engine: bytes in, findings out, fed chunk by chunk. Pure: no
//! tokio, no hyper, no sockets, so the proxy, `scan`, `replay` and the benches share it.

pub mod decode;
pub mod findings;
pub mod scanner;
pub mod sink;

pub use decode::{sniff, ContentHint, Kind, Limits};
pub use findings::{Category, Class, Findings, Incomplete, IncompleteReason};
pub use scanner::{ScanReport, Scanner};
pub use sink::TextSink;
