//! HTML and XML read as text: character references (`&#x91AB;`, `&#49;`,
//! `&eacute;`, `&amp;`) undone on the way to the sink. Editors, mail clients
//! and XML serializers escape whatever is not ASCII, so without this a page
//! saying 醫生紙 or "atestado m&eacute;dico" reads as nothing. Tags stay where
//! they are: to the detectors they separate words as punctuation does.

use encoding_rs::Encoding;
use memchr::memchr;

use super::cx::Cx;
use crate::inspect::sink::TextSink;

/// Longest reference read: `&#x0010FFFF;`, or a name. Anything longer is
/// text that happens to contain `&`.
const MAX_REF: usize = 32;

/// Where the reference being read has got to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ref {
    None,
    /// `&`
    Amp,
    /// `&#`
    Hash,
    /// `&#x`
    HashX,
    /// `&#` and decimal digits.
    Dec,
    /// `&#x` and hex digits.
    Hex,
    /// `&` and letters or digits.
    Name,
}

pub(crate) struct MarkupNode {
    state: Ref,
    /// The reference's bytes so far: written out as they were if it is not one.
    raw: [u8; MAX_REF],
    len: usize,
    /// A numeric reference's value, saturated past the last code point.
    value: u32,
}

impl MarkupNode {
    pub fn new() -> Self {
        MarkupNode {
            state: Ref::None,
            raw: [0; MAX_REF],
            len: 0,
            value: 0,
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        while !data.is_empty() {
            if self.state == Ref::None {
                let Some(amp) = memchr(b'&', data) else {
                    cx.sink.text(data);
                    return;
                };
                if amp > 0 {
                    cx.sink.text(data.get(..amp).unwrap_or(&[]));
                }
                self.begin();
                data = data.get(amp + 1..).unwrap_or(&[]);
                continue;
            }
            let Some((&c, rest)) = data.split_first() else {
                return;
            };
            if self.step(c, cx) {
                data = rest;
            }
        }
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        match self.state {
            // A numeric reference cut by the end still counts (browsers agree).
            Ref::Dec | Ref::Hex => self.emit_value(cx),
            Ref::None => {}
            _ => self.literal(cx),
        }
        cx.sink.boundary();
    }

    fn begin(&mut self) {
        self.state = Ref::Amp;
        self.raw[0] = b'&';
        self.len = 1;
        self.value = 0;
    }

    /// Takes one byte of a reference; false if the byte ended it without
    /// being part of it (it is then read again as text).
    fn step<S: TextSink>(&mut self, c: u8, cx: &mut Cx<S>) -> bool {
        if self.len >= MAX_REF {
            self.literal(cx);
            return false;
        }
        let next = match (self.state, c) {
            (Ref::Amp, b'#') => Ref::Hash,
            (Ref::Amp | Ref::Name, c) if c.is_ascii_alphanumeric() => Ref::Name,
            (Ref::Hash, b'x' | b'X') => Ref::HashX,
            (Ref::Hash | Ref::Dec, c) if c.is_ascii_digit() => {
                self.value = self
                    .value
                    .saturating_mul(10)
                    .saturating_add(u32::from(c - b'0'));
                Ref::Dec
            }
            (Ref::HashX | Ref::Hex, c) if c.is_ascii_hexdigit() => {
                let d = char::from(c).to_digit(16).unwrap_or(0);
                self.value = self.value.saturating_mul(16).saturating_add(d);
                Ref::Hex
            }
            (Ref::Dec | Ref::Hex, b';') => {
                self.emit_value(cx);
                return true;
            }
            // `&#49` followed by something else is still 1, as in browsers.
            (Ref::Dec | Ref::Hex, _) => {
                self.emit_value(cx);
                return false;
            }
            (Ref::Name, b';') => {
                match named(self.raw.get(1..self.len).unwrap_or(&[])) {
                    Some(s) => {
                        cx.sink.text(s.as_bytes());
                        self.state = Ref::None;
                    }
                    None => {
                        self.push(c);
                        self.literal(cx);
                    }
                }
                return true;
            }
            _ => {
                self.literal(cx);
                return false;
            }
        };
        self.push(c);
        self.state = next;
        true
    }

    fn push(&mut self, c: u8) {
        if let Some(slot) = self.raw.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }

    /// The reference was not one: its bytes are text.
    fn literal<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        cx.sink.text(self.raw.get(..self.len).unwrap_or(&[]));
        self.state = Ref::None;
    }

    fn emit_value<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let mut utf8 = [0u8; 4];
        cx.sink
            .text(code_point(self.value).encode_utf8(&mut utf8).as_bytes());
        self.state = Ref::None;
    }
}

/// The character a numeric reference stands for, as HTML reads it: the C1
/// range is Windows-1252 (what pages that write `&#150;` meant), and what
/// is no character (NUL, surrogates, past U+10FFFF) is U+FFFD.
fn code_point(v: u32) -> char {
    if (0x80..=0x9F).contains(&v) {
        let byte = [v as u8];
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
        return text.chars().next().unwrap_or('\u{FFFD}');
    }
    match char::from_u32(v) {
        Some('\0') | None => '\u{FFFD}',
        Some(c) => c,
    }
}

