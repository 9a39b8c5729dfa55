//! The compiled regions table: region and jurisdiction ids, host patterns indexed by
//! their literal tail, CIDR ranges, and DingTalk's announced region names.
//!
//! Host lookup walks the host's suffixes from the longest (`a.b.c`, `b.c`, `c`) and
//! stops at the first tail with a matching pattern, so the pattern with more literal
//! labels wins; among patterns sharing a tail, exact beats a one-label placeholder,
//! which beats `*.label-placeholder`, which beats a bare `*.`.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::issue::{unknown, Issues};
use super::pattern::HostPattern;
use super::schema::RegionsConfig;

pub const UNKNOWN: &str = "unknown";

/// Where a request is going.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// A region id, or `unknown`.
    pub region: String,
    /// A jurisdiction id, or `unknown`.
    pub jurisdiction: String,
    pub source: DestinationSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationSource {
    /// The host table.
    Host,
    /// An upload-info answer announced the region for this URL.
    Learned,
    /// The resolved address fell in a CIDR range.
    Cidr,
    /// Nothing applied.
    Unknown,
}

impl DestinationSource {
    pub fn id(self) -> &'static str {
        match self {
            DestinationSource::Host => "host",
            DestinationSource::Learned => "learned",
            DestinationSource::Cidr => "cidr",
            DestinationSource::Unknown => "unknown",
        }
    }
}

/// A region index and a jurisdiction index into the table (0 is `unknown` for both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub region: usize,
    pub jurisdiction: usize,
}

