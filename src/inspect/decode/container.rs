//! Formats that can only be read whole (zip's central directory is at the end;
//! PDF's objects and a compound file's sectors point anywhere): held in memory
//! up to the body's hold budget, then read at `finish`. Past the budget the
//! scan says `size_limit`. Also the reading of a file found inside another.

use std::io::Read;

use super::cx::Cx;
use super::{cfb, ooxml, pdf, rar, rtf, sevenz, tnef, ContentHint, Kind, Node};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

pub(crate) struct BufferNode {
    kind: Kind,
    depth: u32,
    buf: Vec<u8>,
    overflow: bool,
}

impl BufferNode {
    pub fn new(kind: Kind, depth: u32) -> Self {
        BufferNode {
            kind,
            depth,
            buf: Vec::new(),
            overflow: false,
        }
    }

    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Pdf => "pdf",
            Kind::Cfb => "compound file",
            Kind::Rtf => "rtf",
            Kind::SevenZip => "7z",
            Kind::Rar => "rar",
            Kind::Tnef => "winmail.dat",
            _ => "zip",
        }
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        if self.overflow {
            return;
        }
        if !cx.reserve(data.len()) {
            cx.incomplete(
                IncompleteReason::SizeLimit,
                format!(
                    "{} larger than the {}-byte hold limit",
                    self.name(),
                    cx.limits.max_buffer_bytes
                ),
            );
            self.overflow = true;
            cx.release(self.buf.len());
            self.buf = Vec::new();
            return;
        }
        self.buf.extend_from_slice(data);
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.overflow {
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        match self.kind {
            Kind::Pdf => pdf::scan(&buf, self.depth, cx),
            Kind::Cfb => cfb::scan(&buf, self.depth, cx),
            Kind::Rtf => rtf::scan(&buf, self.depth, cx),
            Kind::SevenZip => sevenz::scan(&buf, self.depth, cx),
            Kind::Rar => rar::scan(&buf, self.depth, cx),
            Kind::Tnef => tnef::scan(&buf, self.depth, cx),
            _ => ooxml::scan(&buf, self.depth, cx),
        }
        cx.release(buf.len());
    }
}

/// An archive member's name (a path), as a value of its own: the scan of an
/// ID card is an image, and its name (`陳大文_A123456(3).jpg`) is what there is
/// to read of it.
pub(super) fn member_name<S: TextSink>(name: &str, cx: &mut Cx<S>) {
    if !name.trim().is_empty() {
        cx.sink.text(name.as_bytes());
        cx.sink.boundary();
    }
}

/// A file inside another (a zip entry, a PDF attachment): sniffed by its
/// name and content, and decoded one level deeper.
pub(super) fn nested<S: TextSink>(r: &mut dyn Read, name: &str, depth: u32, cx: &mut Cx<S>) {
    let hint = ContentHint {
        file_name: Some(name.to_owned()),
        ..ContentHint::default()
    };
    let mut node = Node::sniffing(hint, depth + 1);
    let mut buf = vec![0u8; 32 << 10];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                node.feed(buf.get(..n).unwrap_or(&[]), cx);
                cx.work(n);
                if cx.stopped {
                    return;
                }
            }
            Err(_) => {
                cx.incomplete(IncompleteReason::Malformed, "corrupt zip entry");
                break;
            }
        }
    }
    node.finish(cx);
}
