//! HTML and XML read as text: character references (`&#x91AB;`, `&#49;`,
//! `&eacute;`, `&amp;`) undone on the way to the sink, and an HTML table's
//! first row (or `<thead>`) taken as the names of its columns, as a CSV's
//! header is. Editors, mail clients and XML serializers escape whatever is
//! not ASCII, so without the first a page saying 醫生紙 or "atestado
//! m&eacute;dico" reads as nothing; without the second a staff list headed
//! 電話 gives its numbers no context past the first few rows. Tags stay in
//! the text: to the detectors they separate words as punctuation does.

use encoding_rs::Encoding;
use memchr::{memchr, memchr2};

use super::cx::Cx;
use super::{MAX_COLUMNS, MAX_HEADER};
use crate::inspect::sink::TextSink;

/// Longest reference read: `&#x0010FFFF;`, or a name. Anything longer is
/// text that happens to contain `&`.
const MAX_REF: usize = 32;
/// Bytes of a tag kept for reading its name and `colspan`.
const TAG_KEEP: usize = 256;
/// A tag longer than this (an unclosed quote) is given up on: the bytes after
/// it are read as text again.
const TAG_MOST: usize = 4096;
/// Decoded text held before it is handed to the sink.
const FLUSH_AT: usize = 32 << 10;
/// Tables nested deeper than this are read as text.
const MAX_TABLES: usize = 8;

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

/// What the bytes being read are, to the tag reader.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    /// Inside `<…>`.
    Tag,
    /// Inside `<!-- … -->`: tags there are not tags.
    Comment,
    /// Inside `<script>` or `<style>`, up to the closing tag named here:
    /// `if (a<b)` is code, not a tag.
    Raw(&'static [u8]),
}

/// One open `<table>`: its column names and where its rows have got to.
#[derive(Default)]
struct Table {
    headers: Vec<Vec<u8>>,
    rows: u32,
    col: usize,
    in_head: bool,
    /// The row being read names the columns (the first, or one in `<thead>`).
    header_row: bool,
}

pub(crate) struct MarkupNode {
    /// Tables mean columns only in HTML; XML gets its references undone.
    html: bool,
    state: Ref,
    /// The reference's bytes so far: written out as they were if it is not one.
    raw: [u8; MAX_REF],
    len: usize,
    /// A numeric reference's value, saturated past the last code point.
    value: u32,
    mode: Mode,
    tag: Vec<u8>,
    tag_len: usize,
    quote: u8,
    /// `-` seen in a row (a comment ends at `-->`), or bytes of a raw
    /// element's closing tag matched.
    run: usize,
    tables: Vec<Table>,
    /// `<table>`s past `MAX_TABLES` still open, so their ends are not ours.
    deeper: u32,
    /// The open cell's first column and span in the innermost table.
    cell: Option<(usize, usize)>,
    /// The open cell names its column: its text (not its tags) is kept.
    naming: bool,
    name: Vec<u8>,
    /// Decoded text not yet handed to the sink (tags and references come a
    /// byte at a time; the sink is called once per run).
    out: Vec<u8>,
}

