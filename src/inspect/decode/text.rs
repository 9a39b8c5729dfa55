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

    fn decode<S: TextSink>(&mut self, data: &[u8], last: bool, cx: &mut Cx<S>) {
        transcode(
            &mut self.decoder,
            &mut self.out,
            &mut self.inner,
            data,
            last,
            cx,
        );
    }
}

/// Bytes looked at, from the first that is not ASCII, to tell UTF-8 from a
/// code page (as `SNIFF_LEN` for a body whose head already shows it).
const LATE_WINDOW: usize = 512;

/// Text whose head was all ASCII, which says nothing of its encoding: an
/// English header row over Big5 names, an HTML page whose `<head>` is ASCII
/// and whose body is GBK. Bytes pass through until the first one that is not
/// ASCII; the `LATE_WINDOW` bytes from there decide UTF-8 (passed through as
/// before) or a code page (the declared one, else `chardetng`'s guess), and
/// the rest is decoded. Every code page read here keeps ASCII as it is, so
/// the text already passed on reads the same either way; and the decision
/// depends only on the bytes, not on how they were split.
pub(crate) struct LateCharset {
    inner: Node,
    declared: Option<&'static Encoding>,
    state: Late,
}

enum Late {
    Ascii,
    Deciding(Vec<u8>),
    Utf8,
    Legacy {
        decoder: encoding_rs::Decoder,
        out: Vec<u8>,
    },
}

impl LateCharset {
    pub fn new(inner: Node, declared: Option<&'static Encoding>) -> Self {
        LateCharset {
            inner,
            declared,
            state: Late::Ascii,
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        loop {
            match &mut self.state {
                // `is_ascii` first: it is vectorised, and most chunks pass.
                Late::Ascii if data.is_ascii() => return self.inner.feed(data, cx),
                Late::Ascii => match data.iter().position(|&b| b >= 0x80) {
                    None => return self.inner.feed(data, cx),
                    Some(at) => {
                        let (ascii, rest) = data.split_at(at);
                        self.inner.feed(ascii, cx);
                        self.state = Late::Deciding(Vec::with_capacity(LATE_WINDOW));
                        data = rest;
                    }
                },
                Late::Deciding(held) => {
                    let take = (LATE_WINDOW - held.len()).min(data.len());
                    let (now, rest) = data.split_at(take);
                    held.extend_from_slice(now);
                    if held.len() < LATE_WINDOW {
                        return;
                    }
                    self.decide(cx);
                    data = rest;
                }
                Late::Utf8 => return self.inner.feed(data, cx),
                Late::Legacy { decoder, out } => {
                    return transcode(decoder, out, &mut self.inner, data, false, cx);
                }
            }
        }
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if matches!(self.state, Late::Deciding(_)) {
            self.decide(cx);
        }
        if let Late::Legacy { decoder, out } = &mut self.state {
            transcode(decoder, out, &mut self.inner, &[], true, cx);
        }
        self.inner.finish(cx);
    }

    /// Settles the encoding on the held window and hands the window on.
    fn decide<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let Late::Deciding(held) = std::mem::replace(&mut self.state, Late::Utf8) else {
            return;
        };
        // A character cut by the window's end (or the body's) is still UTF-8.
        let utf8 = std::str::from_utf8(&held).map_or_else(|e| e.error_len().is_none(), |_| true);
        // Plain text that turns into binary data (a text header before a
        // compressed payload; a piece of a larger file that starts among
        // text) is read from here on as binary data is: its UTF-16 strings,
        // and whether it is as random as compressed data.
        if is_binary(&held) && matches!(self.inner, Node::Text) {
            cx.format("binary");
            self.inner = Node::Binary(Box::new(super::binary::BinaryNode::new(true)));
            self.inner.feed(&held, cx);
            return;
        }
        let enc = if utf8 || is_binary(&held) {
            None
        } else {
            self.declared
                .filter(|e| *e != encoding_rs::UTF_8)
                .or_else(|| guess(&held))
        };
        match enc {
            None => self.inner.feed(&held, cx),
            Some(enc) => {
                cx.format(format_name(enc));
                let mut decoder = enc.new_decoder_without_bom_handling();
                let mut out = vec![0; 8 << 10];
                transcode(&mut decoder, &mut out, &mut self.inner, &held, false, cx);
                self.state = Late::Legacy { decoder, out };
            }
        }
    }
}

