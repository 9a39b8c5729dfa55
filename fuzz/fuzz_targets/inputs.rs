//! Fuzzes what sluice reads from files an operator hands it: an audit log to
//! verify (it may have been tampered with: that is what verification is
//! for), a HAR capture to replay, and a configuration (a typo must give an
//! error with its line, never a panic: a reload keeps the running config). Either may be anything; neither may
//! panic, hang or take unbounded memory. Errors are the expected outcome.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::audit::verify;
use sluice::config;
use sluice::replay::har;

fuzz_target!(|data: &[u8]| {
    let _ = verify(std::io::Cursor::new(data));
    let _ = har::load(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = config::parse(text, "fuzz.yaml");
    }
});
