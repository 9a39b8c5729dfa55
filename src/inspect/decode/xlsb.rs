//! Excel binary workbooks (XLSB): the BIFF12 records of their shared strings,
//! sheets and comments, read into cells as an XLSX's are (numbers as typed,
//! first row as column names); the text a sheet keeps outside its cells
//! (page headers and footers, hyperlinks, data-validation messages and
//! lists) and the workbook's sheet names, delivered as an XLSX's are; and
//! which of their binary parts hold nothing to read. The package around
//! them (its XML parts, embedded files, the caps on each entry, the shared
//! strings no cell uses) is `ooxml`'s.

use std::borrow::Cow;
use std::io::{BufReader, Read};

use super::cfb::{header_text, number, rk, utf16le};
use super::columns::Columns;
use super::cx::Cx;
use super::ooxml::deliver;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

// Record types, as [MS-XLSB] numbers them.
const ROW_HDR: u16 = 0;
const CELL_RK: u16 = 2;
const CELL_REAL: u16 = 5;
const CELL_ST: u16 = 6;
const CELL_ISST: u16 = 7;
const FMLA_STRING: u16 = 8;
const FMLA_NUM: u16 = 9;
const SST_ITEM: u16 = 19;
const NAME: u16 = 39;
const CELL_RSTRING: u16 = 62;
const DVAL: u16 = 64;
const BUNDLE_SH: u16 = 156;
const HEADER_FOOTER: u16 = 479;
const HLINK: u16 = 494;
const COMMENT_AUTHOR: u16 = 632;
const COMMENT_TEXT: u16 = 637;

/// A formula token holding a string constant (PtgStr).
const PTG_STR: u8 = 0x17;

/// Bytes of a record kept for reading; the rest is skipped. A string in a
/// cell, a shared string or a comment is at most 32,767 characters, so every
/// string the format allows fits whole.
const KEEP: u32 = 1 << 17;

/// Most shared strings kept for cells to refer to. Each costs a `Vec` even
/// when empty (a 7-byte record), so a count without a cap would let a small
/// part take many times its size in memory; later strings are scanned as
/// they are read, without the column a cell would give them.
const MAX_SST: usize = 1 << 20;

/// What an XLSB package part is to this reader.
pub(super) enum Part {
    /// The workbook: its sheets' names and defined names.
    Workbook,
    Sheet,
    Comments,
    /// Read before the other parts, for the cells.
    SharedStrings,
    /// Binary records holding data this reader does not decode: the scan of
    /// the workbook is incomplete.
    Unread(&'static str),
    /// Binary records of structure and formatting (styles, calc chain,
    /// tables, chart sheets, the sheets' row index).
    Skip,
}

/// The part `name` is, if it is one of the package's BIFF12 parts; `None` for
/// its XML parts, embedded files and media, which are read as in an XLSX.
pub(super) fn part(name: &str) -> Option<Part> {
    let rest = name.strip_prefix("xl/")?.strip_suffix(".bin")?;
    let (dir, file) = rest.rsplit_once('/').unwrap_or(("", rest));
    Some(match dir {
        "" if file == "workbook" => Part::Workbook,
        "" if file == "sharedStrings" => Part::SharedStrings,
        "" if file.starts_with("comments") => Part::Comments,
        // A compound file of macros, not records: opened as any embedded file.
        "" if file.starts_with("vbaProject") => return None,
        "" => Part::Skip,
        "worksheets" | "macrosheets" if file.starts_with("sheet") => Part::Sheet,
        // Copies of cell values kept outside the sheets.
        "pivotCache" => Part::Unread("pivot cache"),
        "externalLinks" => Part::Unread("external link cache"),
        "revisions" => Part::Unread("revision log"),
        "worksheets" | "macrosheets" | "chartsheets" | "dialogsheets" | "tables"
        | "queryTables" | "pivotTables" => Part::Skip,
        _ => return None,
    })
}

/// Why a part's records end before its end.
enum Stop {
    /// The part ends inside a record (its header or its declared size).
    Cut,
    /// A header whose type or size runs past the bytes they may take.
    BadHeader,
    Unreadable,
}

impl Stop {
    fn detail(&self) -> &'static str {
        match self {
            Stop::Cut => "XLSB part cut short inside a record",
            Stop::BadHeader => "XLSB record header too long",
            Stop::Unreadable => "unreadable XLSB part",
        }
    }
}

