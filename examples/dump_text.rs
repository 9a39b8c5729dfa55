//! Prints the text the decoders extract from a file, one boundary a line, and
//! why the scan was incomplete if it was: what the detectors would see. For
//! finding out why a file reports what it does.
//!
//! `cargo run --release --example dump_text -- FILE [CONTENT-TYPE]`

use sluice::inspect::scanner::Scanner;
use sluice::inspect::sink::RecordingSink;
use sluice::inspect::{ContentHint, Limits};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: dump_text FILE [CONTENT-TYPE]");
        std::process::exit(2);
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let hint = ContentHint {
        content_type: args.next(),
        file_name: Some(path),
        ..ContentHint::default()
    };
    let mut scanner = Scanner::new(RecordingSink::default(), &Limits::default(), hint);
    scanner.feed(&data);
    let (sink, report) = scanner.finish();
    println!("{}", sink.joined_text());
    eprintln!("formats: {}", report.formats.join(">"));
    if let Some(why) = report.incomplete {
        eprintln!("incomplete: {why:?}");
    }
}
