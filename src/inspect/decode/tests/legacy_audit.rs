//! The legacy-Office places an audit found text dropped without a word: RTF's
//! starred destinations that hold what a person wrote, compound files'
//! property sets and embedded documents, and Excel 97's headers, footers,
//! comments, links and drop-down lists.

use super::*;

fn scan(name: &str, input: &[u8]) -> (RecordingSink, ScanReport) {
    scan_all_ways(name, input, &hint(None, None, None), &Limits::default())
}

// ---------------------------------------------------------------- RTF ----

#[test]
fn rtf_word_comment_is_read_apart_from_the_body() {
    // As Word writes a comment: initials, author, then the comment itself
    // after the commented text.
    let input = br"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Calibri;}}\pard Please check{\*\atrfstart 1} this{\*\atrfend 1}{\*\atnid CTM}{\*\atnauthor Chan Tai Man}\chatn{\*\annotation{\*\atnref 1}\pard\plain {\field{\*\fldinst {PAGE }}{\fldrslt }}HKID A123456(3)}\par}";
    let (sink, report) = scan("rtf comment", input);
    let joined = sink.joined_text();
    assert_has(
        "rtf comment",
        &joined,
        &["Please check this", "Chan Tai Man", "\nHKID A123456(3)\n"],
    );
    assert_lacks("rtf comment", &joined, &["CTM", "PAGE"]);
    assert_eq!(report.formats, vec!["rtf"]);
    assert_eq!(report.incomplete, None);
}

#[test]
fn rtf_starred_footnote_is_read() {
    // LibreOffice writes footnotes as a starred destination.
    let input = br"{\rtf1\ansi Staff list{\super \chftn}{\*\footnote \chftn\pard\plain \'b9\'71 Tel 6612 3456}\par}";
    let (sink, _) = scan("rtf footnote", input);
    assert_has("rtf footnote", &sink.joined_text(), &["Tel 6612 3456"]);
}

#[test]
fn rtf_text_box_is_read_once() {
    // Word writes a text box twice: in the shape's instructions (`\shptxt`)
    // and in a fallback for older readers (`\shprslt` / `\dptxbxtext`).
    let input = br"{\rtf1\ansi Body{\shp{\*\shpinst\shpleft0\shptop0{\sp{\sn shapeType}{\sv 202}}{\sp{\sn fillColor}{\sv 16777215}}{\shptxt \pard\plain Passport E12345678\par}}{\shprslt{\*\do\dobxcolumn\dobypara\dptxbx{\dptxbxtext\pard\plain Passport E12345678\par}}}}\par After}";
    let (sink, _) = scan("rtf text box", input);
    let joined = sink.joined_text();
    assert_has(
        "rtf text box",
        &joined,
        &["Body", "Passport E12345678", "After"],
    );
    assert_eq!(
        joined.matches("E12345678").count(),
        1,
        "one text box counts once: {joined:?}"
    );
    assert_lacks("rtf text box", &joined, &["shapeType", "16777215", "202"]);
}

#[test]
fn rtf_grouped_text_boxes_are_read_once() {
    // A group of shapes: each text box in its own `\shp`, one fallback for
    // the whole group.
    let input = br"{\rtf1\ansi {\shpgrp{\*\shpinst{\sp{\sn groupLeft}{\sv 0}}{\shp{\*\shpinst{\shptxt \pard First box A123456(3)\par}}}{\shp{\*\shpinst{\shptxt \pard Second box 6612 3456\par}}}}{\shprslt{\*\do\dobxcolumn\dpgroup\dpcount2{\*\do\dptxbx{\dptxbxtext\pard First box A123456(3)\par}}{\*\do\dptxbx{\dptxbxtext\pard Second box 6612 3456\par}}\dpendgroup}}}\par}";
    let (sink, _) = scan("rtf grouped text boxes", input);
    let joined = sink.joined_text();
    assert_eq!(joined.matches("A123456(3)").count(), 1, "{joined:?}");
    assert_eq!(joined.matches("6612 3456").count(), 1, "{joined:?}");
}

#[test]
fn rtf_old_text_box_without_shape_is_read() {
    // Word 6 and some converters write only the drawing object.
    let input = br"{\rtf1\ansi Body {\*\do\dobxcolumn\dptxbx{\dptxbxtext\pard \u38651?\u35441? 9123 4567\par}}\par}";
    let (sink, _) = scan("rtf do text box", input);
    assert_has("rtf do text box", &sink.joined_text(), &["電話 9123 4567"]);
}

