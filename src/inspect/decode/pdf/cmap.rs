//! ToUnicode CMaps: what the codes a content stream shows mean as text. A font
//! embedded as a subset (Identity-H: what Chrome, Word for CJK text,
//! wkhtmltopdf and most PDF libraries write) shows glyph numbers, not
//! characters; only the font's ToUnicode CMap turns them back into text.

/// Most UTF-16 units a code may stand for (a ligature is two or three).
const MAX_UNITS: usize = 32;

/// Codes `lo..=hi`, all `len` bytes long: code `lo + k` is the `n` units at
/// `at` in the map's pool, the last one raised by `k`.
#[derive(Clone, Copy)]
struct Range {
    len: u8,
    n: u8,
    lo: u32,
    hi: u32,
    at: u32,
}

/// What may still be kept of all the CMaps of one PDF: a font map is read
/// from the file, so its size is the sender's to choose.
pub(crate) struct Budget {
    pub(crate) ranges: usize,
    pub(crate) units: usize,
    /// Something was dropped for want of room.
    pub(crate) hit: bool,
}

#[derive(Default)]
pub(crate) struct CMap {
    /// Code space ranges: (byte length, low, high).
    spaces: Vec<(u8, u32, u32)>,
    /// Sorted by (length, low); overlaps resolve to the first.
    ranges: Vec<Range>,
    pool: Vec<u16>,
}

enum Tok<'a> {
    Hex(Vec<u8>),
    Open,
    Close,
    Word(&'a [u8]),
}

/// The tokens of a CMap that matter here; strings, names and dictionaries
/// are stepped over.
struct Tokens<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'%' => {
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|&c| c != b'\n' && c != b'\r')
                    {
                        self.i += 1;
                    }
                }
                b'<' if self.b.get(self.i) == Some(&b'<') => self.i += 1,
                b'>' if self.b.get(self.i) == Some(&b'>') => self.i += 1,
                b'<' => {
                    let mut out = Vec::new();
                    self.i = super::hex(self.b, self.i, &mut out);
                    return Some(Tok::Hex(out));
                }
                b'[' => return Some(Tok::Open),
                b']' => return Some(Tok::Close),
                b'(' => {
                    let mut skipped = Vec::new();
                    self.i = super::literal(self.b, self.i, &mut skipped);
                }
                c if c.is_ascii_whitespace() || matches!(c, b'{' | b'}' | b'>' | b')') => {}
                _ => {
                    let start = self.i - 1;
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|c| !c.is_ascii_whitespace() && !b"()<>[]{}/%".contains(c))
                    {
                        self.i += 1;
                    }
                    return Some(Tok::Word(self.b.get(start..self.i).unwrap_or(&[])));
                }
            }
        }
    }
}

/// A code's value and length (1–4 bytes).
fn code(bytes: &[u8]) -> Option<(u8, u32)> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    let v = bytes.iter().fold(0u32, |v, &b| v << 8 | u32::from(b));
    Some((bytes.len() as u8, v))
}

impl CMap {
    pub(crate) fn parse(data: &[u8], budget: &mut Budget) -> CMap {
        let mut map = CMap::default();
        let mut toks = Tokens { b: data, i: 0 };
        while let Some(t) = toks.next() {
            match t {
                Tok::Word(b"begincodespacerange") => map.spaces_from(&mut toks),
                Tok::Word(b"beginbfchar") => map.chars_from(&mut toks, budget),
                Tok::Word(b"beginbfrange") => map.ranges_from(&mut toks, budget),
                _ => {}
            }
        }
        map.ranges.sort_by_key(|r| (r.len, r.lo));
        map
    }

    /// Keeps codes `lo..=hi` (`len` bytes) as `dst` (UTF-16BE, the last unit
    /// counting up), if there is room.
    fn push(&mut self, len: u8, lo: u32, hi: u32, dst: &[u8], budget: &mut Budget) {
        let n = dst.len().div_ceil(2).min(MAX_UNITS);
        if lo > hi || n == 0 {
            return;
        }
        if budget.ranges == 0 || budget.units < n {
            budget.hit = true;
            return;
        }
        budget.ranges -= 1;
        budget.units -= n;
        let at = u32::try_from(self.pool.len()).unwrap_or(u32::MAX);
        self.pool.extend(dst.chunks(2).take(n).map(|p| match p {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from(*a),
            _ => 0xFFFD,
        }));
        self.ranges.push(Range {
            len,
            n: n as u8,
            lo,
            hi,
            at,
        });
    }

    fn spaces_from(&mut self, toks: &mut Tokens<'_>) {
        while let Some(Tok::Hex(lo)) = toks.next() {
            let Some(Tok::Hex(hi)) = toks.next() else {
                return;
            };
            if let (Some((n, lo)), Some((m, hi))) = (code(&lo), code(&hi)) {
                if n == m && self.spaces.len() < 64 {
                    self.spaces.push((n, lo, hi));
                }
            }
        }
    }

    fn chars_from(&mut self, toks: &mut Tokens<'_>, budget: &mut Budget) {
        while let Some(Tok::Hex(src)) = toks.next() {
            let Some(Tok::Hex(dst)) = toks.next() else {
                return;
            };
            if let Some((len, c)) = code(&src) {
                self.push(len, c, c, &dst, budget);
            }
        }
    }

