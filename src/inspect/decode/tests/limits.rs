//! Bombs, limits, garbage and arbitrary chunking: every limit ends in an
//! `Incomplete` with its reason, quickly and within bounded memory.

use proptest::prelude::*;

use super::*;

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
    // Zeros are no text: read as binary data, as far as the budget goes.
    assert_eq!(report.formats, vec!["gzip", "binary"]);
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
fn xz_lzip_and_bzip2_bombs_hit_the_ratio_limit() {
    let zeros = vec![0u8; 16 << 20];
    for (name, bomb) in [
        ("xz", xz(&zeros)),
        ("lzip", lzip(&zeros)),
        ("bzip2", bzip2(&zeros)),
    ] {
        let (sink, report) = scan_counting(&bomb, &ContentHint::default(), &Limits::default());
        assert_eq!(
            report.incomplete.map(|i| i.reason),
            Some(IncompleteReason::RatioLimit),
            "{name}"
        );
        assert_eq!(report.formats, vec![name, "binary"]);
        assert!(
            sink.text <= (2 << 20),
            "{name}: stopped near the grace size: {}",
            sink.text
        );
    }
}

/// An xz stream whose block header asks for a dictionary of `log2` bytes
/// (LZMA2's dictionary byte; 40 is 4 GiB): the header's CRC is made right,
/// so only the size stops a decoder.
fn xz_asking_for_dictionary(byte: u8) -> Vec<u8> {
    let mut x = xz(b"small");
    // Stream header (12 bytes), then the block header: its size byte, flags,
    // then the filter flags: id 0x21 (LZMA2), properties size 1, the byte.
    let header_len = (usize::from(x[12]) + 1) * 4;
    let at = (13..12 + header_len)
        .find(|&i| x[i] == 0x21 && x[i + 1] == 1)
        .unwrap()
        + 2;
    x[at] = byte;
    let mut crc = flate2::Crc::new();
    crc.update(&x[12..12 + header_len - 4]);
    x[12 + header_len - 4..12 + header_len].copy_from_slice(&crc.sum().to_le_bytes());
    x
}

#[test]
fn xz_asking_for_a_huge_dictionary_is_refused_before_allocating() {
    let (_, report) = scan_counting(
        &xz_asking_for_dictionary(40),
        &ContentHint::default(),
        &Limits::default(),
    );
    let inc = report.incomplete.unwrap();
    assert_eq!(inc.reason, IncompleteReason::SizeLimit, "{}", inc.detail);
    assert!(inc.detail.contains("memory limit"), "{}", inc.detail);
}

#[test]
fn seven_zip_and_rar_bombs_hit_the_ratio_limit_without_decoding_the_rest() {
    let zeros = vec![0u8; 32 << 20];
    let files: [(&str, &[u8]); 2] = [("zeros.txt", &zeros), ("after.txt", b"HKID A123456(7)")];
    let solid_7z = SevenZ {
        solid: true,
        ..SevenZ::default()
    };
    let solid_rar = RarHow {
        solid: true,
        ..RarHow::default()
    };
    for (name, bomb) in [
        ("7z", seven_zip(&files, solid_7z)),
        ("rar", rar(&files, solid_rar)),
    ] {
        assert!(bomb.len() < 64 << 10, "{name}: {}", bomb.len());
        let (sink, report) = scan_counting(&bomb, &ContentHint::default(), &Limits::default());
        let inc = report.incomplete.unwrap();
        assert_eq!(
            inc.reason,
            IncompleteReason::RatioLimit,
            "{name}: {}",
            inc.detail
        );
        assert!(
            sink.text <= (2 << 20),
            "{name} stopped at the cap: {}",
            sink.text
        );
    }
}

