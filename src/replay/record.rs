//! `sluice run --record FILE.har`: the flows the proxy intercepts, written as HAR
//! entries as they finish (memory stays bounded whatever the traffic), masked by
//! default (`mask` says exactly what), so today's traffic becomes a regression test.
//!
//! The file is a valid HAR once `finish` ran (or the recorder was dropped); a
//! process killed mid-run leaves it without its closing brackets.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::har::{HarEntry, HarRequest, HarResponse, SentMessage, MAX_ENTRIES, MAX_HAR_BYTES};
use super::mask::Masker;
use crate::inspect::Engine;

/// Body bytes kept per request or response; the rest is cut (and says so).
pub const MAX_BODY: usize = 8 << 20;

/// One intercepted exchange, as the proxy hands it over.
#[derive(Clone, Debug, Default)]
pub struct RecordedFlow {
    /// RFC 3339; `None`: now.
    pub started: Option<String>,
    pub method: String,
    /// Absolute: `https://host[:port]/path?query`.
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    /// The held body; `None` when it streamed through unheld.
    pub request_body: Option<Vec<u8>>,
    /// `None` when sluice answered itself without asking upstream, or upstream failed.
    pub response: Option<RecordedResponse>,
    /// On a WebSocket: the messages the client sent, as its application sent
    /// them (at most `MAX_BODY` bytes of them).
    pub sent_messages: Vec<SentMessage>,
}

impl RecordedFlow {
    /// The absolute URL of a request the proxy saw (unredacted: the recorder masks).
    pub fn url_of(meta: &crate::policy::RequestMeta) -> String {
        let default_port = if meta.scheme == "https" { 443 } else { 80 };
        let host = if meta.host.contains(':') {
            format!("[{}]", meta.host)
        } else {
            meta.host.clone()
        };
        let port = if meta.port == default_port {
            String::new()
        } else {
            format!(":{}", meta.port)
        };
        format!("{}://{host}{port}{}", meta.scheme, meta.path_and_query())
    }
}

#[derive(Clone, Debug, Default)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// At most `MAX_BODY` bytes (more is cut here anyway).
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

struct State {
    out: BufWriter<File>,
    entries: usize,
    bytes: u64,
    /// Set on a write error or when a limit was reached: nothing more is written.
    stopped: bool,
    closed: bool,
}

pub struct Recorder {
    path: PathBuf,
    /// `None`: record unmasked.
    mask: Option<(Arc<Engine>, [u8; 32])>,
    state: Mutex<State>,
}

