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
//!
//! Rotation keeps the chain whole across files. Past `rotate_at` bytes the file
//! is renamed with the time it was closed (`sluice-audit.2026-11-30T03-40-00.123Z.jsonl`,
//! which sorts before the live name and in the order written) and a new one is
//! started, whose first record's `prev` is the last hash of the old. `reopen`
//! does the same for a file an outside tool (logrotate) has moved away.

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
        rotation: Rotation,
    },
    Memory(Vec<String>),
}

/// When a file sink starts a new file.
#[derive(Clone, Copy, Debug, Default)]
struct Rotation {
    /// Size past which the file is closed and a new one begun (`None`: never).
    at: Option<u64>,
    /// Size at which the next attempt is made (after a failed one, one more
    /// `at` later, so a failing rename is not retried on every record).
    next: Option<u64>,
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
        let (mut file, meta) = open_log(path)?;
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
                    rotation: Rotation::default(),
                },
                prev,
            }),
        })
    }

    /// Starts a new file once this one holds `at` bytes (`None`: never). A
    /// log that is no regular file (a pipe, a device) is never rotated.
    pub fn rotate_at(self, at: Option<u64>) -> AuditSink {
        if let Output::File {
            rotation,
            len,
            file,
            ..
        } = &mut self.lock().out
        {
            let regular = file.metadata().is_ok_and(|m| m.is_file());
            let at = at.filter(|&n| n > 0 && regular);
            *rotation = Rotation {
                at,
                next: at.map(|n| n.max(*len)),
            };
        }
        self
    }

    /// Opens the configured path again when it no longer names the file being
    /// written (an outside tool moved it away, as logrotate does before it
    /// signals a reload), continuing the chain in the new file. A file found
    /// there must be empty or end where this chain is; else the old file is
    /// kept and the error returned. `Ok(true)` when a new file was opened.
    pub fn reopen(&self) -> Result<bool, AuditError> {
        let mut state = self.lock();
        let State { out, prev } = &mut *state;
        let Output::File {
            file, path, len, ..
        } = out
        else {
            return Ok(false);
        };
        if same_file(file, path) {
            return Ok(false);
        }
        let (new, new_len) = open_continuing(path, prev)?;
        *file = new;
        *len = new_len;
        tracing::info!(audit.path = %path.display(), "audit log reopened; the chain continues in it");
        Ok(true)
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
                rotation,
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
                if rotation.next.is_some_and(|n| *len >= n) {
                    // The record is written and chained whatever happens here.
                    rotate(file, path, len, *fsync, rotation);
                }
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

/// Closes the file under a name with the time, and starts a new one at `path`.
/// On failure the old file stays in use and a warning says why.
fn rotate(file: &mut File, path: &Path, len: &mut u64, fsync: Fsync, rotation: &mut Rotation) {
    let warn = |what: &str, err: &std::io::Error| {
        tracing::warn!(audit.path = %path.display(), error = %err, "audit log not rotated: {what}");
    };
    rotation.next = rotation.at.map(|at| len.saturating_add(at));
    if fsync == Fsync::Always {
        if let Err(e) = file.sync_all() {
            return warn("cannot sync it", &e);
        }
    }
    let closed = match closed_name(path) {
        Ok(p) => p,
        Err(e) => return warn("no free name for the closed file", &e),
    };
    if let Err(e) = std::fs::rename(path, &closed) {
        return warn("cannot rename it", &e);
    }
    match create_log(path) {
        Ok(new) => {
            *file = new;
            *len = 0;
            rotation.next = rotation.at;
            tracing::info!(audit.path = %path.display(), audit.closed = %closed.display(), "audit log rotated; the chain continues in a new file");
        }
        Err(e) => {
            // Put the old file back, so the path still names the live log.
            if std::fs::rename(&closed, path).is_err() {
                tracing::error!(audit.path = %path.display(), audit.closed = %closed.display(), "audit log rotation failed half way; records go on in the closed file until a reload reopens the path");
            }
            warn("cannot create the new file", &e);
        }
    }
}

/// `dir/stem.<UTC time>.ext`, one not taken yet: within one millisecond,
/// `_01`, `_02`… after the time, which sort after it and in order.
fn closed_name(path: &Path) -> std::io::Result<PathBuf> {
    let stem = path
        .file_stem()
        .map_or_else(|| "audit".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let ts = super::record::now_ts().replace(':', "-");
    for n in 0..100u32 {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("_{n:02}")
        };
        let candidate = path.with_file_name(format!("{stem}.{ts}{suffix}{ext}"));
        if !candidate.exists() {
            return Ok(candidate);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "100 closed logs with the same time",
    ))
}

/// `path` opened to read and append, created (owner only) if missing.
fn open_log(path: &Path) -> Result<(File, std::fs::Metadata), AuditError> {
    let open_err = |source| AuditError::Open {
        path: path.to_owned(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    Ok((file, meta))
}

/// A new, empty log at `path`, readable by the owner only.
fn create_log(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Opens `path` to go on with the chain whose last hash is `prev`: an empty or
/// missing file starts from it; a file that already ends there continues.
fn open_continuing(path: &Path, prev: &str) -> Result<(File, u64), AuditError> {
    let (mut file, meta) = open_log(path)?;
    if !meta.is_file() || meta.len() == 0 {
        return Ok((file, 0));
    }
    tighten_mode(&file, path, meta.permissions().mode());
    let (last, len) = recover(&mut file, path, meta.len())?;
    if last != prev {
        return Err(AuditError::Recover {
            path: path.to_owned(),
            reason: String::from(
                "the file now at this path does not continue this log's chain; still writing to the old one",
            ),
        });
    }
    Ok((file, len))
}

/// Whether `path` still names the open `file` (same device and inode).
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
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
