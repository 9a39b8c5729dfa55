//! RTF (Word and WordPad's "Rich Text", LibreOffice's export): the document's
//! text with its escapes undone. Chinese and Portuguese are written as
//! `\uN` escapes or as `\'hh` bytes in the document's code page, which a
//! byte-level scan cannot read. Font tables, style sheets, pictures and other
//! destinations that hold no text a person wrote are skipped; of the
//! destinations a reader may ignore (`{\*\dest …}`), those known to hold
//! what a person wrote (comments, text boxes, starred footnotes, drop-down
//! entries, document properties) are read.

use encoding_rs::Encoding;

use super::container::nested;
use super::cx::Cx;
use crate::inspect::sink::TextSink;

/// Groups nested deeper than this are read as text, without their own state.
const MAX_GROUPS: usize = 256;

/// Destinations whose content is not text a person wrote.
const SKIPPED: &[&[u8]] = &[
    b"fonttbl",
    b"colortbl",
    b"stylesheet",
    b"listtable",
    b"listoverridetable",
    b"rsidtbl",
    b"generator",
    b"themedata",
    b"colorschememapping",
    b"datastore",
    b"latentstyles",
    b"pict",
    b"objdata",
    b"xmlnstbl",
    b"mmathPr",
    b"pgdsctbl",
    b"revtbl",
];

/// Destinations read even when starred (`{\*\annotation …}`) or inside a
/// starred one (a text box's `\shptxt` in `\*\shpinst`, a drop-down's
/// `\*\ffl` in the field instruction): a reader that skips them passes a
/// comment or a text box unseen. Every other starred destination stays
/// skipped, as the format lets a reader do. These sit inside the body's
/// text, and are set apart from it, so that a comment does not run into the
/// sentence it is on.
const BODY_DESTINATIONS: &[&[u8]] = &[
    b"annotation",
    b"atnauthor",
    b"footnote",
    b"shptxt",
    b"dptxbxtext",
    b"ffl",
    b"userprops",
];

/// The document's properties (in `\info`), read the same way.
const INFO_DESTINATIONS: &[&[u8]] = &[
    b"title",
    b"subject",
    b"author",
    b"manager",
    b"company",
    b"operator",
    b"category",
    b"keywords",
    b"comment",
    b"doccomm",
];

#[derive(Clone, Copy)]
struct Group {
    skip: bool,
    /// Skipped with everything inside, text destinations included: a font
    /// table, a picture, or a text box's fallback already read once.
    hard: bool,
    /// No control word yet: the next one names the group's destination.
    fresh: bool,
    /// A text destination set apart from what surrounds it.
    apart: bool,
    /// A shape (`\shp`), and whether its text box was read from `\shptxt`
    /// (so its `\shprslt` fallback, the same text, is not read again).
    shape: bool,
    shape_text: bool,
    /// Inside `\objdata`: hex digits of an embedded object.
    object: bool,
    /// Fallback characters after a `\uN` (`\ucN`).
    uc: usize,
}

/// Whether `head` opens an RTF document.
pub(crate) fn is_rtf(head: &[u8]) -> bool {
    head.starts_with(b"{\\rtf")
}