impl MarkupNode {
    pub fn new(html: bool) -> Self {
        MarkupNode {
            html,
            state: Ref::None,
            raw: [0; MAX_REF],
            len: 0,
            value: 0,
            mode: Mode::Text,
            tag: Vec::new(),
            tag_len: 0,
            quote: 0,
            run: 0,
            tables: Vec::new(),
            deeper: 0,
            cell: None,
            naming: false,
            name: Vec::new(),
            out: Vec::new(),
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        while let Some(&c) = data.first() {
            let run = if self.state != Ref::None {
                0
            } else {
                self.plain_run(data)
            };
            if run > 0 {
                let (bytes, rest) = data.split_at(run);
                self.bulk(bytes, cx);
                data = rest;
            } else {
                self.byte(c, cx);
                data = data.get(1..).unwrap_or(&[]);
            }
            // A script or a comment is not handed on tag by tag: in pieces,
            // not held whole.
            if self.out.len() >= FLUSH_AT && self.mode != Mode::Tag {
                self.flush(cx);
            }
        }
        // A tag cut by the chunk's end waits whole: where its bytes go
        // depends on what the tag turns out to be.
        if self.mode != Mode::Tag {
            self.flush(cx);
        }
    }

    /// How many bytes from the start of `data` `byte` would take one by one
    /// without doing anything but pass them on: those go in one piece. Every
    /// byte that can change the state (`<`, `&`, `>`, quotes, `-` in a
    /// comment) ends the run.
    fn plain_run(&self, data: &[u8]) -> usize {
        let stop = match self.mode {
            Mode::Text if self.html => memchr2(b'<', b'&', data),
            Mode::Text => memchr(b'&', data),
            // Past its first bytes (which may open a comment, `!--`), a tag's
            // bytes matter only at `>`, a quote or `&`. Tags are short: a
            // plain loop, where a `memchr` per tag cost more than it saved.
            Mode::Tag if self.tag.len() >= 3 => {
                let room = TAG_MOST.saturating_sub(self.tag_len).min(data.len());
                let quote = self.quote;
                let ahead = data.get(..room).unwrap_or(&[]);
                return ahead
                    .iter()
                    .position(|&b| {
                        b == b'&'
                            || if quote != 0 {
                                b == quote
                            } else {
                                matches!(b, b'>' | b'"' | b'\'')
                            }
                    })
                    .unwrap_or(room);
            }
            Mode::Comment if self.run == 0 => memchr2(b'-', b'&', data),
            Mode::Raw(_) if self.run == 0 => memchr2(b'<', b'&', data),
            _ => Some(0),
        };
        stop.unwrap_or(data.len())
    }

    /// A run `plain_run` found.
    fn bulk<S: TextSink>(&mut self, run: &[u8], cx: &mut Cx<S>) {
        match self.mode {
            Mode::Text => self.text_run(run, cx),
            Mode::Tag => {
                self.emit(run);
                self.tag_len += run.len();
                let room = TAG_KEEP.saturating_sub(self.tag.len()).min(run.len());
                self.tag.extend_from_slice(run.get(..room).unwrap_or(&[]));
            }
            Mode::Comment | Mode::Raw(_) => self.emit(run),
        }
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        match self.state {
            // A numeric reference cut by the end still counts (browsers agree).
            Ref::Dec | Ref::Hex => self.emit_value(),
            Ref::None => {}
            _ => self.literal(),
        }
        self.close_cell(cx, false);
        self.flush(cx);
        cx.sink.boundary();
    }

    /// Plain text (no `<`, no `&`, no reference open).
    fn text_run<S: TextSink>(&mut self, run: &[u8], cx: &mut Cx<S>) {
        if self.naming {
            self.keep_name(run);
        }
        self.flush(cx);
        cx.sink.text(run);
    }

    /// One byte: through the tag reader, then out as text.
    fn byte<S: TextSink>(&mut self, c: u8, cx: &mut Cx<S>) {
        match self.mode {
            Mode::Text if c == b'<' && self.html => {
                // `<` ends any reference, and the tag's bytes are held apart
                // from the text before it: a cell's value ends before its
                // closing tag, and a cell's opening tag is not in its value.
                if self.state != Ref::None {
                    self.step(c);
                }
                self.flush(cx);
                self.mode = Mode::Tag;
                self.tag.clear();
                self.tag_len = 0;
                self.quote = 0;
                self.emit(&[c]);
            }
            Mode::Text => self.out_byte(c),
            Mode::Tag => {
                self.out_byte(c);
                self.tag_byte(c, cx);
            }
            Mode::Comment => {
                self.out_byte(c);
                if c == b'>' && self.run >= 2 {
                    self.mode = Mode::Text;
                }
                self.run = if c == b'-' { self.run + 1 } else { 0 };
            }
            Mode::Raw(end) => {
                self.out_byte(c);
                let want = |k: usize| end.get(k).copied();
                if Some(c.to_ascii_lowercase()) == want(self.run) {
                    self.run += 1;
                } else {
                    self.run = usize::from(c == b'<');
                }
                if self.run == end.len() {
                    // The closing tag itself is read as any tag.
                    self.mode = Mode::Tag;
                    self.tag.clear();
                    self.tag.extend_from_slice(end.get(1..).unwrap_or(&[]));
                    self.tag_len = end.len();
                    self.quote = 0;
                }
            }
        }
    }

    fn tag_byte<S: TextSink>(&mut self, c: u8, cx: &mut Cx<S>) {
        self.tag_len += 1;
        if self.tag_len > TAG_MOST {
            self.mode = Mode::Text;
            return;
        }
        if self.quote != 0 {
            if c == self.quote {
                self.quote = 0;
            }
            if self.tag.len() < TAG_KEEP {
                self.tag.push(c);
            }
            return;
        }
        match c {
            b'>' => {
                self.mode = Mode::Text;
                self.end_tag(cx);
                return;
            }
            // A quote opens an attribute's value only after its `=`.
            b'"' | b'\''
                if self.tag.iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'=') =>
            {
                self.quote = c;
            }
            _ => {}
        }
        if self.tag.len() < TAG_KEEP {
            self.tag.push(c);
        }
        if self.tag.as_slice() == b"!--" {
            self.mode = Mode::Comment;
            self.run = 0;
        }
    }

