//! Zip archives, and the Office Open XML documents built on them: DOCX and PPTX
//! text runs (`w:t`, `a:t`) with paragraph boundaries, XLSX cells (shared
//! strings resolved, first row as column names). Other entries (embedded
//! documents, media, files of a plain zip) are sniffed and decoded recursively.
//!
//! Each entry is read through a cap: the body's remaining decompression budget,
//! and the ratio limit against the entry's compressed size.

use std::io::{BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use zip::result::ZipError;
use zip::ZipArchive;

use super::cx::Cx;
use super::{ContentHint, Node};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

const READ_CHUNK: usize = 32 << 10;
/// A single XLSX cell value or shared string longer than this is cut.
const MAX_CELL: usize = 64 << 10;
const MAX_COLUMNS: usize = 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Docx,
    Xlsx,
    Pptx,
    Zip,
}

enum Role {
    /// Paragraph text (`w:t`, `a:t`).
    Runs,
    Sheet,
    /// Read already (shared strings) or pure structure (styles, rels).
    Skip,
    Nested,
}

/// Reads an entry with a hard cap on how much it may produce.
struct Capped<R> {
    inner: R,
    left: u64,
    read: u64,
    hit: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            self.hit = true;
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..want).unwrap_or(&mut []))?;
        self.left -= n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

pub(crate) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    let mut ar = match ZipArchive::new(Cursor::new(buf)) {
        Ok(a) => a,
        Err(_) => {
            cx.format("zip");
            cx.incomplete(
                IncompleteReason::Malformed,
                "zip without a readable central directory",
            );
            return;
        }
    };
    // Bytes outside the archive (before it, its comment, after it) are no
    // entry's, but they leave with it: scanned as text.
    let start = usize::try_from(ar.offset()).unwrap_or(0);
    for loose in [
        buf.get(..start).unwrap_or(&[]),
        ar.comment(),
        after_archive(buf, start),
    ] {
        if loose.iter().any(|b| !b.is_ascii_whitespace() && *b != 0) {
            cx.sink.text(loose);
            cx.sink.boundary();
        }
    }
    let flavor = if ar.index_for_name("word/document.xml").is_some() {
        Flavor::Docx
    } else if ar.index_for_name("xl/workbook.xml").is_some() {
        Flavor::Xlsx
    } else if ar.index_for_name("ppt/presentation.xml").is_some() {
        Flavor::Pptx
    } else {
        Flavor::Zip
    };
    cx.format(match flavor {
        Flavor::Docx => "docx",
        Flavor::Xlsx => "xlsx",
        Flavor::Pptx => "pptx",
        Flavor::Zip => "zip",
    });
    let shared = match ar.index_for_name("xl/sharedStrings.xml") {
        Some(i) if flavor == Flavor::Xlsx => {
            let mut strings = Vec::new();
            with_entry(&mut ar, i, cx, |r, cx| shared_strings(r, &mut strings, cx));
            strings
        }
        _ => Vec::new(),
    };
    for i in 0..ar.len() {
        if cx.stopped || !cx.entry() {
            return;
        }
        let name = ar.name_for_index(i).unwrap_or_default().to_owned();
        if name.ends_with('/') {
            continue;
        }
        match role(flavor, &name) {
            Role::Skip => {}
            Role::Runs => with_entry(&mut ar, i, cx, runs),
            Role::Sheet => with_entry(&mut ar, i, cx, |r, cx| sheet(r, &shared, cx)),
            Role::Nested => with_entry(&mut ar, i, cx, |r, cx| nested(r, &name, depth, cx)),
        }
    }
}

fn role(flavor: Flavor, name: &str) -> Role {
    let xml = name.ends_with(".xml") || name.ends_with(".rels") || name.ends_with(".vml");
    match flavor {
        Flavor::Zip => Role::Nested,
        Flavor::Docx
            if name.starts_with("word/")
                && [
                    "document",
                    "header",
                    "footer",
                    "footnotes",
                    "endnotes",
                    "comments",
                ]
                .iter()
                .any(|p| name.get(5..).is_some_and(|n| n.starts_with(p))) =>
        {
            Role::Runs
        }
        Flavor::Pptx
            if name.starts_with("ppt/slides/slide")
                || name.starts_with("ppt/notesSlides/")
                || name.starts_with("ppt/comments/") =>
        {
            Role::Runs
        }
        Flavor::Xlsx if name.starts_with("xl/worksheets/sheet") => Role::Sheet,
        _ if name == "docProps/core.xml" => Role::Runs,
        _ if xml => Role::Skip,
        _ => Role::Nested,
    }
}