pub(crate) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    cx.format("rtf");
    let mut stack: Vec<Group> = Vec::new();
    let mut group = Group {
        skip: false,
        hard: false,
        fresh: false,
        apart: false,
        shape: false,
        shape_text: false,
        object: false,
        uc: 1,
    };
    // An embedded object's bytes, and the high nibble of the one being read.
    let mut object: Vec<u8> = Vec::new();
    let mut nibble: Option<u8> = None;
    let mut codepage = encoding_rs::WINDOWS_1252;
    let mut text = String::new();
    // `\'hh` bytes not yet decoded: a double-byte character is two of them.
    let mut bytes: Vec<u8> = Vec::new();
    // Fallback characters still to drop after a `\uN`.
    let mut drop = 0usize;
    let mut high: Option<u16> = None;
    let mut i = 0;
    let flush = |bytes: &mut Vec<u8>, text: &mut String, codepage: &'static Encoding| {
        if !bytes.is_empty() {
            text.push_str(&codepage.decode_without_bom_handling(bytes).0);
            bytes.clear();
        }
    };
    while let Some(&c) = buf.get(i) {
        i += 1;
        match c {
            b'{' => {
                flush(&mut bytes, &mut text, codepage);
                if stack.len() < MAX_GROUPS {
                    stack.push(group);
                }
                group.fresh = true;
                group.apart = false;
                group.shape = false;
                group.shape_text = false;
                // `{\*\dest …}`: a destination a reader may ignore.
                if buf.get(i..i + 2) == Some(b"\\*") {
                    group.skip = true;
                }
            }
            b'}' => {
                flush(&mut bytes, &mut text, codepage);
                let closed = group;
                group = stack.pop().unwrap_or(group);
                if closed.apart {
                    text.push('\n');
                }
                if closed.object && !group.object {
                    embedded(&std::mem::take(&mut object), depth, cx);
                    nibble = None;
                }
            }
            b'\\' => {
                let Some(&n) = buf.get(i) else { break };
                if n == b'\'' {
                    // A byte in the code page: two hex digits.
                    let v = buf
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    i += 3;
                    if drop > 0 {
                        drop -= 1;
                    } else if let (Some(v), false) = (v, group.skip) {
                        bytes.push(v);
                    }
                    continue;
                }
                flush(&mut bytes, &mut text, codepage);
                if !n.is_ascii_alphabetic() {
                    // A control symbol: `\\`, `\{`, `\}` are themselves, `\~` a space.
                    i += 1;
                    let ch = match n {
                        b'\\' | b'{' | b'}' => Some(char::from(n)),
                        b'~' => Some(' '),
                        b'_' => Some('-'),
                        _ => None,
                    };
                    if let (Some(ch), false) = (ch, group.skip) {
                        if drop > 0 {
                            drop -= 1;
                        } else {
                            text.push(ch);
                        }
                    }
                    continue;
                }
                let start = i;
                while buf.get(i).is_some_and(u8::is_ascii_alphabetic) {
                    i += 1;
                }
                let word = buf.get(start..i).unwrap_or(&[]);
                let fresh = std::mem::replace(&mut group.fresh, false);
                let num_start = i;
                if buf.get(i) == Some(&b'-') {
                    i += 1;
                }
                while buf.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let num: Option<i64> = std::str::from_utf8(buf.get(num_start..i).unwrap_or(&[]))
                    .ok()
                    .and_then(|n| n.parse().ok());
                if buf.get(i) == Some(&b' ') {
                    i += 1;
                }
                match word {
                    b"objdata" => {
                        group.skip = true;
                        group.object = true;
                    }
                    w if SKIPPED.contains(&w) => {
                        group.skip = true;
                        group.hard = true;
                    }
                    b"shp" | b"shpgrp" if fresh => group.shape = true,
                    b"shprslt" if fresh && shape_was_read(&stack) => {
                        group.skip = true;
                        group.hard = true;
                    }
                    w if fresh
                        && !group.hard
                        && (BODY_DESTINATIONS.contains(&w) || INFO_DESTINATIONS.contains(&w)) =>
                    {
                        if w == b"shptxt" {
                            // A group of shapes (`\shpgrp`) has one fallback
                            // for all its text boxes: it too is read already.
                            for shape in stack.iter_mut().filter(|g| g.shape) {
                                shape.shape_text = true;
                            }
                        }
                        if group.skip || BODY_DESTINATIONS.contains(&w) {
                            group.skip = false;
                            group.apart = true;
                        }
                        // A property's text starts its own piece, as it did
                        // before starred ones were read.
                        text.push('\n');
                    }
                    b"ansicpg" => codepage = num.and_then(windows_codepage).unwrap_or(codepage),
                    b"uc" => group.uc = num.and_then(|n| usize::try_from(n).ok()).unwrap_or(1),
                    b"u" => {
                        if let (Some(n), false) = (num, group.skip) {
                            // 16-bit signed: negative values are the upper half;
                            // a character past U+FFFF comes as two surrogates.
                            let unit = u16::try_from(n.rem_euclid(65_536)).unwrap_or(0xFFFD);
                            if (0xD800..0xDC00).contains(&unit) {
                                high = Some(unit);
                            } else {
                                let units = high.take().into_iter().chain([unit]);
                                text.extend(
                                    char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')),
                                );
                            }
                        }
                        // A skipped group's fallback is skipped with it: a
                        // count left over would eat the next text read.
                        drop = if group.skip { 0 } else { group.uc };
                    }
                    b"par" | b"line" | b"row" | b"sect" | b"page" | b"cell" if !group.skip => {
                        text.push('\n')
                    }
                    b"tab" if !group.skip => text.push('\t'),
                    _ => {}
                }
                continue;
            }
            b'\r' | b'\n' => {}
            _ => {
                if group.object {
                    if let Some(v) = char::from(c).to_digit(16) {
                        let v = v as u8;
                        match nibble.take() {
                            Some(h) => object.push(h << 4 | v),
                            None => nibble = Some(v),
                        }
                    }
                    continue;
                }
                if group.skip {
                    continue;
                }
                if drop > 0 {
                    drop -= 1;
                    continue;
                }
                flush(&mut bytes, &mut text, codepage);
                if c.is_ascii() {
                    text.push(char::from(c));
                } else {
                    bytes.push(c);
                }
            }
        }
        if text.len() >= 32 << 10 {
            cx.sink.text(text.as_bytes());
            text.clear();
        }
    }
    flush(&mut bytes, &mut text, codepage);
    cx.sink.text(text.as_bytes());
    cx.sink.boundary();
}

