//! Zip archives, and the Office Open XML documents built on them: DOCX and PPTX
//! text runs (`w:t`, `a:t`) with paragraph boundaries, XLSX cells (shared
//! strings resolved, first row as column names), pivot caches (their values
//! under their field names), and the text of every other part that holds any
//! (charts' cached values, cell comments, custom XML, document properties).
//! XLSB workbooks are the same package with binary parts, whose records
//! `xlsb` reads. Other entries (embedded documents, media, files of a plain
//! zip) are sniffed and decoded recursively.
//!
//! Each entry is read through a cap: the body's remaining decompression budget,
//! and the ratio limit against the entry's compressed size.

use std::io::{Cursor, Read};

use quick_xml::events::BytesStart;
use zip::result::ZipError;
use zip::ZipArchive;

use super::cfb::header_text;
use super::columns::Columns;
use super::container;
use super::cx::Cx;
use super::odf;
use super::xlsb;
use super::xml::{is_space, local, prefix, Pull, Raw, Tag, Unread, MAX_MARKUP, MAX_NESTING};
use super::MAX_COLUMNS;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// A single XLSX cell value or shared string longer than this is cut.
pub(super) const MAX_CELL: usize = 64 << 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Docx,
    Xlsx,
    /// Excel's binary workbook: XLSX's package, BIFF12 records in its parts.
    Xlsb,
    Pptx,
    /// OpenDocument, by its format name (`odt`, `ods`, `odp`).
    Odf(&'static str),
    Zip,
}