#[test]
fn rtf_dropdown_entries_are_read() {
    let input = br"{\rtf1\ansi Ward: {\field{\*\fldinst { FORMDROPDOWN }{\*\datafield 0123abcd}{\*\formfield{\fftype2\ffres25{\*\ffname Dropdown1}{\*\ffl Oncology}{\*\ffl HIV clinic}}}}{\fldrslt }}\par}";
    let (sink, _) = scan("rtf dropdown", input);
    let joined = sink.joined_text();
    assert_has("rtf dropdown", &joined, &["\nOncology\n", "\nHIV clinic\n"]);
    assert_lacks(
        "rtf dropdown",
        &joined,
        &["Dropdown1", "FORMDROPDOWN", "0123abcd"],
    );
}

#[test]
fn rtf_starred_document_properties_are_read() {
    let input = br"{\rtf1\ansi\ansicpg950{\info{\title Roster}{\*\company \'b3\'af\'a4\'f3\'a6\'b3\'ad\'ad\'a4\'bd\'a5\'71}{\*\manager Chan Tai Man}{\keywords HKID}{\*\userprops {\propname Client}\proptype30{\staticval 6612 3456}}}\pard Body\par}";
    let (sink, _) = scan("rtf properties", input);
    assert_has(
        "rtf properties",
        &sink.joined_text(),
        &[
            "Roster",
            "陳氏有限公司",
            "Chan Tai Man",
            "HKID",
            "6612 3456",
            "Body",
        ],
    );
}

#[test]
fn rtf_unicode_escape_in_a_skipped_table_drops_nothing_after() {
    // Word's list table writes each bullet as `\u-3913 ?`: the fallback `?`
    // is in the skipped table, not the first letter of the text.
    let input = br"{\rtf1\ansi\uc1{\*\listtable{\list{\listlevel{\leveltext \'01\u-3913 ?;}}}}\pard A123456(3)\par}";
    let (sink, _) = scan("rtf list bullet", input);
    assert_has("rtf list bullet", &sink.joined_text(), &["A123456(3)"]);
}

#[test]
fn rtf_ignorable_destinations_stay_skipped() {
    let input = br#"{\rtf1\ansi{\fonttbl{\f0\fswiss{\*\panose 020b0604020202020204}FontSecret;}}{\colortbl;\red1\green2\blue3;}{\stylesheet{\s0 StyleSecret;}}{\*\latentstyles\lsdstimax376{\lsdlockedexcept \lsdpriority0 LatentSecret;}}{\*\listtable{\list{\listlevel{\leveltext \'01\u-3913 ?;}}{\listname ListSecret;}}}{\*\rsidtbl \rsid123}{\*\generator GeneratorSecret;}{\*\xmlnstbl {\xmlns1 XmlnsSecret}}{\*\themedata 5468656d65536563726574}{\*\colorschememapping 3c3f786d6c}{\*\datastore 0105000002}{\*\pgdsctbl{\pgdsc0{\*\pgdscnxt0 PageSecret;}}}\pard Visible{\*\bkmkstart BookmarkSecret}{\*\bkmkend BookmarkSecret} {\field{\*\fldinst HYPERLINK "http://instruction.example/"}{\fldrslt Link text}}{\*\unknowndestination UnknownSecret}{\annotation{\stylesheet{\*\annotation HardSecret}}}\par}"#;
    let (sink, _) = scan("rtf ignorable", input);
    let joined = sink.joined_text();
    assert_has("rtf ignorable", &joined, &["Visible", "Link text"]);
    assert_lacks("rtf ignorable", &joined, &["Secret", "instruction"]);
}

// ------------------------------------------------------ compound files ----