/// Whether the shape a `\shprslt` belongs to had its text box read from
/// `\shptxt`: the fallback then holds the same text again.
fn shape_was_read(stack: &[Group]) -> bool {
    stack
        .iter()
        .rev()
        .find(|g| g.shape)
        .is_some_and(|g| g.shape_text)
}

/// An OLE 1 embedded object (`\objdata`): its class and names, then the
/// native data, which is the file (a workbook, a document) it embeds, or for
/// the `Package` class a file wrapped with its name.
fn embedded<S: TextSink>(ole: &[u8], depth: u32, cx: &mut Cx<S>) {
    let u32_at = |at: usize| {
        ole.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(|b| u32::from_le_bytes(b) as usize)
    };
    // Version and format, then three length-prefixed strings: the first
    // names the class.
    let mut at = 8;
    let mut class: &[u8] = &[];
    for k in 0..3 {
        let Some(len) = u32_at(at) else { return };
        if k == 0 {
            class = ole
                .get(at + 4..at.saturating_add(4).saturating_add(len))
                .unwrap_or(&[]);
        }
        at = at.saturating_add(4).saturating_add(len);
    }
    let Some(size) = u32_at(at) else { return };
    let data = ole.get(at + 4..).unwrap_or(&[]);
    let data = data.get(..size.min(data.len())).unwrap_or(data);
    if class.strip_suffix(b"\0").unwrap_or(class) == b"Package" {
        if let Some((label, file)) = super::cfb::ole_package(data) {
            nested(&mut &file[..], &label, depth, cx);
            return;
        }
    }
    nested(&mut &data[..], "", depth, cx);
}

/// The encoding of a Windows code page number (`\ansicpg950`).
pub(super) fn windows_codepage(n: i64) -> Option<&'static Encoding> {
    Some(match n {
        936 => encoding_rs::GBK,
        950 => encoding_rs::BIG5,
        54936 => encoding_rs::GB18030,
        932 => encoding_rs::SHIFT_JIS,
        949 => encoding_rs::EUC_KR,
        874 => encoding_rs::WINDOWS_874,
        1250..=1258 => return Encoding::for_label(format!("windows-{n}").as_bytes()),
        _ => return None,
    })
}
