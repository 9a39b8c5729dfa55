//! PDF text that an audit found dropped without a word: inline images whose
//! data opened a "string" that swallowed the rest of the page, strings left
//! open, a line continuation that split an identifier, strings held as
//! objects of their own, and text given as `/ActualText` or `/Alt`.

use super::*;

const HKID: &str = "A123456(3)";

/// Scans `input` as a PDF every way; the text delivered and why it is
/// incomplete, if it is.
fn read(name: &str, input: &[u8]) -> (String, Option<IncompleteReason>) {
    let h = hint(Some("application/pdf"), None, None);
    let (sink, report) = scan_all_ways(name, input, &h, &Limits::default());
    (sink.joined_text(), report.incomplete.map(|i| i.reason))
}

/// A one-page PDF whose page content is `content` (font `/F1` Helvetica).
fn page(content: &[u8]) -> Vec<u8> {
    pdf_of(&[
        (1, "<< /Type /Catalog /Pages 2 0 R >>", None),
        (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None),
        (
            3,
            "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            None,
        ),
        (4, "<< >>", Some(content)),
        (
            5,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            None,
        ),
    ])
}

/// Page content: a line of text, `image` (an inline image, `BI` to `EI`),
/// then the line with the identifier.
fn around(image: &[u8]) -> Vec<u8> {
    let mut c = b"BT /F1 9 Tf 72 700 Td (Staff record) Tj ET\nq 8 0 0 8 72 650 cm\n".to_vec();
    c.extend_from_slice(image);
    c.extend_from_slice(b"\nQ\nBT /F1 9 Tf 72 600 Td (HKID A123456\\(3\\)) Tj ET\n");
    c
}

#[test]
fn inline_image_data_does_not_swallow_the_page() {
    // Gray pixels that happen to be `(` (0x28) and `\`: read as content,
    // they open a string that runs to the end of the page.
    let image = b"BI /W 4 /H 2 /BPC 8 /CS /G ID \x00(\xff(\\\x01\x80(\nEI";
    let (text, incomplete) = read("inline image", &page(&around(image)));
    assert!(text.contains("Staff record"), "{text:?}");
    assert!(text.contains("HKID A123456(3)"), "{text:?}");
    assert_eq!(incomplete, None);
}

#[test]
fn inline_image_dict_with_a_palette_string() {
    // An indexed colour space's palette given as a string in the inline
    // dictionary (parentheses escaped inside it), full names for the keys.
    let image = b"BI /Width 2 /Height 1 /BitsPerComponent 8 /ColorSpace [/I /RGB 1 (\\(\\)\\051\xff\x00())] /Filter [] ID \x01(\nEI";
    let (text, incomplete) = read("palette", &page(&around(image)));
    assert!(text.contains("HKID A123456(3)"), "{text:?}");
    assert_eq!(incomplete, None);
}

#[test]
fn inline_image_with_a_false_end_in_its_data() {
    // The data holds ` EI ` followed by more binary: not the end. The real
    // `EI` is the one content operators follow.
    let image = b"BI /W 6 /H 2 /BPC 8 /CS /G ID (\x00\nEI\n\xff\x9c\x01(\x02\x03\x04\x05\x06\nEI";
    let (text, incomplete) = read("false end", &page(&around(image)));
    assert!(text.contains("HKID A123456(3)"), "{text:?}");
    assert_eq!(incomplete, None);
}

#[test]
fn inline_image_length_is_trusted_when_it_fits() {
    // Data that looks like an end followed by operators: only `/L` (PDF
    // 2.0) or `/Length` tells where it really ends.
    let data = b"( EI Q BT (x";
    for key in ["L", "Length"] {
        let mut image = format!(
            "BI /W {} /H 1 /BPC 8 /CS /G /{key} {} ID ",
            data.len(),
            data.len()
        )
        .into_bytes();
        image.extend_from_slice(data);
        image.extend_from_slice(b"\nEI");
        let (text, incomplete) = read(key, &page(&around(&image)));
        assert!(text.contains("HKID A123456(3)"), "/{key}: {text:?}");
        assert!(
            !text.contains('x'),
            "/{key}: image data read as text: {text:?}"
        );
        assert_eq!(incomplete, None, "/{key}");
    }
}

