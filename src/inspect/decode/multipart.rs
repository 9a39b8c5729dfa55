//! `multipart/form-data` (and `mixed`/`related`): every part, whatever its
//! name, is delivered under its name (its file name as text), and its content
//! is sniffed by its own Content-Type, file name and magic, then decoded.
//!
//! The delimiter is searched with `memmem` across chunk edges by keeping at
//! most one delimiter's worth of bytes back; part headers are held up to a cap.

use memchr::memmem::Finder;
use memchr::memrchr;

use super::cx::Cx;
use super::mime;
use super::{ContentHint, Node};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

const MAX_HEADERS: usize = 16 << 10;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Part content (or the preamble when there is no part yet).
    Body,
    /// Just after a delimiter: `--` ends the body, a line break starts headers.
    AfterDelim {
        dash: bool,
    },
    Headers,
    Epilogue,
    /// Gave up (malformed); the rest is ignored and the report says so.
    Broken,
}

pub(crate) struct MultipartNode {
    finder: Finder<'static>,
    delim: Vec<u8>,
    depth: u32,
    state: State,
    carry: Vec<u8>,
    headers: Vec<u8>,
    part: Option<Node>,
    /// Before the first delimiter. Receivers ignore the preamble and the
    /// epilogue, but their bytes still leave: both are scanned as text.
    in_preamble: bool,
    /// The preamble or epilogue has had a byte that is not white space (the
    /// line breaks around delimiters are not text).
    loose_seen: bool,
}

