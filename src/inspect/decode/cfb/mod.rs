//! Compound files (OLE2): Word 97–2003 documents (the text through the piece
//! table), Excel 97–2003 workbooks (BIFF8 cells, numbers included, first row
//! as column names), PowerPoint 97–2003 text atoms, and Outlook messages (their
//! string properties and attachments). A password-protected Office document,
//! new or old, is reported as encrypted; a compound file of another kind as
//! not read. Raw, these files hide text as UTF-16 and numbers as binary, so a
//! byte-level scan of them would pass what it cannot see.

mod biff;
pub(super) mod lzfu;
mod ppt;
mod props;
mod word;

pub(super) use biff::{header_text, number, rk};

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use super::container::nested;
use super::cx::Cx;
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
    let flavor = match document_kind(&comp, Path::new("/")) {
        Some(kind) => kind,
        None if streams
            .iter()
            .any(|p| file_name(p).starts_with("__substg1.0_")) =>
        {
            Flavor::Msg
        }
        None => Flavor::Other,
    };
    cx.format(format_name(flavor));
    if !document(&mut comp, Path::new("/"), flavor, depth, cx) {
        return;
    }
    // Storages that hold a document of their own: an object embedded in the
    // document (Word's `ObjectPool/_NNN`, Excel's `MBDxxxxxxxx`, an Outlook
    // attachment's `__substg1.0_3701000D`). Each is read as the document it
    // is, one level deeper.
    let mut embedded: Vec<&Path> = Vec::new();
    for path in &streams {
        if let Some(dir) = path.parent().filter(|d| *d != Path::new("/")) {
            if MAIN_STREAMS.contains(&file_name(path)) && !embedded.contains(&dir) {
                embedded.push(dir);
            }
        }
    }
    let mut known = 0usize;
    let mut packages = 0usize;
    for path in &streams {
        if cx.stopped || !cx.entry() {
            return;
        }
        let name = file_name(path);
        let dir = path.parent().unwrap_or(Path::new("/"));
        // Streams inside an embedded document are that document's, and
        // what they nest is one level deeper again.
        let levels = embedded.iter().filter(|e| path.starts_with(e)).count();
        let depth = depth.saturating_add(u32::try_from(levels).unwrap_or(u32::MAX));
        if flavor == Flavor::Msg && name.starts_with("__substg1.0_") {
            known += 1;
            msg_property(&mut comp, path, depth, cx);
            continue;
        }
        let in_document = if dir == Path::new("/") {
            matches!(flavor, Flavor::Doc | Flavor::Xls | Flavor::Ppt)
        } else {
            embedded.contains(&dir)
        };
        if PROPERTY_SETS.contains(&name) {
            if in_document && depth <= cx.limits.max_depth {
                let data = read_stream(&mut comp, path, cx);
                props::property_set(&data, cx);
            }
            continue;
        }
        if PRIMARY.contains(&name) {
            // An embedded document is read at its main stream (a storage
            // with a Workbook and a Book has one of them read).
            let kind = if dir == Path::new("/") {
                None
            } else {
                document_kind(&comp, dir)
            };
            if let Some(kind) = kind.filter(|&k| main_stream(&comp, dir, k) == Some(name)) {
                known += 1;
                if depth > cx.limits.max_depth {
                    cx.incomplete(
                        IncompleteReason::DepthLimit,
                        format!("containers nested deeper than {}", cx.limits.max_depth),
                    );
                    continue;
                }
                cx.format(format_name(kind));
                document(&mut comp, dir, kind, depth, cx);
            }
            continue;
        }
        // A file put in a document with Insert Object (Packager): its name
        // and bytes inside the object's native stream.
        if name == OLE_NATIVE {
            let data = read_stream(&mut comp, path, cx);
            if let Some((label, file)) = data.get(4..).and_then(ole_package) {
                packages += 1;
                nested(&mut &file[..], &label, depth, cx);
            }
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
    // An OLE object's own file (`oleObject1.bin` in a DOCX) is read once
    // its package is.
    if flavor == Flavor::Other && packages == 0 && known == 0 || flavor == Flavor::Msg && known == 0
    {
        cx.incomplete(
            IncompleteReason::Unsupported,
            "compound file of a kind not read here",
        );
    }
}

type Comp<'a> = cfb::CompoundFile<Cursor<&'a [u8]>>;

/// The document a storage holds, by its main stream (Word's before Excel's
/// before PowerPoint's, should a storage have more than one).
fn document_kind(comp: &Comp<'_>, dir: &Path) -> Option<Flavor> {
    let has = |name: &str| comp.is_stream(dir.join(name));
    if has("WordDocument") {
        Some(Flavor::Doc)
    } else if has("Workbook") || has("Book") {
        Some(Flavor::Xls)
    } else if has("PowerPoint Document") {
        Some(Flavor::Ppt)
    } else {
        None
    }
}

/// The stream a document of `kind` in `dir` is read from.
fn main_stream(comp: &Comp<'_>, dir: &Path, kind: Flavor) -> Option<&'static str> {
    match kind {
        Flavor::Doc => Some("WordDocument"),
        Flavor::Xls if comp.is_stream(dir.join("Workbook")) => Some("Workbook"),
        Flavor::Xls => Some("Book"),
        Flavor::Ppt => Some("PowerPoint Document"),
        Flavor::Msg | Flavor::Other => None,
    }
}

fn format_name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Doc => "doc",
        Flavor::Xls => "xls",
        Flavor::Ppt => "ppt",
        Flavor::Msg => "msg",
        Flavor::Other => "cfb",
    }
}

