//! Outlook's `winmail.dat` (TNEF, MS-OXTNEF): the subject, the body (as text,
//! HTML or compressed RTF) and every attachment of a message that Exchange
//! or Outlook sent in "Rich Text" format, read as a compound `.msg` is.

use super::cfb::lzfu;
use super::container::nested;
use super::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

pub(crate) const MAGIC: &[u8] = b"\x78\x9f\x3e\x22";

/// Attribute ids (their type in the high word, as written).
const ATT_SUBJECT: u32 = 0x0001_8004;
const ATT_BODY: u32 = 0x0002_800C;
const ATT_MSG_PROPS: u32 = 0x0006_9003;
const ATT_ATTACH_REND_DATA: u32 = 0x0006_9002;
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
const ATT_ATTACH_DATA: u32 = 0x0006_800F;
const ATT_ATTACHMENT: u32 = 0x0006_9005;

/// MAPI property ids and types met in the property lists.
const PR_BODY: u16 = 0x1000;
const PR_RTF_COMPRESSED: u16 = 0x1009;
const PR_HTML: u16 = 0x1013;
const PR_ATTACH_DATA: u16 = 0x3701;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PT_STRING8: u16 = 0x001E;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;
const PT_OBJECT: u16 = 0x000D;
const MV: u16 = 0x1000;

/// Values and properties read from one list: more is not a message.
const MAX_PROPS: u32 = 4096;

/// Little-endian reads that never run past the data.
struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.data.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Values in property lists are padded to four bytes.
    fn padded(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.take(n)?;
        self.take((4 - n % 4) % 4)?;
        Some(s)
    }
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
}

/// One MAPI property of a list: its id, type and (first) value.
struct Prop<'a> {
    id: u16,
    kind: u16,
    value: &'a [u8],
}

/// The message's body in its forms, the first present is read.
#[derive(Default)]
struct Body<'a> {
    /// The text, and whether it is UTF-16 (PT_UNICODE) rather than 8-bit.
    text: Option<(&'a [u8], bool)>,
    html: Option<&'a [u8]>,
    rtf: Option<&'a [u8]>,
}

/// The attachment being read: its data and the best name seen for it.
#[derive(Default)]
struct Attachment<'a> {
    title: String,
    long_name: String,
    data: Option<&'a [u8]>,
    /// An attached message (PT_OBJECT): a TNEF stream of its own.
    message: Option<&'a [u8]>,
}

pub(crate) fn scan<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) {
    cx.format("tnef");
    if !read(buf, depth, cx) {
        cx.incomplete(
            IncompleteReason::Malformed,
            "winmail.dat (TNEF) is cut short or corrupt",
        );
    }
}

/// Reads one TNEF stream; false if it is malformed (what came before is read).
fn read<S: TextSink>(buf: &[u8], depth: u32, cx: &mut Cx<S>) -> bool {
    let mut c = Cursor { data: buf, at: 0 };
    if c.take(4) != Some(MAGIC) || c.u16().is_none() {
        return false;
    }
    let mut body = Body::default();
    let mut attachment: Option<Attachment<'_>> = None;
    let mut ok = true;
    while !c.done() && !cx.stopped {
        let (Some(_level), Some(id), Some(len)) = (c.u8(), c.u32(), c.u32()) else {
            ok = false;
            break;
        };
        let Some(data) = c.take(len as usize) else {
            ok = false;
            break;
        };
        if c.u16().is_none() {
            ok = false;
            break;
        }
        match id {
            ATT_SUBJECT => deliver_text(trim_nul(data), cx),
            ATT_BODY => body.text = body.text.or(Some((data, false))),
            ATT_MSG_PROPS => {
                ok &= props(data, cx, |p, cx| match (p.id, p.kind) {
                    (PR_BODY, PT_STRING8) => body.text = body.text.or(Some((p.value, false))),
                    (PR_BODY, PT_UNICODE) => body.text = body.text.or(Some((p.value, true))),
                    (PR_HTML, PT_BINARY) => body.html = Some(p.value),
                    (PR_RTF_COMPRESSED, PT_BINARY) => body.rtf = Some(p.value),
                    (_, PT_STRING8) => deliver_text(trim_nul(p.value), cx),
                    (_, PT_UNICODE) => deliver_utf16(p.value, cx),
                    _ => {}
                })
            }
            ATT_ATTACH_REND_DATA => {
                if let Some(a) = attachment.take() {
                    attach(a, depth, cx);
                }
                if !cx.entry() {
                    return true;
                }
                attachment = Some(Attachment::default());
            }
            ATT_ATTACH_TITLE => {
                let a = attachment.get_or_insert_with(Attachment::default);
                a.title = String::from_utf8_lossy(trim_nul(data)).into_owned();
            }
            ATT_ATTACH_DATA => attachment.get_or_insert_with(Attachment::default).data = Some(data),
            ATT_ATTACHMENT => {
                let a = attachment.get_or_insert_with(Attachment::default);
                ok &= props(data, cx, |p, _| match (p.id, p.kind) {
                    (PR_ATTACH_LONG_FILENAME, PT_UNICODE) => {
                        a.long_name = super::cfb::utf16le(p.value)
                            .trim_end_matches('\0')
                            .to_owned();
                    }
                    (PR_ATTACH_LONG_FILENAME, PT_STRING8) => {
                        a.long_name = String::from_utf8_lossy(trim_nul(p.value)).into_owned();
                    }
                    (PR_ATTACH_DATA, PT_OBJECT) => a.message = Some(p.value),
                    _ => {}
                });
            }
            _ => {}
        }
        if !ok {
            break;
        }
    }
    if let Some(a) = attachment.take() {
        attach(a, depth, cx);
    }
    read_body(&body, depth, cx);
    ok
}

