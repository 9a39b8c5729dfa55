//! Excel 97–2003 cells: the BIFF8 records of a Workbook stream, shared
//! strings read across their CONTINUE records, numbers as typed; and the
//! text a sheet keeps outside its cells: page headers and footers (the
//! first and even pages' too), comments and text boxes, hyperlinks and
//! data-validation lists.

use super::{u16_at, u32_at};
use crate::inspect::decode::columns::Columns;
use crate::inspect::decode::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// The record stream of a BIFF8 workbook.
struct Records<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let kind = u16_at(self.b, self.at)?;
        let len = usize::from(u16_at(self.b, self.at + 2)?);
        let body = self.b.get(self.at + 4..self.at + 4 + len)?;
        self.at += 4 + len;
        Some((kind, body))
    }
}

const BOF: u16 = 0x0809;
const FILEPASS: u16 = 0x002F;
const SST: u16 = 0x00FC;
const CONTINUE: u16 = 0x003C;
const LABELSST: u16 = 0x00FD;
const LABEL: u16 = 0x0204;
const NUMBER: u16 = 0x0203;
const RK: u16 = 0x027E;
const MULRK: u16 = 0x00BD;
const FORMULA: u16 = 0x0006;
const STRING: u16 = 0x0207;
const BOUNDSHEET: u16 = 0x0085;
const HEADER: u16 = 0x0014;
const FOOTER: u16 = 0x0015;
const HEADERFOOTER: u16 = 0x089C;
const NOTE: u16 = 0x001C;
const TXO: u16 = 0x01B6;
const HLINK: u16 = 0x01B8;
const HLINKTOOLTIP: u16 = 0x0800;
const DV: u16 = 0x01BE;

/// Most shared strings kept; a workbook with more has its later ones cut.
const MAX_SST: usize = 1 << 20;

/// Reads across the CONTINUE records a long record is split into. A string's
/// characters that cross into the next record start it with a fresh flags
/// byte (the width of what follows); nothing else does.
struct Continued<'a> {
    parts: Vec<&'a [u8]>,
    part: usize,
    at: usize,
}

impl Continued<'_> {
    fn byte(&mut self) -> Option<u8> {
        loop {
            let p = self.parts.get(self.part)?;
            if let Some(&b) = p.get(self.at) {
                self.at += 1;
                return Some(b);
            }
            self.part += 1;
            self.at = 0;
        }
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    fn skip(&mut self, mut n: usize) -> Option<()> {
        while n > 0 {
            let p = self.parts.get(self.part)?;
            let left = p.len() - self.at.min(p.len());
            if left == 0 {
                self.part += 1;
                self.at = 0;
                continue;
            }
            let step = left.min(n);
            self.at += step;
            n -= step;
        }
        Some(())
    }

    /// `cch` characters, 8- or 16-bit by `high`, each record change re-read.
    fn chars(&mut self, cch: usize, mut high: bool, out: &mut String) -> Option<()> {
        for _ in 0..cch {
            let p = self.parts.get(self.part)?;
            if self.at >= p.len() {
                self.part += 1;
                self.at = 0;
                high = self.byte()? & 1 != 0;
            }
            let c = if high {
                u32::from(self.u16()?)
            } else {
                u32::from(self.byte()?)
            };
            out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
        }
        Some(())
    }

    /// An XLUnicodeRichExtendedString (the shared strings' form).
    fn rich_string(&mut self) -> Option<String> {
        let cch = usize::from(self.u16()?);
        let flags = self.byte()?;
        let runs = if flags & 0x08 != 0 { self.u16()? } else { 0 };
        let ext = if flags & 0x04 != 0 { self.u32()? } else { 0 };
        let mut s = String::new();
        self.chars(cch, flags & 1 != 0, &mut s)?;
        self.skip(usize::from(runs) * 4)?;
        self.skip(ext as usize)?;
        Some(s)
    }
}

/// An XLUnicodeString inside one record (labels, cached formula strings).
fn short_string(b: &[u8], at: usize) -> String {
    let mut c = Continued {
        parts: vec![b.get(at..).unwrap_or(&[])],
        part: 0,
        at: 0,
    };
    let mut s = String::new();
    if let (Some(cch), Some(flags)) = (c.u16(), c.byte()) {
        c.chars(usize::from(cch), flags & 1 != 0, &mut s);
    }
    s
}