impl Place {
    pub const UNKNOWN: Place = Place {
        region: 0,
        jurisdiction: 0,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Fixed(Place),
    /// The `{region}` capture names the region.
    Captured,
}

#[derive(Debug)]
struct HostEntry {
    pattern: HostPattern,
    target: Target,
}

#[derive(Debug)]
pub struct RegionTable {
    jurisdictions: Vec<String>,
    jurisdiction_index: HashMap<String, usize>,
    /// (id, jurisdiction index)
    regions: Vec<(String, usize)>,
    region_index: HashMap<String, usize>,
    /// Upper-case announced name → region index.
    announced: HashMap<String, usize>,
    by_tail: HashMap<String, Vec<HostEntry>>,
    host_count: usize,
    /// Longest prefix first, so the first hit is the most specific.
    cidrs: Vec<(IpNet, Place)>,
}

impl RegionTable {
    pub fn compile(cfg: &RegionsConfig, issues: &mut Issues) -> RegionTable {
        let mut t = RegionTable {
            jurisdictions: vec![UNKNOWN.to_owned()],
            jurisdiction_index: HashMap::from([(UNKNOWN.to_owned(), 0)]),
            regions: vec![(UNKNOWN.to_owned(), 0)],
            region_index: HashMap::from([(UNKNOWN.to_owned(), 0)]),
            announced: HashMap::new(),
            by_tail: HashMap::new(),
            host_count: 0,
            cidrs: Vec::new(),
        };
        for (i, j) in cfg.jurisdictions.iter().enumerate() {
            let path = format!("jurisdictions[{i}]");
            if !is_id(j) {
                issues.push(
                    path,
                    format!("{j:?} is not an id (lowercase letters, digits, '-')"),
                );
            } else if j == UNKNOWN {
                // Always defined; listing it is harmless.
            } else if t.jurisdiction_index.contains_key(j) {
                issues.push(path, format!("duplicate jurisdiction {j:?}"));
            } else {
                t.jurisdiction_index
                    .insert(j.clone(), t.jurisdictions.len());
                t.jurisdictions.push(j.clone());
            }
        }
        for (i, r) in cfg.regions.iter().enumerate() {
            let path = format!("regions[{i}]");
            if !is_id(&r.id) || r.id == UNKNOWN {
                issues.push(
                    format!("{path}.id"),
                    format!("{:?} is not a usable region id", r.id),
                );
                continue;
            }
            if t.region_index.contains_key(&r.id) {
                issues.push(format!("{path}.id"), format!("duplicate region {:?}", r.id));
                continue;
            }
            let Some(&j) = t.jurisdiction_index.get(&r.jurisdiction) else {
                issues.push(
                    format!("{path}.jurisdiction"),
                    unknown(
                        "jurisdiction",
                        &r.jurisdiction,
                        t.jurisdictions.iter().map(String::as_str),
                    ),
                );
                continue;
            };
            t.region_index.insert(r.id.clone(), t.regions.len());
            t.regions.push((r.id.clone(), j));
        }
        for (name, id) in &cfg.announced {
            match t.region_index.get(id) {
                Some(&r) => {
                    t.announced.insert(name.to_ascii_uppercase(), r);
                }
                None => issues.push(
                    format!("announced.{name}"),
                    unknown("region", id, t.region_ids()),
                ),
            }
        }
        let mut seen = HashMap::new();
        for (i, h) in cfg.hosts.iter().enumerate() {
            let path = format!("hosts[{i}]");
            let pattern = match HostPattern::parse(&h.pattern, true) {
                Ok(p) => p,
                Err(e) => {
                    issues.push(
                        format!("{path}.pattern"),
                        format!("bad host pattern {:?}: {e}", h.pattern),
                    );
                    continue;
                }
            };
            if let Some(first) = seen.insert(h.pattern.clone(), i) {
                issues.push(
                    format!("{path}.pattern"),
                    format!("pattern {:?} already given at hosts[{first}]", h.pattern),
                );
                continue;
            }
            let captures = pattern
                .label
                .as_ref()
                .is_some_and(|l| l.placeholder == super::pattern::Placeholder::Region);
            let target = if captures {
                if h.region.is_some() || h.jurisdiction.is_some() {
                    issues.push(path, "a pattern with {region} takes its region from the host: drop `region` and `jurisdiction`");
                    continue;
                }
                Target::Captured
            } else {
                match t.place(
                    h.region.as_deref(),
                    h.jurisdiction.as_deref(),
                    &path,
                    issues,
                ) {
                    Some(p) => Target::Fixed(p),
                    None => continue,
                }
            };
            t.host_count += 1;
            t.by_tail
                .entry(pattern.tail.clone())
                .or_default()
                .push(HostEntry { pattern, target });
        }
        for entries in t.by_tail.values_mut() {
            // Stable: equal specificity keeps config order.
            entries.sort_by_key(|e| e.pattern.specificity());
        }
        for (i, c) in cfg.cidrs.iter().enumerate() {
            let path = format!("cidrs[{i}]");
            let net: IpNet = match c.net.parse() {
                Ok(n) => n,
                Err(_) => {
                    issues.push(
                        format!("{path}.net"),
                        format!(
                            "bad CIDR {:?} (expected e.g. 47.92.0.0/14 or 2408:4000::/22)",
                            c.net
                        ),
                    );
                    continue;
                }
            };
            if let Some(p) = t.place(
                c.region.as_deref(),
                c.jurisdiction.as_deref(),
                &path,
                issues,
            ) {
                t.cidrs.push((net.trunc(), p));
            }
        }
        t.cidrs
            .sort_by_key(|(n, _)| std::cmp::Reverse(n.prefix_len()));
        t
    }

