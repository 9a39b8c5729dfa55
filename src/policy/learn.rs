//! Learning where an upload goes from DingTalk's own answer: the uploadInfos
//! endpoints announce `resourceUrls` and a `region`; the client then PUTs the bytes
//! to one of those URLs. `LearnedRegions` remembers URL → region for a while
//! (bounded, with TTL), and outlives policy reloads; the policy decides which
//! responses to learn from and how region names map to ids.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::issue::Issues;
use super::meta::RequestMeta;
use super::pattern::{HostPattern, PathGlob};
use super::regions::RegionTable;
use super::schema::LearnConfig;

/// Answers bigger than this are not upload-info answers; don't parse them.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// At most this many URLs learned from one answer.
const MAX_URLS: usize = 32;
/// Longer URLs are ignored (bounds the memory one entry can take).
const MAX_URL_LEN: usize = 4096;
/// How deep into the JSON answer to look for `resourceUrls` / `endPoint`.
const MAX_DEPTH: usize = 6;

/// The compiled `learn:` section.
#[derive(Debug)]
pub struct Learner {
    endpoints: Vec<Endpoint>,
    pub(crate) capacity: usize,
    default_ttl: Duration,
    max_ttl: Duration,
}

#[derive(Debug)]
struct Endpoint {
    hosts: Vec<HostPattern>,
    paths: Vec<PathGlob>,
    methods: Vec<String>,
}

/// One thing learned: bytes sent to `host` + `path` (`""`: any path) go to `region`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub host: String,
    pub path: String,
    pub region: String,
    pub jurisdiction: String,
    pub ttl: Duration,
}

impl Learner {
    pub(crate) fn compile(cfg: &LearnConfig, issues: &mut Issues) -> Learner {
        let mut endpoints = Vec::new();
        for (i, e) in cfg.endpoints.iter().enumerate() {
            let mut hosts = Vec::new();
            for (k, h) in e.host.0.iter().enumerate() {
                match HostPattern::parse(h, false) {
                    Ok(p) => hosts.push(p),
                    Err(err) => issues.push(
                        format!("learn.endpoints[{i}].host[{k}]"),
                        format!("bad host pattern {h:?}: {err}"),
                    ),
                }
            }
            let mut paths = Vec::new();
            for (k, p) in e.path.0.iter().enumerate() {
                match PathGlob::parse(p) {
                    Ok(g) => paths.push(g),
                    Err(err) => issues.push(
                        format!("learn.endpoints[{i}].path[{k}]"),
                        format!("bad path glob {p:?}: {err}"),
                    ),
                }
            }
            let methods = e
                .method
                .as_ref()
                .map(|m| m.0.iter().map(|s| s.to_ascii_uppercase()).collect())
                .unwrap_or_default();
            endpoints.push(Endpoint {
                hosts,
                paths,
                methods,
            });
        }
        if cfg.capacity == 0 && !cfg.endpoints.is_empty() {
            issues.push(
                "learn.capacity",
                "capacity must be at least 1 when endpoints are given",
            );
        }
        if cfg.default_ttl_seconds == 0 || cfg.max_ttl_seconds == 0 {
            issues.push("learn", "TTLs must be at least 1 second");
        }
        Learner {
            endpoints,
            capacity: cfg.capacity,
            default_ttl: Duration::from_secs(cfg.default_ttl_seconds),
            max_ttl: Duration::from_secs(cfg.max_ttl_seconds),
        }
    }

    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len()
    }

    pub fn is_upload_info(&self, meta: &RequestMeta) -> bool {
        self.endpoints.iter().any(|e| {
            (e.methods.is_empty()
                || e.methods
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&meta.method)))
                && e.hosts.iter().any(|h| h.matches(&meta.host).is_some())
                && e.paths.iter().any(|p| p.matches(&meta.path))
        })
    }

    /// What a response to an upload-info request teaches; empty for anything else,
    /// including garbage.
    pub fn lessons(
        &self,
        regions: &RegionTable,
        meta: &RequestMeta,
        status: u16,
        body: &[u8],
    ) -> Vec<Lesson> {
        if !(200..300).contains(&status)
            || body.len() > MAX_ANSWER_BYTES
            || !self.is_upload_info(meta)
        {
            return Vec::new();
        }
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        self.walk(regions, &value, None, None, 0, &mut out);
        out
    }

    fn walk(
        &self,
        regions: &RegionTable,
        v: &Value,
        region: Option<&str>,
        ttl: Option<u64>,
        depth: usize,
        out: &mut Vec<Lesson>,
    ) {
        if depth > MAX_DEPTH || out.len() >= MAX_URLS {
            return;
        }
        let Value::Object(obj) = v else {
            return;
        };
        // A region or expiry announced here also covers URLs nested below.
        let region = obj.get("region").and_then(Value::as_str).or(region);
        let ttl = obj.get("expirationSeconds").and_then(Value::as_u64).or(ttl);
        let place = region.and_then(|r| regions.announced(r));
        if let Some(place) = place {
            let region_id = regions.region_id(place);
            let jurisdiction = regions.jurisdiction_id(place);
            let ttl = ttl
                .map_or(self.default_ttl, Duration::from_secs)
                .clamp(Duration::from_secs(1), self.max_ttl);
            let mut learn = |host: String, path: String| {
                if out.len() < MAX_URLS && !host.is_empty() {
                    out.push(Lesson {
                        host,
                        path,
                        region: region_id.to_owned(),
                        jurisdiction: jurisdiction.to_owned(),
                        ttl,
                    });
                }
            };
            for key in ["resourceUrls", "internalResourceUrls"] {
                let urls = obj.get(key).and_then(Value::as_array);
                for url in urls.into_iter().flatten().filter_map(Value::as_str) {
                    if let Some((host, path)) = split_url(url) {
                        learn(host, path);
                    }
                }
            }
            // The drive variant: STS credentials for a direct OSS upload.
            let endpoint = obj
                .get("endPoint")
                .or_else(|| obj.get("endpoint"))
                .and_then(Value::as_str);
            if let (Some(ep), Some(bucket)) = (endpoint, obj.get("bucket").and_then(Value::as_str))
            {
                if let Some((ep_host, _)) =
                    split_url(ep).or_else(|| split_url(&format!("https://{ep}")))
                {
                    if !bucket.is_empty() && bucket.len() < 256 {
                        learn(
                            format!("{}.{ep_host}", bucket.to_ascii_lowercase()),
                            String::new(),
                        );
                    }
                }
            }
        }
        for child in obj.values() {
            self.walk(regions, child, region, ttl, depth + 1, out);
        }
    }
}

