//! PowerPoint 97–2003 text: the text atoms of the PowerPoint Document stream,
//! and the OLE objects (charts' workbooks, embedded documents) kept in it.

use super::word::{cp1252, push_word_char};
use super::{u16_at, u32_at, utf16le};
use crate::inspect::decode::cx::Cx;
use crate::inspect::sink::TextSink;

/// The text atoms of a PowerPoint document, in order: slides, notes, the
/// outline, comments. Containers are stepped into; atoms are read or passed.
pub(super) fn ppt_text<S: TextSink>(doc: &[u8], depth: u32, cx: &mut Cx<S>) {
    const TEXT_CHARS: u16 = 0x0FA0;
    const OLE_OBJECT: u16 = 0x1011;
    const TEXT_BYTES: u16 = 0x0FA8;
    const CSTRING: u16 = 0x0FBA;
    let mut at = 0;
    while let (Some(ver), Some(kind), Some(len)) =
        (u16_at(doc, at), u16_at(doc, at + 2), u32_at(doc, at + 4))
    {
        let body = at + 8;
        if ver & 0x0F == 0x0F {
            at = body;
            continue;
        }
        let data = doc
            .get(body..body.saturating_add(len as usize))
            .unwrap_or(&[]);
        let mut text = String::new();
        match kind {
            TEXT_CHARS | CSTRING => utf16le(data)
                .chars()
                .for_each(|c| push_word_char(c, &mut text)),
            TEXT_BYTES => data
                .iter()
                .for_each(|&b| push_word_char(cp1252(b), &mut text)),
            // An embedded object's storage; instance 1 is compressed.
            OLE_OBJECT => super::ppt_object(data, ver >> 4 == 1, depth, cx),
            _ => {}
        }
        if cx.stopped {
            return;
        }
        if !text.is_empty() {
            cx.sink.text(text.as_bytes());
            cx.sink.boundary();
        }
        at = body.saturating_add(len as usize);
    }
}