struct Records<R> {
    r: R,
    /// The current record's first `KEEP` bytes.
    body: Vec<u8>,
}

impl<R: Read> Records<R> {
    fn byte(&mut self) -> Result<Option<u8>, Stop> {
        let mut b = [0u8];
        loop {
            match self.r.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(u8::from_le_bytes(b))),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Stop::Unreadable),
            }
        }
    }

    /// A number of up to `max` bytes of 7 bits, low first, each high bit
    /// saying another byte follows.
    fn varint(&mut self, first: u8, max: u32) -> Result<u32, Stop> {
        let mut value = u32::from(first & 0x7F);
        let mut last = first;
        for k in 1..max {
            if last & 0x80 == 0 {
                return Ok(value);
            }
            last = self.byte()?.ok_or(Stop::Cut)?;
            value |= u32::from(last & 0x7F) << (7 * k);
        }
        if last & 0x80 == 0 {
            Ok(value)
        } else {
            Err(Stop::BadHeader)
        }
    }

    /// The next record's type, its body in `self.body`; `None` at the part's end.
    fn next(&mut self) -> Result<Option<u16>, Stop> {
        let Some(first) = self.byte()? else {
            return Ok(None);
        };
        let kind = self.varint(first, 2)?;
        let first = self.byte()?.ok_or(Stop::Cut)?;
        let size = self.varint(first, 4)?;
        let keep = size.min(KEEP);
        self.body.clear();
        (&mut self.r)
            .take(u64::from(keep))
            .read_to_end(&mut self.body)
            .map_err(|_| Stop::Unreadable)?;
        let rest = u64::from(size - keep);
        let skipped = std::io::copy(&mut (&mut self.r).take(rest), &mut std::io::sink())
            .map_err(|_| Stop::Unreadable)?;
        if self.body.len() < keep as usize || skipped < rest {
            return Err(Stop::Cut);
        }
        Ok(Some(u16::try_from(kind).unwrap_or(u16::MAX)))
    }
}

/// Hands each record of a part to `on`, in order. A part that ends inside a
/// record, or cannot be read, marks the body incomplete and ends there.
fn each_record<S: TextSink>(
    r: &mut dyn Read,
    cx: &mut Cx<S>,
    mut on: impl FnMut(u16, &[u8], &mut Cx<S>),
) {
    let mut records = Records {
        r: BufReader::new(r),
        body: Vec::new(),
    };
    while !cx.stopped {
        match records.next() {
            Ok(Some(kind)) => on(kind, &records.body, cx),
            Ok(None) => return,
            Err(stop) => {
                cx.incomplete(IncompleteReason::Malformed, stop.detail());
                return;
            }
        }
    }
}

fn malformed<S: TextSink>(cx: &mut Cx<S>) {
    cx.incomplete(
        IncompleteReason::Malformed,
        "XLSB record shorter than its content",
    );
}

/// An XLWideString (a count of UTF-16 units, then the units) at `at`. One
/// that runs past its record is malformed, and what the record holds of it
/// is still its text.
fn wide_string<'a, S: TextSink>(b: &'a [u8], at: usize, cx: &mut Cx<S>) -> Cow<'a, str> {
    let Some(count) = u32_at(b, at) else {
        malformed(cx);
        return Cow::Borrowed("");
    };
    let units = b.get(at + 4..).unwrap_or(&[]);
    let len = usize::try_from(count).map_or(usize::MAX, |n| n.saturating_mul(2));
    if len > units.len() {
        malformed(cx);
    }
    utf16le(units.get(..len).unwrap_or(units))
}

