//! `PolicyConfig` + `RegionsConfig` → `Policy`: every name resolved, every pattern
//! parsed, every problem reported at once with its key path and the rule's name.

use std::collections::{BTreeMap, HashMap};

use super::issue::{unknown, ConfigIssue, Issues, Origin};
use super::learn::Learner;
use super::pattern::{HostPattern, PathGlob};
use super::regions::RegionTable;
use super::reroute::{RerouteTarget, Upstream};
use super::schema::{CountConditions, MatchMode, PolicyConfig, RegionsConfig, RuleConfig};
use super::verdict::{Action, Subject};
use super::Policy;
use crate::inspect::{Category, Class};

/// A compiled rule. Within one condition the values are alternatives; the
/// conditions that are present must all hold.
#[derive(Debug)]
pub(crate) struct Rule {
    pub name: String,
    pub action: Action,
    pub upstream: Option<Upstream>,
    pub on_incomplete: Action,
    pub shadow: bool,
    pub jurisdictions: Vec<String>,
    pub regions: Vec<String>,
    pub hosts: Vec<HostPattern>,
    pub paths: Vec<PathGlob>,
    /// Upper case.
    pub methods: Vec<String>,
    pub counts: Vec<CountCondition>,
    pub mode: MatchMode,
    pub incomplete: Option<bool>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct CountCondition {
    pub subject: Subject,
    pub min: u64,
}

impl Rule {
    /// Whether the body (its findings, or whether its scan completed) can change
    /// whether this rule fires.
    pub fn reads_body(&self) -> bool {
        !self.counts.is_empty() || self.incomplete.is_some()
    }
}

/// Compiles both documents; returns every issue found, in document order.
pub fn compile(policy: &PolicyConfig, regions: &RegionsConfig) -> Result<Policy, Vec<ConfigIssue>> {
    let mut ri = Issues::new(Origin::Regions);
    let table = RegionTable::compile(regions, &mut ri);
    let learner = Learner::compile(&regions.learn, &mut ri);

    let mut pi = Issues::new(Origin::Policy);
    let mut upstreams = BTreeMap::new();
    for (name, cfg) in &policy.upstreams {
        match RerouteTarget::from_config(cfg) {
            Ok(target) => {
                upstreams.insert(
                    name.clone(),
                    Upstream {
                        name: name.clone(),
                        target,
                    },
                );
            }
            Err(e) => pi.push(
                format!("upstreams.{name}"),
                format!("upstream {name:?}: {e}"),
            ),
        }
    }
    let mut rules = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, rc) in policy.rules.iter().enumerate() {
        let path = format!("rules[{i}]");
        if rc.name.trim().is_empty() {
            pi.push(format!("{path}.name"), "a rule needs a non-empty name");
        } else if let Some(first) = names.insert(rc.name.as_str(), i) {
            pi.push(
                format!("{path}.name"),
                format!(
                    "duplicate rule name {:?} (first used by rules[{first}])",
                    rc.name
                ),
            );
        }
        let known_upstream = |n: &str| policy.upstreams.contains_key(n);
        if let Some(rule) = compile_rule(rc, &path, &table, &upstreams, &known_upstream, &mut pi) {
            rules.push(rule);
        }
    }
    if policy.default == Action::Reroute {
        pi.push(
            "default",
            "the default cannot be `reroute` (it has no upstream); use a last rule instead",
        );
    }

    let mut all = ri.list;
    all.extend(pi.list);
    if !all.is_empty() {
        return Err(all);
    }
    let hash = super::summary::config_hash(policy, regions);
    Ok(Policy {
        regions: table,
        learner,
        rules,
        default: policy.default,
        upstreams,
        hash,
    })
}

