//! One string value (a JSON string, a form value): plain text most of the time,
//! but JSON inside a string (DingTalk's `msgParam`, `formDataJson`) is parsed
//! again, HTML (a mail's body, a rich-text field) is read as an HTML page is,
//! its tables by column, and a long base64 run that decodes to a document or
//! text is decoded and scanned. The choice is made from the value's first
//! bytes, so it does not depend on how the value was split.

use super::base64::{is_b64, Base64Node};
use super::cx::Cx;
use super::json::JsonNode;
use super::markup::MarkupNode;
use super::sniff::{media_magic, sniff, ContentHint, Kind};
use super::Node;
use crate::inspect::sink::TextSink;

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
    Nested(Box<Node>),
}

pub(crate) struct ValueNode {
    depth: u32,
    mode: Mode,
    head: [u8; HEAD_CAP],
    len: usize,
    spare_json: Option<Box<Node>>,
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
                    self.mode = self.markup(c, cx);
                    continue;
                }
                Mode::Deciding => {}
            }
            let Some(&c) = data.first() else {
                return;
            };
            if self.len == 0 && plain_text_start(data) {
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
        if self.len == 0 && matches!(self.mode, Mode::Deciding) && short_plain(data) {
            cx.sink.text(data);
            self.mode = Mode::Text;
            return;
        }
        self.feed(data, cx);
    }

    /// Whether a whole value, fed to a fresh node, would reach the sink as
    /// this one text call and nothing else: the JSON decoder then skips the
    /// node (most values in chat JSON are short ids and words).
    #[inline(always)]
    pub fn is_plain(data: &[u8]) -> bool {
        short_plain(data) || plain_text_start(data)
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
            self.mode = Mode::Nested(Box::new(Node::Base64(Box::new(Base64Node::new(
                self.depth,
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
            return Mode::Nested(node);
        }
        Mode::Nested(Box::new(Node::Json(Box::new(JsonNode::new(
            self.depth, false,
        )))))
    }

    /// The byte `c` after a leading `<` (held in `head`): a tag's name, a
    /// comment or doctype (`!`) or an XML declaration (`?`) opens markup, and
    /// the `<` goes to it; anything else (`<3`, `<= 5`) is text.
    fn markup<S: TextSink>(&mut self, c: u8, cx: &mut Cx<S>) -> Mode {
        if !tag_start(c) || self.depth > cx.limits.max_depth {
            self.become_text(cx);
            return Mode::Text;
        }
        let name = if c == b'?' { "xml" } else { "html" };
        cx.format(name);
        let mut node = Box::new(Node::Markup(Box::new(MarkupNode::new(name == "html"))));
        node.feed(self.head.get(..self.len).unwrap_or(&[]), cx);
        Mode::Nested(node)
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
        let mut node = Box::new(Node::Base64(Box::new(Base64Node::new(self.depth))));
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
        if let Mode::Nested(mut node) = std::mem::replace(&mut self.mode, Mode::Deciding) {
            if let Node::Json(json) = node.as_mut() {
                json.reset();
                self.spare_json = Some(node);
            }
        }
        self.len = 0;
    }
}

/// A whole value too short for the base64 probe that opens neither nested
/// JSON, markup nor a data URL: text.
#[inline(always)]
fn short_plain(data: &[u8]) -> bool {
    data.len() < B64_PROBE
        && match data.first() {
            // One table look for the usual first byte, not a chain of tests.
            Some(&c) if !MAY_OPEN[usize::from(c)] => true,
            Some(b'{' | b'[') => false,
            Some(b'<') => !data.get(1).copied().is_some_and(tag_start),
            Some(_) => !data
                .get(..5)
                .is_some_and(|h| h.eq_ignore_ascii_case(b"data:")),
            None => true,
        }
}

/// First bytes after which a value may not be plain text: `{`, `[`, `<`,
/// and the `d` of `data:`.
static MAY_OPEN: [bool; 256] = {
    let mut t = [false; 256];
    t[b'{' as usize] = true;
    t[b'[' as usize] = true;
    t[b'<' as usize] = true;
    t[b'd' as usize] = true;
    t[b'D' as usize] = true;
    t
};

/// Whether a value starting with `data` is text whatever follows: its
/// first non-base64 byte comes before the probe size and is not the `:` of
/// a data URL (nor a leading `{` or `[`, which open nested JSON).
#[inline(always)]
fn plain_text_start(data: &[u8]) -> bool {
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

/// Whether the byte after a value's leading `<` begins a tag: a name, `!`
/// (a comment, a doctype) or `?` (an XML declaration).
fn tag_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'!' || c == b'?'
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
