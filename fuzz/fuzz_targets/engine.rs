//! Fuzzes the inspection engine as the proxy drives it: any body, under any of
//! the headers that pick a decoder, fed in chunks. Beyond "no panic, no hang,
//! bounded memory" (libFuzzer's own checks) it holds the streaming contract:
//! the findings are the same however the body is split, and the same on the
//! detectors' fast paths as on the general ones.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sluice::inspect::detect::{CheckKind, CustomPattern};
use sluice::inspect::{ContentHint, DetectorSettings, Engine, Limits, Settings};

/// Content types, one per decoder the sniffer can pick by header, and none.
const TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("text/plain; charset=utf-8"),
    Some("text/csv"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("multipart/mixed; boundary=\"b\""),
    Some("application/octet-stream"),
    Some("application/zip"),
    Some("application/pdf"),
    Some("text/html; charset=big5"),
    Some("application/xml"),
    Some("message/rfc822"),
    Some("application/rtf"),
    Some("application/vnd.ms-tnef"),
    Some("application/gzip"),
    Some("application/zstd"),
    Some("text/plain; charset=utf-16le"),
];

const ENCODINGS: &[Option<&str>] = &[
    None,
    Some("gzip"),
    Some("deflate"),
    Some("br"),
    Some("zstd"),
];

const NAMES: &[Option<&str>] = &[
    None,
    Some("a.docx"),
    Some("a.xlsx"),
    Some("a.pptx"),
    Some("a.xlsb"),
    Some("a.pdf"),
    Some("a.csv"),
    Some("a.rtf"),
    Some("a.eml"),
    Some("a.tar"),
    Some("a.7z"),
    Some("a.rar"),
    Some("a.txt"),
];

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(Engine::shipped)
}

/// Limits small enough for a fuzzed body to reach each of them: size,
/// expansion, ratio, depth, JSON nesting, entries, held bytes, opaque data.
fn tight() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let settings = Settings {
            limits: Limits {
                max_body_bytes: 8 << 10,
                max_decompressed_bytes: 16 << 10,
                max_ratio: 8,
                ratio_grace_bytes: 1 << 10,
                max_depth: 3,
                max_json_nesting: 8,
                max_entries: 4,
                max_buffer_bytes: 8 << 10,
                opaque_min_bytes: 512,
                ..Limits::default()
            },
            ..Settings::default()
        };
        Engine::new(&settings).expect("the tight limits are valid settings")
    })
}

/// The shipped dictionaries with custom patterns, which turn off the token
/// shortcuts that assume none (and read runs those skip).
fn custom() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let pattern = |name: &str, class: &str, shape: &str, check, needs_context| CustomPattern {
            name: name.into(),
            class: class.into(),
            shape: shape.into(),
            check,
            needs_context,
        };
        let mut detectors = DetectorSettings::default();
        detectors.custom_patterns = vec![
            pattern(
                "staff-no",
                "bank_account",
                "AA99999-9",
                CheckKind::None,
                true,
            ),
            pattern("member", "passport", "SC999999", CheckKind::None, false),
            pattern(
                "loyalty",
                "payment_card",
                "9999 9999 9999",
                CheckKind::Luhn,
                false,
            ),
            pattern("ref", "iban", "XX99X999999", CheckKind::Mod97, false),
        ];
        let settings = Settings {
            detectors,
            ..Settings::default()
        };
        Engine::new(&settings).expect("the custom patterns are valid settings")
    })
}

fuzz_target!(|data: &[u8]| {
    let [t, e, n, split, body @ ..] = data else {
        return;
    };
    let hint = ContentHint {
        content_type: TYPES[usize::from(*t) % TYPES.len()].map(str::to_owned),
        // Most bodies go unencoded: an encoding mostly makes the body invalid.
        content_encoding: if e & 0x80 == 0 {
            None
        } else {
            ENCODINGS[usize::from(*e) % ENCODINGS.len()].map(str::to_owned)
        },
        file_name: NAMES[usize::from(*n) % NAMES.len()].map(str::to_owned),
    };
    // The name byte's two high bits pick the tight limits or custom patterns.
    let engine = match n >> 6 {
        2 | 3 => tight(),
        1 => custom(),
        _ => engine(),
    };
    let whole = engine.scan(hint.clone(), body);
    assert_eq!(whole.bytes, body.len() as u64);
    // Chunks of one size (1 to 64 bytes, or 32 bytes to 4 KiB).
    let size = match split {
        0..=127 => usize::from(*split % 64) + 1,
        _ => (usize::from(*split % 128) + 1) * 32,
    };
    let hint_again = hint.clone();
    let mut s = engine.scanner(hint);
    for chunk in body.chunks(size) {
        s.feed(chunk);
    }
    let chunked = s.finish();
    assert_eq!(
        whole, chunked,
        "findings differ when fed in {size}-byte chunks"
    );
    // The detectors' fast paths (the block filters, the token shortcuts)
    // against the general walk they stand in for.
    let mut g = engine.scanner_general(hint_again);
    g.feed(body);
    let general = g.finish();
    assert_eq!(whole, general, "the fast paths and the general ones differ");
    // What goes up in a URL: the query read on its own, and which of its
    // pairs hold data.
    if split & 1 == 1 {
        let query = String::from_utf8_lossy(body);
        let _ = engine.scan_query(&query);
        let _ = engine.query_data(&query);
    }
});