    /// A region or a jurisdiction (exactly one) → a place.
    fn place(
        &self,
        region: Option<&str>,
        jurisdiction: Option<&str>,
        path: &str,
        issues: &mut Issues,
    ) -> Option<Place> {
        match (region, jurisdiction) {
            (Some(r), None) => match self.region_index.get(r) {
                Some(&ri) => Some(Place {
                    region: ri,
                    jurisdiction: self.regions.get(ri).map_or(0, |x| x.1),
                }),
                None => {
                    issues.push(
                        format!("{path}.region"),
                        unknown("region", r, self.region_ids()),
                    );
                    None
                }
            },
            (None, Some(j)) => match self.jurisdiction_index.get(j) {
                Some(&ji) => Some(Place {
                    region: 0,
                    jurisdiction: ji,
                }),
                None => {
                    issues.push(
                        format!("{path}.jurisdiction"),
                        unknown(
                            "jurisdiction",
                            j,
                            self.jurisdictions.iter().map(String::as_str),
                        ),
                    );
                    None
                }
            },
            _ => {
                issues.push(path, "give exactly one of `region` or `jurisdiction`");
                None
            }
        }
    }

    pub fn region_ids(&self) -> impl Iterator<Item = &str> {
        self.regions.iter().map(|(id, _)| id.as_str())
    }

    pub fn jurisdiction_ids(&self) -> impl Iterator<Item = &str> {
        self.jurisdictions.iter().map(String::as_str)
    }

    pub fn has_region(&self, id: &str) -> bool {
        self.region_index.contains_key(id)
    }

    pub fn has_jurisdiction(&self, id: &str) -> bool {
        self.jurisdiction_index.contains_key(id)
    }

    /// The place for a region id (`cn-zhangjiakou`) or an announced name (`ZHANGJIAKOU`).
    pub fn announced(&self, name: &str) -> Option<Place> {
        let r = match self.region_index.get(name) {
            Some(&r) => r,
            None => {
                // Announced names are short; only upper-case when needed.
                if name.bytes().any(|b| b.is_ascii_lowercase()) {
                    *self.announced.get(&name.to_ascii_uppercase())?
                } else {
                    *self.announced.get(name)?
                }
            }
        };
        self.region_place(r)
    }

    fn region_place(&self, r: usize) -> Option<Place> {
        self.regions.get(r).map(|&(_, j)| Place {
            region: r,
            jurisdiction: j,
        })
    }

    /// The most specific host pattern's place. `host` is lower case without a port.
    pub fn lookup_host(&self, host: &str) -> Option<Place> {
        let host = host.strip_suffix('.').unwrap_or(host);
        let mut start = 0usize;
        loop {
            let tail = host.get(start..)?;
            if let Some(entries) = self.by_tail.get(tail) {
                let rest = if start == 0 {
                    ""
                } else {
                    host.get(..start - 1).unwrap_or("")
                };
                for e in entries {
                    let Some(m) = e.pattern.match_rest(rest) else {
                        continue;
                    };
                    match e.target {
                        Target::Fixed(p) => return Some(p),
                        Target::Captured => {
                            let found = m
                                .region
                                .and_then(|r| self.region_index.get(r))
                                .and_then(|&r| self.region_place(r));
                            if found.is_some() {
                                return found;
                            }
                        }
                    }
                }
            }
            start += tail.find('.')? + 1;
        }
    }

    pub fn lookup_addr(&self, addr: IpAddr) -> Option<Place> {
        self.cidrs
            .iter()
            .find(|(net, _)| net.contains(&addr))
            .map(|&(_, p)| p)
    }

    pub fn region_id(&self, p: Place) -> &str {
        self.regions
            .get(p.region)
            .map_or(UNKNOWN, |(id, _)| id.as_str())
    }

    pub fn jurisdiction_id(&self, p: Place) -> &str {
        self.jurisdictions
            .get(p.jurisdiction)
            .map_or(UNKNOWN, String::as_str)
    }

    pub fn jurisdiction_index(&self, id: &str) -> Option<usize> {
        self.jurisdiction_index.get(id).copied()
    }

    /// Counts for `sluice check`: (regions, jurisdictions, host patterns, CIDR ranges, announced names).
    pub fn sizes(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.regions.len().saturating_sub(1),
            self.jurisdictions.len().saturating_sub(1),
            self.host_count,
            self.cidrs.len(),
            self.announced.len(),
        )
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}
