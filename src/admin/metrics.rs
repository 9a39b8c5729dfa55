//! `Metrics`: counters the proxy keeps of what it decided, read out in the
//! Prometheus text format by the admin endpoint.
//!
//! Every decided request and tunnel has an audit record, so the records are
//! what is counted, at the one place they are written (`Shared::write_record`):
//! the figures and the log cannot disagree. Label values come from bounded
//! sets (actions, record kinds, class ids, incomplete reasons, and the
//! jurisdictions the regions file names); past `MAX_SERIES` series, further
//! combinations are counted under `other`, so a configuration cannot make the
//! output grow without bound.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::audit::{AuditRecord, RecordKind};
use crate::inspect::{Class, IncompleteReason};

/// Distinct (kind, action, jurisdiction) series kept.
const MAX_SERIES: usize = 256;

type Series = (&'static str, String, String);

#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// (kind, action, jurisdiction) → records. A short list searched in
    /// place: a record costs no allocation once its series exists.
    decisions: Mutex<Vec<(Series, u64)>>,
    /// Values found, per class (the records' counts, summed).
    values: [AtomicU64; Class::ALL.len()],
    /// Records whose inspection was incomplete, per reason.
    incomplete: [AtomicU64; IncompleteReason::ALL.len()],
    body_bytes: AtomicU64,
    audit_failures: AtomicU64,
    /// Whether the last write to the audit log failed: decided uploads are
    /// being refused until one succeeds.
    audit_failing: AtomicBool,
    reloads: AtomicU64,
    reloads_rejected: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            decisions: Mutex::new(Vec::new()),
            values: std::array::from_fn(|_| AtomicU64::new(0)),
            incomplete: std::array::from_fn(|_| AtomicU64::new(0)),
            body_bytes: AtomicU64::new(0),
            audit_failures: AtomicU64::new(0),
            audit_failing: AtomicBool::new(false),
            reloads: AtomicU64::new(0),
            reloads_rejected: AtomicU64::new(0),
        }
    }
}

