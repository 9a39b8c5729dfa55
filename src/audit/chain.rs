//! The hash chain: how a record's line is built and how its hash is computed.
//!
//! A chained line is the canonical serialization of the record without `hash`
//! (compact serde_json, struct fields in declaration order, maps sorted) with
//! `,"hash":"<hex>"` spliced in before the final `}`. `hash` is the hex SHA-256 of
//! that canonical serialization, which includes `prev`, so each record commits to
//! its predecessor. Because `hash` is the record's last field, the line is also
//! exactly `serde_json::to_string` of the finished record.
//!
//! Verification hashes the bytes of the line as written (not a re-serialization),
//! so it does not depend on serde round-tripping and catches any byte-level edit.

use super::record::{push_hex, AuditRecord};

/// `prev` of the first record in a log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const HASH_KEY: &str = ",\"hash\":\"";
/// `,"hash":"` + 64 hex digits + `"}`.
const HASH_SUFFIX_LEN: usize = HASH_KEY.len() + 64 + 2;

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = String::with_capacity(64);
    push_hex(&mut out, digest.as_ref());
    out
}

/// Chains `rec` onto `prev`: sets `prev` and `hash` and returns the line to write
/// (with its trailing newline).
pub fn seal(rec: &mut AuditRecord, prev: &str) -> Result<String, serde_json::Error> {
    rec.prev.clear();
    rec.prev.push_str(prev);
    rec.hash.clear();
    let canonical = serde_json::to_string(&*rec)?;
    let hash = sha256_hex(canonical.as_bytes());
    let body = canonical.strip_suffix('}').unwrap_or(&canonical);
    let mut line = String::with_capacity(canonical.len() + HASH_SUFFIX_LEN + 1);
    line.push_str(body);
    line.push_str(HASH_KEY);
    line.push_str(&hash);
    line.push_str("\"}\n");
    rec.hash = hash;
    Ok(line)
}

/// Recomputes the hash of a written line (without its newline) from its bytes.
/// `None` when the line does not end in a well-formed `hash` field.
pub fn recompute(line: &[u8]) -> Option<String> {
    let split = line.len().checked_sub(HASH_SUFFIX_LEN)?;
    let (body, suffix) = line.split_at(split);
    let hex = suffix
        .strip_prefix(HASH_KEY.as_bytes())?
        .strip_suffix(b"\"}")?;
    if hex.len() != 64 || !hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut canonical = Vec::with_capacity(body.len() + 1);
    canonical.extend_from_slice(body);
    canonical.push(b'}');
    Some(sha256_hex(&canonical))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::record::RecordKind;

    #[test]
    fn sealed_line_is_the_serialization_of_the_finished_record() {
        let mut rec =
            AuditRecord::new(RecordKind::Request, "127.0.0.1:1", "oapi.dingtalk.com", 443);
        rec.action = String::from("allow");
        let line = seal(&mut rec, GENESIS).unwrap();
        assert_eq!(line.trim_end(), serde_json::to_string(&rec).unwrap());
        assert_eq!(
            recompute(line.trim_end().as_bytes()).as_deref(),
            Some(rec.hash.as_str())
        );
        assert_eq!(rec.prev, GENESIS);
    }

    #[test]
    fn hash_covers_prev() {
        let mut a = AuditRecord::new(RecordKind::Tunnel, "c", "h", 1);
        let mut b = a.clone();
        seal(&mut a, GENESIS).unwrap();
        seal(&mut b, &"1".repeat(64)).unwrap();
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn recompute_rejects_lines_without_a_hash_field() {
        for line in [&b""[..], b"{}", b"{\"hash\":\"zz\"}", &[b'x'; 80][..]] {
            assert_eq!(recompute(line), None);
        }
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