#[test]
fn inline_image_in_ascii85_ends_at_its_terminator() {
    // ASCII85 data can hold `(` and a line that is `EI`; its own `~>` ends it.
    let image = b"BI /W 4 /H 1 /BPC 8 /CS /G /F /A85 ID\n(8o(\nEI\nQ(9~>\nEI";
    let (text, incomplete) = read("a85", &page(&around(image)));
    assert!(text.contains("HKID A123456(3)"), "{text:?}");
    assert_eq!(incomplete, None);
}

#[test]
fn inline_image_cut_short_does_not_panic() {
    // No `EI`: the rest of the stream is the image's. What came before is read.
    let content =
        b"BT /F1 9 Tf (HKID A123456\\(3\\)) Tj ET\nBI /W 4 /H 4 /BPC 8 /CS /G ID (\x00\x01";
    let (text, _) = read("cut image", &page(content));
    assert!(text.contains("HKID A123456(3)"), "{text:?}");
    for cut in ["BI", "BI /W", "BI /W 4 ID", "BI /W (4", "BI ID", "BI ID "] {
        let content = format!("BT (HKID A123456\\(3\\)) Tj ET {cut}");
        let (text, _) = read(cut, &page(content.as_bytes()));
        assert!(text.contains("HKID A123456(3)"), "{cut}: {text:?}");
    }
}

#[test]
fn reportlab_inline_image() {
    // What ReportLab's canvas.drawInlineImage writes (see the fixture's
    // README): its ASCII85 data holds unbalanced parentheses.
    let input = include_bytes!("../../../../tests/fixtures/pdf/inline-image.pdf");
    let (text, incomplete) = read("reportlab", input);
    assert!(text.contains("Staff record"), "{text:?}");
    assert!(text.contains("HKID A123456(3)"), "{text:?}");
    assert!(text.contains("Phone 6123 4567"), "{text:?}");
    assert_eq!(incomplete, None);
}

#[test]
fn string_left_open_in_page_content_is_not_a_silent_pass() {
    // A writer that did not escape a lone `(`: the string never closes. The
    // text after it is recovered, and the scan says the page was misread.
    let content = b"BT /F1 9 Tf 72 700 Td (Name: Chan (Tai Man) Tj ET\nBT /F1 9 Tf 72 680 Td (HKID A123456\\(3\\)) Tj ET\n";
    let (text, incomplete) = read("open string", &page(content));
    assert!(text.contains("HKID A123456(3)"), "{text:?}");
    assert_eq!(incomplete, Some(IncompleteReason::Malformed));
}

#[test]
fn line_continuation_in_a_string_joins_the_lines() {
    for eol in ["\r\n", "\n", "\r"] {
        let content = format!("BT /F1 9 Tf (HKID A123\\{eol}456\\(3\\)) Tj ET");
        let (text, _) = read(eol, &page(content.as_bytes()));
        assert!(text.contains("HKID A123456(3)"), "{eol:?}: {text:?}");
        // The same in a form field's value, outside the content.
        let mut p = page(b"BT (Form) Tj ET");
        p.extend_from_slice(
            format!("9 0 obj << /T (id) /V (A123\\{eol}456\\(3\\)) >> endobj\n").as_bytes(),
        );
        let (text, _) = read(eol, &p);
        assert!(text.contains(HKID), "{eol:?}: {text:?}");
    }
}

#[test]
fn strings_held_as_objects_of_their_own_are_read() {
    // A field's value, an annotation's text and the document's title by
    // reference; one of them packed in an object stream.
    let packed_head = "12 0 ";
    let packed = format!("{packed_head}(Patient: Chan Tai Man)");
    let objstm = zlib(packed.as_bytes());
    let objstm_dict = format!(
        "<< /Type /ObjStm /N 1 /First {} /Filter /FlateDecode >>",
        packed_head.len()
    );
    let mut p = page(b"BT /F1 9 Tf (Application form) Tj ET");
    let tail = pdf_of(&[
        (6, "<< /FT /Tx /T (hkid) /V 7 0 R >>", None),
        (7, "(A123456\\(3\\))", None),
        (
            8,
            "<< /Type /Annot /Subtype /Text /Contents 9 0 R /T 12 0 R >>",
            None,
        ),
        // "電話 61234567" in UTF-16BE with its mark.
        (
            9,
            "<FEFF 96FB 8A71 0020 0036 0031 0032 0033 0034 0035 0036 0037>",
            None,
        ),
        (10, "<< /Title 11 0 R >>", None),
        (11, "(Sick leave certificate)", None),
        (13, &objstm_dict, Some(&objstm)),
    ]);
    p.extend_from_slice(tail.strip_prefix(b"%PDF-1.7\n").unwrap());
    let (text, incomplete) = read("string objects", &p);
    for want in [
        "Application form",
        HKID,
        "電話 61234567",
        "Sick leave certificate",
        "Patient: Chan Tai Man",
    ] {
        assert!(text.contains(want), "{want}: {text:?}");
    }
    assert_eq!(incomplete, None);
}