impl Recorder {
    /// Records to `path` (created or truncated), masking with `engine`'s detectors.
    pub fn create(path: &Path, engine: Arc<Engine>) -> Result<Recorder, RecordError> {
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key).map_err(
            |_| RecordError::Io {
                path: path.to_owned(),
                source: std::io::Error::other("no randomness for the masking key"),
            },
        )?;
        Self::open(path, Some((engine, key)))
    }

    /// Records raw values: for test traffic only (`--record-unmasked`).
    pub fn create_unmasked(path: &Path) -> Result<Recorder, RecordError> {
        Self::open(path, None)
    }

    fn open(path: &Path, mask: Option<(Arc<Engine>, [u8; 32])>) -> Result<Recorder, RecordError> {
        let io = |source| RecordError::Io {
            path: path.to_owned(),
            source,
        };
        let mut out = BufWriter::new(File::create(path).map_err(io)?);
        let head = format!(
            "{{\"log\": {{\"version\": \"1.2\", \"creator\": {{\"name\": \"sluice\", \"version\": \"{}\"}}, \"entries\": [\n",
            env!("CARGO_PKG_VERSION")
        );
        out.write_all(head.as_bytes()).map_err(io)?;
        out.flush().map_err(io)?;
        Ok(Recorder {
            path: path.to_owned(),
            mask,
            state: Mutex::new(State {
                out,
                entries: 0,
                bytes: head.len() as u64,
                stopped: false,
                closed: false,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Masks and appends one flow. Never fails the request it records: a write
    /// error stops the recording and is logged once.
    pub fn record(&self, flow: RecordedFlow) {
        let entry = self.entry(flow);
        let text = entry.to_string();
        let mut s = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if s.stopped || s.closed {
            return;
        }
        if s.entries >= MAX_ENTRIES || s.bytes + text.len() as u64 + 16 > MAX_HAR_BYTES {
            tracing::warn!(path = %self.path.display(), entries = s.entries, "recording full; later flows are not recorded");
            s.stopped = true;
            return;
        }
        let sep = if s.entries == 0 { "" } else { ",\n" };
        let res = s
            .out
            .write_all(sep.as_bytes())
            .and_then(|()| s.out.write_all(text.as_bytes()))
            .and_then(|()| s.out.flush());
        match res {
            Ok(()) => {
                s.entries += 1;
                s.bytes += (sep.len() + text.len()) as u64;
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "recording stopped");
                s.stopped = true;
            }
        }
    }

    /// Closes the document; returns how many entries it holds.
    pub fn finish(self) -> Result<usize, RecordError> {
        self.close()
    }

    fn close(&self) -> Result<usize, RecordError> {
        let mut s = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if s.closed {
            return Ok(s.entries);
        }
        s.closed = true;
        let res = s.out.write_all(b"\n]}}\n").and_then(|()| s.out.flush());
        res.map_err(|source| RecordError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(s.entries)
    }

    fn entry(&self, flow: RecordedFlow) -> Value {
        let masker = self
            .mask
            .as_ref()
            .map(|(engine, key)| Masker::with_key(engine, key));
        let header = |hs: &[(String, String)], name: &str| {
            hs.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut notes = Vec::new();
        let req_encoding = header(&flow.request_headers, "content-encoding");
        let (req_body, req_note) = body(
            masker.as_ref(),
            flow.request_body.as_deref().unwrap_or_default(),
            req_encoding.as_deref(),
        );
        notes.extend(req_note.map(|n| ("request", n)));
        if flow.request_body.is_none() {
            notes.push((
                "request",
                String::from("body streamed unheld; not recorded"),
            ));
        }
        let response = flow.response.map(|r| {
            let enc = header(&r.headers, "content-encoding");
            let (b, note) = body(masker.as_ref(), &r.body, enc.as_deref());
            notes.extend(note.map(|n| ("response", n)));
            HarResponse {
                status: r.status,
                mime_type: header(&r.headers, "content-type"),
                headers: masker
                    .as_ref()
                    .map_or(r.headers.clone(), |m| m.headers(&r.headers)),
                body: b,
            }
        });
        // Each message masked as a body is; one that masking cannot read
        // (binary) is left out, and the note says how many.
        let mut dropped = 0;
        let sent_messages = flow
            .sent_messages
            .iter()
            .filter_map(|m| {
                let (data, note) = body(masker.as_ref(), &m.data, None);
                if note.is_some() && data.is_empty() && !m.data.is_empty() {
                    dropped += 1;
                    return None;
                }
                Some(SentMessage {
                    binary: m.binary,
                    data,
                })
            })
            .collect();
        if dropped > 0 {
            notes.push((
                "websocket",
                format!("{dropped} message(s) dropped by masking (binary)"),
            ));
        }
        let entry = HarEntry {
            index: 0,
            started: flow.started,
            request: HarRequest {
                method: flow.method,
                url: masker
                    .as_ref()
                    .map_or(flow.url.clone(), |m| m.url(&flow.url)),
                http_version: None,
                mime_type: header(&flow.request_headers, "content-type"),
                headers: masker.as_ref().map_or(flow.request_headers.clone(), |m| {
                    m.headers(&flow.request_headers)
                }),
                body: req_body,
            },
            response,
            sent_messages,
        };
        let mut v = super::har::write::entry_value(&entry);
        if !notes.is_empty() {
            let text: Vec<String> = notes.iter().map(|(w, n)| format!("{w}: {n}")).collect();
            v["comment"] = json!(text.join("; "));
        }
        v
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!(error = %e, "recording not closed");
        }
    }
}

/// A body as recorded, and a note when it was cut or dropped.
fn body(
    masker: Option<&Masker<'_>>,
    raw: &[u8],
    encoding: Option<&str>,
) -> (Vec<u8>, Option<String>) {
    let (kept, cut) = match raw.get(..MAX_BODY) {
        Some(k) if raw.len() > MAX_BODY => (k, true),
        _ => (raw, false),
    };
    let cut_note = cut.then(|| format!("body cut to {MAX_BODY} of {} bytes", raw.len()));
    match masker {
        None => (kept.to_vec(), cut_note),
        Some(m) => match m.body(kept, encoding) {
            Some(b) => (b, cut_note),
            None => (
                Vec::new(),
                Some(format!(
                    "body of {} bytes dropped by masking (binary or encoded)",
                    raw.len()
                )),
            ),
        },
    }
}
