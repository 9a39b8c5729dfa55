//! PDF text, best effort: FlateDecode (or unfiltered) content streams are
//! inflated under the body's limits and their text-showing operators (`Tj`,
//! `TJ`, `'`, `"`) read, literal and hex strings alike. A PDF whose text could
//! not be read (encrypted, unknown filters) says so: never a silent pass.

use flate2::{Decompress, FlushDecompress, Status};
use memchr::memmem;

use super::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// How far back from `stream` the object's dictionary is looked for.
const DICT_WINDOW: usize = 4096;
const MAX_STRING: usize = 64 << 10;

enum Filter {
    None,
    Flate,
    Image(&'static str),
    Unreadable,
}

pub(crate) fn scan<S: TextSink>(buf: &[u8], _depth: u32, cx: &mut Cx<S>) {
    cx.format("pdf");
    if memmem::find(buf, b"/Encrypt").is_some() {
        cx.incomplete(IncompleteReason::Encrypted, "encrypted PDF");
        return;
    }
    let mut text_bytes = 0usize;
    let mut unreadable = 0usize;
    let mut streams = 0usize;
    let mut out = Vec::new();
    let mut at = 0;
    let mut gap = 0;
    while let Some(p) = memmem::find(buf.get(at..).unwrap_or(&[]), b"stream") {
        if cx.stopped {
            return;
        }
        let kw = at + p;
        at = kw + 6;
        if kw >= 3 && buf.get(kw - 3..kw) == Some(b"end") {
            continue;
        }
        let start = match buf.get(at..at + 2) {
            Some([b'\r', b'\n', ..]) => at + 2,
            Some([b'\n', ..]) | Some([b'\r', ..]) => at + 1,
            _ => continue,
        };
        let Some(len) = memmem::find(buf.get(start..).unwrap_or(&[]), b"endstream") else {
            unreadable += 1;
            break;
        };
        let data = buf.get(start..start + len).unwrap_or(&[]);
        text_bytes += dict_strings(buf.get(gap..start).unwrap_or(&[]), cx);
        gap = start + len;
        at = start + len + 9;
        streams += 1;
        let dict = buf.get(kw.saturating_sub(DICT_WINDOW)..kw).unwrap_or(&[]);
        let dict = match memmem::rfind(dict, b"obj") {
            Some(o) => dict.get(o..).unwrap_or(&[]),
            None => dict,
        };
        out.clear();
        let content: &[u8] = match filter(dict) {
            Filter::Image(mime) => {
                cx.media(mime);
                continue;
            }
            Filter::Unreadable => {
                unreadable += 1;
                continue;
            }
            Filter::None => data,
            Filter::Flate => {
                if !inflate(data, &mut out, cx) && out.is_empty() {
                    unreadable += 1;
                    continue;
                }
                &out
            }
        };
        text_bytes += show_text(content, cx);
        // Object streams hold dictionaries (form fields) compressed.
        text_bytes += dict_strings(content, cx);
    }
    text_bytes += dict_strings(buf.get(gap..).unwrap_or(&[]), cx);
    if text_bytes == 0 && unreadable > 0 {
        cx.incomplete(
            IncompleteReason::Unsupported,
            "PDF text is in streams that could not be read",
        );
    } else if streams == 0 && text_bytes == 0 {
        cx.incomplete(IncompleteReason::Malformed, "PDF without content streams");
    }
}

fn filter(dict: &[u8]) -> Filter {
    let has = |n: &[u8]| memmem::find(dict, n).is_some();
    if has(b"/Subtype/Image") || has(b"/Subtype /Image") {
        return Filter::Image(if has(b"/DCTDecode") {
            "image/jpeg"
        } else if has(b"/JPXDecode") {
            "image/jp2"
        } else {
            "image/x-pdf-image"
        });
    }
    if has(b"/DCTDecode") {
        return Filter::Image("image/jpeg");
    }
    if !has(b"/Filter") {
        return Filter::None;
    }
    let known_only = [b"/FlateDecode".as_slice(), b"/Fl "].iter().any(|f| has(f))
        && ![
            b"/LZWDecode".as_slice(),
            b"/ASCII85Decode",
            b"/ASCIIHexDecode",
            b"/RunLengthDecode",
            b"/Crypt",
        ]
        .iter()
        .any(|f| has(f));
    if known_only {
        Filter::Flate
    } else {
        Filter::Unreadable
    }
}

/// Inflates a zlib stream into `out` under the body's limits; false on error.
fn inflate<S: TextSink>(data: &[u8], out: &mut Vec<u8>, cx: &mut Cx<S>) -> bool {
    let mut d = Decompress::new(true);
    let cap = (data.len() as u64)
        .saturating_mul(cx.limits.max_ratio)
        .max(cx.limits.ratio_grace_bytes)
        .min(cx.expand_room().min(cx.limits.max_buffer_bytes));
    let mut input = data;
    let mut chunk = [0u8; 32 << 10];
    loop {
        let (in0, out0) = (d.total_in(), d.total_out());
        let status = d.decompress(input, &mut chunk, FlushDecompress::None);
        let used = (d.total_in() - in0) as usize;
        let made = (d.total_out() - out0) as usize;
        input = input.get(used..).unwrap_or(&[]);
        if (out.len() + made) as u64 > cap {
            cx.incomplete(
                IncompleteReason::RatioLimit,
                "PDF stream expands past the limits",
            );
            return false;
        }
        out.extend_from_slice(chunk.get(..made).unwrap_or(&[]));
        if !cx.expand(made) {
            return false;
        }
        match status {
            Ok(Status::StreamEnd) => return true,
            Ok(_) if used == 0 && made == 0 => return !out.is_empty(),
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// Delivers the strings shown by text operators; returns the bytes delivered.
fn show_text<S: TextSink>(content: &[u8], cx: &mut Cx<S>) -> usize {
    let mut shown = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut line_has_text = false;
    let mut i = 0;
    while let Some(&c) = content.get(i) {
        match c {
            b'(' => i = literal(content, i + 1, &mut pending),
            b'<' if content.get(i + 1) == Some(&b'<') => i += 2,
            b'<' => i = hex(content, i + 1, &mut pending),
            b'%' => {
                while content.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            b'[' | b']' | b'>' | b'{' | b'}' => i += 1,
            b'-' | b'0'..=b'9' | b'.' | b'+' => {
                let start = i;
                while content
                    .get(i)
                    .is_some_and(|c| matches!(c, b'-' | b'0'..=b'9' | b'.' | b'+'))
                {
                    i += 1;
                }
                // A large negative kerning inside TJ is a word gap.
                let num = std::str::from_utf8(content.get(start..i).unwrap_or(&[]))
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(0.0);
                if num < -200.0 && !pending.is_empty() {
                    pending.push(b' ');
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while content
                    .get(i)
                    .is_some_and(|c| !c.is_ascii_whitespace() && !b"()<>[]{}/%".contains(c))
                {
                    i += 1;
                }
                if i == start {
                    // A name: `/F1`.
                    i += 1;
                    while content
                        .get(i)
                        .is_some_and(|c| !c.is_ascii_whitespace() && !b"()<>[]{}/%".contains(c))
                    {
                        i += 1;
                    }
                    continue;
                }
                match content.get(start..i).unwrap_or(&[]) {
                    b"Tj" | b"TJ" | b"'" | b"\"" => {
                        let op_newline = matches!(content.get(start), Some(b'\'' | b'"'));
                        if op_newline && line_has_text {
                            cx.sink.boundary();
                        }
                        shown += deliver(&pending, cx);
                        line_has_text |= !pending.is_empty();
                    }
                    b"Td" | b"TD" | b"T*" | b"ET" | b"Tm" if line_has_text => {
                        cx.sink.boundary();
                        line_has_text = false;
                    }
                    _ => {}
                }
                pending.clear();
            }
        }
    }
    if line_has_text {
        cx.sink.boundary();
    }
    shown
}

/// Keys whose string values are text a person wrote: form field values,
/// annotations, the document's info.
const TEXT_KEYS: [&[u8]; 7] = [
    b"V",
    b"Contents",
    b"Title",
    b"Author",
    b"Subject",
    b"Keywords",
    b"TU",
];

/// Delivers the strings of `TEXT_KEYS` in dictionaries; returns the bytes delivered.
fn dict_strings<S: TextSink>(region: &[u8], cx: &mut Cx<S>) -> usize {
    let mut shown = 0;
    let mut value = Vec::new();
    let mut at = 0;
    while let Some(p) = memchr::memchr(b'/', region.get(at..).unwrap_or(&[])) {
        let name_start = at + p + 1;
        let mut i = name_start;
        while region.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
            i += 1;
        }
        let name = region.get(name_start..i).unwrap_or(&[]);
        at = i.max(name_start);
        if !TEXT_KEYS.contains(&name) {
            continue;
        }
        while region.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        value.clear();
        at = match (region.get(i), region.get(i + 1)) {
            (Some(b'('), _) => literal(region, i + 1, &mut value),
            (Some(b'<'), Some(c)) if *c != b'<' => hex(region, i + 1, &mut value),
            _ => continue,
        };
        if !value.is_empty() {
            shown += deliver(&value, cx);
            cx.sink.boundary();
        }
    }
    shown
}

/// PDF strings starting with a UTF-16BE mark are decoded; others pass as bytes.
fn deliver<S: TextSink>(s: &[u8], cx: &mut Cx<S>) -> usize {
    if let Some(rest) = s.strip_prefix(b"\xfe\xff") {
        let units = rest.chunks_exact(2).map(|p| {
            u16::from_be_bytes([
                p.first().copied().unwrap_or(0),
                p.get(1).copied().unwrap_or(0),
            ])
        });
        let text: String = char::decode_utf16(units)
            .map(|r| r.unwrap_or('\u{fffd}'))
            .collect();
        cx.sink.text(text.as_bytes());
        return text.len();
    }
    cx.sink.text(s);
    s.len()
}

/// A literal string from after its `(`; returns the index after its `)`.
fn literal(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    let mut nest = 0u32;
    while let Some(&c) = b.get(i) {
        i += 1;
        let byte = match c {
            b'\\' => {
                let Some(&e) = b.get(i) else { break };
                i += 1;
                match e {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' | b'f' => b' ',
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match b.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        (v & 0xff) as u8
                    }
                    b'\r' | b'\n' => continue,
                    other => other,
                }
            }
            b'(' => {
                nest += 1;
                b'('
            }
            b')' if nest == 0 => return i,
            b')' => {
                nest -= 1;
                b')'
            }
            c => c,
        };
        if out.len() < MAX_STRING {
            out.push(byte);
        }
    }
    i
}

fn hex(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    let mut hi: Option<u8> = None;
    while let Some(&c) = b.get(i) {
        i += 1;
        let v = match c {
            b'>' => break,
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => continue,
        };
        match hi.take() {
            None => hi = Some(v),
            Some(h) if out.len() < MAX_STRING => out.push(h << 4 | v),
            Some(_) => {}
        }
    }
    if let Some(h) = hi {
        if out.len() < MAX_STRING {
            out.push(h << 4);
        }
    }
    i
}
