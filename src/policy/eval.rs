//! Evaluation: first enforced rule that fires wins; shadow rules before it are
//! reported; `on_incomplete` decides for a rule whose destination matched but whose
//! body conditions the incomplete scan could not settle.
//!
//! Counts in incomplete findings are lower bounds (a fuller scan only finds more),
//! so a rule whose conditions already hold fires with its own action even when the
//! scan was cut short; only an unsettled rule falls back to `on_incomplete`, and it
//! then *fires* (first match wins: rules below it are not consulted).

use super::compile::Rule;
use super::meta::{RequestMeta, UPGRADE, WEBSOCKET};
use super::regions::Destination;
use super::schema::MatchMode;
use super::verdict::{Action, CountHit, ShadowHit, Subject, Verdict, VerdictReason};
use super::Policy;
use crate::inspect::Findings;

/// What the proxy must do with a request body before it has a verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPlan {
    /// No rule reads the body: this is the verdict; stream the body through unscanned.
    Decided(Verdict),
    /// The enforced outcome cannot change, but a shadow rule reads the body: stream
    /// it through while scanning, then call `evaluate` for the verdict and its shadow hits.
    Observe,
    /// An enforced rule may fire on the body: hold it until `evaluate` has decided.
    Hold,
}

/// Whether a rule's `method` entry covers a request's method. What a client
/// sends after an upgrade (WebSocket messages, another protocol's bytes) is
/// an upload as a POST body is, so a rule naming POST covers it too;
/// `WEBSOCKET` and `UPGRADE` name those alone.
fn covers(rule_method: &str, method: &str) -> bool {
    rule_method.eq_ignore_ascii_case(method)
        || ((method == WEBSOCKET || method == UPGRADE) && rule_method == "POST")
}

impl Rule {
    fn dest_matches(&self, dest: &Destination) -> bool {
        (self.jurisdictions.is_empty() && self.regions.is_empty())
            || self.jurisdictions.contains(&dest.jurisdiction)
            || self.regions.contains(&dest.region)
    }

    pub(crate) fn meta_matches(&self, meta: &RequestMeta, dest: &Destination) -> bool {
        self.dest_matches(dest)
            && (self.methods.is_empty() || self.methods.iter().any(|m| covers(m, &meta.method)))
            && (self.hosts.is_empty() || self.hosts.iter().any(|h| h.matches(&meta.host).is_some()))
            && (self.paths.is_empty() || self.paths.iter().any(|p| p.matches(&meta.path)))
    }

    /// Whether the rule fires on these findings (its meta conditions already hold),
    /// and with which action and reason.
    fn fires(&self, f: &Findings) -> Option<(Action, VerdictReason)> {
        let incomplete = f.incomplete.is_some();
        if self.incomplete.is_some_and(|want| want != incomplete) {
            return None;
        }
        if self.counts.is_empty() {
            let reason = if self.incomplete == Some(true) {
                VerdictReason::Incomplete
            } else {
                VerdictReason::Destination
            };
            return Some((self.action, reason));
        }
        if let Some(hits) = self.count_hits(f) {
            return Some((self.action, VerdictReason::Matched { hits }));
        }
        if incomplete && self.incomplete.is_none() {
            return Some((self.on_incomplete, VerdictReason::Incomplete));
        }
        None
    }

    fn count_hits(&self, f: &Findings) -> Option<Vec<CountHit>> {
        let mut hits = Vec::new();
        for c in &self.counts {
            let count = match c.subject {
                Subject::Class(cl) => f.count(cl),
                Subject::Category(cat) => f.category_count(cat),
            };
            if count >= c.min {
                hits.push(CountHit {
                    subject: c.subject,
                    count,
                    min: c.min,
                });
            } else if self.mode == MatchMode::All {
                return None;
            }
        }
        (!hits.is_empty()).then_some(hits)
    }
}