/// The XLNullableWideStrings that follow one another from `at`, `n` of
/// them, each handed to `on` with its place among them (the NULL string, a
/// count of all ones, as empty). One that runs past its record is
/// malformed: what the record holds of it is handed on, and the fields
/// after it cannot be found. Where the field after the last one starts.
fn wide_strings<S: TextSink>(
    b: &[u8],
    mut at: usize,
    n: usize,
    cx: &mut Cx<S>,
    mut on: impl FnMut(usize, &str, &mut Cx<S>),
) -> Option<usize> {
    for k in 0..n {
        let Some(count) = u32_at(b, at) else {
            malformed(cx);
            return None;
        };
        at += 4;
        if count == u32::MAX {
            continue;
        }
        let units = b.get(at..).unwrap_or(&[]);
        let len = usize::try_from(count).map_or(usize::MAX, |n| n.saturating_mul(2));
        on(k, &utf16le(units.get(..len).unwrap_or(units)), cx);
        if len > units.len() {
            malformed(cx);
            return None;
        }
        at += len;
    }
    Some(at)
}

/// A piece of text of its own, if there is any (an empty message is kept
/// as a NUL by some writers; a header's first section opens with a line
/// break).
fn piece<S: TextSink>(text: &str, cx: &mut Cx<S>) {
    deliver(
        text.trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .as_bytes(),
        cx,
    );
}

/// The string constant a formula is, alone (a PtgStr: a count of UTF-16
/// units in two bytes, then the units); `None` for any other formula.
fn string_constant(rgce: &[u8]) -> Option<Cow<'_, str>> {
    let (&PTG_STR, rest) = rgce.split_first()? else {
        return None;
    };
    let cch = usize::from(u16::from_le_bytes(rest.get(..2)?.try_into().ok()?));
    let units = rest.get(2..)?;
    (units.len() == cch * 2).then(|| utf16le(units))
}