/// The FMTIDs of the three property-set sections Office writes, as stored.
const FMTID_SUMMARY: [u8; 16] = [
    0xE0, 0x85, 0x9F, 0xF2, 0xF9, 0x4F, 0x68, 0x10, 0xAB, 0x91, 0x08, 0x00, 0x2B, 0x27, 0xB3, 0xD9,
];
const FMTID_DOC_SUMMARY: [u8; 16] = [
    0x02, 0xD5, 0xCD, 0xD5, 0x9C, 0x2E, 0x1B, 0x10, 0x93, 0x97, 0x08, 0x00, 0x2B, 0x2C, 0xF9, 0xAE,
];
const FMTID_USER: [u8; 16] = [
    0x05, 0xD5, 0xCD, 0xD5, 0x9C, 0x2E, 0x1B, 0x10, 0x93, 0x97, 0x08, 0x00, 0x2B, 0x2C, 0xF9, 0xAE,
];

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// A VT_I2 value (the code page property).
fn vt_i2(v: u16) -> Vec<u8> {
    [&[2u8, 0, 0, 0][..], &v.to_le_bytes(), &[0, 0]].concat()
}

/// A VT_I4 value.
fn vt_i4(v: i32) -> Vec<u8> {
    [&[3u8, 0, 0, 0][..], &v.to_le_bytes()].concat()
}

/// A VT_LPSTR value: its bytes (already in the section's code page), NUL
/// ended, padded.
fn vt_lpstr(bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![0x1E, 0, 0, 0];
    v.extend_from_slice(&(bytes.len() as u32 + 1).to_le_bytes());
    v.extend_from_slice(bytes);
    v.push(0);
    pad4(&mut v);
    v
}

/// A VT_LPWSTR value: UTF-16, its length in characters.
fn vt_lpwstr(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
    let mut v = vec![0x1F, 0, 0, 0];
    v.extend_from_slice(&(units.len() as u32).to_le_bytes());
    v.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    pad4(&mut v);
    v
}

/// A VT_VECTOR | VT_LPSTR value (DocumentSummaryInformation's titles of parts).
fn vt_lpstr_vector(items: &[&[u8]]) -> Vec<u8> {
    let mut v = vec![0x1E, 0x10, 0, 0];
    v.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for item in items {
        v.extend_from_slice(&vt_lpstr(item)[4..]);
    }
    v
}

/// The custom section's names (property 0, no type), 8-bit.
fn dictionary(names: &[(u32, &str)]) -> Vec<u8> {
    let mut v = (names.len() as u32).to_le_bytes().to_vec();
    for (id, name) in names {
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
        v.extend_from_slice(name.as_bytes());
        v.push(0);
    }
    pad4(&mut v);
    v
}

/// A section: its FMTID and (property id, typed value) pairs.
type Section = ([u8; 16], Vec<(u32, Vec<u8>)>);

/// A property-set stream ([MS-OLEPS]): the header, then each section's
/// size, property count, (id, offset) table and values.
fn property_set(sections: &[Section]) -> Vec<u8> {
    let mut bodies = Vec::new();
    for (_, props) in sections {
        let mut table = Vec::new();
        let mut values = Vec::new();
        let head = 8 + 8 * props.len();
        for (id, value) in props {
            table.extend_from_slice(&id.to_le_bytes());
            table.extend_from_slice(&((head + values.len()) as u32).to_le_bytes());
            values.extend_from_slice(value);
        }
        let mut body = ((head + values.len()) as u32).to_le_bytes().to_vec();
        body.extend_from_slice(&(props.len() as u32).to_le_bytes());
        body.extend(table);
        body.extend(values);
        bodies.push(body);
    }
    let mut out = vec![0xFE, 0xFF, 0, 0, 0x06, 0x00, 0x02, 0x00];
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    let mut at = 28 + 20 * sections.len();
    for ((fmtid, _), body) in sections.iter().zip(&bodies) {
        out.extend_from_slice(fmtid);
        out.extend_from_slice(&(at as u32).to_le_bytes());
        at += body.len();
    }
    for body in bodies {
        out.extend(body);
    }
    out
}

/// The streams of a compound file, to rebuild it with more.
fn streams_of(file: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut c = cfb::CompoundFile::open(std::io::Cursor::new(file)).unwrap();
    let paths: Vec<_> = c
        .walk()
        .filter(|e| e.is_stream())
        .map(|e| e.path().to_path_buf())
        .collect();
    paths
        .into_iter()
        .map(|p| {
            let mut data = Vec::new();
            c.open_stream(&p).unwrap().read_to_end(&mut data).unwrap();
            (p.to_str().unwrap().to_owned(), data)
        })
        .collect()
}

