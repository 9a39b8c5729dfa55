//! JSON, streaming: keys become `field`, string and number values become text
//! (after `\uXXXX` and the other escapes are undone), and a string value that is
//! itself JSON or base64 is opened again through a `ValueNode`.
//!
//! The parser is a byte-level state machine with a bounded bracket stack. The
//! ends of strings come from a 64-byte block mask of `"` and `\` that the
//! strings of a chunk share (`find`). A key or value that ends in the chunk
//! it starts in, without escapes, is handed on as a slice of the input; only
//! keys that span chunks or hold escapes are copied (into `key`), and so are
//! escaped values (decoded into `buf` and passed on once per chunk, so JSON in
//! a string reaches its parser in long pieces, not between every `\"`).
//! Input that is not JSON falls back to plain text from the first bad byte on,
//! and the top-level document reports `malformed`.

use super::cx::Cx;
use super::find::{number_run, QuoteFinder};
use super::value::ValueNode;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// What an escape decodes to when all of it is in `rest` (the bytes after the
/// backslash) and it needs no state: the bytes (in 4, with their count) and
/// how many bytes of `rest` it used. Surrogates and escapes cut by the chunk
/// end go the slow way, through `Esc`.
#[inline(always)]
fn quick_escape(rest: &[u8]) -> Option<(([u8; 4], usize), usize)> {
    let one = |b: u8| Some((([b, 0, 0, 0], 1), 1));
    match *rest.first()? {
        b'n' => one(b'\n'),
        b't' => one(b'\t'),
        b'r' => one(b'\r'),
        b'b' | b'f' => one(b' '),
        b'"' => one(b'"'),
        b'/' => one(b'/'),
        b'u' => {
            let hex = rest.get(1..5)?;
            let mut u = 0u32;
            for &h in hex {
                u = u << 4 | (h as char).to_digit(16)?;
            }
            let c = char::from_u32(u)?; // None for a surrogate: slow way.
            let mut out = [0u8; 4];
            let len = c.encode_utf8(&mut out).len();
            Some(((out, len), 5))
        }
        _ => one(b'\\'),
    }
}

/// After a key, anything but an immediate colon (whitespace, an error): the
/// general loop reads it. Out of line so that the compact case is a
/// predicted branch.
#[cold]
#[inline(never)]
fn spaced_colon(i: usize) -> usize {
    i
}

/// Keys longer than this are cut: a key is context, not content.
const MAX_KEY: usize = 256;
/// Decoded bytes of an escaped string value held before they are passed on.
const BUF_CAP: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Expecting a value.
    Value,
    /// Just after `[`: a value or `]`.
    ValueOrEnd,
    /// After `,` in an object: a key.
    Key,
    /// Just after `{`: a key or `}`.
    KeyOrEnd,
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
    /// For an array, the key that named it: each element is delivered under
    /// that name. Unused for an object (its key is `JsonNode`'s latest key).
    key: Vec<u8>,
}

