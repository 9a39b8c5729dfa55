//! The hold: a request body kept whole until its verdict. Memory up to a limit, then
//! a temp file sealed with AES-256-GCM under a key that exists only for this body,
//! unlinked at creation and gone when the hold is dropped.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::mpsc;

use super::body::{Body, BoxError};

/// Plaintext bytes per sealed record in the spill file.
const RECORD: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("the body is larger than the hold limit ({limit} bytes)")]
    TooLarge { limit: u64 },
    #[error("cannot spill the held body to disk: {0}")]
    Spool(io::Error),
    #[error("cannot seal the held body")]
    Crypto,
    #[error("the thread holding or scanning the body failed")]
    Worker,
}

/// Chunks a held body's consumer can take in flight before the receiver waits.
const STAGE_DEPTH: usize = 8;

/// One consumer of a held body's chunks (the hold itself, the scanner): run on
/// the connection's task while the body is small, then moved to a blocking
/// thread fed through a bounded channel, so receiving the body (TLS), keeping
/// it (hash, spill) and inspecting it use separate cores. Chunks stay in order.
pub enum Stage<T> {
    Here(T, fn(&mut T, Bytes) -> Result<(), HoldError>),
    Away(
        mpsc::Sender<Bytes>,
        tokio::task::JoinHandle<(T, Result<(), HoldError>)>,
    ),
    /// Only while moving.
    Moving,
}

impl<T: Send + 'static> Stage<T> {
    pub fn new(t: T, f: fn(&mut T, Bytes) -> Result<(), HoldError>) -> Stage<T> {
        Stage::Here(t, f)
    }

    /// Moves the consumer to a blocking thread (once; later calls do nothing).
    pub fn move_away(&mut self) {
        let Stage::Here(..) = self else {
            return;
        };
        let Stage::Here(mut t, f) = std::mem::replace(self, Stage::Moving) else {
            return;
        };
        let (tx, mut rx) = mpsc::channel::<Bytes>(STAGE_DEPTH);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(b) = rx.blocking_recv() {
                if let Err(e) = f(&mut t, b) {
                    return (t, Err(e));
                }
            }
            (t, Ok(()))
        });
        *self = Stage::Away(tx, task);
    }

    /// Hands on a chunk. An error means the consumer has stopped: `finish` says why.
    pub async fn feed(&mut self, b: Bytes) -> Result<(), HoldError> {
        match self {
            Stage::Here(t, f) => f(t, b),
            Stage::Away(tx, _) => tx.send(b).await.map_err(|_| HoldError::Worker),
            Stage::Moving => Err(HoldError::Worker),
        }
    }

    /// Waits for every chunk to be taken; the consumer back, and its first error.
    pub async fn finish(self) -> Result<(T, Result<(), HoldError>), HoldError> {
        match self {
            Stage::Here(t, _) => Ok((t, Ok(()))),
            Stage::Away(tx, task) => {
                drop(tx);
                task.await.map_err(|_| HoldError::Worker)
            }
            Stage::Moving => Err(HoldError::Worker),
        }
    }
}

/// A body being held: feed it chunks, then `finish` it.
pub struct Hold {
    memory_limit: usize,
    max: u64,
    dir: Option<PathBuf>,
    mem: Vec<Bytes>,
    mem_len: usize,
    spill: Option<Spill>,
    total: u64,
    sha: ring::digest::Context,
}

struct Spill {
    file: std::fs::File,
    key: LessSafeKey,
    records: u64,
    /// One record being filled, then sealed in place and written; reused.
    pending: Vec<u8>,
}

impl Hold {
    pub fn new(memory_limit: u64, max: u64, dir: Option<PathBuf>) -> Hold {
        Hold {
            memory_limit: memory_limit.min(usize::MAX as u64) as usize,
            max,
            dir,
            mem: Vec::new(),
            mem_len: 0,
            spill: None,
            total: 0,
            sha: ring::digest::Context::new(&ring::digest::SHA256),
        }
    }

    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Adds a chunk. Past `max` the chunk is refused and the hold is over.
    /// Spilling does blocking file I/O: call from a blocking-tolerant context
    /// (`push` is cheap while the body fits in memory).
    pub fn push(&mut self, chunk: Bytes) -> Result<(), HoldError> {
        let n = chunk.len() as u64;
        if self.total + n > self.max {
            return Err(HoldError::TooLarge { limit: self.max });
        }
        self.total += n;
        self.sha.update(&chunk);
        if self.spill.is_none() && self.mem_len + chunk.len() <= self.memory_limit {
            self.mem_len += chunk.len();
            self.mem.push(chunk);
            return Ok(());
        }
        let spill = match &mut self.spill {
            Some(s) => s,
            None => self.spill.insert(Spill::create(self.dir.as_deref())?),
        };
        spill.write(&chunk)
    }