/// An XLUnicodeString at `at` and where it ends, whole or not at all.
fn string_at(b: &[u8], at: usize) -> Option<(String, usize)> {
    let cch = usize::from(u16_at(b, at)?);
    let high = *b.get(at + 2)? & 1 != 0;
    let start = at + 3;
    let end = start + if high { cch * 2 } else { cch };
    let raw = b.get(start..end)?;
    let s = if high {
        super::utf16le(raw).into_owned()
    } else {
        raw.iter().map(|&c| char::from(c)).collect()
    };
    Some((s, end))
}

/// A page header or footer without its codes: `&L`, `&C` and `&R` start
/// the left, centre and right parts, `&"Arial,Bold"`, `&12` and `&K` colours
/// set the font, `&P`, `&D` and the like are fields, `&&` is `&`. Left as
/// they are, codes run into the text (`&RA123456(3)`). XLSB headers keep
/// the same codes.
pub(in crate::inspect::decode) fn header_text(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '&' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('&') => out.push('&'),
            Some('L' | 'C' | 'R') => out.push('\n'),
            Some('"') => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                }
            }
            Some('K') => {
                for _ in 0..6 {
                    chars.next();
                }
            }
            Some(d) if d.is_ascii_digit() => while chars.next_if(char::is_ascii_digit).is_some() {},
            // Formatting toggles can fall inside a word; fields cannot.
            Some('B' | 'I' | 'U' | 'E' | 'X' | 'Y' | 'S' | 'O' | 'H') => {}
            Some(_) => out.push(' '),
            None => {}
        }
    }
    out
}

/// The even and first pages' headers and footers Excel 2007 and later
/// write beside HEADER and FOOTER (HEADERFOOTER: a future-record header,
/// 12 bytes, and the sheet view, 16; flags; the counts of the even header
/// and footer and the first ones; then each string whose count is not 0).
/// A string cut short ends the reading: where the next starts is lost.
fn header_footer(b: &[u8], out: &mut Vec<String>) -> Option<()> {
    let mut at = 38;
    for k in 0..4 {
        if u16_at(b, 30 + 2 * k)? == 0 {
            continue;
        }
        let (s, end) = string_at(b, at)?;
        out.push(header_text(&s));
        at = end;
    }
    Some(())
}

/// A piece of text of its own, if there is any.
fn piece<S: TextSink>(text: &str, cx: &mut Cx<S>) {
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    if !text.is_empty() {
        cx.sink.text(text.as_bytes());
        cx.sink.boundary();
    }
}

/// A hyperlink ([MS-OSHARED] Hyperlink Object after the cell range and
/// class id): its display text, its target (a URL, a file path, or a
/// moniker saved as a string) and its place in the workbook. Monikers of
/// other kinds end the reading: what follows them cannot be found.
fn hyperlink(b: &[u8], out: &mut Vec<String>) -> Option<()> {
    const URL_MONIKER: [u8; 16] = [
        0xE0, 0xC9, 0xEA, 0x79, 0xF9, 0xBA, 0xCE, 0x11, 0x8C, 0x82, 0x00, 0xAA, 0x00, 0x4B, 0xA9,
        0x0B,
    ];
    const FILE_MONIKER: [u8; 16] = [0x03, 0x03, 0, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46];
    // A length-prefixed UTF-16 string (its length in characters, its NUL
    // included), and where it ends.
    let wide = |at: usize| -> Option<(String, usize)> {
        let n = (u32_at(b, at)? as usize).checked_mul(2)?;
        let end = (at + 4).checked_add(n)?;
        let s = super::utf16le(b.get(at + 4..end)?);
        Some((s.split('\0').next().unwrap_or("").to_owned(), end))
    };
    let flags = u32_at(b, 28)?;
    let mut at = 32;
    if flags & 0x10 != 0 {
        let (s, end) = wide(at)?;
        out.push(s);
        at = end;
    }
    if flags & 0x80 != 0 {
        at = wide(at)?.1;
    }
    if flags & 0x01 != 0 {
        if flags & 0x100 != 0 {
            let (s, end) = wide(at)?;
            out.push(s);
            at = end;
        } else {
            let class = b.get(at..at + 16)?;
            at += 16;
            if class == URL_MONIKER {
                let n = u32_at(b, at)? as usize;
                let end = (at + 4).checked_add(n)?;
                let url = super::utf16le(b.get(at + 4..end)?);
                out.push(url.split('\0').next().unwrap_or("").to_owned());
                at = end;
            } else if class == FILE_MONIKER {
                let n = u32_at(b, at + 2)? as usize;
                let path_end = (at + 6).checked_add(n)?;
                let ansi = b.get(at + 6..path_end)?;
                // Up-levels, the ANSI path, then the server and version
                // words and 20 reserved bytes before the Unicode path.
                let size_at = path_end + 24;
                let size = u32_at(b, size_at)? as usize;
                let unicode = if size == 0 {
                    None
                } else {
                    let bytes = u32_at(b, size_at + 4)? as usize;
                    let start = size_at + 10;
                    let path = b.get(start..start.checked_add(bytes)?)?;
                    Some(super::utf16le(path).into_owned())
                };
                let path = unicode.unwrap_or_else(|| {
                    let ansi = ansi.split(|&c| c == 0).next().unwrap_or(&[]);
                    encoding_rs::WINDOWS_1252.decode(ansi).0.into_owned()
                });
                out.push(path);
                at = (size_at + 4).checked_add(size)?;
            } else {
                return None;
            }
        }
    }
    if flags & 0x08 != 0 {
        out.push(wide(at)?.0);
    }
    Some(())
}

