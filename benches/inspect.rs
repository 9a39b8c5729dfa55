//! Inspection throughput on corpora generated here (deterministic, no files):
//! JSON chat messages (English + Chinese), dense Chinese text, a CSV customer
//! list (as raw text and cell by cell), binary-ish bytes, and the validators'
//! worst cases (all digits; digit groups that chain). Group `inspect` drives the
//! detectors (`TextScan`) directly; group `engine` runs the full `Engine`
//! (decoders + detectors) with the content type a client would send. The
//! `engine/*` numbers are the ones the README quotes; `engine/chat_bodies` is
//! the mixed JSON corpus one message per body, as the proxy sees chat sends;
//! `engine/binary` is random bytes of no format; `engine/xlsx` is the CSV's
//! customer list as Excel saves it (throughput in the XML's bytes).
//!
//! `cargo bench --bench inspect -- --warm-up-time 1 --measurement-time 3`

use std::io::Write;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sluice::inspect::{ContentHint, Detectors, Engine, Findings, TextScan, TextSink};

const SIZE: usize = 4 << 20;

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/drive.rs"]
mod drive;
use corpus::{chinese, jpeg, message, mixed_json, png, Rng};
use drive::{engine_scan, scan_text};

const NAMES: &[&str] = &[
    "陳大文",
    "Wong Siu Ming",
    "李小红",
    "Maria Santos",
    "黃美玲",
    "João Costa",
];
const CITIES: &[&str] = &["澳門", "氹仔", "Hong Kong", "珠海", "Lisboa"];

fn csv_rows(rng: &mut Rng) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "姓名".into(),
        "電話".into(),
        "email".into(),
        "城市".into(),
        "金額".into(),
    ]];
    let mut size = 0;
    while size < SIZE {
        let row = vec![
            rng.pick(NAMES).to_string(),
            format!("6{:03} {:04}", rng.below(1000), rng.below(10_000)),
            format!("user{}@example.com", rng.below(100_000)),
            rng.pick(CITIES).to_string(),
            format!("{}.{:02}", rng.below(100_000), rng.below(100)),
        ];
        size += row.iter().map(|c| c.len() + 1).sum::<usize>();
        rows.push(row);
    }
    rows
}

/// The rows as a CSV file, one line each.
fn csv_file(rows: &[Vec<String>]) -> Vec<u8> {
    rows.iter()
        .flat_map(|r| {
            let mut line = r.join(",").into_bytes();
            line.push(b'\n');
            line
        })
        .collect()
}

fn binary(rng: &mut Rng) -> Vec<u8> {
    (0..SIZE / 8)
        .flat_map(|_| rng.next().to_le_bytes())
        .collect()
}

fn digits(rng: &mut Rng) -> Vec<u8> {
    (0..SIZE).map(|_| b'0' + rng.below(10) as u8).collect()
}

/// Digit groups of identifier-like lengths, single-spaced so they chain: every
/// group is validated in several combinations.
fn digit_groups(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(SIZE + 32);
    while out.len() < SIZE {
        for _ in 0..[4, 8, 11, 16, 18][rng.below(5)] {
            out.push(b'0' + rng.below(10) as u8);
        }
        out.push(if rng.below(10) == 0 { b'\n' } else { b' ' });
    }
    out
}

fn bench(c: &mut Criterion) {
    let det = Arc::new(Detectors::shipped());
    let mut scan = TextScan::new(Arc::clone(&det));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let rows = csv_rows(&mut rng);
    let csv_text = csv_file(&rows);
    let corpora: Vec<(&str, Vec<u8>)> = vec![
        ("mixed_json", mixed_json(&mut rng, SIZE)),
        ("chinese", chinese(&mut rng, SIZE)),
        ("csv", csv_text.clone()),
        ("binary", binary(&mut rng)),
        ("digits", digits(&mut rng)),
        ("digit_groups", digit_groups(&mut rng)),
    ];
    for (name, data) in &corpora {
        let f = scan_text(&mut scan, data);
        eprintln!(
            "inspect/{name}: {} bytes, classes {:?}",
            data.len(),
            f.classes
        );
        let mut g = c.benchmark_group("inspect");
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.sample_size(10);
        g.bench_function(*name, |b| b.iter(|| scan_text(&mut scan, data)));
        g.finish();
    }
    // The CSV as a decoder would deliver it: a field (its column header) and a
    // boundary per cell.
    let header = rows.first().cloned().unwrap_or_default();
    let mut g = c.benchmark_group("inspect");
    g.throughput(Throughput::Bytes(csv_text.len() as u64));
    g.sample_size(10);
    g.bench_function("csv_cells", |b| {
        b.iter(|| {
            scan.reset();
            for row in rows.iter().skip(1) {
                for (h, cell) in header.iter().zip(row) {
                    scan.field(h.as_bytes());
                    scan.text(cell.as_bytes());
                    scan.boundary();
                }
            }
            let mut f = Findings::default();
            scan.finish_into(&mut f);
            f
        })
    });
    g.finish();
}