    /// Ends the hold: the body's SHA-256 and a way to replay it.
    pub fn finish(mut self) -> Result<Held, HoldError> {
        if let Some(s) = &mut self.spill {
            s.flush_pending()?;
        }
        let digest = self.sha.finish();
        Ok(Held {
            sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
            len: self.total,
            mem: self.mem,
            spill: self.spill,
        })
    }
}

impl Spill {
    fn create(dir: Option<&std::path::Path>) -> Result<Spill, HoldError> {
        let file = match dir {
            Some(d) => tempfile::tempfile_in(d),
            None => tempfile::tempfile(),
        }
        .map_err(HoldError::Spool)?;
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| HoldError::Crypto)?;
        let key =
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).map_err(|_| HoldError::Crypto)?);
        Ok(Spill {
            file,
            key,
            records: 0,
            pending: Vec::with_capacity(RECORD + AES_256_GCM.tag_len()),
        })
    }

    fn write(&mut self, mut data: &[u8]) -> Result<(), HoldError> {
        while !data.is_empty() {
            let take = (RECORD - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == RECORD {
                self.flush_pending()?;
            }
        }
        Ok(())
    }

    fn nonce(record: u64) -> Nonce {
        // A fresh key per body, so a counter is a unique nonce.
        let mut n = [0u8; NONCE_LEN];
        n[4..].copy_from_slice(&record.to_be_bytes());
        Nonce::assume_unique_for_key(n)
    }

    fn flush_pending(&mut self) -> Result<(), HoldError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rec = &mut self.pending;
        self.key
            .seal_in_place_append_tag(Self::nonce(self.records), Aad::empty(), rec)
            .map_err(|_| HoldError::Crypto)?;
        self.records += 1;
        self.file
            .write_all(&(rec.len() as u32).to_be_bytes())
            .and_then(|_| self.file.write_all(rec))
            .map_err(HoldError::Spool)?;
        // Sealed text is on disk; the buffer (and its capacity) is reused.
        rec.clear();
        Ok(())
    }
}

/// A complete held body.
pub struct Held {
    pub sha256: String,
    pub len: u64,
    mem: Vec<Bytes>,
    spill: Option<Spill>,
}

impl Held {
    /// The in-memory part, for inspection-free uses such as learning from small bodies.
    pub fn is_spilled(&self) -> bool {
        self.spill.is_some()
    }

    /// Replays the body byte-exact, with its length announced.
    pub fn into_body(self) -> Body {
        let len = self.len;
        let mem: std::collections::VecDeque<Bytes> = self.mem.into();
        let Some(spill) = self.spill else {
            // All in memory (the common case): no task, no channel.
            return http_body_util::BodyExt::boxed(HeldBody {
                mem,
                rx: None,
                remaining: len,
            });
        };
        let (tx, rx) = mpsc::channel::<Result<Bytes, BoxError>>(4);
        // Decrypting reads the file: keep it off the async workers.
        tokio::task::spawn_blocking(move || replay_spill(spill, tx));
        http_body_util::BodyExt::boxed(HeldBody {
            mem,
            rx: Some(rx),
            remaining: len,
        })
    }
}

fn replay_spill(mut spill: Spill, tx: mpsc::Sender<Result<Bytes, BoxError>>) {
    let mut read = || -> io::Result<()> {
        spill.file.seek(SeekFrom::Start(0))?;
        for i in 0..spill.records {
            let mut len = [0u8; 4];
            spill.file.read_exact(&mut len)?;
            let want = u32::from_be_bytes(len) as usize;
            if want > RECORD + AES_256_GCM.tag_len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "spooled record longer than any written",
                ));
            }
            // Read into spare capacity (no zeroing), open in place, and hand
            // the same allocation on: the plaintext is never copied.
            let mut rec = Vec::with_capacity(want);
            (&mut spill.file).take(want as u64).read_to_end(&mut rec)?;
            if rec.len() != want {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let plain = spill
                .key
                .open_in_place(Spill::nonce(i), Aad::empty(), &mut rec)
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        "spooled record failed authentication",
                    )
                })?
                .len();
            rec.truncate(plain);
            let chunk = Bytes::from(rec);
            if tx.blocking_send(Ok(chunk)).is_err() {
                return Ok(());
            }
        }
        Ok(())
    };
    if let Err(e) = read() {
        let _ = tx.blocking_send(Err(Box::new(e)));
    }
}

