//! Decoders: recognise what a body is, peel encodings and containers off it, and
//! push its text and structure into a `TextSink`. Detection is the sink's job.
//!
//! Every decoder is a push-based node (`feed` any chunk, then `finish`) so that
//! a body split anywhere gives the same sink events. Nodes nest: a gzip node
//! feeds a multipart node whose parts feed sniffing nodes, and so on; the
//! depth of that nesting is limited. Formats that need the whole thing (zip,
//! PDF, compound files) buffer up to a limit and are read at `finish`.

mod base64;
mod binary;
mod cfb;
mod columns;
mod compress;
mod container;
mod csv;
pub(crate) mod cx;
mod find;
mod form;
mod json;
pub mod limits;
mod markup;
mod media;
mod media_text;
mod mime;
mod multipart;
mod odf;
mod ooxml;
mod pdf;
mod rar;
mod rtf;
mod sevenz;
pub mod sniff;
mod tar;
mod text;
mod tnef;
mod value;
mod xlsb;
mod xml;

pub(crate) use form::query;
pub use limits::Limits;
pub use sniff::{early_kind, media_magic, sniff, ContentHint, Kind, SNIFF_LEN};

use cx::Cx;

/// Columns a header row may name (a CSV's, a sheet's, an HTML table's), and
/// bytes kept of each name: past them, values go without a field.
pub(crate) const MAX_COLUMNS: usize = 1024;
pub(crate) const MAX_HEADER: usize = 256;

use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// One decoder in the tree of decoders a body goes through.
pub(crate) enum Node {
    /// Holds the first bytes until it knows what they are.
    Sniff(Box<SniffNode>),
    Text,
    /// Another encoding than UTF-8, decoded and sniffed again.
    Transcode(Box<text::TranscodeNode>),
    Json(Box<json::JsonNode>),
    Base64(Box<base64::Base64Node>),
    Form(Box<form::FormNode>),
    Multipart(Box<multipart::MultipartNode>),
    Csv(Box<csv::CsvNode>),
    Markup(Box<markup::MarkupNode>),
    /// Text whose head was ASCII, until the first byte that is not settles
    /// its encoding.
    Late(Box<text::LateCharset>),
    /// Bytes that are no text in any encoding and no format read here.
    Binary(Box<binary::BinaryNode>),
    Tar(Box<tar::TarNode>),
    Mime(Box<mime::MimeNode>),
    Qp(Box<mime::QpNode>),
    Decompress(Box<compress::DecompressNode>),
    Buffer(Box<container::BufferNode>),
    /// Recognised media: walked by its framing to its end, what it frames
    /// not looked inside; what follows the end is read. Media whose end no
    /// framing tells has its long runs of text read, and a document or
    /// archive joined after it opened (`media_text`).
    Media(Box<media::MediaNode>),
    /// Deliberately not looked at (a limit said so; the report already says why).
    Skip,
}

impl Node {
    /// Whether every further byte is only counted (a body a limit stopped
    /// looking at): feeding it does no work to time.
    pub fn skips(&self) -> bool {
        match self {
            Node::Skip => true,
            Node::Sniff(n) => n.inner.as_ref().is_some_and(Node::skips),
            _ => false,
        }
    }