/// `https://Host:443/a/b?q` → (`host`, `/a/b`); `None` for anything else.
fn split_url(url: &str) -> Option<(String, String)> {
    if url.len() > MAX_URL_LEN {
        return None;
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let after = rest.get(end..)?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    if host.is_empty() || authority.contains('@') {
        return None;
    }
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    let path = match after.get(..path_end)? {
        "" => "/",
        p => p,
    };
    Some((host.to_ascii_lowercase(), path.to_owned()))
}

/// URL → region, as DingTalk announced it. Bounded; entries expire.
#[derive(Debug)]
pub struct LearnedRegions {
    capacity: usize,
    store: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    by_host: HashMap<String, HashMap<String, Entry>>,
    /// Insertion order, for eviction; items whose `seq` no longer matches are stale.
    order: VecDeque<(String, String, u64)>,
    len: usize,
    seq: u64,
}

#[derive(Debug)]
struct Entry {
    region: String,
    jurisdiction: String,
    expires: SystemTime,
    seq: u64,
}

impl LearnedRegions {
    pub fn new(capacity: usize) -> LearnedRegions {
        LearnedRegions {
            capacity,
            store: Mutex::new(Store::default()),
        }
    }

    /// Learns from a response to `meta`; returns how many URLs were learned.
    pub fn observe_response(
        &self,
        policy: &super::Policy,
        meta: &RequestMeta,
        status: u16,
        body: &[u8],
        now: SystemTime,
    ) -> usize {
        let lessons = policy.lessons(meta, status, body);
        let n = lessons.len();
        for l in lessons {
            self.insert(l, now);
        }
        n
    }

    pub fn insert(&self, lesson: Lesson, now: SystemTime) {
        if self.capacity == 0 {
            return;
        }
        let mut s = match self.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        s.seq += 1;
        let seq = s.seq;
        let entry = Entry {
            region: lesson.region,
            jurisdiction: lesson.jurisdiction,
            // An absurd TTL must not overflow the clock: such an entry is simply not kept.
            expires: now.checked_add(lesson.ttl).unwrap_or(now),
            seq,
        };
        let replaced = s
            .by_host
            .entry(lesson.host.clone())
            .or_default()
            .insert(lesson.path.clone(), entry)
            .is_some();
        if !replaced {
            s.len += 1;
        }
        s.order.push_back((lesson.host, lesson.path, seq));
        while s.len > self.capacity {
            let Some((h, p, q)) = s.order.pop_front() else {
                break;
            };
            s.remove_if(&h, &p, |e| e.seq == q);
        }
        // Replacements leave stale order items behind; drop them before they pile up.
        if s.order.len() > self.capacity.saturating_mul(2) + 16 {
            let Store { by_host, order, .. } = &mut *s;
            order.retain(|(h, p, q)| {
                by_host
                    .get(h)
                    .and_then(|m| m.get(p))
                    .is_some_and(|e| e.seq == *q)
            });
        }
    }

    /// The announced (region, jurisdiction) for a request to `host` + `path`.
    pub fn lookup(&self, host: &str, path: &str, now: SystemTime) -> Option<(String, String)> {
        let s = match self.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let m = s.by_host.get(host)?;
        let e = m.get(path).or_else(|| m.get(""))?;
        (e.expires > now).then(|| (e.region.clone(), e.jurisdiction.clone()))
    }

    /// Whether some unexpired URL on `host` was announced: the proxy must intercept
    /// it even if the host table does not know it.
    pub fn knows_host(&self, host: &str, now: SystemTime) -> bool {
        let s = match self.store.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        s.by_host
            .get(host)
            .is_some_and(|m| m.values().any(|e| e.expires > now))
    }

    pub fn len(&self) -> usize {
        match self.store.lock() {
            Ok(g) => g.len,
            Err(poisoned) => poisoned.into_inner().len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Store {
    fn remove_if(&mut self, host: &str, path: &str, pred: impl Fn(&Entry) -> bool) {
        let Some(m) = self.by_host.get_mut(host) else {
            return;
        };
        if m.get(path).is_some_and(pred) {
            m.remove(path);
            self.len = self.len.saturating_sub(1);
        }
        if m.is_empty() {
            self.by_host.remove(host);
        }
    }
}