/// A compound file of `base`'s streams and `more`.
fn with_streams(base: &[u8], more: &[(&str, &[u8])]) -> Vec<u8> {
    let owned = streams_of(base);
    let mut all: Vec<(&str, &[u8])> = owned
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    all.extend_from_slice(more);
    compound(&all)
}

fn small_doc() -> Vec<u8> {
    word_doc(&[("Staff list\r", true)], 0x0200)
}

/// Word's summary information in Big5, as Word on Traditional Chinese
/// Windows writes it.
fn big5_summary() -> Vec<u8> {
    let big5 = |s: &str| encoding_rs::BIG5.encode(s).0.into_owned();
    property_set(&[(
        FMTID_SUMMARY,
        vec![
            (1, vt_i2(950)),
            (2, vt_lpstr(&big5("員工名單"))),
            (3, vt_lpstr(&big5("病假紀錄"))),
            (4, vt_lpstr(&big5("陳大文"))),
            (5, vt_lpstr(b"HKID A123456(3)")),
            (6, vt_lpstr(&big5("電話 6612 3456"))),
            (8, vt_lpstr(&big5("李小明"))),
            (0x0C, vec![0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ],
    )])
}

/// Document summary information in UTF-16 (code page 1200) with a custom
/// section in Windows-1252.
fn utf16_doc_summary() -> Vec<u8> {
    let wide = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    property_set(&[
        (
            FMTID_DOC_SUMMARY,
            vec![
                (1, vt_i2(1200)),
                (0x0E, vt_lpstr(&wide("Dr Chan Siu Ming\0"))),
                (0x0F, vt_lpstr(&wide("醫院管理局\0"))),
                (0x02, vt_lpwstr("Oncology referrals")),
                (
                    0x0D,
                    vt_lpstr_vector(&[&wide("Sheet1\0"), &wide("病人名單\0")]),
                ),
            ],
        ),
        (
            FMTID_USER,
            vec![
                (0, dictionary(&[(2, "Patient HKID"), (3, "Phone")])),
                (1, vt_i2(1252)),
                (2, vt_lpstr(b"A123456(3)")),
                (3, vt_i4(61234567)),
            ],
        ),
    ])
}

#[test]
fn doc_summary_information_in_big5_is_read() {
    let input = with_streams(
        &small_doc(),
        &[("/\u{5}SummaryInformation", &big5_summary())],
    );
    let (sink, report) = scan("doc big5 summary", &input);
    let joined = sink.joined_text();
    assert_has(
        "doc big5 summary",
        &joined,
        &[
            "Staff list",
            "員工名單",
            "病假紀錄",
            "陳大文",
            "HKID A123456(3)",
            "電話 6612 3456",
            "李小明",
        ],
    );
    assert_eq!(report.formats, vec!["doc"]);
    assert_eq!(report.incomplete, None);
}

#[test]
fn xls_document_summary_in_utf16_and_custom_properties_are_read() {
    let input = compound(&[
        ("/Workbook", &biff_book(false)),
        ("/\u{5}DocumentSummaryInformation", &utf16_doc_summary()),
    ]);
    let (sink, report) = scan("xls utf-16 summary", &input);
    let joined = sink.joined_text();
    assert_has(
        "xls utf-16 summary",
        &joined,
        &[
            "Dr Chan Siu Ming",
            "醫院管理局",
            "Oncology referrals",
            "病人名單",
        ],
    );
    assert_eq!(values_of(&sink, "Patient HKID"), vec!["A123456(3)"]);
    // The workbook's own column is called Phone too.
    assert!(values_of(&sink, "Phone").contains(&"61234567".to_owned()));
    assert_eq!(report.formats, vec!["xls"]);
    assert_eq!(report.incomplete, None);
}

#[test]
fn ppt_summary_information_is_read() {
    let input = compound(&[
        ("/PowerPoint Document", &ppt_document()),
        ("/\u{5}SummaryInformation", &big5_summary()),
    ]);
    let (sink, _) = scan("ppt summary", &input);
    assert_has(
        "ppt summary",
        &sink.joined_text(),
        &["陳大文", "HKID A123456(3)"],
    );
}

#[test]
fn damaged_property_sets_are_passed_over() {
    let plain = scan("plain doc", &small_doc()).0;
    let good = big5_summary();
    let mut huge_counts = good.clone();
    // Section count, then the section's property count, forged.
    huge_counts[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
    huge_counts[48 + 4..48 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut far_offsets = good.clone();
    for k in 0..8 {
        let at = 48 + 8 + k * 8 + 4;
        far_offsets[at..at + 4].copy_from_slice(&(0xFFFF_FFF0u32 - k as u32).to_le_bytes());
    }
    let mut long_string = good.clone();
    // The title's byte count, past the end of the set.
    let title =
        48 + u32::from_le_bytes(good[48 + 8 + 8 + 4..48 + 8 + 8 + 8].try_into().unwrap()) as usize;
    long_string[title + 4..title + 8].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("header only", good[..30].to_vec()),
        (
            "garbage",
            (0..200u32).map(|i| (i * 37 % 251) as u8).collect(),
        ),
        ("huge counts", huge_counts),
        ("far offsets", far_offsets),
        ("long string", long_string),
        ("empty", Vec::new()),
    ];
    for (name, set) in cases {
        let input = with_streams(&small_doc(), &[("/\u{5}SummaryInformation", &set)]);
        let (sink, report) = scan(name, &input);
        assert_eq!(report.incomplete, None, "{name}");
        let joined = sink.joined_text();
        assert!(!joined.contains('\u{FFFD}'), "{name}: {joined:?}");
        match name {
            // What is whole is still read: counts are bounded by the
            // section's size, a string running past it is not read.
            "huge counts" => assert_has(name, &joined, &["員工名單", "李小明"]),
            "long string" => {
                assert_lacks(name, &joined, &["員工名單"]);
                assert_has(name, &joined, &["陳大文"]);
            }
            "truncated" => {}
            _ => assert_eq!(
                sink.events, plain.events,
                "{name}: no text from a damaged set"
            ),
        }
    }
}

#[test]
fn message_property_sets_are_not_read_as_document_properties() {
    let input = compound(&[
        ("/__substg1.0_0037001F", &utf16z("Staff list")),
        ("/\u{5}SummaryInformation", &big5_summary()),
    ]);
    let (sink, report) = scan("msg with summary", &input);
    assert_lacks("msg with summary", &sink.joined_text(), &["陳大文"]);
    assert_eq!(report.formats, vec!["msg"]);
}

#[test]
fn word_document_with_an_embedded_workbook_reads_the_workbook() {
    let input = with_streams(
        &small_doc(),
        &[
            ("/ObjectPool/_1234567890/Workbook", &biff_book(false)),
            ("/ObjectPool/_1234567890/\u{1}CompObj", b"\x01\x00\xfe\xff"),
            (
                "/ObjectPool/_1234567890/\u{5}SummaryInformation",
                &property_set(&[(
                    FMTID_SUMMARY,
                    vec![(1, vt_i2(1252)), (4, vt_lpstr(b"Wong Ka Yan"))],
                )]),
            ),
        ],
    );
    let (sink, report) = scan("doc with workbook", &input);
    let joined = sink.joined_text();
    assert_has(
        "doc with workbook",
        &joined,
        &[
            "Staff list",
            "HKID A123456(3)",
            "66123456",
            "陳大文",
            "Wong Ka Yan",
        ],
    );
    assert_eq!(report.formats, vec!["doc", "xls"]);
    assert_eq!(report.incomplete, None);
}

#[test]
fn workbook_with_an_embedded_word_document_reads_the_document() {
    let inner = streams_of(&word_doc(&[("身份證 A123456(3)\r", false)], 0x0200));
    let mut streams: Vec<(String, Vec<u8>)> = vec![("/Workbook".into(), biff_book(false))];
    streams.extend(
        inner
            .into_iter()
            .map(|(p, d)| (format!("/MBD0012AB34{p}"), d)),
    );
    let all: Vec<(&str, &[u8])> = streams
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let (sink, report) = scan("xls with document", &compound(&all));
    assert_has(
        "xls with document",
        &sink.joined_text(),
        &["身份證 A123456(3)", "6612 3456"],
    );
    assert_eq!(report.formats, vec!["xls", "doc"]);
    assert_eq!(report.incomplete, None);
}

#[test]
fn embedded_documents_respect_the_depth_limit() {
    let input = with_streams(
        &small_doc(),
        &[("/ObjectPool/_1/Workbook", &biff_book(false))],
    );
    let limits = Limits {
        max_depth: 0,
        ..Limits::default()
    };
    let (sink, report) = scan_all_ways(
        "embedded too deep",
        &input,
        &hint(None, None, None),
        &limits,
    );
    assert_lacks("embedded too deep", &sink.joined_text(), &["A123456(3)"]);
    assert_eq!(
        report.incomplete.as_ref().map(|i| i.reason),
        Some(IncompleteReason::DepthLimit)
    );
}

#[test]
fn message_with_an_embedded_word_attachment_reads_it() {
    // An attachment made with Insert > Object is kept as a storage.
    let inner = streams_of(&word_doc(&[("Passport E12345678\r", true)], 0x0200));
    let dir = "/__attach_version1.0_#00000000/__substg1.0_3701000D";
    let mut streams: Vec<(String, Vec<u8>)> =
        vec![("/__substg1.0_0037001F".into(), utf16z("Staff list"))];
    streams.extend(inner.into_iter().map(|(p, d)| (format!("{dir}{p}"), d)));
    let all: Vec<(&str, &[u8])> = streams
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let (sink, report) = scan("msg with ole attachment", &compound(&all));
    assert_has(
        "msg with ole attachment",
        &sink.joined_text(),
        &["Staff list", "Passport E12345678"],
    );
    assert_eq!(report.formats, vec!["msg", "doc"]);
    assert_eq!(report.incomplete, None);
}

// ------------------------------------------------------ Excel records ----

/// An XLUnicodeString: 8-bit when every character fits, else UTF-16.
pub(super) fn xl_string(s: &str) -> Vec<u8> {
    let narrow = s.chars().all(|c| (c as u32) < 0x100);
    let mut v = (s.encode_utf16().count() as u16).to_le_bytes().to_vec();
    if narrow {
        v.push(0);
        v.extend(s.chars().map(|c| c as u8));
    } else {
        v.push(1);
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    }
    v
}

/// A TXO record (a comment's or text box's) and its CONTINUE records: the
/// text in `chunks` (each its own record, 8-bit or UTF-16), then the runs.
fn txo(chunks: &[(&str, bool)]) -> Vec<u8> {
    let cch: usize = chunks.iter().map(|(s, _)| s.encode_utf16().count()).sum();
    let mut body = vec![0u8; 18];
    body[0] = 0x12;
    body[10..12].copy_from_slice(&(cch as u16).to_le_bytes());
    body[12..14].copy_from_slice(&16u16.to_le_bytes());
    let mut out = rec(0x01B6, &body);
    for (s, wide) in chunks {
        let mut c = vec![u8::from(*wide)];
        if *wide {
            c.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        } else {
            c.extend(s.chars().map(|c| c as u8));
        }
        out.extend(rec(0x003C, &c));
    }
    out.extend(rec(0x003C, &[0; 16]));
    out
}

/// A hyperlink to a URL with display text and a place, as Excel writes one.
fn hlink(display: &str, url: &str, location: &str) -> Vec<u8> {
    let wide = |s: &str| -> Vec<u8> {
        let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
        let mut v = (units.len() as u32).to_le_bytes().to_vec();
        v.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        v
    };
    let mut b = [rc(1, 1), rc(1, 1)].concat()[..8].to_vec();
    b.extend_from_slice(&[
        0xD0, 0xC9, 0xEA, 0x79, 0xF9, 0xBA, 0xCE, 0x11, 0x8C, 0x82, 0x00, 0xAA, 0x00, 0x4B, 0xA9,
        0x0B,
    ]);
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&0x1Fu32.to_le_bytes());
    b.extend(wide(display));
    b.extend_from_slice(&[
        0xE0, 0xC9, 0xEA, 0x79, 0xF9, 0xBA, 0xCE, 0x11, 0x8C, 0x82, 0x00, 0xAA, 0x00, 0x4B, 0xA9,
        0x0B,
    ]);
    let url: Vec<u8> = url
        .encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect();
    b.extend_from_slice(&(url.len() as u32).to_le_bytes());
    b.extend(url);
    b.extend(wide(location));
    rec(0x01B8, &b)
}

/// A hyperlink to a file (a file moniker with its Unicode path).
fn hlink_file(path: &str) -> Vec<u8> {
    let mut b = vec![0u8; 24];
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&0x01u32.to_le_bytes());
    b.extend_from_slice(&[0x03, 0x03, 0, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46]);
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(b"?\0");
    b.extend_from_slice(&0xFFFFu16.to_le_bytes());
    b.extend_from_slice(&0xDEADu16.to_le_bytes());
    b.extend_from_slice(&[0; 20]);
    let unicode: Vec<u8> = path.encode_utf16().flat_map(u16::to_le_bytes).collect();
    b.extend_from_slice(&(unicode.len() as u32 + 6).to_le_bytes());
    b.extend_from_slice(&(unicode.len() as u32).to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes());
    b.extend(unicode);
    rec(0x01B8, &b)
}

/// A list validation typed in the rule, with its input and error messages.
fn dv_list(entries: &[&str], prompt_title: &str, prompt: &str) -> Vec<u8> {
    let mut b = 3u32.to_le_bytes().to_vec();
    for s in [prompt_title, "\0", prompt, "\0"] {
        b.extend(xl_string(s));
    }
    let list = entries.join("\0");
    let mut rgce = vec![0x17, list.len() as u8, 0];
    rgce.extend_from_slice(list.as_bytes());
    b.extend_from_slice(&(rgce.len() as u16).to_le_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend(rgce);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&[1, 0, 1, 0, 2, 0, 2, 0]);
    rec(0x01BE, &b)
}

/// `biff_book` with a sheet's page setup, comment, links and validation.
fn book_beyond_cells() -> Vec<u8> {
    let mut book = biff_book(false);
    book.extend(rec(
        0x0014,
        &xl_string("&L&\"Arial,Bold\"Confidential&RA123456(3)"),
    ));
    book.extend(rec(0x0015, &xl_string("&C醫生紙 &P of &N")));
    // An empty header: nothing to read, nothing to trip on.
    book.extend(rec(0x0014, &[]));
    book.extend(txo(&[
        ("HKID Z683365(5) ", false),
        ("陳大文 電話 9123 4567", true),
    ]));
    let mut note = [rc(1, 0), vec![1, 0]].concat()[..8].to_vec();
    note.extend(xl_string("Wong Ka Yan"));
    note.push(0);
    book.extend(rec(0x001C, &note));
    book.extend(hlink(
        "Patient record",
        "mailto:chan.taiman@example.hk",
        "Sheet2!A1",
    ));
    book.extend(hlink_file("\\\\ward\\share\\病人 R1234567.xls"));
    let mut tip = vec![0x00, 0x08];
    tip.extend_from_slice(&rc(1, 1));
    tip.extend_from_slice(&[1, 0]);
    tip.extend(utf16z("Call 6612 3456"));
    book.extend(rec(0x0800, &tip));
    book.extend(dv_list(
        &["HIV clinic", "Oncology", "Psychiatry"],
        "Ward",
        "Choose the ward of 陳小明",
    ));
    book
}

#[test]
fn xls_headers_comments_links_and_lists_are_read() {
    let input = compound(&[("/Workbook", &book_beyond_cells())]);
    let (sink, report) = scan("xls beyond cells", &input);
    let joined = sink.joined_text();
    assert_has(
        "xls beyond cells",
        &joined,
        &[
            "\nConfidential\n",
            "\nA123456(3)\n",
            "醫生紙",
            "HKID Z683365(5) 陳大文 電話 9123 4567",
            "Wong Ka Yan",
            "Patient record",
            "mailto:chan.taiman@example.hk",
            "Sheet2!A1",
            "病人 R1234567.xls",
            "Call 6612 3456",
            "\nHIV clinic\n",
            "\nOncology\n",
            "\nPsychiatry\n",
            "Choose the ward of 陳小明",
        ],
    );
    assert_lacks("xls beyond cells", &joined, &["Arial", "&P", "RA123456"]);
    assert_eq!(report.formats, vec!["xls"]);
    assert_eq!(report.incomplete, None);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Property sets, the records and the PowerPoint objects read here,
    /// damaged at random (inside the stream, so the damage reaches the
    /// decoders rather than the compound file's own structure): never a
    /// panic.
    #[test]
    fn damaged_property_sets_and_records_never_panic(
        which in 0usize..4,
        hits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..16),
        cut in 0usize..4096,
    ) {
        let mut stream = match which {
            0 => big5_summary(),
            1 => utf16_doc_summary(),
            2 => book_beyond_cells(),
            _ => {
                let workbook = compound(&[("/Workbook", &biff_book(false))]);
                let mut data = (workbook.len() as u32).to_le_bytes().to_vec();
                data.extend(zlib(&workbook));
                [ppt_document(), ppt_record(0x0010, 0x1011, &data)].concat()
            }
        };
        for (at, b) in hits {
            let n = stream.len();
            stream[at % n] = b;
        }
        stream.truncate(cut.max(8));
        let input = if which == 2 {
            compound(&[("/Workbook", &stream)])
        } else if which == 3 {
            compound(&[("/PowerPoint Document", &stream)])
        } else {
            with_streams(&small_doc(), &[("/\u{5}SummaryInformation", &stream)])
        };
        let (_, report) = scan_chunks(&input, &hint(None, None, None), &Limits::default(), &[]);
        proptest::prop_assert_eq!(report.bytes, input.len() as u64);
    }
}