impl MultipartNode {
    pub fn new(boundary: &[u8], depth: u32) -> Self {
        let mut delim = b"\r\n--".to_vec();
        delim.extend_from_slice(boundary);
        MultipartNode {
            finder: Finder::new(&delim).into_owned(),
            delim,
            depth,
            state: State::Body,
            // The body opens with the delimiter minus its line break.
            carry: b"\r\n".to_vec(),
            headers: Vec::new(),
            part: None,
            in_preamble: true,
            loose_seen: false,
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        while !data.is_empty() && !cx.stopped {
            data = match self.state {
                State::Body => self.body(data, cx),
                State::AfterDelim { dash } => self.after_delim(data, dash, cx),
                State::Headers => self.header_bytes(data, cx),
                State::Epilogue => {
                    self.loose_text(data, cx);
                    return;
                }
                State::Broken => return,
            };
        }
    }

    fn deliver<S: TextSink>(&mut self, bytes: &[u8], cx: &mut Cx<S>) {
        if let Some(part) = &mut self.part {
            part.feed(bytes, cx);
        } else if self.in_preamble {
            self.loose_text(bytes, cx);
        }
    }

    /// Preamble or epilogue bytes, from the first that is not white space on.
    fn loose_text<S: TextSink>(&mut self, bytes: &[u8], cx: &mut Cx<S>) {
        let mut bytes = bytes;
        if !self.loose_seen {
            let blank = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
            bytes = bytes.get(blank..).unwrap_or(&[]);
            if bytes.is_empty() {
                return;
            }
            self.loose_seen = true;
        }
        cx.sink.text(bytes);
    }

    /// Part content up to the next delimiter; returns the input after it.
    fn body<'d, S: TextSink>(&mut self, data: &'d [u8], cx: &mut Cx<S>) -> &'d [u8] {
        let mut data = data;
        if !self.carry.is_empty() {
            let held = self.carry.len();
            let need = self.delim.len() - 1;
            let take = need.min(data.len());
            self.carry
                .extend_from_slice(data.get(..take).unwrap_or(&[]));
            if let Some(p) = self.finder.find(&self.carry) {
                let carry = std::mem::take(&mut self.carry);
                self.deliver(carry.get(..p).unwrap_or(&[]), cx);
                self.carry = carry;
                self.carry.clear();
                self.end_part(cx);
                let used = p + self.delim.len() - held;
                return data.get(used..).unwrap_or(&[]);
            }
            if take < need {
                // Everything is in the carry: keep only what may start a delimiter.
                let keep = self.keep_len(&self.carry);
                let carry = std::mem::take(&mut self.carry);
                let emit = carry.len() - keep;
                self.deliver(carry.get(..emit).unwrap_or(&[]), cx);
                self.carry = carry;
                self.carry.drain(..emit);
                return &[];
            }
            let carry = std::mem::take(&mut self.carry);
            self.deliver(carry.get(..held).unwrap_or(&[]), cx);
            self.carry = carry;
            self.carry.clear();
        }
        match self.finder.find(data) {
            Some(p) => {
                self.deliver(data.get(..p).unwrap_or(&[]), cx);
                self.end_part(cx);
                data = data.get(p + self.delim.len()..).unwrap_or(&[]);
                data
            }
            None => {
                let keep = self.keep_len(data);
                let emit = data.len() - keep;
                self.deliver(data.get(..emit).unwrap_or(&[]), cx);
                self.carry
                    .extend_from_slice(data.get(emit..).unwrap_or(&[]));
                &[]
            }
        }
    }

    /// The longest tail of `data` that is a beginning of the delimiter.
    fn keep_len(&self, data: &[u8]) -> usize {
        let max = (self.delim.len() - 1).min(data.len());
        let tail = data.get(data.len() - max..).unwrap_or(&[]);
        let mut end = tail.len();
        // Every candidate starts with the delimiter's leading `\r`.
        while let Some(i) = memrchr(b'\r', tail.get(..end).unwrap_or(&[])) {
            let cand = tail.get(i..).unwrap_or(&[]);
            if self.delim.starts_with(cand) {
                return cand.len();
            }
            end = i;
        }
        0
    }

    fn end_part<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if let Some(mut part) = self.part.take() {
            part.finish(cx);
            cx.sink.boundary();
        } else if self.in_preamble {
            self.in_preamble = false;
            if self.loose_seen {
                cx.sink.boundary();
            }
            self.loose_seen = false;
        }
        self.state = State::AfterDelim { dash: false };
    }

    fn after_delim<'d, S: TextSink>(
        &mut self,
        data: &'d [u8],
        dash: bool,
        cx: &mut Cx<S>,
    ) -> &'d [u8] {
        let Some((&c, rest)) = data.split_first() else {
            return data;
        };
        match (dash, c) {
            (false, b'-') => self.state = State::AfterDelim { dash: true },
            (true, b'-') => self.state = State::Epilogue,
            (false, b' ' | b'\t' | b'\r') => {}
            (false, b'\n') => {
                self.state = State::Headers;
                self.headers.clear();
                self.headers.extend_from_slice(b"\r\n");
            }
            _ => self.broken(cx, "bad multipart delimiter line"),
        }
        rest
    }

    fn header_bytes<'d, S: TextSink>(&mut self, data: &'d [u8], cx: &mut Cx<S>) -> &'d [u8] {
        let held = self.headers.len();
        let room = MAX_HEADERS.saturating_sub(held);
        let take = room.min(data.len());
        self.headers
            .extend_from_slice(data.get(..take).unwrap_or(&[]));
        // Search only where a new `\r\n\r\n` can be.
        let from = held.saturating_sub(3);
        let found = memchr::memmem::find(self.headers.get(from..).unwrap_or(&[]), b"\r\n\r\n");
        match found {
            Some(p) => {
                let end = from + p;
                self.start_part(end, cx);
                self.state = State::Body;
                data.get(end + 4 - held..).unwrap_or(&[])
            }
            None if take < data.len() || self.headers.len() >= MAX_HEADERS => {
                self.broken(cx, "multipart part headers too long");
                &[]
            }
            None => &[],
        }
    }

    fn start_part<S: TextSink>(&mut self, end: usize, cx: &mut Cx<S>) {
        if !cx.entry() {
            self.state = State::Broken;
            return;
        }
        let raw = self.headers.get(2..end).unwrap_or(&[]);
        // Folded header lines (a long file name) join the line before.
        let text = String::from_utf8_lossy(raw)
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        let mut hint = ContentHint::default();
        let mut name = None;
        let mut encoding = String::new();
        let mut disposition = None;
        for line in text.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim();
            if key.eq_ignore_ascii_case("content-type") {
                hint.content_type = Some(value.trim().to_owned());
            } else if key.eq_ignore_ascii_case("content-transfer-encoding") {
                encoding = value.trim().to_ascii_lowercase();
            } else if key.eq_ignore_ascii_case("content-disposition") {
                name = param(value, "name");
                disposition = Some(value);
            }
        }
        hint.file_name = file_name(disposition, hint.content_type.as_deref());
        let name = name.unwrap_or_default();
        if let Some(file) = &hint.file_name {
            cx.sink.field(name.as_bytes());
            cx.sink.text(file.as_bytes());
            cx.sink.boundary();
        }
        cx.sink.field(name.as_bytes());
        self.part = Some(mime::body_node(&encoding, hint, self.depth + 1, cx));
    }

    fn broken<S: TextSink>(&mut self, cx: &mut Cx<S>, why: &str) {
        cx.incomplete(IncompleteReason::Malformed, why);
        self.state = State::Broken;
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.state == State::Body {
            let carry = std::mem::take(&mut self.carry);
            self.deliver(&carry, cx);
        }
        if let Some(mut part) = self.part.take() {
            part.finish(cx);
            cx.sink.boundary();
        }
        if !matches!(self.state, State::Epilogue | State::Broken) {
            cx.incomplete(
                IncompleteReason::Malformed,
                "multipart body without its closing boundary",
            );
        }
    }
}

