//! Typed audit records, the hash-chained JSON Lines sink, `audit verify` and
//! `audit report`.
//!
//! The proxy builds one [`AuditRecord`] per decided request or tunnel, hands it to
//! [`AuditSink::append`] and releases the response only after that returns `Ok`
//! (an `Err` means fail closed). The chain format is described in `chain.rs`;
//! redaction of secrets and personal data in `redact.rs`. Policy, classification
//! and the wording of block responses belong to other modules.

mod chain;
mod record;
mod redact;
mod report;
mod sink;
mod verify;

pub use chain::{sha256_hex, GENESIS};
pub use record::{new_ticket_id, now_ts, AuditRecord, RecordKind, ShadowHit};
pub use redact::{mask_sample, redact_path, redact_path_with, REDACTED};
pub use report::{Outcome, Report, ReportError};
pub use sink::{AuditError, AuditSink, Fsync, MAX_LINE};
pub use verify::{
    is_hash, verify, verify_anchored, verify_file, verify_files, verify_files_with, BreakReason,
    VerifyError, VerifyReport,
};

#[cfg(test)]
mod tests;
