//! Serde mirrors of the `policy:` section and of `regions.yaml`: shape only. Meaning
//! (known names, valid patterns, cross references) is checked by `compile`, which
//! reports every problem at once with a key path.
//!
//! No `#[serde(flatten)]` here: it breaks serde_yaml's error locations.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::verdict::Action;

/// The `policy:` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// What happens when no rule fires.
    #[serde(default = "default_action")]
    pub default: Action,
    /// Named reroute targets.
    #[serde(default)]
    pub upstreams: BTreeMap<String, UpstreamConfig>,
    /// Ordered: the first rule that fires decides.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

fn default_action() -> Action {
    Action::Allow
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            default: Action::Allow,
            upstreams: BTreeMap::new(),
            rules: Vec::new(),
        }
    }
}

/// A reroute target: exactly one of `url` (a base URL) or `host_map`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_map: Option<HostMapConfig>,
}

/// `{from: .dingtalk.com, to: .dingtalk.io}`: replace a host suffix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostMapConfig {
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    #[serde(default)]
    pub when: WhenConfig,
    pub action: Action,
    /// Required when `action` or `on_incomplete` is `reroute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// What the rule does when its destination matches but the scan was incomplete
    /// and the findings so far do not already satisfy it. Default `block`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_incomplete: Option<Action>,
    /// Report what the rule would have done; never enforce it.
    #[serde(default)]
    pub shadow: bool,
}

/// Conditions; every key given must hold (AND); the values of one key are alternatives (OR).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<CountConditions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<CountConditions>,
    /// How the class and category conditions combine. Default `any`.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub match_mode: Option<MatchMode>,
    /// `true`: only incomplete scans; `false`: only complete ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    Any,
    All,
}

/// A string or a list of strings (`method: POST` or `method: [POST, PUT]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

impl Serialize for OneOrMany {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self.0)
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Minimum counts, either as a map (`{hk_id: 1, phone: 20}`) or as a list of
/// `"name >= N"` strings (a bare `"name"` means `>= 1`). The raw names are kept so
/// `compile` can point at the bad one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CountConditions {
    Map(Vec<(String, u64)>),
    List(Vec<String>),
}

impl Serialize for CountConditions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CountConditions::Map(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            CountConditions::List(items) => s.collect_seq(items),
        }
    }
}

impl<'de> Deserialize<'de> for CountConditions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CountConditions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    r#"a map of minimum counts ({hk_id: 1}) or a list of "name >= N" strings"#,
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CountConditions, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, u64>()? {
                    out.push((k, v));
                }
                Ok(CountConditions::Map(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CountConditions, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(CountConditions::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `regions.yaml`: where hosts and addresses are, and how DingTalk names its regions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionsConfig {
    /// Jurisdiction ids; `unknown` is always defined.
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    #[serde(default)]
    pub regions: Vec<RegionConfig>,
    /// Region names as DingTalk announces them (`ZHANGJIAKOU`) → region ids.
    #[serde(default)]
    pub announced: BTreeMap<String, String>,
    /// Host patterns; the most specific match wins (see docs/policy.md).
    #[serde(default)]
    pub hosts: Vec<HostConfig>,
    /// Consulted with the resolved address when no host pattern and nothing learned applies.
    #[serde(default)]
    pub cidrs: Vec<CidrConfig>,
    /// Responses that announce where the next upload goes.
    #[serde(default)]
    pub learn: LearnConfig,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    pub id: String,
    pub jurisdiction: String,
}

/// A host pattern and where it points: a `region`, or only a `jurisdiction`, or (for
/// patterns with `{region}`) the captured region id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CidrConfig {
    /// Kept as text so a bad network is reported by `compile` with its path.
    pub net: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnConfig {
    /// The upload-info endpoints; empty turns learning off.
    #[serde(default)]
    pub endpoints: Vec<LearnEndpointConfig>,
    /// Most entries remembered at once; the oldest go first.
    #[serde(default = "default_capacity")]
    pub capacity: usize,
    /// Used when an answer carries no `expirationSeconds`.
    #[serde(default = "default_ttl")]
    pub default_ttl_seconds: u64,
    /// Upper bound on any announced expiry.
    #[serde(default = "default_max_ttl")]
    pub max_ttl_seconds: u64,
}

fn default_capacity() -> usize {
    4096
}
fn default_ttl() -> u64 {
    900
}
fn default_max_ttl() -> u64 {
    3600
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            endpoints: Vec::new(),
            capacity: default_capacity(),
            default_ttl_seconds: default_ttl(),
            max_ttl_seconds: default_max_ttl(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnEndpointConfig {
    pub host: OneOrMany,
    pub path: OneOrMany,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<OneOrMany>,
}