/// A DOCX whose `word/document.xml` holds about `SIZE` bytes of paragraphs
/// (English, Chinese, the odd identifier), split into runs as Word does.
/// Returns the file and the size of the XML inside it.
fn docx(rng: &mut Rng) -> (Vec<u8>, usize) {
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#,
    );
    while body.len() < SIZE {
        let p = message(rng, 4);
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
    let file = office_zip(&[("word/document.xml", body.as_bytes())]);
    (file, body.len())
}

/// An Office file: its content types and relationships (empty: the engine
/// goes by part names), then `parts`, deflated as Office writes them.
fn office_zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let types = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let head: [(&str, &[u8]); 2] = [
        ("[Content_Types].xml", types.as_slice()),
        ("_rels/.rels", b"<Relationships/>".as_slice()),
    ];
    for &(name, data) in head.iter().chain(parts) {
        w.start_file(name, opts).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// The customer list as Excel saves it: every text cell a shared string
/// (names, cities, phones and e-mails, each written once and referred to by
/// index), the amounts as numbers. Returns the file and the size of the XML
/// inside it (shared strings and sheet), which is what the engine reads.
fn xlsx(rows: &[Vec<String>]) -> (Vec<u8>, usize) {
    use std::collections::HashMap;
    let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;");
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut strings: Vec<&str> = Vec::new();
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{}", char::from(b'A' + c as u8), r + 1);
            if r > 0 && c == 4 {
                sheet.push_str(&format!(r#"<c r="{at}"><v>{cell}</v></c>"#));
                continue;
            }
            let next = strings.len();
            let k = *index.entry(cell.as_str()).or_insert(next);
            if k == next {
                strings.push(cell);
            }
            sheet.push_str(&format!(r#"<c r="{at}" t="s"><v>{k}</v></c>"#));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let mut shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{}">"#,
        strings.len()
    );
    for t in &strings {
        shared.push_str(&format!("<si><t>{}</t></si>", esc(t)));
    }
    shared.push_str("</sst>");
    let file = office_zip(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/sharedStrings.xml", shared.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ]);
    (file, shared.len() + sheet.len())
}

/// The full engine, as the proxy runs it. Throughput is body bytes, except
/// for the DOCX, where it is the bytes of XML inside (what is actually scanned).
fn bench_engine(c: &mut Criterion) {
    let e = Engine::shipped();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let rows = csv_rows(&mut rng);
    let csv_text = csv_file(&rows);
    let (docx_file, docx_xml) = docx(&mut rng);
    let (xlsx_file, xlsx_xml) = xlsx(&rows);
    let media = png(&binary(&mut rng), 8 << 10);
    let corpora: Vec<(&str, &str, Vec<u8>, usize)> = vec![
        (
            "mixed_json",
            "application/json",
            mixed_json(&mut rng, SIZE),
            0,
        ),
        (
            "chinese",
            "text/plain; charset=utf-8",
            chinese(&mut rng, SIZE),
            0,
        ),
        ("csv", "text/csv", csv_text, 0),
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx_file,
            docx_xml,
        ),
        ("media", "application/octet-stream", media, 0),
        // A photo: its coded data is searched for the next marker.
        ("media_jpeg", "image/jpeg", jpeg(&binary(&mut rng)), 0),
        // Random bytes of no format: scanned as bytes, searched for UTF-16
        // strings, and found as random as encrypted data (incomplete).
        ("binary", "application/octet-stream", binary(&mut rng), 0),
        // Audio whose end no framing tells: every byte looked at for text
        // hidden in it (its own generator: the corpora after stay as they were).
        (
            "media_ogg",
            "audio/ogg",
            [b"OggS\0\x02".as_slice(), &binary(&mut Rng(0x0667_5300))].concat(),
            0,
        ),
        // The customer list as a workbook (built from the CSV's rows).
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx_file,
            xlsx_xml,
        ),
    ];
    for (name, ct, data, inner) in &corpora {
        let hint = ContentHint::content_type(ct);
        let f = engine_scan(&e, &hint, data);
        eprintln!(
            "engine/{name}: {} bytes, formats {:?}, media {:?}, incomplete {:?}, classes {:?}",
            data.len(),
            f.formats,
            f.skipped_media,
            f.incomplete,
            f.classes
        );
        let bytes = if *inner > 0 { *inner } else { data.len() };
        let mut g = c.benchmark_group("engine");
        g.throughput(Throughput::Bytes(bytes as u64));
        g.sample_size(10);
        g.bench_function(*name, |b| b.iter(|| engine_scan(&e, &hint, data)));
        g.finish();
    }

    // What a proxied chat message costs: each one its own body, as each
    // DingTalk send is its own request (setup and finish per body included).
    let json = ContentHint::content_type("application/json");
    let messages: Vec<Vec<u8>> = mixed_json(&mut rng, 256 << 10)
        .split(|&b| b == b'\n')
        .filter(|m| !m.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let total: usize = messages.iter().map(Vec::len).sum();
    eprintln!(
        "engine/chat_bodies: {} bodies, {total} bytes",
        messages.len()
    );
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Bytes(total as u64));
    g.sample_size(10);
    g.bench_function("chat_bodies", |b| {
        b.iter(|| {
            messages
                .iter()
                .map(|m| engine_scan(&e, &json, m).classes.len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_engine);
criterion_main!(benches);
