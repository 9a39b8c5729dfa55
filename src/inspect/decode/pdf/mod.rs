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
    let mut text_bytes = doc.string_bytes;
    // Streams that could not be read: ones whose text is the document's
    // (page content, object streams, attachments), and others.
    let mut hidden = 0usize;
    let mut unreadable = 0usize;
    let mut unmapped = false;
    let mut misread = false;
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
        text_bytes += dict_strings(buf.get(gap..start).unwrap_or(&[]), &TEXT_KEYS, cx);
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
            super::container::member_name(name, cx);
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
        let page = doc.is_content(num);
        let shown = show_text(&content, &doc, num, page || !doc.has_pages(), cx);
        text_bytes += shown.bytes;
        unmapped |= shown.lost;
        // Only page content is known to be content: other streams (fonts,
        // Flate images, ICC profiles) are binary, where a `(` means nothing.
        misread |= shown.misread && page;
        // Object streams hold dictionaries (form fields) compressed.
        let keys = if page {
            TEXT_KEYS.get(..CONTENT_TEXT_KEYS).unwrap_or(&TEXT_KEYS)
        } else {
            &TEXT_KEYS
        };
        text_bytes += dict_strings(&content, keys, cx);
    }
    text_bytes += dict_strings(buf.get(gap..).unwrap_or(&[]), &TEXT_KEYS, cx);
    if cut {
        cx.incomplete(
            IncompleteReason::Malformed,
            "PDF cut short: a stream without its end",
        );
    } else if misread {
        cx.incomplete(
            IncompleteReason::Malformed,
            "PDF page content could not be parsed",
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

/// What reading one content stream gave.
struct Shown {
    /// Bytes delivered.
    bytes: usize,
    /// A string was shown in a font whose codes cannot be read.
    lost: bool,
    /// A string was still open at the stream's end: the stream was misread.
    misread: bool,
}

/// Delivers the strings shown by text operators, read through the font
/// selected (`Tf`) in content stream `stream`. With `recover`, a string left
/// open is read again as content (see below): for streams known to be
/// content, whose text matters; other streams (fonts, images in Flate) are
/// binary, and rereading them would cost time for nothing.
fn show_text<S: TextSink>(
    content: &[u8],
    fonts: &document::Document,
    stream: Option<u32>,
    recover: bool,
    cx: &mut Cx<S>,
) -> Shown {
    let mut shown = 0;
    let mut misread = false;
    let mut recoveries = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut line_has_text = false;
    let mut font: Option<&document::Font> = None;
    let mut name: &[u8] = &[];
    let mut lost = false;
    // Marked content: the key whose string comes next, the strings of the
    // property list being read, and where shown text goes.
    let mut key: Option<Prop> = None;
    let mut actual: Option<Vec<u8>> = None;
    let mut alts: Vec<Vec<u8>> = Vec::new();
    let mut out = Out::default();
    let mut i = 0;
    while let Some(&c) = content.get(i) {
        match c {
            b'(' => {
                raw.clear();
                let (end, closed) = literal_closed(content, i + 1, &mut raw);
                if !closed {
                    // Each string left open costs a pass to the end.
                    cx.work(end - i);
                    // Page content never ends inside a string (a stream of
                    // an array is cut only between tokens), so a string
                    // still open here means something was misread: a lone
                    // `(` a writer did not escape, or binary data taken for
                    // operators. Its "text" is the rest of the stream, shown
                    // by no operator: read from after the `(` again as
                    // content, which recovers the page in the usual case of
                    // one stray parenthesis; and the scan says the page was
                    // misread, since that `(` may have begun real text.
                    misread = true;
                    if recover && recoveries < MAX_RECOVERIES && !cx.stopped {
                        recoveries += 1;
                        i += 1;
                        continue;
                    }
                }
                i = end;
                lost |=
                    property_or_text(&raw, key.take(), font, &mut pending, &mut actual, &mut alts);
            }
            b'<' if content.get(i + 1) != Some(&b'<') => {
                raw.clear();
                i = hex(content, i + 1, &mut raw);
                lost |=
                    property_or_text(&raw, key.take(), font, &mut pending, &mut actual, &mut alts);
            }
            b'<' => {
                key = None;
                i += 2;
            }
            b'%' => {
                while content.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            b'[' | b']' | b'>' | b'{' | b'}' => {
                key = None;
                i += 1;
            }
            b'-' | b'0'..=b'9' | b'.' | b'+' => {
                key = None;
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
                    key = match name {
                        b"ActualText" => Some(Prop::Actual),
                        b"Alt" | b"E" => Some(Prop::Alt),
                        _ => None,
                    };
                    continue;
                }
                key = None;
                match content.get(start..i).unwrap_or(&[]) {
                    b"Tf" => font = fonts.get(stream, name),
                    b"BI" => {
                        // An inline image: its data is binary, and a `(` in
                        // it would open a "string" that swallows the page.
                        if let Some((end, examined)) = inline_image_end(content, i) {
                            cx.work(examined);
                            i = end;
                        }
                    }
                    b"Tj" | b"TJ" | b"'" | b"\"" => {
                        let op_newline = matches!(content.get(start), Some(b'\'' | b'"'));
                        if op_newline && line_has_text {
                            out.boundary(cx);
                        }
                        shown += out.text(&pending, cx);
                        line_has_text |= !pending.is_empty();
                    }
                    b"Td" | b"TD" | b"T*" | b"ET" | b"Tm" if line_has_text => {
                        out.boundary(cx);
                        line_has_text = false;
                    }
                    b"BDC" => {
                        // `/Alt` (a figure's description) and `/E` (an
                        // abbreviation's expansion) are text beside what is
                        // shown: delivered on their own.
                        for alt in alts.drain(..) {
                            if line_has_text {
                                out.boundary(cx);
                                line_has_text = false;
                            }
                            shown += deliver(&alt, cx);
                            cx.sink.boundary();
                        }
                        out.open(actual.take());
                    }
                    b"BMC" => out.open(None),
                    b"EMC" => shown += out.close(cx),
                    _ => {}
                }
                pending.clear();
                actual = None;
                alts.clear();
            }
        }
    }
    shown += out.finish(cx);
    if line_has_text {
        cx.sink.boundary();
    }
    Shown {
        bytes: shown,
        lost,
        misread,
    }
}

/// A key of a marked-content property list whose string is text.
#[derive(Clone, Copy)]
enum Prop {
    /// `/ActualText`: what the span's glyphs stand for.
    Actual,
    /// `/Alt`, `/E`: a description or expansion, beside what is shown.
    Alt,
}

/// A string in page content: a property's text when `key` says so, else
/// text shown in `font` (see `as_text`, whose answer this is).
fn property_or_text(
    raw: &[u8],
    key: Option<Prop>,
    font: Option<&document::Font>,
    pending: &mut Vec<u8>,
    actual: &mut Option<Vec<u8>>,
    alts: &mut Vec<Vec<u8>>,
) -> bool {
    match key {
        Some(Prop::Actual) => *actual = Some(raw.to_vec()),
        // A property list holds a few keys: `alts` stays small.
        Some(Prop::Alt) if !raw.is_empty() && alts.len() < 4 => alts.push(raw.to_vec()),
        Some(Prop::Alt) => {}
        None => return as_text(raw, font, pending),
    }
    false
}

/// Text held in a span with `/ActualText` beyond this is let out (with the
/// actual text first): a span is a word or a figure, not a page.
const MAX_HELD: usize = 64 << 10;

/// Where shown text goes: to the sink, or, inside a span of marked content
/// with `/ActualText` (PDF 32000-1 §14.9.4: the text its glyphs stand for,
/// written by Word and Acrobat for ligatures, symbols, replaced glyphs),
/// held until the span ends. Then the actual text is delivered, and what the
/// glyphs showed is delivered too unless it is the same text (white space
/// aside): the same text twice would count a health term twice, while
/// dropping what is shown whenever an `/ActualText` is there would let a
/// writer hide any text behind an empty or unrelated one.
#[derive(Default)]
struct Out {
    span: Option<Span>,
}

struct Span {
    /// The `/ActualText`, as text.
    actual: String,
    /// Marked content open, this span's own included.
    depth: u32,
    /// What the glyphs showed: text, and `None` for a line break.
    held: Vec<Option<Vec<u8>>>,
    held_bytes: usize,
}

impl Out {
    /// Delivers (or holds) text shown; returns the bytes delivered.
    fn text<S: TextSink>(&mut self, t: &[u8], cx: &mut Cx<S>) -> usize {
        let Some(span) = self.span.as_mut() else {
            return deliver(t, cx);
        };
        if span.held_bytes + t.len() > MAX_HELD {
            return self.end(cx) + deliver(t, cx);
        }
        span.held_bytes += t.len();
        span.held.push(Some(t.to_vec()));
        0
    }

    fn boundary<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        match self.span.as_mut() {
            Some(span) => span.held.push(None),
            None => cx.sink.boundary(),
        }
    }

    /// Marked content begins (`BMC`, `BDC`), with its `/ActualText` if any.
    /// An actual text inside another's span is part of what that one
    /// replaces, and is not read apart.
    fn open(&mut self, actual: Option<Vec<u8>>) {
        match (self.span.as_mut(), actual) {
            (Some(span), _) => span.depth += 1,
            (None, Some(a)) => {
                let mut text = String::new();
                text_string(&a, &mut text);
                self.span = Some(Span {
                    actual: text,
                    depth: 1,
                    held: Vec::new(),
                    held_bytes: 0,
                });
            }
            (None, None) => {}
        }
    }

    /// Marked content ends (`EMC`); returns the bytes delivered.
    fn close<S: TextSink>(&mut self, cx: &mut Cx<S>) -> usize {
        match self.span.as_mut() {
            Some(span) if span.depth > 1 => {
                span.depth -= 1;
                0
            }
            Some(_) => self.end(cx),
            None => 0,
        }
    }

    /// The stream ended: a span left open ends with it.
    fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) -> usize {
        self.end(cx)
    }

    /// Ends the span: its actual text, then what was shown if different.
    fn end<S: TextSink>(&mut self, cx: &mut Cx<S>) -> usize {
        let Some(span) = self.span.take() else {
            return 0;
        };
        let mut shown_text = String::new();
        for t in span.held.iter().flatten() {
            text_string(t, &mut shown_text);
        }
        let squeeze = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
        if !span.actual.is_empty() {
            cx.sink.text(span.actual.as_bytes());
        }
        let mut n = span.actual.len();
        if squeeze(&shown_text) == squeeze(&span.actual) {
            return n;
        }
        if !span.actual.is_empty() && !shown_text.is_empty() {
            cx.sink.boundary();
        }
        for piece in &span.held {
            match piece {
                Some(t) => n += deliver(t, cx),
                None => cx.sink.boundary(),
            }
        }
        n
    }
}