/// Reads the Word, Excel or PowerPoint document kept in storage `dir` (the
/// root, or an embedded object's storage). False when it cannot be read
/// at all (encrypted, no header), which the report then says.
fn document<S: TextSink>(
    comp: &mut Comp<'_>,
    dir: &Path,
    flavor: Flavor,
    depth: u32,
    cx: &mut Cx<S>,
) -> bool {
    match flavor {
        Flavor::Doc => {
            let word = read_stream(comp, &dir.join("WordDocument"), cx);
            let table = match word::word_flags(&word) {
                Some(f) if f & 0x0100 != 0 => {
                    cx.incomplete(
                        IncompleteReason::Encrypted,
                        "password-protected Word document",
                    );
                    return false;
                }
                Some(f) if f & 0x0200 != 0 => "1Table",
                Some(_) => "0Table",
                None => {
                    cx.incomplete(
                        IncompleteReason::Malformed,
                        "Word document without its header",
                    );
                    return false;
                }
            };
            let table = read_stream(comp, &dir.join(table), cx);
            if !word::word_text(&word, &table, cx) {
                cx.incomplete(
                    IncompleteReason::Malformed,
                    "Word document whose text could not be found",
                );
            }
        }
        Flavor::Xls => {
            let name = main_stream(comp, dir, flavor).unwrap_or("Workbook");
            let book = read_stream(comp, &dir.join(name), cx);
            biff::biff(&book, cx);
        }
        Flavor::Ppt => {
            if comp.is_stream(dir.join("EncryptedSummary")) {
                cx.incomplete(
                    IncompleteReason::Encrypted,
                    "password-protected PowerPoint document",
                );
                return false;
            }
            let doc = read_stream(comp, &dir.join("PowerPoint Document"), cx);
            ppt::ppt_text(&doc, depth, cx);
        }
        Flavor::Msg | Flavor::Other => {}
    }
    true
}

/// An OLE object PowerPoint keeps inside its document stream (a chart's
/// workbook, an embedded document or file): a compound file, after its size
/// and zlib-compressed when `compressed`. Read when it holds a document or
/// a file; a macro project or an ActiveX control (kept the same way) holds
/// code, not text, and is passed over.
pub(super) fn ppt_object<S: TextSink>(data: &[u8], compressed: bool, depth: u32, cx: &mut Cx<S>) {
    let object: std::borrow::Cow<'_, [u8]> = if compressed {
        // Inflated into memory: a few KB of zeros must not become the whole
        // hold budget, so the ratio limit applies as to any compressed part.
        let ratio_cap = cx.ratio_cap(data.len() as u64);
        let budget = cx.expand_room().min(cx.limits.max_buffer_bytes);
        let room = ratio_cap.min(budget);
        let mut out = Vec::new();
        let z = flate2::read::ZlibDecoder::new(data.get(4..).unwrap_or(&[]));
        if z.take(room.saturating_add(1))
            .read_to_end(&mut out)
            .is_err()
        {
            cx.incomplete(
                IncompleteReason::Malformed,
                "corrupt embedded object in a PowerPoint document",
            );
            return;
        }
        if out.len() as u64 > room {
            if ratio_cap < budget {
                cx.incomplete(
                    IncompleteReason::RatioLimit,
                    format!(
                        "embedded object in a PowerPoint document expands more than {}:1",
                        cx.limits.max_ratio
                    ),
                );
            } else {
                cx.incomplete(
                    IncompleteReason::SizeLimit,
                    "embedded object in a PowerPoint document past the decompression limit",
                );
            }
            return;
        }
        if !cx.expand(out.len()) {
            return;
        }
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(data)
    };
    if holds_content(&object) {
        nested(&mut &object[..], "", depth, cx);
    }
}

/// Whether a compound file holds a document, a packaged file or a file of
/// a kind read here; one that cannot be opened is handed on, so that the
/// report says so.
fn holds_content(buf: &[u8]) -> bool {
    let Ok(mut comp) = cfb::CompoundFile::open(Cursor::new(buf)) else {
        return true;
    };
    if document_kind(&comp, Path::new("/")).is_some() {
        return true;
    }
    let streams: Vec<PathBuf> = comp
        .walk()
        .filter(|e| e.is_stream())
        .map(|e| e.path().to_path_buf())
        .collect();
    streams.iter().any(|p| {
        file_name(p) == OLE_NATIVE
            || MAIN_STREAMS.contains(&file_name(p))
            || is_container(&head(&mut comp, p))
    })
}

/// The stream an OLE object keeps its native data in.
const OLE_NATIVE: &str = "\u{1}Ole10Native";