fn transcode<S: TextSink>(
    decoder: &mut encoding_rs::Decoder,
    out: &mut [u8],
    inner: &mut Node,
    mut data: &[u8],
    last: bool,
    cx: &mut Cx<S>,
) {
    loop {
        let (result, read, written, _) = decoder.decode_to_utf8(data, out, last);
        inner.feed(out.get(..written).unwrap_or(&[]), cx);
        data = data.get(read..).unwrap_or(&[]);
        if result == CoderResult::InputEmpty {
            return;
        }
    }
}

/// Binary data is not text in some code page: it has NULs and control
/// bytes, which text in any of them has next to none of.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    let controls = bytes
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    controls * 100 > bytes.len()
}

/// UTF-16 without a byte-order mark (what some exports write as "Unicode"
/// text), by its NULs: the high byte of every ASCII character, and most
/// Chinese text has its commas, spaces and line ends; else by its high
/// bytes, nearly all of CJK characters. Every code unit must be text (no
/// controls but tab, line ends and form feed; surrogates in pairs), which
/// 16-bit binary data is not.
fn bomless_utf16(head: &[u8]) -> Option<&'static Encoding> {
    const MIN_UNITS: usize = 16;
    let units = head.len() / 2;
    if units < MIN_UNITS {
        return None;
    }
    let (mut low_nul, mut high_nul) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        if let [a, b] = pair {
            low_nul += usize::from(*a == 0);
            high_nul += usize::from(*b == 0);
        }
    }
    // Little-endian ASCII is `41 00`: the NUL comes second.
    let (le, nuls, other) = if high_nul >= low_nul {
        (true, high_nul, low_nul)
    } else {
        (false, low_nul, high_nul)
    };
    // A tenth of the characters ASCII, and hardly a character of the form
    // U+xx00 (CJK has a few: one in fifty).
    let ascii = nuls * 10 >= units && other * 50 <= units;
    let le = if ascii {
        le
    } else {
        // Chinese with hardly any ASCII: nine in ten high bytes of CJK
        // ideographs (U+4E00–U+9FFF), CJK punctuation (U+30xx), full-width
        // forms (U+FFxx) or ASCII, which a code page or UTF-8 does not give
        // one byte in two, nor binary data.
        if std::str::from_utf8(head).is_ok() {
            return None;
        }
        let cjk_high = |b: u8| matches!(b, 0x00 | 0x30 | 0x4E..=0x9F | 0xFF);
        let count = |second: bool| {
            head.chunks_exact(2)
                .filter(|p| p.get(usize::from(second)).is_some_and(|&b| cjk_high(b)))
                .count()
        };
        match (
            count(true) * 10 >= units * 9,
            count(false) * 10 >= units * 9,
        ) {
            (true, false) => true,
            (false, true) => false,
            _ => return None,
        }
    };
    let mut high_surrogate = false;
    for pair in head.chunks_exact(2) {
        let &[a, b] = pair else { return None };
        let u = if le {
            u16::from_le_bytes([a, b])
        } else {
            u16::from_be_bytes([a, b])
        };
        let low = (0xDC00..=0xDFFF).contains(&u);
        if high_surrogate != low {
            return None;
        }
        high_surrogate = (0xD800..=0xDBFF).contains(&u);
        let control = u < 0x20 && !matches!(u, 0x09 | 0x0A | 0x0C | 0x0D);
        if control || matches!(u, 0x7F | 0xFFFE | 0xFFFF) {
            return None;
        }
    }
    // A pair cut by the end of the head is fine.
    Some(if le {
        encoding_rs::UTF_16LE
    } else {
        encoding_rs::UTF_16BE
    })
}

/// The code page `chardetng` takes these bytes to be, if not UTF-8.
fn guess(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, false);
    let enc = detector.guess(None, chardetng::Utf8Detection::Deny);
    (enc != encoding_rs::UTF_8).then_some(enc)
}

