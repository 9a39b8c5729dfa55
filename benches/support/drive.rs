//! How the inspection benches feed a body: in 64 KiB chunks, as the proxy
//! reads one, to the detectors alone or to the whole engine.
#![allow(dead_code)]

use sluice::inspect::{ContentHint, Engine, Findings, TextScan, TextSink};

pub const CHUNK: usize = 64 << 10;

/// The detectors alone on raw text, the state reused as the proxy reuses it.
pub fn scan_text(scan: &mut TextScan, data: &[u8]) -> Findings {
    scan.reset();
    for c in data.chunks(CHUNK) {
        scan.text(c);
    }
    let mut f = Findings::default();
    scan.finish_into(&mut f);
    f
}

/// The full engine (decoders and detectors) under the content type a client sent.
pub fn engine_scan(e: &Engine, hint: &ContentHint, data: &[u8]) -> Findings {
    let mut s = e.scanner(hint.clone());
    for c in data.chunks(CHUNK) {
        s.feed(c);
    }
    s.finish()
}
