//! Tests of the whole policy module against compiled configurations; helpers shared
//! by the test files below.

mod learning;
mod props;
mod rejections;
mod rules;
mod shipped;

use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::*;
use crate::inspect::{Class, Findings, Incomplete, IncompleteReason};

#[derive(Deserialize)]
struct Section {
    policy: PolicyConfig,
}

pub(super) fn regions_cfg() -> RegionsConfig {
    serde_yaml::from_str(DEFAULT_REGIONS_YAML).unwrap_or_else(|e| panic!("regions.yaml: {e}"))
}

pub(super) fn policy_cfg() -> PolicyConfig {
    let s: Section =
        serde_yaml::from_str(DEFAULT_POLICY_YAML).unwrap_or_else(|e| panic!("policy.yaml: {e}"));
    s.policy
}

pub(super) fn policy_yaml(yaml: &str) -> PolicyConfig {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("test policy: {e}"))
}

pub(super) fn build(p: &PolicyConfig, r: &RegionsConfig) -> Policy {
    compile(p, r).unwrap_or_else(|issues| {
        let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        panic!("compile failed:\n{}", text.join("\n"))
    })
}

pub(super) fn default_policy() -> Policy {
    build(&policy_cfg(), &regions_cfg())
}

pub(super) fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

pub(super) fn findings(classes: &[(Class, u64)]) -> Findings {
    Findings {
        classes: classes.iter().copied().collect(),
        ..Findings::default()
    }
}

pub(super) fn incomplete(classes: &[(Class, u64)]) -> Findings {
    Findings {
        incomplete: Some(Incomplete {
            reason: IncompleteReason::SizeLimit,
            detail: String::new(),
        }),
        ..findings(classes)
    }
}

pub(super) fn dest_of(p: &Policy, meta: &RequestMeta) -> Destination {
    p.destination(meta, &LearnedRegions::new(16), t0())
}
