//! What `sluice check` prints about a compiled policy, and the policy hash that
//! goes into every audit record.

use std::fmt::Write;

use super::compile::Rule;
use super::schema::{MatchMode, PolicyConfig, RegionsConfig};
use super::Policy;

/// SHA-256 over a canonical JSON rendering of both documents: comments, key order
/// in the YAML text and whitespace do not change it; any meaningful edit does.
pub(crate) fn config_hash(policy: &PolicyConfig, regions: &RegionsConfig) -> String {
    let bytes = serde_json::to_vec(&(policy, regions))
        // Serialising plain data cannot fail; fall back to Debug (also deterministic).
        .unwrap_or_else(|_| format!("{policy:?}{regions:?}").into_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    digest
        .as_ref()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Policy {
    /// Rules in order with their conditions and actions, the default, the upstreams
    /// and the size of the region table.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let (regions, jurisdictions, hosts, cidrs, announced) = self.regions.sizes();
        let _ = writeln!(s, "policy {}", self.hash);
        let _ = writeln!(
            s,
            "regions: {regions} regions in {jurisdictions} jurisdictions, {hosts} host patterns, \
             {cidrs} CIDR ranges, {announced} announced names, {} upload-info endpoints",
            self.learner.endpoint_count()
        );
        if self.upstreams.is_empty() {
            let _ = writeln!(s, "upstreams: none");
        } else {
            let _ = writeln!(s, "upstreams:");
            for u in self.upstreams.values() {
                let _ = writeln!(s, "  {}: {}", u.name, u.target.describe());
            }
        }
        let _ = writeln!(s, "rules (first match wins):");
        if self.rules.is_empty() {
            let _ = writeln!(s, "  (none)");
        }
        for (i, r) in self.rules.iter().enumerate() {
            let _ = writeln!(
                s,
                "  {}. {}{}",
                i + 1,
                r.name,
                if r.shadow { "  [shadow]" } else { "" }
            );
            let _ = writeln!(s, "     when {}", conditions(r));
            let _ = writeln!(s, "     then {}", outcome(r));
        }
        let _ = writeln!(s, "default: {}", self.default);
        s
    }
}

fn conditions(r: &Rule) -> String {
    let mut parts = Vec::new();
    let list = |v: &[String]| v.join(", ");
    if !r.jurisdictions.is_empty() || !r.regions.is_empty() {
        let mut d = Vec::new();
        if !r.jurisdictions.is_empty() {
            d.push(format!("jurisdiction in [{}]", list(&r.jurisdictions)));
        }
        if !r.regions.is_empty() {
            d.push(format!("region in [{}]", list(&r.regions)));
        }
        parts.push(d.join(" or "));
    }
    if !r.hosts.is_empty() {
        let h: Vec<String> = r.hosts.iter().map(|h| h.text.clone()).collect();
        parts.push(format!("host in [{}]", list(&h)));
    }
    if !r.paths.is_empty() {
        let p: Vec<String> = r.paths.iter().map(|p| p.text.clone()).collect();
        parts.push(format!("path in [{}]", list(&p)));
    }
    if !r.methods.is_empty() {
        // Said out loud: an operator reading POST should know it reaches
        // the web IM's messages too.
        let also = if r.methods.iter().any(|m| m == "POST") {
            " (POST covers WEBSOCKET messages and UPGRADE streams)"
        } else {
            ""
        };
        parts.push(format!("method in [{}]{also}", list(&r.methods)));
    }
    if !r.counts.is_empty() {
        let c: Vec<String> = r
            .counts
            .iter()
            .map(|c| format!("{} >= {}", c.subject, c.min))
            .collect();
        let mode = match r.mode {
            MatchMode::Any => "any",
            MatchMode::All => "all",
        };
        parts.push(format!("{mode} of ({})", c.join(", ")));
    }
    match r.incomplete {
        Some(true) => parts.push("scan incomplete".to_owned()),
        Some(false) => parts.push("scan complete".to_owned()),
        None => {}
    }
    if parts.is_empty() {
        "always".to_owned()
    } else {
        parts.join("; ")
    }
}

fn outcome(r: &Rule) -> String {
    let target = |a: super::Action| match (&r.upstream, a) {
        (Some(u), super::Action::Reroute) => format!("reroute to {}", u.name),
        _ => a.to_string(),
    };
    let mut s = target(r.action);
    if !r.counts.is_empty() && r.incomplete.is_none() {
        let _ = write!(
            s,
            "; if the scan is incomplete and unsettled: {}",
            target(r.on_incomplete)
        );
    }
    s
}
