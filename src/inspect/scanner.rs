//! The streaming `Scanner`: one per body. It peels the Content-Encoding chain,
//! sniffs the rest, drives the decoders, enforces the body-size limit, and at the
//! end gives back the sink with a `ScanReport` of what it could and could not see.

use crate::inspect::decode::compress_chain;
use crate::inspect::decode::cx::Cx;
use crate::inspect::decode::{ContentHint, Limits};
use crate::inspect::findings::{Incomplete, IncompleteReason};
use crate::inspect::sink::TextSink;

/// What a scan saw, beside what its sink found. Maps onto `Findings`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Body bytes as received (before any decoding).
    pub bytes: u64,
    /// Formats looked inside, outermost first (`gzip`, `multipart`, `docx`, …).
    pub formats: Vec<String>,
    /// Media recognised by magic bytes and skipped (`image/png`, …).
    pub skipped_media: Vec<String>,
    /// Set when some part of the body could not be inspected.
    pub incomplete: Option<Incomplete>,
}

/// Scans one body fed in chunks of any size. Generic over the sink so the hot
/// path is statically dispatched.
pub struct Scanner<S: TextSink> {
    cx: Cx<S>,
    root: crate::inspect::decode::Node,
    bytes: u64,
}

impl<S: TextSink> Scanner<S> {
    pub fn new(sink: S, limits: &Limits, hint: ContentHint) -> Self {
        let mut cx = Cx::new(sink, limits);
        let root = compress_chain(hint, &mut cx);
        Scanner { cx, root, bytes: 0 }
    }

    /// Reads a request's query string (without its `?`) as form fields,
    /// before the body's first byte. The body's size limit does not count it
    /// (the request line is bounded where it is parsed); the time budget does.
    pub fn query(&mut self, query: &[u8]) {
        if query.is_empty() || self.cx.stopped {
            return;
        }
        self.cx.format("query");
        self.cx.begin_call();
        self.cx.work(query.len());
        crate::inspect::decode::query(query, &mut self.cx);
        self.cx.end_call();
    }

    /// Declares this body a later part of an upload whose first part was
    /// `media` (a type the sniffer names): bytes in it as random as
    /// compressed data are then that media's continuation, skipped as the
    /// whole file would have been, instead of unread. Anything else in it
    /// is read as in any body.
    pub fn continues(&mut self, media: &str) {
        self.cx.continues = Some(media.to_owned());
    }

    /// Feeds the next chunk. Never panics; memory stays within the limits.
    pub fn feed(&mut self, chunk: &[u8]) {
        let before = self.bytes;
        self.bytes = self.bytes.saturating_add(chunk.len() as u64);
        if self.cx.stopped {
            return;
        }
        let max = self.cx.limits.max_body_bytes;
        let chunk = if self.bytes > max {
            let keep = usize::try_from(max.saturating_sub(before)).unwrap_or(usize::MAX);
            chunk.get(..keep.min(chunk.len())).unwrap_or(&[])
        } else {
            chunk
        };
        if !self.root.skips() {
            // A body a limit stopped looking at is counted, not scanned: no
            // work, and no clock reads for the time budget.
            self.cx.begin_call();
            self.cx.work(chunk.len());
            self.root.feed(chunk, &mut self.cx);
            self.cx.end_call();
        }
        if self.bytes > max {
            // The reason goes first: what the cut then breaks is a consequence.
            self.cx.incomplete(
                IncompleteReason::SizeLimit,
                format!("body larger than {max} bytes"),
            );
            self.root.finish(&mut self.cx);
            self.cx.stopped = true;
        }
    }

    /// Ends the body: flushes every decoder and reports.
    pub fn finish(mut self) -> (S, ScanReport) {
        self.cx.begin_call();
        self.cx.check_clock();
        self.root.finish(&mut self.cx);
        self.cx.end_call();
        let mut skipped_media: Vec<String> = self
            .cx
            .skipped_media
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        if let Some(m) = self.cx.continues.take().filter(|_| self.cx.continued) {
            if !skipped_media.contains(&m) {
                skipped_media.push(m);
            }
        }
        let report = ScanReport {
            bytes: self.bytes,
            formats: self.cx.formats.iter().map(|s| (*s).to_owned()).collect(),
            skipped_media,
            incomplete: self.cx.incomplete.take(),
        };
        (self.cx.sink, report)
    }
}
