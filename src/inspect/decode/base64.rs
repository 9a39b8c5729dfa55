//! Base64 (standard and URL-safe alphabets, line breaks allowed), decoded
//! streaming and handed to a sniffing node: documents and text carried inside
//! JSON or form values.

use super::cx::Cx;
use super::{ContentHint, Node};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

const fn b64_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=');
        c += 1;
    }
    t
}

static B64_CHARS: [bool; 256] = b64_table();

#[inline]
pub(crate) fn is_b64(c: u8) -> bool {
    B64_CHARS[usize::from(c)]
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

pub(crate) struct Base64Node {
    acc: u32,
    bits: u8,
    /// Padding or a stray character ends the data.
    ended: bool,
    /// Something other than padding and white space came after the end: it
    /// leaves with the body but is no part of the data, so it is reported.
    trailing: bool,
    reported: bool,
    /// Bytes up to the first line break are not data (`bare`).
    skip_line: bool,
    inner: Option<Node>,
}

impl Base64Node {
    pub fn new(depth: u32) -> Self {
        Self::with_hint(ContentHint::default(), depth)
    }

    /// Decoded content sniffed with what the carrier said about it.
    pub fn with_hint(hint: ContentHint, depth: u32) -> Self {
        Base64Node {
            acc: 0,
            bits: 0,
            ended: false,
            trailing: false,
            reported: false,
            skip_line: false,
            inner: Some(Node::sniffing(hint, depth)),
        }
    }

    /// A body that is base64 throughout; `mid_line`: it starts inside a
    /// line (a piece of a larger upload), which is dropped, since decoding
    /// from there would misalign every byte after it.
    pub fn bare(mid_line: bool, depth: u32) -> Self {
        let mut node = Self::new(depth);
        node.skip_line = mid_line;
        node
    }

    /// A bare decoder, for probing a value's first bytes.
    pub fn decoder() -> Self {
        Base64Node {
            acc: 0,
            bits: 0,
            ended: false,
            trailing: false,
            reported: false,
            skip_line: false,
            inner: None,
        }
    }

    /// Decodes what it can of `data` into `out`, returning the bytes written.
    pub fn decode_into(&mut self, data: &[u8], out: &mut [u8]) -> usize {
        let mut n = 0;
        for (i, &c) in data.iter().enumerate() {
            if self.ended {
                let rest = data.get(i..).unwrap_or(&[]);
                self.trailing |= rest
                    .iter()
                    .any(|&b| !matches!(b, b'\n' | b'\r' | b' ' | b'\t' | b'='));
                break;
            }
            let Some(v) = sextet(c) else {
                if !matches!(c, b'\n' | b'\r' | b' ' | b'\t') {
                    self.ended = true;
                    // A stray character is itself left over; padding is not.
                    self.trailing |= c != b'=';
                }
                continue;
            };
            self.acc = (self.acc << 6) | u32::from(v);
            self.bits += 6;
            if self.bits >= 8 {
                self.bits -= 8;
                let Some(slot) = out.get_mut(n) else { break };
                *slot = (self.acc >> self.bits) as u8;
                n += 1;
            }
        }
        n
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        if self.skip_line {
            match memchr::memchr(b'\n', data) {
                Some(k) => {
                    self.skip_line = false;
                    data = data.get(k + 1..).unwrap_or_default();
                }
                None => return,
            }
        }
        let mut out = [0u8; 3072];
        for chunk in data.chunks(4096) {
            let n = self.decode_into(chunk, &mut out);
            if let Some(inner) = &mut self.inner {
                inner.feed(out.get(..n).unwrap_or(&[]), cx);
            }
        }
        if self.trailing && !self.reported {
            self.reported = true;
            cx.incomplete(IncompleteReason::Malformed, "data after the end of base64");
        }
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if let Some(inner) = &mut self.inner {
            inner.finish(cx);
        }
    }
}
