//! E-mail messages (`.eml`, `message/rfc822`): the people and subject in the
//! headers (RFC 2047 encoded words decoded, in any charset), then the body by
//! its own Content-Type and transfer encoding: multipart with every part and
//! attachment, base64, quoted-printable. Messages saved with bare line feeds
//! are read as if they had the CRLFs MIME requires.

use encoding_rs::Encoding;

use super::base64::Base64Node;
use super::cx::Cx;
use super::{ContentHint, Node};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

const MAX_HEADERS: usize = 64 << 10;
/// Headers whose values are people and what the message is about.
const SHOWN: [&str; 8] = [
    "subject", "from", "to", "cc", "bcc", "reply-to", "sender", "comments",
];

pub(crate) struct MimeNode {
    depth: u32,
    head: Vec<u8>,
    body: Option<Node>,
    /// The message uses bare line feeds: each becomes CRLF on the way in.
    bare_lf: bool,
    last_cr: bool,
    out: Vec<u8>,
}

impl MimeNode {
    pub fn new(depth: u32) -> Self {
        MimeNode {
            depth,
            head: Vec::new(),
            body: None,
            bare_lf: false,
            last_cr: false,
            out: Vec::new(),
        }
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        if self.body.is_some() {
            self.feed_body(data, cx);
            return;
        }
        let before = self.head.len();
        let room = MAX_HEADERS.saturating_sub(before);
        self.head
            .extend_from_slice(data.get(..room.min(data.len())).unwrap_or(&[]));
        // The blank line may straddle the chunk edge: look from a little back.
        let from = before.saturating_sub(3);
        let end =
            find_blank(self.head.get(from..).unwrap_or(&[])).map(|(at, len)| (from + at, len));
        let Some((at, len)) = end else {
            if self.head.len() >= MAX_HEADERS {
                cx.incomplete(IncompleteReason::Malformed, "message headers too long");
                self.body = Some(Node::Skip);
            }
            return;
        };
        let head = std::mem::take(&mut self.head);
        self.start_body(head.get(..at).unwrap_or(&[]), cx);
        // What followed the blank line in this chunk.
        let used = at + len - before;
        self.feed_body(data.get(used..).unwrap_or(&[]), cx);
    }

    fn start_body<S: TextSink>(&mut self, head: &[u8], cx: &mut Cx<S>) {
        self.bare_lf =
            memchr::memchr(b'\n', head).is_some_and(|i| i == 0 || head.get(i - 1) != Some(&b'\r'));
        let mut hint = ContentHint::default();
        let mut encoding = String::new();
        let mut text = String::new();
        for (name, value) in headers(head) {
            let key = name.to_ascii_lowercase();
            if SHOWN.contains(&key.as_str()) {
                text.clear();
                decode_words(&value, &mut text);
                cx.sink.field(name.as_bytes());
                cx.sink.text(text.as_bytes());
                cx.sink.boundary();
            } else if key == "content-type" {
                hint.content_type = Some(value.trim().to_owned());
            } else if key == "content-transfer-encoding" {
                encoding = value.trim().to_ascii_lowercase();
            }
        }
        self.body = Some(body_node(&encoding, hint, self.depth + 1, cx));
    }

    fn feed_body<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        let Some(body) = &mut self.body else {
            return;
        };
        if !self.bare_lf {
            body.feed(data, cx);
            return;
        }
        self.out.clear();
        for &b in data {
            if b == b'\n' && !self.last_cr {
                self.out.push(b'\r');
            }
            self.out.push(b);
            self.last_cr = b == b'\r';
        }
        body.feed(&self.out, cx);
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.body.is_none() {
            // Headers only.
            let head = std::mem::take(&mut self.head);
            self.start_body(&head, cx);
        }
        if let Some(body) = &mut self.body {
            body.finish(cx);
        }
    }
}

/// The node for a body (or a part) by its transfer encoding.
pub(crate) fn body_node<S: TextSink>(
    encoding: &str,
    hint: ContentHint,
    depth: u32,
    cx: &mut Cx<S>,
) -> Node {
    match encoding {
        "base64" => {
            cx.format("base64");
            Node::Base64(Box::new(Base64Node::with_hint(hint, depth)))
        }
        "quoted-printable" => {
            cx.format("quoted-printable");
            Node::Qp(Box::new(QpNode::new(hint, depth)))
        }
        _ => Node::sniffing(hint, depth),
    }
}

