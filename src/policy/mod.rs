//! PURE: regions and jurisdictions, compiled rules, and `evaluate(meta, findings) -> Verdict`.
//! No sockets, no clocks (time comes in as an argument), so the proxy, `check`,
//! `replay` and the benches share it. The language is documented in docs/policy.md.
//!
//! - `schema`: serde mirrors of the YAML; `compile`: mirrors → [`Policy`], all issues at once.
//! - `regions`, `pattern`: where a host or address is; `learn`: where DingTalk said an upload goes.
//! - `eval`: verdicts and body plans; `reroute`: named targets; `summary`: `sluice check` and the hash.

mod compile;
mod eval;
mod issue;
mod learn;
mod meta;
mod parts;
mod pattern;
mod regions;
mod reroute;
mod schema;
mod summary;
mod verdict;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::SystemTime;

pub use compile::compile;
pub use eval::BodyPlan;
pub use issue::{did_you_mean, ConfigIssue, Origin};
pub use learn::{LearnedRegions, Lesson};
pub use meta::{RequestMeta, UPGRADE, WEBSOCKET};
pub use parts::{part_of, Part, UploadParts};
pub use pattern::PatternError;
pub use regions::{Destination, DestinationSource, UNKNOWN};
pub use reroute::{RerouteTarget, Rerouted, Upstream, UpstreamError};
pub use schema::{
    CidrConfig, CountConditions, HostConfig, HostMapConfig, LearnConfig, LearnEndpointConfig,
    MatchMode, OneOrMany, PolicyConfig, RegionConfig, RegionsConfig, RuleConfig, UpstreamConfig,
    WhenConfig,
};
pub use verdict::{Action, CountHit, ShadowHit, Subject, Verdict, VerdictReason};

/// The shipped regions document (a `RegionsConfig`).
pub const DEFAULT_REGIONS_YAML: &str = include_str!("../../config/regions.yaml");
/// The embedded `config/sluice.yaml`, whose top-level `policy:` key is the shipped
/// default policy (a `PolicyConfig`).
pub const DEFAULT_POLICY_YAML: &str = crate::config::EMBEDDED;

/// A compiled policy: immutable, shared behind an `Arc` and swapped whole on reload,
/// so a request keeps the policy it started with.
#[derive(Debug)]
pub struct Policy {
    regions: regions::RegionTable,
    learner: learn::Learner,
    rules: Vec<compile::Rule>,
    default: Action,
    upstreams: BTreeMap<String, Upstream>,
    hash: String,
}

impl Policy {
    /// Where a request is going: the host table when it names a region; else what an
    /// upload-info answer announced for this URL; else the host table's jurisdiction;
    /// else the resolved address against the CIDR table; else `unknown`.
    ///
    /// A learned region refines but never contradicts the host table: when the host
    /// table names a jurisdiction, a learned region elsewhere is ignored.
    pub fn destination(
        &self,
        meta: &RequestMeta,
        learned: &LearnedRegions,
        now: SystemTime,
    ) -> Destination {
        let host_place = self.regions.lookup_host(&meta.host);
        if let Some(p) = host_place.filter(|p| p.region != 0) {
            return self.dest(p, DestinationSource::Host);
        }
        if let Some((region, jurisdiction)) = learned.lookup(&meta.host, &meta.path, now) {
            let agrees = host_place.is_none_or(|p| {
                p.jurisdiction == 0
                    || Some(p.jurisdiction) == self.regions.jurisdiction_index(&jurisdiction)
            });
            if agrees {
                return Destination {
                    region,
                    jurisdiction,
                    source: DestinationSource::Learned,
                };
            }
        }
        if let Some(p) = host_place.filter(|p| p.jurisdiction != 0) {
            return self.dest(p, DestinationSource::Host);
        }
        // A bare IP host is its own resolved address.
        let addr = meta.resolved.or_else(|| {
            let h = meta.host.trim_start_matches('[').trim_end_matches(']');
            h.parse::<std::net::IpAddr>().ok()
        });
        if let Some(p) = addr.and_then(|a| self.regions.lookup_addr(a)) {
            return self.dest(p, DestinationSource::Cidr);
        }
        let source = if host_place.is_some() {
            DestinationSource::Host
        } else {
            DestinationSource::Unknown
        };
        self.dest(regions::Place::UNKNOWN, source)
    }

    fn dest(&self, p: regions::Place, source: DestinationSource) -> Destination {
        Destination {
            region: self.regions.region_id(p).to_owned(),
            jurisdiction: self.regions.jurisdiction_id(p).to_owned(),
            source,
        }
    }

    /// Stable hex SHA-256 of the configuration this policy was compiled from.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub fn upstream(&self, name: &str) -> Option<&Upstream> {
        self.upstreams.get(name)
    }

    pub fn default_action(&self) -> Action {
        self.default
    }

    /// Is this request one whose answer announces where the next upload goes?
    pub fn is_upload_info(&self, meta: &RequestMeta) -> bool {
        self.learner.is_upload_info(meta)
    }

    /// What the answer to `meta` teaches (empty unless it is an upload-info answer).
    pub fn lessons(&self, meta: &RequestMeta, status: u16, body: &[u8]) -> Vec<Lesson> {
        self.learner.lessons(&self.regions, meta, status, body)
    }

    /// The capacity `regions.learn.capacity` asks for, for `LearnedRegions::new`.
    pub fn learn_capacity(&self) -> usize {
        self.learner.capacity
    }
}