/// A data-validation rule's texts: the input message's title and text, the
/// error message's, and for a list typed in the rule its entries.
fn validation(b: &[u8], out: &mut Vec<String>) -> Option<()> {
    let flags = u32_at(b, 0)?;
    let mut at = 4;
    for _ in 0..4 {
        let (s, end) = string_at(b, at)?;
        out.push(s);
        at = end;
    }
    // The first formula: for a typed list, one string token (PtgStr) whose
    // entries are NUL-separated.
    let cce = usize::from(u16_at(b, at)?);
    let rgce = b.get(at + 4..at + 4 + cce)?;
    if flags & 0x0F == 3 && rgce.first() == Some(&0x17) {
        let cch = usize::from(*rgce.get(1)?);
        let high = *rgce.get(2)? & 1 != 0;
        let raw = rgce.get(3..)?;
        let list = if high {
            super::utf16le(raw.get(..(cch * 2).min(raw.len()))?).into_owned()
        } else {
            let raw = raw.get(..cch.min(raw.len()))?;
            raw.iter().map(|&c| char::from(c)).collect()
        };
        out.extend(list.split('\0').map(str::to_owned));
    }
    Some(())
}

/// An RK number: a 30-bit integer or the top of a double, maybe over 100.
/// XLSB cells keep the same form.
pub(in crate::inspect::decode) fn rk(v: u32) -> f64 {
    let n = if v & 2 != 0 {
        f64::from((v as i32) >> 2)
    } else {
        f64::from_bits(u64::from(v & !3) << 32)
    };
    if v & 1 != 0 {
        n / 100.0
    } else {
        n
    }
}