/// Named references: XML's five, the spaces and punctuation office software
/// writes, and the Latin-1 letters Portuguese text needs. An unknown name
/// is left as it was.
fn named(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"amp" | b"AMP" => "&",
        b"lt" | b"LT" => "<",
        b"gt" | b"GT" => ">",
        b"quot" | b"QUOT" => "\"",
        b"apos" => "'",
        b"nbsp" => "\u{A0}",
        b"ensp" => "\u{2002}",
        b"emsp" => "\u{2003}",
        b"thinsp" => "\u{2009}",
        b"shy" | b"zwnj" | b"zwj" => "",
        b"ndash" => "–",
        b"mdash" => "—",
        b"lsquo" => "‘",
        b"rsquo" => "’",
        b"ldquo" => "“",
        b"rdquo" => "”",
        b"laquo" => "«",
        b"raquo" => "»",
        b"hellip" => "…",
        b"bull" => "•",
        b"middot" => "·",
        b"ordf" => "ª",
        b"ordm" => "º",
        b"deg" => "°",
        b"sect" => "§",
        b"para" => "¶",
        b"copy" => "©",
        b"reg" => "®",
        b"times" => "×",
        b"divide" => "÷",
        b"euro" => "€",
        b"pound" => "£",
        b"yen" => "¥",
        b"cent" => "¢",
        b"Aacute" => "Á",
        b"aacute" => "á",
        b"Agrave" => "À",
        b"agrave" => "à",
        b"Acirc" => "Â",
        b"acirc" => "â",
        b"Atilde" => "Ã",
        b"atilde" => "ã",
        b"Auml" => "Ä",
        b"auml" => "ä",
        b"Ccedil" => "Ç",
        b"ccedil" => "ç",
        b"Eacute" => "É",
        b"eacute" => "é",
        b"Egrave" => "È",
        b"egrave" => "è",
        b"Ecirc" => "Ê",
        b"ecirc" => "ê",
        b"Euml" => "Ë",
        b"euml" => "ë",
        b"Iacute" => "Í",
        b"iacute" => "í",
        b"Igrave" => "Ì",
        b"igrave" => "ì",
        b"Icirc" => "Î",
        b"icirc" => "î",
        b"Iuml" => "Ï",
        b"iuml" => "ï",
        b"Ntilde" => "Ñ",
        b"ntilde" => "ñ",
        b"Oacute" => "Ó",
        b"oacute" => "ó",
        b"Ograve" => "Ò",
        b"ograve" => "ò",
        b"Ocirc" => "Ô",
        b"ocirc" => "ô",
        b"Otilde" => "Õ",
        b"otilde" => "õ",
        b"Ouml" => "Ö",
        b"ouml" => "ö",
        b"Uacute" => "Ú",
        b"uacute" => "ú",
        b"Ugrave" => "Ù",
        b"ugrave" => "ù",
        b"Ucirc" => "Û",
        b"ucirc" => "û",
        b"Uuml" => "Ü",
        b"uuml" => "ü",
        _ => return None,
    })
}

/// The charset a document declares in its own head: `<meta charset=…>`, a
/// `content="text/html; charset=…"` meta, or an XML declaration's
/// `encoding=`. Only the head is searched, as browsers only look there.
pub(crate) fn declared_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    if lower.starts_with(b"<?xml") {
        let decl = lower.get(..memchr(b'>', &lower).unwrap_or(lower.len()));
        if let Some(enc) = decl.and_then(|d| label_after(d, b"encoding=")) {
            return Some(enc);
        }
    }
    label_after(&lower, b"charset=")
}

/// The encoding named right after `key` (quoted or not).
fn label_after(hay: &[u8], key: &[u8]) -> Option<&'static Encoding> {
    let at = memchr::memmem::find(hay, key)? + key.len();
    let rest = hay.get(at..)?;
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || b"-_.:".contains(c)))
        .unwrap_or(rest.len());
    Encoding::for_label(rest.get(..end)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_charsets() {
        let cases: &[(&str, &[u8], Option<&str>)] = &[
            (
                "meta charset",
                b"<html><head><meta charset=\"Big5\">",
                Some("Big5"),
            ),
            (
                "http-equiv meta",
                b"<meta http-equiv=Content-Type content='text/html; charset=gb2312'>",
                Some("GBK"),
            ),
            (
                "xml declaration",
                b"<?xml version=\"1.0\" encoding='windows-1252'?><a/>",
                Some("windows-1252"),
            ),
            ("unknown label", b"<meta charset=\"klingon\">", None),
            ("none", b"<html><body>hi</body></html>", None),
        ];
        for (name, head, want) in cases {
            assert_eq!(
                declared_charset(head).map(Encoding::name),
                *want,
                "case {name}"
            );
        }
    }

    #[test]
    fn code_points_as_html_reads_them() {
        assert_eq!(code_point(0x41), 'A');
        assert_eq!(code_point(0x93), '\u{201C}', "C1 is Windows-1252");
        assert_eq!(code_point(0), '\u{FFFD}');
        assert_eq!(code_point(0xD800), '\u{FFFD}', "a surrogate");
        assert_eq!(code_point(u32::MAX), '\u{FFFD}');
        assert_eq!(named(b"atilde"), Some("ã"));
        assert_eq!(named(b"Atilde"), Some("Ã"));
        assert_eq!(named(b"atild"), None);
    }
}
