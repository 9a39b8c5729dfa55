//! OpenDocument text (LibreOffice, WPS, government templates): the XML of an
//! ODT, ODS or ODP. A paragraph's text is one piece however many spans split
//! it, and a spreadsheet's cells are values under their column's first-row
//! name, as in an XLSX.

use std::io::Read;

use quick_xml::events::BytesStart;

use super::columns::Columns;
use super::cx::Cx;
use super::ooxml::{attribute_text, deliver, each_raw, unescaped, MAX_CELL};
use super::xml::{local, Raw};
use crate::inspect::sink::TextSink;

/// The format an OpenDocument package's `mimetype` entry names.
pub(super) fn format_of(mimetype: &[u8]) -> &'static str {
    let kind = mimetype
        .strip_prefix(b"application/vnd.oasis.opendocument.")
        .unwrap_or(&[]);
    match kind {
        k if k.starts_with(b"text") => "odt",
        k if k.starts_with(b"spreadsheet") => "ods",
        k if k.starts_with(b"presentation") => "odp",
        _ => "odf",
    }
}

/// Whether a part of the package holds text: the body, the styles (headers
/// and footers live there) and the metadata, an embedded object's too.
pub(super) fn is_text_part(name: &str) -> bool {
    ["content.xml", "styles.xml", "meta.xml"]
        .iter()
        .any(|p| name == *p || name.ends_with(&format!("/{p}")))
}

fn repeat(e: &BytesStart<'_>, key: &[u8]) -> usize {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .and_then(|a| std::str::from_utf8(&a.value).ok()?.parse().ok())
        .unwrap_or(1)
}

/// Delivers attribute `key` of `e` as a value of its own.
fn attribute<S: TextSink>(e: &BytesStart<'_>, key: &[u8], cx: &mut Cx<S>) {
    if let Some(a) = e.attributes().flatten().find(|a| a.key.as_ref() == key) {
        let mut value = Vec::new();
        attribute_text(&a, &mut value);
        deliver(&value, cx);
    }
}

/// Reads one XML part. Text outside a paragraph (a title, an author in the
/// metadata) is a value of its own.
pub(super) fn text<S: TextSink>(r: &mut dyn Read, cx: &mut Cx<S>) {
    let mut para = Vec::new();
    // Paragraphs open (they nest: a note inside a paragraph).
    let mut in_para = 0usize;
    let mut columns = Columns::new();
    let mut col = 0usize;
    let mut cell_at: Option<(usize, usize)> = None;
    let mut cell_text = Vec::new();
    each_raw(r, cx, |event, cx| match event {
        Raw::Start(e) => match e.local_name() {
            b"table" => {
                columns.next_sheet(cx);
                // Sheets are named after whom they are about.
                attribute(&e.event(), b"table:name", cx);
            }
            // A link's target (`tel:`, `mailto:`): the text may only say "call".
            b"a" => attribute(&e.event(), b"xlink:href", cx),
            b"table-row" => {
                columns.end_row(cx);
                col = 0;
            }
            b"table-cell" | b"covered-table-cell" => {
                cell_at = Some((col, repeat(&e.event(), b"table:number-columns-repeated")));
                cell_text.clear();
            }
            name @ (b"p" | b"h" | b"annotation" | b"note") => {
                // A note or comment inside a paragraph is set apart from it.
                if in_para > 0 {
                    let into = if cell_at.is_some() {
                        &mut cell_text
                    } else {
                        &mut para
                    };
                    into.push(b'\n');
                }
                if matches!(name, b"p" | b"h") {
                    in_para += 1;
                }
            }
            _ => {}
        },
        Raw::Empty(e) => match e.local_name() {
            b"table-cell" | b"covered-table-cell" => {
                col = col.saturating_add(repeat(&e.event(), b"table:number-columns-repeated"));
            }
            name @ (b"s" | b"tab" | b"line-break") => {
                let into = if cell_at.is_some() {
                    &mut cell_text
                } else {
                    &mut para
                };
                into.push(match name {
                    b"s" => b' ',
                    b"tab" => b'\t',
                    _ => b'\n',
                });
            }
            _ => {}
        },
        Raw::Text(e) => {
            let into = if cell_at.is_some() {
                &mut cell_text
            } else {
                &mut para
            };
            if into.len() < MAX_CELL {
                unescaped(e, into);
            }
            // A paragraph longer than a cell goes on in pieces.
            if cell_at.is_none() && para.len() >= MAX_CELL {
                cx.sink.text(&para);
                para.clear();
            }
        }
        Raw::End(name) => match local(name) {
            b"p" | b"h" => {
                in_para = in_para.saturating_sub(1);
                if cell_at.is_some() || in_para > 0 {
                    let into = if cell_at.is_some() {
                        &mut cell_text
                    } else {
                        &mut para
                    };
                    into.push(b'\n');
                } else {
                    cx.sink.text(&para);
                    cx.sink.boundary();
                    para.clear();
                }
            }
            b"table-cell" | b"covered-table-cell" => {
                if let Some((at, n)) = cell_at.take() {
                    let text = cell_text.strip_suffix(b"\n").unwrap_or(&cell_text);
                    columns.cell(text, at, cx);
                    col = at.saturating_add(n);
                }
            }
            // A title's cell waiting to see the next row goes before
            // what follows the table.
            b"table" => {
                columns.end_row(cx);
                if in_para == 0 && cell_at.is_none() && !para.is_empty() {
                    cx.sink.text(&para);
                    cx.sink.boundary();
                    para.clear();
                }
            }
            b"annotation" | b"note" if in_para > 0 => para.push(b'\n'),
            _ if in_para == 0 && cell_at.is_none() && !para.is_empty() => {
                cx.sink.text(&para);
                cx.sink.boundary();
                para.clear();
            }
            _ => {}
        },
        _ => {}
    });
    columns.end_row(cx);
}