/// Where the header block ends: the blank line and its length.
fn find_blank(b: &[u8]) -> Option<(usize, usize)> {
    let crlf = memchr::memmem::find(b, b"\r\n\r\n").map(|i| (i, 4));
    let lf = memchr::memmem::find(b, b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Header fields, folded lines joined.
fn headers(head: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

/// A header value with its encoded words (`=?big5?B?…?=`) decoded. White
/// space between two encoded words is not part of the text.
pub(crate) fn decode_words(value: &str, out: &mut String) {
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, from) = rest.split_at(start);
        let decoded = encoded_word(from);
        if !(after_word && before.trim().is_empty() && decoded.is_some()) {
            out.push_str(before);
        }
        match decoded {
            Some((text, used)) => {
                out.push_str(&text);
                rest = from.get(used..).unwrap_or("");
                after_word = true;
            }
            None => {
                out.push_str("=?");
                rest = from.get(2..).unwrap_or("");
                after_word = false;
            }
        }
    }
    out.push_str(rest);
}

/// One encoded word at the start of `s`: its text and its length.
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (kind, inner) = inner.split_once('?')?;
    let (data, _) = inner.split_once("?=")?;
    let used = 2 + charset.len() + 1 + kind.len() + 1 + data.len() + 2;
    // A language suffix (`utf-8*en`) is not part of the charset.
    let charset = charset.split('*').next().unwrap_or(charset);
    let bytes = match kind {
        "B" | "b" => {
            let mut dec = Base64Node::decoder();
            let mut out = vec![0u8; data.len()];
            let n = dec.decode_into(data.as_bytes(), &mut out);
            out.truncate(n);
            out
        }
        "Q" | "q" => {
            let mut out = Vec::with_capacity(data.len());
            let mut q = Qp::default();
            for &b in data.as_bytes() {
                q.byte(if b == b'_' { b' ' } else { b }, &mut out);
            }
            out
        }
        _ => return None,
    };
    let enc = Encoding::for_label(charset.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let (text, _) = enc.decode_without_bom_handling(&bytes);
    Some((text.into_owned(), used))
}

/// Quoted-printable, one byte at a time: `=XX` is a byte, `=` at the end of a
/// line joins it to the next, anything else is itself.
#[derive(Default)]
struct Qp {
    held: [u8; 2],
    n: usize,
}

impl Qp {
    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        if self.n == 0 {
            if b == b'=' {
                self.n = 1;
            } else {
                out.push(b);
            }
            return;
        }
        if self.n == 1 {
            // `=` LF is a soft line break; `=` CR waits for its LF.
            if b == b'\n' {
                self.n = 0;
            } else {
                self.held[0] = b;
                self.n = 2;
            }
            return;
        }
        self.n = 0;
        let first = self.held[0];
        if first == b'\r' {
            // A soft line break: `=` CR LF (or a lone CR, kept).
            if b != b'\n' {
                out.push(b);
            }
            return;
        }
        match (hex(first), hex(b)) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            // Not an escape: kept as written.
            _ => out.extend_from_slice(&[b'=', first, b]),
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        match self.n {
            1 => out.push(b'='),
            2 if self.held[0] != b'\r' => out.extend_from_slice(&[b'=', self.held[0]]),
            _ => {}
        }
        self.n = 0;
    }
}

fn hex(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// A quoted-printable body or part, decoded streaming into a sniffing node.
pub(crate) struct QpNode {
    qp: Qp,
    inner: Node,
    out: Vec<u8>,
}

impl QpNode {
    pub fn new(hint: ContentHint, depth: u32) -> Self {
        QpNode {
            qp: Qp::default(),
            inner: Node::sniffing(hint, depth),
            out: Vec::new(),
        }
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        self.out.clear();
        for &b in data {
            self.qp.byte(b, &mut self.out);
        }
        self.inner.feed(&self.out, cx);
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.out.clear();
        self.qp.finish(&mut self.out);
        self.inner.feed(&self.out, cx);
        self.inner.finish(cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp(s: &[u8]) -> Vec<u8> {
        let mut q = Qp::default();
        let mut out = Vec::new();
        for &b in s {
            q.byte(b, &mut out);
        }
        q.finish(&mut out);
        out
    }

    #[test]
    fn quoted_printable_escapes_soft_breaks_and_strays() {
        assert_eq!(qp(b"caf=C3=A9 ok"), "café ok".as_bytes());
        assert_eq!(qp(b"long=\r\nline=\nend"), b"longlineend");
        assert_eq!(qp(b"a=ZZb="), b"a=ZZb=");
        assert_eq!(qp(b"1+1=3D2"), b"1+1=2");
    }

    #[test]
    fn encoded_words_in_any_charset() {
        let mut out = String::new();
        decode_words(
            "=?UTF-8?B?6Lqr5Lu96K2J?= =?big5?Q?=AFf=B0=B2?= and plain",
            &mut out,
        );
        assert_eq!(out, "身份證病假 and plain");
        let mut out = String::new();
        decode_words("Re: =?utf-8?q?caf=C3=A9_menu?=", &mut out);
        assert_eq!(out, "Re: café menu");
        let mut out = String::new();
        decode_words("=?broken", &mut out);
        assert_eq!(out, "=?broken");
    }
}
