//! The JSON decoder as it was before the block-classified rewrite, kept as the
//! oracle for `json_diff`: the new decoder must give the same sink events and
//! report on any input, chunked any way. Its `ValueNode` copy opens nested JSON
//! with this old decoder too, so the two never share a parser.

#![allow(dead_code)]

use memchr::memchr2;

use crate::inspect::decode::base64::{is_b64, Base64Node};
use crate::inspect::decode::cx::Cx;
use crate::inspect::decode::sniff::{media_magic, sniff, ContentHint, Kind};
use crate::inspect::decode::Node;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;
/// Keys longer than this are cut: a key is context, not content.
const MAX_KEY: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Expecting a value (or, right after `[`, the end of the array).
    Value,
    /// After `{` or `,` in an object: a key (or, right after `{`, `}`).
    Key,
    Colon,
    AfterValue,
    InKey,
    InValue,
    Number,
    Literal,
    /// Not JSON (any more): everything is plain text.
    Raw,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Esc {
    None,
    Backslash,
    Hex(u8, u16),
}

struct Frame {
    object: bool,
    /// The object's latest key, or for an array the key that named it: each
    /// array element is delivered under that name.
    key: Vec<u8>,
}

pub(crate) struct JsonNode {
    top: bool,
    state: State,
    frames: Vec<Frame>,
    depth_used: usize,
    key: Vec<u8>,
    esc: Esc,
    high: Option<u16>,
    value: ValueNode,
    field_live: bool,
    offset: u64,
    /// Just after `[` or `{`: a closing bracket is allowed.
    may_close: bool,
}

impl JsonNode {
    /// `top` is a body or part that claims to be JSON (errors are reported);
    /// otherwise it is JSON found inside a string (errors just fall back to text).
    pub fn new(depth: u32, top: bool) -> Self {
        JsonNode {
            top,
            state: State::Value,
            frames: Vec::new(),
            depth_used: 0,
            key: Vec::new(),
            esc: Esc::None,
            high: None,
            value: ValueNode::new(depth + 1),
            field_live: false,
            offset: 0,
            may_close: false,
        }
    }

    /// Ready for a new document, keeping its allocations.
    pub fn reset(&mut self) {
        self.state = State::Value;
        self.depth_used = 0;
        self.key.clear();
        self.esc = Esc::None;
        self.high = None;
        self.value.reset();
        self.field_live = false;
        self.offset = 0;
        self.may_close = false;
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        let mut i = 0;
        while i < data.len() {
            match self.state {
                State::Raw => {
                    cx.sink.text(data.get(i..).unwrap_or(&[]));
                    return;
                }
                State::InKey | State::InValue => i = self.string(data, i, cx),
                State::Number => {
                    let run = data
                        .get(i..)
                        .unwrap_or(&[])
                        .iter()
                        .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                        .count();
                    if run > 0 {
                        cx.sink.text(data.get(i..i + run).unwrap_or(&[]));
                        i += run;
                    }
                    if i < data.len() {
                        self.end_scalar(cx);
                    }
                }
                State::Literal => {
                    let run = data
                        .get(i..)
                        .unwrap_or(&[])
                        .iter()
                        .take_while(|c| c.is_ascii_lowercase())
                        .count();
                    i += run;
                    if i < data.len() {
                        self.value_done();
                    }
                }
                _ => {
                    let c = data.get(i).copied().unwrap_or(b' ');
                    if c.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    if self.structural(c, cx) {
                        i += 1;
                    } else {
                        self.offset += i as u64;
                        self.fail(cx, "invalid JSON");
                        cx.sink.text(data.get(i..).unwrap_or(&[]));
                        return;
                    }
                }
            }
        }
        self.offset += data.len() as u64;
    }