/// How a text body's bytes become UTF-8.
pub(crate) enum Charset {
    /// They are UTF-8 already (or not text at all): passed as they are.
    Utf8,
    /// A code page, decoded from the first byte.
    Legacy(&'static Encoding),
    /// The head is ASCII: decided at the first byte that is not
    /// (`LateCharset`), in favour of the code page the document declares.
    Late(Option<&'static Encoding>),
    /// Not text in any encoding (`binary`).
    Binary,
}

/// How to read a text body: the charset its Content-Type names is taken at
/// its word; else the head decides, and where the head is all ASCII the
/// first byte past it that is not does. `markup`: the head may declare its
/// own charset (`<meta charset>`, `<?xml encoding=…?>`).
pub(crate) fn charset(head: &[u8], hint: &ContentHint, markup: bool) -> Charset {
    let usable = |e: &&'static Encoding| *e != encoding_rs::UTF_8 && e.is_ascii_compatible();
    let named = hint
        .content_type
        .as_deref()
        .and_then(|ct| super::multipart::param(ct, "charset"))
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    if let Some(enc) = named {
        // UTF-16 named without a byte-order mark (Windows' "Unicode"): read
        // as the label says, unless the bytes are plainly UTF-8 text (no
        // NULs, valid), which a wrong label does not make UTF-16.
        let wide = enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE;
        if wide && (head.contains(&0) || std::str::from_utf8(head).is_err()) {
            return Charset::Legacy(enc);
        }
        return Some(enc)
            .filter(usable)
            .map_or(Charset::Utf8, Charset::Legacy);
    }
    // UTF-16 without a mark has NULs (binary to a byte scan) or, for
    // Chinese, is no UTF-8: asked only then, so UTF-8 bodies pay nothing.
    if is_binary(head) {
        return bomless_utf16(head).map_or(Charset::Utf8, Charset::Legacy);
    }
    let declared = markup
        .then(|| super::markup::declared_charset(head))
        .flatten()
        .filter(usable);
    if head.is_ascii() {
        return Charset::Late(declared);
    }
    // A piece of a larger file (a chunked upload, base64 cut at a line)
    // may start inside a character: up to three continuation bytes.
    let lead = head
        .iter()
        .take(3)
        .take_while(|&&b| b & 0xC0 == 0x80)
        .count();
    match std::str::from_utf8(head.get(lead..).unwrap_or_default()) {
        Ok(_) => return Charset::Utf8,
        // A character cut at the end of the head is still UTF-8.
        Err(e) if e.error_len().is_none() => return Charset::Utf8,
        Err(_) => {}
    }
    declared
        .or_else(|| bomless_utf16(head))
        .or_else(|| guess(head))
        .map_or(Charset::Utf8, Charset::Legacy)
}

/// The format name a transcoded body reports (lower case, as the others).
pub(crate) fn format_name(enc: &'static Encoding) -> &'static str {
    match enc.name() {
        "Big5" => "big5",
        "GBK" => "gbk",
        "gb18030" => "gb18030",
        "Shift_JIS" => "shift_jis",
        "EUC-KR" => "euc-kr",
        // As a body with a byte-order mark reports it.
        "UTF-16LE" | "UTF-16BE" => "utf-16",
        name => name,
    }
}

/// Percent-decoding (`+` as space, as forms write it), streaming: a `%` and
/// its hex digits may arrive in different chunks.
#[derive(Default)]
pub(crate) struct UrlDecoder {
    pending: [u8; 2],
    have: u8,
    /// `+` is itself (RFC 3986 and RFC 2231 values), not a space.
    keep_plus: bool,
}

impl UrlDecoder {
    /// Percent escapes only: `+` stays `+`.
    pub fn percent_only() -> Self {
        UrlDecoder {
            keep_plus: true,
            ..UrlDecoder::default()
        }
    }

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
            let special = if self.keep_plus {
                memchr::memchr(b'%', data)
            } else {
                memchr2(b'%', b'+', data)
            };
            match special {
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
            b'+' if !self.keep_plus => out(b" "),
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
        let mut out = Vec::new();
        let mut d = UrlDecoder::percent_only();
        d.decode(b"C++%20notes%2B", |b| out.extend_from_slice(b));
        d.flush(|b| out.extend_from_slice(b));
        assert_eq!(out, b"C++ notes+", "outside forms `+` is itself");
    }
}
