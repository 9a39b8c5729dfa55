//! Fixtures for the integration tests, built like sentences: a test PKI made by
//! rcgen at test time, HTTPS/HTTP origins on 127.0.0.1:0 that report what they
//! received, `spawn_proxy(config)`, and clients that speak through the proxy.
#![allow(dead_code, unused_imports)]

pub mod bodies;
pub mod client;
pub mod origin;
pub mod pki;
pub mod proxy;
pub mod ws;

pub use bodies::*;
pub use client::*;
pub use origin::*;
pub use pki::*;
pub use proxy::*;
pub use ws::*;

/// Deterministic bytes that do not compress to nothing (xorshift).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Runs the built `sluice` binary with `args` and returns its output, failing
/// the test with both of its streams when it exits unsuccessfully.
pub fn sluice_ok<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .output()
        .expect("the sluice binary runs");
    assert!(
        out.status.success(),
        "sluice exited with {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