#[test]
fn actual_text_replaces_what_its_span_shows() {
    // Glyphs that do not say what they are (here bytes 1 and 2, a ligature
    // and a symbol), with what they stand for in `/ActualText`.
    let content = b"BT /F1 9 Tf (HKID ) Tj /Span << /ActualText <FEFF0041003100320033003400350036002800330029> >> BDC <0102> Tj EMC ET";
    let (text, _) = read("actual text", &page(content));
    assert!(text.contains(HKID), "{text:?}");
    // A span whose glyphs show the same text: read once, not twice.
    let content = b"BT /F1 9 Tf /Span << /MCID 0 /ActualText (A123456\\(3\\)) >> BDC (A123456\\(3\\)) Tj EMC ET";
    let (text, _) = read("actual text shown too", &page(content));
    assert_eq!(text.matches(HKID).count(), 1, "{text:?}");
    // An empty or unrelated actual text does not hide what is shown, nested
    // marked content and a span left open included.
    for content in [
        &b"BT /Span << /ActualText () >> BDC (A123456\\(3\\)) Tj EMC ET"[..],
        b"BT /Span << /ActualText (x) >> BDC /P BMC (A123456\\(3\\)) Tj EMC EMC ET",
        b"BT /Span << /ActualText (x) >> BDC (A123456\\(3\\)) Tj ET",
    ] {
        let (text, _) = read("hidden", &page(content));
        assert!(text.contains(HKID), "{text:?}");
    }
}

#[test]
fn alternate_descriptions_are_read() {
    // `/Alt` on marked content in the page, and on a structure element.
    let mut p = page(b"/Figure << /Alt (Scan of HKID card A123456\\(3\\)) >> BDC q 10 0 0 10 0 0 cm /Im1 Do Q EMC");
    p.extend_from_slice(
        b"20 0 obj << /Type /StructElem /S /Figure /Alt (Photo: Chan Tai Man) /ActualText (Dr. Chan) >> endobj\n",
    );
    let (text, _) = read("alt", &p);
    for want in [
        "Scan of HKID card A123456(3)",
        "Photo: Chan Tai Man",
        "Dr. Chan",
    ] {
        assert!(text.contains(want), "{want}: {text:?}");
    }
}

proptest::proptest! {
    #[test]
    fn content_soup_never_panics(picks in proptest::collection::vec(0usize..CONTENT_TOKENS.len(), 0..300)) {
        let mut content = Vec::new();
        for p in picks {
            content.extend_from_slice(CONTENT_TOKENS[p]);
        }
        let input = page(&content);
        let h = hint(Some("application/pdf"), None, None);
        let (_, report) = scan_chunks(&input, &h, &Limits::default(), &[]);
        proptest::prop_assert_eq!(report.bytes, input.len() as u64);
    }
}

/// Pieces of page content, inline images and marked content among them.
const CONTENT_TOKENS: &[&[u8]] = &[
    b"BI ",
    b"ID ",
    b"ID\n",
    b" EI ",
    b"\nEI",
    b"EI",
    b"(",
    b")",
    b"\\",
    b"\\\r",
    b"<",
    b">",
    b"<<",
    b">>",
    b"[",
    b"]",
    b"/L 3 ",
    b"/Length 0 ",
    b"/F /A85 ",
    b"/F [/AHx] ",
    b"~>",
    b"Tj ",
    b"TJ ",
    b"Q ",
    b"BDC ",
    b"BMC ",
    b"EMC ",
    b"/Span ",
    b"/ActualText ",
    b"/Alt ",
    b"<FEFF0041>",
    b"(A1)",
    b"\r",
    b"\n",
    b" ",
    b"\x00",
    b"\xff",
    b"5 ",
    b"-9 ",
    b"%",
    b"/W 2 /H 2 ",
    b"true ",
    b"BT ",
    b"ET ",
    b"/F1 9 Tf ",
];
