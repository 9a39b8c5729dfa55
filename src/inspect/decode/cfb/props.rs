//! OLE property sets ([MS-OLEPS]): the `\x05SummaryInformation` and
//! `\x05DocumentSummaryInformation` streams of Word, Excel and PowerPoint 97
//! files, where File > Properties keeps the title, author, keywords,
//! comments, company, manager and the user's own custom properties. A
//! damaged set is passed over: these are metadata, and a document is not
//! less read for want of them.

use encoding_rs::Encoding;

use super::{u16_at, u32_at};
use crate::inspect::decode::cx::Cx;
use crate::inspect::sink::TextSink;

/// The user-defined section of DocumentSummaryInformation
/// ({D5CDD505-2E9C-101B-9397-08002B2CF9AE} as stored, little-endian).
const FMTID_USER_DEFINED: [u8; 16] = [
    0x05, 0xD5, 0xCD, 0xD5, 0x9C, 0x2E, 0x1B, 0x10, 0x93, 0x97, 0x08, 0x00, 0x2B, 0x2C, 0xF9, 0xAE,
];

/// Sections per stream (the format has one or two).
const MAX_SECTIONS: usize = 4;
/// Properties per section, and strings per vector: a forged count cannot
/// make the loop run for long.
const MAX_PROPERTIES: usize = 4096;
/// Bytes of one string value kept.
const MAX_STRING: usize = 64 << 10;

const VT_I2: u16 = 0x0002;
const VT_I4: u16 = 0x0003;
const VT_R8: u16 = 0x0005;
const VT_UI4: u16 = 0x0013;
const VT_LPSTR: u16 = 0x001E;
const VT_LPWSTR: u16 = 0x001F;
const VT_VECTOR: u16 = 0x1000;

/// Property identifiers that are not values: the names dictionary, the code
/// page, the locale and the behaviour flags.
const DICTIONARY: u32 = 0;
const CODEPAGE: u32 = 1;

/// Every string value of a property-set stream, each its own piece; a
/// custom property's name comes with it as its field.
pub(super) fn property_set<S: TextSink>(data: &[u8], cx: &mut Cx<S>) {
    if u16_at(data, 0) != Some(0xFFFE) {
        return;
    }
    let Some(sections) = u32_at(data, 24) else {
        return;
    };
    for k in 0..(sections as usize).min(MAX_SECTIONS) {
        let at = 28 + k * 20;
        let (Some(fmtid), Some(offset)) = (data.get(at..at + 16), u32_at(data, at + 16)) else {
            return;
        };
        let Some(section) = data.get(offset as usize..) else {
            continue;
        };
        // The section's size bounds every offset in it.
        let size = u32_at(section, 0).map_or(0, |s| s as usize);
        let section = section.get(..size.min(section.len())).unwrap_or(&[]);
        read_section(section, fmtid == FMTID_USER_DEFINED, cx);
    }
}