fn compile_rule(
    rc: &RuleConfig,
    path: &str,
    table: &RegionTable,
    upstreams: &BTreeMap<String, Upstream>,
    known_upstream: &dyn Fn(&str) -> bool,
    issues: &mut Issues,
) -> Option<Rule> {
    let before = issues.list.len();
    let who = format!("rule {:?}", rc.name);
    let when = &rc.when;
    let wpath = format!("{path}.when");

    let mut jurisdictions = Vec::new();
    for (k, j) in when
        .jurisdiction
        .iter()
        .flat_map(|v| v.0.iter())
        .enumerate()
    {
        if table.has_jurisdiction(j) {
            jurisdictions.push(j.clone());
        } else {
            issues.push(
                format!("{wpath}.jurisdiction[{k}]"),
                format!(
                    "{who}: {}",
                    unknown("jurisdiction", j, table.jurisdiction_ids())
                ),
            );
        }
    }
    let mut regions = Vec::new();
    for (k, r) in when.region.iter().flat_map(|v| v.0.iter()).enumerate() {
        if table.has_region(r) {
            regions.push(r.clone());
        } else {
            let hint = if table.has_jurisdiction(r) {
                format!("{who}: {r:?} is a jurisdiction, not a region: put it under `jurisdiction`")
            } else {
                format!("{who}: {}", unknown("region", r, table.region_ids()))
            };
            issues.push(format!("{wpath}.region[{k}]"), hint);
        }
    }
    let mut hosts = Vec::new();
    for (k, h) in when.host.iter().flat_map(|v| v.0.iter()).enumerate() {
        match HostPattern::parse(h, false) {
            Ok(p) => hosts.push(p),
            Err(e) => issues.push(
                format!("{wpath}.host[{k}]"),
                format!("{who}: bad host pattern {h:?}: {e}"),
            ),
        }
    }
    let mut paths = Vec::new();
    for (k, p) in when.path.iter().flat_map(|v| v.0.iter()).enumerate() {
        match PathGlob::parse(p) {
            Ok(g) => paths.push(g),
            Err(e) => issues.push(
                format!("{wpath}.path[{k}]"),
                format!("{who}: bad path glob {p:?}: {e}"),
            ),
        }
    }
    let mut methods = Vec::new();
    for (k, m) in when.method.iter().flat_map(|v| v.0.iter()).enumerate() {
        if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
            issues.push(
                format!("{wpath}.method[{k}]"),
                format!("{who}: bad method {m:?}"),
            );
        } else {
            methods.push(m.to_ascii_uppercase());
        }
    }
    let mut counts = Vec::new();
    if let Some(c) = &when.classes {
        count_conditions(
            c,
            &format!("{wpath}.classes"),
            &who,
            true,
            &mut counts,
            issues,
        );
    }
    if let Some(c) = &when.categories {
        count_conditions(
            c,
            &format!("{wpath}.categories"),
            &who,
            false,
            &mut counts,
            issues,
        );
    }
    if when.match_mode.is_some() && counts.len() < 2 && issues.list.len() == before {
        issues.push(
            format!("{wpath}.match"),
            format!("{who}: `match` needs at least two class or category conditions to combine"),
        );
    }
    if when.incomplete.is_some() && rc.on_incomplete.is_some() {
        issues.push(
            format!("{path}.on_incomplete"),
            format!("{who}: `on_incomplete` has no effect on a rule that already says `when.incomplete`"),
        );
    }
    if rc.on_incomplete.is_some() && counts.is_empty() && when.incomplete.is_none() {
        issues.push(
            format!("{path}.on_incomplete"),
            format!("{who}: `on_incomplete` needs class or category conditions (without them the body does not matter)"),
        );
    }

    let on_incomplete = rc.on_incomplete.unwrap_or(Action::Block);
    let needs_upstream = rc.action == Action::Reroute || on_incomplete == Action::Reroute;
    let upstream = match (&rc.upstream, needs_upstream) {
        (None, true) => {
            issues.push(
                format!("{path}.upstream"),
                format!("{who}: `reroute` needs an `upstream`"),
            );
            None
        }
        (Some(_), false) => {
            issues.push(
                format!("{path}.upstream"),
                format!("{who}: `upstream` is only used by `reroute`"),
            );
            None
        }
        (Some(u), true) if !known_upstream(u) => {
            issues.push(
                format!("{path}.upstream"),
                format!(
                    "{who}: {}",
                    unknown("upstream", u, upstreams.keys().map(String::as_str))
                ),
            );
            None
        }
        (Some(u), true) => upstreams.get(u).cloned(),
        (None, false) => None,
    };

    if issues.list.len() != before {
        return None;
    }
    Some(Rule {
        name: rc.name.clone(),
        action: rc.action,
        upstream,
        on_incomplete,
        shadow: rc.shadow,
        jurisdictions,
        regions,
        hosts,
        paths,
        methods,
        counts,
        mode: when.match_mode.unwrap_or(MatchMode::Any),
        incomplete: when.incomplete,
    })
}

fn count_conditions(
    c: &CountConditions,
    path: &str,
    who: &str,
    classes: bool,
    out: &mut Vec<CountCondition>,
    issues: &mut Issues,
) {
    let entries: Vec<(String, ParsedCount)> = match c {
        CountConditions::Map(m) => m
            .iter()
            .map(|(k, v)| (format!("{path}.{k}"), Ok((k.clone(), *v))))
            .collect(),
        CountConditions::List(l) => l
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{path}[{i}]"), parse_count(s)))
            .collect(),
    };
    for (p, parsed) in entries {
        let (name, min) = match parsed {
            Ok(x) => x,
            Err(msg) => {
                issues.push(p, format!("{who}: {msg}"));
                continue;
            }
        };
        if min == 0 {
            issues.push(
                p,
                format!("{who}: minimum count for {name:?} must be at least 1"),
            );
            continue;
        }
        let subject = if classes {
            match Class::from_id(&name) {
                Some(c) => Subject::Class(c),
                None => {
                    let msg = if Category::from_id(&name).is_some() {
                        format!("{name:?} is a category, not a class: put it under `categories`")
                    } else {
                        unknown("class", &name, Class::ALL.iter().map(|c| c.id()))
                    };
                    issues.push(p, format!("{who}: {msg}"));
                    continue;
                }
            }
        } else {
            match Category::from_id(&name) {
                Some(c) => Subject::Category(c),
                None => {
                    let msg = if Class::from_id(&name).is_some() {
                        format!("{name:?} is a class, not a category: put it under `classes`")
                    } else {
                        unknown("category", &name, Category::ALL.iter().map(|c| c.id()))
                    };
                    issues.push(p, format!("{who}: {msg}"));
                    continue;
                }
            }
        };
        out.push(CountCondition { subject, min });
    }
}

/// A condition's name and minimum, or why it could not be read.
type ParsedCount = Result<(String, u64), String>;

/// `"phone >= 20"` → (`phone`, 20); `"health"` → (`health`, 1).
fn parse_count(s: &str) -> ParsedCount {
    let (name, min) = match s.split_once(">=") {
        Some((n, m)) => {
            let min = m
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("bad count in {s:?} (expected \"name >= N\")"))?;
            (n.trim(), min)
        }
        None => (s.trim(), 1),
    };
    if name.is_empty() || name.contains(['<', '>', '=', ' ']) {
        return Err(format!("bad condition {s:?} (expected \"name >= N\")"));
    }
    Ok((name.to_owned(), min))
}