enum Role {
    /// Paragraph text (`w:t`, `a:t`).
    Runs,
    Sheet,
    /// An XLSB workbook's, sheet's or comments' records.
    BinWorkbook,
    BinSheet,
    BinComments,
    /// Records holding data that is not read: named in the report.
    BinUnread(&'static str),
    /// A pivot cache's rows, whose fields its definition names.
    PivotRecords,
    /// Any other part: every text node (see `xml_text`).
    Xml,
    /// Relationships: only the targets of external links.
    Rels,
    /// An OpenDocument part with text.
    Odf,
    /// Read already (shared strings, pivot definitions) or pure structure
    /// (styles, themes, relationships).
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

/// Opens the archive in `buf`. A zip reader looks for the end record only in
/// the last 64 KiB (room for the longest comment), so bytes appended past
/// that (an installer's payload, a second file) hide it: the end records
/// further back are tried too, from the last, each on the bytes up to it.
fn open(buf: &[u8]) -> Option<ZipArchive<Cursor<&[u8]>>> {
    if let Ok(ar) = ZipArchive::new(Cursor::new(buf)) {
        return Some(ar);
    }
    memchr::memmem::rfind_iter(buf, b"PK\x05\x06")
        .take(8)
        .find_map(|at| {
            let comment = match buf.get(at + 20..at + 22) {
                Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
                _ => return None,
            };
            let upto = buf.get(..at + 22 + comment)?;
            ZipArchive::new(Cursor::new(upto)).ok()
        })
}

pub(crate) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    let mut ar = match open(buf) {
        Some(a) => a,
        None => {
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
    // An OpenDocument file's format, by its `mimetype` entry ("odf" if it
    // names none): read once, for the encryption check and the flavor.
    let odf_format = {
        let mut mimetype = Vec::new();
        if let Ok(f) = ar.by_name("mimetype") {
            // Only its name is wanted; a broken entry leaves it "odf".
            let _ = f.take(128).read_to_end(&mut mimetype);
        }
        odf::format_of(&mimetype)
    };
    if encrypted_odf(&mut ar) {
        cx.format(odf_format);
        cx.incomplete(
            IncompleteReason::Encrypted,
            "password-protected OpenDocument file: its content cannot be read",
        );
        return;
    }
    let flavor = if ar.index_for_name("word/document.xml").is_some() {
        Flavor::Docx
    } else if ar.index_for_name("xl/workbook.xml").is_some() {
        Flavor::Xlsx
    } else if ar.index_for_name("xl/workbook.bin").is_some() {
        Flavor::Xlsb
    } else if ar.index_for_name("ppt/presentation.xml").is_some() {
        Flavor::Pptx
    } else if ar.index_for_name("content.xml").is_some()
        && ar.index_for_name("META-INF/manifest.xml").is_some()
    {
        Flavor::Odf(odf_format)
    } else {
        Flavor::Zip
    };
    // Apple iWork keeps its content in compressed protobuf records: named,
    // not passed as if its entries, scanned as bytes, held nothing.
    if flavor == Flavor::Zip && ar.index_for_name("Index/Document.iwa").is_some() {
        cx.format("iwork");
        cx.incomplete(
            IncompleteReason::Unsupported,
            "iwork document: its binary parts are not read here",
        );
    }
    cx.format(match flavor {
        Flavor::Docx => "docx",
        Flavor::Xlsx => "xlsx",
        Flavor::Xlsb => "xlsb",
        Flavor::Pptx => "pptx",
        Flavor::Odf(name) => name,
        Flavor::Zip => "zip",
    });
    let mut shared = Vec::new();
    match flavor {
        Flavor::Xlsx => {
            if let Some(i) = ar.index_for_name("xl/sharedStrings.xml") {
                with_entry(&mut ar, i, cx, |r, cx| shared_strings(r, &mut shared, cx));
            }
        }
        Flavor::Xlsb => {
            if let Some(i) = ar.index_for_name("xl/sharedStrings.bin") {
                with_entry(&mut ar, i, cx, |r, cx| {
                    xlsb::shared_strings(r, &mut shared, cx)
                });
            }
        }
        _ => {}
    }
    let mut used = vec![false; shared.len()];
    // A pivot cache keeps its own copy of the source data, which stays in the
    // file after the source sheet is deleted. Its definition names the fields
    // (and holds their distinct values); the records, read in the loop, refer
    // to the names by position.
    let mut pivots: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    if flavor == Flavor::Xlsx {
        for i in 0..ar.len() {
            let name = entry_name(&ar, i);
            let Some(n) = pivot_number(&name, PIVOT_DEFINITION) else {
                continue;
            };
            let n = n.to_owned();
            if cx.stopped {
                return;
            }
            let mut fields = Vec::new();
            with_entry(&mut ar, i, cx, |r, cx| pivot_definition(r, &mut fields, cx));
            pivots.push((n, fields));
        }
    }
    for i in 0..ar.len() {
        if cx.stopped || !cx.entry() {
            return;
        }
        let name = entry_name(&ar, i);
        if name.ends_with('/') {
            continue;
        }
        match role(flavor, &name) {
            Role::Skip => {}
            Role::Runs => with_entry(&mut ar, i, cx, runs),
            Role::Sheet => with_entry(&mut ar, i, cx, |r, cx| sheet(r, &shared, &mut used, cx)),
            Role::BinSheet => with_entry(&mut ar, i, cx, |r, cx| {
                xlsb::sheet(r, &shared, &mut used, cx)
            }),
            Role::BinComments => with_entry(&mut ar, i, cx, xlsb::comments),
            Role::BinWorkbook => with_entry(&mut ar, i, cx, xlsb::workbook),
            Role::BinUnread(what) => cx.incomplete(
                IncompleteReason::Unsupported,
                format!("xlsb {what}: its binary records are not read here"),
            ),
            Role::PivotRecords => {
                let fields = pivot_number(&name, PIVOT_RECORDS)
                    .and_then(|n| pivots.iter().find(|(p, _)| p == n))
                    .map_or(&[][..], |(_, f)| f.as_slice());
                with_entry(&mut ar, i, cx, |r, cx| pivot_records(r, fields, cx));
            }
            Role::Xml => with_entry(&mut ar, i, cx, xml_text),
            Role::Odf => with_entry(&mut ar, i, cx, odf::text),
            Role::Rels => with_entry(&mut ar, i, cx, rels),
            Role::Nested => {
                // A plain zip's member names are what a user named them;
                // an Office file's inner names are its own.
                if flavor == Flavor::Zip {
                    container::member_name(&name, cx);
                }
                with_entry(&mut ar, i, cx, |r, cx| {
                    container::nested(r, &name, depth, cx)
                })
            }
        }
    }
    // A shared string no cell refers to is in no sheet, but it leaves with the file.
    for (text, _) in shared.iter().zip(&used).filter(|(_, u)| !**u) {
        if text.iter().any(|b| !b.is_ascii_whitespace()) {
            cx.sink.text(text);
            cx.sink.boundary();
        }
    }
}

fn role(flavor: Flavor, name: &str) -> Role {
    let xml = name.ends_with(".xml") || name.ends_with(".rels") || name.ends_with(".vml");
    if flavor == Flavor::Xlsb {
        match xlsb::part(name) {
            Some(xlsb::Part::Workbook) => return Role::BinWorkbook,
            Some(xlsb::Part::Sheet) => return Role::BinSheet,
            Some(xlsb::Part::Comments) => return Role::BinComments,
            Some(xlsb::Part::Unread(what)) => return Role::BinUnread(what),
            Some(xlsb::Part::SharedStrings | xlsb::Part::Skip) => return Role::Skip,
            // Its XML parts, embedded files and media: as in an XLSX.
            None => {}
        }
    }
    match flavor {
        Flavor::Zip => Role::Nested,
        Flavor::Odf(_) if odf::is_text_part(name) => Role::Odf,
        Flavor::Odf(_) if xml || name == "mimetype" || name.ends_with(".rdf") => Role::Skip,
        Flavor::Odf(_) => Role::Nested,
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
        Flavor::Xlsx if name == "xl/sharedStrings.xml" => Role::Skip,
        Flavor::Xlsx if pivot_number(name, PIVOT_DEFINITION).is_some() => Role::Skip,
        Flavor::Xlsx if pivot_number(name, PIVOT_RECORDS).is_some() => Role::PivotRecords,
        _ if name == "docProps/core.xml" => Role::Runs,
        _ if name.ends_with(".rels") => Role::Rels,
        _ if xml && structural(name) => Role::Skip,
        _ if xml => Role::Xml,
        _ => Role::Nested,
    }
}

/// Parts that describe only how a document looks or is wired together: no
/// text a user wrote is kept in them.
fn structural(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    name.ends_with(".rels")
        || name.contains("/theme/")
        || matches!(
            file,
            "[Content_Types].xml"
                | "styles.xml"
                | "stylesWithEffects.xml"
                | "settings.xml"
                | "webSettings.xml"
                | "fontTable.xml"
                | "numbering.xml"
                | "calcChain.xml"
                | "presProps.xml"
                | "viewProps.xml"
                | "tableStyles.xml"
        )
}

const PIVOT_DEFINITION: &str = "xl/pivotCache/pivotCacheDefinition";
const PIVOT_RECORDS: &str = "xl/pivotCache/pivotCacheRecords";

/// The number that pairs a pivot cache's definition with its records
/// (`pivotCacheDefinition3.xml`, `pivotCacheRecords3.xml`), as Excel and
/// LibreOffice name them.
fn pivot_number<'a>(name: &'a str, stem: &str) -> Option<&'a str> {
    name.strip_prefix(stem)?.strip_suffix(".xml")
}

/// Whether the archive is a password-protected OpenDocument file.
/// LibreOffice and WPS encrypt each part and say so in the manifest
/// (`<manifest:encryption-data>`); newer LibreOffice can instead put the
/// whole package in one `encrypted-package` entry. Read as a zip, either
/// passes as ciphertext that holds nothing.
fn encrypted_odf<R: Read + Seek2>(ar: &mut ZipArchive<R>) -> bool {
    if ar.index_for_name("encrypted-package").is_some() {
        return true;
    }
    let mut manifest = Vec::new();
    // A manifest names every part; a few MB is already absurd.
    if let Ok(f) = ar.by_name("META-INF/manifest.xml") {
        let _ = f.take(4 << 20).read_to_end(&mut manifest);
    }
    memchr::memmem::find(&manifest, b"encryption-data").is_some()
}

/// Entry `i`'s name; one that cannot be decoded is read without a name
/// (sniffed by content alone), not skipped.
fn entry_name<R: Read + Seek2>(ar: &ZipArchive<R>, i: usize) -> String {
    ar.name_for_index(i)
        .and_then(Result::ok)
        .map(std::borrow::Cow::into_owned)
        .unwrap_or_default()
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
    let ratio_cap = cx.ratio_cap(file.compressed_size());
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

/// Hands each XML event of a part to `on`, in order, as the part's bytes
/// (`xml::Raw`: quick_xml's events without its check that every tag and
/// text is UTF-8, which was a fifth of a DOCX's time). Malformed XML, or a
/// part past the reader's bounds, marks the body incomplete and ends the part.
pub(super) fn each_raw<S: TextSink>(
    r: &mut dyn Read,
    cx: &mut Cx<S>,
    mut on: impl FnMut(Raw<'_>, &mut Cx<S>),
) {
    let mut pull = Pull::new(r);
    let unread = loop {
        match pull.next_raw() {
            Ok(Some(event)) => on(event, cx),
            Ok(None) => return,
            Err(e) => break e,
        }
    };
    match unread {
        Unread::Malformed => xml_error(cx),
        Unread::TooDeep => cx.incomplete(
            IncompleteReason::DepthLimit,
            format!(
                "XML nested deeper than {MAX_NESTING} elements, or {} KiB of their names, in an Office document",
                MAX_MARKUP >> 10
            ),
        ),
        Unread::TooLong => cx.incomplete(
            IncompleteReason::SizeLimit,
            format!(
                "an XML tag or section longer than {} KiB in an Office document",
                MAX_MARKUP >> 10
            ),
        ),
    }
}

pub(super) fn unescaped(raw: &[u8], out: &mut Vec<u8>) {
    // Most text (every number and shared-string index of a sheet) has no
    // reference to undo: copied as it is, which is what the full path gives.
    if memchr::memchr(b'&', raw).is_none() && std::str::from_utf8(raw).is_ok() {
        out.extend_from_slice(raw);
        return;
    }
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
    let mut text = Vec::new();
    let mut in_t = false;
    each_raw(r, cx, |event, cx| match event {
        Raw::Start(e) => {
            attribute_values(&e, cx);
            in_t = is_text_element(&e);
        }
        Raw::Empty(e) if matches!(e.local_name(), b"tab" | b"br" | b"cr") => cx.sink.text(b" "),
        Raw::Empty(e) => attribute_values(&e, cx),
        Raw::End(name) => match local(name) {
            b"p" | b"tc" => cx.sink.boundary(),
            _ => in_t = false,
        },
        Raw::Text(raw) if in_t => {
            text.clear();
            unescaped(raw, &mut text);
            cx.sink.text(&text);
        }
        Raw::CData(raw) if in_t => cx.sink.text(raw),
        _ => {}
    });
    cx.sink.boundary();
}

/// Text Word and PowerPoint keep in attributes: a drop-down's entries
/// (`w:listItem`, a legacy form field's `w:listEntry`) and a picture's alt
/// text (`descr`, `title` on `wp:docPr` and `p:cNvPr`), which describes
/// what an embedded scan shows ("HKID card of 陳大文").
fn attribute_values<S: TextSink>(e: &Tag<'_>, cx: &mut Cx<S>) {
    let keys: &[&[u8]] = match e.local_name() {
        b"listItem" => &[b"displayText"],
        b"listEntry" => &[b"val"],
        b"docPr" | b"cNvPr" => &[b"descr", b"title"],
        _ => return,
    };
    for a in e.event().attributes().flatten() {
        if keys.contains(&a.key.local_name().as_ref()) {
            // Inline, set apart by spaces: these sit inside a paragraph,
            // whose words around them keep their context.
            let mut text = b" ".to_vec();
            attribute_text(&a, &mut text);
            text.push(b' ');
            cx.sink.text(&text);
        }
    }
}

fn is_text_element(e: &Tag<'_>) -> bool {
    match prefix(e.name()) {
        // docProps/core.xml: creator, title, subject and the like.
        Some(p) if p == b"dc" || p == b"cp" => true,
        _ => matches!(e.local_name(), b"t" | b"delText" | b"instrText"),
    }
}

fn shared_strings<S: TextSink>(r: &mut dyn Read, out: &mut Vec<Vec<u8>>, cx: &mut Cx<S>) {
    let mut cur = Vec::new();
    let mut in_t = false;
    let mut in_phonetic = false;
    each_raw(r, cx, |event, _| match event {
        Raw::Start(e) => match e.local_name() {
            b"t" => in_t = !in_phonetic,
            b"rPh" => in_phonetic = true,
            b"si" => cur.clear(),
            _ => {}
        },
        Raw::End(name) => match local(name) {
            b"t" => in_t = false,
            b"rPh" => in_phonetic = false,
            b"si" => out.push(std::mem::take(&mut cur)),
            _ => {}
        },
        Raw::Text(text) if in_t && cur.len() < MAX_CELL => unescaped(text, &mut cur),
        _ => {}
    });
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

fn sheet<S: TextSink>(r: &mut dyn Read, shared: &[Vec<u8>], used: &mut [bool], cx: &mut Cx<S>) {
    let mut columns = Columns::new();
    let (mut col, mut next_col) = (0usize, 0usize);
    let mut shared_ref = false;
    let mut value = Vec::new();
    let mut in_value = false;
    // Text a sheet keeps outside its cells: page headers and footers
    // ("Confidential: prepared for …"), the lists and messages of data
    // validation.
    let mut loose: Option<Vec<u8>> = None;
    each_raw(r, cx, |event, cx| match event {
        // A prompt-only validation rule and every hyperlink are empty elements.
        Raw::Empty(e) if matches!(e.local_name(), b"dataValidation" | b"hyperlink") => {
            attribute_messages(&e.event(), cx)
        }
        Raw::Start(e) => match e.local_name() {
            b"dataValidation" | b"hyperlink" => attribute_messages(&e.event(), cx),
            b"row" => {
                columns.end_row(cx);
                next_col = 0;
            }
            b"c" => {
                value.clear();
                let full;
                let (r, t) = match cell_attributes(e.attributes_raw()) {
                    Some(found) => found,
                    None => {
                        // Not as Excel writes them: quick_xml reads them.
                        full = cell_attributes_in_full(&e.event());
                        (full.0.as_deref(), full.1.as_deref())
                    }
                };
                col = r.and_then(column).unwrap_or(next_col);
                shared_ref = t == Some(b"s");
                next_col = col + 1;
            }
            b"v" | b"t" => in_value = true,
            n if is_loose(n) => loose = Some(Vec::new()),
            _ => {}
        },
        Raw::End(name) => match local(name) {
            b"v" | b"t" => in_value = false,
            n if is_loose(n) => {
                if let Some(text) = loose.take() {
                    if n.starts_with(b"formula") {
                        deliver(&text, cx);
                    } else {
                        // Codes glue to what follows them (`&RA123456(3)`).
                        deliver(header_text(&String::from_utf8_lossy(&text)).as_bytes(), cx);
                    }
                }
            }
            b"c" => {
                let text = if shared_ref {
                    let i = shared_index(&value);
                    if let Some(u) = i.and_then(|i| used.get_mut(i)) {
                        *u = true;
                    }
                    i.and_then(|i| shared.get(i))
                        .map_or(&[][..], |s| s.as_slice())
                } else {
                    value.as_slice()
                };
                columns.cell(text, col, cx);
            }
            _ => {}
        },
        Raw::Text(text) if in_value && value.len() < MAX_CELL => unescaped(text, &mut value),
        Raw::Text(text) => {
            if let Some(loose) = loose.as_mut().filter(|t| t.len() < MAX_CELL) {
                unescaped(text, loose);
            }
        }
        _ => {}
    });
    columns.end_row(cx);
}

/// A cell's reference (`r`) and type (`t`), where it has them.
pub(super) type CellAttributes<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// A cell's reference (`r`) and type (`t`) as Excel writes them: each
/// `name="value"` (or in `'`), with white space only between them. `None`
/// for anything else (space around `=`, a value without quotes, no name), which
/// `cell_attributes_in_full` reads instead. The first of a repeated one
/// wins, as there.
pub(super) fn cell_attributes(raw: &[u8]) -> Option<CellAttributes<'_>> {
    let (mut r, mut t) = (None, None);
    let mut i = 0;
    loop {
        while raw.get(i).is_some_and(|b| is_space(*b)) {
            i += 1;
        }
        if i >= raw.len() {
            return Some((r, t));
        }
        let key = i;
        while raw.get(i).is_some_and(|b| *b != b'=' && !is_space(*b)) {
            i += 1;
        }
        let name = raw.get(key..i)?;
        // (A name is never empty: quick_xml reads `="…` as one starting there.)
        if name.is_empty() || raw.get(i) != Some(&b'=') {
            return None;
        }
        let quote = *raw.get(i + 1)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let from = i + 2;
        let len = memchr::memchr(quote, raw.get(from..)?)?;
        let value = raw.get(from..from + len)?;
        i = from + len + 1;
        match name {
            b"r" if r.is_none() => r = Some(value),
            b"t" if t.is_none() => t = Some(value),
            _ => {}
        }
    }
}

/// `cell_attributes` by quick_xml's reading of attributes. Every cell has
/// these: its check for repeated attributes (comparing each name with every
/// earlier one) is left out, and the first of a repeated one wins, as with
/// the check.
pub(super) fn cell_attributes_in_full(e: &BytesStart<'_>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let (mut r, mut t) = (None, None);
    for a in e.attributes().with_checks(false).flatten() {
        match a.key.as_ref() {
            b"r" if r.is_none() => r = Some(a.value.into_owned()),
            b"t" if t.is_none() => t = Some(a.value.into_owned()),
            _ => {}
        }
    }
    (r, t)
}

/// A shared string's index as a cell gives it (`<v>12</v>`): digits, read
/// directly; anything else as text, trimmed and parsed.
pub(super) fn shared_index(value: &[u8]) -> Option<usize> {
    // Eighteen digits fit a `u64`; whether they fit a `usize` is checked.
    if (1..=18).contains(&value.len()) && value.iter().all(u8::is_ascii_digit) {
        let n = value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        return usize::try_from(n).ok();
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
}

/// Whether `name` is one of `SHEET_LOOSE`, with a length test first: a
/// sheet's own elements (`c`, `v`, `row`) are shorter than any of them, and
/// each comparison was a `memcmp` call per event.
fn is_loose(name: &[u8]) -> bool {
    name.len() >= 8 && SHEET_LOOSE.contains(&name)
}

/// Elements of a worksheet outside its cells whose text a user wrote.
const SHEET_LOOSE: &[&[u8]] = &[
    b"oddHeader",
    b"oddFooter",
    b"evenHeader",
    b"evenFooter",
    b"firstHeader",
    b"firstFooter",
    b"formula1",
    b"formula2",
];

// `is_loose` tests the length first: a name added here must be that long.
const _: () = {
    let mut k = 0;
    while k < SHEET_LOOSE.len() {
        assert!(SHEET_LOOSE[k].len() >= 8);
        k += 1;
    }
};

/// The messages a validation rule shows, and a hyperlink's text of its own:
/// the place in the workbook it leads to, its tooltip, what it shows (its
/// target outside the workbook is in the sheet's relationships).
fn attribute_messages<S: TextSink>(e: &BytesStart<'_>, cx: &mut Cx<S>) {
    for a in e.attributes().flatten() {
        if matches!(
            a.key.as_ref(),
            b"prompt"
                | b"promptTitle"
                | b"error"
                | b"errorTitle"
                | b"location"
                | b"tooltip"
                | b"display"
        ) {
            let mut text = Vec::new();
            attribute_text(&a, &mut text);
            deliver(&text, cx);
        }
    }
}

/// An attribute's value, its references undone.
pub(super) fn attribute_text(a: &quick_xml::events::attributes::Attribute<'_>, out: &mut Vec<u8>) {
    match a.unescape_value() {
        Ok(v) => out.extend_from_slice(v.as_bytes()),
        Err(_) => out.extend_from_slice(&a.value),
    }
}

/// `text` as a value of its own, unless it is only white space.
pub(super) fn deliver<S: TextSink>(text: &[u8], cx: &mut Cx<S>) {
    if text.iter().any(|b| !b.is_ascii_whitespace()) {
        cx.sink.text(text);
        cx.sink.boundary();
    }
}

/// Run text: pieces of one paragraph that Word and Excel split wherever the
/// formatting changes (`A123` `456(7)`), so no boundary falls between them.
fn is_run_text(local: &[u8]) -> bool {
    matches!(local, b"t" | b"delText" | b"instrText")
}

/// The text of a part with no reader of its own: run text as one piece up to
/// the end of the element that holds the runs (a paragraph, a comment), and
/// any other text node as the value of its element, whose name is the field
/// (`<hkid>` in a custom XML part heads its value as a JSON key does).
/// A workbook's sheet names (`<sheet name="陳大文 A123456(3)"/>`): people
/// name sheets after whom they are about.
fn sheet_name<S: TextSink>(e: &BytesStart<'_>, cx: &mut Cx<S>) {
    if let Ok(Some(a)) = e.try_get_attribute("name") {
        let mut text = Vec::new();
        attribute_text(&a, &mut text);
        deliver(&text, cx);
    }
}

/// The targets of a part's external links (`tel:`, `mailto:`, a web form's
/// address with its query): the text shows "call me", the target the number.
fn rels<S: TextSink>(r: &mut dyn Read, cx: &mut Cx<S>) {
    each_raw(r, cx, |event, cx| {
        let (Raw::Empty(e) | Raw::Start(e)) = event else {
            return;
        };
        if e.local_name() != b"Relationship" {
            return;
        }
        let e = e.event();
        let external = e
            .try_get_attribute("TargetMode")
            .ok()
            .flatten()
            .is_some_and(|m| m.value.as_ref() == b"External");
        if let (true, Ok(Some(a))) = (external, e.try_get_attribute("Target")) {
            let mut text = Vec::new();
            attribute_text(&a, &mut text);
            deliver(&text, cx);
        }
    });
}

fn xml_text<S: TextSink>(r: &mut dyn Read, cx: &mut Cx<S>) {
    let mut text = Vec::new();
    // Open elements: whether each is a run (`r`), for finding the holder of
    // run text. Its length is the depth.
    let mut open: Vec<bool> = Vec::new();
    let mut element = Vec::new();
    // The depth of the element holding the run text written last: the runs'
    // boundary comes when it ends.
    let mut holder: Option<usize> = None;
    each_raw(r, cx, |event, cx| match event {
        Raw::Empty(e) if e.local_name() == b"sheet" => sheet_name(&e.event(), cx),
        Raw::Start(e) => {
            let local = e.local_name();
            if local == b"sheet" {
                sheet_name(&e.event(), cx);
            }
            open.push(local == b"r");
            element.clear();
            element.extend_from_slice(local.get(..256).unwrap_or(local));
        }
        Raw::End(_) => {
            open.pop();
            element.clear();
            if holder.is_some_and(|d| open.len() < d) {
                holder = None;
                cx.sink.boundary();
            }
        }
        Raw::Text(e) => {
            text.clear();
            unescaped(e, &mut text);
            xml_value(&text, &element, &open, &mut holder, cx);
        }
        Raw::CData(e) => xml_value(e, &element, &open, &mut holder, cx),
        _ => {}
    });
    if holder.is_some() {
        cx.sink.boundary();
    }
}

fn xml_value<S: TextSink>(
    text: &[u8],
    element: &[u8],
    open: &[bool],
    holder: &mut Option<usize>,
    cx: &mut Cx<S>,
) {
    if text.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if is_run_text(element) {
        // `t` at depth d; its run (if any) at d - 1; the holder above that.
        let d = open.len();
        let in_run = open.len() >= 2 && open.get(d - 2) == Some(&true);
        *holder = Some(d.saturating_sub(if in_run { 2 } else { 1 }));
        cx.sink.text(text);
        return;
    }
    if holder.take().is_some() {
        cx.sink.boundary();
    }
    if !element.is_empty() {
        cx.sink.field(element);
    }
    cx.sink.text(text);
    cx.sink.boundary();
}

/// The value of attribute `key`, unescaped, into `out` (cleared); false if absent.
fn attribute(e: &BytesStart<'_>, key: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    match e.attributes().flatten().find(|a| a.key.as_ref() == key) {
        Some(a) => {
            unescaped(&a.value, out);
            true
        }
        None => false,
    }
}

/// A pivot cache definition: each field's name goes into `fields`, and the
/// distinct values kept for it (`<s v="陳大文"/>` under `sharedItems`, and the
/// labels of grouped items) are written under that name.
fn pivot_definition<S: TextSink>(r: &mut dyn Read, fields: &mut Vec<Vec<u8>>, cx: &mut Cx<S>) {
    let mut value = Vec::new();
    // The field being read, if it is one of the first `MAX_COLUMNS`.
    let mut field: Option<usize> = None;
    each_raw(r, cx, |event, cx| match event {
        Raw::Start(e) | Raw::Empty(e) => match e.local_name() {
            b"cacheField" => {
                attribute(&e.event(), b"name", &mut value);
                value.truncate(256);
                field = (fields.len() < MAX_COLUMNS).then(|| {
                    fields.push(value.clone());
                    fields.len() - 1
                });
            }
            b"s" | b"n" | b"d" | b"e" if attribute(&e.event(), b"v", &mut value) => {
                if let Some(name) = field.and_then(|f| fields.get(f)).filter(|n| !n.is_empty()) {
                    cx.sink.field(name);
                }
                cx.sink.text(&value);
                cx.sink.boundary();
            }
            _ => {}
        },
        Raw::End(name) if local(name) == b"cacheField" => field = None,
        _ => {}
    });
}

/// A pivot cache's rows (`<r><x v="0"/><n v="5000"/></r>`): a value written
/// in place goes under its field's name; an index (`x`) points to a value the
/// definition already gave.
fn pivot_records<S: TextSink>(r: &mut dyn Read, fields: &[Vec<u8>], cx: &mut Cx<S>) {
    let mut value = Vec::new();
    let mut col = 0usize;
    each_raw(r, cx, |event, cx| match event {
        Raw::Start(e) | Raw::Empty(e) => match e.local_name() {
            b"r" => col = 0,
            b"x" | b"m" | b"b" => col += 1,
            b"s" | b"n" | b"d" | b"e" => {
                if attribute(&e.event(), b"v", &mut value) {
                    if let Some(name) = fields.get(col).filter(|n| !n.is_empty()) {
                        cx.sink.field(name);
                    }
                    cx.sink.text(&value);
                    cx.sink.boundary();
                }
                col += 1;
            }
            _ => {}
        },
        _ => {}
    });
}
