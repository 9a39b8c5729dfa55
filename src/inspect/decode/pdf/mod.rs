//! PDF text, best effort. Streams are decoded through their filter chains
//! under the body's limits; page content's text-showing operators (`Tj`, `TJ`,
//! `'`, `"`) are read through each font's ToUnicode CMap (subset fonts show
//! glyph numbers, not characters); strings outside streams (form values, the
//! document's info), XMP metadata and attached files are read too. A PDF
//! whose text could not be read (encrypted, filters not read here, a font
//! with no map, a file cut short) says so: never a silent pass.

mod cmap;
mod document;
mod filters;
mod syntax;

use memchr::memmem;

use super::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;
use filters::Filter;

/// How far back from `stream` the object's dictionary is looked for.
const DICT_WINDOW: usize = 4096;
const MAX_STRING: usize = 64 << 10;

pub(crate) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    cx.format("pdf");
    if memmem::find(buf, b"/Encrypt").is_some() {
        cx.incomplete(IncompleteReason::Encrypted, "encrypted PDF");
        return;
    }
    let doc = document::Document::of(buf, cx);
    let mut text_bytes = 0usize;
    // Streams that could not be read: ones whose text is the document's
    // (page content, object streams, attachments), and others.
    let mut hidden = 0usize;
    let mut unreadable = 0usize;
    let mut unmapped = false;
    let mut cut = false;
    let mut streams = 0usize;
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
        let Some(start) = syntax::stream_start(buf, at) else {
            continue;
        };
        // Without `endstream` the file was cut short: what is there is read.
        let len =
            memmem::find(buf.get(start..).unwrap_or(&[]), b"endstream").unwrap_or_else(|| {
                cut = true;
                buf.len() - start
            });
        let raw = buf.get(start..start + len).unwrap_or(&[]);
        text_bytes += dict_strings(buf.get(gap..start).unwrap_or(&[]), cx);
        gap = start + len;
        at = start + len + 9;
        streams += 1;
        let from = kw.saturating_sub(DICT_WINDOW);
        let dict = buf.get(from..kw).unwrap_or(&[]);
        let (dict, num) = match memmem::rfind(dict, b"obj") {
            Some(o) => (
                dict.get(o..).unwrap_or(&[]),
                syntax::header_number(buf, from + o),
            ),
            None => (dict, None),
        };
        // `/Length` says where the data ends: the line break before
        // `endstream` is not data, but a stream's last byte may be a line
        // feed. Without a direct length that fits, all of it is taken.
        let length = syntax::value(dict, b"Length")
            .filter(|v| syntax::reference(v).is_none())
            .and_then(|_| syntax::int(dict, b"Length"))
            .and_then(|n| usize::try_from(n).ok());
        let data = match length {
            Some(n)
                if raw
                    .get(n..)
                    .is_some_and(|t| t.iter().all(u8::is_ascii_whitespace)) =>
            {
                raw.get(..n).unwrap_or(raw)
            }
            _ => raw,
        };
        let is_type = |t: &[u8]| syntax::is_name(dict, b"Type", t);
        if is_type(b"XRef") {
            // Byte offsets of objects, in binary.
            continue;
        }
        let attachment = is_type(b"EmbeddedFile").then(|| doc.attachment(num).unwrap_or(""));
        let matters = attachment.is_some()
            || doc.is_content(num)
            || is_type(b"ObjStm")
            || is_type(b"Metadata");
        // A stream read in part (cut short, corrupt) is scanned for what it
        // gave, and counts as not read.
        let (content, whole) = match filters::filter(dict) {
            Filter::Image(mime) => {
                cx.media(mime);
                continue;
            }
            Filter::Unreadable => (Vec::new(), false),
            Filter::Chain(steps) if steps.is_empty() => (data.to_vec(), true),
            Filter::Chain(steps) => filters::decode(data, &steps, cx),
        };
        if !whole {
            if matters {
                hidden += 1;
            } else {
                unreadable += 1;
            }
        }
        if content.is_empty() {
            continue;
        }
        if let Some(name) = attachment {
            // An attached file leaves with the PDF: read as what it is.
            super::container::nested(&mut content.as_slice(), name, depth, cx);
            text_bytes += content.len();
            continue;
        }
        if !doc.is_content(num) && xfa_packet(&content) {
            // An XFA form (Adobe LiveCycle, many government and HR forms):
            // its filled-in data and its captions are XML packets, and a
            // dynamic form's pages hold only "Please wait…".
            super::container::nested(&mut content.as_slice(), "xfa.xml", depth, cx);
            text_bytes += content.len();
            continue;
        }
        if is_type(b"Metadata") {
            // XMP: XML whose text (title, author, keywords) is the document's.
            cx.sink.text(&content);
            cx.sink.boundary();
            text_bytes += content.len();
            continue;
        }
        let (shown, lost) = show_text(&content, &doc, num, cx);
        text_bytes += shown;
        unmapped |= lost;
        // Object streams hold dictionaries (form fields) compressed.
        text_bytes += dict_strings(&content, cx);
    }
    text_bytes += dict_strings(buf.get(gap..).unwrap_or(&[]), cx);
    if cut {
        cx.incomplete(
            IncompleteReason::Malformed,
            "PDF cut short: a stream without its end",
        );
    } else if unmapped {
        cx.incomplete(
            IncompleteReason::Unsupported,
            "PDF text in a font without a Unicode map",
        );
    } else if hidden > 0 || text_bytes == 0 && unreadable > 0 || !doc.has_pages() && unreadable > 0
    {
        cx.incomplete(
            IncompleteReason::Unsupported,
            "PDF text is in streams that could not be read",
        );
    } else if streams == 0 && text_bytes == 0 {
        cx.incomplete(IncompleteReason::Malformed, "PDF without content streams");
    }
}

