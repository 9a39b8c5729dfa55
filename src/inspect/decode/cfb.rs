//! Compound files (OLE2): Word 97–2003 documents (the text through the piece
//! table), Excel 97–2003 workbooks (BIFF8 cells, numbers included, first row
//! as column names), PowerPoint 97–2003 text atoms, and Outlook messages (their
//! string properties and attachments). A password-protected Office document,
//! new or old, is reported as encrypted; a compound file of another kind as
//! not read. Raw, these files hide text as UTF-16 and numbers as binary, so a
//! byte-level scan of them would pass what it cannot see.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use super::container::nested;
use super::cx::Cx;
use super::ooxml::cell;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// The first bytes of every compound file.
pub(crate) const MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Doc,
    Xls,
    Ppt,
    Msg,
    Other,
}

pub(crate) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    let mut comp = match cfb::CompoundFile::open(Cursor::new(buf)) {
        Ok(c) => c,
        Err(_) => {
            cx.format("cfb");
            cx.incomplete(
                IncompleteReason::Malformed,
                "compound file (legacy Office) without a readable directory",
            );
            return;
        }
    };
    let streams: Vec<PathBuf> = comp
        .walk()
        .filter(|e| e.is_stream())
        .map(|e| e.path().to_path_buf())
        .collect();
    let has = |name: &str| streams.iter().any(|p| p == Path::new(name));
    if has("/EncryptionInfo") || has("/EncryptedPackage") {
        cx.format("cfb");
        cx.incomplete(
            IncompleteReason::Encrypted,
            "password-protected Office document",
        );
        return;
    }
    let flavor = if has("/WordDocument") {
        Flavor::Doc
    } else if has("/Workbook") || has("/Book") {
        Flavor::Xls
    } else if has("/PowerPoint Document") {
        Flavor::Ppt
    } else if streams
        .iter()
        .any(|p| file_name(p).starts_with("__substg1.0_"))
    {
        Flavor::Msg
    } else {
        Flavor::Other
    };
    cx.format(match flavor {
        Flavor::Doc => "doc",
        Flavor::Xls => "xls",
        Flavor::Ppt => "ppt",
        Flavor::Msg => "msg",
        Flavor::Other => "cfb",
    });
    match flavor {
        Flavor::Doc => {
            let word = read_stream(&mut comp, Path::new("/WordDocument"), cx);
            let table = match word_flags(&word) {
                Some(f) if f & 0x0100 != 0 => {
                    cx.incomplete(
                        IncompleteReason::Encrypted,
                        "password-protected Word document",
                    );
                    return;
                }
                Some(f) if f & 0x0200 != 0 => "/1Table",
                Some(_) => "/0Table",
                None => {
                    cx.incomplete(
                        IncompleteReason::Malformed,
                        "Word document without its header",
                    );
                    return;
                }
            };
            let table = read_stream(&mut comp, Path::new(table), cx);
            if !word_text(&word, &table, cx) {
                cx.incomplete(
                    IncompleteReason::Malformed,
                    "Word document whose text could not be found",
                );
            }
        }
        Flavor::Xls => {
            let name = if has("/Workbook") {
                "/Workbook"
            } else {
                "/Book"
            };
            let book = read_stream(&mut comp, Path::new(name), cx);
            biff(&book, cx);
        }
        Flavor::Ppt => {
            if has("/EncryptedSummary") {
                cx.incomplete(
                    IncompleteReason::Encrypted,
                    "password-protected PowerPoint document",
                );
                return;
            }
            let doc = read_stream(&mut comp, Path::new("/PowerPoint Document"), cx);
            ppt_text(&doc, cx);
        }
        Flavor::Msg | Flavor::Other => {}
    }
    let mut known = 0usize;
    for path in &streams {
        if cx.stopped || !cx.entry() {
            return;
        }
        let name = file_name(path);
        if flavor == Flavor::Msg && name.starts_with("__substg1.0_") {
            known += 1;
            msg_property(&mut comp, path, depth, cx);
            continue;
        }
        if PRIMARY.contains(&path.to_str().unwrap_or("")) {
            continue;
        }
        // Embedded documents (an OLE object's package, a nested compound
        // file) are decoded as what they are; the format's other streams
        // hold pictures, formatting and structure.
        if is_container(&head(&mut comp, path)) {
            let data = read_stream(&mut comp, path, cx);
            nested(&mut data.as_slice(), name, depth, cx);
        }
    }
    if flavor == Flavor::Other || flavor == Flavor::Msg && known == 0 {
        cx.incomplete(
            IncompleteReason::Unsupported,
            "compound file of a kind not read here",
        );
    }
}

/// The streams read above as the document itself.
const PRIMARY: [&str; 6] = [
    "/WordDocument",
    "/0Table",
    "/1Table",
    "/Workbook",
    "/Book",
    "/PowerPoint Document",
];