#[test]
fn a_rar_member_larger_than_the_hold_limit_is_cut_there() {
    // Held whole before it is read: a member past the hold limit is refused
    // before it is decoded, and says so.
    let big: Vec<u8> = (0..(3u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let archive = rar(
        &[("big.bin", &big)],
        RarHow {
            store: true,
            ..RarHow::default()
        },
    );
    let limits = Limits {
        max_buffer_bytes: 4 << 20,
        ..Limits::default()
    };
    let (sink, report) = scan_counting(&archive, &ContentHint::default(), &limits);
    let inc = report.incomplete.unwrap();
    assert_eq!(inc.reason, IncompleteReason::SizeLimit, "{}", inc.detail);
    assert!(inc.detail.contains("hold limit"), "{}", inc.detail);
    assert!(sink.text < (1 << 20), "{}", sink.text);
}

#[test]
fn too_many_seven_zip_or_rar_entries_hit_the_entry_limit() {
    let names: Vec<String> = (0..40).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    for (name, archive) in [
        ("7z", seven_zip(&entries, SevenZ::default())),
        ("rar", rar(&entries, RarHow::default())),
    ] {
        let (_, report) = scan_counting(&archive, &ContentHint::default(), &limits);
        assert_eq!(
            report.incomplete.map(|i| i.reason),
            Some(IncompleteReason::EntryLimit),
            "{name}"
        );
    }
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
    // The cap, and the member's name.
    assert!(
        sink.text <= (1 << 20) + 1 + "zeros.txt".len() as u64,
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
fn xlsb_whose_sheet_is_a_bomb_reports_the_ratio_not_a_cut_record() {
    // 8 MB of the same cell: the cap cuts the part inside a record.
    let cell = xcell(6, 0, &wide(&"a".repeat(1000)));
    let sheet = [xrow(0), cell.repeat(4000)].concat();
    let bomb = xlsb_of(&[("xl/worksheets/sheet1.bin", &sheet)]);
    let (sink, report) = scan_counting(&bomb, &ContentHint::default(), &Limits::default());
    assert_eq!(report.formats, vec!["xlsb"]);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::RatioLimit)
    );
    assert!(
        sink.text > 0 && sink.text <= 1 << 20,
        "cells before the cap read, none past it: {}",
        sink.text
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
    // Its name is read; its content is not.
    assert_eq!(sink.text, "secret.txt".len() as u64);
}

#[test]
fn nested_zips_hit_the_depth_limit() {
    let mut z = zip_of(&[("deepest.txt", b"A123456(7)")]);
    for i in 0..15 {
        z = zip_of(&[(&format!("layer{i}.zip"), &z)]);
    }
    let (sink, report) = scan_chunks(&z, &ContentHint::default(), &Limits::default(), &[]);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::DepthLimit)
    );
    let text = sink.joined_text();
    assert!(
        text.contains("layer14.zip"),
        "the outer names are read: {text}"
    );
    assert!(
        !text.contains("deepest"),
        "the innermost entry is never reached: {text}"
    );
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
    // Ten entries: each one's name ("f0.txt" …) and its byte.
    assert_eq!(sink.text, 10 * 6 + 10);
}

#[test]
fn pdf_with_too_many_objects_or_too_large_font_maps_hits_the_entry_limit() {
    let pdf_hint = hint(Some("application/pdf"), None, None);
    // Numbered objects, and a font that makes the file worth indexing.
    let mut many = b"%PDF-1.7\n1 0 obj << /Subtype /Type0 >> endobj\n".to_vec();
    for n in 2..300_000u32 {
        many.extend_from_slice(format!("{n} 0 obj\nnull\nendobj\n").as_bytes());
    }
    many.extend_from_slice(b"5 0 obj\n<< >>\nstream\nBT (text) Tj ET\nendstream\nendobj\n");
    let (_, report) = scan_counting(&many, &pdf_hint, &Limits::default());
    let inc = report.incomplete.expect("object limit");
    assert_eq!(inc.reason, IncompleteReason::EntryLimit, "{inc:?}");

    // A font map of 300,000 codes: past what one PDF may keep.
    let mut cmap = b"1 begincodespacerange <000000> <FFFFFF> endcodespacerange\n".to_vec();
    cmap.extend_from_slice(b"beginbfchar\n");
    for c in 0..300_000u32 {
        cmap.extend_from_slice(format!("<{c:06X}> <0041>\n").as_bytes());
    }
    cmap.extend_from_slice(b"endbfchar\n");
    let mut big = b"%PDF-1.7\n3 0 obj << /Type /Page /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >> endobj\n".to_vec();
    big.extend_from_slice(b"4 0 obj << >> stream\nBT /F1 9 Tf <000001> Tj ET\nendstream endobj\n");
    big.extend_from_slice(
        b"5 0 obj << /Subtype /Type0 /ToUnicode 6 0 R >> endobj\n6 0 obj << >> stream\n",
    );
    big.extend_from_slice(&cmap);
    big.extend_from_slice(b"\nendstream endobj\n");
    let (sink, report) = scan_counting(&big, &pdf_hint, &Limits::default());
    let inc = report.incomplete.expect("font map limit");
    assert_eq!(inc.reason, IncompleteReason::EntryLimit, "{inc:?}");
    assert!(sink.text > 0, "what fitted is still read");
}

/// Twenty thousand pages under one page-tree node, which carries their
/// resources (two thousand font names): each page inherits them, and they
/// are read once, not once a page (which took hours before).
#[test]
fn pdf_pages_sharing_resources_read_them_once() {
    let pages = 20_000u32;
    let mut pdf = b"%PDF-1.7\n1 0 obj << /Type /Font /Subtype /Type1 >> endobj\n".to_vec();
    let kids: String = (0..pages).map(|k| format!("{} 0 R ", 10 + k)).collect();
    let fonts: String = (0..2000).map(|k| format!("/F{k} 1 0 R ")).collect();
    pdf.extend_from_slice(
        format!("2 0 obj << /Type /Pages /Kids [{kids}] /Count {pages} /Resources << /Font << {fonts}>> >> >> endobj\n").as_bytes(),
    );
    pdf.extend_from_slice(
        b"4 0 obj << >> stream\nBT /F7 9 Tf (HKID A123456\\(3\\)) Tj ET\nendstream endobj\n",
    );
    for k in 0..pages {
        pdf.extend_from_slice(
            format!(
                "{} 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n",
                10 + k
            )
            .as_bytes(),
        );
    }
    let h = hint(Some("application/pdf"), None, None);
    let (sink, report) = scan_counting(&pdf, &h, &Limits::default());
    assert_eq!(report.incomplete, None);
    assert!(sink.text >= 15, "the page's text is read");
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

/// The budget is scanning time: a client that sends its body slowly (a large
/// file over a poor link) waits between chunks, and that is not the scan's time.
#[test]
fn waiting_for_a_slow_body_does_not_count_against_the_budget() {
    let limits = Limits {
        max_scan_millis: 1000,
        ..Limits::default()
    };
    let chunk = vec![b'a'; 1 << 20];
    let mut s = Scanner::new(CountingSink::default(), &limits, ContentHint::default());
    for _ in 0..3 {
        s.feed(&chunk);
        std::thread::sleep(std::time::Duration::from_millis(400));
    }
    let (sink, report) = s.finish();
    assert_eq!(report.incomplete, None);
    assert_eq!(sink.text, 3 << 20);
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

/// Pieces of PDF syntax, for soups of them.
const PDF_TOKENS: &[&str] = &[
    "%PDF-1.7\n",
    " 1 0 obj ",
    " 2 0 obj ",
    " 3 0 obj ",
    " 4 0 obj ",
    "endobj\n",
    " stream\n",
    "\nendstream ",
    "<<",
    ">>",
    "[",
    "]",
    "/Type /Page ",
    "/Type /Pages ",
    "/Type /ObjStm ",
    "/N 2 /First 8 ",
    "/Parent 2 0 R ",
    "/Kids [1 0 R] ",
    "/Resources ",
    "/Font << /F1 3 0 R >> ",
    "/Contents 4 0 R ",
    "/Contents [4 0 R 1 0 R] ",
    "/Subtype /Type0 ",
    "/Encoding /Identity-H ",
    "/Encoding /UniGB-UCS2-H ",
    "/Encoding /ETen-B5-H ",
    "/Encoding /GBK-EUC-H ",
    "/ToUnicode 4 0 R ",
    "/Filter /FlateDecode ",
    "/Filter [/ASCII85Decode /LZWDecode] ",
    "/Filter /RunLengthDecode ",
    "/Filter /ASCIIHexDecode ",
    "/Subtype /Form ",
    "/EF << /F 4 0 R >> ",
    "/UF <FEFF0061> ",
    "/Type /EmbeddedFile ",
    "/Type /Metadata ",
    "begincodespacerange ",
    "endcodespacerange ",
    "beginbfchar ",
    "endbfchar ",
    "beginbfrange ",
    "endbfrange ",
    "<0000> ",
    "<FFFF> ",
    "<00> ",
    "<D842DFB7> ",
    "(A1\\(2\\)) ",
    "BT ",
    "/F1 9 Tf ",
    "Tj ",
    "TJ ",
    "ET ",
    "<~9jqo^~> ",
    "z",
    "~>",
    "\u{80}\x00\x01",
    "0 ",
    "4294967295 ",
    "-300 ",
];

/// 7z archives (a block per file, solid, PPMd), xz, lzip and bzip2 streams
/// and a winmail.dat, written once: the encoders are slow in a debug build.
fn archive_seeds() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let files: [(&str, &[u8]); 3] = [
            ("staff.csv", b"name,hkid\nChan,A123456(7)\nLee,B765432(1)\n"),
            ("notes.txt", b"call 6612 3456 about the sick leave"),
            ("empty.txt", b""),
        ];
        let text = b"name,hkid\nChan,A123456(7)\n".repeat(20);
        vec![
            seven_zip(&files, SevenZ::default()),
            seven_zip(
                &files,
                SevenZ {
                    solid: true,
                    ..SevenZ::default()
                },
            ),
            seven_zip(
                &files,
                SevenZ {
                    ppmd: true,
                    ..SevenZ::default()
                },
            ),
            xz(&text),
            lzip(&text),
            bzip2(&text),
            rar(&files, RarHow::default()),
            rar(
                &files,
                RarHow {
                    format: rars::ArchiveVersion::Rar29,
                    solid: true,
                    ..RarHow::default()
                },
            ),
            rar(&[("staff.csv", &text)], RarHow::default()),
            tnef(&[
                tnef_att(1, 0x0001_8004, b"Staff list\0"),
                tnef_att(
                    1,
                    0x0006_9003,
                    &mapi_props(&[
                        (0x001F, 0x0037, utf16z("subject")),
                        (0x0102, 0x1013, b"<p>A123456(3)</p>".to_vec()),
                    ]),
                ),
                tnef_att(2, 0x0006_9002, &[1, 0, 0, 0]),
                tnef_att(2, 0x0006_800F, &text),
                tnef_att(
                    2,
                    0x0006_9005,
                    &mapi_props(&[(0x001F, 0x3707, utf16z("staff.csv"))]),
                ),
            ]),
        ]
    })
}

