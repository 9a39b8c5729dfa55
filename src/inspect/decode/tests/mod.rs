//! End-to-end cases for the decoders through the `Scanner`: real inputs built
//! here (zip, flate2, brotli, zstd, hand-made multipart and PDF), each run at
//! every split point and byte by byte, which must all give the same events.

use std::io::Write;

use crate::inspect::decode::{ContentHint, Limits};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::scanner::{ScanReport, Scanner};
use crate::inspect::sink::{RecordingSink, SinkEvent};

fn scan_chunks(
    input: &[u8],
    hint: &ContentHint,
    limits: &Limits,
    cuts: &[usize],
) -> (RecordingSink, ScanReport) {
    let mut s = Scanner::new(RecordingSink::default(), limits, hint.clone());
    let mut at = 0;
    for &c in cuts {
        let c = c.clamp(at, input.len());
        s.feed(&input[at..c]);
        at = c;
    }
    s.feed(&input[at..]);
    s.finish()
}

/// Scans whole, at every single split point (for inputs up to 8 KiB), and
/// byte by byte; all must agree.
fn scan_all_ways(
    name: &str,
    input: &[u8],
    hint: &ContentHint,
    limits: &Limits,
) -> (RecordingSink, ScanReport) {
    let whole = scan_chunks(input, hint, limits, &[]);
    // Past 8 KiB (a long tail after a zip), the ends and every 61st point
    // between: those formats are held whole before they are read.
    let near_end = |i: usize| i < 4096 || input.len() - i < 4096;
    for i in (0..=input.len()).filter(|&i| near_end(i) || i % 61 == 0) {
        let split = scan_chunks(input, hint, limits, &[i]);
        assert_eq!(split.0, whole.0, "{name}: events differ when split at {i}");
        assert_eq!(split.1, whole.1, "{name}: report differs when split at {i}");
    }
    let cuts: Vec<usize> = (1..input.len()).collect();
    let bytewise = scan_chunks(input, hint, limits, &cuts);
    assert_eq!(bytewise.0, whole.0, "{name}: events differ byte by byte");
    assert_eq!(bytewise.1, whole.1, "{name}: report differs byte by byte");
    whole
}