/// A stream's first bytes (fewer if it is shorter).
fn head(comp: &mut cfb::CompoundFile<Cursor<&[u8]>>, path: &Path) -> Vec<u8> {
    let mut head = Vec::with_capacity(8);
    if let Ok(s) = comp.open_stream(path) {
        // A stream too broken to read has no head: it is not opened further.
        let _ = s.take(8).read_to_end(&mut head);
    }
    head
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Whether `data` starts like something the decoders open (zip, PDF, a
/// compound file, gzip).
fn is_container(data: &[u8]) -> bool {
    [&b"PK\x03\x04"[..], b"%PDF-", MAGIC, b"\x1f\x8b"]
        .iter()
        .any(|m| data.starts_with(m))
}

/// Reads one stream whole, within the body's decompression budget (a compound
/// file's streams are its content, as a zip's entries are).
fn read_stream<S: TextSink>(
    comp: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &Path,
    cx: &mut Cx<S>,
) -> Vec<u8> {
    let Ok(stream) = comp.open_stream(path) else {
        cx.incomplete(
            IncompleteReason::Malformed,
            "unreadable compound file stream",
        );
        return Vec::new();
    };
    let room = cx.expand_room().min(cx.limits.max_buffer_bytes);
    let mut data = Vec::new();
    if stream
        .take(room.saturating_add(1))
        .read_to_end(&mut data)
        .is_err()
    {
        cx.incomplete(IncompleteReason::Malformed, "corrupt compound file stream");
    }
    if data.len() as u64 > room {
        cx.incomplete(
            IncompleteReason::SizeLimit,
            "compound file stream past the decompression limit",
        );
        data.truncate(usize::try_from(room).unwrap_or(usize::MAX));
    }
    cx.expand(data.len());
    cx.check_clock();
    data
}

/// Little-endian UTF-16 (an odd last byte is dropped).
fn utf16le(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    let units = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}'))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The flags word of a Word document's header, if it is one.
fn word_flags(word: &[u8]) -> Option<u16> {
    (u16_at(word, 0)? == 0xA5EC).then(|| u16_at(word, 0x0A))?
}

/// Text as Word stores it, with its control characters (paragraph and cell
/// marks, field delimiters, page breaks) turned into line breaks.
fn push_word_char(c: char, out: &mut String) {
    out.push(if (c as u32) < 0x20 && c != '\t' {
        '\n'
    } else {
        c
    });
}

/// A Word document's text, piece by piece as its piece table (in the CLX of
/// the table stream) lays it out: runs of 8-bit (cp1252) or UTF-16 text in
/// the WordDocument stream. False if the piece table could not be found.
fn word_text<S: TextSink>(word: &[u8], table: &[u8], cx: &mut Cx<S>) -> bool {
    // The header's variable parts: 16-bit words, 32-bit words, then the
    // (offset, size) pairs, of which the CLX is the 34th.
    let Some(csw) = u16_at(word, 0x20) else {
        return false;
    };
    let lw = 0x22 + usize::from(csw) * 2;
    let Some(cslw) = u16_at(word, lw) else {
        return false;
    };
    let pairs = lw + 2 + usize::from(cslw) * 4 + 2;
    let (Some(fc_clx), Some(lcb_clx)) = (
        u32_at(word, pairs + 33 * 8),
        u32_at(word, pairs + 33 * 8 + 4),
    ) else {
        return false;
    };
    let Some(clx) = table.get(fc_clx as usize..(fc_clx as usize).saturating_add(lcb_clx as usize))
    else {
        return false;
    };
    // Skip the property modifiers (type 1) to the piece table (type 2).
    let mut i = 0;
    let plc = loop {
        match clx.get(i) {
            Some(1) => i += 3 + usize::from(u16_at(clx, i + 1).unwrap_or(0)),
            Some(2) => {
                let Some(lcb) = u32_at(clx, i + 1) else {
                    return false;
                };
                break clx
                    .get(i + 5..(i + 5).saturating_add(lcb as usize))
                    .unwrap_or(&[]);
            }
            _ => return false,
        }
    };
    let n = plc.len().saturating_sub(4) / 12;
    let mut text = String::new();
    // Pieces cover the stream's text once: a table whose pieces add up to
    // more than the stream repeats it (or is forged to), and is cut there.
    let mut left = word.len();
    for k in 0..n {
        let (Some(cp0), Some(cp1), Some(fc)) = (
            u32_at(plc, k * 4),
            u32_at(plc, k * 4 + 4),
            u32_at(plc, (n + 1) * 4 + k * 8 + 2),
        ) else {
            break;
        };
        let chars = cp1.saturating_sub(cp0) as usize;
        let bytes = if fc & 0x4000_0000 != 0 {
            chars
        } else {
            chars.saturating_mul(2)
        };
        if bytes > left {
            cx.incomplete(
                IncompleteReason::Malformed,
                "Word piece table longer than its text",
            );
            break;
        }
        left -= bytes;
        text.clear();
        if fc & 0x4000_0000 != 0 {
            let at = ((fc & !0x4000_0000) / 2) as usize;
            for &b in word.get(at..at.saturating_add(chars)).unwrap_or(&[]) {
                push_word_char(cp1252(b), &mut text);
            }
        } else {
            let at = fc as usize;
            let bytes = word.get(at..at.saturating_add(chars * 2)).unwrap_or(&[]);
            utf16le(bytes).for_each(|c| push_word_char(c, &mut text));
        }
        // Pieces split text anywhere: no boundary between them.
        cx.sink.text(text.as_bytes());
    }
    cx.sink.boundary();
    true
}

/// Windows-1252 as Word's 8-bit pieces use it: Latin-1 but for 0x80–0x9F,
/// whose typographic marks stand in as their plain forms.
fn cp1252(b: u8) -> char {
    match b {
        0x91 | 0x92 => '\'',
        0x93 | 0x94 => '"',
        0x96 | 0x97 => '-',
        0x80..=0x9F => ' ',
        _ => char::from(b),
    }
}

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

/// An RK number: a 30-bit integer or the top of a double, maybe over 100.
fn rk(v: u32) -> f64 {
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
fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The cells of a BIFF8 workbook, sheet by sheet: each sheet's first row
/// names its columns, as in an XLSX.
fn biff<S: TextSink>(book: &[u8], cx: &mut Cx<S>) {
    let records: Vec<(u16, &[u8])> = Records { b: book, at: 0 }.collect();
    let mut sst: Vec<String> = Vec::new();
    let mut headers: Vec<Vec<u8>> = Vec::new();
    let mut first_row: Option<u16> = None;
    let mut i = 0;
    while let Some(&(kind, body)) = records.get(i) {
        i += 1;
        let row_col = || Some((u16_at(body, 0)?, usize::from(u16_at(body, 2)?)));
        let mut put = |row: u16, col: usize, text: &str, cx: &mut Cx<S>| {
            let first = *first_row.get_or_insert(row) == row;
            cell(text.as_bytes(), col, first, &mut headers, cx);
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
                headers.clear();
                first_row = None;
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
}

/// The text atoms of a PowerPoint document, in order: slides, notes, the
/// outline, comments. Containers are stepped into; atoms are read or passed.
fn ppt_text<S: TextSink>(doc: &[u8], cx: &mut Cx<S>) {
    const TEXT_CHARS: u16 = 0x0FA0;
    const TEXT_BYTES: u16 = 0x0FA8;
    const CSTRING: u16 = 0x0FBA;
    let mut at = 0;
    while let (Some(ver), Some(kind), Some(len)) =
        (u16_at(doc, at), u16_at(doc, at + 2), u32_at(doc, at + 4))
    {
        let body = at + 8;
        if ver & 0x0F == 0x0F {
            at = body;
            continue;
        }
        let data = doc
            .get(body..body.saturating_add(len as usize))
            .unwrap_or(&[]);
        let mut text = String::new();
        match kind {
            TEXT_CHARS | CSTRING => utf16le(data).for_each(|c| push_word_char(c, &mut text)),
            TEXT_BYTES => data
                .iter()
                .for_each(|&b| push_word_char(cp1252(b), &mut text)),
            _ => {}
        }
        if !text.is_empty() {
            cx.sink.text(text.as_bytes());
            cx.sink.boundary();
        }
        at = body.saturating_add(len as usize);
    }
}

/// One property stream of an Outlook message (`__substg1.0_PPPPTTTT`):
/// strings (type 001F is UTF-16, 001E 8-bit) are text; an attachment's data
/// (3701, binary) is decoded as a file.
fn msg_property<S: TextSink>(
    comp: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &Path,
    depth: u32,
    cx: &mut Cx<S>,
) {
    let name = file_name(path);
    let tag = name.get(12..20).unwrap_or("");
    let kind = tag.get(4..).unwrap_or("");
    if !matches!(kind, "001F" | "001E") && tag != "37010102" {
        return;
    }
    let data = read_stream(comp, path, cx);
    match kind {
        "001F" => {
            let text: String = utf16le(&data).collect();
            cx.sink.text(text.trim_end_matches('\0').as_bytes());
            cx.sink.boundary();
        }
        "001E" => {
            cx.sink.text(&data);
            cx.sink.boundary();
        }
        _ => {
            // The attachment's long file name is a sibling property.
            let dir = path.parent().unwrap_or(Path::new("/"));
            let file = read_name(comp, &dir.join("__substg1.0_3707001F"), cx);
            nested(&mut data.as_slice(), &file, depth, cx);
        }
    }
}

fn read_name<S: TextSink>(
    comp: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &Path,
    cx: &mut Cx<S>,
) -> String {
    if !comp.is_stream(path) {
        return String::new();
    }
    let data = read_stream(comp, path, cx);
    utf16le(&data)
        .collect::<String>()
        .trim_end_matches('\0')
        .to_owned()
}
