//! The audit sink: appends chained records to a JSON Lines file (or memory), one
//! whole line per `write` call, under one lock so the chain stays linear.
//!
//! Crash recovery: a line is complete only with its trailing newline. On open, a
//! torn last line (the process died mid-write) is cut off: its record was never
//! acknowledged, because `append` returns only after the whole line is written and
//! the proxy releases no response before that. The chain then continues from the
//! last complete line's `hash`. A last complete line that is not a record at all is
//! an error: there is no chain to continue, and an operator must look at the file.
//!
//! One sink per file: two processes appending to the same file would fork the chain.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::Deserialize;

use super::chain::{seal, GENESIS};
use super::record::AuditRecord;

/// Longest line `open` looks back for when recovering the chain, and the longest
/// line `verify` accepts. Records are bounded far below this.
pub const MAX_LINE: usize = 1 << 20;

/// When the sink asks the OS to put written lines on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fsync {
    /// `sync_data` after every record: survives power loss, costs a disk flush each.
    Always,
    /// Rely on the OS: survives a process crash, not a power loss.
    #[default]
    Never,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open audit log {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot continue the audit chain in {path}: {reason}")]
    Recover { path: PathBuf, reason: String },
    #[error("cannot write audit log {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit log {path} holds a partial record that could not be removed; reopen it")]
    Broken { path: PathBuf },
    #[error("cannot serialise audit record: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Appends hash-chained audit records. `Send + Sync`: share it behind an `Arc`.
///
/// `append` does blocking file I/O under a `std` mutex (one short `write` per
/// record); async callers on a busy runtime may wrap it in `spawn_blocking`.
#[derive(Debug)]
pub struct AuditSink {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    out: Output,
    /// `hash` of the last record written; advanced only after a successful write.
    prev: String,
}

#[derive(Debug)]
enum Output {
    File {
        file: File,
        path: PathBuf,
        /// Bytes in the file after the last complete line, to cut a partial write.
        len: u64,
        fsync: Fsync,
        broken: bool,
    },
    Memory(Vec<String>),
}

#[derive(Deserialize)]
struct HashOnly {
    hash: String,
}

impl AuditSink {
    /// Opens (creating with mode 0600) `path` for appending, continuing its chain.
    pub fn open(path: &Path) -> Result<AuditSink, AuditError> {
        AuditSink::open_with(path, Fsync::default())
    }

    pub fn open_with(path: &Path, fsync: Fsync) -> Result<AuditSink, AuditError> {
        let open_err = |source| AuditError::Open {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        let (prev, len) = if meta.is_file() {
            tighten_mode(&file, path, meta.permissions().mode());
            recover(&mut file, path, meta.len())?
        } else {
            // A pipe or device (tests use /dev/full): nothing to recover.
            (String::from(GENESIS), 0)
        };
        Ok(AuditSink {
            state: Mutex::new(State {
                out: Output::File {
                    file,
                    path: path.to_owned(),
                    len,
                    fsync,
                    broken: false,
                },
                prev,
            }),
        })
    }

    /// A sink that keeps lines in memory, for tests and offline replay.
    pub fn memory() -> AuditSink {
        AuditSink {
            state: Mutex::new(State {
                out: Output::Memory(Vec::new()),
                prev: String::from(GENESIS),
            }),
        }
    }

    /// Chains, serialises and writes `rec` as one line, and returns it with `prev`
    /// and `hash` filled. On error nothing is chained: the caller must fail closed.
    pub fn append(&self, mut rec: AuditRecord) -> Result<AuditRecord, AuditError> {
        let mut state = self.lock();
        let State { out, prev } = &mut *state;
        let line = seal(&mut rec, prev)?;
        match out {
            Output::Memory(lines) => lines.push(line),
            Output::File {
                file,
                path,
                len,
                fsync,
                broken,
            } => {
                if *broken {
                    return Err(AuditError::Broken { path: path.clone() });
                }
                if let Err(source) = write_line(file, line.as_bytes(), *fsync) {
                    // Cut any partial line so the next record starts on a line of its own.
                    if file.metadata().is_ok_and(|m| m.is_file()) && file.set_len(*len).is_err() {
                        *broken = true;
                    }
                    return Err(AuditError::Write {
                        path: path.clone(),
                        source,
                    });
                }
                *len += line.len() as u64;
            }
        }
        prev.clone_from(&rec.hash);
        Ok(rec)
    }

    /// `hash` of the last record appended (or recovered); 64 zeros for an empty log.
    pub fn last_hash(&self) -> String {
        self.lock().prev.clone()
    }

    /// The lines of a memory sink (empty for a file sink).
    pub fn lines(&self) -> Vec<String> {
        match &self.lock().out {
            Output::Memory(lines) => lines.clone(),
            Output::File { .. } => Vec::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is only mutated after a write succeeds, so it is consistent
        // even if another thread panicked while holding the lock.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn write_line(file: &mut File, line: &[u8], fsync: Fsync) -> std::io::Result<()> {
    file.write_all(line)?;
    file.flush()?;
    if fsync == Fsync::Always {
        file.sync_data()?;
    }
    Ok(())
}

/// Audit logs hold who sent what where: readable by the owner only.
fn tighten_mode(file: &File, path: &Path, mode: u32) {
    if mode & 0o077 != 0 {
        let tightened = std::fs::Permissions::from_mode(mode & 0o700);
        if let Err(err) = file.set_permissions(tightened) {
            tracing::warn!(audit.path = %path.display(), error = %err, "audit log is readable by others and its mode could not be tightened");
        }
    }
}

/// Finds the chain's last hash and the length of the complete lines, cutting a
/// torn tail. Reads at most `MAX_LINE` bytes from the end.
fn recover(file: &mut File, path: &Path, len: u64) -> Result<(String, u64), AuditError> {
    let recover_err = |reason: String| AuditError::Recover {
        path: path.to_owned(),
        reason,
    };
    if len == 0 {
        return Ok((String::from(GENESIS), 0));
    }
    let start = len.saturating_sub(MAX_LINE as u64 + 1);
    let mut tail = Vec::new();
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.take(len - start).read_to_end(&mut tail))
        .map_err(|e| recover_err(format!("cannot read the end of the log: {e}")))?;
    let Some(last_nl) = memchr::memrchr(b'\n', &tail) else {
        if start == 0 {
            cut_torn_tail(file, path, len, 0)?;
            return Ok((String::from(GENESIS), 0));
        }
        return Err(recover_err(String::from(
            "last line is longer than the limit",
        )));
    };
    let keep = start + last_nl as u64 + 1;
    if keep < len {
        cut_torn_tail(file, path, len, keep)?;
    }
    let complete = tail.get(..last_nl).unwrap_or_default();
    let line_start = match memchr::memrchr(b'\n', complete) {
        Some(i) => i + 1,
        None if start == 0 => 0,
        None => {
            return Err(recover_err(String::from(
                "last line is longer than the limit",
            )))
        }
    };
    let line = complete.get(line_start..).unwrap_or_default();
    let stated: HashOnly = serde_json::from_slice(line).map_err(|_| {
        recover_err(String::from(
            "the last complete line is not an audit record (run `sluice audit verify`)",
        ))
    })?;
    if stated.hash.len() != 64 {
        return Err(recover_err(String::from(
            "the last record has no valid hash",
        )));
    }
    Ok((stated.hash, keep))
}

fn cut_torn_tail(file: &File, path: &Path, len: u64, keep: u64) -> Result<(), AuditError> {
    tracing::warn!(
        audit.path = %path.display(),
        audit.dropped_bytes = len - keep,
        "audit log ends in a partial record from an interrupted write; removing it"
    );
    file.set_len(keep).map_err(|e| AuditError::Recover {
        path: path.to_owned(),
        reason: format!("cannot remove a partial last line: {e}"),
    })
}