/// A part's file name: the disposition's `filename`, else the type's `name`
/// (older mailers give only that).
fn file_name(disposition: Option<&str>, content_type: Option<&str>) -> Option<String> {
    disposition
        .and_then(|d| extended_param(d, "filename"))
        .or_else(|| content_type.and_then(|t| extended_param(t, "name")))
}

/// Parameter `key` as mail clients write it: plain (its encoded words
/// decoded), RFC 2231's `key*=UTF-8''…`, or, for long or non-ASCII values
/// (Thunderbird, Apple Mail), split over `key*0*=`, `key*1*=`… pieces.
fn extended_param(header: &str, key: &str) -> Option<String> {
    if let Some(f) = param(header, key) {
        let mut out = String::new();
        mime::decode_words(&f, &mut out);
        return Some(out);
    }
    let mut pieces = match param(header, &format!("{key}*")) {
        Some(whole) => vec![(whole, true)],
        None => Vec::new(),
    };
    if pieces.is_empty() {
        // At most 64 pieces: past that a name is not a name.
        for n in 0..64 {
            if let Some(v) = param(header, &format!("{key}*{n}*")) {
                pieces.push((v, true));
            } else if let Some(v) = param(header, &format!("{key}*{n}")) {
                pieces.push((v, false));
            } else {
                break;
            }
        }
    }
    let (first, first_encoded) = pieces.first_mut()?;
    // Only an encoded first piece names its charset: `UTF-8'zh'…`.
    let mut charset = String::new();
    if *first_encoded {
        let (cs, rest) = first.split_once('\'')?;
        let (_, value) = rest.split_once('\'')?;
        charset = cs.to_owned();
        *first = value.to_owned();
    }
    let mut bytes = Vec::new();
    for (piece, encoded) in &pieces {
        if *encoded {
            let mut url = super::text::UrlDecoder::percent_only();
            url.decode(piece.as_bytes(), |b| bytes.extend_from_slice(b));
        } else {
            bytes.extend_from_slice(piece.as_bytes());
        }
    }
    let enc = encoding_rs::Encoding::for_label(charset.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    Some(enc.decode_without_bom_handling(&bytes).0.into_owned())
}

/// A `key="value"` parameter of a header value (quotes optional).
pub(super) fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}