    /// One structural byte; false if it cannot be JSON here.
    fn structural<S: TextSink>(&mut self, c: u8, cx: &mut Cx<S>) -> bool {
        let may_close = std::mem::replace(&mut self.may_close, false);
        match (self.state, c) {
            (State::Value, b'{') => self.push(true, cx),
            (State::Value, b'[') => self.push(false, cx),
            (State::Value, b'"') => {
                self.scalar_field(cx);
                self.state = State::InValue;
                self.value.reset();
                true
            }
            (State::Value, b'-' | b'0'..=b'9') => {
                self.scalar_field(cx);
                cx.sink.text(&[c]);
                self.state = State::Number;
                true
            }
            (State::Value, b't' | b'f' | b'n') => {
                self.state = State::Literal;
                true
            }
            (State::Value, b']') if may_close => self.pop(false),
            (State::Key, b'"') => {
                self.key.clear();
                self.state = State::InKey;
                true
            }
            (State::Key, b'}') if may_close => self.pop(true),
            (State::Colon, b':') => {
                self.state = State::Value;
                true
            }
            (State::AfterValue, b',') => {
                self.state = match self.frames.get(self.depth_used.wrapping_sub(1)) {
                    Some(f) if f.object => State::Key,
                    _ => State::Value,
                };
                true
            }
            (State::AfterValue, b'}') => self.pop(true),
            (State::AfterValue, b']') => self.pop(false),
            _ => false,
        }
    }