// ------------------------------------------------- PowerPoint objects ----

/// A PowerPoint record: version and instance, type, length, data.
fn ppt_record(ver_inst: u16, kind: u16, data: &[u8]) -> Vec<u8> {
    let mut r = [ver_inst.to_le_bytes(), kind.to_le_bytes()].concat();
    r.extend_from_slice(&(data.len() as u32).to_le_bytes());
    r.extend_from_slice(data);
    r
}

/// A presentation whose document stream keeps `objects` (compressed or not)
/// after its text, as PowerPoint keeps a chart's workbook or an embedded
/// document.
fn ppt_with_objects(objects: &[(&[u8], bool)]) -> Vec<u8> {
    let mut doc = ppt_document();
    for (storage, compressed) in objects {
        if *compressed {
            let mut data = (storage.len() as u32).to_le_bytes().to_vec();
            data.extend(zlib(storage));
            doc.extend(ppt_record(0x0010, 0x1011, &data));
        } else {
            doc.extend(ppt_record(0x0000, 0x1011, storage));
        }
    }
    compound(&[("/PowerPoint Document", &doc)])
}

#[test]
fn ppt_embedded_objects_are_read() {
    let workbook = compound(&[("/Workbook", &biff_book(false))]);
    let document = word_doc(&[("Passport E12345678\r", true)], 0x0200);
    let input = ppt_with_objects(&[(&workbook, true), (&document, false)]);
    let (sink, report) = scan("ppt with objects", &input);
    assert_has(
        "ppt with objects",
        &sink.joined_text(),
        &[
            "醫生紙 病假",
            "HKID A123456(3)",
            "66123456",
            "Passport E12345678",
        ],
    );
    assert_eq!(report.formats, vec!["ppt", "xls", "doc"]);
    assert_eq!(report.incomplete, None);
}