/// The body once: as text if the message has it, else as HTML, else its
/// compressed RTF (what a "Rich Text" message keeps).
fn read_body<S: TextSink>(body: &Body<'_>, depth: u32, cx: &mut Cx<S>) {
    if let Some((text, wide)) = body.text {
        if wide {
            let text = super::cfb::utf16le(text);
            nested(
                &mut text.trim_end_matches('\0').as_bytes(),
                "body.txt",
                depth,
                cx,
            );
        } else {
            nested(&mut trim_nul(text), "body.txt", depth, cx);
        }
    } else if let Some(html) = body.html {
        nested(&mut &html[..], "body.html", depth, cx);
    } else if let Some(rtf) = body.rtf {
        let room = usize::try_from(cx.expand_room()).unwrap_or(usize::MAX);
        match lzfu::decompress(rtf, room) {
            Ok(rtf) => {
                if cx.expand(rtf.len()) {
                    nested(&mut rtf.as_slice(), "body.rtf", depth, cx);
                }
            }
            Err(_) => cx.incomplete(
                IncompleteReason::Malformed,
                "winmail.dat body (compressed RTF) is corrupt or too large",
            ),
        }
    }
}

fn attach<S: TextSink>(a: Attachment<'_>, depth: u32, cx: &mut Cx<S>) {
    let name = if a.long_name.is_empty() {
        a.title
    } else {
        a.long_name
    };
    super::container::member_name(&name, cx);
    if let Some(data) = a.data {
        nested(&mut &data[..], &name, depth, cx);
    }
    // An attached message: its interface id, then a TNEF stream.
    if let Some(inner) = a.message.and_then(|m| m.get(16..)) {
        if depth + 1 > cx.limits.max_depth {
            cx.incomplete(
                IncompleteReason::DepthLimit,
                format!("containers nested deeper than {}", cx.limits.max_depth),
            );
        } else if inner.starts_with(MAGIC) && !read(inner, depth + 1, cx) {
            cx.incomplete(
                IncompleteReason::Malformed,
                "attached message in winmail.dat is cut short or corrupt",
            );
        }
    }
}

/// Walks a MAPI property list (MS-OXTNEF 2.1.3.4), handing each property's
/// first value to `on`; false if the list is malformed.
fn props<'a, S: TextSink>(
    data: &'a [u8],
    cx: &mut Cx<S>,
    mut on: impl FnMut(Prop<'a>, &mut Cx<S>),
) -> bool {
    let mut c = Cursor { data, at: 0 };
    let Some(count) = c.u32() else {
        return false;
    };
    for _ in 0..count.min(MAX_PROPS) {
        let (Some(kind), Some(id)) = (c.u16(), c.u16()) else {
            return false;
        };
        if id >= 0x8000 {
            // A named property: its set's GUID, then a number or a name.
            if c.take(16).is_none() {
                return false;
            }
            match c.u32() {
                Some(0) => {
                    if c.u32().is_none() {
                        return false;
                    }
                }
                Some(1) => {
                    let Some(n) = c.u32() else { return false };
                    if c.padded(n as usize).is_none() {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        let multi = kind & MV != 0;
        let base = kind & !MV;
        let values = if multi || is_variable(base) {
            match c.u32() {
                Some(n) if n <= MAX_PROPS => n,
                _ => return false,
            }
        } else {
            1
        };
        for v in 0..values {
            let value = if is_variable(base) {
                let Some(n) = c.u32() else { return false };
                c.padded(n as usize)
            } else {
                match fixed_size(base) {
                    Some(n) => c.padded(n),
                    // A type whose size is not known: the rest cannot be found.
                    None => return false,
                }
            };
            let Some(value) = value else { return false };
            if v == 0 {
                on(
                    Prop {
                        id,
                        kind: base,
                        value,
                    },
                    cx,
                );
            }
        }
    }
    true
}

fn is_variable(kind: u16) -> bool {
    matches!(kind, PT_STRING8 | PT_UNICODE | PT_BINARY | PT_OBJECT)
}

/// Bytes of a fixed-size property type (before padding).
fn fixed_size(kind: u16) -> Option<usize> {
    match kind {
        0x0002 | 0x000B => Some(2),
        0x0003 | 0x0004 | 0x000A => Some(4),
        0x0005..=0x0007 | 0x0014 | 0x0040 => Some(8),
        0x0048 => Some(16),
        0x0001 => Some(0),
        _ => None,
    }
}

fn trim_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    b.get(..end).unwrap_or(&[])
}

fn deliver_text<S: TextSink>(text: &[u8], cx: &mut Cx<S>) {
    if !text.is_empty() {
        cx.sink.text(text);
        cx.sink.boundary();
    }
}

fn deliver_utf16<S: TextSink>(value: &[u8], cx: &mut Cx<S>) {
    let text = super::cfb::utf16le(value);
    deliver_text(text.trim_end_matches('\0').as_bytes(), cx);
}
