//! The typed audit record: one per decided request or tunnel, with stable field
//! names (DESIGN.md, "Audit record"). Building a record never copies a raw value:
//! paths go through `redact_path`, samples through `mask_sample`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::redact::{bound, mask_sample, redact_path_with};
use crate::inspect::findings::{Category, Class, Findings, Incomplete};

/// Longest string taken from the request (client, host, method, …) kept in a record.
const MAX_FIELD: usize = 512;
/// At most this many samples per class reach the log.
const MAX_SAMPLES_PER_CLASS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// An intercepted, decided HTTP request.
    Request,
    /// A CONNECT or TLS stream spliced without interception.
    Tunnel,
}

/// A rule in shadow mode that would have fired: recorded, never enforced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowHit {
    pub rule: String,
    pub action: String,
}

/// One line of the audit log.
///
/// The field order below is the canonical serialization order the hash chain relies
/// on (serde serialises struct fields in declaration order, and every map is a
/// `BTreeMap`), so do not reorder fields; append new optional fields before `policy`
/// only together with a note in the changelog, since old verifiers ignore them but
/// old logs lack them. `hash` must stay the last field: the sink appends it to the
/// canonical serialization of everything before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC with milliseconds, e.g. `2026-03-01T08:15:30.123Z`.
    pub ts: String,
    /// Ticket id shown to the user in block responses, e.g. `slc-0123456789abcdef`.
    pub id: String,
    pub kind: RecordKind,
    /// Client address as `ip:port`.
    pub client: String,
    pub method: Option<String>,
    pub host: String,
    pub port: u16,
    /// Path and query with secrets redacted (`redact_path`).
    pub path: Option<String>,
    pub region: String,
    pub jurisdiction: String,
    pub classes: BTreeMap<Class, u64>,
    pub categories: BTreeMap<Category, u64>,
    /// Masked samples (`A12****(3)`); never a raw value.
    pub samples: BTreeMap<Class, Vec<String>>,
    pub incomplete: Option<Incomplete>,
    /// Hex SHA-256 of the body as received; `None` when the body was not held.
    pub body_sha256: Option<String>,
    /// Body bytes for a request; bytes spliced both ways for a tunnel.
    pub bytes: u64,
    /// The rule that decided, if any (`None` = default action).
    pub rule: Option<String>,
    /// `allow`, `block`, `reroute`, `audit`, or `error` when the request failed closed.
    pub action: String,
    pub shadow: Vec<ShadowHit>,
    /// Where a rerouted request was sent.
    pub target: Option<String>,
    /// Status of the response released to the client.
    pub status: Option<u16>,
    /// Hash of the policy in force.
    pub policy: String,
    /// `hash` of the previous record; 64 zeros for the first.
    pub prev: String,
    /// Hex SHA-256 of this record's canonical serialization without `hash`.
    /// Empty until the sink has chained the record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