#[test]
fn ppt_object_that_is_a_bomb_hits_the_ratio_limit() {
    // 64 MiB of zeros, a few KB compressed: inflated whole before, into the
    // hold budget; now cut at the ratio limit.
    let zeros = vec![0u8; 64 << 20];
    let input = ppt_with_objects(&[(&zeros, true)]);
    assert!(input.len() < 1 << 20, "{}", input.len());
    // Scanned once: every split point of 64 KB would take minutes.
    let (_, report) = scan_chunks(&input, &ContentHint::default(), &Limits::default(), &[]);
    assert_eq!(
        report.incomplete.as_ref().map(|i| i.reason),
        Some(IncompleteReason::RatioLimit),
        "{:?}",
        report.incomplete
    );
}

#[test]
fn ppt_macro_project_is_passed_over_and_a_corrupt_object_is_reported() {
    let vba = compound(&[("/VBA/dir", b"\x01\x02\x03"), ("/PROJECT", b"ID=\"{1}\"")]);
    let (_, report) = scan("ppt with macros", &ppt_with_objects(&[(&vba, true)]));
    assert_eq!(report.formats, vec!["ppt"]);
    assert_eq!(report.incomplete, None);

    let mut doc = ppt_document();
    doc.extend(ppt_record(
        0x0010,
        0x1011,
        b"\x00\x10\x00\x00not zlib at all",
    ));
    let input = compound(&[("/PowerPoint Document", &doc)]);
    let (sink, report) = scan("ppt with a corrupt object", &input);
    assert_has(
        "ppt with a corrupt object",
        &sink.joined_text(),
        &["HKID A123456(3)"],
    );
    assert_eq!(
        report.incomplete.as_ref().map(|i| i.reason),
        Some(IncompleteReason::Malformed)
    );
}
