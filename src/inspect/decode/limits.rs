//! The limits that keep a scan bounded in time and memory, whatever the body.

use serde::{Deserialize, Serialize};

/// Bounds on one body's scan. Hitting any of them ends that part of the scan
/// with an `Incomplete` reason: never a silent pass, never unbounded memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Body bytes as received; past this the rest is not looked at (`size_limit`).
    pub max_body_bytes: u64,
    /// Bytes produced by all decompression in one body (`size_limit`).
    pub max_decompressed_bytes: u64,
    /// Output over input of one decompressor, checked past `ratio_grace_bytes` (`ratio_limit`).
    pub max_ratio: u64,
    /// Output a decompressor may produce before the ratio is checked.
    pub ratio_grace_bytes: u64,
    /// Containers inside containers (gzip, multipart, zip, JSON in a string, base64…).
    pub max_depth: u32,
    /// Brackets inside one JSON document.
    pub max_json_nesting: u32,
    /// Zip entries plus multipart parts in one body (`entry_limit`).
    pub max_entries: u32,
    /// Bytes held at once for formats that need the whole thing (zip, PDF).
    pub max_buffer_bytes: u64,
    /// Time one body's scan may take, counted while scanning (not while waiting
    /// for a slow client's next bytes); the clock is read once per MiB of work.
    pub max_scan_millis: u64,
    /// Binary data of no known format at least this long whose bytes are as
    /// random as compressed or encrypted data is reported unread
    /// (`unsupported`); 0 turns the check off.
    pub opaque_min_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 256 << 20,
            max_decompressed_bytes: 512 << 20,
            max_ratio: 100,
            ratio_grace_bytes: 1 << 20,
            max_depth: 10,
            max_json_nesting: 256,
            max_entries: 10_000,
            max_buffer_bytes: 64 << 20,
            max_scan_millis: 10_000,
            opaque_min_bytes: 4096,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_with_unknown_key_is_rejected() {
        let err = serde_yaml::from_str::<Limits>("max_ratio: 10\nmax_ratoi: 3\n");
        assert!(err.is_err());
    }

    #[test]
    fn partial_yaml_keeps_defaults() {
        let l: Limits = serde_yaml::from_str("max_ratio: 10\n").unwrap();
        assert_eq!(l.max_ratio, 10);
        assert_eq!(l.max_depth, Limits::default().max_depth);
    }
}
