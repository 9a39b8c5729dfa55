//! End-to-end cases for the decoders through the `Scanner`: real inputs built
//! here (zip, flate2, brotli, zstd, hand-made multipart and PDF), each run at
//! every split point and byte by byte, which must all give the same events.

use std::io::Write;

use proptest::prelude::*;

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

/// Scans whole, at every single split point, and byte by byte; all must agree.
fn scan_all_ways(
    name: &str,
    input: &[u8],
    hint: &ContentHint,
    limits: &Limits,
) -> (RecordingSink, ScanReport) {
    let whole = scan_chunks(input, hint, limits, &[]);
    for i in 0..=input.len() {
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

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
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
            name: "invalid utf-8 passes through untouched",
            input: b"ab\xff\xfe\xc3(cd".to_vec(),
            events: Some(vec![t("ab"), B]).map(|_| vec![SinkEvent::Text(b"ab\xff\xfe\xc3(cd".to_vec()), B]),
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
            name: "gzip file sniffed by magic",
            input: gzip(b"name,hkid\nChan,A123456(7)\n"),
            hint: hint(None, None, Some("list.csv.gz")),
            contains: vec!["A123456(7)"],
            formats: vec!["gzip"],
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
            name: "png skipped by magic",
            input: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR A123456(7) not looked at".to_vec(),
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

/// Counts what reaches the sink without keeping it: for bombs.
#[derive(Default)]
struct CountingSink {
    text: u64,
    events: u64,
}

impl crate::inspect::sink::TextSink for CountingSink {
    fn field(&mut self, _: &[u8]) {
        self.events += 1;
    }
    fn text(&mut self, b: &[u8]) {
        self.text += b.len() as u64;
    }
    fn boundary(&mut self) {
        self.events += 1;
    }
}

fn scan_counting(input: &[u8], hint: &ContentHint, limits: &Limits) -> (CountingSink, ScanReport) {
    let mut s = Scanner::new(CountingSink::default(), limits, hint.clone());
    for chunk in input.chunks(64 << 10) {
        s.feed(chunk);
    }
    s.finish()
}

/// A gzip member that inflates to `mib` MiB of zeros, built from repeated
/// sync-flushed deflate segments so the test never holds the expanded data.
fn gzip_zeros(mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    let mut seg = |flush| {
        let mut out = Vec::with_capacity(64 << 10);
        c.compress_vec(&zeros, &mut out, flush).unwrap();
        out
    };
    let first = seg(FlushCompress::Sync);
    let repeat = seg(FlushCompress::Sync);
    let mut out = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff".to_vec();
    out.extend_from_slice(&first);
    for _ in 1..mib {
        out.extend_from_slice(&repeat);
    }
    let mut fin = Vec::with_capacity(64);
    c.compress_vec(&[], &mut fin, FlushCompress::Finish)
        .unwrap();
    out.extend_from_slice(&fin);
    // The trailer is never reached: the limits stop the scan first.
    out.extend_from_slice(&[0; 8]);
    out
}

#[test]
fn gzip_of_a_gibibyte_of_zeros_hits_the_ratio_limit() {
    let bomb = gzip_zeros(1024);
    assert!(
        bomb.len() < 2 << 20,
        "the bomb itself stays small: {}",
        bomb.len()
    );
    let limits = Limits::default();
    let (sink, report) = scan_counting(&bomb, &hint(None, Some("gzip"), None), &limits);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::RatioLimit)
    );
    assert!(
        sink.text <= limits.ratio_grace_bytes + (64 << 10),
        "stopped early: {}",
        sink.text
    );
}

#[test]
fn gzip_bomb_without_ratio_limit_hits_the_size_limit() {
    let bomb = gzip_zeros(1024);
    let limits = Limits {
        max_ratio: u64::MAX,
        max_decompressed_bytes: 16 << 20,
        ..Limits::default()
    };
    let (sink, report) = scan_counting(&bomb, &ContentHint::default(), &limits);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::SizeLimit)
    );
    assert!(
        sink.text <= 16 << 20,
        "stopped at the budget: {}",
        sink.text
    );
    assert_eq!(report.formats, vec!["gzip"]);
}

#[test]
fn zstd_bomb_hits_the_ratio_limit() {
    let bomb = zstd(&vec![0u8; 16 << 20]);
    let (_, report) = scan_counting(&bomb, &hint(None, Some("zstd"), None), &Limits::default());
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::RatioLimit)
    );
}

#[test]
fn zip_entry_bomb_hits_the_ratio_limit() {
    let zeros = vec![0u8; 8 << 20];
    let bomb = zip_of(&[("zeros.txt", &zeros)]);
    let (sink, report) = scan_counting(&bomb, &ContentHint::default(), &Limits::default());
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::RatioLimit)
    );
    assert!(
        sink.text <= (1 << 20) + 1,
        "entry read stopped at the cap: {}",
        sink.text
    );
}

#[test]
fn docx_whose_text_is_a_bomb_reports_the_ratio_not_bad_xml() {
    let mut xml = br#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>"#.to_vec();
    xml.resize(xml.len() + (4 << 20), b'a');
    xml.extend_from_slice(b"</w:t></w:r></w:p></w:body></w:document>");
    let bomb = zip_of(&[("word/document.xml", &xml)]);
    let (_, report) = scan_counting(&bomb, &ContentHint::default(), &Limits::default());
    assert_eq!(report.formats, vec!["docx"]);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::RatioLimit)
    );
}

