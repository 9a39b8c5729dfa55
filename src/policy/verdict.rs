//! What the policy answers: an action, the rule that chose it, why, and what
//! shadow rules would have done. Data only; `eval` produces it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::reroute::Upstream;
use crate::inspect::{Category, Class};

/// Ids `allow`, `block`, `reroute`, `audit` are a contract (config, output, audit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Block,
    Reroute,
    /// Allow, but record as a would-be violation (monitor mode).
    Audit,
}

impl Action {
    pub fn id(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Block => "block",
            Action::Reroute => "reroute",
            Action::Audit => "audit",
        }
    }

    /// Whether the request's bytes go to the original destination.
    pub fn forwards(self) -> bool {
        matches!(self, Action::Allow | Action::Audit)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A class or a category: what a count condition is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Class(Class),
    Category(Category),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Class(c) => f.write_str(c.id()),
            Subject::Category(c) => f.write_str(c.id()),
        }
    }
}

/// A count condition that held: `count >= min`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountHit {
    pub subject: Subject,
    pub count: u64,
    pub min: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum VerdictReason {
    /// The rule's class/category conditions held; these are the ones that did.
    Matched { hits: Vec<CountHit> },
    /// The rule has no body conditions: destination, host, path and method decided.
    Destination,
    /// The scan was incomplete: the rule's `on_incomplete` decided, or the rule
    /// matches `incomplete: true`.
    Incomplete,
    /// No rule fired: the policy default.
    Default,
    /// The rule said reroute but its host mapping does not apply to this host, so the
    /// request is blocked rather than sent to where it was going.
    RerouteInapplicable { upstream: String },
}

/// A shadow rule that would have fired, and with what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowHit {
    pub rule: String,
    pub action: Action,
    pub reason: VerdictReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub action: Action,
    /// The enforced rule that decided; `None` for the default.
    pub rule: Option<String>,
    /// Set exactly when `action` is `Reroute`.
    pub reroute: Option<Upstream>,
    /// Shadow rules before the deciding one that would have fired, in rule order.
    pub shadow: Vec<ShadowHit>,
    pub reason: VerdictReason,
}