/// A number as a person would type it: 66123456, not 66123456.0.
pub(in crate::inspect::decode) fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The cells of a BIFF8 workbook, sheet by sheet: each sheet's first row
/// names its columns, as in an XLSX.
pub(super) fn biff<S: TextSink>(book: &[u8], cx: &mut Cx<S>) {
    let records: Vec<(u16, &[u8])> = Records { b: book, at: 0 }.collect();
    let mut sst: Vec<String> = Vec::new();
    let mut columns = Columns::new();
    // The row of the last cell read: a sheet's cells come row by row.
    let mut last_row: Option<u16> = None;
    let mut i = 0;
    while let Some(&(kind, body)) = records.get(i) {
        i += 1;
        let row_col = || Some((u16_at(body, 0)?, usize::from(u16_at(body, 2)?)));
        let mut put = |row: u16, col: usize, text: &str, cx: &mut Cx<S>| {
            if last_row != Some(row) {
                columns.end_row(cx);
                last_row = Some(row);
            }
            columns.cell(text.as_bytes(), col, cx);
        };
        match kind {
            FILEPASS => {
                cx.incomplete(
                    IncompleteReason::Encrypted,
                    "password-protected Excel workbook",
                );
                return;
            }
            BOF => {
                columns.next_sheet(cx);
                last_row = None;
            }
            HEADER | FOOTER => {
                // An empty record is a sheet without one.
                if let Some((raw, _)) = string_at(body, 0) {
                    piece(&header_text(&raw), cx);
                }
            }
            HEADERFOOTER => {
                let mut texts = Vec::new();
                let _ = header_footer(body, &mut texts);
                texts.iter().for_each(|t| piece(t, cx));
            }
            NOTE => {
                // A comment's author; its text is in the TXO that follows
                // the comment's drawing object.
                if let Some((author, _)) = string_at(body, 8) {
                    piece(&author, cx);
                }
            }
            TXO => {
                // A comment's or text box's text: in the CONTINUE records
                // that follow, each opening with its width flag; then the
                // formatting runs, in more CONTINUE records.
                let mut parts = Vec::new();
                while let Some(&(CONTINUE, more)) = records.get(i) {
                    parts.push(more);
                    i += 1;
                }
                let cch = usize::from(u16_at(body, 10).unwrap_or(0));
                let mut c = Continued {
                    parts,
                    part: 0,
                    at: 0,
                };
                let mut text = String::new();
                if cch > 0 {
                    if let Some(flags) = c.byte() {
                        // A text cut short by a damaged record is read as far
                        // as it goes.
                        let _ = c.chars(cch, flags & 1 != 0, &mut text);
                    }
                }
                piece(&text, cx);
            }
            HLINK => {
                let mut texts = Vec::new();
                // A link read in part gives what it could.
                let _ = hyperlink(body, &mut texts);
                texts.iter().for_each(|t| piece(t, cx));
            }
            HLINKTOOLTIP => {
                let tip = super::utf16le(body.get(10..).unwrap_or(&[]));
                piece(tip.split('\0').next().unwrap_or(""), cx);
            }
            DV => {
                let mut texts = Vec::new();
                let _ = validation(body, &mut texts);
                texts.iter().for_each(|t| piece(t, cx));
            }
            BOUNDSHEET => {
                // The sheet's name.
                cx.sink.text(short_string(body, 6).as_bytes());
                cx.sink.boundary();
            }
            SST => {
                let mut parts = vec![body.get(8..).unwrap_or(&[])];
                while let Some(&(CONTINUE, more)) = records.get(i) {
                    parts.push(more);
                    i += 1;
                }
                let mut c = Continued {
                    parts,
                    part: 0,
                    at: 0,
                };
                let total = u32_at(body, 4).unwrap_or(0) as usize;
                while sst.len() < total.min(MAX_SST) {
                    match c.rich_string() {
                        Some(s) => sst.push(s),
                        None => break,
                    }
                }
            }
            LABELSST => {
                if let (Some((row, col)), Some(k)) = (row_col(), u32_at(body, 6)) {
                    let text = sst.get(k as usize).map_or("", String::as_str);
                    put(row, col, text, cx);
                }
            }
            LABEL => {
                if let Some((row, col)) = row_col() {
                    put(row, col, &short_string(body, 6), cx);
                }
            }
            NUMBER | FORMULA => {
                let value = body
                    .get(6..14)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes);
                if let (Some((row, col)), Some(bits)) = (row_col(), value) {
                    // A formula whose result is text says so here (its text
                    // follows in a STRING record).
                    if kind == FORMULA && bits >> 48 == 0xFFFF {
                        if let Some(&(STRING, s)) = records.get(i) {
                            put(row, col, &short_string(s, 0), cx);
                            i += 1;
                        }
                    } else {
                        put(row, col, &number(f64::from_bits(bits)), cx);
                    }
                }
            }
            RK => {
                if let (Some((row, col)), Some(v)) = (row_col(), u32_at(body, 6)) {
                    put(row, col, &number(rk(v)), cx);
                }
            }
            MULRK => {
                if let Some((row, first)) = row_col() {
                    let n = body.len().saturating_sub(6) / 6;
                    for k in 0..n {
                        if let Some(v) = u32_at(body, 4 + k * 6 + 2) {
                            put(row, first + k, &number(rk(v)), cx);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    columns.end_row(cx);
}