#[test]
fn encrypted_zip_entry_is_reported() {
    let mut z = zip_of(&[("secret.txt", b"A123456(7)")]);
    // Set the "encrypted" flag in the local and the central header.
    for (sig, off) in [(b"PK\x03\x04", 6usize), (b"PK\x01\x02", 8)] {
        let at = memchr::memmem::find(&z, sig).unwrap();
        z[at + off] |= 1;
    }
    let (sink, report) = scan_counting(&z, &ContentHint::default(), &Limits::default());
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::Encrypted)
    );
    assert_eq!(sink.text, 0);
}

#[test]
fn nested_zips_hit_the_depth_limit() {
    let mut z = zip_of(&[("deepest.txt", b"A123456(7)")]);
    for i in 0..15 {
        z = zip_of(&[(&format!("layer{i}.zip"), &z)]);
    }
    let (sink, report) = scan_counting(&z, &ContentHint::default(), &Limits::default());
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::DepthLimit)
    );
    assert_eq!(sink.text, 0, "the innermost text is never reached");
}

#[test]
fn too_many_zip_entries_hit_the_entry_limit() {
    let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    let (sink, report) = scan_counting(&zip_of(&entries), &ContentHint::default(), &limits);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::EntryLimit)
    );
    assert_eq!(sink.text, 10);
}

#[test]
fn too_many_multipart_parts_hit_the_entry_limit() {
    let parts: Vec<Part<'_>> = (0..20).map(|_| ("f", None, &b"v"[..])).collect();
    let body = multipart("bnd", &parts);
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    let (_, report) = scan_counting(&body, &ContentHint::default(), &limits);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::EntryLimit)
    );
}

#[test]
fn body_past_the_size_limit_is_cut_and_reported() {
    let body = vec![b'a'; 1000];
    let limits = Limits {
        max_body_bytes: 100,
        ..Limits::default()
    };
    let (sink, report) = scan_all_ways("size", &body, &ContentHint::default(), &limits);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::SizeLimit)
    );
    assert_eq!(report.bytes, 1000);
    assert_eq!(sink.joined_text().trim_end().len(), 100);
}

#[test]
fn zip_past_the_hold_limit_is_reported() {
    let z = zip_of(&[("a.txt", &[7u8; 4096][..])]);
    let limits = Limits {
        max_buffer_bytes: 100,
        ..Limits::default()
    };
    let (_, report) = scan_counting(&z, &ContentHint::default(), &limits);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::SizeLimit)
    );
}

#[test]
fn deep_json_hits_the_nesting_limit_without_recursion() {
    let mut body = vec![b'['; 100_000];
    body.extend_from_slice(b"\"A123456(7)\"");
    let (sink, report) = scan_counting(&body, &ContentHint::default(), &Limits::default());
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::DepthLimit)
    );
    assert!(sink.text > 0, "the rest is still scanned as text");
}

#[test]
fn scan_past_its_time_budget_is_reported() {
    let body = vec![b'a'; 3 << 20];
    let limits = Limits {
        max_scan_millis: 0,
        ..Limits::default()
    };
    let (_, report) = scan_counting(&body, &ContentHint::default(), &limits);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::TimeLimit)
    );
}

#[test]
fn garbage_never_panics() {
    let mut seeds: Vec<Vec<u8>> = cases().into_iter().map(|c| c.input).collect();
    seeds.push(gzip_zeros(2));
    for seed in seeds {
        for n in [1usize, 7, 64, 300] {
            // Corrupt every n-th byte, and also truncate: no panic, ever.
            let mut bad = seed.clone();
            for b in bad.iter_mut().step_by(n) {
                *b = b.wrapping_mul(31).wrapping_add(7);
            }
            for h in [
                ContentHint::default(),
                hint(Some("multipart/form-data; boundary=x"), Some("gzip"), None),
            ] {
                scan_counting(&bad, &h, &Limits::default());
                scan_counting(&bad[..bad.len() / 2], &h, &Limits::default());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_chunking_gives_the_same_events(which in 0usize..30, cuts in prop::collection::vec(0usize..4000, 0..12)) {
        let all = cases();
        let c = &all[which % all.len()];
        let mut cuts = cuts;
        cuts.sort_unstable();
        let whole = scan_chunks(&c.input, &c.hint, &Limits::default(), &[]);
        let chunked = scan_chunks(&c.input, &c.hint, &Limits::default(), &cuts);
        prop_assert_eq!(whole.0, chunked.0, "{}", c.name);
        prop_assert_eq!(whole.1, chunked.1, "{}", c.name);
    }

    #[test]
    fn a_conclusive_head_decides_like_the_full_head(body in prop::collection::vec(prop::sample::select(b"{[\"-=&ab1 \n\r\x1fPK\x03\x04%".to_vec()), 0..600), k in 0usize..600) {
        let k = k.min(body.len());
        let h = ContentHint::default();
        if super::conclusive(&body[..k], &h) {
            let full = &body[..body.len().min(super::SNIFF_LEN)];
            prop_assert_eq!(super::sniff(&body[..k], &h), super::sniff(full, &h));
        }
    }
}
