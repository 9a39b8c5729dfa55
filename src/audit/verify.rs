//! `sluice audit verify`: walks a log, recomputes every record's hash from the
//! bytes written and checks every `prev`, naming the first record that breaks.
//!
//! What it catches: an edited line (its hash no longer matches, including the last
//! line), a deleted, inserted or reordered line (the next `prev` no longer matches),
//! a torn or non-JSON line. An edited line whose hash was recomputed shows up at the
//! following line's `prev`. What a keyless chain cannot catch on its own: cutting
//! whole records off the end, or rewriting the whole file. For that, `last_hash`
//! is copied somewhere the machine's owner cannot rewrite (a ticket, a mail to
//! the DPO, a WORM bucket): an anchor. Verifying with anchors checks the chain
//! still passes through each one, so a log rewritten or cut before an anchor fails.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::chain::{recompute, GENESIS};
use super::redact::bound;
use super::sink::MAX_LINE;

/// What a log that verifies contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub records: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    /// The hash to anchor elsewhere; 64 zeros for an empty log.
    pub last_hash: String,
    /// For each anchor asked for, in order: the line of the record that has it.
    pub anchors: Vec<usize>,
}

/// The first record that breaks the chain: 1-based line number and, when it could
/// be read, the record's ticket id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}{}: {reason}", id.as_deref().map(|id| format!(" (id {id})")).unwrap_or_default())]
pub struct VerifyError {
    pub line: usize,
    pub id: Option<String>,
    pub reason: BreakReason,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BreakReason {
    #[error("cannot read the log: {0}")]
    Io(String),
    #[error("line longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("line is not terminated (a torn write, or the file was truncated)")]
    Unterminated,
    #[error("empty line")]
    Empty,
    #[error("not an audit record: {0}")]
    NotARecord(String),
    #[error("no well-formed `hash` at the end of the line")]
    NoHash,
    #[error("content does not match its hash (the record was modified)")]
    HashMismatch,
    #[error("`prev` does not match the previous record's hash (a record before it was deleted, inserted, reordered or modified)")]
    PrevMismatch,
    #[error("anchor {0} is not in the chain (the log was rewritten, or cut before that record)")]
    AnchorMissing(String),
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

/// The fields the chain needs. Verification reads only these (the hash covers the
/// rest byte for byte), so logs written by older or newer record schemas verify.
#[derive(Deserialize)]
struct ChainFields {
    ts: String,
    id: String,
    prev: String,
    /// Defaulted so a line without one reports `NoHash`, not a parse error.
    #[serde(default)]
    hash: String,
}

/// Verifies a whole log read from `reader`.
pub fn verify(reader: impl BufRead) -> Result<VerifyReport, VerifyError> {
    verify_anchored(reader, &[])
}

/// Verifies a whole log, and that the chain passes through every hash in
/// `anchors` (heads of the log recorded earlier, elsewhere).
pub fn verify_anchored(
    reader: impl BufRead,
    anchors: &[String],
) -> Result<VerifyReport, VerifyError> {
    let report = walk(reader, GENESIS, anchors, &mut |_, _| {})?;
    match missing_anchor(&report, anchors) {
        Some(a) => Err(VerifyError {
            line: report.records as usize + 1,
            id: None,
            reason: BreakReason::AnchorMissing(bound(a, 64)),
        }),
        None => Ok(report),
    }
}

fn missing_anchor<'a>(report: &VerifyReport, anchors: &'a [String]) -> Option<&'a String> {
    let missing = report.anchors.iter().position(|&at| at == 0);
    missing.and_then(|k| anchors.get(k))
}

/// The files of one log, oldest first (as rotation names them, sorted), and
/// the last hash before the first of them (`GENESIS` for a log kept whole;
/// the hash a verify of the files before printed, when older ones are gone):
/// each file must continue the chain where the one before ended, and the
/// chain pass through every anchor. On a break, the file and where in it.
pub fn verify_files(
    paths: &[PathBuf],
    from: &str,
    anchors: &[String],
) -> Result<Vec<(PathBuf, VerifyReport)>, (PathBuf, VerifyError)> {
    verify_files_with(paths, from, anchors, &mut |_, _, _| {})
}