    /// In an array, a scalar is delivered under the array's name.
    fn scalar_field<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.field_live {
            return;
        }
        if let Some(f) = self.frames.get(self.depth_used.wrapping_sub(1)) {
            if !f.object && !f.key.is_empty() {
                cx.sink.field(&f.key);
                self.field_live = true;
            }
        }
    }

    fn push<S: TextSink>(&mut self, object: bool, cx: &mut Cx<S>) -> bool {
        if self.depth_used >= cx.limits.max_json_nesting as usize {
            cx.incomplete(
                IncompleteReason::DepthLimit,
                format!("JSON nested deeper than {}", cx.limits.max_json_nesting),
            );
            self.state = State::Raw;
            return true;
        }
        let mut key = match self.frames.get_mut(self.depth_used) {
            Some(f) => std::mem::take(&mut f.key),
            None => Vec::new(),
        };
        key.clear();
        if !object {
            if let Some(parent) = self.frames.get(self.depth_used.wrapping_sub(1)) {
                key.extend_from_slice(&parent.key);
            }
        }
        let frame = Frame { object, key };
        match self.frames.get_mut(self.depth_used) {
            Some(slot) => *slot = frame,
            None => self.frames.push(frame),
        }
        self.depth_used += 1;
        self.state = if object { State::Key } else { State::Value };
        self.may_close = true;
        true
    }

    fn pop(&mut self, object: bool) -> bool {
        match self.frames.get(self.depth_used.wrapping_sub(1)) {
            Some(f) if f.object == object => {
                self.depth_used -= 1;
                self.field_live = false;
                self.value_done();
                true
            }
            _ => false,
        }
    }

    fn value_done(&mut self) {
        self.state = if self.depth_used == 0 {
            State::Value
        } else {
            State::AfterValue
        };
    }

    fn end_scalar<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        cx.sink.boundary();
        self.field_live = false;
        self.value_done();
    }

    /// Inside a key or string value from `data[i]`; returns where it stopped.
    fn string<S: TextSink>(&mut self, data: &[u8], mut i: usize, cx: &mut Cx<S>) -> usize {
        while i < data.len() {
            let Some(&c) = data.get(i) else { break };
            match self.esc {
                Esc::Backslash => {
                    i += 1;
                    let decoded: &[u8] = match c {
                        b'n' => b"\n",
                        b't' => b"\t",
                        b'r' => b"\r",
                        b'b' | b'f' => b" ",
                        b'u' => {
                            self.esc = Esc::Hex(0, 0);
                            continue;
                        }
                        b'"' => b"\"",
                        b'/' => b"/",
                        _ => b"\\",
                    };
                    self.esc = Esc::None;
                    self.emit(decoded, cx);
                }
                Esc::Hex(n, acc) => {
                    let Some(d) = (c as char).to_digit(16) else {
                        // `\u` without four hex digits: keep what it said.
                        self.esc = Esc::None;
                        self.emit(b"\\u", cx);
                        continue;
                    };
                    i += 1;
                    let acc = acc << 4 | d as u16;
                    if n < 3 {
                        self.esc = Esc::Hex(n + 1, acc);
                    } else {
                        self.esc = Esc::None;
                        self.unit(acc, cx);
                    }
                }
                Esc::None => {
                    let rest = data.get(i..).unwrap_or(&[]);
                    match memchr2(b'"', b'\\', rest) {
                        None => {
                            self.emit(rest, cx);
                            return data.len();
                        }
                        Some(j) => {
                            let piece = rest.get(..j).unwrap_or(&[]);
                            if self.state == State::InValue
                                && rest.get(j) == Some(&b'"')
                                && self.high.is_none()
                            {
                                // The rest of the value, in one piece.
                                self.value.feed_end(piece, cx);
                            } else {
                                self.emit(piece, cx);
                            }
                            i += j + 1;
                            if rest.get(j) == Some(&b'\\') {
                                self.esc = Esc::Backslash;
                            } else {
                                self.close_string(cx);
                                return i;
                            }
                        }
                    }
                }
            }
        }
        i
    }

    /// A decoded UTF-16 code unit from `\uXXXX`; pairs surrogates.
    fn unit<S: TextSink>(&mut self, u: u16, cx: &mut Cx<S>) {
        let c = match (self.high.take(), u) {
            (Some(h), 0xdc00..=0xdfff) => {
                let cp = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                char::from_u32(cp).unwrap_or('\u{fffd}')
            }
            (high, 0xd800..=0xdbff) => {
                if high.is_some() {
                    self.emit_decoded("\u{fffd}".as_bytes(), cx);
                }
                self.high = Some(u);
                return;
            }
            (high, _) => {
                if high.is_some() {
                    self.emit_decoded("\u{fffd}".as_bytes(), cx);
                }
                char::from_u32(u32::from(u)).unwrap_or('\u{fffd}')
            }
        };
        let mut buf = [0u8; 4];
        self.emit_decoded(c.encode_utf8(&mut buf).as_bytes(), cx);
    }

    /// String content other than a `\u` escape: a pending lone high surrogate
    /// becomes U+FFFD first.
    fn emit<S: TextSink>(&mut self, bytes: &[u8], cx: &mut Cx<S>) {
        if bytes.is_empty() {
            return;
        }
        if self.high.take().is_some() {
            self.emit_decoded("\u{fffd}".as_bytes(), cx);
        }
        self.emit_decoded(bytes, cx);
    }

    fn emit_decoded<S: TextSink>(&mut self, bytes: &[u8], cx: &mut Cx<S>) {
        if self.state == State::InKey {
            let room = MAX_KEY.saturating_sub(self.key.len());
            self.key
                .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(&[]));
        } else {
            self.value.feed(bytes, cx);
        }
    }

    fn close_string<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.high.take().is_some() {
            self.emit_decoded("\u{fffd}".as_bytes(), cx);
        }
        if self.state == State::InKey {
            cx.sink.field(&self.key);
            self.field_live = true;
            if let Some(f) = self.frames.get_mut(self.depth_used.wrapping_sub(1)) {
                // `self.key` is cleared before the next key: swap, not copy.
                std::mem::swap(&mut f.key, &mut self.key);
            }
            self.state = State::Colon;
        } else {
            self.value.finish(cx);
            cx.sink.boundary();
            self.field_live = false;
            self.value_done();
        }
    }

    /// Gives up on JSON: what was inside an open string is still delivered.
    fn fail<S: TextSink>(&mut self, cx: &mut Cx<S>, what: &str) {
        match self.state {
            State::InKey => {
                cx.sink.text(&self.key);
                cx.sink.boundary();
            }
            State::InValue => {
                self.value.finish(cx);
                cx.sink.boundary();
            }
            State::Number => cx.sink.boundary(),
            _ => {}
        }
        if self.top {
            let at = self.offset;
            cx.incomplete(
                IncompleteReason::Malformed,
                format!("{what} near byte {at}"),
            );
        }
        self.state = State::Raw;
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        match self.state {
            State::Raw => cx.sink.boundary(),
            State::Number => self.end_scalar(cx),
            State::Value | State::Literal if self.depth_used == 0 => {}
            _ => self.fail(cx, "truncated JSON"),
        }
    }
}
/// Base64 characters needed before deciding that a value is base64: shorter
/// runs are tokens and identifiers, and stay text.
const B64_PROBE: usize = 64;
/// Room for a `data:<mime>;base64,` prefix (Office mime types are long).
const HEAD_CAP: usize = 128;

enum Mode {
    Deciding,
    /// Inside the `data:…,` prefix of a data URL.
    DataUrl,
    /// After a leading `<`: markup if a tag's name (or `!`, `?`) follows.
    Angle,
    Text,
    Nested(Inner),
}