impl Policy {
    /// The verdict for a request whose body was scanned into `findings` (pass
    /// `Findings::default()` for a request known to have no body).
    pub fn evaluate(&self, meta: &RequestMeta, dest: &Destination, findings: &Findings) -> Verdict {
        let mut shadow = Vec::new();
        for rule in &self.rules {
            if !rule.meta_matches(meta, dest) {
                continue;
            }
            let Some((action, reason)) = rule.fires(findings) else {
                continue;
            };
            if rule.shadow {
                shadow.push(ShadowHit {
                    rule: rule.name.clone(),
                    action,
                    reason,
                });
                continue;
            }
            return self.verdict(rule, action, reason, meta, shadow);
        }
        self.default_verdict(shadow)
    }

    /// Whether the body must be held, scanned on the side, or not looked at at all.
    pub fn plan(&self, meta: &RequestMeta, dest: &Destination) -> BodyPlan {
        let mut shadow = Vec::new();
        let mut shadow_reads_body = false;
        for rule in &self.rules {
            if !rule.meta_matches(meta, dest) {
                continue;
            }
            if rule.reads_body() {
                if rule.shadow {
                    shadow_reads_body = true;
                    continue;
                }
                return BodyPlan::Hold;
            }
            if rule.shadow {
                shadow.push(ShadowHit {
                    rule: rule.name.clone(),
                    action: rule.action,
                    reason: VerdictReason::Destination,
                });
                continue;
            }
            if shadow_reads_body {
                return BodyPlan::Observe;
            }
            return BodyPlan::Decided(self.verdict(
                rule,
                rule.action,
                VerdictReason::Destination,
                meta,
                shadow,
            ));
        }
        if shadow_reads_body {
            BodyPlan::Observe
        } else {
            BodyPlan::Decided(self.default_verdict(shadow))
        }
    }

    /// At connection time (host known, no request yet): could any rule, enforced or
    /// shadow, apply to some request to this host? `false` (and an `allow` default)
    /// lets the proxy tunnel without intercepting. Method and path are ignored.
    pub fn concerns(&self, host: &str, dest: &Destination) -> bool {
        self.default != Action::Allow
            || self.rules.iter().any(|r| {
                r.dest_matches(dest)
                    && (r.hosts.is_empty() || r.hosts.iter().any(|h| h.matches(host).is_some()))
            })
    }

    /// Can an enforced rule still fire on the body? `false`: stream it straight through.
    pub fn may_act_on_body(&self, meta: &RequestMeta, dest: &Destination) -> bool {
        matches!(self.plan(meta, dest), BodyPlan::Hold)
    }

    /// The verdict when the body cannot matter to any rule, enforced or shadow.
    pub fn decide_without_body(&self, meta: &RequestMeta, dest: &Destination) -> Option<Verdict> {
        match self.plan(meta, dest) {
            BodyPlan::Decided(v) => Some(v),
            BodyPlan::Observe | BodyPlan::Hold => None,
        }
    }

    fn verdict(
        &self,
        rule: &Rule,
        action: Action,
        reason: VerdictReason,
        meta: &RequestMeta,
        shadow: Vec<ShadowHit>,
    ) -> Verdict {
        let mut v = Verdict {
            action,
            rule: Some(rule.name.clone()),
            reroute: None,
            shadow,
            reason,
        };
        if action == Action::Reroute {
            match &rule.upstream {
                Some(up) if up.target.applies_to(&meta.host) => v.reroute = Some(up.clone()),
                // Never forward to the original destination when the reroute cannot apply.
                other => {
                    v.action = Action::Block;
                    v.reason = VerdictReason::RerouteInapplicable {
                        upstream: other.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
                    };
                }
            }
        }
        v
    }

    fn default_verdict(&self, shadow: Vec<ShadowHit>) -> Verdict {
        Verdict {
            action: self.default,
            rule: None,
            reroute: None,
            shadow,
            reason: VerdictReason::Default,
        }
    }
}