/// The case table, built once for the proptests that pick from it (building
/// it writes dozens of archives and documents).
fn shared_cases() -> &'static [Case] {
    static CASES: std::sync::OnceLock<Vec<Case>> = std::sync::OnceLock::new();
    CASES.get_or_init(cases)
}

/// Openings that settle, or look as if they settled, what a body is: magic
/// numbers, armour after spaces, shapes, pieces of formats that a later byte
/// overturns.
const OPENINGS: &[&[u8]] = &[
    b"",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"\x1f\x8b\x08\x00",
    b"PK\x03\x04",
    b"%PDF-1.7\n",
    b"\x28\xb5\x2f\xfd",
    b"\xfd7zXZ\x00",
    b"BZh91AY&SY",
    b"{\\rtf1 ",
    b"\xff\xfe",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"   -----BEGIN PGP MESSAGE-----\n",
    b"-----BEGIN AGE ENCRYPTED FILE-----\n",
    b"\x01\x00\x00\x00",
    b" EMF",
    b"1 0 obj\n<< /Length 5 /Filter /FlateDecode >>\nstream\n",
    b"\n\nendstream\nendobj\n",
    b"{\"a\": ",
    b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n",
    b"a=1&b=2",
    b"ftypisom",
    b"RIFF\x00\x00\x00\x00WEBP",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn damaged_compound_files_never_panic(
        which in 0usize..5,
        hits in prop::collection::vec((0usize..4096, any::<u8>()), 1..24),
        cut in 0usize..4096,
    ) {
        let mut seeds = vec![
            compound(&[("/Workbook", &biff_book(false))]),
            word_doc(&[("Staff: Chan\r", true), ("身份證 A123", false)], 0x0200),
            compound(&[("/PowerPoint Document", &ppt_document())]),
            compound(&[
                ("/__substg1.0_0037001F", &utf16z("Staff list")),
                ("/__attach_version1.0_#00000000/__substg1.0_37010102", b"PK\x03\x04"),
            ]),
        ];
        seeds.push(seeds[0].clone());
        let mut bad = seeds.swap_remove(which);
        for (at, b) in hits {
            let n = bad.len();
            bad[at % n] = b;
        }
        bad.truncate(cut.max(600));
        let (_, report) = scan_counting(&bad, &ContentHint::default(), &Limits::default());
        prop_assert_eq!(report.bytes, bad.len() as u64);
    }

    #[test]
    fn damaged_archives_and_streams_never_panic(
        which in 0usize..10,
        hits in prop::collection::vec((0usize..2048, any::<u8>()), 1..12),
        cut in 0usize..2048,
    ) {
        let mut bad = archive_seeds()[which].clone();
        // Keep the magic, so the damage reaches the decoder.
        for (at, b) in hits {
            let n = bad.len();
            bad[(at % n).max(6)] = b;
        }
        bad.truncate(cut.max(12));
        let (_, report) = scan_counting(&bad, &ContentHint::default(), &Limits::default());
        prop_assert_eq!(report.bytes, bad.len() as u64);
    }

    #[test]
    fn pdf_syntax_soup_never_panics(picks in prop::collection::vec(0usize..PDF_TOKENS.len(), 0..400)) {
        let mut body = b"%PDF-1.7\n".to_vec();
        for p in picks {
            body.extend_from_slice(PDF_TOKENS[p].as_bytes());
        }
        let h = hint(Some("application/pdf"), None, None);
        let (_, report) = scan_counting(&body, &h, &Limits::default());
        prop_assert_eq!(report.bytes, body.len() as u64);
    }

    #[test]
    fn any_chunking_gives_the_same_events(which in 0usize..200, cuts in prop::collection::vec(0usize..4000, 0..12)) {
        let all = shared_cases();
        let c = &all[which % all.len()];
        let mut cuts = cuts;
        cuts.sort_unstable();
        let whole = scan_chunks(&c.input, &c.hint, &Limits::default(), &[]);
        let chunked = scan_chunks(&c.input, &c.hint, &Limits::default(), &cuts);
        prop_assert_eq!(whole.0, chunked.0, "{}", c.name);
        prop_assert_eq!(whole.1, chunked.1, "{}", c.name);
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn an_early_kind_is_what_the_full_head_says(
        opening in prop::sample::select(OPENINGS.to_vec()),
        body in prop::collection::vec(prop::sample::select(b"{[\"-=&ab1 \n\r\x00\x1f\x8bPK\x03\x04%endobj".to_vec()), 0..600),
        later in prop::sample::select(OPENINGS.to_vec()),
        at in 0usize..600,
        ct in prop::sample::select(vec![None, Some("application/json"), Some("text/plain"), Some("multipart/form-data; boundary=x"), Some("application/pdf")]),
    ) {
        // An opening, bytes, and another opening further on: what a longer
        // head shows must not overturn what a shorter one settled.
        let mut body = [opening, &body[..]].concat();
        let at = at.min(body.len());
        body.splice(at..at, later.iter().copied());
        let full = &body[..body.len().min(crate::inspect::decode::SNIFF_LEN)];
        let h = hint(ct, None, None);
        for k in 0..=full.len() {
            if let Some(early) = crate::inspect::decode::early_kind(&body[..k]) {
                prop_assert_eq!(early, crate::inspect::decode::sniff(full, &h), "decided at {}", k);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The fuzz target's check (`fuzz/`), in every test run: a case damaged
    /// at a few places (a byte changed, one dropped, one put in) still gives
    /// the same events however it is split. Damage is what takes decoders
    /// down their error paths: a stream that turns corrupt, a header that
    /// is no header.
    #[test]
    fn damaged_input_gives_the_same_events_however_split(
        which in 0usize..200,
        damage in prop::collection::vec((0usize..1 << 16, 0u8..3, any::<u8>()), 1..5),
        cuts in prop::collection::vec(0.0f64..1.0, 1..8),
    ) {
        let all = shared_cases();
        let c = &all[which % all.len()];
        let mut input = c.input.clone();
        for (at, how, byte) in damage {
            let at = at % (input.len() + 1);
            match how {
                0 if at < input.len() => input[at] ^= byte | 1,
                1 if at < input.len() => {
                    input.remove(at);
                }
                _ => input.insert(at, byte),
            }
        }
        // Cuts anywhere in the damaged input, however short it is.
        let mut cuts: Vec<usize> = cuts.iter().map(|f| (f * input.len() as f64) as usize).collect();
        cuts.sort_unstable();
        let whole = scan_chunks(&input, &c.hint, &Limits::default(), &[]);
        let chunked = scan_chunks(&input, &c.hint, &Limits::default(), &cuts);
        prop_assert_eq!(whole.0, chunked.0, "{} damaged", c.name);
        prop_assert_eq!(whole.1, chunked.1, "{} damaged", c.name);
    }
}

/// Limits as tight as the fuzzer's: a ratio of 8:1 past 1 KiB, so that small
/// bodies reach it.
fn tight_limits() -> Limits {
    Limits {
        max_body_bytes: 8 << 10,
        max_decompressed_bytes: 16 << 10,
        max_ratio: 8,
        ratio_grace_bytes: 1 << 10,
        ..Limits::default()
    }
}

/// Where a gzip, zlib or bzip2 stream is checked against the ratio and the
/// decompressed budget must not depend on how the body arrived: a stream
/// whose first bytes expand far (a run of one letter) before text that does
/// not, and a stream that meets a fault after its text, read the same
/// whole, split anywhere, and in chunks of every size a client sends. (The
/// fuzzer found the second: whole, the step that met the fault counted none
/// of its input, so its text tripped the ratio and was dropped.)
#[test]
fn compressed_streams_meet_the_limits_at_the_same_place_however_split() {
    let tight = tight_limits();
    let noise = crate::testutil::noise(9, 3000);
    let hex: String = noise.iter().map(|b| format!("{b:02x}")).collect();
    let text = format!(
        "Subject: staff\n{}\nHKID A123456(3), mail chan.tai.man@example.com\n{hex}\n",
        "a".repeat(6000)
    );
    let packed = gzip(text.as_bytes());
    // A byte of the stream's second half flipped: inflate meets a fault
    // after the text above it has come out.
    let mut corrupt = packed.clone();
    let at = corrupt.len() * 3 / 4;
    corrupt[at] ^= 0x55;
    let cases: [(&str, &[u8], Option<&str>); 4] = [
        ("gzip, far then near", &packed, Some("gzip")),
        ("gzip with a fault", &corrupt, Some("gzip")),
        (
            "zlib, far then near",
            &zlib(text.as_bytes()),
            Some("deflate"),
        ),
        ("gzip file with a fault", &corrupt, None),
    ];
    for (name, body, ce) in cases {
        let h = hint(ce.is_none().then_some("application/gzip"), ce, None);
        let whole = scan_chunks(body, &h, &tight, &[]);
        for size in (1..=64).chain([100, 512, 1000, 4096]) {
            let cuts: Vec<usize> = (size..body.len()).step_by(size).collect();
            let split = scan_chunks(body, &h, &tight, &cuts);
            assert_eq!(
                split.1, whole.1,
                "{name}: report differs in {size}-byte chunks"
            );
            assert_eq!(
                split.0, whole.0,
                "{name}: events differ in {size}-byte chunks"
            );
        }
        let reason = whole.1.incomplete.as_ref().map(|i| i.reason);
        if name.contains("fault") {
            // Read up to the fault, and what was read is kept.
            assert_eq!(
                reason,
                Some(IncompleteReason::Malformed),
                "{name}: {:?}",
                whole.1
            );
            let seen = whole.0.joined_text();
            assert!(seen.contains("A123456(3)"), "{name}: {seen:.200}");
        }
    }
}

/// The fuzzer's case (`tests/fixtures/fuzz/`): a gzip body whose deflate
/// stream breaks after an HKID and an e-mail address. Whole, the step that
/// met the fault made its text from none of the input counted, tripped the
/// ratio and dropped it; in 61-byte chunks it was read. Now both read it and
/// report the fault.
#[test]
fn the_text_before_a_gzip_fault_is_read_however_the_body_arrives() {
    let body = include_bytes!("../../../../tests/fixtures/fuzz/gzip-fault-after-text.gz");
    let tight = tight_limits();
    let h = hint(Some("application/gzip"), None, Some("a.eml"));
    let (sink, report) = scan_all_ways("gzip fault after text", body, &h, &tight);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::Malformed)
    );
    let text = sink.joined_text();
    assert!(text.contains("@example.com"), "{text:.300}");
}