/// The file inside a Packager object's native data (what Insert Object
/// makes of a PDF, a CSV or any file; [MS-OLEDS] 2.3.6 and what Office
/// writes): a signature, the file's label and source path, two numbers, a
/// temporary path, then the file's size and bytes. `None` when `native` is
/// not one (an equation's, a chart's), or holds only a link to a file.
pub(super) fn ole_package(native: &[u8]) -> Option<(String, &[u8])> {
    if native.get(..2)? != [2, 0] {
        return None;
    }
    let cstr = |at: usize| -> Option<(&[u8], usize)> {
        let rest = native.get(at..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some((rest.get(..end)?, at + end + 1))
    };
    let (label, at) = cstr(2)?;
    let (_source, at) = cstr(at)?;
    let (_temp, at) = cstr(at + 8)?;
    let size = u32::from_le_bytes(native.get(at..at + 4)?.try_into().ok()?);
    let file = native.get(at + 4..)?;
    let file = file.get(..usize::try_from(size).ok()?.min(file.len()))?;
    let (label, _, _) = encoding_rs::WINDOWS_1252.decode(label);
    Some((label.into_owned(), file))
}

/// The streams read as a document itself (in any storage).
const PRIMARY: [&str; 6] = [
    "WordDocument",
    "0Table",
    "1Table",
    "Workbook",
    "Book",
    "PowerPoint Document",
];

/// The streams whose presence makes a storage a document.
const MAIN_STREAMS: [&str; 4] = ["WordDocument", "Workbook", "Book", "PowerPoint Document"];

/// The document's properties (File > Properties), read for Word, Excel and
/// PowerPoint documents; an Outlook message keeps its own as properties.
const PROPERTY_SETS: [&str; 2] = ["\u{5}SummaryInformation", "\u{5}DocumentSummaryInformation"];

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
pub(super) fn utf16le(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let even = bytes.get(..bytes.len() & !1).unwrap_or(&[]);
    encoding_rs::UTF_16LE.decode_without_bom_handling(even).0
}

pub(super) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(super) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A message's body as text (PR_BODY, UTF-16 or 8-bit), as HTML (PR_HTML)
/// and as compressed RTF (PR_RTF_COMPRESSED).
const BODY_UTF16: &str = "1000001F";
const BODY_8BIT: &str = "1000001E";
const BODY_HTML: &str = "10130102";
const BODY_RTF: &str = "10090102";

/// One property stream of an Outlook message (`__substg1.0_PPPPTTTT`):
/// strings (type 001F is UTF-16, 001E 8-bit) are text; an attachment's data
/// (3701, binary) is decoded as a file; a body kept only as HTML or as
/// compressed RTF is decoded as such.
fn msg_property<S: TextSink>(
    comp: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &Path,
    depth: u32,
    cx: &mut Cx<S>,
) {
    let name = file_name(path);
    let tag = name.get(12..20).unwrap_or("");
    let kind = tag.get(4..).unwrap_or("");
    let dir = path.parent().unwrap_or(Path::new("/"));
    let has = |comp: &mut cfb::CompoundFile<Cursor<&[u8]>>, tag: &str| {
        comp.is_stream(dir.join(format!("__substg1.0_{tag}")))
    };
    // The body is kept as text, as HTML, as compressed RTF, or several of
    // these; the first there is read, so that one body counts once.
    let plain_body =
        |comp: &mut cfb::CompoundFile<Cursor<&[u8]>>| has(comp, BODY_UTF16) || has(comp, BODY_8BIT);
    match tag {
        BODY_HTML if !plain_body(comp) => {
            let data = read_stream(comp, path, cx);
            nested(&mut data.as_slice(), "body.html", depth, cx);
            return;
        }
        BODY_RTF if !plain_body(comp) && !has(comp, BODY_HTML) => {
            let data = read_stream(comp, path, cx);
            match lzfu::decompress(&data, usize::try_from(cx.expand_room()).unwrap_or(usize::MAX)) {
                Ok(rtf) => {
                    if cx.expand(rtf.len()) {
                        nested(&mut rtf.as_slice(), "body.rtf", depth, cx);
                    }
                }
                Err(lzfu::Error::TooLarge) => cx.incomplete(
                    IncompleteReason::SizeLimit,
                    "message body (compressed RTF) larger than the decompression limit or its header",
                ),
                Err(_) => cx.incomplete(
                    IncompleteReason::Malformed,
                    "message body (compressed RTF) is corrupt or truncated",
                ),
            }
            return;
        }
        _ => {}
    }
    if !matches!(kind, "001F" | "001E") && tag != "37010102" {
        return;
    }
    let data = read_stream(comp, path, cx);
    match kind {
        "001F" => {
            let text = utf16le(&data);
            cx.sink.text(text.trim_end_matches('\0').as_bytes());
            cx.sink.boundary();
        }
        "001E" => {
            cx.sink.text(&data);
            cx.sink.boundary();
        }
        _ => {
            // The attachment's long file name is a sibling property.
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
    utf16le(&data).trim_end_matches('\0').to_owned()
}
