//! Text Excel's binary workbooks keep outside their cells, which crossed
//! unread: an XLSB's sheet names (its workbook part was skipped whole), its
//! sheets' page headers and footers, hyperlinks and data-validation
//! messages and lists, and an Excel 97 workbook's even- and first-page
//! headers and footers (Excel 2007 and later write them in a record of
//! their own). The records are built by hand as [MS-XLSB] and [MS-XLS] lay
//! them out; each case is read through the engine for the classes found.

use super::legacy_audit::xl_string;
use super::*;
use crate::inspect::{Class, Engine, Findings};

fn scan(name: &str, input: &[u8]) -> (RecordingSink, ScanReport, Findings) {
    let (sink, report) = scan_all_ways(name, input, &hint(None, None, None), &Limits::default());
    let found = Engine::shipped().scan(hint(None, None, None), input);
    (sink, report, found)
}

/// Scans `input` every way: it must read cleanly (nothing incomplete),
/// with each of `has` in its text and none of `lacks`. Returns the report
/// and what the engine found, for the classes.
fn read_cleanly(name: &str, input: &[u8], has: &[&str], lacks: &[&str]) -> (ScanReport, Findings) {
    let (sink, report, found) = scan(name, input);
    let joined = sink.joined_text();
    assert_has(name, &joined, has);
    assert_lacks(name, &joined, lacks);
    assert_eq!(report.incomplete, None, "{name}");
    (report, found)
}

// ------------------------------------------------------------- XLSB ----

/// An XLNullableWideString: `None` is the NULL string (a count of all ones).
fn nullable(s: Option<&str>) -> Vec<u8> {
    s.map_or_else(|| u32::MAX.to_le_bytes().to_vec(), wide)
}