/// Strings left open that a stream is read again after: each costs a pass
/// over the rest of the stream.
const MAX_RECOVERIES: usize = 8;
/// How far an inline image's dictionary (`BI` … `ID`) is looked through: a
/// few keys, and at most a palette of 256 colours as a string.
const MAX_INLINE_DICT: usize = 16 << 10;
/// Candidate ends of an inline image's data tried before the first is taken.
const MAX_EI_CANDIDATES: usize = 16;
/// Bytes after a candidate `EI` looked at to tell whether content follows.
const EI_LOOKAHEAD: usize = 64;

/// Where the inline image whose `BI` ends at `at` ends (after its `EI`), and
/// the bytes looked at to find it. `None` if no `ID` follows a dictionary:
/// then this is no inline image, and what follows is read as content.
///
/// An inline image's data is not delimited (PDF 32000-1 §8.9.7): `ID`, one
/// white-space byte, the data, then `EI`. Its end is, in order of trust: the
/// length the dictionary gives (`/L` or `/Length`, PDF 2.0) when `EI` is
/// right after it; for ASCII85 and ASCIIHex data, the `EI` after the
/// filter's own end marker; else the first `EI` between white space and a
/// delimiter after which the bytes look like content operators (binary data
/// can hold ` EI `, but rarely followed by operators); failing that, the
/// first such `EI` at all. An image cut short (no `EI`) takes the rest of
/// the stream: it is all image data, no text is lost.
fn inline_image_end(content: &[u8], at: usize) -> Option<(usize, usize)> {
    let head = content.get(..content.len().min(at.saturating_add(MAX_INLINE_DICT)))?;
    let mut scratch = Vec::new();
    let mut i = at;
    // The dictionary: names, numbers, arrays, strings (a palette), nested
    // dictionaries (`/DP`), booleans. Any other word than `ID` means this
    // was no inline image.
    let id = loop {
        let &c = head.get(i)?;
        match c {
            b'(' => {
                scratch.clear();
                i = literal(head, i + 1, &mut scratch);
            }
            b'<' if head.get(i + 1) == Some(&b'<') => i += 2,
            b'<' => {
                scratch.clear();
                i = hex(head, i + 1, &mut scratch);
            }
            b'%' => {
                while head.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            b'/' => {
                i += 1;
                while head.get(i).is_some_and(|&c| !syntax::is_delimiter(c)) {
                    i += 1;
                }
            }
            c if syntax::is_delimiter(c) => i += 1,
            _ => {
                let start = i;
                while head.get(i).is_some_and(|&c| !syntax::is_delimiter(c)) {
                    i += 1;
                }
                match head.get(start..i).unwrap_or(&[]) {
                    b"ID" => break start,
                    b"true" | b"false" | b"null" => {}
                    w if w
                        .iter()
                        .all(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.')) => {}
                    _ => return None,
                }
            }
        }
    };
    let dict = content.get(at..id).unwrap_or(&[]);
    let mut data = id + 2;
    if content.get(data).is_some_and(u8::is_ascii_whitespace) {
        data += 1;
    }
    let declared = syntax::int(dict, b"L")
        .or_else(|| syntax::int(dict, b"Length"))
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| data.checked_add(n));
    if let Some(end) = declared.and_then(|e| ei_at(content, e)) {
        return Some((end, end - at));
    }
    let from = ascii_data_end(dict, content, data).unwrap_or(data);
    let mut first = None;
    let mut k = from;
    let mut candidates = 0;
    while let Some(p) = memmem::find(content.get(k..).unwrap_or(&[]), b"EI") {
        let p = k + p;
        k = p + 1;
        let after = content.get(p + 2).is_none_or(|&c| syntax::is_delimiter(c));
        let before = p == from && from > data
            || p > 0 && content.get(p - 1).is_some_and(u8::is_ascii_whitespace);
        if !(after && before) {
            continue;
        }
        if operators_follow(content, p + 2) {
            return Some((p + 2, k - at));
        }
        first.get_or_insert(p + 2);
        candidates += 1;
        if candidates >= MAX_EI_CANDIDATES {
            break;
        }
    }
    let end = first.unwrap_or(content.len());
    Some((end, k.max(end) - at))
}

/// After `EI` ending where white space after `at` ends: the index after it.
fn ei_at(content: &[u8], at: usize) -> Option<usize> {
    let rest = content.get(at..)?;
    let p = at + (rest.len() - syntax::skip_space(rest).len());
    (content.get(p..p + 2) == Some(b"EI")
        && content.get(p + 2).is_none_or(|&c| syntax::is_delimiter(c)))
    .then_some(p + 2)
}

/// Where the data from `data` ends when its first filter is ASCII85 (`~>`)
/// or ASCIIHex (`>`): printable data whose end marker is known.
fn ascii_data_end(dict: &[u8], content: &[u8], data: usize) -> Option<usize> {
    let v = syntax::value(dict, b"F").or_else(|| syntax::value(dict, b"Filter"))?;
    let v = syntax::skip_space(v.strip_prefix(b"[").unwrap_or(v));
    let name = v.strip_prefix(b"/")?;
    let name = name
        .get(
            ..name
                .iter()
                .position(|&c| syntax::is_delimiter(c))
                .unwrap_or(name.len()),
        )
        .unwrap_or(&[]);
    let rest = content.get(data..)?;
    match name {
        b"A85" | b"ASCII85Decode" => memmem::find(rest, b"~>").map(|e| data + e + 2),
        b"AHx" | b"ASCIIHexDecode" => memchr::memchr(b'>', rest).map(|e| data + e + 1),
        _ => None,
    }
}

/// The operators of page content (PDF 32000-1 Annex A), but `ID` and `EI`.
const OPERATORS: [&[u8]; 71] = [
    b"b", b"B", b"b*", b"B*", b"BDC", b"BI", b"BMC", b"BT", b"BX", b"c", b"cm", b"CS", b"cs", b"d",
    b"d0", b"d1", b"Do", b"DP", b"EMC", b"ET", b"EX", b"f", b"F", b"f*", b"G", b"g", b"gs", b"h",
    b"i", b"j", b"J", b"K", b"k", b"l", b"m", b"M", b"MP", b"n", b"q", b"Q", b"re", b"RG", b"rg",
    b"ri", b"s", b"S", b"SC", b"sc", b"SCN", b"scn", b"sh", b"T*", b"Tc", b"Td", b"TD", b"Tf",
    b"Tj", b"TJ", b"TL", b"Tm", b"Tr", b"Ts", b"Tw", b"Tz", b"v", b"w", b"W", b"W*", b"y", b"'",
    b"\"",
];

/// Whether the bytes from `at` look like page content: operands, then an
/// operator of page content; no binary bytes outside strings.
fn operators_follow(content: &[u8], at: usize) -> bool {
    let end = content.len().min(at.saturating_add(EI_LOOKAHEAD));
    let window = content.get(at..end).unwrap_or(&[]);
    let mut scratch = Vec::new();
    let mut i = 0;
    while let Some(&c) = window.get(i) {
        match c {
            b'(' => {
                scratch.clear();
                i = literal(window, i + 1, &mut scratch);
            }
            b'<' if window.get(i + 1) != Some(&b'<') => {
                scratch.clear();
                i = hex(window, i + 1, &mut scratch);
            }
            b'%' => {
                while window.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            b'/' => {
                i += 1;
                while window.get(i).is_some_and(|&c| !syntax::is_delimiter(c)) {
                    i += 1;
                }
            }
            c if syntax::is_delimiter(c) => i += 1,
            0x21..=0x7e => {
                let start = i;
                while window
                    .get(i)
                    .is_some_and(|&c| (0x21..=0x7e).contains(&c) && !syntax::is_delimiter(c))
                {
                    i += 1;
                }
                let word = window.get(start..i).unwrap_or(&[]);
                if word
                    .iter()
                    .all(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.'))
                    || matches!(word, b"true" | b"false" | b"null")
                {
                    continue;
                }
                // A word the window cuts cannot be judged: printable so far.
                if i == window.len() && end < content.len() {
                    return true;
                }
                return OPERATORS.contains(&word);
            }
            _ => return false,
        }
    }
    true
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
/// annotations, the document's info; and, for structure elements, the text
/// that accessibility gives (`/ActualText`, `/Alt`, `/E`).
const TEXT_KEYS: [&[u8]; 10] = [
    b"V",
    b"Contents",
    b"Title",
    b"Author",
    b"Subject",
    b"Keywords",
    b"TU",
    b"ActualText",
    b"Alt",
    b"E",
];

/// The keys of `TEXT_KEYS` read in page content too: accessibility's keys
/// there are marked content's, which `show_text` reads (once).
const CONTENT_TEXT_KEYS: usize = 7;

/// Delivers the strings of `keys` in dictionaries; returns the bytes delivered.
fn dict_strings<S: TextSink>(region: &[u8], keys: &[&[u8]], cx: &mut Cx<S>) -> usize {
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
        if !keys.contains(&name) {
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
fn literal(b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    literal_closed(b, i, out).0
}

/// A literal string from after its `(`: the index after its `)` (or the
/// end of `b`), and whether its `)` was found.
fn literal_closed(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> (usize, bool) {
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
                    // A backslash at a line's end joins the lines: the
                    // line break (CR, LF or CR LF) is not part of the string.
                    b'\r' => {
                        if b.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                        continue;
                    }
                    b'\n' => continue,
                    other => other,
                }
            }
            b'(' => {
                nest += 1;
                b'('
            }
            b')' if nest == 0 => return (i, true),
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
    (i, false)
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
