//! `sluice audit report`: what an audit log shows, summed up as evidence for a
//! data-protection assessment: over which period, whether the chain is whole,
//! where uploads went, which of them carried personal data and what became of
//! them, which rules acted, what could not be inspected, and under which
//! policies. Counts only: no sample, path or client appears in a report.
//!
//! The log is verified as it is read (`verify_files_with`); a report is only
//! made of a log whose chain holds, since a summary of records that may have
//! been edited is no evidence of anything.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::record::{RecordKind, ShadowHit};
use super::verify::{verify_files_with, VerifyError};
use crate::inspect::{Category, IncompleteReason};

/// The fields a report reads, each defaulted: logs written by older or newer
/// record schemas still sum up (as they still verify).
#[derive(Deserialize)]
struct Fields {
    #[serde(default)]
    ts: String,
    #[serde(default = "request")]
    kind: RecordKind,
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    categories: BTreeMap<Category, u64>,
    #[serde(default)]
    incomplete: Option<IncompleteOnly>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    shadow: Vec<ShadowHit>,
    #[serde(default)]
    policy: String,
}

#[derive(Deserialize)]
struct IncompleteOnly {
    reason: IncompleteReason,
}

fn request() -> RecordKind {
    RecordKind::Request
}

/// Distinct keys kept per table (rules, policies, days, jurisdictions); past it
/// further ones are summed under `other`, so a hostile log cannot make a
/// report unbounded.
const MAX_KEYS: usize = 1000;

/// What became of a decided upload, as a report groups actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Sent as asked (`allow`).
    Sent,
    /// Sent, and recorded as a would-be violation (`audit`).
    SentAudited,
    /// Sent to another destination (`reroute`).
    Rerouted,
    /// Not sent (`block`).
    Stopped,
    /// Refused because sluice could not decide (`error`: e.g. the audit log
    /// could not be written).
    Failed,
}

impl Outcome {
    fn of(action: &str) -> Outcome {
        match action {
            "allow" => Outcome::Sent,
            "audit" => Outcome::SentAudited,
            "reroute" => Outcome::Rerouted,
            "block" => Outcome::Stopped,
            _ => Outcome::Failed,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::SentAudited => "sent (audited)",
            Outcome::Rerouted => "rerouted",
            Outcome::Stopped => "stopped",
            Outcome::Failed => "failed closed",
        }
    }
}