    fn ranges_from(&mut self, toks: &mut Tokens<'_>, budget: &mut Budget) {
        while let Some(Tok::Hex(lo)) = toks.next() {
            let (Some(Tok::Hex(hi)), Some(dst)) = (toks.next(), toks.next()) else {
                return;
            };
            let (Some((len, lo)), Some((_, hi))) = (code(&lo), code(&hi)) else {
                continue;
            };
            match dst {
                Tok::Hex(d) => self.push(len, lo, hi, &d, budget),
                // One destination per code: kept as single codes.
                Tok::Open => {
                    let mut c = lo;
                    while let Some(Tok::Hex(d)) = toks.next() {
                        if c <= hi {
                            self.push(len, c, c, &d, budget);
                            c += 1;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// The code at the start of `s`: its length and value. Codes are read by
    /// the code space; without one, by the lengths the mappings use.
    fn code_at(&self, s: &[u8]) -> (usize, Option<u32>) {
        let fits = |len: usize| s.get(..len).and_then(code).map(|(_, v)| v);
        if self.spaces.is_empty() {
            for len in 1..=4u8 {
                if let Some(v) = fits(usize::from(len)) {
                    if self.find(len, v).is_some() {
                        return (usize::from(len), Some(v));
                    }
                }
            }
            return (1, None);
        }
        for &(len, lo, hi) in &self.spaces {
            if let Some(v) = fits(usize::from(len)).filter(|v| (lo..=hi).contains(v)) {
                return (usize::from(len), Some(v));
            }
        }
        (1, None)
    }

    fn find(&self, len: u8, v: u32) -> Option<&Range> {
        let i = self.ranges.partition_point(|r| (r.len, r.lo) <= (len, v));
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (r.len == len && v <= r.hi).then_some(r)
    }

    /// Appends the text of the codes in `s` to `out`. A code with no mapping
    /// becomes U+FFFD, so that it joins nothing on either side.
    pub(crate) fn decode(&self, s: &[u8], out: &mut String) {
        let mut i = 0;
        while i < s.len() {
            let (n, v) = self.code_at(s.get(i..).unwrap_or(&[]));
            i += n;
            let found = v
                .zip(u8::try_from(n).ok())
                .and_then(|(v, len)| self.find(len, v).map(|r| (r, v - r.lo)));
            let Some((r, k)) = found else {
                out.push('\u{FFFD}');
                continue;
            };
            let at = r.at as usize;
            let units = self.pool.get(at..at + usize::from(r.n)).unwrap_or(&[]);
            let (last, head) = units.split_last().unwrap_or((&0xFFFD, &[]));
            push_utf16(
                head.iter().copied().chain([last.wrapping_add(k as u16)]),
                out,
            );
        }
    }
}

fn push_utf16(units: impl IntoIterator<Item = u16>, out: &mut String) {
    out.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roomy() -> Budget {
        Budget {
            ranges: 1000,
            units: 1000,
            hit: false,
        }
    }

    fn text(map: &CMap, s: &[u8]) -> String {
        let mut out = String::new();
        map.decode(s, &mut out);
        out
    }

    #[test]
    fn two_byte_codes_through_chars_and_ranges() {
        let map = CMap::parse(
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
              /CMapName /Adobe-Identity-UCS def\n\
              1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
              2 beginbfchar <0003> <0020> <0010> <9673> endbfchar\n\
              2 beginbfrange <0020> <0029> <0041>\n<0030> <0031> [<0066006C> <00660069>] endbfrange\n\
              endcmap CMapName currentdict /CMap defineresource pop end end",
            &mut roomy(),
        );
        // A, space, 陳, B, the ligature "fl", then a code with no mapping.
        assert_eq!(
            text(&map, b"\x00\x20\x00\x03\x00\x10\x00\x21\x00\x30\x07\x77"),
            "A 陳Bfl\u{FFFD}"
        );
    }

    #[test]
    fn one_byte_codes_without_a_code_space() {
        let map = CMap::parse(
            b"beginbfrange <41> <5A> <0061> endbfrange beginbfchar <20> <0020> endbfchar",
            &mut roomy(),
        );
        assert_eq!(text(&map, b"HK ID"), "hk id");
    }

    #[test]
    fn a_mapping_past_a_two_byte_unit_is_utf16() {
        // U+20BB7 (𠮷) as a surrogate pair.
        let map = CMap::parse(b"1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfchar <01> <D842DFB7> endbfchar", &mut roomy());
        assert_eq!(text(&map, b"\x01"), "\u{20BB7}");
    }

    #[test]
    fn maps_past_the_budget_are_dropped_and_say_so() {
        let mut budget = Budget {
            ranges: 2,
            units: 10,
            hit: false,
        };
        let map = CMap::parse(
            b"beginbfchar <01> <0041> <02> <0042> <03> <0043> endbfchar",
            &mut budget,
        );
        assert!(budget.hit);
        assert_eq!(text(&map, b"\x01\x02\x03"), "AB\u{FFFD}");
        let mut budget = Budget {
            ranges: 10,
            units: 3,
            hit: false,
        };
        CMap::parse(
            b"beginbfchar <01> <004100420043> <02> <0042> endbfchar",
            &mut budget,
        );
        assert!(budget.hit, "units count too");
    }

    #[test]
    fn garbage_is_bounded_and_never_panics() {
        let map = CMap::parse(b"beginbfrange <FFFF> <0000> <0041> <01> endbfrange beginbfchar <0102030405> <41> endbfchar <", &mut roomy());
        assert_eq!(text(&map, b"\x01\x02"), "\u{FFFD}\u{FFFD}");
        let map = CMap::parse(b"", &mut roomy());
        assert_eq!(text(&map, b"ab"), "\u{FFFD}\u{FFFD}");
    }
}