    /// The decoder for `kind` at nesting `depth`, noting the format it opens.
    pub fn of<S: TextSink>(kind: Kind, hint: &ContentHint, depth: u32, cx: &mut Cx<S>) -> Node {
        if depth > cx.limits.max_depth {
            cx.incomplete(
                IncompleteReason::DepthLimit,
                format!("containers nested deeper than {}", cx.limits.max_depth),
            );
            return Node::Skip;
        }
        match kind {
            Kind::Text => Node::Text,
            Kind::Utf16Le | Kind::Utf16Be => {
                cx.format("utf-16");
                let enc = if kind == Kind::Utf16Be {
                    encoding_rs::UTF_16BE
                } else {
                    encoding_rs::UTF_16LE
                };
                Node::Transcode(Box::new(text::TranscodeNode::new(enc, hint.clone(), depth)))
            }
            Kind::Json => {
                cx.format("json");
                Node::Json(Box::new(json::JsonNode::new(depth, true)))
            }
            Kind::Form => {
                cx.format("form");
                Node::Form(Box::new(form::FormNode::new(depth)))
            }
            Kind::Multipart { boundary } => {
                cx.format("multipart");
                Node::Multipart(Box::new(multipart::MultipartNode::new(&boundary, depth)))
            }
            Kind::Csv => {
                cx.format("csv");
                Node::Csv(Box::new(csv::CsvNode::new()))
            }
            Kind::Markup(name) => {
                cx.format(name);
                Node::Markup(Box::new(markup::MarkupNode::new(name == "html")))
            }
            Kind::Gzip
            | Kind::Zlib
            | Kind::Brotli
            | Kind::Zstd
            | Kind::Xz
            | Kind::Lzip
            | Kind::Bzip2 => match compress::DecompressNode::new(&kind, hint, depth, cx) {
                Some(n) => Node::Decompress(Box::new(n)),
                None => Node::Skip,
            },
            Kind::Message => {
                cx.format("eml");
                Node::Mime(Box::new(mime::MimeNode::new(depth)))
            }
            Kind::Tar => {
                cx.format("tar");
                Node::Tar(Box::new(tar::TarNode::new(depth)))
            }
            Kind::Zip
            | Kind::Pdf
            | Kind::Cfb
            | Kind::Rtf
            | Kind::SevenZip
            | Kind::Rar
            | Kind::Tnef => Node::Buffer(Box::new(container::BufferNode::new(kind, depth))),
            Kind::Media(mime) => {
                cx.media(mime);
                Node::Media(Box::new(media::MediaNode::new(depth)))
            }
            Kind::Encrypted(name) => {
                cx.format(name);
                cx.incomplete(
                    IncompleteReason::Encrypted,
                    format!("{name} file encrypted as a whole: its content cannot be read"),
                );
                Node::Skip
            }
            Kind::Base64 { mid_line } => {
                cx.format("base64");
                Node::Base64(Box::new(base64::Base64Node::bare(mid_line, depth)))
            }
            Kind::Strings(name) => {
                cx.format(name);
                Node::Binary(Box::new(binary::BinaryNode::new(false)))
            }
            Kind::Fragment(name) => {
                cx.format(name);
                cx.incomplete(
                    IncompleteReason::Unsupported,
                    format!(
                        "part of a {name} file without its beginning (a piece of a larger \
                         upload): it cannot be read on its own"
                    ),
                );
                // What shows as it is (a form field's value, metadata) is
                // still scanned, for the report.
                Node::Text
            }
            Kind::Unread(name) => {
                cx.format(name);
                cx.incomplete(
                    IncompleteReason::Unsupported,
                    format!("{name} archive or stream: its content is not read here"),
                );
                Node::Skip
            }
        }
    }

    /// A node that sniffs its content first (a part, an entry, a decompressed stream).
    pub fn sniffing(hint: ContentHint, depth: u32) -> Node {
        Node::Sniff(Box::new(SniffNode {
            head: Vec::new(),
            hint,
            depth,
            inner: None,
        }))
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        if cx.stopped || data.is_empty() {
            return;
        }
        match self {
            Node::Sniff(n) => n.feed(data, cx),
            Node::Text => cx.sink.text(data),
            Node::Transcode(n) => n.feed(data, cx),
            Node::Json(n) => n.feed(data, cx),
            Node::Base64(n) => n.feed(data, cx),
            Node::Form(n) => n.feed(data, cx),
            Node::Multipart(n) => n.feed(data, cx),
            Node::Csv(n) => n.feed(data, cx),
            Node::Markup(n) => n.feed(data, cx),
            Node::Late(n) => n.feed(data, cx),
            Node::Binary(n) => n.feed(data, cx),
            Node::Tar(n) => n.feed(data, cx),
            Node::Mime(n) => n.feed(data, cx),
            Node::Qp(n) => n.feed(data, cx),
            Node::Decompress(n) => n.feed(data, cx),
            Node::Buffer(n) => n.feed(data, cx),
            Node::Media(n) => n.feed(data, cx),
            Node::Skip => {}
        }
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if cx.stopped {
            return;
        }
        match self {
            Node::Sniff(n) => n.finish(cx),
            Node::Text => cx.sink.boundary(),
            Node::Transcode(n) => n.finish(cx),
            Node::Json(n) => n.finish(cx),
            Node::Base64(n) => n.finish(cx),
            Node::Form(n) => n.finish(cx),
            Node::Multipart(n) => n.finish(cx),
            Node::Csv(n) => n.finish(cx),
            Node::Markup(n) => n.finish(cx),
            Node::Late(n) => n.finish(cx),
            Node::Binary(n) => n.finish(cx),
            Node::Tar(n) => n.finish(cx),
            Node::Mime(n) => n.finish(cx),
            Node::Qp(n) => n.finish(cx),
            Node::Decompress(n) => n.finish(cx),
            Node::Buffer(n) => n.finish(cx),
            Node::Media(n) => n.finish(cx),
            Node::Skip => {}
        }
    }
}

