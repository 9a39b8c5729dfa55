//! Word 97–2003 text: the pieces the table stream's piece table lays out over
//! the WordDocument stream, 8-bit (Windows-1252) or UTF-16.

use super::{u16_at, u32_at, utf16le};
use crate::inspect::decode::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// The flags word of a Word document's header, if it is one.
pub(super) fn word_flags(word: &[u8]) -> Option<u16> {
    (u16_at(word, 0)? == 0xA5EC).then(|| u16_at(word, 0x0A))?
}

/// Text as Word stores it, with its control characters (paragraph and cell
/// marks, field delimiters, page breaks) turned into line breaks.
pub(super) fn push_word_char(c: char, out: &mut String) {
    out.push(if (c as u32) < 0x20 && c != '\t' {
        '\n'
    } else {
        c
    });
}

/// A Word document's text, piece by piece as its piece table (in the CLX of
/// the table stream) lays it out: runs of 8-bit (cp1252) or UTF-16 text in
/// the WordDocument stream. False if the piece table could not be found.
pub(super) fn word_text<S: TextSink>(word: &[u8], table: &[u8], cx: &mut Cx<S>) -> bool {
    // The header's variable parts: 16-bit words, 32-bit words, then the
    // (offset, size) pairs, of which the CLX is the 34th.
    let Some(csw) = u16_at(word, 0x20) else {
        return false;
    };
    let lw = 0x22 + usize::from(csw) * 2;
    let Some(cslw) = u16_at(word, lw) else {
        return false;
    };
    let pairs = lw + 2 + usize::from(cslw) * 4 + 2;
    let (Some(fc_clx), Some(lcb_clx)) = (
        u32_at(word, pairs + 33 * 8),
        u32_at(word, pairs + 33 * 8 + 4),
    ) else {
        return false;
    };
    let Some(clx) = table.get(fc_clx as usize..(fc_clx as usize).saturating_add(lcb_clx as usize))
    else {
        return false;
    };
    // Skip the property modifiers (type 1) to the piece table (type 2).
    let mut i = 0;
    let plc = loop {
        match clx.get(i) {
            Some(1) => i += 3 + usize::from(u16_at(clx, i + 1).unwrap_or(0)),
            Some(2) => {
                let Some(lcb) = u32_at(clx, i + 1) else {
                    return false;
                };
                break clx
                    .get(i + 5..(i + 5).saturating_add(lcb as usize))
                    .unwrap_or(&[]);
            }
            _ => return false,
        }
    };
    let n = plc.len().saturating_sub(4) / 12;
    let mut text = String::new();
    // Pieces cover the stream's text once: a table whose pieces add up to
    // more than the stream repeats it (or is forged to), and is cut there.
    let mut left = word.len();
    for k in 0..n {
        let (Some(cp0), Some(cp1), Some(fc)) = (
            u32_at(plc, k * 4),
            u32_at(plc, k * 4 + 4),
            u32_at(plc, (n + 1) * 4 + k * 8 + 2),
        ) else {
            break;
        };
        let chars = cp1.saturating_sub(cp0) as usize;
        let bytes = if fc & 0x4000_0000 != 0 {
            chars
        } else {
            chars.saturating_mul(2)
        };
        if bytes > left {
            cx.incomplete(
                IncompleteReason::Malformed,
                "Word piece table longer than its text",
            );
            break;
        }
        left -= bytes;
        text.clear();
        if fc & 0x4000_0000 != 0 {
            let at = ((fc & !0x4000_0000) / 2) as usize;
            for &b in word.get(at..at.saturating_add(chars)).unwrap_or(&[]) {
                push_word_char(cp1252(b), &mut text);
            }
        } else {
            let at = fc as usize;
            let bytes = word.get(at..at.saturating_add(chars * 2)).unwrap_or(&[]);
            utf16le(bytes)
                .chars()
                .for_each(|c| push_word_char(c, &mut text));
        }
        // Pieces split text anywhere: no boundary between them.
        cx.sink.text(text.as_bytes());
    }
    cx.sink.boundary();
    true
}

/// Windows-1252 as Word's 8-bit pieces use it: Latin-1 but for 0x80–0x9F,
/// whose typographic marks stand in as their plain forms.
pub(super) fn cp1252(b: u8) -> char {
    match b {
        0x91 | 0x92 => '\'',
        0x93 | 0x94 => '"',
        0x96 | 0x97 => '-',
        0x80..=0x9F => ' ',
        _ => char::from(b),
    }
}
