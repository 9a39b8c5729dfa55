//! HAR loading, offline evaluation of captured traffic, live replay through a
//! proxy, and recording the proxy's flows as HAR.
//!
//! - `har`: the loader and writer; `decide`: one request through the proxy's own
//!   policy and engine calls; `offline`: a whole capture in order, with learning;
//! - `report`: table, summary, JSON lines, diff; `live`: through a running proxy;
//! - `record`, `mask` and `secrets`: `sluice run --record`, sensitive values masked.

pub mod decide;
pub mod har;
pub mod live;
pub mod mask;
pub mod offline;
pub mod record;
pub mod report;
pub mod secrets;