/// What a value opened: this old JSON decoder, or any other node (base64).
enum Inner {
    Json(Box<JsonNode>),
    Other(Box<Node>),
}

impl Inner {
    fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        match self {
            Inner::Json(j) => {
                if !cx.stopped && !data.is_empty() {
                    j.feed(data, cx)
                }
            }
            Inner::Other(n) => n.feed(data, cx),
        }
    }

    fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        match self {
            Inner::Json(j) => {
                if !cx.stopped {
                    j.finish(cx)
                }
            }
            Inner::Other(n) => n.finish(cx),
        }
    }
}

pub(crate) struct ValueNode {
    depth: u32,
    mode: Mode,
    head: [u8; HEAD_CAP],
    len: usize,
    spare_json: Option<Box<JsonNode>>,
}

impl ValueNode {
    pub fn new(depth: u32) -> Self {
        ValueNode {
            depth,
            mode: Mode::Deciding,
            head: [0; HEAD_CAP],
            len: 0,
            spare_json: None,
        }
    }

    pub fn reset(&mut self) {
        self.mode = Mode::Deciding;
        self.len = 0;
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        loop {
            match &mut self.mode {
                Mode::Text => {
                    cx.sink.text(data);
                    return;
                }
                Mode::Nested(node) => {
                    node.feed(data, cx);
                    return;
                }
                Mode::DataUrl => {
                    if data.is_empty() {
                        return;
                    }
                    data = self.data_url(data, cx);
                    continue;
                }
                Mode::Angle => {
                    let Some(&c) = data.first() else {
                        return;
                    };
                    if !(c.is_ascii_alphabetic() || c == b'!' || c == b'?')
                        || self.depth > cx.limits.max_depth
                    {
                        self.become_text(cx);
                        continue;
                    }
                    let name = if c == b'?' { "xml" } else { "html" };
                    cx.format(name);
                    let mut node = Box::new(Node::Markup(Box::new(
                        crate::inspect::decode::markup::MarkupNode::new(name == "html"),
                    )));
                    node.feed(self.head.get(..self.len).unwrap_or(&[]), cx);
                    self.mode = Mode::Nested(Inner::Other(node));
                    continue;
                }
                Mode::Deciding => {}
            }
            let Some(&c) = data.first() else {
                return;
            };
            if self.len == 0 && self.plain_text_start(data) {
                // Nothing to copy: the first bytes already rule out base64,
                // nested JSON and a data URL.
                self.mode = Mode::Text;
                continue;
            }
            if c == b':'
                && self
                    .head
                    .get(..self.len)
                    .is_some_and(|h| h.eq_ignore_ascii_case(b"data"))
            {
                self.push(c);
                self.mode = Mode::DataUrl;
                data = data.get(1..).unwrap_or(&[]);
                continue;
            }
            if self.len == 0 && (c == b'{' || c == b'[') {
                self.mode = self.nested_json(cx);
                continue;
            }
            if self.len == 0 && c == b'<' {
                self.push(c);
                self.mode = Mode::Angle;
                data = data.get(1..).unwrap_or(&[]);
                continue;
            }
            if !is_b64(c) {
                self.become_text(cx);
                continue;
            }
            // Copy the whole base64 run at once, up to the probe size.
            let run = data
                .iter()
                .take(B64_PROBE - self.len)
                .take_while(|c| is_b64(**c))
                .count();
            if let (Some(dst), Some(src)) =
                (self.head.get_mut(self.len..self.len + run), data.get(..run))
            {
                dst.copy_from_slice(src);
            }
            self.len += run;
            data = data.get(run..).unwrap_or(&[]);
            if self.len == B64_PROBE {
                self.probe(cx);
            }
        }
    }