/// Counts by outcome.
pub type ByOutcome = BTreeMap<Outcome, u64>;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Period {
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct LogFile {
    pub path: String,
    pub records: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Integrity {
    /// The chain verified across every file, in the order given.
    pub verified: bool,
    /// The hash the first file continues from (64 zeros: the log's start).
    pub from: String,
    /// The last record's hash: worth keeping elsewhere, as an anchor.
    pub last_hash: String,
    pub files: Vec<LogFile>,
}

/// Uploads to one jurisdiction.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Destination {
    /// Every decided request.
    pub requests: ByOutcome,
    /// Those that carried personal data of any category.
    pub personal: ByOutcome,
    /// Per category of personal data.
    pub categories: BTreeMap<Category, ByOutcome>,
    /// Those whose inspection could not complete.
    pub incomplete: ByOutcome,
    /// Connections passed through without interception.
    pub tunnels: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleCounts {
    pub acted: ByOutcome,
    /// Times it would have acted in shadow mode.
    pub shadow: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PolicySeen {
    pub first: String,
    pub last: String,
    pub records: u64,
}

/// Per day (UTC): uploads that carried personal data, by outcome.
pub type Daily = BTreeMap<String, ByOutcome>;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub period: Period,
    pub integrity: Integrity,
    pub records: u64,
    pub destinations: BTreeMap<String, Destination>,
    pub rules: BTreeMap<String, RuleCounts>,
    /// Incomplete inspections by reason.
    pub incomplete: BTreeMap<String, ByOutcome>,
    pub policies: BTreeMap<String, PolicySeen>,
    pub daily_personal: Daily,
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: chain broken at {error}")]
    Broken { path: PathBuf, error: VerifyError },
    #[error("{path}:{line}: not an audit record: {error}")]
    Record {
        path: PathBuf,
        line: usize,
        error: String,
    },
}

/// Adds one to `map[key]`, or to `map["other"]` once `map` holds `MAX_KEYS` keys.
fn bounded<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    let key = if map.len() < MAX_KEYS || map.contains_key(key) {
        key
    } else {
        "other"
    };
    map.entry(key.to_owned()).or_default()
}

fn add(counts: &mut ByOutcome, o: Outcome) {
    *counts.entry(o).or_insert(0) += 1;
}

impl Report {
    /// Verifies the files of one log (oldest first, continuing from `from`),
    /// then sums their records up.
    pub fn of_files(paths: &[PathBuf], from: &str) -> Result<Report, ReportError> {
        let mut report = Report::default();
        let mut unreadable: Option<ReportError> = None;
        // One read of the log: each record is summed as the chain walk
        // verifies it, and the sum is thrown away if a later record breaks it.
        let verified = verify_files_with(paths, from, &[], &mut |path, line, bytes| {
            if unreadable.is_some() {
                return;
            }
            match serde_json::from_slice::<Fields>(bytes) {
                Ok(rec) => report.add(&rec),
                Err(e) => {
                    unreadable = Some(ReportError::Record {
                        path: path.to_owned(),
                        line,
                        error: e.to_string(),
                    })
                }
            }
        })
        .map_err(|(path, error)| ReportError::Broken { path, error })?;
        if let Some(e) = unreadable {
            return Err(e);
        }
        report.integrity = Integrity {
            verified: true,
            from: from.to_owned(),
            last_hash: verified
                .last()
                .map_or_else(|| from.to_owned(), |(_, r)| r.last_hash.clone()),
            files: verified
                .iter()
                .map(|(p, r)| LogFile {
                    path: p.display().to_string(),
                    records: r.records,
                })
                .collect(),
        };
        Ok(report)
    }

    fn add(&mut self, rec: &Fields) {
        self.records += 1;
        if self.period.first.is_none() {
            self.period.first = Some(rec.ts.clone());
        }
        self.period.last = Some(rec.ts.clone());
        let seen = bounded(&mut self.policies, &rec.policy);
        if seen.records == 0 {
            seen.first.clone_from(&rec.ts);
        }
        seen.last.clone_from(&rec.ts);
        seen.records += 1;
        let dest = bounded(&mut self.destinations, &rec.jurisdiction);
        if rec.kind == RecordKind::Tunnel {
            dest.tunnels += 1;
            return;
        }
        let o = Outcome::of(&rec.action);
        add(&mut dest.requests, o);
        let personal = rec.categories.values().any(|&n| n > 0);
        if personal {
            add(&mut dest.personal, o);
            let day = rec.ts.get(..10).unwrap_or("unknown");
            add(bounded(&mut self.daily_personal, day), o);
        }
        for (cat, n) in &rec.categories {
            if *n > 0 {
                add(dest.categories.entry(*cat).or_default(), o);
            }
        }
        if let Some(i) = &rec.incomplete {
            add(&mut dest.incomplete, o);
            add(bounded(&mut self.incomplete, i.reason.id()), o);
        }
        if let Some(rule) = &rec.rule {
            add(&mut bounded(&mut self.rules, rule).acted, o);
        }
        for s in &rec.shadow {
            bounded(&mut self.rules, &s.rule).shadow += 1;
        }
    }

    /// A plain-text summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let p = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "sluice audit report");
        let _ = writeln!(
            out,
            "period:    {} to {} ({} records)",
            p(&self.period.first),
            p(&self.period.last),
            self.records
        );
        let _ = writeln!(
            out,
            "integrity: chain verified across {} file(s); last hash {}",
            self.integrity.files.len(),
            self.integrity.last_hash
        );
        let _ = writeln!(out, "\nuploads by destination (decided requests):");
        for (j, d) in &self.destinations {
            let _ = writeln!(
                out,
                "  {j}: {} request(s) [{}]; with personal data {} [{}]; incomplete {} [{}]; tunnels {}",
                total(&d.requests),
                outcomes(&d.requests),
                total(&d.personal),
                outcomes(&d.personal),
                total(&d.incomplete),
                outcomes(&d.incomplete),
                d.tunnels
            );
            for (c, counts) in &d.categories {
                let _ = writeln!(
                    out,
                    "    {}: {} [{}]",
                    c.id(),
                    total(counts),
                    outcomes(counts)
                );
            }
        }
        if !self.rules.is_empty() {
            let _ = writeln!(out, "\nrules:");
            for (name, r) in &self.rules {
                let _ = writeln!(
                    out,
                    "  {name}: acted {} [{}]{}",
                    total(&r.acted),
                    outcomes(&r.acted),
                    if r.shadow > 0 {
                        format!("; in shadow mode would have acted {}", r.shadow)
                    } else {
                        String::new()
                    }
                );
            }
        }
        if !self.incomplete.is_empty() {
            let _ = writeln!(out, "\ninspection incomplete:");
            for (reason, counts) in &self.incomplete {
                let _ = writeln!(out, "  {reason}: {} [{}]", total(counts), outcomes(counts));
            }
        }
        let _ = writeln!(out, "\npolicies in force:");
        for (hash, s) in &self.policies {
            let _ = writeln!(
                out,
                "  {hash}: {} to {} ({} records)",
                s.first, s.last, s.records
            );
        }
        out
    }

    /// The report as one JSON document.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// A self-contained HTML page (no scripts, no outside resources): the
    /// same tables, and a chart of uploads with personal data per day.
    pub fn html(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let p = |o: &Option<String>| esc(o.as_deref().unwrap_or("-"));
        let _ = write!(
            out,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>sluice audit report</title><style>\
             body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}\
             table{{border-collapse:collapse;margin:.5em 0 1.5em}}\
             th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}\
             th:first-child,td:first-child{{text-align:left}}\
             .ok{{color:#196c2e}} code{{font-size:.9em}}</style></head><body>\n\
             <h1>Data-residency audit report</h1>\n\
             <p>Period: <b>{}</b> to <b>{}</b>, {} records.</p>\n\
             <p class=\"ok\">Integrity: the hash chain verified across {} file(s). \
             Last hash <code>{}</code>: keep it where this log's keeper cannot change it.</p>\n",
            p(&self.period.first),
            p(&self.period.last),
            self.records,
            self.integrity.files.len(),
            esc(&self.integrity.last_hash)
        );
        let cols = [
            Outcome::Sent,
            Outcome::SentAudited,
            Outcome::Rerouted,
            Outcome::Stopped,
            Outcome::Failed,
        ];
        let header = |out: &mut String, first: &str| {
            let _ = write!(out, "<tr><th>{first}</th><th>total</th>");
            for o in cols {
                let _ = write!(out, "<th>{}</th>", o.label());
            }
            out.push_str("</tr>\n");
        };
        let row = |out: &mut String, name: &str, c: &ByOutcome| {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td>", esc(name), total(c));
            for o in cols {
                let _ = write!(out, "<td>{}</td>", c.get(&o).copied().unwrap_or(0));
            }
            out.push_str("</tr>\n");
        };
        out.push_str("<h2>Uploads with personal data, by destination</h2>\n<table>\n");
        header(&mut out, "destination");
        for (j, d) in &self.destinations {
            row(&mut out, j, &d.personal);
        }
        out.push_str("</table>\n<h2>By category of personal data</h2>\n<table>\n");
        header(&mut out, "destination: category");
        for (j, d) in &self.destinations {
            for (c, counts) in &d.categories {
                row(&mut out, &format!("{j}: {}", c.id()), counts);
            }
        }
        out.push_str("</table>\n<h2>All decided uploads, by destination</h2>\n<table>\n");
        header(&mut out, "destination");
        for (j, d) in &self.destinations {
            row(&mut out, j, &d.requests);
        }
        out.push_str("</table>\n");
        out.push_str(&self.chart());
        if !self.rules.is_empty() {
            out.push_str("<h2>Rules that acted</h2>\n<table>\n");
            header(&mut out, "rule");
            for (name, r) in &self.rules {
                row(&mut out, name, &r.acted);
            }
            out.push_str("</table>\n");
        }
        if !self.incomplete.is_empty() {
            out.push_str("<h2>Uploads that could not be fully inspected</h2>\n<table>\n");
            header(&mut out, "reason");
            for (reason, c) in &self.incomplete {
                row(&mut out, reason, c);
            }
            out.push_str("</table>\n");
        }
        out.push_str(
            "<h2>Policies in force</h2>\n<table>\n<tr><th>policy hash</th><th>from</th><th>to</th><th>records</th></tr>\n",
        );
        for (hash, s) in &self.policies {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(hash),
                esc(&s.first),
                esc(&s.last),
                s.records
            );
        }
        out.push_str(
            "</table>\n<h2>Log files</h2>\n<table>\n<tr><th>file</th><th>records</th></tr>\n",
        );
        for f in &self.integrity.files {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&f.path),
                f.records
            );
        }
        out.push_str("</table>\n</body></html>\n");
        out
    }

    /// Uploads with personal data per day, sent (of any kind) above stopped,
    /// as inline SVG bars.
    fn chart(&self) -> String {
        if self.daily_personal.is_empty() {
            return String::new();
        }
        let days: Vec<(&String, u64, u64)> = self
            .daily_personal
            .iter()
            .map(|(day, c)| {
                let stopped = c.get(&Outcome::Stopped).copied().unwrap_or(0)
                    + c.get(&Outcome::Failed).copied().unwrap_or(0);
                (day, total(c) - stopped, stopped)
            })
            .collect();
        let peak = days.iter().map(|(_, s, b)| s + b).max().unwrap_or(1).max(1);
        let (bar, gap, height) = (14u64, 4u64, 160u64);
        let width = days.len() as u64 * (bar + gap) + gap;
        let mut svg = format!(
            "<h2>Uploads with personal data per day</h2>\n<p>Green: sent (allowed, audited or rerouted); red: stopped.</p>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{}\" role=\"img\" \
             aria-label=\"uploads with personal data per day\">\n",
            height + 20
        );
        for (k, (day, sent, stopped)) in days.iter().enumerate() {
            let x = gap + k as u64 * (bar + gap);
            let hs = sent * height / peak;
            let hb = stopped * height / peak;
            let _ = writeln!(
                svg,
                "<g><title>{}: {sent} sent, {stopped} stopped</title>\
                 <rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{hb}\" fill=\"#c0392b\"/>\
                 <rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{hs}\" fill=\"#27ae60\"/></g>",
                esc(day),
                height - hb,
                height - hb - hs,
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

fn total(c: &ByOutcome) -> u64 {
    c.values().sum()
}

fn outcomes(c: &ByOutcome) -> String {
    if c.is_empty() {
        return "-".into();
    }
    c.iter()
        .map(|(o, n)| format!("{} {n}", o.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