impl AuditRecord {
    /// A record with a fresh ticket id and timestamp; the caller fills the rest.
    /// Strings from the request are bounded so a hostile client cannot bloat the log.
    pub fn new(kind: RecordKind, client: &str, host: &str, port: u16) -> AuditRecord {
        AuditRecord {
            ts: now_ts(),
            id: new_ticket_id(),
            kind,
            client: bound(client, MAX_FIELD),
            method: None,
            host: bound(host, MAX_FIELD),
            port,
            path: None,
            region: String::from("unknown"),
            jurisdiction: String::from("unknown"),
            classes: BTreeMap::new(),
            categories: BTreeMap::new(),
            samples: BTreeMap::new(),
            incomplete: None,
            body_sha256: None,
            bytes: 0,
            rule: None,
            action: String::new(),
            shadow: Vec::new(),
            target: None,
            status: None,
            policy: String::new(),
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// Sets the method and the redacted path.
    pub fn with_request(self, method: &str, path_and_query: &str) -> AuditRecord {
        self.with_request_redacting(method, path_and_query, |_| false)
    }

    /// As `with_request`, also redacting the query pairs for which `personal`
    /// holds (`redact_path_with`).
    pub fn with_request_redacting(
        mut self,
        method: &str,
        path_and_query: &str,
        personal: impl Fn(&str) -> bool,
    ) -> AuditRecord {
        self.method = Some(bound(method, 32));
        self.path = Some(redact_path_with(path_and_query, personal));
        self
    }

    /// Copies counts, categories, bounded re-masked samples, `incomplete` and `bytes`.
    pub fn with_findings(mut self, findings: &Findings) -> AuditRecord {
        self.classes = findings.classes.clone();
        self.categories = findings.categories();
        self.samples = findings
            .samples
            .iter()
            .map(|(class, samples)| {
                let kept = samples
                    .iter()
                    .take(MAX_SAMPLES_PER_CLASS)
                    .map(|s| mask_sample(s))
                    .collect();
                (*class, kept)
            })
            .collect();
        self.incomplete = findings.incomplete.clone();
        self.bytes = findings.bytes;
        self
    }
}

/// A ticket id: `slc-` and 16 hex digits from the system CSPRNG.
pub fn new_ticket_id() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // The OS RNG failing is near impossible; a unique-enough fallback keeps the
        // request answerable rather than panicking on the hot path.
        bytes = fallback_id_bytes();
    }
    let mut id = String::with_capacity(20);
    id.push_str("slc-");
    push_hex(&mut id, &bytes);
    id
}

fn fallback_id_bytes() -> [u8; 8] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    (nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(48)).to_be_bytes()
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_ts() -> String {
    format_ts(time::OffsetDateTime::now_utc())
}

pub(crate) fn format_ts(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(fmt)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000Z"))
}

pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::findings::IncompleteReason;

    #[test]
    fn ticket_ids_are_prefixed_hex_and_distinct() {
        let a = new_ticket_id();
        let b = new_ticket_id();
        assert_eq!(a.len(), 20);
        assert!(a.starts_with("slc-"));
        assert!(a[4..]
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_millis() {
        let t = time::macros::datetime!(2026-03-01 08:15:30.123456 +08:00);
        assert_eq!(format_ts(t), "2026-03-01T00:15:30.123Z");
        let now = now_ts();
        assert_eq!(now.len(), 24);
        assert!(now.ends_with('Z'));
    }

    #[test]
    fn findings_are_copied_masked_and_bounded() {
        let mut f = Findings {
            bytes: 42,
            ..Findings::default()
        };
        f.classes.insert(Class::HkId, 7);
        f.classes.insert(Class::Phone, 1);
        f.samples.insert(
            Class::HkId,
            (0..9).map(|i| format!("A12****({i})")).collect(),
        );
        f.samples
            .insert(Class::Phone, vec![String::from("85261234567")]);
        f.incomplete = Some(Incomplete {
            reason: IncompleteReason::SizeLimit,
            detail: String::new(),
        });
        let rec = AuditRecord::new(
            RecordKind::Request,
            "10.0.0.1:5000",
            "oapi.dingtalk.com",
            443,
        )
        .with_request("POST", "/robot/send?access_token=abc")
        .with_findings(&f);
        assert_eq!(rec.bytes, 42);
        assert_eq!(rec.categories.get(&Category::Identity), Some(&7));
        assert_eq!(rec.categories.get(&Category::Contact), Some(&1));
        assert_eq!(rec.samples[&Class::HkId].len(), MAX_SAMPLES_PER_CLASS);
        assert_eq!(rec.samples[&Class::HkId][0], "A12****(0)");
        // An unmasked sample from a buggy detector is masked here, not logged raw.
        assert!(!rec.samples[&Class::Phone][0].contains("61234567"));
        assert_eq!(
            rec.path.as_deref(),
            Some("/robot/send?access_token=REDACTED")
        );
        assert!(rec.incomplete.is_some());
    }

    #[test]
    fn hostile_request_strings_are_bounded() {
        let host = "h".repeat(100_000);
        let rec = AuditRecord::new(RecordKind::Tunnel, "1.2.3.4:1", &host, 443);
        assert!(rec.host.len() <= MAX_FIELD + 16);
    }
}