/// Whether a stream is a packet of an XFA form: XML that opens as the
/// packets do (`<xdp:xdp>` whole, or `<template>`, `<xfa:datasets>`,
/// `<config>`… one by one). Page content never opens with a tag.
fn xfa_packet(content: &[u8]) -> bool {
    let n = content
        .iter()
        .take_while(|c| c.is_ascii_whitespace())
        .count();
    let head = content.get(n..).unwrap_or(&[]);
    [
        &b"<?xml"[..],
        b"<xdp:xdp",
        b"<xfa:datasets",
        b"<template",
        b"<config",
        b"<localeSet",
        b"<connectionSet",
        b"<xfdf",
    ]
    .iter()
    .any(|p| head.starts_with(p))
}

/// Delivers the strings shown by text operators, read through the font
/// selected (`Tf`) in content stream `stream`. Returns the bytes delivered,
/// and whether a string was shown in a font whose codes cannot be read.
fn show_text<S: TextSink>(
    content: &[u8],
    fonts: &document::Document,
    stream: Option<u32>,
    cx: &mut Cx<S>,
) -> (usize, bool) {
    let mut shown = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut line_has_text = false;
    let mut font: Option<&document::Font> = None;
    let mut name: &[u8] = &[];
    let mut lost = false;
    let mut i = 0;
    while let Some(&c) = content.get(i) {
        match c {
            b'(' | b'<' if c == b'(' || content.get(i + 1) != Some(&b'<') => {
                raw.clear();
                i = if c == b'(' {
                    literal(content, i + 1, &mut raw)
                } else {
                    hex(content, i + 1, &mut raw)
                };
                lost |= as_text(&raw, font, &mut pending);
            }
            b'<' => i += 2,
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
                    name = content.get(start + 1..i).unwrap_or(&[]);
                    continue;
                }
                match content.get(start..i).unwrap_or(&[]) {
                    b"Tf" => font = fonts.get(stream, name),
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
    (shown, lost)
}

/// Appends what the string `raw` shows in `font` to `pending`; true if the
/// font's codes cannot be read (the string is then left out).
fn as_text(raw: &[u8], font: Option<&document::Font>, pending: &mut Vec<u8>) -> bool {
    match font {
        None | Some(document::Font::Raw) => pending.extend_from_slice(raw),
        Some(document::Font::Mapped(map)) => {
            let mut text = String::new();
            map.decode(raw, &mut text);
            pending.extend_from_slice(text.as_bytes());
        }
        Some(document::Font::Utf16) => {
            let mut text = String::new();
            utf16_be(raw, &mut text);
            pending.extend_from_slice(text.as_bytes());
        }
        Some(document::Font::Legacy(enc)) => {
            let (text, _) = enc.decode_without_bom_handling(raw);
            pending.extend_from_slice(text.as_bytes());
        }
        Some(document::Font::Unreadable) => return !raw.is_empty(),
    }
    false
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
    if s.starts_with(b"\xfe\xff") {
        let mut text = String::new();
        text_string(s, &mut text);
        cx.sink.text(text.as_bytes());
        return text.len();
    }
    cx.sink.text(s);
    s.len()
}

/// A text string (document info, file names): UTF-16BE after its mark, else
/// the bytes as they are.
fn text_string(s: &[u8], out: &mut String) {
    match s.strip_prefix(b"\xfe\xff") {
        Some(rest) => utf16_be(rest, out),
        None => out.push_str(&String::from_utf8_lossy(s)),
    }
}

fn utf16_be(bytes: &[u8], out: &mut String) {
    out.push_str(&encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0);
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