    /// A whole tag has been read (its bytes are in `self.tag`, without `<>`).
    fn end_tag<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if !self.html {
            return;
        }
        let (closing, rest) = match self.tag.split_first() {
            Some((b'/', rest)) => (true, rest),
            _ => (false, self.tag.as_slice()),
        };
        let end = rest
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let mut name = [0u8; 8];
        let Some(n) = rest.get(..end).filter(|n| n.len() <= name.len()) else {
            return;
        };
        for (d, s) in name.iter_mut().zip(n) {
            *d = s.to_ascii_lowercase();
        }
        let name = name.get(..n.len()).unwrap_or(&[]);
        match (name, closing) {
            (b"script", false) => {
                self.mode = Mode::Raw(b"</script");
                self.run = 0;
            }
            (b"style", false) => {
                self.mode = Mode::Raw(b"</style");
                self.run = 0;
            }
            (b"table", false) => {
                if self.tables.len() < MAX_TABLES {
                    self.close_cell(cx, true);
                    self.tables.push(Table::default());
                } else {
                    self.deeper += 1;
                }
            }
            (b"table", true) => {
                if self.deeper > 0 {
                    self.deeper -= 1;
                } else {
                    self.close_cell(cx, true);
                    self.tables.pop();
                }
            }
            _ if self.deeper > 0 || self.tables.is_empty() => {}
            (b"thead", _) => {
                if let Some(t) = self.tables.last_mut() {
                    t.in_head = !closing;
                }
            }
            (b"tbody" | b"tfoot", false) => {
                if let Some(t) = self.tables.last_mut() {
                    t.in_head = false;
                }
            }
            (b"tr", false) => {
                self.close_cell(cx, true);
                if let Some(t) = self.tables.last_mut() {
                    t.rows += 1;
                    t.col = 0;
                    t.header_row = t.in_head || t.rows == 1;
                }
            }
            (b"td" | b"th", false) => {
                self.close_cell(cx, true);
                let span = colspan(&self.tag);
                self.open_cell(span, cx);
            }
            (b"tr" | b"td" | b"th", true) => self.close_cell(cx, true),
            _ => {}
        }
    }

    /// A cell opens: a value of its own, under its column's name.
    fn open_cell<S: TextSink>(&mut self, span: usize, cx: &mut Cx<S>) {
        let Some(t) = self.tables.last_mut() else {
            return;
        };
        if t.rows == 0 {
            // Cells before any `<tr>` (browsers add one).
            t.rows = 1;
            t.header_row = true;
        }
        let col = t.col;
        t.col = t.col.saturating_add(span);
        self.naming = t.header_row;
        self.name.clear();
        self.cell = Some((col, span));
        // The opening tag ends the value before the cell's.
        self.flush(cx);
        cx.sink.boundary();
        let header = self
            .tables
            .last()
            .filter(|t| !t.header_row)
            .and_then(|t| t.headers.get(col))
            .filter(|h| !h.is_empty());
        if let Some(h) = header {
            cx.sink.field(h);
        }
    }

    /// The open cell ends. Inside a tag (`in_tag`) the tag's bytes wait in
    /// `out` and go to the value after the cell's.
    fn close_cell<S: TextSink>(&mut self, cx: &mut Cx<S>, in_tag: bool) {
        let Some((col, span)) = self.cell.take() else {
            return;
        };
        if self.naming {
            let name = self.name.trim_ascii();
            if let Some(t) = self.tables.last_mut() {
                // A heading over several columns names each of them.
                for c in col..(col + span).min(MAX_COLUMNS) {
                    if t.headers.len() <= c {
                        t.headers.resize(c + 1, Vec::new());
                    }
                    if let Some(h) = t.headers.get_mut(c) {
                        h.clear();
                        h.extend_from_slice(name);
                    }
                }
            }
        }
        self.naming = false;
        if !in_tag {
            self.flush(cx);
        }
        cx.sink.boundary();
    }

    fn keep_name(&mut self, text: &[u8]) {
        let room = MAX_HEADER.saturating_sub(self.name.len());
        self.name
            .extend_from_slice(text.get(..room.min(text.len())).unwrap_or(&[]));
    }

    /// Decoded text, held until the next call to the sink.
    fn emit(&mut self, text: &[u8]) {
        if self.naming && self.mode == Mode::Text {
            self.keep_name(text);
        }
        self.out.extend_from_slice(text);
    }

    fn flush<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if !self.out.is_empty() {
            cx.sink.text(&self.out);
            self.out.clear();
        }
    }

    /// One byte of text through the reference decoder.
    fn out_byte(&mut self, c: u8) {
        if self.state != Ref::None && self.step(c) {
            return;
        }
        if c == b'&' {
            self.begin();
        } else {
            self.emit(&[c]);
        }
    }

    fn begin(&mut self) {
        self.state = Ref::Amp;
        self.raw[0] = b'&';
        self.len = 1;
        self.value = 0;
    }

    /// Takes one byte of a reference; false if the byte ended it without
    /// being part of it (it is then read again as text).
    fn step(&mut self, c: u8) -> bool {
        if self.len >= MAX_REF {
            self.literal();
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
                self.emit_value();
                return true;
            }
            // `&#49` followed by something else is still 1, as in browsers.
            (Ref::Dec | Ref::Hex, _) => {
                self.emit_value();
                return false;
            }
            (Ref::Name, b';') => {
                match named(self.raw.get(1..self.len).unwrap_or(&[])) {
                    Some(s) => {
                        self.emit(s.as_bytes());
                        self.state = Ref::None;
                    }
                    None => {
                        self.push(c);
                        self.literal();
                    }
                }
                return true;
            }
            _ => {
                self.literal();
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
    fn literal(&mut self) {
        let raw = self.raw;
        self.emit(raw.get(..self.len).unwrap_or(&[]));
        self.state = Ref::None;
    }

    fn emit_value(&mut self) {
        let mut utf8 = [0u8; 4];
        let c = code_point(self.value);
        self.emit(c.encode_utf8(&mut utf8).as_bytes());
        self.state = Ref::None;
    }
}

/// A cell's `colspan` (1 if none or unreadable; at most 64).
fn colspan(tag: &[u8]) -> usize {
    const KEY: &[u8] = b"colspan";
    let Some(at) = tag
        .windows(KEY.len())
        .position(|w| w.eq_ignore_ascii_case(KEY))
    else {
        return 1;
    };
    let rest = tag.get(at + KEY.len()..).unwrap_or(&[]);
    let digits = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || matches!(b, b'=' | b'"' | b'\''))
        .take_while(|b| b.is_ascii_digit())
        .take(3)
        .fold(0usize, |n, &b| n * 10 + usize::from(b - b'0'));
    digits.clamp(1, 64)
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
    use proptest::prelude::*;

    use super::*;
    use crate::inspect::decode::Limits;
    use crate::inspect::sink::RecordingSink;

    fn run(parts: &[&[u8]]) -> Vec<crate::inspect::sink::SinkEvent> {
        let mut cx = Cx::new(RecordingSink::default(), &Limits::default());
        let mut node = MarkupNode::new(true);
        for p in parts {
            node.feed(p, &mut cx);
        }
        node.finish(&mut cx);
        cx.sink.events
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Tags, references, quotes, comments and scripts in any order and
        /// cut anywhere: the same events, and no panic.
        #[test]
        fn markup_soup_splits_alike(
            pieces in proptest::collection::vec(prop_oneof![
                Just("<table>"), Just("</table>"), Just("<tr>"), Just("</tr>"),
                Just("<td>"), Just("</td>"), Just("<th colspan='3'>"), Just("</th>"),
                Just("<thead>"), Just("</thead>"), Just("<tbody>"), Just("<script>"),
                Just("</script>"), Just("<style>"), Just("</STYLE>"), Just("<!--"), Just("-->"),
                Just("<a href=\"x>y\">"), Just("<b"), Just(">"), Just("\""), Just("'"),
                Just("&amp;"), Just("&#x91AB;"), Just("&#49"), Just("&"), Just("<"),
                Just("電話"), Just("6123 4567"), Just(" "), Just("="),
            ], 0..80),
            cut in 0usize..400,
        ) {
            let doc: String = pieces.concat();
            let b = doc.as_bytes();
            let cut = cut.min(b.len());
            let whole = run(&[b]);
            prop_assert_eq!(run(&[&b[..cut], &b[cut..]]), whole.clone());
            let bytes: Vec<&[u8]> = b.chunks(1).collect();
            prop_assert_eq!(run(&bytes), whole);
        }
    }

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
