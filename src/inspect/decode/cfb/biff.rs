//! Excel 97–2003 cells: the BIFF8 records of a Workbook stream, shared
//! strings read across their CONTINUE records, numbers as typed.

use super::{u16_at, u32_at};
use crate::inspect::decode::cx::Cx;
use crate::inspect::decode::ooxml::cell;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// The record stream of a BIFF8 workbook.
struct Records<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let kind = u16_at(self.b, self.at)?;
        let len = usize::from(u16_at(self.b, self.at + 2)?);
        let body = self.b.get(self.at + 4..self.at + 4 + len)?;
        self.at += 4 + len;
        Some((kind, body))
    }
}

const BOF: u16 = 0x0809;
const FILEPASS: u16 = 0x002F;
const SST: u16 = 0x00FC;
const CONTINUE: u16 = 0x003C;
const LABELSST: u16 = 0x00FD;
const LABEL: u16 = 0x0204;
const NUMBER: u16 = 0x0203;
const RK: u16 = 0x027E;
const MULRK: u16 = 0x00BD;
const FORMULA: u16 = 0x0006;
const STRING: u16 = 0x0207;
const BOUNDSHEET: u16 = 0x0085;

/// Most shared strings kept; a workbook with more has its later ones cut.
const MAX_SST: usize = 1 << 20;

/// Reads across the CONTINUE records a long record is split into. A string's
/// characters that cross into the next record start it with a fresh flags
/// byte (the width of what follows); nothing else does.
struct Continued<'a> {
    parts: Vec<&'a [u8]>,
    part: usize,
    at: usize,
}

impl Continued<'_> {
    fn byte(&mut self) -> Option<u8> {
        loop {
            let p = self.parts.get(self.part)?;
            if let Some(&b) = p.get(self.at) {
                self.at += 1;
                return Some(b);
            }
            self.part += 1;
            self.at = 0;
        }
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    fn skip(&mut self, mut n: usize) -> Option<()> {
        while n > 0 {
            let p = self.parts.get(self.part)?;
            let left = p.len() - self.at.min(p.len());
            if left == 0 {
                self.part += 1;
                self.at = 0;
                continue;
            }
            let step = left.min(n);
            self.at += step;
            n -= step;
        }
        Some(())
    }

    /// `cch` characters, 8- or 16-bit by `high`, each record change re-read.
    fn chars(&mut self, cch: usize, mut high: bool, out: &mut String) -> Option<()> {
        for _ in 0..cch {
            let p = self.parts.get(self.part)?;
            if self.at >= p.len() {
                self.part += 1;
                self.at = 0;
                high = self.byte()? & 1 != 0;
            }
            let c = if high {
                u32::from(self.u16()?)
            } else {
                u32::from(self.byte()?)
            };
            out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
        }
        Some(())
    }

    /// An XLUnicodeRichExtendedString (the shared strings' form).
    fn rich_string(&mut self) -> Option<String> {
        let cch = usize::from(self.u16()?);
        let flags = self.byte()?;
        let runs = if flags & 0x08 != 0 { self.u16()? } else { 0 };
        let ext = if flags & 0x04 != 0 { self.u32()? } else { 0 };
        let mut s = String::new();
        self.chars(cch, flags & 1 != 0, &mut s)?;
        self.skip(usize::from(runs) * 4)?;
        self.skip(ext as usize)?;
        Some(s)
    }
}

/// An XLUnicodeString inside one record (labels, cached formula strings).
fn short_string(b: &[u8], at: usize) -> String {
    let mut c = Continued {
        parts: vec![b.get(at..).unwrap_or(&[])],
        part: 0,
        at: 0,
    };
    let mut s = String::new();
    if let (Some(cch), Some(flags)) = (c.u16(), c.byte()) {
        c.chars(usize::from(cch), flags & 1 != 0, &mut s);
    }
    s
}

/// An RK number: a 30-bit integer or the top of a double, maybe over 100.
/// XLSB cells keep the same form.
pub(in crate::inspect::decode) fn rk(v: u32) -> f64 {
    let n = if v & 2 != 0 {
        f64::from((v as i32) >> 2)
    } else {
        f64::from_bits(u64::from(v & !3) << 32)
    };
    if v & 1 != 0 {
        n / 100.0
    } else {
        n
    }
}

/// A number as a person would type it: 66123456, not 66123456.0.
pub(in crate::inspect::decode) fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The cells of a BIFF8 workbook, sheet by sheet: each sheet's first row
/// names its columns, as in an XLSX.
pub(super) fn biff<S: TextSink>(book: &[u8], cx: &mut Cx<S>) {
    let records: Vec<(u16, &[u8])> = Records { b: book, at: 0 }.collect();
    let mut sst: Vec<String> = Vec::new();
    let mut headers: Vec<Vec<u8>> = Vec::new();
    let mut first_row: Option<u16> = None;
    let mut i = 0;
    while let Some(&(kind, body)) = records.get(i) {
        i += 1;
        let row_col = || Some((u16_at(body, 0)?, usize::from(u16_at(body, 2)?)));
        let mut put = |row: u16, col: usize, text: &str, cx: &mut Cx<S>| {
            let first = *first_row.get_or_insert(row) == row;
            cell(text.as_bytes(), col, first, &mut headers, cx);
        };
        match kind {
            FILEPASS => {
                cx.incomplete(
                    IncompleteReason::Encrypted,
                    "password-protected Excel workbook",
                );
                return;
            }
            BOF => {
                headers.clear();
                first_row = None;
            }
            BOUNDSHEET => {
                // The sheet's name.
                cx.sink.text(short_string(body, 6).as_bytes());
                cx.sink.boundary();
            }
            SST => {
                let mut parts = vec![body.get(8..).unwrap_or(&[])];
                while let Some(&(CONTINUE, more)) = records.get(i) {
                    parts.push(more);
                    i += 1;
                }
                let mut c = Continued {
                    parts,
                    part: 0,
                    at: 0,
                };
                let total = u32_at(body, 4).unwrap_or(0) as usize;
                while sst.len() < total.min(MAX_SST) {
                    match c.rich_string() {
                        Some(s) => sst.push(s),
                        None => break,
                    }
                }
            }
            LABELSST => {
                if let (Some((row, col)), Some(k)) = (row_col(), u32_at(body, 6)) {
                    let text = sst.get(k as usize).map_or("", String::as_str);
                    put(row, col, text, cx);
                }
            }
            LABEL => {
                if let Some((row, col)) = row_col() {
                    put(row, col, &short_string(body, 6), cx);
                }
            }
            NUMBER | FORMULA => {
                let value = body
                    .get(6..14)
                    .and_then(|b| b.try_into().ok())
                    .map(u64::from_le_bytes);
                if let (Some((row, col)), Some(bits)) = (row_col(), value) {
                    // A formula whose result is text says so here (its text
                    // follows in a STRING record).
                    if kind == FORMULA && bits >> 48 == 0xFFFF {
                        if let Some(&(STRING, s)) = records.get(i) {
                            put(row, col, &short_string(s, 0), cx);
                            i += 1;
                        }
                    } else {
                        put(row, col, &number(f64::from_bits(bits)), cx);
                    }
                }
            }
            RK => {
                if let (Some((row, col)), Some(v)) = (row_col(), u32_at(body, 6)) {
                    put(row, col, &number(rk(v)), cx);
                }
            }
            MULRK => {
                if let Some((row, first)) = row_col() {
                    let n = body.len().saturating_sub(6) / 6;
                    for k in 0..n {
                        if let Some(v) = u32_at(body, 4 + k * 6 + 2) {
                            put(row, first + k, &number(rk(v)), cx);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
