//! Offline replay: every HAR entry, in order, through `decide::Decider` under one
//! config, with the regions learned from earlier entries' upload-info answers.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::inspect::{Class, Engine};
use crate::policy::{Action, LearnedRegions, RequestMeta, UploadParts};

use super::decide::{request_meta, Decider, UrlError};
use super::har::{Har, HarEntry, HarError, HarRequest};

/// One entry's verdict, as the report and `--json` print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub index: usize,
    pub method: String,
    /// The URL with query secrets redacted (`crate::audit::redact_path`).
    pub url: String,
    pub host: String,
    pub region: String,
    pub jurisdiction: String,
    pub classes: BTreeMap<Class, u64>,
    pub action: Action,
    pub rule: Option<String>,
    /// Why the scan was incomplete, when it was (`hold_limit: …`).
    pub incomplete: Option<String>,
}

/// The policy, engine and hold limit of a loaded config, as offline replay uses them.
pub fn decider(cfg: &Config) -> Decider<'_> {
    Decider {
        policy: &cfg.policy,
        engine: &cfg.engine,
        hold_max: cfg.hold.max.get(),
        hold_memory: cfg.hold.memory.get(),
        parts: None,
    }
}

/// The request metadata of a HAR entry; errors name the entry and the field.
pub fn entry_meta(entry: &HarEntry) -> Result<RequestMeta, HarError> {
    let r = &entry.request;
    let mut meta = request_meta(&r.method, &r.url, &r.headers).map_err(|e: UrlError| HarError {
        entry: Some(entry.index),
        field: format!("entries[{}].request.url", entry.index),
        message: e.to_string(),
    })?;
    meta.content_type = content_type(r);
    Ok(meta)
}

/// The request's Content-Type header; `postData.mimeType` when the header is
/// missing, or when the loader rebuilt a multipart body with its own boundary
/// (the captured header's boundary would not match the rebuilt body).
fn content_type(r: &HarRequest) -> Option<String> {
    let header = r
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone());
    let rebuilt = r
        .mime_type
        .as_deref()
        .is_some_and(|m| m.contains(super::har::DEFAULT_BOUNDARY));
    if rebuilt || header.is_none() {
        r.mime_type.clone().or(header)
    } else {
        header
    }
}

/// When an entry happened: its `startedDateTime`, else the previous entry's time,
/// else now. Learned regions expire, so a PUT long after its uploadInfos answer
/// is decided as the proxy would have decided it then.
fn entry_time(entry: &HarEntry, previous: Option<SystemTime>) -> SystemTime {
    let parsed = entry.started.as_deref().and_then(|s| {
        time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()
    });
    match parsed {
        Some(t) => {
            let secs = t.unix_timestamp();
            let base = if secs >= 0 {
                SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
            } else {
                SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
            };
            base.and_then(|b| b.checked_add(Duration::from_nanos(u64::from(t.nanosecond()))))
                .unwrap_or(SystemTime::UNIX_EPOCH)
        }
        None => previous.unwrap_or_else(SystemTime::now),
    }
}

/// Decides every entry in order. Fails only on an entry the proxy could never
/// have seen (a URL that is not absolute http/https), naming it.
pub fn replay(cfg: &Config, har: &Har) -> Result<Vec<Outcome>, HarError> {
    let parts = UploadParts::new();
    let d = Decider {
        parts: Some(&parts),
        ..decider(cfg)
    };
    let learned = LearnedRegions::new(cfg.policy.learn_capacity());
    let mut out = Vec::with_capacity(har.entries.len());
    let mut previous = None;
    for entry in &har.entries {
        let meta = entry_meta(entry)?;
        let now = entry_time(entry, previous);
        previous = Some(now);
        let decision = if is_websocket(entry) {
            let sent = entry.sent_messages.iter().map(|m| &m.data);
            d.decide_websocket(&meta, sent, &learned, now)
        } else {
            d.decide(&meta, &entry.request.body, &learned, now)
        };
        if let Some(resp) = &entry.response {
            d.learn(
                &meta,
                &decision.verdict,
                resp.status,
                &resp.body,
                &learned,
                now,
            );
        }
        out.push(Outcome {
            index: entry.index,
            method: meta.method.clone(),
            url: entry_url(entry, &meta, d.engine),
            host: meta.host.clone(),
            region: decision.dest.region,
            jurisdiction: decision.dest.jurisdiction,
            classes: decision.findings.classes,
            action: decision.verdict.action,
            rule: decision.verdict.rule,
            incomplete: decision.findings.incomplete.map(|i| i.to_string()),
        });
    }
    Ok(out)
}

/// A WebSocket handshake: a `ws:`/`wss:` URL (Chrome's export), an
/// `Upgrade: websocket` header, or frames recorded with it.
pub fn is_websocket(entry: &HarEntry) -> bool {
    let r = &entry.request;
    !entry.sent_messages.is_empty()
        || ws_scheme(entry)
        || r.headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("upgrade") && v.trim().eq_ignore_ascii_case("websocket")
        })
}

/// The URL an outcome shows: as the capture names it (`wss://…` rather than
/// the `https://` a WebSocket's handshake goes over), with query secrets and
/// the query values `engine` classifies redacted, as an audit record's path.
pub fn entry_url(entry: &HarEntry, meta: &RequestMeta, engine: &Engine) -> String {
    let url = display_url(meta, engine);
    if ws_scheme(entry) {
        url.replacen("http", "ws", 1)
    } else {
        url
    }
}

fn ws_scheme(entry: &HarEntry) -> bool {
    let scheme = entry.request.url.split(':').next().unwrap_or("");
    scheme.eq_ignore_ascii_case("ws") || scheme.eq_ignore_ascii_case("wss")
}

/// `scheme://host[:port]/path?query` with query secrets and data redacted.
fn display_url(meta: &RequestMeta, engine: &Engine) -> String {
    let data = engine.query_data(meta.query());
    super::mask::redact_url_with(&super::record::RecordedFlow::url_of(meta), |p| {
        data.holds(p)
    })
}

/// An entry whose verdict differs between two policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub before: Outcome,
    pub after: Outcome,
}

/// The entries whose action or deciding rule differs between `a` and `b` (the
/// same capture replayed under two configs, so the same indices).
pub fn diff(a: &[Outcome], b: &[Outcome]) -> Vec<Change> {
    a.iter()
        .zip(b)
        .filter(|(x, y)| x.action != y.action || x.rule != y.rule)
        .map(|(x, y)| Change {
            before: x.clone(),
            after: y.clone(),
        })
        .collect()
}