/// A formula (a count of token bytes, then the tokens, then their extra
/// data) at `at`: its tokens. One that runs past its record is malformed.
fn formula_at<'a, S: TextSink>(b: &'a [u8], at: usize, cx: &mut Cx<S>) -> Option<&'a [u8]> {
    let rgce = u32_at(b, at)
        .and_then(|cce| usize::try_from(cce).ok())
        .and_then(|cce| b.get(at + 4..(at + 4).checked_add(cce)?));
    if rgce.is_none() {
        malformed(cx);
    }
    rgce
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn f64_at(b: &[u8], at: usize) -> Option<f64> {
    Some(f64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The shared strings part: each BrtSSTItem's text (a RichStr: a flags byte,
/// then the string; its formatting and phonetic runs are not text).
pub(super) fn shared_strings<S: TextSink>(
    r: &mut dyn Read,
    out: &mut Vec<Vec<u8>>,
    cx: &mut Cx<S>,
) {
    each_record(r, cx, |kind, body, cx| {
        if kind != SST_ITEM {
            return;
        }
        let text = wide_string(body, 1, cx);
        if out.len() < MAX_SST {
            out.push(text.into_owned().into_bytes());
        } else if !text.trim().is_empty() {
            cx.sink.text(text.as_bytes());
            cx.sink.boundary();
        }
    });
}

/// A sheet's cells, row by row. Each cell record starts with its column
/// (then style and flags, 8 bytes in all), then its value; booleans, errors
/// and blanks hold nothing to read.
pub(super) fn sheet<S: TextSink>(
    r: &mut dyn Read,
    shared: &[Vec<u8>],
    used: &mut [bool],
    cx: &mut Cx<S>,
) {
    let mut columns = Columns::new();
    let mut text = String::new();
    each_record(r, cx, |kind, body, cx| {
        match kind {
            ROW_HDR => {
                columns.end_row(cx);
                return;
            }
            HEADER_FOOTER => return header_footer(body, cx),
            HLINK => return hyperlink(body, cx),
            DVAL => return validation(body, cx),
            _ => {}
        }
        if !matches!(
            kind,
            CELL_RK | CELL_REAL | CELL_ST | CELL_ISST | FMLA_STRING | FMLA_NUM | CELL_RSTRING
        ) {
            return;
        }
        let Some(col) = u32_at(body, 0) else {
            malformed(cx);
            return;
        };
        let col = usize::try_from(col).unwrap_or(usize::MAX);
        text.clear();
        let value: &[u8] = match kind {
            CELL_ISST => {
                let Some(i) = u32_at(body, 8).and_then(|i| usize::try_from(i).ok()) else {
                    malformed(cx);
                    return;
                };
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                shared.get(i).map_or(&[], Vec::as_slice)
            }
            CELL_ST | FMLA_STRING | CELL_RSTRING => {
                // A rich string's flags byte comes before its text.
                let at = if kind == CELL_RSTRING { 9 } else { 8 };
                text.push_str(&wide_string(body, at, cx));
                text.as_bytes()
            }
            _ => {
                let v = if kind == CELL_RK {
                    u32_at(body, 8).map(rk)
                } else {
                    f64_at(body, 8)
                };
                let Some(v) = v else {
                    malformed(cx);
                    return;
                };
                text.push_str(&number(v));
                text.as_bytes()
            }
        };
        columns.cell(value, col, cx);
    });
    columns.end_row(cx);
}

/// A sheet's page headers and footers (BrtBeginHeaderFooter: two bytes of
/// flags, then the odd-page header and footer, the even-page ones, the
/// first page's), each without its codes, as an Excel 97 sheet's are read.
fn header_footer<S: TextSink>(b: &[u8], cx: &mut Cx<S>) {
    wide_strings(b, 2, 6, cx, |_, s, cx| piece(&header_text(s), cx));
}

/// A hyperlink (BrtHLink: the cells it covers, 16 bytes, then its
/// relationship id, its place in the workbook, its tooltip and its display
/// text). Its target outside the workbook is in the sheet's `.rels`, read
/// with the package; the id is only the key to it.
fn hyperlink<S: TextSink>(b: &[u8], cx: &mut Cx<S>) {
    wide_strings(b, 16, 4, cx, |k, s, cx| {
        if k > 0 {
            piece(s, cx);
        }
    });
}

/// A data-validation rule (BrtDVal: four bytes of flags, the type in the
/// low four; the ranges it covers, a count then 16 bytes each; the error
/// message's title and text and the input message's; then its formulas).
/// A list typed in the rule is its first formula, one string constant
/// whose entries are NUL-separated.
fn validation<S: TextSink>(b: &[u8], cx: &mut Cx<S>) {
    let (Some(flags), Some(ranges)) = (u32_at(b, 0), u32_at(b, 4)) else {
        malformed(cx);
        return;
    };
    let strings = usize::try_from(ranges)
        .ok()
        .and_then(|n| n.checked_mul(16)?.checked_add(8))
        .filter(|&at| at <= b.len());
    let Some(at) = strings else {
        malformed(cx);
        return;
    };
    let Some(at) = wide_strings(b, at, 4, cx, |_, s, cx| piece(s, cx)) else {
        return;
    };
    if flags & 0x0F != 3 {
        return;
    }
    if let Some(list) = formula_at(b, at, cx).and_then(string_constant) {
        list.split('\0').for_each(|entry| piece(entry, cx));
    }
}

/// The workbook part: each sheet's name (BrtBundleSh: its state and tab
/// id, four bytes each, its relationship id, then its name), as an XLSX's
/// `<sheet name>` is read; and a defined name's string constant (BrtName),
/// under the field an XLSX's `<definedName>` gives its text. Its other
/// records are structure.
pub(super) fn workbook<S: TextSink>(r: &mut dyn Read, cx: &mut Cx<S>) {
    each_record(r, cx, |kind, body, cx| match kind {
        BUNDLE_SH => {
            wide_strings(body, 8, 2, cx, |k, s, cx| {
                if k == 1 {
                    piece(s, cx);
                }
            });
        }
        NAME => defined_name(body, cx),
        _ => {}
    });
}

/// A defined name (BrtName: four bytes of flags and a key byte, its name,
/// then its formula) whose formula is a string constant. Names whose
/// formula refers to cells hold no text of their own.
fn defined_name<S: TextSink>(b: &[u8], cx: &mut Cx<S>) {
    let Some(at) = wide_strings(b, 5, 1, cx, |_, _, _| {}) else {
        return;
    };
    if let Some(text) = formula_at(b, at, cx).and_then(string_constant) {
        let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        if !text.is_empty() {
            cx.sink.field(b"definedName");
            cx.sink.text(text.as_bytes());
            cx.sink.boundary();
        }
    }
}

/// A comments part: its authors, under the name an XLSX's comments part gives
/// them, and each comment's text (a RichStr).
pub(super) fn comments<S: TextSink>(r: &mut dyn Read, cx: &mut Cx<S>) {
    each_record(r, cx, |kind, body, cx| {
        let (field, text) = match kind {
            COMMENT_AUTHOR => (Some(&b"author"[..]), wide_string(body, 0, cx)),
            COMMENT_TEXT => (None, wide_string(body, 1, cx)),
            _ => return,
        };
        if text.trim().is_empty() {
            return;
        }
        if let Some(f) = field {
            cx.sink.field(f);
        }
        cx.sink.text(text.as_bytes());
        cx.sink.boundary();
    });
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::inspect::decode::Limits;
    use crate::inspect::sink::{RecordingSink, SinkEvent};

    fn cx() -> Cx<RecordingSink> {
        Cx::new(RecordingSink::default(), &Limits::default())
    }

    /// Record types of the parts read here, as their headers encode them.
    fn records(data: &[u8]) -> (Vec<u16>, Option<IncompleteReason>) {
        let mut kinds = Vec::new();
        let mut cx = cx();
        each_record(&mut &data[..], &mut cx, |kind, _, _| kinds.push(kind));
        (kinds, cx.incomplete.map(|i| i.reason))
    }

    #[test]
    fn record_headers_of_one_and_two_bytes() {
        // BrtRowHdr with an empty body; BrtCommentText (637 = 0x7D + 4 << 7)
        // with a two-byte size (130 = 2 + 1 << 7).
        let mut data = vec![0x00, 0x00, 0xFD, 0x04, 0x82, 0x01];
        data.extend([0u8; 130]);
        assert_eq!(records(&data), (vec![0, 637], None));
    }

    #[test]
    fn a_type_past_two_bytes_or_a_size_past_four_is_malformed() {
        let bad = Some(IncompleteReason::Malformed);
        assert_eq!(records(&[0x80, 0x80, 0x00, 0x00]), (vec![], bad));
        assert_eq!(
            records(&[0x01, 0x80, 0x80, 0x80, 0x80, 0x00]),
            (vec![], bad)
        );
    }

    #[test]
    fn a_part_ending_inside_a_header_is_malformed() {
        let bad = Some(IncompleteReason::Malformed);
        assert_eq!(records(&[0x00, 0x00, 0x85]), (vec![0], bad));
        assert_eq!(records(&[0x00, 0x00, 0x01, 0x85]), (vec![0], bad));
    }

    #[test]
    fn a_declared_size_past_the_end_is_malformed_without_holding_it() {
        // 0x0FFFFFFF bytes declared, four there.
        let (kinds, reason) = records(&[0x01, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4]);
        assert_eq!(kinds, Vec::<u16>::new());
        assert_eq!(reason, Some(IncompleteReason::Malformed));
    }

    #[test]
    fn a_record_longer_than_what_is_kept_is_skipped_past() {
        // A 200,000-byte record, then a row header.
        let size = 200_000u32;
        let mut data = vec![0x01];
        data.extend([
            (size & 0x7F) as u8 | 0x80,
            ((size >> 7) & 0x7F) as u8 | 0x80,
            (size >> 14) as u8,
        ]);
        data.extend(vec![0u8; size as usize]);
        data.extend([0x00, 0x00]);
        assert_eq!(records(&data), (vec![1, 0], None));
    }

    #[test]
    fn shared_strings_past_the_cap_are_scanned_as_they_are_read() {
        // Each item: type 19, size 9: flags, a count of 2, "ab".
        let item = [19u8, 9, 0, 2, 0, 0, 0, b'a', 0, b'b', 0];
        let mut data = item.repeat(MAX_SST);
        data.extend([19u8, 9, 0, 2, 0, 0, 0, b'y', 0, b'z', 0]);
        let mut cx = cx();
        let mut out = Vec::new();
        shared_strings(&mut &data[..], &mut out, &mut cx);
        assert_eq!(out.len(), MAX_SST);
        assert_eq!(
            cx.sink.events,
            vec![SinkEvent::Text(b"yz".to_vec()), SinkEvent::Boundary]
        );
        assert!(cx.incomplete.is_none());
    }

    #[test]
    fn parts_by_name() {
        let kind = |n: &str| match part(n) {
            Some(Part::Workbook) => "workbook",
            Some(Part::Sheet) => "sheet",
            Some(Part::Comments) => "comments",
            Some(Part::SharedStrings) => "sst",
            Some(Part::Unread(_)) => "unread",
            Some(Part::Skip) => "skip",
            None => "package",
        };
        assert_eq!(kind("xl/worksheets/sheet12.bin"), "sheet");
        assert_eq!(kind("xl/worksheets/binaryIndex1.bin"), "skip");
        assert_eq!(kind("xl/sharedStrings.bin"), "sst");
        assert_eq!(kind("xl/comments3.bin"), "comments");
        assert_eq!(kind("xl/styles.bin"), "skip");
        assert_eq!(kind("xl/workbook.bin"), "workbook");
        assert_eq!(kind("xl/pivotCache/pivotCacheRecords1.bin"), "unread");
        assert_eq!(kind("xl/vbaProject.bin"), "package");
        assert_eq!(kind("xl/embeddings/oleObject1.bin"), "package");
        assert_eq!(kind("xl/worksheets/sheet1.xml"), "package");
        assert_eq!(kind("docProps/core.xml"), "package");
    }

    /// A BIFF12 record of type `kind` (< 2^14) and `body` (< 2^21 bytes).
    fn brt(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        for (mut v, max) in [(u32::from(kind), 2), (body.len() as u32, 3)] {
            for _ in 0..max {
                let more = v >> 7 != 0;
                r.push((v & 0x7F) as u8 | if more { 0x80 } else { 0 });
                v >>= 7;
                if !more {
                    break;
                }
            }
        }
        r.extend_from_slice(body);
        r
    }

    const KINDS: [u16; 21] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19, 39, 62, 64, 156, 479, 494, 632, 637,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Records of every type read here with arbitrary bodies (counts past
        /// their record, indexes past the strings), then arbitrary bytes.
        #[test]
        fn any_records_never_panic(
            recs in prop::collection::vec((0usize..KINDS.len(), prop::collection::vec(any::<u8>(), 0..40)), 0..40),
            tail in prop::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut data: Vec<u8> = recs.iter().flat_map(|(k, b)| brt(KINDS[*k], b)).collect();
            data.extend(tail);
            let mut cx = cx();
            let mut shared = Vec::new();
            shared_strings(&mut &data[..], &mut shared, &mut cx);
            let mut used = vec![false; shared.len()];
            sheet(&mut &data[..], &shared, &mut used, &mut cx);
            comments(&mut &data[..], &mut cx);
            workbook(&mut &data[..], &mut cx);
        }
    }
}