/// As `verify_files`, handing each record that verified to `each` (its file,
/// 1-based line and bytes) as the walk passes it: one read of the log for
/// whatever else is made of it. A break found later still fails the whole.
pub fn verify_files_with(
    paths: &[PathBuf],
    from: &str,
    anchors: &[String],
    each: &mut dyn FnMut(&Path, usize, &[u8]),
) -> Result<Vec<(PathBuf, VerifyReport)>, (PathBuf, VerifyError)> {
    let mut prev = from.to_owned();
    let mut found = vec![None; anchors.len()];
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let file = std::fs::File::open(path).map_err(|e| {
            let reason = BreakReason::Io(format!("{}: {e}", path.display()));
            (
                path.clone(),
                VerifyError {
                    line: 0,
                    id: None,
                    reason,
                },
            )
        })?;
        let reader = std::io::BufReader::new(file);
        let report = walk(reader, &prev, anchors, &mut |line_no, line| {
            each(path, line_no, line)
        })
        .map_err(|e| (path.clone(), e))?;
        for (slot, &line) in found.iter_mut().zip(&report.anchors) {
            if line != 0 && slot.is_none() {
                *slot = Some(out.len());
            }
        }
        prev.clone_from(&report.last_hash);
        out.push((path.clone(), report));
    }
    if let Some(k) = found.iter().position(Option::is_none) {
        let last = paths.last().cloned().unwrap_or_default();
        let records = out.last().map_or(0, |(_, r)| r.records);
        let reason = BreakReason::AnchorMissing(bound(&anchors[k], 64));
        return Err((
            last,
            VerifyError {
                line: records as usize + 1,
                id: None,
                reason,
            },
        ));
    }
    Ok(out)
}

/// Walks a log whose first record follows `prev`, noting the line of each
/// anchor met (0: not met), and handing each verified line to `each`.
fn walk(
    mut reader: impl BufRead,
    prev: &str,
    anchors: &[String],
    each: &mut dyn FnMut(usize, &[u8]),
) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport {
        records: 0,
        first_ts: None,
        last_ts: None,
        last_hash: prev.to_owned(),
        anchors: vec![0; anchors.len()],
    };
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        line_no += 1;
        let fail = |id: Option<String>, reason| VerifyError {
            line: line_no,
            id,
            reason,
        };
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| fail(None, BreakReason::Io(e.to_string())))?;
        if read == 0 {
            return Ok(report);
        }
        let Some(line) = buf.strip_suffix(b"\n") else {
            let reason = if buf.len() > MAX_LINE {
                BreakReason::TooLong
            } else {
                BreakReason::Unterminated
            };
            return Err(fail(lenient_id(&buf), reason));
        };
        if line.is_empty() {
            return Err(fail(None, BreakReason::Empty));
        }
        let rec: ChainFields = serde_json::from_slice(line).map_err(|e| {
            let reason = BreakReason::NotARecord(bound(&e.to_string(), 200));
            fail(lenient_id(line), reason)
        })?;
        let id = Some(rec.id.clone());
        let Some(computed) = recompute(line) else {
            return Err(fail(id, BreakReason::NoHash));
        };
        if computed != rec.hash {
            return Err(fail(id, BreakReason::HashMismatch));
        }
        if rec.prev != report.last_hash {
            return Err(fail(id, BreakReason::PrevMismatch));
        }
        for (at, a) in report.anchors.iter_mut().zip(anchors) {
            if *a == rec.hash {
                *at = line_no;
            }
        }
        each(line_no, line);
        report.records += 1;
        if report.first_ts.is_none() {
            report.first_ts = Some(rec.ts.clone());
        }
        report.last_ts = Some(rec.ts);
        report.last_hash = rec.hash;
    }
}

/// Verifies the log at `path` (see `verify_anchored`).
pub fn verify_file(path: &Path, anchors: &[String]) -> Result<VerifyReport, VerifyError> {
    let file = std::fs::File::open(path).map_err(|e| VerifyError {
        line: 0,
        id: None,
        reason: BreakReason::Io(format!("{}: {e}", path.display())),
    })?;
    verify_anchored(std::io::BufReader::new(file), anchors)
}

/// Whether `s` reads as a record hash (64 lower-case hex digits).
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The ticket id of a line that is not a full record, if it still reads as JSON.
fn lenient_id(line: &[u8]) -> Option<String> {
    serde_json::from_slice::<IdOnly>(line)
        .ok()
        .and_then(|r| r.id)
        .map(|id| bound(&id, 64))
}