/// Opens entry `i` under the caps, hands it to `read`, then accounts for it.
fn with_entry<S: TextSink, R: Read + Seek2>(
    ar: &mut ZipArchive<R>,
    i: usize,
    cx: &mut Cx<S>,
    read: impl FnOnce(&mut dyn Read, &mut Cx<S>),
) {
    let file = match ar.by_index(i) {
        Ok(f) => f,
        Err(ZipError::UnsupportedArchive(m)) if m == ZipError::PASSWORD_REQUIRED => {
            cx.incomplete(IncompleteReason::Encrypted, "password-protected zip entry");
            return;
        }
        Err(ZipError::UnsupportedArchive(_)) => {
            cx.incomplete(
                IncompleteReason::Unsupported,
                "zip entry compression not supported",
            );
            return;
        }
        Err(_) => {
            cx.incomplete(IncompleteReason::Malformed, "unreadable zip entry");
            return;
        }
    };
    let ratio_cap = file
        .compressed_size()
        .saturating_mul(cx.limits.max_ratio)
        .max(cx.limits.ratio_grace_bytes);
    let budget = cx.expand_room();
    let mut capped = Capped {
        inner: file,
        left: ratio_cap.min(budget).saturating_add(1),
        read: 0,
        hit: false,
    };
    let clean_before = cx.incomplete.is_none();
    read(&mut capped, cx);
    let produced = capped.read;
    let over = produced > ratio_cap.min(budget);
    if over && clean_before {
        // The cut makes the entry look truncated; the cut is the real reason.
        cx.incomplete = None;
    }
    if over && ratio_cap <= budget {
        cx.incomplete(
            IncompleteReason::RatioLimit,
            format!("zip entry expands more than {}:1", cx.limits.max_ratio),
        );
    }
    cx.expand(usize::try_from(produced).unwrap_or(usize::MAX));
    cx.check_clock();
}

/// What follows the end of central directory record and its comment: a zip
/// reader skips it. The record is the last signature whose central directory
/// ends where the record starts (signatures can also appear in appended
/// bytes); for a Zip64 archive, whose fields say 0xFFFFFFFF, the last one.
fn after_archive(buf: &[u8], start: usize) -> &[u8] {
    const EOCD: &[u8] = b"PK\x05\x06";
    let u32_at = |k: usize| match buf.get(k..k + 4) {
        Some(&[a, b, c, d]) => Some(u32::from_le_bytes([a, b, c, d])),
        _ => None,
    };
    let ends_directory = |at: usize| match (u32_at(at + 12), u32_at(at + 16)) {
        (Some(u32::MAX), _) | (_, Some(u32::MAX)) => true,
        (Some(size), Some(offset)) => start + offset as usize + size as usize == at,
        _ => false,
    };
    let mut found = memchr::memmem::rfind_iter(buf, EOCD);
    let Some(last) = found.next() else {
        return &[];
    };
    let at = std::iter::once(last)
        .chain(found)
        .find(|&at| ends_directory(at))
        .unwrap_or(last);
    let comment_len = match buf.get(at + 20..at + 22) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        _ => return &[],
    };
    buf.get(at + 22 + comment_len..).unwrap_or(&[])
}

/// `ZipArchive` needs `Read + Seek`; this names the pair once.
pub(crate) trait Seek2: Read + std::io::Seek {}
impl<T: Read + std::io::Seek> Seek2 for T {}

fn nested<S: TextSink>(r: &mut dyn Read, name: &str, depth: u32, cx: &mut Cx<S>) {
    let hint = ContentHint {
        file_name: Some(name.to_owned()),
        ..ContentHint::default()
    };
    let mut node = Node::sniffing(hint, depth + 1);
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                node.feed(buf.get(..n).unwrap_or(&[]), cx);
                cx.work(n);
                if cx.stopped {
                    return;
                }
            }
            Err(_) => {
                cx.incomplete(IncompleteReason::Malformed, "corrupt zip entry");
                break;
            }
        }
    }
    node.finish(cx);
}

fn xml_reader(r: &mut dyn Read) -> Reader<BufReader<&mut dyn Read>> {
    Reader::from_reader(BufReader::new(r))
}

fn unescaped(raw: &[u8], out: &mut Vec<u8>) {
    let s = String::from_utf8_lossy(raw);
    match quick_xml::escape::unescape(&s) {
        Ok(u) => out.extend_from_slice(u.as_bytes()),
        Err(_) => out.extend_from_slice(raw),
    }
}

fn xml_error<S: TextSink>(cx: &mut Cx<S>) {
    cx.incomplete(
        IncompleteReason::Malformed,
        "malformed XML in an Office document",
    );
}