/// The in-memory part first, then what the spill reader sends.
struct HeldBody {
    mem: std::collections::VecDeque<Bytes>,
    rx: Option<mpsc::Receiver<Result<Bytes, BoxError>>>,
    remaining: u64,
}

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if let Some(b) = self.mem.pop_front() {
            self.remaining = self.remaining.saturating_sub(b.len() as u64);
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(Some(Err("held body ended early".into())));
        };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(b))) => {
                self.remaining = self.remaining.saturating_sub(b.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(Some(Err("held body ended early".into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    async fn roundtrip(memory: u64, body: &[u8], chunk: usize) -> (Vec<u8>, bool) {
        let dir = tempfile::tempdir().unwrap();
        let mut h = Hold::new(memory, 64 << 20, Some(dir.path().to_path_buf()));
        for c in body.chunks(chunk.max(1)) {
            h.push(Bytes::copy_from_slice(c)).unwrap();
        }
        let held = h.finish().unwrap();
        assert_eq!(held.len, body.len() as u64);
        let spilled = held.is_spilled();
        // Spill files are unlinked at creation: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let out = held
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (out, spilled)
    }

    #[tokio::test]
    async fn memory_and_spilled_bodies_replay_byte_exact() {
        let body = data(3 * RECORD + 12_345);
        let (out, spilled) = roundtrip(1 << 30, &body, 10_000).await;
        assert!(!spilled);
        assert_eq!(out, body);
        for memory in [0u64, 50_000, RECORD as u64] {
            let (out, spilled) = roundtrip(memory, &body, 77_777).await;
            assert!(spilled, "memory limit {memory}");
            assert_eq!(out, body, "memory limit {memory}");
        }
        let (out, _) = roundtrip(0, b"", 1).await;
        assert!(out.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stage_keeps_order_and_reports_its_consumer_failing() {
        let mut st = Stage::new(Vec::<u8>::new(), |v: &mut Vec<u8>, b: Bytes| {
            v.extend_from_slice(&b);
            Ok(())
        });
        st.feed(Bytes::from_static(b"ab")).await.unwrap();
        st.move_away();
        st.move_away();
        for k in 0..100u8 {
            st.feed(Bytes::from(vec![k])).await.unwrap();
        }
        let (v, res) = st.finish().await.unwrap();
        assert!(res.is_ok());
        assert_eq!(&v[..2], b"ab");
        assert_eq!(v[2..], (0..100u8).collect::<Vec<_>>());

        // A consumer that fails stops taking chunks; the error comes back.
        let mut st = Stage::new(0u32, |n: &mut u32, _b: Bytes| {
            *n += 1;
            if *n == 3 {
                Err(HoldError::Crypto)
            } else {
                Ok(())
            }
        });
        st.move_away();
        let mut refused = false;
        for _ in 0..100 {
            if st.feed(Bytes::from_static(b"x")).await.is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused, "a stopped consumer kept taking chunks");
        let (n, res) = st.finish().await.unwrap();
        assert_eq!(n, 3);
        assert!(matches!(res, Err(HoldError::Crypto)));
    }

    #[test]
    fn spill_file_holds_no_plaintext() {
        let mut h = Hold::new(0, 1 << 20, None);
        let secret = b"A123456(3) A123456(3) A123456(3) ".repeat(100);
        h.push(Bytes::copy_from_slice(&secret)).unwrap();
        let held = h.finish().unwrap();
        let mut spill = held.spill.unwrap();
        let mut raw = Vec::new();
        spill.file.seek(SeekFrom::Start(0)).unwrap();
        spill.file.read_to_end(&mut raw).unwrap();
        assert!(raw.len() > secret.len());
        assert!(!raw.windows(10).any(|w| w == b"A123456(3)"));
    }

    #[test]
    fn past_the_limit_is_refused() {
        let mut h = Hold::new(10, 100, None);
        h.push(Bytes::from(vec![0u8; 60])).unwrap();
        assert!(matches!(
            h.push(Bytes::from(vec![0u8; 41])),
            Err(HoldError::TooLarge { limit: 100 })
        ));
        assert_eq!(h.len(), 60);
    }

    #[test]
    fn digest_is_of_the_whole_body() {
        let mut h = Hold::new(5, 1000, None);
        h.push(Bytes::from_static(b"hello ")).unwrap();
        h.push(Bytes::from_static(b"world")).unwrap();
        let held = h.finish().unwrap();
        assert_eq!(
            held.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
    }
}