pub(crate) struct SniffNode {
    head: Vec<u8>,
    hint: ContentHint,
    depth: u32,
    inner: Option<Node>,
}

impl SniffNode {
    fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        if let Some(inner) = &mut self.inner {
            inner.feed(data, cx);
            return;
        }
        let take = (SNIFF_LEN - self.head.len().min(SNIFF_LEN)).min(data.len());
        let (now, rest) = data.split_at(take);
        self.head.extend_from_slice(now);
        // Everything but a magic number at the start waits for a full head:
        // what the body is, and whether its text is UTF-8, are judged on
        // the same bytes however it is split.
        let kind = if self.head.len() >= SNIFF_LEN {
            sniff(&self.head, &self.hint)
        } else if let Some(kind) = early_kind(&self.head) {
            kind
        } else {
            return;
        };
        let inner = self.decide(kind, cx);
        inner.feed(rest, cx);
    }

    /// Picks the decoder from the head and hands it the head.
    fn decide<S: TextSink>(&mut self, kind: Kind, cx: &mut Cx<S>) -> &mut Node {
        let plan = if is_text(&kind) {
            text::charset(&self.head, &self.hint, matches!(kind, Kind::Markup(_)))
        } else {
            text::Charset::Utf8
        };
        // Bytes that are no text in any encoding, and of no format either.
        let plan = match plan {
            text::Charset::Utf8 if kind == Kind::Text && text::is_binary(&self.head) => {
                text::Charset::Binary
            }
            plan => plan,
        };
        let node = match plan {
            text::Charset::Legacy(enc) => {
                cx.format(text::format_name(enc));
                Node::Transcode(Box::new(text::TranscodeNode::new(
                    enc,
                    self.hint.clone(),
                    self.depth,
                )))
            }
            text::Charset::Late(declared) => {
                let inner = Node::of(kind, &self.hint, self.depth, cx);
                Node::Late(Box::new(text::LateCharset::new(inner, declared)))
            }
            text::Charset::Utf8 => Node::of(kind, &self.hint, self.depth, cx),
            text::Charset::Binary => {
                cx.format("binary");
                Node::Binary(Box::new(binary::BinaryNode::new(true)))
            }
        };
        let head = std::mem::take(&mut self.head);
        let inner = self.inner.insert(node);
        inner.feed(&head, cx);
        inner
    }

    fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.inner.is_none() {
            if self.head.is_empty() {
                return;
            }
            self.decide(sniff(&self.head, &self.hint), cx);
        }
        if let Some(inner) = &mut self.inner {
            inner.finish(cx);
        }
    }
}

/// Kinds read as text, whose encoding the head (or a later byte) decides.
fn is_text(kind: &Kind) -> bool {
    matches!(kind, Kind::Text | Kind::Csv | Kind::Markup(_))
}

/// The decoder tree for a body: its Content-Encoding chain (last applied,
/// first undone) around a node that sniffs what is left.
pub(crate) fn compress_chain<S: TextSink>(mut hint: ContentHint, cx: &mut Cx<S>) -> Node {
    let mut kinds = Vec::new();
    if let Some(enc) = hint.content_encoding.take() {
        for e in enc.split(',').map(|e| e.trim().to_ascii_lowercase()) {
            match e.as_str() {
                "" | "identity" => {}
                "gzip" | "x-gzip" => kinds.push(Kind::Gzip),
                "deflate" => kinds.push(Kind::Zlib),
                "br" => kinds.push(Kind::Brotli),
                "zstd" => kinds.push(Kind::Zstd),
                _ => {
                    // Unknown coding: scanned as it is, and the report says so.
                    cx.incomplete(IncompleteReason::Unsupported, "unknown Content-Encoding");
                    kinds.clear();
                    break;
                }
            }
        }
    }
    let depth = u32::try_from(kinds.len()).unwrap_or(u32::MAX);
    if depth > cx.limits.max_depth {
        cx.incomplete(IncompleteReason::DepthLimit, "too many Content-Encodings");
        return Node::Skip;
    }
    for k in kinds.iter().rev() {
        cx.format(match k {
            Kind::Gzip => "gzip",
            Kind::Zlib => "deflate",
            Kind::Brotli => "br",
            _ => "zstd",
        });
    }
    let mut node = Node::sniffing(hint, depth);
    for k in &kinds {
        node = match compress::DecompressNode::with_inner(k, node, cx) {
            Some(d) => Node::Decompress(Box::new(d)),
            None => return Node::Skip,
        };
    }
    node
}

#[cfg(test)]
mod tests;