fn runs<S: TextSink>(r: &mut dyn Read, cx: &mut Cx<S>) {
    let mut reader = xml_reader(r);
    let mut buf = Vec::new();
    let mut text = Vec::new();
    let mut in_t = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => in_t = is_text_element(&e),
            Ok(Event::Empty(e)) if matches!(e.local_name().as_ref(), b"tab" | b"br" | b"cr") => {
                cx.sink.text(b" ")
            }
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"p" | b"tc" => cx.sink.boundary(),
                _ => in_t = false,
            },
            Ok(Event::Text(e)) if in_t => {
                text.clear();
                unescaped(&e, &mut text);
                cx.sink.text(&text);
            }
            Ok(Event::CData(e)) if in_t => cx.sink.text(&e),
            Ok(Event::Eof) => break,
            Err(_) => {
                xml_error(cx);
                break;
            }
            Ok(_) => {}
        }
        buf.clear();
    }
    cx.sink.boundary();
}

fn is_text_element(e: &BytesStart<'_>) -> bool {
    let name = e.name();
    match name.prefix() {
        // docProps/core.xml: creator, title, subject and the like.
        Some(p) if p.as_ref() == b"dc" || p.as_ref() == b"cp" => true,
        _ => matches!(e.local_name().as_ref(), b"t" | b"delText" | b"instrText"),
    }
}

fn shared_strings<S: TextSink>(r: &mut dyn Read, out: &mut Vec<Vec<u8>>, cx: &mut Cx<S>) {
    let mut reader = xml_reader(r);
    let mut buf = Vec::new();
    let mut cur = Vec::new();
    let mut in_t = false;
    let mut in_phonetic = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                b"t" => in_t = !in_phonetic,
                b"rPh" => in_phonetic = true,
                b"si" => cur.clear(),
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"t" => in_t = false,
                b"rPh" => in_phonetic = false,
                b"si" => out.push(std::mem::take(&mut cur)),
                _ => {}
            },
            Ok(Event::Text(e)) if in_t && cur.len() < MAX_CELL => unescaped(&e, &mut cur),
            Ok(Event::Eof) => break,
            Err(_) => {
                xml_error(cx);
                break;
            }
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// Column index from a cell reference such as `AB12`.
fn column(reference: &[u8]) -> Option<usize> {
    let mut col = 0usize;
    let mut any = false;
    for &c in reference.iter().take_while(|c| c.is_ascii_alphabetic()) {
        col = col
            .checked_mul(26)?
            .checked_add(usize::from(c.to_ascii_uppercase() - b'A') + 1)?;
        any = true;
    }
    any.then(|| col - 1)
}

fn sheet<S: TextSink>(r: &mut dyn Read, shared: &[Vec<u8>], cx: &mut Cx<S>) {
    let mut reader = xml_reader(r);
    let mut buf = Vec::new();
    let mut headers: Vec<Vec<u8>> = Vec::new();
    let mut rows = 0u64;
    let (mut col, mut next_col) = (0usize, 0usize);
    let mut shared_ref = false;
    let mut value = Vec::new();
    let mut in_value = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                b"row" => {
                    rows += 1;
                    next_col = 0;
                }
                b"c" => {
                    col = next_col;
                    shared_ref = false;
                    value.clear();
                    for a in e.attributes().flatten() {
                        match a.key.as_ref() {
                            b"r" => col = column(&a.value).unwrap_or(col),
                            b"t" => shared_ref = a.value.as_ref() == b"s",
                            _ => {}
                        }
                    }
                    next_col = col + 1;
                }
                b"v" | b"t" => in_value = true,
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                b"v" | b"t" => in_value = false,
                b"c" => {
                    let text = if shared_ref {
                        std::str::from_utf8(&value)
                            .ok()
                            .and_then(|s| s.trim().parse::<usize>().ok())
                            .and_then(|i| shared.get(i))
                            .map_or(&[][..], |s| s.as_slice())
                    } else {
                        value.as_slice()
                    };
                    cell(text, col, rows <= 1, &mut headers, cx);
                }
                _ => {}
            },
            Ok(Event::Text(e)) if in_value && value.len() < MAX_CELL => unescaped(&e, &mut value),
            Ok(Event::Eof) => break,
            Err(_) => {
                xml_error(cx);
                break;
            }
            Ok(_) => {}
        }
        buf.clear();
    }
}

fn cell<S: TextSink>(
    text: &[u8],
    col: usize,
    first_row: bool,
    headers: &mut Vec<Vec<u8>>,
    cx: &mut Cx<S>,
) {
    if text.is_empty() {
        return;
    }
    if first_row {
        if col < MAX_COLUMNS {
            if headers.len() <= col {
                headers.resize(col + 1, Vec::new());
            }
            if let Some(h) = headers.get_mut(col) {
                h.clear();
                h.extend_from_slice(text.get(..256.min(text.len())).unwrap_or(&[]));
            }
        }
    } else if let Some(h) = headers.get(col).filter(|h| !h.is_empty()) {
        cx.sink.field(h);
    }
    cx.sink.text(text);
    cx.sink.boundary();
}