/// An UncheckedRfX: first and last row, first and last column.
fn rfx(row: u32, col: u32) -> Vec<u8> {
    [row, row, col, col]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// A PtgStr token as BIFF12 writes it: its count of UTF-16 units (two
/// bytes), then the units.
fn ptg_str(s: &str) -> Vec<u8> {
    let units: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    [
        &[0x17u8][..],
        &(units.len() as u16 / 2).to_le_bytes(),
        &units,
    ]
    .concat()
}

/// A BrtBundleSh: its state and tab id, its relationship id, its name.
fn bundle_sh(tab: u32, name: &str) -> Vec<u8> {
    let body = [
        &0u32.to_le_bytes()[..],
        &tab.to_le_bytes(),
        &nullable(Some(&format!("rId{tab}"))),
        &wide(name),
    ]
    .concat();
    brt(156, &body)
}

/// A BrtName whose formula is one string constant.
fn defined_name(name: &str, constant: &str) -> Vec<u8> {
    let rgce = ptg_str(constant);
    let body = [
        &0u32.to_le_bytes()[..],
        &[0],
        &wide(name),
        &(rgce.len() as u32).to_le_bytes(),
        &rgce,
        &0u32.to_le_bytes(),
        &nullable(None),
    ]
    .concat();
    brt(39, &body)
}

/// An XLSB workbook part: the book, its sheets' bundle, then `more`.
fn workbook_bin(sheets: &[&str], more: &[Vec<u8>]) -> Vec<u8> {
    let mut part = [brt(131, &[]), brt(143, &[])].concat();
    for (i, s) in sheets.iter().enumerate() {
        part.extend(bundle_sh(i as u32 + 1, s));
    }
    part.extend(brt(144, &[]));
    part.extend(more.concat());
    part.extend(brt(132, &[]));
    part
}

/// An XLSB package of `book` as its workbook part and `parts`.
fn xlsb_book(book: &[u8], parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> =
        vec![("[Content_Types].xml", CT_TYPES), ("xl/workbook.bin", book)];
    entries.extend_from_slice(parts);
    zip_of(&entries)
}

/// A BrtBeginHeaderFooter (its flags, then the six strings: odd header and
/// footer, even, first) and the record that ends it.
fn header_footer(strings: [Option<&str>; 6]) -> Vec<u8> {
    let mut body = 0x0003u16.to_le_bytes().to_vec();
    for s in strings {
        body.extend(nullable(s));
    }
    [brt(479, &body), brt(480, &[])].concat()
}

/// A BrtHLink on B2: its relationship id, location, tooltip and display.
fn hlink(rel: Option<&str>, location: &str, tooltip: &str, display: &str) -> Vec<u8> {
    let body = [
        rfx(1, 1),
        nullable(rel),
        wide(location),
        wide(tooltip),
        wide(display),
    ]
    .concat();
    brt(494, &body)
}

/// A BrtDVal on A2 of type `val_type` (3 a list), its error title and text
/// and prompt title and text, then its first formula's tokens (the second
/// empty), between the records that open and close the sheet's rules.
fn dval(val_type: u32, strings: [Option<&str>; 4], rgce: &[u8]) -> Vec<u8> {
    // The type is the flags' low four bits; the rest change nothing read.
    let mut body = [
        val_type.to_le_bytes().to_vec(),
        1u32.to_le_bytes().to_vec(),
        rfx(1, 0),
    ]
    .concat();
    for s in strings {
        body.extend(nullable(s));
    }
    body.extend((rgce.len() as u32).to_le_bytes());
    body.extend_from_slice(rgce);
    body.extend(0u32.to_le_bytes());
    body.extend([0u8; 8]);
    [brt(573, &[0; 18]), brt(64, &body), brt(574, &[])].concat()
}

#[test]
fn xlsb_sheet_names_are_read_from_the_workbook_part() {
    let name = "xlsb sheet names";
    let book = workbook_bin(
        &["陳大文 A123456(3)", "電話"],
        &[defined_name("Client", "HKID C123456(9)")],
    );
    let input = xlsb_book(
        &book,
        &[(
            "xl/worksheets/sheet1.bin",
            &xlsb_sheet(&[xrow(0), xcell(6, 0, &wide("Name"))]),
        )],
    );
    let (sink, report, found) = scan(name, &input);
    // Named as in an XLSX: the sheet names as values of their own, the
    // defined name's constant under the element XLSX keeps it in.
    assert_eq!(
        sink.events,
        vec![
            t("陳大文 A123456(3)"),
            B,
            t("電話"),
            B,
            f("definedName"),
            t("HKID C123456(9)"),
            B,
            t("Name"),
            B,
        ]
    );
    assert_eq!(report.formats, vec!["xlsb"]);
    assert_eq!(report.incomplete, None);
    assert_eq!(found.count(Class::HkId), 2, "{found:?}");
}

#[test]
fn xlsb_page_headers_and_footers_are_read_without_their_codes() {
    let name = "xlsb header and footer";
    let sheet = xlsb_sheet(&[
        xrow(0),
        xcell(6, 0, &wide("Name")),
        header_footer([
            Some("&L&\"Arial,Bold\"Confidential&RA123456(3)"),
            Some("&CPage &P of &N"),
            None,
            Some("&C醫生紙 C123456(9)"),
            Some(""),
            Some("&R&12D123456(1)"),
        ]),
    ]);
    let input = xlsb_of(&[("xl/worksheets/sheet1.bin", &sheet)]);
    let (_, found) = read_cleanly(
        name,
        &input,
        &[
            "\nConfidential\nA123456(3)\n",
            "\nPage   of\n",
            "醫生紙 C123456(9)",
            "\nD123456(1)\n",
        ],
        &["Arial", "&P", "RA123456", "&12", "12D"],
    );
    assert_eq!(found.count(Class::HkId), 3, "{found:?}");
}

#[test]
fn xlsb_hyperlink_location_tooltip_and_display_are_read() {
    let name = "xlsb hyperlink";
    let sheet = xlsb_sheet(&[
        xrow(0),
        xcell(6, 0, &wide("Link")),
        xrow(1),
        xcell(6, 0, &wide("see here")),
        hlink(
            Some("rId7"),
            "'陳大文 A123456(3)'!A1",
            "Call +852 6123 4567",
            "Patient C123456(9)",
        ),
        hlink(None, "", "", "mailto:chan.taiman@example.hk"),
    ]);
    let input = xlsb_of(&[("xl/worksheets/sheet1.bin", &sheet)]);
    // The relationship id names the target in the sheet's .rels; it is no text.
    let (_, found) = read_cleanly(
        name,
        &input,
        &[
            "\n'陳大文 A123456(3)'!A1\n",
            "\nCall +852 6123 4567\n",
            "\nPatient C123456(9)\n",
            "\nmailto:chan.taiman@example.hk\n",
        ],
        &["rId7"],
    );
    assert_eq!(found.count(Class::HkId), 2, "{found:?}");
    assert_eq!(found.count(Class::Phone), 1, "{found:?}");
    assert_eq!(found.count(Class::Email), 1, "{found:?}");
}

#[test]
fn xlsb_data_validation_messages_and_list_are_read() {
    let name = "xlsb data validation";
    let list = ptg_str("HIV clinic\0Oncology\0Psychiatry");
    let sheet = xlsb_sheet(&[
        xrow(0),
        xcell(6, 0, &wide("Ward")),
        dval(
            3,
            [
                Some("Not a ward"),
                Some("Ask Dr Chan, 6123 4567"),
                Some("Ward"),
                Some("Choose the ward of 陳小明 C123456(9)"),
            ],
            &list,
        ),
        // A whole-number rule: its formula is no list, its NULL strings no text.
        dval(
            1,
            [None, None, None, Some("HKID D123456(1)")],
            &[0x1E, 5, 0],
        ),
    ]);
    let input = xlsb_of(&[("xl/worksheets/sheet1.bin", &sheet)]);
    let (_, found) = read_cleanly(
        name,
        &input,
        &[
            "\nNot a ward\n",
            "\nAsk Dr Chan, 6123 4567\n",
            "Choose the ward of 陳小明 C123456(9)",
            "\nHIV clinic\n",
            "\nOncology\n",
            "\nPsychiatry\n",
            "\nHKID D123456(1)\n",
        ],
        &[],
    );
    assert_eq!(found.count(Class::HkId), 2, "{found:?}");
    assert!(found.count(Class::Health) >= 1, "{found:?}");
}

#[test]
fn xlsb_damaged_records_outside_the_cells_are_reported_and_read_past() {
    let name = "xlsb damaged records";
    // A footer whose count says 100 characters, the record holding 4: what
    // it holds is read, the strings after it cannot be found.
    let mut hf = 0u16.to_le_bytes().to_vec();
    hf.extend(wide("A123456(3)"));
    hf.extend(100u32.to_le_bytes());
    hf.extend(wide("C123")[4..].iter());
    // A rule on more ranges than its record holds; a link cut inside its
    // range; a sheet name whose count runs past its record.
    let mut dv = 3u32.to_le_bytes().to_vec();
    dv.extend(0x1000_0000u32.to_le_bytes());
    dv.extend(rfx(1, 0));
    dv.extend(wide("lost"));
    let sheet = xlsb_sheet(&[
        xrow(0),
        xcell(6, 0, &wide("Name")),
        brt(479, &hf),
        brt(64, &dv),
        brt(494, &[0; 10]),
        hlink(None, "", "after D123456(1)", ""),
    ]);
    let mut name_cut = [0u32.to_le_bytes(), 1u32.to_le_bytes()].concat();
    name_cut.extend(nullable(None));
    name_cut.extend(50u32.to_le_bytes());
    name_cut.extend(wide("陳大文")[4..].iter());
    let book = [
        brt(131, &[]),
        brt(156, &name_cut),
        bundle_sh(2, "E123456(4)"),
        brt(132, &[]),
    ]
    .concat();
    let input = xlsb_book(
        &book,
        &[
            ("xl/worksheets/sheet1.bin", &sheet),
            (
                "xl/worksheets/sheet2.bin",
                &xlsb_sheet(&[xrow(0), xcell(6, 0, &wide("next sheet"))]),
            ),
        ],
    );
    let (sink, report, found) = scan(name, &input);
    let joined = sink.joined_text();
    assert_has(
        name,
        &joined,
        &[
            "陳大文\nE123456(4)\n",
            "\nA123456(3)\n",
            "\nC123\n",
            "\nafter D123456(1)\n",
            "\nnext sheet\n",
        ],
    );
    assert_lacks(name, &joined, &["lost"]);
    assert_eq!(
        report.incomplete.map(|i| i.reason),
        Some(IncompleteReason::Malformed)
    );
    assert_eq!(found.count(Class::HkId), 3, "{found:?}");
}

// ---------------------------------------------------------- Excel 97 ----

/// A HEADERFOOTER record (0x089C): its future-record header, the sheet
/// view (zero: the sheet itself), flags, the four counts, then each string
/// whose count is not zero.
fn headerfooter(strings: [&str; 4]) -> Vec<u8> {
    let mut b = 0x089Cu16.to_le_bytes().to_vec();
    b.extend([0u8; 10]);
    b.extend([0u8; 16]);
    b.extend(0x0003u16.to_le_bytes());
    for s in strings {
        b.extend((s.encode_utf16().count() as u16).to_le_bytes());
    }
    for s in strings.iter().filter(|s| !s.is_empty()) {
        b.extend(xl_string(s));
    }
    rec(0x089C, &b)
}

#[test]
fn xls_even_and_first_page_headers_and_footers_are_read() {
    let name = "xls headerfooter";
    let mut book = biff_book(false);
    book.extend(rec(0x0014, &xl_string("&LOdd page")));
    book.extend(headerfooter([
        "&L&\"Arial,Bold\"Confidential&RB123456(6)",
        "",
        "&C醫生紙 C123456(9)",
        "&R&12D123456(1)",
    ]));
    book.extend(rec(
        0x0204,
        &[rc(6, 0), xl_string("after").to_vec()].concat(),
    ));
    let input = compound(&[("/Workbook", &book)]);
    let (report, found) = read_cleanly(
        name,
        &input,
        &[
            "Odd page",
            "\nConfidential\nB123456(6)\n",
            "醫生紙 C123456(9)",
            "\nD123456(1)\n",
            "after",
        ],
        &["Arial", "RB123456", "12D"],
    );
    assert_eq!(report.formats, vec!["xls"]);
    assert_eq!(found.count(Class::HkId), 4, "{found:?}");
}

#[test]
fn xls_damaged_headerfooter_gives_what_it_holds() {
    let name = "xls damaged headerfooter";
    let mut book = biff_book(false);
    // Counts past the record, a record shorter than its fixed fields, one
    // whose second string's count runs past its end.
    let mut long = 0x089Cu16.to_le_bytes().to_vec();
    long.extend([0u8; 28]);
    long.extend([3, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0]);
    long.extend(xl_string("x"));
    book.extend(rec(0x089C, &long));
    book.extend(rec(0x089C, &[0x9C, 0x08, 0, 0]));
    let mut cut = headerfooter(["E123456(4)", "C123456(9)", "", ""]);
    let keep = cut.len() - 4;
    cut.truncate(keep);
    let len = (cut.len() - 4) as u16;
    cut[2..4].copy_from_slice(&len.to_le_bytes());
    book.extend(cut);
    book.extend(rec(
        0x0204,
        &[rc(6, 0), xl_string("after").to_vec()].concat(),
    ));
    let input = compound(&[("/Workbook", &book)]);
    let (sink, _, found) = scan(name, &input);
    let joined = sink.joined_text();
    assert_has(name, &joined, &["\nE123456(4)\n", "after"]);
    // The book's own A123456(3), and the first string.
    assert_eq!(found.count(Class::HkId), 2, "{found:?}");
    assert_lacks(name, &joined, &["C123456(9)"]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// A HEADERFOOTER record damaged at random (its counts, its strings'
    /// widths, its length): never a panic, and the record after it read.
    #[test]
    fn damaged_headerfooter_never_panics(
        hits in proptest::collection::vec((0usize..128, proptest::prelude::any::<u8>()), 1..16),
        cut in 0usize..128,
    ) {
        let mut hf = headerfooter(["&LA123456(3)", "", "醫生紙", "&R&P"])[4..].to_vec();
        for (at, b) in hits {
            let n = hf.len();
            hf[at % n] = b;
        }
        hf.truncate(cut);
        let mut book = biff_book(false);
        book.extend(rec(0x089C, &hf));
        book.extend(rec(0x0204, &[rc(6, 0), xl_string("after").to_vec()].concat()));
        let input = compound(&[("/Workbook", &book)]);
        let (sink, _) = scan_chunks(&input, &hint(None, None, None), &Limits::default(), &[]);
        proptest::prop_assert!(sink.joined_text().contains("after"));
    }
}
