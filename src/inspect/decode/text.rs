//! Text that needs a little decoding before the sink sees it: other encodings
//! (UTF-16, legacy code pages) to UTF-8, and URL percent-encoding. Both carry
//! partial sequences across chunks so any split gives the same output.

use encoding_rs::{CoderResult, Encoding};
use memchr::memchr2;

use super::cx::Cx;
use super::{ContentHint, Node};
use crate::inspect::sink::TextSink;

/// Text in another encoding than UTF-8 (UTF-16 after its byte-order mark,
/// or a legacy code page: Big5 and GBK from Chinese Windows, Windows-1252
/// from Portuguese), turned into UTF-8 on the way and then sniffed again: a
/// UTF-16 or Big5 CSV is still a CSV. The decoder carries partial characters
/// across chunks, so any split gives the same text.
pub(crate) struct TranscodeNode {
    decoder: encoding_rs::Decoder,
    inner: Node,
    out: Vec<u8>,
}

impl TranscodeNode {
    pub fn new(encoding: &'static Encoding, mut hint: ContentHint, depth: u32) -> Self {
        // What comes out is UTF-8, whatever charset the body was labelled with.
        if let Some(ct) = &mut hint.content_type {
            ct.truncate(ct.find(';').unwrap_or(ct.len()));
        }
        TranscodeNode {
            decoder: encoding.new_decoder_with_bom_removal(),
            inner: Node::sniffing(hint, depth + 1),
            out: vec![0; 8 << 10],
        }
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        self.decode(data, false, cx);
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.decode(&[], true, cx);
        self.inner.finish(cx);
    }

    fn decode<S: TextSink>(&mut self, mut data: &[u8], last: bool, cx: &mut Cx<S>) {
        loop {
            let (result, read, written, _) = self.decoder.decode_to_utf8(data, &mut self.out, last);
            self.inner.feed(self.out.get(..written).unwrap_or(&[]), cx);
            data = data.get(read..).unwrap_or(&[]);
            if result == CoderResult::InputEmpty {
                return;
            }
        }
    }
}

/// The legacy encoding a text body is in, if it is not UTF-8: the charset its
/// Content-Type names, else a guess from its first bytes when they are not
/// UTF-8 (a character cut at the end of them does not count).
pub(crate) fn legacy_encoding(head: &[u8], hint: &ContentHint) -> Option<&'static Encoding> {
    let named = hint
        .content_type
        .as_deref()
        .and_then(|ct| super::multipart::param(ct, "charset"))
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    if let Some(enc) = named {
        return (enc != encoding_rs::UTF_8 && enc.is_ascii_compatible()).then_some(enc);
    }
    match std::str::from_utf8(head) {
        Ok(_) => return None,
        Err(e) if e.error_len().is_none() => return None,
        Err(_) => {}
    }
    // Binary data is not text in some code page: it has NULs and control
    // bytes, which text in any of them has next to none of.
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if controls * 100 > head.len() {
        return None;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(head, false);
    let enc = detector.guess(None, chardetng::Utf8Detection::Deny);
    (enc != encoding_rs::UTF_8).then_some(enc)
}

/// The format name a transcoded body reports (lower case, as the others).
pub(crate) fn format_name(enc: &'static Encoding) -> &'static str {
    match enc.name() {
        "Big5" => "big5",
        "GBK" => "gbk",
        "gb18030" => "gb18030",
        "Shift_JIS" => "shift_jis",
        "EUC-KR" => "euc-kr",
        name => name,
    }
}

/// Percent-decoding (`+` as space), streaming: a `%` and its hex digits may
/// arrive in different chunks.
#[derive(Default)]
pub(crate) struct UrlDecoder {
    pending: [u8; 2],
    have: u8,
}

impl UrlDecoder {
    /// Decodes `data`, handing decoded runs to `out` (long runs in one call).
    pub fn decode(&mut self, mut data: &[u8], mut out: impl FnMut(&[u8])) {
        while !data.is_empty() {
            if self.have > 0 {
                let Some((&c, rest)) = data.split_first() else {
                    return;
                };
                data = rest;
                if self.have == 1 {
                    if c.is_ascii_hexdigit() {
                        self.pending[1] = c;
                        self.have = 2;
                        continue;
                    }
                    // Not an escape after all: the `%` is literal, `c` is reprocessed.
                    self.have = 0;
                    out(b"%");
                    self.literal(c, &mut out);
                } else {
                    self.have = 0;
                    if c.is_ascii_hexdigit() {
                        out(&[hex(self.pending[1]) << 4 | hex(c)]);
                    } else {
                        out(&[b'%', self.pending[1]]);
                        self.literal(c, &mut out);
                    }
                }
                continue;
            }
            match memchr2(b'%', b'+', data) {
                None => {
                    out(data);
                    return;
                }
                Some(i) => {
                    let (run, rest) = data.split_at(i);
                    if !run.is_empty() {
                        out(run);
                    }
                    if let Some((&c, rest)) = rest.split_first() {
                        self.literal(c, &mut out);
                        data = rest;
                    } else {
                        data = rest;
                    }
                }
            }
        }
    }

    fn literal(&mut self, c: u8, out: &mut impl FnMut(&[u8])) {
        match c {
            b'%' => self.have = 1,
            b'+' => out(b" "),
            c => out(&[c]),
        }
    }

    /// Flushes an unfinished escape as the literal text it was.
    pub fn flush(&mut self, mut out: impl FnMut(&[u8])) {
        match self.have {
            1 => out(b"%"),
            2 => out(&[b'%', self.pending[1]]),
            _ => {}
        }
        self.have = 0;
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_all_splits(input: &[u8]) -> Vec<u8> {
        let mut whole = Vec::new();
        let mut d = UrlDecoder::default();
        d.decode(input, |b| whole.extend_from_slice(b));
        d.flush(|b| whole.extend_from_slice(b));
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let mut got = Vec::new();
                let mut d = UrlDecoder::default();
                for part in [&input[..i], &input[i..j], &input[j..]] {
                    d.decode(part, |b| got.extend_from_slice(b));
                }
                d.flush(|b| got.extend_from_slice(b));
                assert_eq!(got, whole, "split {i},{j} of {input:?}");
            }
        }
        whole
    }

    #[test]
    fn url_decoding_table() {
        let cases: &[(&str, &[u8], &[u8])] = &[
            ("plain", b"abc", b"abc"),
            ("plus is space", b"a+b", b"a b"),
            ("escape", b"%41%2b", b"A+"),
            ("utf8 escapes", b"%E4%BD%A0", "你".as_bytes()),
            ("bad escape kept", b"%zz%4", b"%zz%4"),
            ("percent then percent", b"%%41", b"%A"),
            ("trailing percent", b"x%", b"x%"),
        ];
        for (name, input, want) in cases {
            assert_eq!(url_all_splits(input), *want, "case {name}");
        }
    }
}