pub(crate) struct JsonNode {
    top: bool,
    state: State,
    frames: Vec<Frame>,
    depth_used: usize,
    /// Whether the innermost open bracket is `{`.
    in_object: bool,
    /// The latest key, when it was copied: it spanned chunks or had escapes,
    /// or a chunk ended after it. An array right after it takes its name.
    key: Vec<u8>,
    /// The latest key as a range of the chunk being fed, when it was not
    /// copied. Only valid during one `feed`: copied into `key` at its end.
    key_at: Option<(usize, usize)>,
    esc: Esc,
    high: Option<u16>,
    value: ValueNode,
    /// Decoded bytes of the current string value, not yet passed on.
    buf: Vec<u8>,
    field_live: bool,
    offset: u64,
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
            in_object: false,
            key: Vec::new(),
            key_at: None,
            esc: Esc::None,
            high: None,
            value: ValueNode::new(depth + 1),
            buf: Vec::new(),
            field_live: false,
            offset: 0,
        }
    }

    /// Ready for a new document, keeping its allocations.
    pub fn reset(&mut self) {
        self.state = State::Value;
        self.depth_used = 0;
        self.in_object = false;
        self.key.clear();
        self.key_at = None;
        self.esc = Esc::None;
        self.high = None;
        self.value.reset();
        self.buf.clear();
        self.field_live = false;
        self.offset = 0;
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        let mut q = QuoteFinder::quotes();
        let mut i = 0;
        // The state lives in a register here: helpers return the next one, and
        // only the slow paths (escapes, strings across chunks, errors) go
        // through `self.state`.
        let mut st = self.state;
        while let Some(&c) = data.get(i) {
            match st {
                State::Colon => {
                    if c == b':' {
                        i += 1;
                        st = State::Value;
                        continue;
                    }
                }
                State::AfterValue => match c {
                    b',' => {
                        (i, st) = self.run(data, i, st, &mut q, cx);
                        continue;
                    }
                    // `run` reads these only where they close what is open.
                    b'}' if self.in_object => {
                        (i, st) = self.run(data, i, st, &mut q, cx);
                        continue;
                    }
                    b']' if !self.in_object => {
                        (i, st) = self.run(data, i, st, &mut q, cx);
                        continue;
                    }
                    _ => {}
                },
                State::Key | State::KeyOrEnd => match c {
                    b'"' => {
                        (i, st) = self.run(data, i, st, &mut q, cx);
                        continue;
                    }
                    b'}' if st == State::KeyOrEnd => {
                        i += 1;
                        st = self.pop();
                        continue;
                    }
                    _ => {}
                },
                State::Value | State::ValueOrEnd => match c {
                    b'"' => {
                        self.scalar_field(cx);
                        (i, st) = self.value_string(data, i + 1, &mut q, cx);
                        (i, st) = self.run(data, i, st, &mut q, cx);
                        continue;
                    }
                    b'-' | b'0'..=b'9' => {
                        self.scalar_field(cx);
                        (i, st) = self.number(data, i, cx);
                        (i, st) = self.run(data, i, st, &mut q, cx);
                        continue;
                    }
                    b'{' => {
                        st = self.push(true, data, cx);
                        (i, st) = self.run(data, i + 1, st, &mut q, cx);
                        continue;
                    }
                    b'[' => {
                        i += 1;
                        st = self.push(false, data, cx);
                        continue;
                    }
                    b't' | b'f' | b'n' => {
                        (i, st) = self.literal(data, i + 1);
                        (i, st) = self.run(data, i, st, &mut q, cx);
                        continue;
                    }
                    b']' if st == State::ValueOrEnd => {
                        st = self.pop();
                        (i, st) = self.run(data, i + 1, st, &mut q, cx);
                        continue;
                    }
                    _ => {}
                },
                State::InKey | State::InValue => {
                    self.state = st;
                    i = self.string(data, i, &mut q, cx);
                    st = self.state;
                    continue;
                }
                State::Number => {
                    (i, st) = self.number(data, i, cx);
                    continue;
                }
                State::Literal => {
                    (i, st) = self.literal(data, i);
                    continue;
                }
                State::Raw => {
                    cx.sink.text(data.get(i..).unwrap_or(&[]));
                    break;
                }
            }
            // Between tokens, and not what the state expects.
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c') {
                i += 1;
                continue;
            }
            self.state = st;
            self.fail(cx, "invalid JSON", i);
            st = State::Raw;
            cx.sink.text(data.get(i..).unwrap_or(&[]));
            break;
        }
        self.state = st;
        // What must outlive this chunk is copied now, once.
        if let Some((start, end)) = self.key_at.take() {
            self.key.clear();
            self.key
                .extend_from_slice(data.get(start..end).unwrap_or(&[]));
        }
        self.flush(cx);
        self.offset += data.len() as u64;
    }

    /// In an array, a scalar is delivered under the array's name.
    #[inline(always)]
    fn scalar_field<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.field_live || self.in_object {
            return;
        }
        if let Some(f) = self.frames.get(self.depth_used.wrapping_sub(1)) {
            if !f.key.is_empty() {
                cx.sink.field(&f.key);
                self.field_live = true;
            }
        }
    }

    /// A number from `data[i]` on (its first byte, or where the previous chunk
    /// left it); returns where it stopped and the next state.
    #[inline(always)]
    fn number<S: TextSink>(&mut self, data: &[u8], i: usize, cx: &mut Cx<S>) -> (usize, State) {
        let rest = data.get(i..).unwrap_or(&[]);
        let run = number_run(rest);
        if run > 0 {
            cx.sink.text_in(data, i, i + run);
        }
        if run < rest.len() {
            (i + run, self.end_scalar(cx))
        } else {
            (data.len(), State::Number)
        }
    }

    /// The rest of `true`, `false` or `null` (any lowercase run: not checked).
    #[inline(always)]
    fn literal(&mut self, data: &[u8], i: usize) -> (usize, State) {
        let rest = data.get(i..).unwrap_or(&[]);
        let run = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
        if run < rest.len() {
            (i + run, self.value_done())
        } else {
            (data.len(), State::Literal)
        }
    }

    #[inline(always)]
    fn push<S: TextSink>(&mut self, object: bool, data: &[u8], cx: &mut Cx<S>) -> State {
        if self.depth_used >= cx.limits.max_json_nesting as usize {
            return self.too_deep(cx);
        }
        if object {
            // An object's frame keeps no key: its latest key is `key`/`key_at`.
            match self.frames.get_mut(self.depth_used) {
                Some(f) => f.object = true,
                None => self.frames.push(Frame {
                    object: true,
                    key: Vec::new(),
                }),
            }
        } else {
            self.push_array(data);
        }
        self.depth_used += 1;
        self.in_object = object;
        if object {
            State::KeyOrEnd
        } else {
            State::ValueOrEnd
        }
    }

    #[cold]
    fn too_deep<S: TextSink>(&mut self, cx: &mut Cx<S>) -> State {
        cx.incomplete(
            IncompleteReason::DepthLimit,
            format!("JSON nested deeper than {}", cx.limits.max_json_nesting),
        );
        State::Raw
    }

    /// An array's frame: named by the key before it, or by the array it is in.
    fn push_array(&mut self, data: &[u8]) {
        let mut key = match self.frames.get_mut(self.depth_used) {
            Some(f) => std::mem::take(&mut f.key),
            None => Vec::new(),
        };
        key.clear();
        let name = if self.in_object {
            match self.key_at {
                Some((start, end)) => data.get(start..end).unwrap_or(&[]),
                None => &self.key,
            }
        } else {
            self.frames
                .get(self.depth_used.wrapping_sub(1))
                .map_or(&[][..], |f| &f.key)
        };
        key.extend_from_slice(name);
        let frame = Frame { object: false, key };
        match self.frames.get_mut(self.depth_used) {
            Some(slot) => *slot = frame,
            None => self.frames.push(frame),
        }
    }

    /// Closes the innermost bracket (the caller checked that it matches).
    #[inline(always)]
    fn pop(&mut self) -> State {
        self.depth_used = self.depth_used.saturating_sub(1);
        self.in_object = self
            .frames
            .get(self.depth_used.wrapping_sub(1))
            .is_some_and(|f| f.object);
        self.field_live = false;
        self.value_done()
    }

    #[inline(always)]
    fn value_done(&self) -> State {
        if self.depth_used == 0 {
            State::Value
        } else {
            State::AfterValue
        }
    }

    #[inline(always)]
    fn end_scalar<S: TextSink>(&mut self, cx: &mut Cx<S>) -> State {
        cx.sink.boundary();
        self.field_live = false;
        self.value_done()
    }

    /// Compact JSON objects, from where `feed`'s loop stands (`st`): commas and
    /// closing brackets after a value, then `"key":` and its value if that is
    /// a string that ends in this chunk without escapes, a number or an
    /// object, and round again. Stops at anything else (whitespace, arrays,
    /// literals, escapes, a string that runs past the chunk, an error) and
    /// leaves it to `feed`'s loop, so that loop runs about once per document
    /// instead of once per token. Inside an object what follows a value is
    /// known, so the loop goes there directly instead of through a state.
    #[inline(always)]
    fn run<S: TextSink>(
        &mut self,
        data: &[u8],
        mut i: usize,
        mut st: State,
        q: &mut QuoteFinder,
        cx: &mut Cx<S>,
    ) -> (usize, State) {
        let mut after_value = match st {
            State::AfterValue => true,
            State::Key | State::KeyOrEnd => false,
            _ => return (i, st),
        };
        loop {
            if after_value {
                loop {
                    match data.get(i) {
                        Some(b',') if self.in_object => {
                            st = State::Key;
                            i += 1;
                            break;
                        }
                        Some(b',') => {
                            // An array of objects: the next one straight away.
                            if data.get(i + 1) != Some(&b'{') {
                                return (i + 1, State::Value);
                            }
                            i += 2;
                            st = self.push(true, data, cx);
                            if st == State::Raw {
                                return (i, st);
                            }
                            break;
                        }
                        Some(b'}') if self.in_object => {}
                        Some(b']') if !self.in_object => {}
                        _ => return (i, State::AfterValue),
                    }
                    i += 1;
                    let next = self.pop();
                    if next == State::AfterValue {
                        continue;
                    }
                    // A document ended; one object per line (NDJSON) goes on
                    // with the next line's.
                    if data.get(i) != Some(&b'\n') || data.get(i + 1) != Some(&b'{') {
                        return (i, next);
                    }
                    i += 2;
                    st = self.push(true, data, cx);
                    if st == State::Raw {
                        return (i, st);
                    }
                    break;
                }
            }
            // At a key (`st` is `Key` or `KeyOrEnd`).
            if data.get(i) != Some(&b'"') {
                return (i, st);
            }
            let (next_i, next, key_at) = self.key_string(data, i + 1, q, cx);
            if next != State::Value {
                self.key_at = key_at;
                return (next_i, next);
            }
            i = next_i;
            // Its value. In an object a value needs no `scalar_field`, and
            // after it comes `AfterValue`.
            match data.get(i) {
                Some(b'"') => match self.whole_value(data, i + 1, q, cx) {
                    Some(end) => i = end,
                    None => return self.value_string(data, i + 1, q, cx),
                },
                Some(b'-' | b'0'..=b'9') => {
                    let run = number_run(data.get(i..).unwrap_or(&[]));
                    cx.sink.text_in(data, i, i + run);
                    if i + run >= data.len() {
                        return (data.len(), State::Number);
                    }
                    i += run;
                }
                Some(b'{') => {
                    i += 1;
                    let next = self.push(true, data, cx);
                    if next == State::Raw {
                        return (i, next);
                    }
                    st = State::KeyOrEnd;
                    after_value = false;
                    continue;
                }
                _ => {
                    self.key_at = key_at;
                    return (i, State::Value);
                }
            }
            cx.sink.boundary();
            self.field_live = false;
            after_value = true;
        }
    }

    /// A key from `data[i]` on (just past its `"`); returns where it stopped,
    /// the next state, and where the key is in `data` if it was not copied.
    /// A key that ends here without escapes is passed on as a slice. The
    /// caller records the range in `key_at` only if the key's value is left
    /// to `feed`'s loop: it is needed only when that value is an array.
    #[inline(always)]
    fn key_string<S: TextSink>(
        &mut self,
        data: &[u8],
        i: usize,
        q: &mut QuoteFinder,
        cx: &mut Cx<S>,
    ) -> (usize, State, Option<(usize, usize)>) {
        if let Some(j) = q.next(data, i) {
            if data.get(j) == Some(&b'"') {
                let end = j.min(i + MAX_KEY);
                cx.sink.field(data.get(i..end).unwrap_or(&[]));
                self.field_live = true;
                let at = Some((i, end));
                // Compact JSON: the colon comes right after. A branch, not a
                // select: where the next token starts must not wait on this load.
                if data.get(j + 1) != Some(&b':') {
                    return (spaced_colon(j + 1), State::Colon, at);
                }
                return (j + 2, State::Value, at);
            }
        }
        self.key.clear();
        self.state = State::InKey;
        let i = self.string(data, i, q, cx);
        (i, self.state, None)
    }

    /// A string value from `data[i]` on (just past its `"`); returns where it
    /// stopped and the next state. A plain value that ends here goes to the
    /// sink as it is.
    #[inline(always)]
    fn value_string<S: TextSink>(
        &mut self,
        data: &[u8],
        i: usize,
        q: &mut QuoteFinder,
        cx: &mut Cx<S>,
    ) -> (usize, State) {
        if let Some(end) = self.whole_value(data, i, q, cx) {
            return (end, self.end_scalar(cx));
        }
        self.value.reset();
        self.state = State::InValue;
        let i = self.string(data, i, q, cx);
        (i, self.state)
    }

    /// A string value from `data[i]` on (just past its `"`) that ends in this
    /// chunk without escapes: delivered (the boundary is the caller's), and
    /// where it ended returned. `None`, with nothing done, for any other.
    #[inline(always)]
    fn whole_value<S: TextSink>(
        &mut self,
        data: &[u8],
        i: usize,
        q: &mut QuoteFinder,
        cx: &mut Cx<S>,
    ) -> Option<usize> {
        let j = q.next(data, i)?;
        if data.get(j) != Some(&b'"') {
            return None;
        }
        let piece = data.get(i..j).unwrap_or(&[]);
        if ValueNode::is_plain(piece) {
            // What `value` would do, without touching it.
            cx.sink.text_in(data, i, j);
        } else {
            self.value.reset();
            self.value.feed_end(piece, cx);
            self.value.finish(cx);
        }
        Some(j + 1)
    }

    /// Inside a key or string value from `data[i]`; returns where it stopped.
    fn string<S: TextSink>(
        &mut self,
        data: &[u8],
        mut i: usize,
        q: &mut QuoteFinder,
        cx: &mut Cx<S>,
    ) -> usize {
        loop {
            match self.esc {
                Esc::None => {
                    let Some(j) = q.next(data, i) else {
                        let rest = data.get(i..).unwrap_or(&[]);
                        if self.state == State::InValue
                            && self.buf.is_empty()
                            && self.high.is_none()
                        {
                            // A long string going on in the next chunk: not copied.
                            self.value.feed(rest, cx);
                        } else {
                            self.emit(rest, cx);
                        }
                        return data.len();
                    };
                    let start = i;
                    let piece = data.get(start..j).unwrap_or(&[]);
                    i = j + 1;
                    let plain_value = self.state == State::InValue && self.high.is_none();
                    if data.get(j) == Some(&b'\\') {
                        if plain_value {
                            // Escaped text (JSON in a string): the escape is
                            // decoded here when its letters are all in this
                            // chunk, without going through `esc`.
                            if let Some((decoded, n)) = quick_escape(data.get(i..).unwrap_or(&[])) {
                                self.push_value(data, start, j, cx);
                                self.push_value_bytes(decoded, cx);
                                i += n;
                                continue;
                            }
                        }
                        self.emit(piece, cx);
                        self.esc = Esc::Backslash;
                        continue;
                    }
                    if plain_value && self.buf.is_empty() {
                        // The rest of the value, in one piece.
                        self.value.feed_end(piece, cx);
                    } else if plain_value {
                        self.push_value(data, start, j, cx);
                    } else {
                        self.emit(piece, cx);
                    }
                    self.close_string(cx);
                    return i;
                }
                Esc::Backslash => {
                    let Some(&c) = data.get(i) else { return i };
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
                    let Some(&c) = data.get(i) else { return i };
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
            }
        }
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

    /// Decoded string content: a key collects it (up to `MAX_KEY`), a value
    /// holds it in `buf` until the string or the chunk ends.
    fn emit_decoded<S: TextSink>(&mut self, bytes: &[u8], cx: &mut Cx<S>) {
        if self.state == State::InKey {
            let room = MAX_KEY.saturating_sub(self.key.len());
            self.key
                .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or(&[]));
            return;
        }
        if self.buf.len() + bytes.len() > BUF_CAP {
            self.flush(cx);
            if bytes.len() > BUF_CAP {
                self.value.feed(bytes, cx);
                return;
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Appends `data[from..to]` to the current value's decoded bytes. Short
    /// pieces (between the `\"` of JSON in a string) are copied as a fixed 16
    /// bytes and cut back: a `memcpy` call per piece cost more than the copy.
    #[inline(always)]
    fn push_value<S: TextSink>(&mut self, data: &[u8], from: usize, to: usize, cx: &mut Cx<S>) {
        let len = to.saturating_sub(from);
        if self.buf.len() + len + 16 > BUF_CAP {
            self.emit_decoded(data.get(from..to).unwrap_or(&[]), cx);
            return;
        }
        if len <= 16 {
            if let Some(block) = data.get(from..from + 16) {
                let keep = self.buf.len() + len;
                self.buf.extend_from_slice(block);
                self.buf.truncate(keep);
                return;
            }
        }
        self.buf
            .extend_from_slice(data.get(from..to).unwrap_or(&[]));
    }

    /// Appends a decoded escape (1 to 4 bytes, in a 4-byte array).
    #[inline(always)]
    fn push_value_bytes<S: TextSink>(&mut self, (bytes, len): ([u8; 4], usize), cx: &mut Cx<S>) {
        if self.buf.len() + 4 > BUF_CAP {
            self.emit_decoded(bytes.get(..len).unwrap_or(&[]), cx);
            return;
        }
        let keep = self.buf.len() + len;
        self.buf.extend_from_slice(&bytes);
        self.buf.truncate(keep);
    }

    /// Passes on the decoded bytes held for the current value.
    fn flush<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if !self.buf.is_empty() {
            self.value.feed(&self.buf, cx);
            self.buf.clear();
        }
    }

    fn close_string<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.high.take().is_some() {
            self.emit_decoded("\u{fffd}".as_bytes(), cx);
        }
        if self.state == State::InKey {
            cx.sink.field(&self.key);
            self.field_live = true;
            self.state = State::Colon;
        } else {
            if !self.buf.is_empty() {
                self.value.feed_end(&self.buf, cx);
                self.buf.clear();
            }
            self.value.finish(cx);
            self.state = self.end_scalar(cx);
        }
    }

    /// Gives up on JSON at byte `at` of the current chunk: what was inside an
    /// open string is still delivered.
    fn fail<S: TextSink>(&mut self, cx: &mut Cx<S>, what: &str, at: usize) {
        match self.state {
            State::InKey => {
                cx.sink.text(&self.key);
                cx.sink.boundary();
            }
            State::InValue => {
                self.flush(cx);
                self.value.finish(cx);
                cx.sink.boundary();
            }
            State::Number => cx.sink.boundary(),
            _ => {}
        }
        if self.top {
            let at = self.offset + at as u64;
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
            State::Number => self.state = self.end_scalar(cx),
            State::Value | State::Literal if self.depth_used == 0 => {}
            _ => self.fail(cx, "truncated JSON", 0),
        }
    }
}