/// Gauges read when the metrics are rendered, from parts of the proxy that
/// keep them themselves.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    pub connections_open: u64,
    pub connections_max: u64,
    pub policy_hash: String,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// A record written to the audit log.
    pub fn recorded(&self, rec: &AuditRecord) {
        self.audit_failing.store(false, Ordering::Relaxed);
        let kind = match rec.kind {
            RecordKind::Request => "request",
            RecordKind::Tunnel => "tunnel",
        };
        if let Ok(mut d) = self.decisions.lock() {
            let find = |d: &[(Series, u64)], a: &str, j: &str| {
                d.iter()
                    .position(|((k, ka, kj), _)| *k == kind && ka == a && kj == j)
            };
            let (action, jurisdiction) = (rec.action.as_str(), rec.jurisdiction.as_str());
            let at = match find(&d, action, jurisdiction) {
                Some(i) => Some(i),
                None if d.len() < MAX_SERIES => None,
                // Past the bound, new combinations share one series.
                None => find(&d, "other", "other").or_else(|| {
                    d.push(((kind, "other".into(), "other".into()), 0));
                    Some(d.len() - 1)
                }),
            };
            match at {
                Some(i) => d[i].1 += 1,
                None => d.push(((kind, action.to_owned(), jurisdiction.to_owned()), 1)),
            }
        }
        for (class, n) in &rec.classes {
            if let Some(k) = Class::ALL.iter().position(|c| c == class) {
                self.values[k].fetch_add(*n, Ordering::Relaxed);
            }
        }
        if let Some(i) = &rec.incomplete {
            if let Some(k) = IncompleteReason::ALL.iter().position(|r| *r == i.reason) {
                self.incomplete[k].fetch_add(1, Ordering::Relaxed);
            }
        }
        if rec.kind == RecordKind::Request {
            self.body_bytes.fetch_add(rec.bytes, Ordering::Relaxed);
        }
    }

    /// A record that could not be written (the request failed closed).
    pub fn audit_failed(&self) {
        self.audit_failures.fetch_add(1, Ordering::Relaxed);
        self.audit_failing.store(true, Ordering::Relaxed);
    }

    /// Whether the last write to the audit log failed.
    pub fn audit_failing(&self) -> bool {
        self.audit_failing.load(Ordering::Relaxed)
    }

    pub fn reloaded(&self, ok: bool) {
        let c = if ok {
            &self.reloads
        } else {
            &self.reloads_rejected
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn uptime_seconds(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        let head = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(
            &mut out,
            "sluice_build_info",
            "gauge",
            "The running version, and the hash of the policy in force.",
        );
        let _ = writeln!(
            out,
            "sluice_build_info{{version=\"{}\",policy=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            escape(&g.policy_hash)
        );
        head(
            &mut out,
            "sluice_uptime_seconds",
            "gauge",
            "Seconds since the proxy started.",
        );
        let _ = writeln!(out, "sluice_uptime_seconds {}", self.uptime_seconds());
        head(
            &mut out,
            "sluice_decisions_total",
            "counter",
            "Audit records written: decided requests and tunnels, by action and destination jurisdiction.",
        );
        if let Ok(d) = self.decisions.lock() {
            let mut d: Vec<&(Series, u64)> = d.iter().collect();
            d.sort();
            for ((kind, action, jurisdiction), n) in d {
                let _ = writeln!(
                    out,
                    "sluice_decisions_total{{kind=\"{kind}\",action=\"{}\",jurisdiction=\"{}\"}} {n}",
                    escape(action),
                    escape(jurisdiction)
                );
            }
        }
        head(
            &mut out,
            "sluice_values_found_total",
            "counter",
            "Values of each data class found in decided uploads (distinct per upload, summed).",
        );
        let ids = Class::ALL.iter().map(|c| c.id());
        per_label(
            &mut out,
            "sluice_values_found_total",
            "class",
            ids,
            &self.values,
        );
        head(
            &mut out,
            "sluice_incomplete_total",
            "counter",
            "Decided uploads whose inspection could not complete, by reason.",
        );
        let ids = IncompleteReason::ALL.iter().map(|r| r.id());
        per_label(
            &mut out,
            "sluice_incomplete_total",
            "reason",
            ids,
            &self.incomplete,
        );
        let counters: [(&str, &str, u64); 4] = [
            (
                "sluice_decided_body_bytes_total",
                "Body bytes of decided requests.",
                self.body_bytes.load(Ordering::Relaxed),
            ),
            (
                "sluice_audit_write_failures_total",
                "Audit records that could not be written; each request failed closed.",
                self.audit_failures.load(Ordering::Relaxed),
            ),
            (
                "sluice_reloads_total",
                "Configurations reloaded and put in force.",
                self.reloads.load(Ordering::Relaxed),
            ),
            (
                "sluice_reloads_rejected_total",
                "Reloads refused because the new configuration was invalid.",
                self.reloads_rejected.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            head(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {v}");
        }
        let gauges: [(&str, &str, u64); 3] = [
            (
                "sluice_audit_failing",
                "1 while the last audit write failed (decided uploads are refused).",
                u64::from(self.audit_failing()),
            ),
            (
                "sluice_connections_open",
                "Client connections open now.",
                g.connections_open,
            ),
            (
                "sluice_connections_max",
                "The configured limit on client connections.",
                g.connections_max,
            ),
        ];
        for (name, help, v) in gauges {
            head(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {v}");
        }
        out
    }
}

/// One sample of `name` per id, labelled `label`, from its counter.
fn per_label<'a>(
    out: &mut String,
    name: &str,
    label: &str,
    ids: impl Iterator<Item = &'a str>,
    counts: &[AtomicU64],
) {
    for (id, n) in ids.zip(counts) {
        let _ = writeln!(
            out,
            "{name}{{{label}=\"{id}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
}

/// A label value as the text format wants it.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::Incomplete;

    fn rec(action: &str, jurisdiction: &str) -> AuditRecord {
        let mut r = AuditRecord::new(RecordKind::Request, "10.0.0.1:1", "oapi.dingtalk.com", 443);
        r.action = action.into();
        r.jurisdiction = jurisdiction.into();
        r
    }

    #[test]
    fn records_are_counted_by_action_jurisdiction_class_and_reason() {
        let m = Metrics::new();
        let mut blocked = rec("block", "mainland-china");
        blocked.classes.insert(Class::HkId, 3);
        blocked.bytes = 100;
        m.recorded(&blocked);
        m.recorded(&blocked);
        let mut unread = rec("block", "mainland-china");
        unread.incomplete = Some(Incomplete {
            reason: IncompleteReason::Unsupported,
            detail: String::new(),
        });
        m.recorded(&unread);
        let mut tunnel = AuditRecord::new(RecordKind::Tunnel, "c", "h", 443);
        tunnel.action = "allow".into();
        tunnel.jurisdiction = "a\"b\\c\nd".into();
        tunnel.bytes = 5;
        m.recorded(&tunnel);
        m.audit_failed();
        let out = m.render(&Gauges {
            connections_open: 2,
            connections_max: 4096,
            policy_hash: "abc".into(),
        });
        for line in [
            "sluice_decisions_total{kind=\"request\",action=\"block\",jurisdiction=\"mainland-china\"} 3",
            "sluice_decisions_total{kind=\"tunnel\",action=\"allow\",jurisdiction=\"a\\\"b\\\\c\\nd\"} 1",
            "sluice_values_found_total{class=\"hk_id\"} 6",
            "sluice_values_found_total{class=\"email\"} 0",
            "sluice_incomplete_total{reason=\"unsupported\"} 1",
            "sluice_decided_body_bytes_total 200",
            "sluice_audit_write_failures_total 1",
            "sluice_audit_failing 1",
            "sluice_connections_open 2",
            "sluice_build_info{version=\"",
        ] {
            assert!(out.contains(line), "{line} in\n{out}");
        }
        // Every sample line belongs to a metric with HELP and TYPE.
        for l in out.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            assert!(out.contains(&format!("# TYPE {name} ")), "{l}");
        }
        m.recorded(&rec("allow", "singapore"));
        assert!(!m.audit_failing(), "a write that succeeds clears it");
    }

    #[test]
    fn series_are_bounded() {
        let m = Metrics::new();
        for i in 0..MAX_SERIES + 50 {
            m.recorded(&rec("allow", &format!("j{i}")));
        }
        let out = m.render(&Gauges::default());
        let series = out
            .lines()
            .filter(|l| l.starts_with("sluice_decisions_total{"))
            .count();
        assert_eq!(series, MAX_SERIES + 1);
        assert!(
            out.contains("action=\"other\",jurisdiction=\"other\"} 50"),
            "{out}"
        );
    }
}