    /// `data` is all that is left of the value (`finish` comes next). A short
    /// value with nothing before it is text unless it opens nested JSON or a
    /// data URL: the base64 probe needs more bytes than it has.
    pub fn feed_end<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        if self.len == 0
            && matches!(self.mode, Mode::Deciding)
            && data.len() < B64_PROBE
            && !matches!(data.first(), Some(b'{' | b'['))
            && !(data.first() == Some(&b'<')
                && data
                    .get(1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'!' || *c == b'?'))
            && !data
                .get(..5)
                .is_some_and(|h| h.eq_ignore_ascii_case(b"data:"))
        {
            cx.sink.text(data);
            self.mode = Mode::Text;
            return;
        }
        self.feed(data, cx);
    }

    /// Whether a value starting with `data` is text whatever follows: its
    /// first non-base64 byte comes before the probe size and is not the `:` of
    /// a data URL (nor a leading `{` or `[`, which open nested JSON).
    fn plain_text_start(&self, data: &[u8]) -> bool {
        let run = data
            .iter()
            .take(B64_PROBE)
            .take_while(|c| is_b64(**c))
            .count();
        match data.get(run) {
            Some(&c) if run < B64_PROBE => {
                c != b':' && !(run == 0 && (c == b'{' || c == b'[' || c == b'<'))
            }
            _ => false,
        }
    }

    fn push(&mut self, c: u8) {
        if let Some(slot) = self.head.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }

    /// One byte of a `data:` URL's prefix: `;base64,` opens the payload.
    fn data_url<'d, S: TextSink>(&mut self, data: &'d [u8], cx: &mut Cx<S>) -> &'d [u8] {
        let Some((&c, rest)) = data.split_first() else {
            return data;
        };
        let prefix = self.head.get(..self.len).unwrap_or(&[]);
        if c == b','
            && memchr::memmem::find(prefix, b";base64").is_some()
            && self.depth <= cx.limits.max_depth
        {
            cx.format("base64");
            self.mode = Mode::Nested(Inner::Other(Box::new(Node::Base64(Box::new(
                Base64Node::new(self.depth),
            )))));
            return rest;
        }
        if c != b','
            && self.len < HEAD_CAP
            && (c.is_ascii_alphanumeric() || b"/.-+;=_".contains(&c))
        {
            self.push(c);
            return rest;
        }
        self.become_text(cx);
        data
    }

    fn nested_json<S: TextSink>(&mut self, cx: &mut Cx<S>) -> Mode {
        if self.depth > cx.limits.max_depth {
            return Mode::Text;
        }
        cx.format("json");
        if let Some(node) = self.spare_json.take() {
            return Mode::Nested(Inner::Json(node));
        }
        Mode::Nested(Inner::Json(Box::new(JsonNode::new(self.depth, false))))
    }

    fn become_text<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        cx.sink.text(self.head.get(..self.len).unwrap_or(&[]));
        self.mode = Mode::Text;
    }

    /// Decodes the probe: a document, media or readable text means base64.
    fn probe<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let mut decoded = [0u8; B64_PROBE];
        let mut b64 = Base64Node::decoder();
        let n = b64.decode_into(self.head.get(..self.len).unwrap_or(&[]), &mut decoded);
        let out = decoded.get(..n).unwrap_or(&[]);
        let known = media_magic(out).is_some()
            || !matches!(
                sniff(out, &ContentHint::default()),
                Kind::Text | Kind::Json | Kind::Form
            )
            || looks_like_text(out);
        if !known || self.depth > cx.limits.max_depth {
            self.become_text(cx);
            return;
        }
        cx.format("base64");
        let mut node = Inner::Other(Box::new(Node::Base64(Box::new(Base64Node::new(
            self.depth,
        )))));
        node.feed(self.head.get(..self.len).unwrap_or(&[]), cx);
        self.mode = Mode::Nested(node);
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        match &mut self.mode {
            Mode::Deciding | Mode::DataUrl | Mode::Angle => self.become_text(cx),
            Mode::Text => {}
            Mode::Nested(node) => node.finish(cx),
        }
        // A parsed JSON-in-a-string is kept for the next one: robot messages
        // carry one per body, and allocating each anew showed in profiles.
        if let Mode::Nested(Inner::Json(mut json)) =
            std::mem::replace(&mut self.mode, Mode::Deciding)
        {
            json.reset();
            self.spare_json = Some(json);
        }
        self.len = 0;
    }
}

/// Valid UTF-8 (a character cut at the end is fine) without control characters.
fn looks_like_text(b: &[u8]) -> bool {
    let valid = match std::str::from_utf8(b) {
        Ok(_) => b.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    b.get(..valid)
        .unwrap_or(&[])
        .iter()
        .all(|&c| c >= 0x20 || c == b'\n' || c == b'\r' || c == b'\t')
}