fn hint(ct: Option<&str>, ce: Option<&str>, file: Option<&str>) -> ContentHint {
    ContentHint {
        content_type: ct.map(str::to_owned),
        content_encoding: ce.map(str::to_owned),
        file_name: file.map(str::to_owned),
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

fn lzip(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::LzipWriter::new(Vec::new(), lzma_rust2::LzipOptions::with_preset(6));
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// How a test 7z archive is written.
#[derive(Clone, Copy, Default)]
struct SevenZ {
    /// All files in one compressed block, as 7-Zip does by default.
    solid: bool,
    ppmd: bool,
}

fn seven_zip(entries: &[(&str, &[u8])], how: SevenZ) -> Vec<u8> {
    use sevenz_rust2::{
        ArchiveEntry, ArchiveWriter, EncoderConfiguration, EncoderMethod, SourceReader,
    };
    let mut w = ArchiveWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    w.set_content_methods(vec![EncoderConfiguration::new(if how.ppmd {
        EncoderMethod::PPMD
    } else {
        EncoderMethod::LZMA2
    })]);
    if how.solid {
        let names = entries
            .iter()
            .map(|(n, _)| ArchiveEntry::new_file(n))
            .collect();
        let readers = entries.iter().map(|(_, d)| SourceReader::new(*d)).collect();
        w.push_archive_entries(names, readers).unwrap();
    } else {
        for (name, data) in entries {
            w.push_archive_entry(ArchiveEntry::new_file(name), Some(*data))
                .unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

/// How a test RAR archive is written.
#[derive(Clone, Copy)]
struct RarHow {
    /// RAR 5 (WinRAR 5 to 7) or RAR 2.9 (WinRAR 3 and 4, still common).
    format: rars::ArchiveVersion,
    solid: bool,
    store: bool,
}

impl Default for RarHow {
    fn default() -> Self {
        RarHow {
            format: rars::ArchiveVersion::Rar50,
            solid: false,
            store: false,
        }
    }
}

fn rar(entries: &[(&str, &[u8])], how: RarHow) -> Vec<u8> {
    let mut b = rars::Builder::new(how.format)
        .solid(how.solid)
        .store(how.store);
    for (name, data) in entries {
        b.add_bytes(name.as_bytes().to_vec(), data.to_vec(), None, None)
            .unwrap();
    }
    b.to_bytes().unwrap()
}

/// A TNEF stream (winmail.dat) of the given attributes.
fn tnef(attributes: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"\x78\x9f\x3e\x22\x01\x00".to_vec();
    for a in attributes {
        out.extend_from_slice(a);
    }
    out
}

/// One TNEF attribute: level, id, length, data, checksum.
fn tnef_att(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
    let mut out = vec![level];
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    let sum = data.iter().fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// A MAPI property list of variable-size values (type, id, value).
fn mapi_props(props: &[(u16, u16, Vec<u8>)]) -> Vec<u8> {
    let mut out = (props.len() as u32).to_le_bytes().to_vec();
    for (kind, id, value) in props {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
        out.resize(out.len() + (4 - value.len() % 4) % 4, 0);
    }
    out
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Level 9, as the bombs below assume (the writer's default compresses less).
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const CT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;

fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#,
    );
    for p in paragraphs {
        // Split each paragraph into two runs, as Word does.
        let mid = p
            .char_indices()
            .nth(p.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        body.push_str(&format!(
            r#"<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r><w:r><w:t>{}</w:t></w:r></w:p>"#,
            &p[..mid],
            &p[mid..]
        ));
    }
    body.push_str("</w:body></w:document>");
    zip_of(&[
        ("[Content_Types].xml", CT_TYPES),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", body.as_bytes()),
        ("word/media/image1.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
    ])
}

fn xlsx() -> Vec<u8> {
    let shared = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>Name</t></si><si><t>HKID</t></si><si><t>陳大文</t></si><si><r><t>A123</t></r><r><t>456(7)</t></r></si></sst>"#;
    let sheet = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><t>Phone</t></is></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2"><v>85261234567</v></c></row></sheetData></worksheet>"#;
    zip_of(&[
        ("[Content_Types].xml", CT_TYPES),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/sharedStrings.xml", shared.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

/// An XLSX whose data is also outside its sheets: a pivot cache, a cell
/// comment split into runs, a chart's cached series name, a shared string no
/// cell uses; and a style sheet, which holds none.
fn xlsx_beyond_sheets() -> Vec<u8> {
    let shared = r#"<sst><si><t>Name</t></si><si><t>unused HKID A123456(7)</t></si></sst>"#;
    let sheet = r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#;
    let comments = r#"<comments><authors><author>Chan</author></authors><commentList><comment ref="A1" authorId="0"><text><r><rPr><b/></rPr><t>Patient</t></r><r><t xml:space="preserve"> diagnosis</t></r></text></comment></commentList></comments>"#;
    let definition = r#"<pivotCacheDefinition><cacheFields count="2"><cacheField name="電話" numFmtId="0"><sharedItems count="1"><s v="6612 3456"/></sharedItems></cacheField><cacheField name="Salary"><sharedItems containsNumber="1" minValue="5000" maxValue="5000"/></cacheField></cacheFields></pivotCacheDefinition>"#;
    let records =
        r#"<pivotCacheRecords count="1"><r><x v="0"/><n v="5000"/></r></pivotCacheRecords>"#;
    let chart = r#"<c:chartSpace xmlns:c="c"><c:chart><c:ser><c:tx><c:strRef><c:f>Sheet1!$B$1</c:f><c:strCache><c:pt idx="0"><c:v>Salary &amp; bonus</c:v></c:pt></c:strCache></c:strRef></c:tx></c:ser></c:chart></c:chartSpace>"#;
    zip_of(&[
        ("[Content_Types].xml", CT_TYPES),
        (
            "xl/workbook.xml",
            b"<workbook><sheets><sheet name=\"Sheet1\"/></sheets></workbook>",
        ),
        ("xl/sharedStrings.xml", shared.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ("xl/comments1.xml", comments.as_bytes()),
        ("xl/pivotCache/pivotCacheRecords1.xml", records.as_bytes()),
        (
            "xl/pivotCache/pivotCacheDefinition1.xml",
            definition.as_bytes(),
        ),
        ("xl/charts/chart1.xml", chart.as_bytes()),
        ("xl/styles.xml", b"<styleSheet><x>not text</x></styleSheet>"),
        (
            "xl/theme/theme1.xml",
            b"<a:theme><a:t>Office</a:t></a:theme>",
        ),
    ])
}

/// A DOCX with a custom XML part (content controls bound to data) and a
/// building block, both outside `word/document.xml`.
fn docx_beyond_body() -> Vec<u8> {
    let custom =
        r#"<?xml version="1.0"?><employee><name>陳大文</name><hkid>A123456(7)</hkid></employee>"#;
    let glossary = r#"<w:glossaryDocument xmlns:w="w"><w:docParts><w:docPart><w:docPartBody><w:p><w:r><w:t>M123</w:t></w:r><w:r><w:t>4567</w:t></w:r></w:p></w:docPartBody></w:docPart></w:docParts></w:glossaryDocument>"#;
    zip_of(&[
        ("[Content_Types].xml", CT_TYPES),
        (
            "word/document.xml",
            b"<w:document xmlns:w=\"w\"><w:body/></w:document>",
        ),
        ("customXml/item1.xml", custom.as_bytes()),
        (
            "customXml/_rels/item1.xml.rels",
            b"<Relationships><Relationship Target=\"x\"/></Relationships>",
        ),
        ("word/glossary/document.xml", glossary.as_bytes()),
        (
            "word/fontTable.xml",
            b"<w:fonts><w:t>Calibri</w:t></w:fonts>",
        ),
    ])
}

fn pptx() -> Vec<u8> {
    let slide = r#"<?xml version="1.0"?><p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>Patient &amp; diagnosis</a:t></a:r></a:p><a:p><a:r><a:t>M1234567</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#;
    zip_of(&[
        ("[Content_Types].xml", CT_TYPES),
        ("ppt/presentation.xml", b"<p:presentation/>"),
        ("ppt/slides/slide1.xml", slide.as_bytes()),
    ])
}

fn pdf(content: &[u8], filter: &str) -> Vec<u8> {
    let (data, f) = match filter {
        "flate" => (zlib(content), "/Filter /FlateDecode "),
        "lzw" => (content.to_vec(), "/Filter /LZWDecode "),
        _ => (content.to_vec(), ""),
    };
    let mut out = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
    out.extend_from_slice(format!("4 0 obj\n<< {f}/Length {} >>\nstream\n", data.len()).as_bytes());
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    out
}

/// A PDF of the objects given: (number, dictionary, stream data).
fn pdf_of(objects: &[(u32, &str, Option<&[u8]>)]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    for (n, dict, stream) in objects {
        out.extend_from_slice(format!("{n} 0 obj\n{dict}\n").as_bytes());
        if let Some(data) = stream {
            out.extend_from_slice(b"stream\r\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\nendstream\n");
        }
        out.extend_from_slice(b"endobj\n");
    }
    out.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    out
}

/// A ToUnicode CMap giving each character of `text`, in order of first
/// appearance, a two-byte code from 1 up; and `text` in those codes.
fn subset(text: &str) -> (Vec<u8>, Vec<u8>) {
    let mut chars: Vec<char> = Vec::new();
    let mut codes = Vec::new();
    for c in text.chars() {
        let k = chars.iter().position(|&x| x == c).unwrap_or_else(|| {
            chars.push(c);
            chars.len() - 1
        });
        codes.extend_from_slice(&(k as u16 + 1).to_be_bytes());
    }
    let mut cmap = String::from("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n");
    cmap.push_str(&format!("{} beginbfchar\n", chars.len()));
    for (k, c) in chars.iter().enumerate() {
        let mut units = [0u16; 2];
        let hex: String = c
            .encode_utf16(&mut units)
            .iter()
            .map(|u| format!("{u:04X}"))
            .collect();
        cmap.push_str(&format!("<{:04X}> <{hex}>\n", k + 1));
    }
    cmap.push_str("endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n");
    (zlib(cmap.as_bytes()), codes)
}

/// A Packager object's native data (what Insert Object makes of a file), as
/// Office writes it: signature, label, source path, two numbers, temporary
/// path, size, bytes, then the paths again in UTF-16 (not read).
fn ole_package(label: &str, file: &[u8]) -> Vec<u8> {
    let mut p = vec![2, 0];
    p.extend_from_slice(label.as_bytes());
    p.push(0);
    p.extend_from_slice(format!("C:\\Users\\chan\\{label}\0").as_bytes());
    p.extend_from_slice(&[0, 0, 3, 0]);
    let temp = format!("C:\\Temp\\{label}\0");
    p.extend_from_slice(&(temp.len() as u32).to_le_bytes());
    p.extend_from_slice(temp.as_bytes());
    p.extend_from_slice(&(file.len() as u32).to_le_bytes());
    p.extend_from_slice(file);
    p.extend_from_slice(&[0; 12]);
    p
}

/// An OLE object's `\x01Ole10Native` stream: its size, then the native data.
fn ole_native(native: &[u8]) -> Vec<u8> {
    let mut s = (native.len() as u32).to_le_bytes().to_vec();
    s.extend_from_slice(native);
    s
}

fn hex_string(codes: &[u8]) -> String {
    codes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A compound file of the streams given (paths like `/Dir/Name`).
fn compound(streams: &[(&str, &[u8])]) -> Vec<u8> {
    use std::path::Path;
    // Version 3 (512-byte sectors) keeps the files small.
    let mut c =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, std::io::Cursor::new(Vec::new()))
            .unwrap();
    for (path, data) in streams {
        let parent = Path::new(path).parent().unwrap();
        if parent != Path::new("/") && !c.exists(parent) {
            c.create_storage_all(parent).unwrap();
        }
        c.create_stream(path).unwrap().write_all(data).unwrap();
    }
    c.flush().unwrap();
    c.into_inner().into_inner()
}

/// A Word 97 document whose text is `pieces`, each stored 8-bit (true) or
/// as UTF-16, laid out by a piece table after a property modifier. `last_cp`
/// forges the end of the last piece.
fn word_doc(pieces: &[(&str, bool)], flags: u16) -> Vec<u8> {
    word_doc_forged(pieces, flags, None)
}

fn word_doc_forged(pieces: &[(&str, bool)], flags: u16, last_cp: Option<u32>) -> Vec<u8> {
    let le16 = |v: u16| v.to_le_bytes();
    let le32 = |v: u32| v.to_le_bytes();
    // Header: 14 16-bit words, 22 32-bit words, 93 (offset, size) pairs.
    let pairs = 0x22 + 14 * 2 + 2 + 22 * 4 + 2;
    let mut word = vec![0u8; pairs + 93 * 8];
    word[0..2].copy_from_slice(&le16(0xA5EC));
    word[0x0A..0x0C].copy_from_slice(&le16(flags));
    word[0x20..0x22].copy_from_slice(&le16(14));
    word[0x22 + 28..0x22 + 30].copy_from_slice(&le16(22));
    word[pairs - 2..pairs].copy_from_slice(&le16(93));
    let (mut cps, mut pcds, mut cp) = (vec![0u32], Vec::new(), 0u32);
    for (text, eight_bit) in pieces {
        let at = word.len() as u32;
        let n = if *eight_bit {
            word.extend(text.chars().map(|c| c as u8));
            pcds.push((at * 2) | 0x4000_0000);
            text.chars().count()
        } else {
            word.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            pcds.push(at);
            text.encode_utf16().count()
        };
        cp += n as u32;
        cps.push(cp);
    }
    if let (Some(forged), Some(last)) = (last_cp, cps.last_mut()) {
        *last = forged;
    }
    let mut plc: Vec<u8> = cps.iter().flat_map(|c| le32(*c)).collect();
    for fc in pcds {
        plc.extend_from_slice(&[0, 0]);
        plc.extend_from_slice(&le32(fc));
        plc.extend_from_slice(&[0, 0]);
    }
    let mut clx = vec![1u8];
    clx.extend_from_slice(&le16(2));
    clx.extend_from_slice(&[0xAA, 0xBB, 2]);
    clx.extend_from_slice(&le32(plc.len() as u32));
    clx.extend_from_slice(&plc);
    let mut table = b"padding".to_vec();
    let fc_clx = table.len() as u32;
    table.extend_from_slice(&clx);
    word[pairs + 33 * 8..pairs + 33 * 8 + 4].copy_from_slice(&le32(fc_clx));
    word[pairs + 33 * 8 + 4..pairs + 34 * 8].copy_from_slice(&le32(clx.len() as u32));
    let table_name = if flags & 0x0200 != 0 {
        "/1Table"
    } else {
        "/0Table"
    };
    compound(&[("/WordDocument", &word), (table_name, &table)])
}

/// A BIFF8 record.
fn rec(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut r = kind.to_le_bytes().to_vec();
    r.extend_from_slice(&(body.len() as u16).to_le_bytes());
    r.extend_from_slice(body);
    r
}

/// A cell record's head: row, column, format.
fn rc(row: u16, col: u16) -> Vec<u8> {
    [row.to_le_bytes(), col.to_le_bytes(), [0, 0]].concat()
}

/// An Excel 97 workbook: shared strings split across a CONTINUE record in the
/// middle of a string (whose rest is 16-bit), then one sheet whose cells are
/// a header row of shared strings, a number, an RK integer, a MULRK pair, a
/// formula with a text result, and a label.
fn biff_book(encrypted: bool) -> Vec<u8> {
    let mut book = rec(0x0809, &[0; 16]);
    if encrypted {
        book.extend(rec(0x002F, &[0; 6]));
    }
    let mut sheet_name = vec![0u8; 6];
    sheet_name.extend_from_slice(&[5, 0, 0]);
    sheet_name.extend_from_slice(b"Staff");
    book.extend(rec(0x0085, &sheet_name));
    // Strings: "Name", "Phone", then "陳大文" begun 8-bit-less: its first
    // character in this record is impossible 8-bit, so it starts 16-bit.
    let mut sst = [4u32.to_le_bytes(), 4u32.to_le_bytes()].concat();
    for s in ["Name", "Phone"] {
        sst.extend_from_slice(&(s.len() as u16).to_le_bytes());
        sst.push(0);
        sst.extend_from_slice(s.as_bytes());
    }
    // "HKID A123456(3)": 8-bit, cut after "HKID A12"; the rest 16-bit.
    sst.extend_from_slice(&15u16.to_le_bytes());
    sst.push(0);
    sst.extend_from_slice(b"HKID A12");
    let mut cont = vec![1u8];
    cont.extend("3456(3)".encode_utf16().flat_map(u16::to_le_bytes));
    // "陳大文", 16-bit, with one formatting run to skip.
    cont.extend_from_slice(&3u16.to_le_bytes());
    cont.push(0x09);
    cont.extend_from_slice(&1u16.to_le_bytes());
    cont.extend("陳大文".encode_utf16().flat_map(u16::to_le_bytes));
    cont.extend_from_slice(&[0, 0, 0, 0]);
    book.extend(rec(0x00FC, &sst));
    book.extend(rec(0x003C, &cont));
    book.extend(rec(0x0809, &[0; 16]));
    let labelsst =
        |row, col, k: u32| rec(0x00FD, &[rc(row, col), k.to_le_bytes().to_vec()].concat());
    book.extend(labelsst(0, 0, 0));
    book.extend(labelsst(0, 1, 1));
    book.extend(labelsst(1, 0, 3));
    book.extend(rec(
        0x0203,
        &[rc(1, 1), 66123456f64.to_le_bytes().to_vec()].concat(),
    ));
    book.extend(labelsst(2, 0, 2));
    // RK: 28123456 as a 30-bit integer.
    book.extend(rec(
        0x027E,
        &[rc(2, 1), ((28123456u32 << 2) | 2).to_le_bytes().to_vec()].concat(),
    ));
    // MULRK over columns 2 and 3 of row 3: 12345.67 (x100) and 5000.
    let mut mulrk = rc(3, 2)[..4].to_vec();
    mulrk.extend_from_slice(&[0, 0]);
    mulrk.extend_from_slice(&((1234567u32 << 2) | 3).to_le_bytes());
    mulrk.extend_from_slice(&[0, 0]);
    mulrk.extend_from_slice(&((5000u32 << 2) | 2).to_le_bytes());
    mulrk.extend_from_slice(&3u16.to_le_bytes());
    book.extend(rec(0x00BD, &mulrk));
    let mut formula = rc(4, 1);
    formula.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0xFF, 0xFF]);
    formula.extend_from_slice(&[0; 6]);
    book.extend(rec(0x0006, &formula));
    book.extend(rec(
        0x0207,
        &[&9u16.to_le_bytes()[..], &[0], b"6612 3456"].concat(),
    ));
    book.extend(rec(
        0x0204,
        &[
            rc(5, 0),
            3u16.to_le_bytes().to_vec(),
            vec![0],
            b"end".to_vec(),
        ]
        .concat(),
    ));
    book
}

/// PowerPoint 97 records: a container holding a 16-bit and an 8-bit text atom.
fn ppt_document() -> Vec<u8> {
    let atom = |kind: u16, data: &[u8]| {
        let mut a = [0u16.to_le_bytes(), kind.to_le_bytes()].concat();
        a.extend_from_slice(&(data.len() as u32).to_le_bytes());
        a.extend_from_slice(data);
        a
    };
    let chars: Vec<u8> = "醫生紙 病假"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let inner = [
        atom(0x0FA0, &chars),
        atom(0x0FA8, b"HKID A123456(3)"),
        atom(0x0FF5, &[1, 2, 3]),
    ]
    .concat();
    let mut doc = [0x000Fu16.to_le_bytes(), 0x03E8u16.to_le_bytes()].concat();
    doc.extend_from_slice(&(inner.len() as u32).to_le_bytes());
    doc.extend_from_slice(&inner);
    doc
}

/// A BIFF12 record (XLSB): its type, then its size, each in 7-bit groups
/// low first, a high bit saying another byte follows.
fn brt(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut r = Vec::new();
    for mut v in [u32::from(kind), body.len() as u32] {
        loop {
            let low = (v & 0x7F) as u8;
            v >>= 7;
            if v == 0 {
                r.push(low);
                break;
            }
            r.push(low | 0x80);
        }
    }
    r.extend_from_slice(body);
    r
}

/// An XLWideString: its count of UTF-16 units, then the units.
fn wide(s: &str) -> Vec<u8> {
    let units: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    [(units.len() as u32 / 2).to_le_bytes().to_vec(), units].concat()
}

/// An XLSB cell: column, style and flags, then its value.
fn xcell(kind: u16, col: u32, value: &[u8]) -> Vec<u8> {
    brt(kind, &[&col.to_le_bytes()[..], &[0; 4], value].concat())
}

/// A BrtRowHdr: the row's index, then its height and formatting.
fn xrow(row: u32) -> Vec<u8> {
    brt(0, &[&row.to_le_bytes()[..], &[0; 13]].concat())
}

/// A whole-number RK: 30 bits, the "integer" flag set.
fn rk_int(v: i32) -> Vec<u8> {
    ((v << 2) | 2).to_le_bytes().to_vec()
}

/// An XLSB shared strings part; a string starting with `*` is stored as rich
/// text, its formatting run after it.
fn xlsb_strings(strings: &[&str]) -> Vec<u8> {
    let n = (strings.len() as u32).to_le_bytes();
    let mut part = brt(159, &[n, n].concat());
    for s in strings {
        let item = match s.strip_prefix('*') {
            Some(rich) => [&[1u8][..], &wide(rich), &1u32.to_le_bytes(), &[0, 0, 1, 0]].concat(),
            None => [&[0u8][..], &wide(s)].concat(),
        };
        part.extend(brt(19, &item));
    }
    part.extend(brt(160, &[]));
    part
}

/// An XLSB sheet part holding `data` between the records that open and
/// close its cells.
fn xlsb_sheet(data: &[Vec<u8>]) -> Vec<u8> {
    let mut part = [brt(129, &[]), brt(148, &[0; 16]), brt(145, &[])].concat();
    part.extend(data.concat());
    part.extend([brt(146, &[]), brt(130, &[])].concat());
    part
}

/// An XLSB package: a workbook naming one sheet, then `parts`.
fn xlsb_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut bundle = [0u32.to_le_bytes(), 1u32.to_le_bytes()].concat();
    bundle.extend(wide("rId1"));
    bundle.extend(wide("Staff"));
    let book = [brt(131, &[]), brt(156, &bundle), brt(132, &[])].concat();
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CT_TYPES),
        ("xl/workbook.bin", &book),
        (
            "xl/_rels/workbook.bin.rels",
            b"<Relationships><Relationship Target=\"worksheets/sheet1.bin\"/></Relationships>",
        ),
    ];
    entries.extend_from_slice(parts);
    zip_of(&entries)
}

/// An XLSB workbook with every kind of cell: a header row of a shared, an
/// inline and a rich string; phone numbers as an RK integer and as a double;
/// a shared string, a formula's string, an RK over 100 and a formula's
/// number; booleans, errors and blanks, which hold nothing to read. A second
/// sheet has its own header row. Comments, document properties, a shared
/// string no cell uses; styles and the sheets' row index, which hold none.
fn xlsb_workbook() -> Vec<u8> {
    let strings = xlsb_strings(&["電話", "*醫生紙", "unused 身份證 A123456(7)"]);
    let sheet1 = xlsb_sheet(&[
        xrow(0),
        xcell(7, 0, &0u32.to_le_bytes()),
        xcell(6, 1, &wide("備註")),
        xcell(62, 2, &[&[0u8][..], &wide("HKID")].concat()),
        xcell(6, 3, &wide("Salary")),
        xrow(1),
        xcell(2, 0, &rk_int(66123456)),
        xcell(7, 1, &1u32.to_le_bytes()),
        // The cached result, its flags, then the formula's tokens.
        xcell(
            8,
            2,
            &[&wide("A123456(7)")[..], &[0, 0], &[3, 0, 0, 0, 0x17, 0, 0]].concat(),
        ),
        xcell(2, 3, &((1234567u32 << 2) | 3).to_le_bytes()),
        xrow(2),
        xcell(5, 0, &28123456f64.to_le_bytes()),
        xcell(1, 1, &[]),
        xcell(4, 2, &[1]),
        xcell(3, 2, &[0x07]),
        xcell(
            9,
            3,
            &[&5000.5f64.to_le_bytes()[..], &[0, 0], &[0; 4]].concat(),
        ),
        xcell(10, 4, &[&[1u8][..], &[0, 0], &[0; 4]].concat()),
        xcell(11, 5, &[&[0x2Au8][..], &[0, 0], &[0; 4]].concat()),
    ]);
    let sheet2 = xlsb_sheet(&[
        xrow(0),
        xcell(6, 0, &wide("Name")),
        xrow(1),
        xcell(6, 0, &wide("Lee Siu Ming")),
    ]);
    let comments = [
        brt(628, &[]),
        brt(630, &[]),
        brt(632, &wide("Chan")),
        brt(631, &[]),
        brt(633, &[]),
        brt(635, &[0; 36]),
        brt(637, &[&[0u8][..], &wide("Patient diagnosis")].concat()),
        brt(636, &[]),
        brt(634, &[]),
        brt(629, &[]),
    ]
    .concat();
    let styles = brt(44, &[&[164u8, 0][..], &wide("\"HKID \"@")].concat());
    let core = r#"<cp:coreProperties xmlns:cp="cp" xmlns:dc="dc"><dc:creator>陳大文</dc:creator></cp:coreProperties>"#;
    xlsb_of(&[
        ("docProps/core.xml", core.as_bytes()),
        ("xl/styles.bin", &styles),
        ("xl/sharedStrings.bin", &strings),
        ("xl/worksheets/sheet1.bin", &sheet1),
        (
            "xl/worksheets/binaryIndex1.bin",
            &brt(42, &wide("HKID A123456(7)")),
        ),
        ("xl/worksheets/sheet2.bin", &sheet2),
        ("xl/comments1.bin", &comments),
    ])
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// A tar archive as `tar` writes one (GNU headers, long names as `L`
/// records), of `files`, a directory, and a member named by a pax record.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_size(0);
    b.append_data(&mut dir, "staff/", std::io::empty()).unwrap();
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, *data).unwrap();
    }
    let record = "23 path=staff/pax-notes\n";
    let mut pax = tar::Header::new_ustar();
    pax.set_entry_type(tar::EntryType::XHeader);
    pax.set_size(record.len() as u64);
    pax.set_cksum();
    b.append(&pax, record.as_bytes()).unwrap();
    let notes = b"mail chan.tai.man@example.com";
    let mut h = tar::Header::new_ustar();
    h.set_path("short-name").unwrap();
    h.set_size(notes.len() as u64);
    h.set_cksum();
    b.append(&h, &notes[..]).unwrap();
    b.into_inner().unwrap()
}

/// An OpenDocument package of `mimetype` with these parts.
fn odf_of(mimetype: &str, parts: &[(&str, &str)]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("mimetype", mimetype.as_bytes()),
        ("META-INF/manifest.xml", b"<manifest:manifest/>"),
        (
            "settings.xml",
            b"<office:settings><config:config-item>secret</config:config-item></office:settings>",
        ),
    ];
    entries.extend(parts.iter().map(|(n, x)| (*n, x.as_bytes())));
    zip_of(&entries)
}

/// A raw tar header: name, type, size (octal), magic; its checksum summed
/// over signed bytes when `signed` (as old HP-UX and V7 tars did).
fn tar_header(name: &[u8], kind: u8, size: u64, signed: bool) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: i64 = h
        .iter()
        .map(|&b| {
            if signed {
                i64::from(b as i8)
            } else {
                i64::from(b)
            }
        })
        .sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// `data` padded to whole 512-byte blocks.
fn blocks(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.resize(data.len().div_ceil(512) * 512, 0);
    v
}

/// A part: its name, its (file name, content type) if a file, its content.
type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

fn multipart(boundary: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file, data) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some((fname, ct)) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{fname}\"\r\nContent-Type: {ct}\r\n\r\n").as_bytes(),
            ),
            None => out.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

fn f(s: &str) -> SinkEvent {
    SinkEvent::Field(s.as_bytes().to_vec())
}
fn t(s: &str) -> SinkEvent {
    SinkEvent::Text(s.as_bytes().to_vec())
}
const B: SinkEvent = SinkEvent::Boundary;

/// The text delivered right after `field(name)`, for every occurrence.
fn values_of(sink: &RecordingSink, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in sink.events.windows(2) {
        if let [SinkEvent::Field(n), SinkEvent::Text(v)] = w {
            if n == name.as_bytes() {
                out.push(String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    out
}

/// `data` in base64 as MIME wraps it (76 characters a line), from byte
/// `from` of the encoding on.
fn b64_lines(data: &[u8], from: usize) -> Vec<u8> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(76)
        .map(|l| std::str::from_utf8(l).unwrap_or_default())
        .collect();
    lines.join("\r\n").into_bytes().split_off(from)
}

/// Each of `wants` is in the text the decoders gave.
fn assert_has(name: &str, joined: &str, wants: &[&str]) {
    for want in wants {
        assert!(
            joined.contains(want),
            "{name}: missing {want:?} in {joined:?}"
        );
    }
}

/// None of `unwanted` is.
fn assert_lacks(name: &str, joined: &str, unwanted: &[&str]) {
    for not in unwanted {
        assert!(
            !joined.contains(not),
            "{name}: {not:?} should not be read in {joined:?}"
        );
    }
}

/// Text as Windows keeps it, without a byte-order mark.
fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Rows of a customer list, for data that compresses as documents do.
fn chinese_rows(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            format!(
                "{i},陳大文{},6{:03} {:04},澳門氹仔{}街\n",
                i % 97,
                i % 1000,
                (i * 37) % 10_000,
                i % 13
            )
            .into_bytes()
        })
        .collect()
}

/// Bytes as JPEG's entropy-coded data has them: random, with every 0xFF
/// followed by a stuffed zero or a restart marker.
fn jpeg_scan_data(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut out = Vec::with_capacity(len + 2);
    let mut restart = 0u8;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for b in x.to_le_bytes() {
            out.push(b);
            if b == 0xFF {
                if x.is_multiple_of(7) {
                    out.push(0xD0 + restart);
                    restart = (restart + 1) % 8;
                } else {
                    out.push(0);
                }
            }
        }
    }
    out.truncate(len);
    out
}

/// A raw deflate stream that stores `data` in a block of its own and then
/// turns corrupt: the next block has the reserved type. A decoder given it
/// all at once makes `data` and meets the fault in the same step.
fn deflate_stored_then_bad(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap();
    let mut out = vec![0x00];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    // BFINAL 1, BTYPE 11.
    out.push(0x07);
    out
}

/// A zstd frame that holds `data` in a raw block and then a block of the
/// reserved type.
fn zstd_raw_then_bad(data: &[u8]) -> Vec<u8> {
    let size = u32::try_from(data.len()).unwrap();
    assert!(size < 1024, "one raw block inside a 1 KiB window");
    // No checksum, no content size, a window of 1 KiB.
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00];
    out.extend_from_slice(&(size << 3).to_le_bytes()[..3]);
    out.extend_from_slice(data);
    // Last block, of type 3.
    out.extend_from_slice(&[0x07, 0x00, 0x00]);
    out
}

/// Text that compresses poorly (random words of letters and digits), with an
/// HKID after its first 1,000 bytes: `len` bytes.
fn noisy_text(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend(format!("{:x} ", x % 0xfff_ffff).bytes());
        if out.len() > 1000 && out.len() < 1012 {
            out.extend_from_slice(b" HKID A123456(7) ");
        }
    }
    out.truncate(len);
    out
}

/// An xz stream whose block check does not match its data: the decoder finds
/// out after it has made all of it.
fn xz_bad_check(data: &[u8]) -> Vec<u8> {
    let mut x = xz(data);
    let n = x.len();
    // The stream footer's backward size: the index is (size + 1) * 4 bytes,
    // and the check ends where it begins.
    let backward = u32::from_le_bytes(x[n - 8..n - 4].try_into().unwrap());
    let index = (backward as usize + 1) * 4;
    x[n - 12 - index - 1] ^= 0xff;
    x
}

#[derive(Default)]
struct Case {
    name: &'static str,
    input: Vec<u8>,
    hint: ContentHint,
    /// Exact events, when the case is small enough to spell them out.
    events: Option<Vec<SinkEvent>>,
    /// (field, value) pairs that must be delivered.
    pairs: Vec<(&'static str, &'static str)>,
    /// Text that must appear (joined with `\n` per boundary).
    contains: Vec<&'static str>,
    formats: Vec<&'static str>,
    media: Vec<&'static str>,
    incomplete: Option<IncompleteReason>,
}

fn chat_json() -> Vec<u8> {
    br#"{"robotCode":"ding123","msgKey":"sampleText","msgParam":"{\"content\":\"\u8eab\u4efd\u8b49 A123456(7) \ud83d\ude00\"}","to":["85261234567",85291234567],"n":{"deep":{"x":true,"y":null,"z":-1.5e3}}}"#.to_vec()
}

fn cases() -> Vec<Case> {
    let chat = chat_json();
    let docx_file = docx(&["Passport number E12345678", "身份證 A123456(7)"]);
    let multi = multipart(
        "----sluiceB0undary",
        &[
            ("type", None, b"file"),
            (
                "media",
                Some((
                    "scan.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                )),
                &docx_file,
            ),
            (
                "file",
                Some(("notes.txt", "text/plain")),
                "電話 +853 6612 3456\r\nline two".as_bytes(),
            ),
            (
                "photo",
                Some(("a.png", "image/png")),
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRxxxxxxxx",
            ),
        ],
    );
    let b64_doc = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(docx(&["Embedded HKID A123456(7)"]))
    };
    let b64_text = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(
            "Patient record: diagnosis diabetes, HKID A123456(7), more text to pass the probe",
        )
    };
    let csv = b"Name;HKID;Note\r\n\"Chan, Tai Man\";A123456(7);\"said \"\"hi\"\"\r\nthen left\"\r\nLee;B765432(1);\r\n".to_vec();
    vec![
        Case {
            name: "plain utf-8 text",
            input: "客戶 陳大文 A123456(7)\n第二行".as_bytes().to_vec(),
            events: Some(vec![t("客戶 陳大文 A123456(7)\n第二行"), B]),
            ..Case::default()
        },
        Case {
            // Not UTF-8, and text-like: read in the code page it most
            // likely is (here Windows-1252).
            name: "invalid utf-8 text is read as a legacy code page",
            input: b"ab\xff\xfe\xc3(cd".to_vec(),
            events: Some(vec![t("abÿþÃ(cd"), B]),
            formats: vec!["windows-1252"],
            ..Case::default()
        },
        Case {
            // Binary is not text in any code page: passed as it is.
            name: "invalid utf-8 with control bytes passes through untouched",
            input: b"ab\xff\x00\x01\xfe\xc3(cd".to_vec(),
            events: Some(vec![SinkEvent::Text(b"ab\xff\x00\x01\xfe\xc3(cd".to_vec()), B]),
            formats: vec!["binary"],
            ..Case::default()
        },
        Case {
            // Strings a Windows program keeps (a legacy document cut from
            // the middle, a database page) are UTF-16: read as text, after
            // the bytes around them.
            name: "utf-16 strings inside binary data are read",
            input: [
                &[0u8, 1, 2, 3, 0xC7, 0x11][..],
                &utf16le("員工 陳大文 身份證 A123456(3)"),
                &[0, 0, 0x9A, 0x05, 0x06][..],
                &utf16le("電話 6612 3456"),
                &[0, 0][..],
                // In the other alignment.
                &[0x07][..],
                &utf16le("Dr. Wong"),
                &[0xFE, 0xFE, 0x00][..],
            ]
            .concat(),
            contains: vec!["員工 陳大文 身份證 A123456(3)", "電話 6612 3456", "Dr. Wong"],
            formats: vec!["binary"],
            ..Case::default()
        },
        Case {
            // The second half of a zip (a chunked upload): no format, and
            // as random as compressed data is. Nothing in it can be read.
            name: "compressed data in no known format is reported unread",
            input: zlib(&chinese_rows(2000))[2..4202].to_vec(),
            formats: vec!["binary"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            // The same bytes, too few to tell from a binary record.
            name: "a short run of random bytes is binary, not opaque",
            input: zlib(&chinese_rows(2000))[2..2002].to_vec(),
            formats: vec!["binary"],
            ..Case::default()
        },
        Case {
            // A document posted or saved as base64 and nothing else.
            name: "a body that is only base64 is decoded",
            input: b64_lines(&docx(&["身份證 A123456(7)"]), 0),
            contains: vec!["身份證 A123456(7)"],
            formats: vec!["base64", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            // The rest of a mail attachment, from inside a line: the cut
            // line is dropped so the lines after it decode aligned.
            name: "base64 from inside a line decodes from the next",
            input: b64_lines("陳大文 A123456(7) 病假\n".repeat(40).as_bytes(), 30),
            contains: vec!["陳大文 A123456(7) 病假\n陳大文"],
            formats: vec!["base64"],
            ..Case::default()
        },
        Case {
            // A chunk of a Chinese CSV cut inside a character: its head is
            // not valid UTF-8 from the first byte, and was taken for a code
            // page (the health terms became Windows-1252 mojibake).
            name: "utf-8 text starting inside a character is utf-8",
            input: "陳大文,醫生紙 病假,6612 3456\n".repeat(30).into_bytes().split_off(1),
            contains: vec!["醫生紙 病假"],
            ..Case::default()
        },
        Case {
            // Text first (more than the 512 bytes the sniff sees), then
            // compressed data: a text header before its payload, or a piece
            // of a larger file that starts among text. The payload cannot be
            // read, and the scan says so.
            name: "text that turns into compressed data is reported unread",
            input: [
                "Export of staff records, generated by HRIS v2. ".repeat(12).as_bytes(),
                &zlib(&chinese_rows(2000))[2..6002],
            ]
            .concat(),
            contains: vec!["Export of staff records"],
            formats: vec!["binary"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            // Hex digits are base64's too; a hex dump is no base64.
            name: "hex is not base64",
            input: (0..200u32).map(|i| format!("{:02x}", (i * 97) % 256)).collect::<String>().into_bytes(),
            formats: vec![],
            contains: vec!["0061c2"],
            ..Case::default()
        },
        Case {
            // The face Office gives an embedded workbook: an EMF whose text
            // records draw the cells, beside a compressed bitmap. Read for
            // its strings, never judged as random data.
            name: "an emf picture gives its drawn text and is not opaque",
            input: [
                &b"\x01\x00\x00\x00\x6c\x00\x00\x00"[..],
                &[0u8; 32][..],
                b" EMF\x00\x00\x01\x00",
                &[0u8; 60][..],
                // EMR_EXTTEXTOUTW, its header fields as zeros, then the text.
                b"\x54\x00\x00\x00\x80\x00\x00\x00",
                &[0u8; 36][..],
                &utf16le("陳大文 A123456(3)"),
                &[0u8; 4][..],
                &zlib(&chinese_rows(2000))[2..6002],
            ]
            .concat(),
            contains: vec!["陳大文 A123456(3)"],
            formats: vec!["emf"],
            ..Case::default()
        },
        Case {
            // A PDF cut where an object opens: the rest is its streams.
            // What shows as it is still counts for the report.
            name: "a piece of a pdf without its header is reported unread",
            input: b"endobj\n7 0 obj\n<< /T (HKID) /V (A123456\\(3\\)) >>\nendobj\n8 0 obj\n<< /Length 99 /Filter /FlateDecode >>\nstream\n\x78\x9c\x01\x02".to_vec(),
            contains: vec!["/V (A123456"],
            formats: vec!["pdf"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            // A JPEG cut from the middle: its 0xFF bytes are all stuffed.
            name: "jpeg scan data without its header is media",
            input: jpeg_scan_data(4200),
            formats: vec!["binary"],
            media: vec!["image/jpeg"],
            ..Case::default()
        },
        Case {
            // What Excel on a Hong Kong or Macau Windows saves as "CSV".
            name: "big5 csv from chinese windows",
            input: encoding_rs::BIG5.encode("姓名,電話,備註\r\n陳大文,6612 3456,醫生紙\r\n").0.into_owned(),
            hint: hint(None, None, Some("staff.csv")),
            pairs: vec![("電話", "6612 3456"), ("備註", "醫生紙")],
            formats: vec!["big5", "csv"],
            ..Case::default()
        },
        Case {
            name: "gbk text named by its charset",
            input: encoding_rs::GBK.encode("身份证号码 110101199003077578，病假").0.into_owned(),
            hint: hint(Some("text/plain; charset=GBK"), None, None),
            events: Some(vec![t("身份证号码 110101199003077578，病假"), B]),
            formats: vec!["gbk"],
            ..Case::default()
        },
        Case {
            name: "openssl enc output is encrypted",
            input: [&b"Salted__"[..], &[0x9e, 0x34, 0x86, 0x10, 0x9b, 0x3d, 0x9d, 0xeb][..], &[7u8; 32][..]].concat(),
            formats: vec!["openssl-enc"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // `gpg -c`: an old-format symmetric-key session packet, version 4,
            // AES-256, iterated and salted S2K.
            name: "gpg symmetric encryption",
            input: [&b"\x8c\x0d\x04\x09\x03\x02\xd0\xe6\x5f\xbc\x95\x64\x46\xdf\xff"[..], &[0xd2, 0x55, 0x01][..], &[0x5a; 80][..]].concat(),
            formats: vec!["pgp"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // `gpg -e` to a Curve25519 key: a public-key session packet,
            // version 3, a key id, ECDH (18).
            name: "gpg public-key encryption",
            input: [&b"\x84\x5e\x03\xce\x1b\x20\x87\x3c\x9e\x75\x68\x12\x01\x07\x40"[..], &[0x6e; 100][..]].concat(),
            formats: vec!["pgp"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "armored pgp message after a blank line",
            input: b"\r\n-----BEGIN PGP MESSAGE-----\n\njA0ECQMC0OZfvJVkRt//0lUBLQmrMJBbswfEN6jcTxY=\n-----END PGP MESSAGE-----\n".to_vec(),
            formats: vec!["pgp"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "age file",
            input: b"age-encryption.org/v1\n-> X25519 abc\nxyz\n--- 123\n\x01\x02\x03".to_vec(),
            formats: vec!["age"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // DER: SEQUENCE (indefinite), OID enveloped-data.
            name: "s/mime enveloped data",
            input: [&b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03\xa0\x80\x30"[..], &[0x11; 64][..]].concat(),
            formats: vec!["smime"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // Signed, not encrypted: the text is there to read.
            name: "pgp cleartext signature is text",
            input: b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nHKID A123456(3)\n".to_vec(),
            contains: vec!["HKID A123456(3)"],
            ..Case::default()
        },
        Case {
            // A session-packet tag byte with a version no such packet has.
            name: "binary that only starts like pgp",
            input: b"\x84\x5e\x07\xce\x1b\x20\x87\x3c\x9e\x75\x68\x12\x01 A123456(3)".to_vec(),
            contains: vec!["A123456(3)"],
            formats: vec!["binary"],
            ..Case::default()
        },
        Case {
            // What editors and mail clients write for anything not ASCII.
            name: "html character references are undone",
            input: b"<p>&#x91AB;&#x751F;&#32025; A&#49;23456&#40;7&#41; m&eacute;dico &amp; &lt;b&gt; &bogus; &#xZZ; &#1114112; &#150; &copy &#49</p>".to_vec(),
            hint: hint(Some("text/html; charset=utf-8"), None, None),
            events: Some(vec![
                t("<p>醫生紙 A123456(7) médico & <b> &bogus; &#xZZ; \u{FFFD} – &copy 1</p>"),
                B,
            ]),
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            name: "an overlong reference is text",
            input: format!("<html>&{}; &#{}; ok", "a".repeat(40), "9".repeat(40)).into_bytes(),
            events: Some(vec![
                t(&format!("<html>&{}; &#{}; ok", "a".repeat(40), "9".repeat(40))),
                B,
            ]),
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            // A staff list saved as a web page: the header row names the
            // columns for every row below it, as a CSV's does.
            name: "html table headers name their columns",
            input: "<table>\n<tr><th>姓名</th><th>電話</th></tr>\n<tr><td>陳大文</td><td>6123&nbsp;4567</td></tr>\n<tr><td colspan=2>total</td></tr><tr><td><b>李</b></td><td>6612 3456</td></tr></table>".as_bytes().to_vec(),
            hint: hint(Some("text/html"), None, None),
            pairs: vec![
                ("電話", "6123\u{a0}4567"),
                ("電話", "6612 3456"),
                ("姓名", "陳大文"),
                ("姓名", "total"),
                ("姓名", "<b>李</b>"),
            ],
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            name: "html table events",
            input: b"<table><tr><th>Phone</th><th colspan=\"2\">Note</th></tr><tr><td>1</td><td>2</td><td>3</td></tr></table>".to_vec(),
            events: Some(vec![
                t("<table><tr><th>"),
                B,
                t("Phone"),
                B,
                t("</th><th colspan=\"2\">"),
                B,
                t("Note"),
                B,
                t("</th></tr><tr><td>"),
                B,
                f("Phone"),
                t("1"),
                B,
                t("</td><td>"),
                B,
                f("Note"),
                t("2"),
                B,
                t("</td><td>"),
                B,
                f("Note"),
                t("3"),
                B,
                t("</td></tr></table>"),
                B,
            ]),
            hint: hint(None, None, Some("list.htm")),
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            // Past the sniffed head, so the table's tags are cut at every
            // point on their way to the node.
            name: "html table past the head",
            input: format!(
                "<html><!-- {} --><table><tr><th>姓名</th><th>電話</th></tr><tr><td>陳&#x5927;文</td><td>6123 4567</td></tr></table>",
                "padding ".repeat(80)
            )
            .into_bytes(),
            pairs: vec![("電話", "6123 4567"), ("姓名", "陳大文")],
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            // What looks like a tag in a script or a comment is not one.
            name: "html scripts and comments hold no cells",
            input: b"<html><table><tr><th>Phone</th></tr><script>if (a<b) x=\"<td>\";</script><!-- <tr><td>x --><tr><td>6123 4567</td></tr></table>".to_vec(),
            pairs: vec![("Phone", "6123 4567")],
            contains: vec!["if (a<b) x=\"<td>\";"],
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            name: "html thead and a table inside a cell",
            input: "<html><table><thead><tr><th>備註</th></tr></thead><tbody><tr><td>x<table><tr><th>電話</th></tr><tr><td>6612 3456</td></tr></table>y</td></tr><tr><td>after</td></tr></tbody></table>".as_bytes().to_vec(),
            pairs: vec![("電話", "6612 3456"), ("備註", "after"), ("備註", "x")],
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            // In XML a <table> is only an element name.
            name: "xml tables are text",
            input: b"<?xml version=\"1.0\"?><table><tr><td>h</td></tr><tr><td>v &amp; w</td></tr></table>".to_vec(),
            events: Some(vec![t("<?xml version=\"1.0\"?><table><tr><td>h</td></tr><tr><td>v & w</td></tr></table>"), B]),
            formats: vec!["xml"],
            ..Case::default()
        },
        Case {
            name: "a reference cut by the end of the body",
            input: b"<html>tel &#54;&#49;&#50;&#51; 4567 &#x36".to_vec(),
            events: Some(vec![t("<html>tel 6123 4567 6"), B]),
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            name: "xml declaring its encoding",
            input: {
                let mut v = b"<?xml version='1.0' encoding='GB2312'?>\n<staff><note>".to_vec();
                v.extend_from_slice(&encoding_rs::GBK.encode("身份证 病假").0);
                v.extend_from_slice(b" &#x75C5;</note></staff>");
                v
            },
            contains: vec!["<note>身份证 病假 病</note>"],
            formats: vec!["gbk", "xml"],
            ..Case::default()
        },
        Case {
            // The `<head>` is ASCII and longer than the sniffed head: the
            // meta's charset is used where the first Chinese byte is.
            name: "html whose gbk text starts past an ascii head",
            input: {
                let mut v = b"<!DOCTYPE html>\n<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><style>".to_vec();
                for _ in 0..60 {
                    v.extend_from_slice(b"p{margin:0}");
                }
                v.extend_from_slice(b"</style></head><body><p>");
                v.extend_from_slice(&encoding_rs::GBK.encode("员工病假，附医生证明").0);
                v.extend_from_slice(b"</p></body></html>");
                v
            },
            contains: vec!["<p>员工病假，附医生证明</p>"],
            formats: vec!["html", "gbk"],
            ..Case::default()
        },
        Case {
            // An English header row over Big5 rows, no charset anywhere.
            name: "csv whose big5 rows follow an ascii head",
            input: {
                let mut v = b"Name,Phone,Note\r\n".to_vec();
                for i in 0..40 {
                    v.extend_from_slice(format!("Staff {i},6612 34{:02},ok\r\n", i % 100).as_bytes());
                }
                for _ in 0..4 {
                    v.extend_from_slice(&encoding_rs::BIG5.encode("陳大文,6612 3456,醫生紙 病假\r\n黃美玲,6698 7654,體檢報告\r\n").0);
                }
                v
            },
            hint: hint(None, None, Some("staff.csv")),
            pairs: vec![("Note", "醫生紙 病假"), ("Name", "黃美玲")],
            formats: vec!["csv", "big5"],
            ..Case::default()
        },
        Case {
            name: "utf-8 after an ascii head stays as it is",
            input: {
                let mut v = "a".repeat(600).into_bytes();
                v.extend_from_slice(" 醫生紙 A123456(7)".as_bytes());
                v
            },
            events: Some(vec![t(&format!("{} 醫生紙 A123456(7)", "a".repeat(600))), B]),
            ..Case::default()
        },
        Case {
            name: "windows-1252 portuguese",
            input: encoding_rs::WINDOWS_1252.encode("Número de conta 123-456789-001, atestado médico").0.into_owned(),
            events: Some(vec![t("Número de conta 123-456789-001, atestado médico"), B]),
            formats: vec!["windows-1252"],
            ..Case::default()
        },
        Case {
            // The same saved as Excel names it, `.txt`: its tabs make it a
            // table, and the column its context.
            name: "utf-16 tab-separated text saved as txt",
            input: {
                let mut v = vec![0xff, 0xfe];
                v.extend("姓名\t電話\r\n陳大文\t6612 3456\r\n黃美玲\t6698 7654\r\n".encode_utf16().flat_map(u16::to_le_bytes));
                v
            },
            hint: hint(None, None, Some("staff.txt")),
            pairs: vec![("電話", "6612 3456"), ("電話", "6698 7654")],
            formats: vec!["utf-16", "csv"],
            ..Case::default()
        },
        Case {
            // Excel's "Unicode Text": UTF-16 with a mark, tab-separated;
            // sniffed again once decoded, so a CSV name still makes a CSV.
            name: "utf-16 tab-separated text from excel",
            input: {
                let mut v = vec![0xff, 0xfe];
                v.extend("姓名\t電話\r\n陳大文\t6612 3456\r\n".encode_utf16().flat_map(u16::to_le_bytes));
                v
            },
            hint: hint(None, None, Some("staff.csv")),
            pairs: vec![("電話", "6612 3456")],
            formats: vec!["utf-16", "csv"],
            ..Case::default()
        },
        Case {
            name: "utf-16le with bom and a surrogate pair",
            input: {
                let mut v = vec![0xff, 0xfe];
                for u in "身份 A1 😀".encode_utf16() {
                    v.extend_from_slice(&u.to_le_bytes());
                }
                v
            },
            events: Some(vec![t("身份 A1 😀"), B]),
            formats: vec!["utf-16"],
            ..Case::default()
        },
        Case {
            name: "json nested, escapes, arrays, numbers, json in a string",
            input: chat.clone(),
            events: Some(vec![
                f("robotCode"), t("ding123"), B,
                f("msgKey"), t("sampleText"), B,
                f("msgParam"),
                f("content"), t("身份證 A123456(7) 😀"), B,
                B,
                f("to"), t("85261234567"), B,
                f("to"), t("85291234567"), B,
                f("n"), f("deep"), f("x"), f("y"), f("z"), t("-1.5e3"), B,
            ]),
            formats: vec!["json"],
            ..Case::default()
        },
        // A mail's body or a rich-text field: HTML in a string is read as a
        // page is, its table's first row naming the columns below.
        Case {
            name: "json with an html table in a string",
            input: r#"{"subject":"新同事","content":"<p>名單：</p><table><tr><th>姓名</th><th>BIR</th><th>電話</th></tr><tr><td>陳大文</td><td>51234567</td><td>66123456</td></tr></table>","to":"hr"}"#
                .as_bytes()
                .to_vec(),
            pairs: vec![("BIR", "51234567"), ("電話", "66123456")],
            contains: vec!["名單："],
            formats: vec!["json", "html"],
            ..Case::default()
        },
        Case {
            name: "json strings that open with < but no tag are text",
            input: br#"{"a":"<3 you","b":"<= 5 days","c":"<"}"#.to_vec(),
            events: Some(vec![
                f("a"), t("<3 you"), B,
                f("b"), t("<= 5 days"), B,
                f("c"), t("<"), B,
            ]),
            formats: vec!["json"],
            ..Case::default()
        },
        Case {
            name: "invalid json is scanned as text and reported",
            input: br#"{"name": "Chan", oops A123456(7) "#.to_vec(),
            contains: vec!["Chan", "oops A123456(7)"],
            formats: vec!["json"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "truncated json",
            input: br#"{"name": "Chan Tai"#.to_vec(),
            contains: vec!["Chan Tai"],
            formats: vec!["json"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "form body with url-encoding and json in a value",
            input: b"access_token=abc&name=%E9%99%B3+%E5%A4%A7%E6%96%87&data=%7B%22id%22%3A%22A123456(7)%22%7D&flag".to_vec(),
            hint: hint(Some("application/x-www-form-urlencoded"), None, None),
            events: Some(vec![
                f("access_token"), t("abc"), B,
                f("name"), t("陳 大文"), B,
                f("data"), f("id"), t("A123456(7)"), B, B,
                t("flag"), B,
            ]),
            formats: vec!["form", "json"],
            ..Case::default()
        },
        Case {
            name: "csv with quotes, crlf and semicolons",
            input: csv,
            hint: hint(Some("text/csv"), None, None),
            pairs: vec![("Name", "Chan, Tai Man"), ("HKID", "A123456(7)"), ("Note", "said \"hi\"\r\nthen left"), ("HKID", "B765432(1)")],
            formats: vec!["csv"],
            ..Case::default()
        },
        // As Excel saves a sheet with its title above the table: the title
        // row (its empty cells as commas), an empty row, then the header.
        Case {
            name: "csv with a title row above its header",
            input: "2026年11月員工資料,,\r\n,,\r\n姓名,BIR,手提電話\r\n陳大文,51234567,66123456\r\n\"李, 小明\",71234568,62345678\r\n"
                .as_bytes()
                .to_vec(),
            hint: hint(Some("text/csv"), None, None),
            events: Some(vec![
                t("2026年11月員工資料"), B,
                t("姓名"), B, t("BIR"), B, t("手提電話"), B,
                f("姓名"), t("陳大文"), B, f("BIR"), t("51234567"), B, f("手提電話"), t("66123456"), B,
                f("姓名"), t("李, 小明"), B, f("BIR"), t("71234568"), B, f("手提電話"), t("62345678"), B,
            ]),
            formats: vec!["csv"],
            ..Case::default()
        },
        Case {
            name: "multipart with media and file parts, a docx inside, gzip outside",
            input: gzip(&multi),
            hint: hint(Some("multipart/form-data; boundary=----sluiceB0undary"), Some("gzip"), None),
            pairs: vec![("type", "file"), ("media", "scan.docx"), ("file", "notes.txt")],
            contains: vec!["Passport number E12345678", "身份證 A123456(7)", "電話 +853 6612 3456\r\nline two"],
            formats: vec!["gzip", "multipart", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "multipart sniffed without headers",
            input: multi.clone(),
            contains: vec!["Passport number E12345678"],
            formats: vec!["multipart", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "multipart part in base64 transfer encoding",
            input: b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"id.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\nSEtJRCBBMTIzNDU2KDcpIGFuZCBhIGZldyBtb3JlIHdvcmRz\r\n--b--\r\n".to_vec(),
            events: Some(vec![f("file"), t("id.txt"), B, f("file"), t("HKID A123456(7) and a few more words"), B, B]),
            formats: vec!["multipart", "base64"],
            ..Case::default()
        },
        Case {
            // Bytes after base64's padding are no part of its data, but they
            // leave with the body: reported, not dropped.
            name: "multipart base64 part with text after its padding",
            input: b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n HKID A123456(3)\r\n--b--\r\n".to_vec(),
            events: Some(vec![f("file"), t("Hello"), B, B]),
            formats: vec!["multipart", "base64"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "multipart without closing boundary",
            input: multi[..multi.len() - 24].to_vec(),
            hint: hint(Some("multipart/form-data; boundary=----sluiceB0undary"), None, None),
            contains: vec!["Passport number E12345678"],
            formats: vec!["multipart", "docx"],
            media: vec!["image/png"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "deflate (zlib) json",
            input: zlib(&chat),
            hint: hint(Some("application/json"), Some("deflate"), None),
            contains: vec!["身份證 A123456(7) 😀"],
            formats: vec!["deflate", "json"],
            ..Case::default()
        },
        Case {
            name: "brotli json",
            input: brotli(&chat),
            hint: hint(Some("application/json"), Some("br"), None),
            contains: vec!["身份證 A123456(7) 😀"],
            formats: vec!["br", "json"],
            ..Case::default()
        },
        Case {
            name: "zstd json",
            input: zstd(&chat),
            hint: hint(None, Some("zstd"), None),
            contains: vec!["身份證 A123456(7) 😀"],
            formats: vec!["zstd", "json"],
            ..Case::default()
        },
        Case {
            name: "gzip then brotli",
            input: brotli(&gzip(b"hello A123456(7)")),
            hint: hint(None, Some("gzip, br"), None),
            events: Some(vec![t("hello A123456(7)"), B]),
            formats: vec!["br", "gzip"],
            ..Case::default()
        },
        Case {
            // Members concatenated (`cat a.gz b.gz`, pigz, rotated logs) are
            // one valid gzip stream: every member is read, none is truncated.
            name: "gzip with two members",
            input: [gzip(b"first HKID A123456(7)\n"), gzip(b"second 6612 3456\n")].concat(),
            hint: hint(None, Some("gzip"), None),
            events: Some(vec![t("first HKID A123456(7)\nsecond 6612 3456\n"), B]),
            formats: vec!["gzip"],
            ..Case::default()
        },
        Case {
            // Receivers ignore a preamble and an epilogue, but their bytes
            // leave all the same.
            name: "multipart preamble and epilogue are scanned",
            input: [
                b"preamble HKID A123456(7)\r\n".to_vec(),
                multipart("pe", &[("f", None, b"hello".as_slice())]),
                b"epilogue B765432(1)".to_vec(),
            ]
            .concat(),
            hint: hint(Some("multipart/form-data; boundary=pe"), None, None),
            contains: vec!["preamble HKID A123456(7)", "hello", "epilogue B765432(1)"],
            formats: vec!["multipart"],
            ..Case::default()
        },
        Case {
            name: "gzip with zero padding after it",
            input: [gzip(b"padded A123456(7)"), vec![0; 512]].concat(),
            hint: hint(None, Some("gzip"), None),
            events: Some(vec![t("padded A123456(7)"), B]),
            formats: vec!["gzip"],
            ..Case::default()
        },
        Case {
            // Bytes after the end of a compressed stream would leave unscanned.
            name: "gzip with text after it",
            input: [gzip(b"hello"), b"HKID A123456(7)".to_vec()].concat(),
            hint: hint(None, Some("gzip"), None),
            contains: vec!["hello"],
            formats: vec!["gzip"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "deflate with text after it",
            input: [zlib(b"hello"), b"HKID A123456(7)".to_vec()].concat(),
            hint: hint(None, Some("deflate"), None),
            contains: vec!["hello"],
            formats: vec!["deflate"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "gzip file sniffed by magic",
            input: gzip(b"name,hkid\nChan,A123456(7)\n"),
            hint: hint(None, None, Some("list.csv.gz")),
            pairs: vec![("hkid", "A123456(7)")],
            formats: vec!["gzip", "csv"],
            ..Case::default()
        },
        Case {
            name: "truncated gzip",
            input: { let g = gzip(&chat); g[..g.len() - 12].to_vec() },
            hint: hint(None, Some("gzip"), None),
            formats: vec!["gzip", "json"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // A zip reader skips bytes before the archive and after its end
            // record, but they leave with it.
            name: "zip with text before and after it",
            input: [
                b"before HKID A123456(7) ".to_vec(),
                zip_of(&[("a.txt", b"inside".as_slice())]),
                b" after B765432(1)".to_vec(),
            ]
            .concat(),
            hint: hint(Some("application/zip"), None, None),
            contains: vec!["before HKID A123456(7)", "inside", "after B765432(1)"],
            formats: vec!["zip"],
            ..Case::default()
        },
        Case {
            // Far more than a comment's 64 KiB after the end record, and a
            // stray end-record signature in it: still found, still scanned.
            name: "zip with a long tail after it",
            input: [
                zip_of(&[("a.txt", b"inside".as_slice())]),
                b" tail HKID A123456(7) PK\x05\x06 ".to_vec(),
                vec![b'x'; 67_000],
            ]
            .concat(),
            hint: hint(Some("application/zip"), None, None),
            contains: vec!["inside", "tail HKID A123456(7)"],
            formats: vec!["zip"],
            ..Case::default()
        },
        Case {
            name: "docx",
            input: docx(&["Passport number E12345678", "第二段"]),
            events: None,
            contains: vec!["Passport number E12345678\n第二段"],
            formats: vec!["docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "xlsx with shared strings and header row",
            input: xlsx(),
            pairs: vec![("Name", "陳大文"), ("HKID", "A123456(7)"), ("Phone", "85261234567")],
            formats: vec!["xlsx"],
            ..Case::default()
        },
        Case {
            // A repeated attribute: the first wins (quick_xml's own check is
            // off in the sheet reader, which keeps the first by hand).
            // Shared strings with references and without are both undone.
            name: "xlsx cells with a repeated attribute and escaped strings",
            input: zip_of(&[
                ("[Content_Types].xml", CT_TYPES),
                ("xl/workbook.xml", b"<workbook/>"),
                ("xl/sharedStrings.xml", "<sst><si><t>Name &amp; ID</t></si><si><t>A123456(7)</t></si><si><t>陳 &lt;大文&gt;</t></si></sst>".as_bytes()),
                ("xl/worksheets/sheet1.xml", br#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s" t="n" r="C9"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row></sheetData></worksheet>"#),
            ]),
            pairs: vec![("Name & ID", "A123456(7)")],
            contains: vec!["陳 <大文>"],
            formats: vec!["xlsx"],
            ..Case::default()
        },
        Case {
            name: "xlsx with data beyond its sheets",
            input: xlsx_beyond_sheets(),
            events: Some(vec![
                // The pivot definition is read before the other parts.
                f("電話"),
                t("6612 3456"),
                B,
                // The workbook's sheet name.
                t("Sheet1"),
                B,
                t("Name"),
                B,
                f("author"),
                t("Chan"),
                B,
                t("Patient diagnosis"),
                B,
                f("Salary"),
                t("5000"),
                B,
                f("f"),
                t("Sheet1!$B$1"),
                B,
                f("v"),
                t("Salary & bonus"),
                B,
                t("unused HKID A123456(7)"),
                B,
            ]),
            formats: vec!["xlsx"],
            ..Case::default()
        },
        Case {
            name: "docx with custom XML and a building block",
            input: docx_beyond_body(),
            events: Some(vec![
                // The (empty) body's end.
                B,
                f("name"),
                t("陳大文"),
                B,
                f("hkid"),
                t("A123456(7)"),
                B,
                t("M1234567"),
                B,
            ]),
            formats: vec!["docx"],
            ..Case::default()
        },
        Case {
            // Spans split a paragraph anywhere; `text:s` is a space.
            name: "odt with spans, a note and its metadata",
            input: odf_of(
                "application/vnd.oasis.opendocument.text",
                &[
                    ("content.xml", r#"<office:document-content><office:body><office:text><text:p>HKID <text:span>A123</text:span>456(3)<text:s/>ok<office:annotation><dc:creator>Chan</dc:creator><text:p>note</text:p></office:annotation></text:p><text:h>Title</text:h></office:text></office:body></office:document-content>"#),
                    ("meta.xml", r#"<office:document-meta><office:meta><dc:title>Staff</dc:title></office:meta></office:document-meta>"#),
                ],
            ),
            events: Some(vec![
                t("HKID A123456(3) ok\nChan\nnote\n\n"),
                B,
                t("Title"),
                B,
                t("Staff"),
                B,
            ]),
            formats: vec!["odt"],
            ..Case::default()
        },
        Case {
            // Numbers as displayed, under their column's name; repeated
            // empty cells move the column on.
            name: "ods with a header row and repeated cells",
            input: odf_of(
                "application/vnd.oasis.opendocument.spreadsheet",
                &[(
                    "content.xml",
                    r#"<office:document-content><office:body><office:spreadsheet><table:table table:name="Staff"><table:table-row><table:table-cell><text:p>Name</text:p></table:table-cell><table:table-cell table:number-columns-repeated="2"/><table:table-cell><text:p>電話</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell office:value-type="string"><text:p>陳<text:span>大文</text:span></text:p></table:table-cell><table:table-cell table:number-columns-repeated="2"/><table:table-cell office:value-type="float" office:value="66123456"><text:p>66123456</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#,
                )],
            ),
            events: Some(vec![
                // The sheet's name.
                t("Staff"),
                B,
                t("Name"),
                B,
                t("電話"),
                B,
                f("Name"),
                t("陳大文"),
                B,
                f("電話"),
                t("66123456"),
                B,
            ]),
            formats: vec!["ods"],
            ..Case::default()
        },
        Case {
            name: "xlsb cells under their header row",
            input: xlsb_workbook(),
            events: Some(vec![
                // The workbook's sheet name.
                t("Staff"),
                B,
                t("陳大文"),
                B,
                t("電話"),
                B,
                t("備註"),
                B,
                t("HKID"),
                B,
                t("Salary"),
                B,
                f("電話"),
                t("66123456"),
                B,
                f("備註"),
                t("醫生紙"),
                B,
                f("HKID"),
                t("A123456(7)"),
                B,
                f("Salary"),
                t("12345.67"),
                B,
                f("電話"),
                t("28123456"),
                B,
                f("Salary"),
                t("5000.5"),
                B,
                // The second sheet's columns are its own.
                t("Name"),
                B,
                f("Name"),
                t("Lee Siu Ming"),
                B,
                f("author"),
                t("Chan"),
                B,
                t("Patient diagnosis"),
                B,
                t("unused 身份證 A123456(7)"),
                B,
            ]),
            pairs: vec![("電話", "66123456"), ("電話", "28123456"), ("HKID", "A123456(7)")],
            formats: vec!["xlsb"],
            ..Case::default()
        },
        Case {
            name: "xlsb shared string no cell uses is scanned",
            input: xlsb_of(&[
                ("xl/sharedStrings.bin", &xlsb_strings(&["HKID", "Chan A123456(7)"])),
                (
                    "xl/worksheets/sheet1.bin",
                    &xlsb_sheet(&[xrow(0), xcell(7, 0, &0u32.to_le_bytes())]),
                ),
            ]),
            events: Some(vec![t("Staff"), B, t("HKID"), B, t("Chan A123456(7)"), B]),
            contains: vec!["Chan A123456(7)"],
            formats: vec!["xlsb"],
            ..Case::default()
        },
        Case {
            // The part ends 30 bytes into a record that declares 44: the
            // cells before it are read, the report says the part is cut,
            // and the next part is still read.
            name: "xlsb record size past the end of its part",
            input: xlsb_of(&[
                (
                    "xl/worksheets/sheet1.bin",
                    &[
                        xrow(0),
                        xcell(6, 0, &wide("電話")),
                        xrow(1),
                        xcell(2, 0, &rk_int(66123456)),
                        xcell(6, 1, &wide("x".repeat(16).as_str()))[..32].to_vec(),
                    ]
                    .concat(),
                ),
                (
                    "xl/worksheets/sheet2.bin",
                    &xlsb_sheet(&[xrow(0), xcell(6, 0, &wide("next sheet"))]),
                ),
            ]),
            events: Some(vec![
                t("Staff"),
                B,
                t("電話"),
                B,
                f("電話"),
                t("66123456"),
                B,
                t("next sheet"),
                B,
            ]),
            pairs: vec![("電話", "66123456")],
            formats: vec!["xlsb"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // Its count says 100 characters; the record holds 4 of them.
            name: "xlsb string longer than its record",
            input: xlsb_of(&[(
                "xl/worksheets/sheet1.bin",
                &xlsb_sheet(&[
                    xrow(0),
                    xcell(6, 0, &[&100u32.to_le_bytes()[..], &wide("A123")[4..]].concat()),
                    xcell(6, 1, &wide("456(7)")),
                ]),
            )]),
            events: Some(vec![t("Staff"), B, t("A123"), B, t("456(7)"), B]),
            formats: vec!["xlsb"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // A pivot cache keeps a copy of its source data in records read
            // nowhere here: the cells are read, and the report says what was not.
            name: "xlsb pivot cache is named as not read",
            input: xlsb_of(&[
                (
                    "xl/worksheets/sheet1.bin",
                    &xlsb_sheet(&[
                        xrow(0),
                        xcell(6, 0, &wide("電話")),
                        xrow(1),
                        xcell(5, 0, &66123456f64.to_le_bytes()),
                    ]),
                ),
                ("xl/pivotCache/pivotCacheRecords1.bin", &brt(33, &[0; 8])),
            ]),
            events: Some(vec![t("Staff"), B, t("電話"), B, f("電話"), t("66123456"), B]),
            formats: vec!["xlsb"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            name: "apple iwork is named, not passed",
            input: zip_of(&[
                ("Index/Document.iwa", b"\x00\x1e\x00\x00\x08\x01"),
                ("Metadata/DocumentIdentifier", b"6F2A"),
            ]),
            formats: vec!["iwork", "zip", "binary"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            name: "pptx",
            input: pptx(),
            contains: vec!["Patient & diagnosis\nM1234567"],
            formats: vec!["pptx"],
            ..Case::default()
        },
        Case {
            name: "pdf with a flate content stream",
            input: pdf(b"BT /F1 12 Tf 72 712 Td (HKID: A123456\\(7\\)) Tj T* [(Pass) -120 (port) -300 (E12345678)] TJ ET", "flate"),
            contains: vec!["HKID: A123456(7)\nPassport E12345678"],
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            name: "pdf with hex strings, unfiltered",
            input: pdf(b"BT <41313233343536283729> Tj ET", ""),
            events: Some(vec![t("A123456(7)"), B]),
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            name: "pdf form field values and info outside the content",
            input: {
                let mut p = pdf(b"BT (Application) Tj ET", "flate");
                p.extend_from_slice(b"5 0 obj << /T (hkid) /V (A123456\\(7\\)) /Version 2 >> endobj 6 0 obj << /Author <FEFF9673> >> endobj");
                p
            },
            events: Some(vec![t("Application"), B, t("A123456(7)"), B, t("陳"), B]),
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            // What Chrome, wkhtmltopdf and most PDF libraries write: a
            // subset font whose codes are glyph numbers, read through its
            // ToUnicode CMap. Two fonts on the page, one a standard font.
            name: "pdf with an embedded subset font (Identity-H)",
            input: {
                let (cmap, codes) = subset("身份證 A123456(3)");
                let content = zlib(
                    format!(
                        "BT /F2 11 Tf 72 700 Td <{}> Tj ET BT /F1 11 Tf 72 680 Td (plain text) Tj ET",
                        hex_string(&codes)
                    )
                    .as_bytes(),
                );
                pdf_of(&[
                    (1, "<< /Type /Catalog /Pages 2 0 R >>", None),
                    (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None),
                    (3, "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>", None),
                    (4, "<< /Filter /FlateDecode >>", Some(&content)),
                    (5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", None),
                    (6, "<< /Type /Font /Subtype /Type0 /BaseFont /AAAAAA+NotoSans /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 8 0 R >>", None),
                    (7, "<< /Type /Font /Subtype /CIDFontType2 >>", None),
                    (8, "<< /Filter /FlateDecode >>", Some(&cmap)),
                ])
            },
            events: Some(vec![t("身份證 A123456(3)"), B, t("plain text"), B]),
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            // The same font with its dictionary packed in an object stream,
            // the page's resources inherited from the page tree, its contents
            // an array, and the same name meaning another font on another
            // page; a form XObject with resources of its own.
            name: "pdf fonts through object streams, inherited resources and forms",
            input: {
                let (cmap, codes) = subset("HKID A123456(3)");
                let (cmap2, codes2) = subset("M1234567");
                let packed = "6 0 7 80 ";
                let objs = format!(
                    "{packed}<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 8 0 R >>{}<< /Font << /F1 6 0 R >> >>",
                    " ".repeat(80 - "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 8 0 R >>".len())
                );
                let objstm = zlib(objs.as_bytes());
                let page1 = zlib(format!("BT /F1 9 Tf <{}> Tj ET", hex_string(&codes)).as_bytes());
                let page2 = zlib(format!("BT /F1 9 Tf <{}> Tj ET /X1 Do", hex_string(&codes2)).as_bytes());
                let form = format!("BT /F1 9 Tf <{}> Tj ET", hex_string(&codes));
                let first = format!("<< /Type /ObjStm /N 2 /First {} /Filter /FlateDecode >>", packed.len());
                pdf_of(&[
                    (1, "<< /Type /Catalog /Pages 2 0 R >>", None),
                    (2, "<< /Type /Pages /Kids [3 0 R 10 0 R] /Count 2 /Resources 7 0 R >>", None),
                    (3, "<< /Type /Page /Parent 2 0 R /Contents [4 0 R] >>", None),
                    (4, "<< /Filter /FlateDecode >>", Some(&page1)),
                    (5, &first, Some(&objstm)),
                    (8, "<< /Filter /FlateDecode >>", Some(&cmap)),
                    (10, "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 12 0 R >> /XObject << /X1 13 0 R >> >> /Contents 11 0 R >>", None),
                    (11, "<< /Filter /FlateDecode >>", Some(&page2)),
                    (12, "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 14 0 R >>", None),
                    (13, "<< /Type /XObject /Subtype /Form /Resources 7 0 R >>", Some(form.as_bytes())),
                    (14, "<< /Filter /FlateDecode >>", Some(&cmap2)),
                ])
            },
            events: Some(vec![t("HKID A123456(3)"), B, t("M1234567"), B, t("HKID A123456(3)"), B]),
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            // A dynamic XFA form as LiveCycle Designer saves it filled in: the
            // page says only "Please wait", the data is in the datasets
            // packet. It used to be parsed as page content and lost.
            name: "pdf xfa form with its data in the datasets packet",
            input: {
                let datasets = zlib("<xfa:datasets xmlns:xfa=\"http://www.xfa.org/schema/xfa-data/1.0/\"><xfa:data><form1><Name>陳大文</Name><HKID>A123456(3)</HKID><Reason>&#x75C5;&#x5047;</Reason></form1></xfa:data></xfa:datasets>".as_bytes());
                let template = zlib(b"<template xmlns=\"http://www.xfa.org/schema/xfa-template/3.3/\"><subform name=\"form1\"><field name=\"HKID\"><caption><value><text>Identity card number</text></value></caption></field></subform></template>");
                pdf_of(&[
                    (1, "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA [(template) 5 0 R (datasets) 6 0 R] >> >>", None),
                    (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None),
                    (3, "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 7 0 R >> >> /Contents 4 0 R >>", None),
                    (4, "<< >>", Some(b"BT /F1 11 Tf 72 700 Td (Please wait...) Tj ET")),
                    (5, "<< /Filter /FlateDecode >>", Some(&template)),
                    (6, "<< /Filter /FlateDecode >>", Some(&datasets)),
                    (7, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", None),
                ])
            },
            contains: vec!["Please wait...", "Identity card number", "陳大文</Name><HKID>A123456(3)</HKID><Reason>病假"],
            formats: vec!["pdf", "xml"],
            ..Case::default()
        },
        Case {
            // A font that is not embedded, its codes UCS-2 by its encoding.
            name: "pdf with a UCS-2 encoded CJK font",
            input: pdf_of(&[
                (3, "<< /Type /Page /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>", None),
                (4, "<< >>", Some(b"BT /F1 9 Tf <8EAB4EFD8B49> Tj ET")),
                (5, "<< /Type /Font /Subtype /Type0 /BaseFont /MSung-Light /Encoding /UniCNS-UCS2-H >>", None),
            ]),
            events: Some(vec![t("身份證"), B]),
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            // Older Chinese software: fonts not embedded, codes that are Big5
            // (Hong Kong's HKSCS set) or GBK bytes by the CMap the font names.
            name: "pdf with fonts in legacy CJK encodings",
            input: {
                let big5 = encoding_rs::BIG5.encode("醫生紙 病假").0.into_owned();
                let gbk = encoding_rs::GBK.encode("身份证").0.into_owned();
                let content = format!(
                    "BT /F1 9 Tf <{}> Tj ET BT /F2 9 Tf <{}> Tj ET",
                    hex_string(&big5),
                    hex_string(&gbk)
                );
                pdf_of(&[
                    (3, "<< /Type /Page /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>", None),
                    (4, "<< >>", Some(content.as_bytes())),
                    (5, "<< /Type /Font /Subtype /Type0 /BaseFont /MingLiU /Encoding /HKscs-B5-H >>", None),
                    (6, "<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /GBK-EUC-H >>", None),
                ])
            },
            events: Some(vec![t("醫生紙 病假"), B, t("身份证"), B]),
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            // Glyph numbers with no map to characters: the text cannot be
            // read, and the report says so rather than passing it.
            name: "pdf with a subset font and no ToUnicode map",
            input: pdf_of(&[
                (3, "<< /Type /Page /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>", None),
                (4, "<< >>", Some(b"BT /F1 9 Tf <00240025> Tj ET BT /F2 9 Tf (readable) Tj ET")),
                (5, "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H >>", None),
            ]),
            events: Some(vec![t("readable"), B]),
            formats: vec!["pdf"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            // ReportLab's default: Flate inside ASCII85, for every stream.
            name: "pdf with ASCII85 around Flate, and an XMP packet",
            input: {
                let a85 = |data: &[u8]| {
                    let mut out = b"<~".to_vec();
                    for group in data.chunks(4) {
                        let mut v = [0u8; 4];
                        v[..group.len()].copy_from_slice(group);
                        let mut n = u32::from_be_bytes(v);
                        let mut digits = [0u8; 5];
                        for d in digits.iter_mut().rev() {
                            *d = (n % 85) as u8 + b'!';
                            n /= 85;
                        }
                        out.extend_from_slice(&digits[..group.len() + 1]);
                    }
                    out.extend_from_slice(b"~>");
                    out
                };
                let content = a85(&zlib(b"BT /F1 9 Tf (HKID A123456\\(3\\)) Tj ET"));
                pdf_of(&[
                    (3, "<< /Type /Page /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>", None),
                    (4, "<< /Filter [ /ASCII85Decode /FlateDecode ] >>", Some(&content)),
                    (5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", None),
                    (6, "<< /Type /Metadata /Subtype /XML /Length 37 >>", Some(b"<dc:creator>Chan Tai Man</dc:creator>")),
                ])
            },
            events: Some(vec![t("HKID A123456(3)"), B, t("<dc:creator>Chan Tai Man</dc:creator>"), B]),
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            // A Flate stream whose last byte is a line feed: `/Length` keeps
            // it (the line break before `endstream` is the one to drop).
            name: "pdf stream whose data ends in a line feed",
            input: {
                // The checksum's last byte moves by 97 for each `a`: one of
                // 256 lengths ends the stream in 0x0A.
                let data = (0..256)
                    .map(|k| zlib(format!("BT (HKID A123456\\(3\\) {}) Tj ET", "a".repeat(k)).as_bytes()))
                    .find(|z| z.last() == Some(&b'\n'))
                    .expect("some stream ends in a line feed");
                let dict = format!("<< /Filter /FlateDecode /Length {} >>", data.len());
                pdf_of(&[(3, "<< /Type /Page /Contents 4 0 R >>", None), (4, &dict, Some(&data))])
            },
            contains: vec!["HKID A123456(3)"],
            formats: vec!["pdf"],
            ..Case::default()
        },
        Case {
            // A file attached to the PDF leaves with it: read as what it is
            // (here a CSV, whose header gives its column context).
            name: "pdf with an attached file",
            input: pdf_of(&[
                (3, "<< /Type /Page /Contents 4 0 R >>", None),
                (4, "<< >>", Some(b"BT (See the attached list) Tj ET")),
                (7, "<< /Type /Filespec /F (list.csv) /UF <FEFF006C006900730074002E006300730076> /EF << /F 8 0 R >> >>", None),
                (8, "<< /Type /EmbeddedFile /Filter /FlateDecode >>", Some(&zlib("姓名,電話\n陳大文,6612 3456\n".as_bytes()))),
            ]),
            pairs: vec![("電話", "6612 3456")],
            formats: vec!["pdf", "csv"],
            ..Case::default()
        },
        Case {
            // A page's content that cannot be read: the document's text is
            // unknown even though other strings (its info) were read.
            name: "pdf whose page content has a filter not read here",
            input: pdf_of(&[
                (3, "<< /Type /Page /Contents 4 0 R >>", None),
                (4, "<< /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >> >>", Some(b"\x02\x00\x01\x02")),
                (9, "<< /Title (Quarterly report) >>", None),
            ]),
            events: Some(vec![t("Quarterly report"), B]),
            formats: vec!["pdf"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            name: "pdf cut short inside a stream",
            input: {
                let mut p = pdf_of(&[(3, "<< /Type /Page /Contents 4 0 R >>", None)]);
                p.extend_from_slice(b"4 0 obj << >>\nstream\nBT (HKID A123456\\(3\\)) Tj ET\nBT (and then");
                p
            },
            contains: vec!["HKID A123456(3)"],
            formats: vec!["pdf"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "word 97 document, 8-bit and UTF-16 pieces",
            input: word_doc(&[("Staff: Chan\r", true), ("身份證 A123", false), ("456(3)\x07", true)], 0x0200),
            events: Some(vec![t("Staff: Chan\n身份證 A123456(3)\n"), B]),
            formats: vec!["doc"],
            ..Case::default()
        },
        Case {
            // A piece that claims a billion characters: cut, and said so.
            name: "word 97 document with a forged piece table",
            input: word_doc_forged(&[("Staff\r", true), ("tail", true)], 0x0200, Some(1 << 30)),
            events: Some(vec![t("Staff\n"), B]),
            formats: vec!["doc"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "word 97 document with its table in 0Table, encrypted",
            input: word_doc(&[("secret", true)], 0x0100),
            events: Some(vec![]),
            formats: vec!["doc"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "excel 97 workbook",
            input: compound(&[("/Workbook", &biff_book(false))]),
            events: Some(vec![
                t("Staff"),
                B,
                t("Name"),
                B,
                t("Phone"),
                B,
                f("Name"),
                t("陳大文"),
                B,
                f("Phone"),
                t("66123456"),
                B,
                f("Name"),
                t("HKID A123456(3)"),
                B,
                f("Phone"),
                t("28123456"),
                B,
                t("12345.67"),
                B,
                t("5000"),
                B,
                f("Phone"),
                t("6612 3456"),
                B,
                f("Name"),
                t("end"),
                B,
            ]),
            formats: vec!["xls"],
            ..Case::default()
        },
        Case {
            name: "excel 97 workbook with a password",
            input: compound(&[("/Workbook", &biff_book(true))]),
            events: Some(vec![]),
            formats: vec!["xls"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // A file put in a slide with Insert Object: its bytes are in the
            // object's native stream, wrapped with its name.
            name: "powerpoint 97 document with a packaged file",
            input: compound(&[
                ("/PowerPoint Document", &ppt_document()),
                ("/Current User", b"\x00\x01"),
                (
                    "/ObjectPool/_1234/\u{1}Ole10Native",
                    &ole_native(&ole_package("note.txt", b"Passport E12345678")),
                ),
            ]),
            contains: vec!["HKID A123456(3)", "Passport E12345678"],
            formats: vec!["ppt"],
            ..Case::default()
        },
        Case {
            // `word/embeddings/oleObject1.bin` as Word writes it for a file
            // put in a DOCX with Insert Object.
            name: "ole object holding a packaged file",
            input: compound(&[
                ("/\u{1}CompObj", b"\x01\x00\xfe\xff\x03\x0a\x00\x00Package\x00"),
                (
                    "/\u{1}Ole10Native",
                    &ole_native(&ole_package("leave.txt", "病假 醫生紙 A123456(3)".as_bytes())),
                ),
            ]),
            contains: vec!["病假 醫生紙 A123456(3)"],
            formats: vec!["cfb"],
            ..Case::default()
        },
        Case {
            // Native data of another class (an equation's): not a package,
            // and an object file of nothing else stays unread.
            name: "ole object of another kind is not read",
            input: compound(&[("/\u{1}Ole10Native", &ole_native(b"\x1c\x00\x00\x00equation"))]),
            events: Some(vec![]),
            formats: vec!["cfb"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            // A workbook with an embedded document (an OLE package).
            name: "powerpoint 97 document with an embedded docx",
            input: compound(&[
                ("/PowerPoint Document", &ppt_document()),
                ("/Current User", b"\x00\x01"),
                ("/MBD0001/Package", &docx(&["Passport E12345678"])),
            ]),
            events: Some(vec![
                t("醫生紙 病假"),
                B,
                t("HKID A123456(3)"),
                B,
                t("Passport E12345678"),
                B,
                B,
            ]),
            formats: vec!["ppt", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "outlook message with an attached csv",
            input: compound(&[
                ("/__substg1.0_0037001F", &utf16z("Staff list")),
                ("/__substg1.0_1000001E", b"See attached, HKID A123456(3)"),
                ("/__substg1.0_0E1D0003", &[1, 0, 0, 0]),
                ("/__attach_version1.0_#00000000/__substg1.0_3707001F", &utf16z("list.csv")),
                ("/__attach_version1.0_#00000000/__substg1.0_37010102", "姓名,電話\n陳大文,6612 3456\n".as_bytes()),
            ]),
            pairs: vec![("電話", "6612 3456")],
            contains: vec!["Staff list", "See attached, HKID A123456(3)"],
            formats: vec!["msg", "csv"],
            ..Case::default()
        },
        Case {
            // "Export to Excel" from a web system: a bare HTML table named
            // .xls. Read as text, rows past the first few lost the heading.
            name: "html table exported as xls",
            input: "<table border=\"1\"><tr><th>姓名</th><th>電話</th></tr><tr><td>陳大文</td><td>6612 3456</td></tr></table>\n".as_bytes().to_vec(),
            hint: hint(None, None, Some("export.xls")),
            pairs: vec![("電話", "6612 3456"), ("姓名", "陳大文")],
            formats: vec!["html"],
            ..Case::default()
        },
        Case {
            // A part labelled UTF-16 with no byte-order mark (Windows writes
            // "Unicode" so): read as the label says. As bytes, every other
            // byte was a NUL and no identifier held together.
            name: "utf-16 named by its charset, without a mark",
            input: "身份證 A123456(3)".encode_utf16().flat_map(u16::to_le_bytes).collect(),
            hint: hint(Some("text/plain; charset=utf-16"), None, None),
            events: Some(vec![t("身份證 A123456(3)"), B]),
            formats: vec!["utf-16"],
            ..Case::default()
        },
        Case {
            // UTF-16 with neither a mark nor a label, under a CSV's name: it
            // was parsed as bytes, a NUL after every ASCII character, and
            // nothing in it held together.
            name: "utf-16 csv without a mark",
            input: utf16le("姓名,身份證號碼,電話\r\n陳大文,A123456(3),66123456\r\n"),
            hint: hint(None, None, Some("staff.csv")),
            pairs: vec![("身份證號碼", "A123456(3)"), ("電話", "66123456")],
            formats: vec!["utf-16", "csv"],
            ..Case::default()
        },
        Case {
            name: "utf-16be text without a mark",
            input: "Staff list: Chan Tai Man, HKID A123456(3)\n".encode_utf16().flat_map(u16::to_be_bytes).collect(),
            events: Some(vec![t("Staff list: Chan Tai Man, HKID A123456(3)\n"), B]),
            formats: vec!["utf-16"],
            ..Case::default()
        },
        Case {
            // Chinese with no ASCII in its head: no NULs to go by, but the
            // high bytes are those of CJK characters.
            name: "utf-16 chinese without a mark",
            input: utf16le("醫生證明書：病人陳大文於十一月二十日求診，建議病假三天。附醫生紙。"),
            events: Some(vec![t("醫生證明書：病人陳大文於十一月二十日求診，建議病假三天。附醫生紙。"), B]),
            formats: vec!["utf-16"],
            ..Case::default()
        },
        Case {
            // 16-bit samples and counters have NULs on one side too, but
            // their code units are controls: binary data, not UTF-16.
            name: "16-bit numbers are not utf-16 text",
            input: (0u16..64).flat_map(|i| (i % 31 + 1).to_le_bytes()).collect(),
            formats: vec!["binary"],
            ..Case::default()
        },
        Case {
            // The same label on what is plainly UTF-8: the bytes win.
            name: "utf-8 text under a utf-16 label",
            input: "身份證 A123456(3)".as_bytes().to_vec(),
            hint: hint(Some("text/plain; charset=utf-16"), None, None),
            events: Some(vec![t("身份證 A123456(3)"), B]),
            ..Case::default()
        },
        Case {
            // Word's and Excel's "Single File Web Page": a MIME message whose
            // page is quoted-printable HTML in Big5. Read as text, neither
            // the 電話 heading nor its column was seen.
            name: "web archive (mht) of a staff table",
            input: b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"----=_NextPart_01D9\"\r\n\r\nThis document is a Single File Web Page, also known as a Web Archive file.\r\n\r\n------=_NextPart_01D9\r\nContent-Location: file:///C:/staff.htm\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=\"big5\"\r\n\r\n<html><body><table><tr><td>=B9q=B8=DC</td></tr><tr><td>6612 3456</td></tr></table></body></html>\r\n\r\n------=_NextPart_01D9--\r\n".to_vec(),
            hint: hint(None, None, Some("staff.doc")),
            pairs: vec![("電話", "6612 3456")],
            formats: vec!["eml", "multipart", "quoted-printable", "big5", "html"],
            ..Case::default()
        },
        Case {
            // No text body: the message was written in RTF and Outlook kept
            // it compressed (these bytes are what Python's `compressed_rtf`
            // writes for it). It used to be skipped without a word.
            name: "outlook message whose body is only compressed rtf",
            input: compound(&[
                ("/__substg1.0_0037001F", &utf16z("Leave")),
                ("/__substg1.0_10090102", &hex_bytes("550000007e0000004c5a46756d52eb2b03000a00726370673132350e3200f406000de06b206c65006176653a20484b49084420410e2033343536c02833292c206307400320f436360e202010120aa30edf0fef0510fb7d14d0")),
            ]),
            contains: vec!["Leave", "Sick leave: HKID A123456(3), call 6612 3456\nSick leave"],
            formats: vec!["msg", "rtf"],
            ..Case::default()
        },
        Case {
            name: "outlook message whose body is only html",
            input: compound(&[
                ("/__substg1.0_0037001F", &utf16z("Leave")),
                ("/__substg1.0_10130102", b"<html><body><p>&#x91AB;&#x751F;&#x7D19; HKID A123456(3)</p></body></html>"),
                ("/__substg1.0_10090102", b"never read: the html is the body"),
            ]),
            contains: vec!["Leave", "醫生紙 HKID A123456(3)"],
            formats: vec!["msg", "html"],
            ..Case::default()
        },
        Case {
            // The same body as text and as HTML counts once: the text is read.
            name: "outlook message with a text body and its html",
            input: compound(&[
                ("/__substg1.0_1000001F", &utf16z("Body HKID A123456(3)")),
                ("/__substg1.0_10130102", b"<p>html copy</p>"),
            ]),
            events: Some(vec![t("Body HKID A123456(3)"), B]),
            formats: vec!["msg"],
            ..Case::default()
        },
        Case {
            name: "outlook message whose compressed rtf body is cut",
            input: compound(&[
                ("/__substg1.0_0037001F", &utf16z("Leave")),
                ("/__substg1.0_10090102", &hex_bytes("550000007e0000004c5a46756d52eb2b03000a00726370673132350e3200f406")),
            ]),
            contains: vec!["Leave"],
            formats: vec!["msg"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "password-protected docx (a compound file)",
            input: compound(&[("/EncryptionInfo", &[4, 0, 4, 0]), ("/EncryptedPackage", &[0; 64])]),
            events: Some(vec![]),
            formats: vec!["cfb"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // A .tar.gz of a CSV (whose long name takes a GNU record) and a
            // DOCX: each member is decoded as what it is.
            name: "tar.gz of a csv, a docx and a pax-named note",
            input: gzip(&tar_of(&[
                (&format!("staff/{}/list.csv", "very-long-directory-name-".repeat(5)), "姓名,電話\n陳大文,6612 3456\n".as_bytes()),
                ("staff/report.docx", &docx(&["Passport E12345678"])),
            ])),
            pairs: vec![("電話", "6612 3456")],
            contains: vec!["Passport E12345678", "mail chan.tai.man@example.com"],
            formats: vec!["gzip", "tar", "csv", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            // What other tars write: a checksum over signed bytes (a name
            // with Latin-1 letters), a pax size that overrides the header's,
            // and a GNU sparse file with a block of its hole map after the
            // header.
            name: "tar from older and other writers",
            input: [
                tar_header(b"caf\xe9.txt", b'0', 5, true),
                blocks(b"hello"),
                tar_header(b"PaxHeaders/big", b'x', 11, false),
                blocks(b"11 size=15\n"),
                tar_header(b"big.txt", b'0', 0, false),
                blocks(b"HKID A123456(3)"),
                {
                    let mut h = tar_header(b"sparse.txt", b'S', 8, false);
                    h[482] = 1;
                    // The checksum covers the flag: rebuilt.
                    h[148..156].copy_from_slice(b"        ");
                    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
                    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
                    h
                },
                vec![0u8; 512],
                blocks(b"pieces!!"),
                vec![0u8; 1024],
            ]
            .concat(),
            contains: vec!["hello", "HKID A123456(3)", "pieces!!"],
            formats: vec!["tar"],
            ..Case::default()
        },
        Case {
            name: "tar with text after its end",
            input: [tar_of(&[("a.txt", b"hello")]), b"HKID A123456(3)".to_vec()].concat(),
            contains: vec!["hello"],
            formats: vec!["tar"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "tar cut inside a member",
            input: tar_of(&[("a.txt", &[b'x'; 2000])])[..1800].to_vec(),
            formats: vec!["tar"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "tar with a broken header checksum",
            input: {
                let mut t = tar_of(&[("a.txt", b"hello")]);
                // The second header (the file's): one byte of its name.
                t[512] ^= 0x20;
                t
            },
            formats: vec!["tar"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // As Python's e-mail package writes one, saved with bare line
            // feeds: an encoded subject, a quoted-printable body, and a CSV
            // attachment whose (folded, RFC 2231) name makes it a CSV.
            name: "e-mail message with a quoted-printable body and an attachment",
            input: concat!(
                "Subject: =?utf-8?b?5ZOh5bel55eF5YGH6KiY6YyE?=\n",
                "From: =?utf-8?b?6Zmz5aSn5paH?= <chan.tai.man@example.com>\n",
                "MIME-Version: 1.0\n",
                "Content-Type: multipart/mixed; boundary=\"==b==\"\n",
                "\n",
                "--==b==\n",
                "Content-Type: text/plain; charset=\"utf-8\"\n",
                "Content-Transfer-Encoding: quoted-printable\n",
                "\n",
                "=E8=BA=AB=E4=BB=BD=E8=AD=89 A123456(3) =\n",
                "ok\n",
                "--==b==\n",
                "Content-Transfer-Encoding: base64\n",
                "Content-Disposition: attachment;\n",
                " filename*=utf-8''%E5%90%8D%E5%96%AE.csv\n",
                "\n",
                "5aeT5ZCNLOmbu+ipsQrpmbPlpKfmlocsNjYxMjM0NTYK\n",
                "--==b==--\n",
            )
            .as_bytes()
            .to_vec(),
            hint: hint(Some("message/rfc822"), None, None),
            pairs: vec![("Subject", "員工病假記錄"), ("電話", "66123456")],
            contains: vec!["身份證 A123456(3) ok", "名單.csv"],
            formats: vec!["eml", "multipart", "quoted-printable", "base64", "csv"],
            ..Case::default()
        },
        Case {
            // What a sheet holds outside its cells: its name, its page header
            // and footer, a validation list and its message, a link's
            // target. All were dropped.
            name: "xlsx text outside the cells",
            input: zip_of(&[
                ("[Content_Types].xml", CT_TYPES),
                ("xl/workbook.xml", r#"<workbook><sheets><sheet name="陳大文 A123456(3)" sheetId="1" r:id="rId1"/></sheets></workbook>"#.as_bytes()),
                ("xl/worksheets/sheet1.xml", br#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>call</t></is></c></row></sheetData><dataValidations count="1"><dataValidation type="list" prompt="Pick B123456(7)?"><formula1>"6612 3456,other"</formula1></dataValidation></dataValidations><headerFooter><oddHeader>&amp;LConfidential: C123456(9)&amp;RD123456(3)</oddHeader><oddFooter>&amp;RPage &amp;P</oddFooter></headerFooter><hyperlinks><hyperlink ref="A1" r:id="rId1"/><hyperlink ref="A2" location="'Staff'!A1" display="E123456(7)" tooltip="Ring 6612 3457"/></hyperlinks></worksheet>"#),
                ("xl/worksheets/_rels/sheet1.xml.rels", br#"<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="tel:+85366123456" TargetMode="External"/><Relationship Id="rId2" Type="x" Target="../drawings/drawing1.xml"/></Relationships>"#),
            ]),
            contains: vec![
                "陳大文 A123456(3)",
                "Pick B123456(7)?",
                "\"6612 3456,other\"",
                // Without the codes glued to the text (`&RD123456(3)`).
                "Confidential: C123456(9)\nD123456(3)",
                "tel:+85366123456",
                "'Staff'!A1",
                "E123456(7)",
                "Ring 6612 3457",
            ],
            formats: vec!["xlsx"],
            ..Case::default()
        },
        Case {
            // Text Word keeps in attributes: a picture's alt text (describing
            // the scan it shows) and a drop-down's entries.
            name: "docx alt text and drop-down entries",
            input: zip_of(&[
                ("[Content_Types].xml", CT_TYPES),
                ("word/document.xml", r#"<w:document><w:body><w:p><w:r><w:t>See</w:t></w:r><w:r><w:drawing><wp:inline><wp:docPr id="1" name="Picture 1" descr="HKID card of 陳大文 A123456(3)"/></wp:inline></w:drawing></w:r></w:p><w:sdt><w:sdtPr><w:dropDownList><w:listItem w:displayText="6612 3456" w:value="1"/></w:dropDownList></w:sdtPr></w:sdt></w:body></w:document>"#.as_bytes()),
            ]),
            contains: vec!["See HKID card of 陳大文 A123456(3) ", " 6612 3456 "],
            formats: vec!["docx"],
            ..Case::default()
        },
        Case {
            name: "odf sheet names and link targets",
            input: odf_of(
                "application/vnd.oasis.opendocument.spreadsheet",
                &[("content.xml", r#"<office:document-content><office:body><office:spreadsheet><table:table table:name="陳大文 A123456(3)"><table:table-row><table:table-cell><text:p><text:a xlink:href="mailto:chan.tai.man@example.com">write</text:a></text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#)],
            ),
            contains: vec!["陳大文 A123456(3)", "mailto:chan.tai.man@example.com", "write"],
            formats: vec!["ods"],
            ..Case::default()
        },
        Case {
            // LibreOffice's "Save with password": each part encrypted, the
            // manifest says how. The ciphertext used to pass as a clean zip.
            name: "password-protected odt",
            input: zip_of(&[
                ("mimetype", b"application/vnd.oasis.opendocument.text"),
                ("content.xml", &[0x9c, 0x13, 0x7f, 0x01, 0xee, 0x42, 0x3c, 0x80]),
                ("META-INF/manifest.xml", br#"<manifest:manifest><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="4821"><manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k"><manifest:algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/></manifest:encryption-data></manifest:file-entry></manifest:manifest>"#),
            ]),
            events: Some(vec![]),
            formats: vec!["odt"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // Newer LibreOffice can encrypt the whole package as one entry.
            name: "odf encrypted as a whole package",
            input: zip_of(&[
                ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                ("encrypted-package", &[0x51, 0xa7, 0x00, 0x3d, 0x9e]),
                ("META-INF/manifest.xml", b"<manifest:manifest/>"),
            ]),
            events: Some(vec![]),
            formats: vec!["ods"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            // Outlook's winmail.dat as Exchange sends a "Rich Text" message:
            // subject and body, and an attachment whose long name is in its
            // MAPI properties. Read as text, it held nothing.
            name: "tnef winmail.dat with an attachment",
            input: tnef(&[
                tnef_att(1, 0x0008_9006, &[0, 0, 1, 0]),
                tnef_att(1, 0x0001_8004, b"Staff list\0"),
                tnef_att(1, 0x0002_800C, b"See attached, HKID A123456(3)\0"),
                tnef_att(2, 0x0006_9002, &[1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
                tnef_att(2, 0x0001_8010, b"STAFF~1.CSV\0"),
                tnef_att(2, 0x0006_800F, "姓名,電話\n陳大文,6612 3456\n".as_bytes()),
                tnef_att(2, 0x0006_9005, &mapi_props(&[(0x001F, 0x3707, utf16z("staff list.csv"))])),
            ]),
            hint: hint(Some("application/ms-tnef"), None, Some("winmail.dat")),
            pairs: vec![("電話", "6612 3456")],
            contains: vec!["Staff list", "staff list.csv", "See attached, HKID A123456(3)"],
            formats: vec!["tnef", "csv"],
            ..Case::default()
        },
        Case {
            // No text body, only the compressed RTF (and an attached message
            // with a subject of its own).
            name: "tnef whose body is compressed rtf, with an attached message",
            input: {
                let inner = tnef(&[tnef_att(1, 0x0001_8004, b"inner B123456(4)?\0")]);
                let mut object = vec![0u8; 16];
                object.extend_from_slice(&inner);
                tnef(&[
                    tnef_att(1, 0x0006_9003, &mapi_props(&[(0x0102, 0x1009, hex_bytes("550000007e0000004c5a46756d52eb2b03000a00726370673132350e3200f406000de06b206c65006176653a20484b49084420410e2033343536c02833292c206307400320f436360e202010120aa30edf0fef0510fb7d14d0"))])),
                    tnef_att(2, 0x0006_9002, &[5, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
                    tnef_att(2, 0x0006_9005, &mapi_props(&[(0x000D, 0x3701, object)])),
                ])
            },
            contains: vec!["inner B123456(4)?", "Sick leave: HKID A123456(3), call 6612 3456"],
            formats: vec!["tnef", "rtf"],
            ..Case::default()
        },
        Case {
            name: "truncated tnef",
            input: {
                let t = tnef(&[tnef_att(1, 0x0002_800C, b"body HKID A123456(3) and more\0")]);
                t[..t.len() - 8].to_vec()
            },
            formats: vec!["tnef"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // HTML mail as Outlook and Thunderbird send it: `alternative`, a
            // preamble before the first part, the text base64 UTF-8. Only
            // `mixed` and `related` were read as parts; this was raw text.
            name: "html mail: multipart/alternative with a preamble",
            input: concat!(
                "MIME-Version: 1.0\r\n",
                "Content-Type: multipart/alternative; boundary=\"alt\"\r\n",
                "\r\n",
                "This is a multi-part message in MIME format.\r\n",
                "--alt\r\n",
                "Content-Type: text/plain; charset=utf-8\r\n",
                "Content-Transfer-Encoding: base64\r\n",
                "\r\n",
                "55eF5Lq66LOH5paZIEhLSUQgQTEyMzQ1NigzKQ==\r\n",
                "--alt\r\n",
                "Content-Type: text/html; charset=utf-8\r\n",
                "\r\n",
                "<p>same</p>\r\n",
                "--alt--\r\n",
            )
            .as_bytes()
            .to_vec(),
            hint: hint(None, None, Some("mail.eml")),
            contains: vec!["病人資料 HKID A123456(3)"],
            formats: vec!["eml", "multipart", "base64", "html"],
            ..Case::default()
        },
        Case {
            // A long or non-ASCII name split into RFC 2231 pieces (Thunderbird),
            // and only the type's `name` given (older mailers).
            name: "attachment names in rfc 2231 pieces and in the type",
            input: concat!(
                "Content-Type: multipart/mixed; boundary=\"B\"\r\n",
                "\r\n",
                "--B\r\n",
                "Content-Type: application/octet-stream\r\n",
                "Content-Disposition: attachment;\r\n",
                " filename*0*=UTF-8''%E9%99%B3%E5%A4%A7%E6%96%87_;\r\n",
                " filename*1=\"A123456(3).jpg\"\r\n",
                "\r\n",
                "x\r\n",
                "--B\r\n",
                "Content-Type: text/csv; name=\"staff list.csv\"\r\n",
                "\r\n",
                "a,b\r\n",
                "--B--\r\n",
            )
            .as_bytes()
            .to_vec(),
            hint: hint(Some("message/rfc822"), None, None),
            contains: vec!["陳大文_A123456(3).jpg", "staff list.csv"],
            formats: vec!["eml", "multipart", "csv"],
            ..Case::default()
        },
        Case {
            // As LibreOffice writes it: characters past the code page as
            // `\uN` with a `?` fallback (a surrogate pair for one past
            // U+FFFF), tables and pictures skipped, formatting groups inside
            // a word, the author from the document's info.
            name: "rtf with unicode escapes",
            input: br"{\rtf1\ansi\ansicpg1252\uc1{\fonttbl{\f0\froman Times;}}{\colortbl;\red0\green0\blue0;}{\info{\author Chan}{\comment draft}}{\*\generator secret 1.0;}\pard \u36523?\u20221?\u35657? A123{\b 456}(3)\par\u38651?\u35441? 6612 3456 \u-10179?\u-8704?{\pict\pngblip 89504e470d0a1a0a}}".to_vec(),
            events: Some(vec![t("\nChan\ndraft身份證 A123456(3)\n電話 6612 3456 😀"), B]),
            formats: vec!["rtf"],
            ..Case::default()
        },
        Case {
            // An embedded object: OLE 1 header (version, format, class,
            // topic and item names) then the file itself, in hex.
            name: "rtf with an embedded document",
            input: {
                let file = docx(&["Passport E12345678"]);
                let mut ole = Vec::new();
                ole.extend_from_slice(&0x0501u32.to_le_bytes());
                ole.extend_from_slice(&2u32.to_le_bytes());
                for name in [&b"Word.Document.12\0"[..], b"\0", b"\0"] {
                    ole.extend_from_slice(&(name.len() as u32).to_le_bytes());
                    ole.extend_from_slice(name);
                }
                ole.extend_from_slice(&(file.len() as u32).to_le_bytes());
                ole.extend_from_slice(&file);
                let hex: String = ole.iter().map(|b| format!("{b:02x}")).collect();
                format!("{{\\rtf1\\ansi See attached{{\\object\\objemb{{\\*\\objclass Word.Document.12}}{{\\*\\objdata\r\n{hex}}}}}}}")
                    .into_bytes()
            },
            contains: vec!["See attached", "Passport E12345678"],
            formats: vec!["rtf", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            // Insert Object with a file: the Packager wraps it with its name.
            name: "rtf with a packaged file",
            input: {
                let native = ole_package("staff.csv", "姓名,電話\n陳大文,6612 3456\n".as_bytes());
                let mut ole = Vec::new();
                ole.extend_from_slice(&0x0501u32.to_le_bytes());
                ole.extend_from_slice(&2u32.to_le_bytes());
                for name in [&b"Package\0"[..], b"\0", b"\0"] {
                    ole.extend_from_slice(&(name.len() as u32).to_le_bytes());
                    ole.extend_from_slice(name);
                }
                ole.extend_from_slice(&(native.len() as u32).to_le_bytes());
                ole.extend_from_slice(&native);
                let hex: String = ole.iter().map(|b| format!("{b:02x}")).collect();
                format!("{{\\rtf1\\ansi List{{\\object\\objemb{{\\*\\objclass Package}}{{\\*\\objdata {hex}}}}}}}")
                    .into_bytes()
            },
            pairs: vec![("電話", "6612 3456")],
            formats: vec!["rtf", "csv"],
            ..Case::default()
        },
        Case {
            // As Word on Chinese Windows writes it: Big5 bytes as `\'hh`.
            name: "rtf in a double-byte code page",
            input: br"{\rtf1\ansi\ansicpg950 \'b9\'71\'b8\'dc 6612 3456\par}".to_vec(),
            hint: hint(None, None, Some("staff.doc")),
            events: Some(vec![t("電話 6612 3456\n"), B]),
            formats: vec!["rtf"],
            ..Case::default()
        },
        Case {
            // The first bytes of a RAR (a chunk of an upload): never passed as empty.
            name: "rar archive cut inside its headers",
            input: b"Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5\x0a\x01\x05\x06\x00\x05\x01\x01\x80\x80\x00staff.xlsx".to_vec(),
            events: Some(vec![]),
            formats: vec!["rar"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // WinRAR is what many offices zip with.
            name: "rar archive, RAR 5",
            input: rar(
                &[("staff.csv", b"name,hkid\nChan,A123456(7)\n"), ("notes.txt", b"call 6612 3456")],
                RarHow::default(),
            ),
            hint: hint(None, None, Some("hr.rar")),
            pairs: vec![("hkid", "A123456(7)")],
            contains: vec!["staff.csv", "call 6612 3456"],
            formats: vec!["rar", "csv"],
            ..Case::default()
        },
        Case {
            name: "solid rar archive, RAR 4, with a document in it",
            input: rar(
                &[("a.txt", b"first"), ("leave.docx", &docx(&["Sick leave: 醫生紙 attached"])), ("z.txt", b"last B765432(1)")],
                RarHow { format: rars::ArchiveVersion::Rar29, solid: true, ..RarHow::default() },
            ),
            contains: vec!["first", "醫生紙", "last B765432(1)"],
            formats: vec!["rar", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "rar archive, stored",
            input: rar(&[("員工/名單.txt", "身份證 A123456(7)".as_bytes())], RarHow { store: true, ..RarHow::default() }),
            events: Some(vec![t("員工/名單.txt"), B, t("身份證 A123456(7)"), B]),
            formats: vec!["rar"],
            ..Case::default()
        },
        Case {
            // Written by rars with its crypto (the shipped build has none,
            // and these tests read what it reads): the names show.
            name: "rar archive with a password",
            input: include_bytes!("../../../../tests/fixtures/archives/hr-password.rar").to_vec(),
            events: Some(vec![t("staff.csv"), B]),
            formats: vec!["rar"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "rar 4 archive with a password",
            input: include_bytes!("../../../../tests/fixtures/archives/hr-password-rar4.rar").to_vec(),
            events: Some(vec![t("staff.csv"), B]),
            formats: vec!["rar"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "rar archive with its names encrypted too",
            input: include_bytes!("../../../../tests/fixtures/archives/hr-hidden.rar").to_vec(),
            events: Some(vec![]),
            formats: vec!["rar"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "truncated rar archive",
            input: {
                let a = rar(&[("notes.txt", &b"HKID A123456(7) ".repeat(40))], RarHow::default());
                a[..a.len() - 30].to_vec()
            },
            formats: vec!["rar"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "rar archive whose data is corrupt",
            input: {
                let mut a = rar(&[("notes.txt", &b"HKID A123456(7) ".repeat(40))], RarHow::default());
                let at = a.len() - 40;
                a[at] ^= 0x55;
                a
            },
            formats: vec!["rar"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "corrupt bzip2 stream",
            input: b"BZh91AY&SY\x12\x34\x56\x78 compressed".to_vec(),
            events: Some(vec![]),
            formats: vec!["bzip2"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "bzip2 file",
            input: bzip2(b"name,hkid\nChan,A123456(7)\n"),
            hint: hint(None, None, Some("staff.csv.bz2")),
            pairs: vec![("hkid", "A123456(7)")],
            formats: vec!["bzip2", "csv"],
            ..Case::default()
        },
        Case {
            // `pbzip2` writes a stream per block; all are one file.
            name: "bzip2 streams one after another",
            input: [bzip2(b"first HKID A123456(7)\n"), bzip2(b"second 6612 3456\n")].concat(),
            events: Some(vec![t("first HKID A123456(7)\nsecond 6612 3456\n"), B]),
            formats: vec!["bzip2"],
            ..Case::default()
        },
        Case {
            name: "truncated bzip2",
            input: { let b = bzip2(b"cut HKID A123456(7)"); b[..b.len() - 6].to_vec() },
            formats: vec!["bzip2"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "bzip2 with text after it",
            input: [bzip2(b"hello"), b"HKID A123456(7)".to_vec()].concat(),
            contains: vec!["hello"],
            formats: vec!["bzip2"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "xz file",
            input: xz(b"log line HKID A123456(7)\n"),
            hint: hint(None, None, Some("app.log.xz")),
            events: Some(vec![t("log line HKID A123456(7)\n"), B]),
            formats: vec!["xz"],
            ..Case::default()
        },
        Case {
            // `cat a.xz b.xz`, and the zero padding xz allows after a stream.
            name: "xz streams one after another, padded",
            input: [xz(b"first HKID A123456(7)\n"), vec![0; 8], xz(b"second 6612 3456\n"), vec![0; 4]].concat(),
            events: Some(vec![t("first HKID A123456(7)\nsecond 6612 3456\n"), B]),
            formats: vec!["xz"],
            ..Case::default()
        },
        Case {
            name: "truncated xz",
            input: { let x = xz(b"cut HKID A123456(7)"); x[..x.len() - 20].to_vec() },
            formats: vec!["xz"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "xz with text after it",
            input: [xz(b"hello"), b"HKID A123456(7)".to_vec()].concat(),
            contains: vec!["hello"],
            formats: vec!["xz"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        // Streams that turn corrupt after data: what was decoded before the
        // fault is read, whether it came in the same step or in earlier ones.
        Case {
            name: "xz whose check does not match",
            input: xz_bad_check(b"before the fault HKID A123456(7)\n"),
            contains: vec!["before the fault HKID A123456(7)"],
            formats: vec!["xz"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "lzip whose check does not match",
            input: {
                let mut l = lzip(b"before the fault HKID A123456(7)\n");
                let n = l.len();
                // The member trailer: CRC-32, data size, member size.
                l[n - 20] ^= 0xff;
                l
            },
            contains: vec!["before the fault HKID A123456(7)"],
            formats: vec!["lzip"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "bzip2 whose block check does not match",
            input: {
                let mut b = bzip2(b"before the fault HKID A123456(7)\n");
                // `BZh9`, the block magic, then the block's CRC.
                b[10] ^= 0xff;
                b
            },
            contains: vec!["before the fault HKID A123456(7)"],
            formats: vec!["bzip2"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "gzip whose deflate data turns corrupt",
            input: {
                let mut g = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
                g.extend(deflate_stored_then_bad(b"before the fault HKID A123456(7)\n"));
                g
            },
            contains: vec!["before the fault HKID A123456(7)"],
            formats: vec!["gzip"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "deflate-encoded body that turns corrupt",
            input: [&[0x78, 0x9c][..], &deflate_stored_then_bad(b"before the fault HKID A123456(7)\n")].concat(),
            hint: hint(Some("text/plain"), Some("deflate"), None),
            contains: vec!["before the fault HKID A123456(7)"],
            formats: vec!["deflate"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // Found by fuzzing: brotli keeps decoded bytes back until a call
            // ends, so what it made of this depended on the split.
            name: "brotli-encoded body that turns corrupt",
            input: b"\x00\x00\x10\x00\x00\x00\x8d\x0a".to_vec(),
            hint: hint(Some("multipart/form-data; boundary=XyZ"), Some("br"), None),
            formats: vec!["br"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // zstd hands out nothing of the call that meets a fault: the
            // block before it is lost, the same way however the body came.
            name: "zstd-encoded body that turns corrupt",
            input: zstd_raw_then_bad(b"before the fault HKID A123456(7)\n"),
            hint: hint(Some("text/plain"), Some("zstd"), None),
            events: Some(vec![]),
            formats: vec!["zstd"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "tar.xz of a customer list",
            input: xz(&tar_of(&[("export/customers.csv", b"name,phone\nChan,6612 3456\n")])),
            hint: hint(None, None, Some("export.tar.xz")),
            pairs: vec![("phone", "6612 3456")],
            formats: vec!["xz", "tar", "csv"],
            ..Case::default()
        },
        Case {
            // plzip writes several members; all are one file.
            name: "lzip members one after another",
            input: [lzip(b"first HKID A123456(7)\n"), lzip(b"second 6612 3456\n")].concat(),
            events: Some(vec![t("first HKID A123456(7)\nsecond 6612 3456\n"), B]),
            formats: vec!["lzip"],
            ..Case::default()
        },
        Case {
            name: "truncated lzip",
            input: { let l = lzip(b"cut HKID A123456(7)"); l[..l.len() - 10].to_vec() },
            formats: vec!["lzip"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "7z archive, a file per block",
            input: seven_zip(
                &[("staff.csv", b"name,hkid\nChan,A123456(7)\n"), ("notes.txt", b"call 6612 3456")],
                SevenZ::default(),
            ),
            hint: hint(None, None, Some("hr.7z")),
            pairs: vec![("hkid", "A123456(7)")],
            contains: vec!["call 6612 3456"],
            formats: vec!["7z", "csv"],
            ..Case::default()
        },
        Case {
            name: "solid 7z archive with a document in it",
            input: seven_zip(
                &[("a.txt", b"first"), ("leave.docx", &docx(&["Sick leave: 醫生紙 attached"])), ("z.txt", b"last B765432(1)")],
                SevenZ { solid: true, ..SevenZ::default() },
            ),
            contains: vec!["first", "醫生紙", "last B765432(1)"],
            formats: vec!["7z", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "7z archive compressed with PPMd",
            input: seven_zip(&[("notes.txt", b"HKID A123456(7) and 6612 3456")], SevenZ { ppmd: true, ..SevenZ::default() }),
            events: Some(vec![t("notes.txt"), B, t("HKID A123456(7) and 6612 3456"), B]),
            formats: vec!["7z"],
            ..Case::default()
        },
        Case {
            // The names show, the content cannot be read: never passed as
            // empty. (Written by 7-Zip: the shipped build has no AES coder,
            // and these tests read what it reads.)
            name: "7z archive with a password",
            input: include_bytes!("../../../../tests/fixtures/archives/hr-password.7z").to_vec(),
            events: Some(vec![]),
            formats: vec!["7z"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "7z archive with its names encrypted too",
            input: include_bytes!("../../../../tests/fixtures/archives/hr-hidden.7z").to_vec(),
            events: Some(vec![]),
            formats: vec!["7z"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "truncated 7z archive",
            input: {
                let a = seven_zip(&[("notes.txt", b"HKID A123456(7)")], SevenZ::default());
                a[..a.len() - 30].to_vec()
            },
            events: Some(vec![]),
            formats: vec!["7z"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "7z archive whose data is corrupt",
            input: {
                let mut a = seven_zip(&[("notes.txt", &b"HKID A123456(7) ".repeat(40))], SevenZ::default());
                a[40] ^= 0x55;
                a
            },
            formats: vec!["7z"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            // Text that happens to start like bzip2's magic is text.
            name: "text starting with BZh",
            input: b"BZh is not a word".to_vec(),
            events: Some(vec![t("BZh is not a word"), B]),
            ..Case::default()
        },
        Case {
            name: "compound file of an unknown kind",
            input: compound(&[("/Thing", b"HKID A123456(3)")]),
            events: Some(vec![]),
            formats: vec!["cfb"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            name: "pdf whose only stream has an unknown filter",
            input: pdf(b"BT (secret) Tj ET", "lzw"),
            formats: vec!["pdf"],
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
        Case {
            name: "encrypted pdf",
            input: { let mut p = pdf(b"BT (x) Tj ET", "flate"); p.extend_from_slice(b"trailer << /Encrypt 5 0 R >>"); p },
            formats: vec!["pdf"],
            incomplete: Some(IncompleteReason::Encrypted),
            ..Case::default()
        },
        Case {
            name: "base64 docx and base64 text in json",
            input: format!(r#"{{"file":"{b64_doc}","note":"{b64_text}","token":"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="}}"#).into_bytes(),
            pairs: vec![("token", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")],
            contains: vec!["Embedded HKID A123456(7)", "diagnosis diabetes, HKID A123456(7)"],
            formats: vec!["json", "base64", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "data urls in json: an image skipped, a document read",
            input: format!(r#"{{"img":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB","doc":"data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,{b64_doc}","plain":"data: not a url"}}"#).into_bytes(),
            pairs: vec![("plain", "data: not a url")],
            contains: vec!["Embedded HKID A123456(7)"],
            formats: vec!["json", "base64", "docx"],
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "png skipped by magic and walked to its end",
            input: b"\x89PNG\r\n\x1a\n\0\0\0\x18IDATA123456(7) not looked atCRC!\0\0\0\0IENDCRC!".to_vec(),
            events: Some(vec![]),
            media: vec!["image/png"],
            ..Case::default()
        },
        Case {
            name: "zip without central directory",
            input: { let z = zip_of(&[("a.txt", b"hello")]); z[..z.len() - 30].to_vec() },
            formats: vec!["zip"],
            incomplete: Some(IncompleteReason::Malformed),
            ..Case::default()
        },
        Case {
            name: "plain zip: entries sniffed and scanned",
            input: zip_of(&[("a.txt", "HKID A123456(7)".as_bytes()), ("b.json", br#"{"phone":"66123456"}"#)]),
            pairs: vec![("phone", "66123456")],
            contains: vec!["HKID A123456(7)"],
            formats: vec!["zip", "json"],
            ..Case::default()
        },
        Case {
            name: "unknown content-encoding",
            input: b"abc".to_vec(),
            hint: hint(None, Some("compress"), None),
            events: Some(vec![t("abc"), B]),
            incomplete: Some(IncompleteReason::Unsupported),
            ..Case::default()
        },
    ]
}

/// An xz stream corrupt well past the first slice its decoder is given
/// (`compress::STAGE`): what is read before the fault does not depend on
/// where the body was split. Too long for every split point in the case
/// table (LZMA is slow in a debug build): whole, at points across it, in
/// chunks of several sizes and byte by byte.
#[test]
fn a_stream_corrupt_past_its_first_slice_reads_the_same_however_split() {
    let mut x = xz(&noisy_text(36_000));
    assert!(
        x.len() > crate::inspect::decode::compress::STAGE,
        "past the first slice"
    );
    let at = x.len() * 7 / 8;
    x[at] ^= 0x5a;
    let (hint, limits) = (ContentHint::default(), Limits::default());
    let whole = scan_chunks(&x, &hint, &limits, &[]);
    assert!(whole.0.joined_text().contains("HKID A123456(7)"));
    assert_eq!(
        whole.1.incomplete.as_ref().map(|i| i.reason),
        Some(IncompleteReason::Malformed)
    );
    let mut ways: Vec<Vec<usize>> = (0..x.len()).step_by(509).map(|i| vec![i]).collect();
    for size in [1, 7, 4096, 16 << 10, (16 << 10) + 1] {
        ways.push((size..x.len()).step_by(size).collect());
    }
    for cuts in ways {
        let split = scan_chunks(&x, &hint, &limits, &cuts);
        assert_eq!(
            split.0,
            whole.0,
            "events differ, cuts from {:?}",
            cuts.first()
        );
        assert_eq!(
            split.1,
            whole.1,
            "report differs, cuts from {:?}",
            cuts.first()
        );
    }
}

#[test]
fn every_case_at_every_split_point() {
    let limits = Limits::default();
    for c in cases() {
        let (sink, report) = scan_all_ways(c.name, &c.input, &c.hint, &limits);
        if let Some(events) = &c.events {
            assert_eq!(&sink.events, events, "{}: events", c.name);
        }
        let joined = sink.joined_text();
        for want in &c.contains {
            assert!(
                joined.contains(want),
                "{}: missing {want:?} in {joined:?}",
                c.name
            );
        }
        for (field, value) in &c.pairs {
            assert!(
                values_of(&sink, field).iter().any(|v| v == value),
                "{}: no {field}={value:?} in {:?}",
                c.name,
                sink.events
            );
        }
        assert_eq!(report.formats, c.formats, "{}: formats", c.name);
        assert_eq!(report.skipped_media, c.media, "{}: media", c.name);
        assert_eq!(
            report.incomplete.as_ref().map(|i| i.reason),
            c.incomplete,
            "{}: incomplete {:?}",
            c.name,
            report.incomplete
        );
        assert_eq!(report.bytes, c.input.len() as u64, "{}: bytes", c.name);
    }
}

mod binary_split;
mod excel_gaps;
mod json_diff;
mod json_oracle;
mod legacy_audit;
mod limits;
mod media;
mod pdf_audit;

/// Binary data read two bytes at a time spells CJK characters of any two
/// ASCII letters: only strings with some ASCII in them are UTF-16 text.
#[test]
fn binary_data_gives_no_utf16_strings_of_its_own() {
    let limits = Limits::default();
    let plain = b"\x00\x01Patient record of Chan Tai Man, \x00\x02ok\x00".to_vec();
    let (sink, report) = scan_all_ways("ascii in binary", &plain, &ContentHint::default(), &limits);
    assert_eq!(report.formats, vec!["binary"]);
    // The bytes once, as they are, and nothing read from them as UTF-16.
    assert_eq!(sink.events, vec![SinkEvent::Text(plain.clone()), B]);
    let cjk_only = [&[0u8, 1, 2][..], &utf16le("請批准病假申請"), &[0, 1][..]].concat();
    let (sink, _) = scan_all_ways("cjk in binary", &cjk_only, &ContentHint::default(), &limits);
    assert_eq!(sink.events, vec![SinkEvent::Text(cjk_only.clone()), B]);
}

/// `opaque_min_bytes: 0` turns the check off; a body shorter than the limit
/// is not judged.
#[test]
fn the_opaque_check_follows_its_limit() {
    let data = zlib(&chinese_rows(2000));
    let body = data.get(2..).unwrap_or_default();
    let run = |min: u64| {
        let limits = Limits {
            opaque_min_bytes: min,
            ..Limits::default()
        };
        scan_chunks(body, &ContentHint::default(), &limits, &[]).1
    };
    let on = run(4096);
    let detail = on
        .incomplete
        .as_ref()
        .map(|i| i.detail.clone())
        .unwrap_or_default();
    assert!(detail.contains("compressed or encrypted"), "{detail}");
    assert!(run(0).incomplete.is_none());
    assert!(run(body.len() as u64 + 1).incomplete.is_none());
}

/// Strings read from UTF-16 inside binary data come out the same however
/// the body is split: across calls, past the look back over a long Chinese
/// prefix, in pieces of long strings, and where many are passed on at a NUL.
#[test]
fn utf16_strings_in_binary_data_do_not_depend_on_the_split() {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut body = vec![0u8, 1, 2, 3];
    for i in 0..400 {
        // Noise, then a string in either alignment.
        let noise = (next() % 300) as usize;
        body.extend((0..noise).map(|_| next() as u8));
        let s = match i % 5 {
            0 => format!("員工{i} 陳大文 A123456(3) 電話 6612 {:04}", i),
            1 => format!("{}Ref {i}", "請批准病假申請".repeat(12)),
            2 => "x".repeat(5000) + " long",
            3 => format!("tab\there {i}"),
            _ => format!("No {i}"),
        };
        body.extend(utf16le(&s));
        body.push(0xD8 + (i % 3) as u8);
        if i == 200 {
            // Strings that pile up with no NUL among them: three ASCII
            // letters, then Chinese whose low bytes are never zero.
            body.extend(utf16le(&format!("Ref{}", "丁".repeat(150_000))));
        }
    }
    let limits = Limits::default();
    let whole = scan_chunks(&body, &ContentHint::default(), &limits, &[]);
    let joined = whole.0.joined_text();
    assert!(
        joined.contains("員工0 陳大文 A123456(3) 電話 6612 0000"),
        "{}",
        &joined[..200]
    );
    // The look back reaches 64 characters of the 84 before "Ref".
    assert!(joined.contains(&format!("{}Ref 1", &"請批准病假申請".repeat(12)[3 * 20..])));
    assert!(!joined.contains(&format!("{}Ref 1", &"請批准病假申請".repeat(12)[3 * 19..])));
    for round in 0..12 {
        let mut cuts: Vec<usize> = (0..40).map(|_| (next() as usize) % body.len()).collect();
        if round % 3 == 0 {
            // Small steps too: one and two bytes apart.
            let at = (next() as usize) % (body.len() - 64);
            cuts.extend((at..at + 64).step_by(1 + round % 2));
        }
        cuts.sort_unstable();
        let split = scan_chunks(&body, &ContentHint::default(), &limits, &cuts);
        assert_eq!(split.0, whole.0, "events differ, round {round}");
        assert_eq!(split.1, whole.1, "report differs, round {round}");
    }
}

/// `unescaped` copies text without a reference as it is, and undoes the
/// references of the rest as quick_xml does; text that is not UTF-8 takes
/// the full path, which reads it lossily.
#[test]
fn xml_text_is_unescaped_the_same_on_both_paths() {
    let cases: [(&[u8], &[u8]); 6] = [
        (b"6612 3456", b"6612 3456"),
        ("陳大文".as_bytes(), "陳大文".as_bytes()),
        (b"A &amp; B", b"A & B"),
        (b"&lt;x&gt; &#65;&#x42;", b"<x> AB"),
        (b"a & b", b"a & b"),
        (b"bad \xff byte", "bad \u{fffd} byte".as_bytes()),
    ];
    for (raw, want) in cases {
        let mut out = b"kept:".to_vec();
        super::ooxml::unescaped(raw, &mut out);
        assert_eq!(out, [b"kept:".as_slice(), want].concat(), "{raw:?}");
    }
}

/// A cell's `r` and `t` read by hand (attributes as Excel writes them) are
/// what quick_xml reads, whenever the hand reader takes them on; it leaves
/// to quick_xml what it does not.
mod cell_attributes {
    use super::super::ooxml::{cell_attributes, cell_attributes_in_full};
    use proptest::prelude::*;
    use quick_xml::events::BytesStart;

    const PIECES: &[&str] = &[
        " ", "\t", "\r\n", "r", "t", "s", "=", "\"", "'", "A1", "B12", "x:r", "rr", "n", "\"s\"",
        "'A2'", "\"a'b\"", "r=\"C3\"", "t=\"s\"", "t='n'", "s=\"7\"", " = ", "é",
    ];

    fn by_quick_xml(raw: &str) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let content = format!("c{raw}");
        cell_attributes_in_full(&BytesStart::from_content(content.as_str(), 1))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn read_by_hand_as_quick_xml_reads_them(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..12),
        ) {
            let raw = format!(" {}", pieces.concat());
            if let Some((r, t)) = cell_attributes(raw.as_bytes()) {
                let (want_r, want_t) = by_quick_xml(&raw);
                prop_assert_eq!(r, want_r.as_deref());
                prop_assert_eq!(t, want_t.as_deref());
            }
        }
    }

    #[test]
    fn excel_s_cells_are_read_by_hand() {
        for (raw, r, t) in [
            (r#" r="A1" t="s""#, Some("A1"), Some("s")),
            (r#" r="B2" s="3""#, Some("B2"), None),
            (r#" t='n' r='C3'"#, Some("C3"), Some("n")),
            (r#" r="A2" t="s" t="n" r="C9""#, Some("A2"), Some("s")),
            ("", None, None),
        ] {
            let got = cell_attributes(raw.as_bytes()).expect(raw);
            assert_eq!(got, (r.map(str::as_bytes), t.map(str::as_bytes)), "{raw}");
            let full = by_quick_xml(raw);
            assert_eq!((full.0.as_deref(), full.1.as_deref()), got, "{raw}");
        }
        // Left to quick_xml: space around `=`, a value without quotes, one
        // not closed, no name.
        for raw in [r#" r = "A1""#, " r=A1", r#" r="A1"#, r#" ="s" r="A1""#] {
            assert_eq!(cell_attributes(raw.as_bytes()), None, "{raw}");
        }
    }
}

/// A tag past `xml::MAX_MARKUP` in a document (a crafted attribute of a
/// megabyte and more) ends its part as incomplete, a size limit, and is not
/// held; what came before it is read, as is the rest of the package.
#[test]
fn an_office_tag_past_the_limit_is_incomplete_and_what_came_before_is_read() {
    // Letters that do not compress, so that the ratio limit does not come first.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let huge: String = (0..super::xml::MAX_MARKUP + 1)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    let body = format!(
        r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>HKID A123456(7)</w:t></w:r></w:p><w:p w:rsidR="{huge}"><w:r><w:t>never read</w:t></w:r></w:p></w:body></w:document>"#
    );
    let input = zip_of(&[
        ("[Content_Types].xml", CT_TYPES),
        ("word/document.xml", body.as_bytes()),
        ("docProps/core.xml", b"<cp:coreProperties xmlns:cp=\"cp\" xmlns:dc=\"dc\"><dc:creator>Chan Tai Man</dc:creator></cp:coreProperties>"),
    ]);
    let (sink, report) = scan_chunks(&input, &ContentHint::default(), &Limits::default(), &[]);
    let joined = sink.joined_text();
    assert!(joined.contains("HKID A123456(7)"), "{joined:?}");
    assert!(joined.contains("Chan Tai Man"), "{joined:?}");
    assert!(!joined.contains("never read"), "{joined:?}");
    let incomplete = report.incomplete.expect("incomplete");
    assert_eq!(incomplete.reason, IncompleteReason::SizeLimit);
    assert!(
        incomplete.detail.contains("longer than 1024 KiB"),
        "{}",
        incomplete.detail
    );
}

/// A cell's shared-string index read directly from its digits is what
/// trimming and parsing it as text gives.
#[test]
fn shared_string_indexes_read_as_text_parses_them() {
    let slow = |v: &[u8]| {
        std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
    };
    for v in [
        "0",
        "7",
        "12",
        "007",
        "999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999",
        "",
        " 5",
        "5 ",
        "\u{3000}5",
        "1e3",
        "-1",
        "+3",
        "٣",
        "1_000",
        "0x10",
    ] {
        assert_eq!(
            super::ooxml::shared_index(v.as_bytes()),
            slow(v.as_bytes()),
            "{v:?}"
        );
    }
}

/// Text that opens with a bracket (a log, a list of references) is read as
/// text, whole and complete: sniffed as JSON, it ended incomplete at the
/// first date and was blocked towards the mainland as unreadable.
#[test]
fn bracketed_text_is_read_as_text() {
    let limits = Limits::default();
    let log = b"[2026-11-20 10:00:00] INFO call from customer A123456(3)\n\
        [2026-11-20 10:00:01] INFO done\n"
        .to_vec();
    let (sink, report) = scan_all_ways("dated log", &log, &ContentHint::default(), &limits);
    assert_eq!(report.incomplete, None);
    assert_eq!(report.formats, Vec::<String>::new());
    assert_eq!(sink.events, vec![SinkEvent::Text(log.clone()), B]);
    // Named JSON, it is still read as JSON, and its fault said.
    let (_, report) = scan_all_ways(
        "dated log named json",
        &log,
        &hint(Some("application/json"), None, None),
        &limits,
    );
    assert!(report.incomplete.is_some());
}