fn read_section<S: TextSink>(section: &[u8], custom: bool, cx: &mut Cx<S>) {
    let Some(count) = u32_at(section, 4) else {
        return;
    };
    let count = (count as usize)
        .min(MAX_PROPERTIES)
        .min(section.len().saturating_sub(8) / 8);
    let table: Vec<(u32, usize)> = (0..count)
        .filter_map(|k| {
            let at = 8 + k * 8;
            Some((u32_at(section, at)?, u32_at(section, at + 4)? as usize))
        })
        // An offset past the section points at nothing; dropping it here
        // keeps every later offset sum small.
        .filter(|&(_, at)| at < section.len())
        .collect();
    let codepage = table
        .iter()
        .find(|&&(id, _)| id == CODEPAGE)
        .and_then(|&(_, at)| {
            (u16_at(section, at)? == VT_I2).then_some(())?;
            u16_at(section, at + 4)
        })
        .unwrap_or(1252);
    let Some(encoding) = code_page(codepage) else {
        // Strings in a code page not known here are passed over rather than
        // misread; this happens for code pages no Office version writes.
        return;
    };
    let names = if custom {
        table
            .iter()
            .find(|&&(id, _)| id == DICTIONARY)
            .map(|&(_, at)| dictionary(section, at, encoding))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    for &(id, at) in &table {
        // The dictionary, the code page, and the locale and behaviour
        // (0x80000000 and up) are not values.
        if id == DICTIONARY || id == CODEPAGE || id >= 0x8000_0000 {
            continue;
        }
        let mut values = Vec::new();
        typed_value(section, at, encoding, custom, &mut values);
        let name = names.iter().find(|(n, _)| *n == id).map(|(_, s)| s);
        for value in values.iter().filter(|v| !v.trim().is_empty()) {
            if let Some(name) = name {
                cx.sink.field(name.as_bytes());
            }
            cx.sink.text(value.as_bytes());
            cx.sink.boundary();
        }
    }
}

/// A TypedPropertyValue's text: strings, vectors of strings, and in the
/// custom section numbers too (a staff number or a phone number is often
/// typed as one).
fn typed_value(
    section: &[u8],
    at: usize,
    encoding: &'static Encoding,
    custom: bool,
    out: &mut Vec<String>,
) {
    let Some(kind) = u16_at(section, at) else {
        return;
    };
    let value = at + 4;
    match kind {
        VT_LPSTR | VT_LPWSTR => {
            if let Some((s, _)) = string(section, value, kind, encoding) {
                out.push(s);
            }
        }
        k if k == VT_VECTOR | VT_LPSTR || k == VT_VECTOR | VT_LPWSTR => {
            let Some(n) = u32_at(section, value) else {
                return;
            };
            let mut at = value + 4;
            for _ in 0..(n as usize).min(MAX_PROPERTIES) {
                let Some((s, next)) = string(section, at, k & !VT_VECTOR, encoding) else {
                    return;
                };
                out.push(s);
                at = next;
            }
        }
        VT_I4 if custom => {
            if let Some(v) = u32_at(section, value) {
                out.push((v as i32).to_string());
            }
        }
        VT_UI4 if custom => {
            if let Some(v) = u32_at(section, value) {
                out.push(v.to_string());
            }
        }
        VT_R8 if custom => {
            let bits = section
                .get(value..value + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes);
            if let Some(bits) = bits {
                out.push(super::number(f64::from_bits(bits)));
            }
        }
        _ => {}
    }
}

/// A CodePageString (VT_LPSTR: a byte count, then bytes in the section's
/// code page) or a UnicodeString (VT_LPWSTR: a character count, then
/// UTF-16), and where the next value starts (each is padded to 4 bytes).
fn string(
    section: &[u8],
    at: usize,
    kind: u16,
    encoding: &'static Encoding,
) -> Option<(String, usize)> {
    let n = u32_at(section, at)? as usize;
    let bytes = if kind == VT_LPWSTR {
        n.checked_mul(2)?
    } else {
        n
    };
    let start = at + 4;
    let end = start.checked_add(bytes)?;
    // A length past the section is damage, not a string to read in part.
    let raw = section.get(start..end)?;
    let kept = raw.get(..raw.len().min(MAX_STRING)).unwrap_or(raw);
    let encoding = if kind == VT_LPWSTR {
        encoding_rs::UTF_16LE
    } else {
        encoding
    };
    let text = encoding.decode_without_bom_handling(kept).0;
    let text = text.trim_end_matches('\0');
    // Up to the first NUL: what follows it is left-over buffer, not text.
    let text = text.split('\0').next().unwrap_or("");
    // The format pads each value to 4 bytes; some writers do not, and then
    // what would be padding is the next value's first bytes.
    let padded = end.checked_add(3)? & !3;
    let gap = section.get(end..padded).unwrap_or(&[]);
    let next = if gap.iter().all(|&b| b == 0) {
        padded
    } else {
        end
    };
    Some((text.to_owned(), next))
}

/// The names of the custom properties: (identifier, name) pairs, each name
/// a byte count of characters in the code page (UTF-16 ones padded).
fn dictionary(section: &[u8], at: usize, encoding: &'static Encoding) -> Vec<(u32, String)> {
    let mut names = Vec::new();
    let Some(n) = u32_at(section, at) else {
        return names;
    };
    let wide = encoding == encoding_rs::UTF_16LE;
    let mut at = at + 4;
    for _ in 0..(n as usize).min(MAX_PROPERTIES) {
        let (Some(id), Some(len)) = (u32_at(section, at), u32_at(section, at + 4)) else {
            break;
        };
        let bytes = if wide {
            (len as usize).saturating_mul(2)
        } else {
            len as usize
        };
        let start = at + 8;
        let Some(raw) = section.get(start..start.saturating_add(bytes)) else {
            break;
        };
        let kept = raw.get(..raw.len().min(MAX_STRING)).unwrap_or(raw);
        let name = encoding.decode_without_bom_handling(kept).0;
        names.push((id, name.trim_end_matches('\0').to_owned()));
        at = start + bytes;
        if wide {
            at = (at + 3) & !3;
        }
    }
    names
}

/// The encoding of a property set's code page: the Windows ones Office
/// writes, UTF-16 (1200) and UTF-8 (65001).
fn code_page(cp: u16) -> Option<&'static Encoding> {
    match cp {
        1200 => Some(encoding_rs::UTF_16LE),
        1201 => Some(encoding_rs::UTF_16BE),
        65001 => Some(encoding_rs::UTF_8),
        10000 => Some(encoding_rs::MACINTOSH),
        20127 | 28591 => Some(encoding_rs::WINDOWS_1252),
        cp => crate::inspect::decode::rtf::windows_codepage(i64::from(cp)),
    }
}
