//! Text that needs a little decoding before the sink sees it: UTF-16 (after a
//! byte-order mark) to UTF-8, and URL percent-encoding. Both carry partial
//! sequences across chunks so any split gives the same output.

use memchr::memchr2;

use super::cx::Cx;
use crate::inspect::sink::TextSink;

/// UTF-16 to UTF-8, streaming. Lone surrogates become U+FFFD.
pub(crate) struct Utf16Node {
    big_endian: bool,
    odd: Option<u8>,
    high: Option<u16>,
    started: bool,
}

impl Utf16Node {
    pub fn new(big_endian: bool) -> Self {
        Utf16Node {
            big_endian,
            odd: None,
            high: None,
            started: false,
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        let mut out = [0u8; 4096];
        let mut n = 0;
        if let Some(first) = self.odd.take() {
            match data.split_first() {
                Some((&second, rest)) => {
                    n += self.unit(first, second, out.get_mut(n..).unwrap_or(&mut []));
                    data = rest;
                }
                None => {
                    self.odd = Some(first);
                    return;
                }
            }
        }
        let mut pairs = data.chunks_exact(2);
        for pair in &mut pairs {
            if n + 8 > out.len() {
                cx.sink.text(out.get(..n).unwrap_or(&[]));
                n = 0;
            }
            if let [a, b] = *pair {
                n += self.unit(a, b, out.get_mut(n..).unwrap_or(&mut []));
            }
        }
        self.odd = pairs.remainder().first().copied();
        if n > 0 {
            cx.sink.text(out.get(..n).unwrap_or(&[]));
        }
    }

    /// Decodes one code unit into `out`, returning how many bytes it wrote.
    fn unit(&mut self, a: u8, b: u8, out: &mut [u8]) -> usize {
        let u = if self.big_endian {
            u16::from_be_bytes([a, b])
        } else {
            u16::from_le_bytes([a, b])
        };
        let first = !self.started;
        self.started = true;
        if first && u == 0xfeff {
            return 0;
        }
        let mut written = 0;
        let c = match (self.high.take(), u) {
            (Some(h), 0xdc00..=0xdfff) => {
                let cp = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                char::from_u32(cp).unwrap_or('\u{fffd}')
            }
            (high, _) => {
                if high.is_some() {
                    written += encode('\u{fffd}', out);
                }
                match u {
                    0xd800..=0xdbff => {
                        self.high = Some(u);
                        return written;
                    }
                    0xdc00..=0xdfff => '\u{fffd}',
                    _ => char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'),
                }
            }
        };
        written + encode(c, out.get_mut(written..).unwrap_or(&mut []))
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.high.take().is_some() || self.odd.take().is_some() {
            cx.sink.text("\u{fffd}".as_bytes());
        }
        cx.sink.boundary();
    }
}

fn encode(c: char, out: &mut [u8]) -> usize {
    if out.len() < c.len_utf8() {
        return 0;
    }
    c.encode_utf8(out).len()
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
