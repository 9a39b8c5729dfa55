//! One request's decision from its method, URL, headers and (whole) body, through
//! the very calls the live proxy makes: `Policy::destination`, `plan`, the engine's
//! scanner, `evaluate`, and learning from upload-info answers. Replay and the
//! round-trip tests use it; nothing here decides anything itself.

use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use crate::inspect::{BodyScan, ContentHint, Engine, Findings, Incomplete, IncompleteReason};
use crate::net::pattern::normalize_host;
use crate::policy::{
    part_of, Action, BodyPlan, Destination, LearnedRegions, Policy, RequestMeta, UploadParts,
    Verdict,
};

/// Largest upload-info answer the proxy reads to learn from (`pipeline::LEARN_MAX`).
pub const LEARN_MAX: usize = 1 << 20;

/// Why a captured URL cannot be decided.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not an absolute URL: {0}")]
    Invalid(String),
    #[error("unsupported scheme {0:?} (http, https, ws or wss)")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
}

/// What the proxy would see of a captured request: the parts of `RequestMeta`
/// the live pipeline fills in from the request line and headers.
pub fn request_meta(
    method: &str,
    url: &str,
    headers: &[(String, String)],
) -> Result<RequestMeta, UrlError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| UrlError::Invalid(url.chars().take(80).collect()))?;
    // A WebSocket's URL (as browsers export it) names the connection its
    // handshake goes over.
    let https = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("wss") => true,
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("ws") => false,
        Some(s) => return Err(UrlError::Scheme(s.chars().take(16).collect())),
        None => return Err(UrlError::Invalid(url.chars().take(80).collect())),
    };
    let authority = uri.authority().ok_or(UrlError::NoHost)?;
    let host = normalize_host(
        authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']'),
    );
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    Ok(RequestMeta {
        client: IpAddr::V4(Ipv4Addr::LOCALHOST),
        method: method.to_owned(),
        scheme: if https { "https" } else { "http" }.to_owned(),
        host,
        port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        content_type: header("content-type"),
        content_encoding: header("content-encoding"),
        content_length: header("content-length").and_then(|v| v.trim().parse().ok()),
        accept: header("accept"),
        resolved: None,
    })
}

/// The hint the engine gets for a body: the request's own headers, as in the proxy.
pub fn content_hint(meta: &RequestMeta) -> ContentHint {
    ContentHint {
        content_type: meta.content_type.clone(),
        content_encoding: meta.content_encoding.clone(),
        file_name: None,
    }
}

/// What the findings say when a body outgrew the hold (as the proxy marks it).
pub fn hold_limit(max: u64) -> Incomplete {
    Incomplete {
        reason: IncompleteReason::HoldLimit,
        detail: format!("body larger than the hold limit of {max} bytes"),
    }
}

/// A request's outcome: where it goes, what was found, what the policy decided.
#[derive(Clone, Debug)]
pub struct Decision {
    pub dest: Destination,
    pub verdict: Verdict,
    /// Empty (default) when the plan decided on metadata alone.
    pub findings: Findings,
    /// Whether the body was read (the plan was `Hold` or `Observe`).
    pub scanned: bool,
}

/// The policy and engine one decision runs under, and the hold limit the proxy
/// would apply.
#[derive(Clone, Copy)]
pub struct Decider<'a> {
    pub policy: &'a Policy,
    pub engine: &'a Engine,
    pub hold_max: u64,
    /// Largest WebSocket message held whole (`hold.memory`).
    pub hold_memory: u64,
    /// The first parts of multipart uploads seen so far, as the proxy keeps
    /// them (`None`: every part is decided alone).
    pub parts: Option<&'a UploadParts>,
}

impl Decider<'_> {
    /// Destination, plan, and (when the plan reads the body) scan and evaluate,
    /// exactly as `proxy::pipeline::handle` does for a request whose body is `body`.
    pub fn decide(
        &self,
        meta: &RequestMeta,
        body: &[u8],
        learned: &LearnedRegions,
        now: SystemTime,
    ) -> Decision {
        let dest = self.policy.destination(meta, learned, now);
        match self.policy.plan(meta, &dest) {
            BodyPlan::Decided(verdict) => Decision {
                dest,
                verdict,
                findings: Findings::default(),
                scanned: false,
            },
            BodyPlan::Hold | BodyPlan::Observe => {
                let part = self.parts.zip(part_of(meta));
                let continues = part
                    .as_ref()
                    .and_then(|(parts, p)| parts.continues(meta, p, now));
                let mut scanner = self.engine.scanner(content_hint(meta));
                scanner.query(meta.query());
                if let Some(media) = &continues {
                    scanner.continues(media);
                }
                let findings = self.held(scanner, body, self.hold_max);
                let verdict = self.policy.evaluate(meta, &dest, &findings);
                if let Some((parts, p)) = &part {
                    parts.decided(meta, p, &findings, verdict.action, now);
                }
                Decision {
                    dest,
                    verdict,
                    findings,
                    scanned: true,
                }
            }
        }
    }

    /// A body scanned as the proxy holds it: at most `max` bytes, and past
    /// that incomplete (`hold_limit`).
    fn held(&self, mut scanner: BodyScan, body: &[u8], max: u64) -> Findings {
        let held = usize::try_from(max).unwrap_or(usize::MAX);
        scanner.feed(body.get(..held).unwrap_or(body));
        let mut findings = scanner.finish();
        findings.bytes = body.len().min(held) as u64;
        if body.len() > held {
            findings.incomplete = Some(hold_limit(max));
        }
        findings
    }

    /// A WebSocket handshake `meta` and the messages the client then sent, as
    /// `proxy::pipeline` and `proxy::websocket` decide them: a rule that
    /// would stop every message refuses the handshake; else the handshake is
    /// decided as the GET it is; then, when a rule may read messages, data in
    /// its query as the first message (a block refuses the handshake, a
    /// reroute moves the socket), then each message in order. The first
    /// message stopped ends the connection and is the outcome (a reroute
    /// stops it as a block does); else the first one audited or shadowed;
    /// else an allow with the classes every message showed (the most of each).
    pub fn decide_websocket<M: AsRef<[u8]>>(
        &self,
        meta: &RequestMeta,
        messages: impl IntoIterator<Item = M>,
        learned: &LearnedRegions,
        now: SystemTime,
    ) -> Decision {
        let ws = meta.websocket_message();
        let dest = self.policy.destination(meta, learned, now);
        let reads = match self.policy.plan(&ws, &dest) {
            BodyPlan::Decided(v) if matches!(v.action, Action::Block | Action::Reroute) => {
                return Decision {
                    dest,
                    verdict: v,
                    findings: Findings::default(),
                    scanned: false,
                };
            }
            BodyPlan::Decided(v) => v.action != Action::Allow || !v.shadow.is_empty(),
            BodyPlan::Hold | BodyPlan::Observe => true,
        };
        let handshake = self.decide(meta, &[], learned, now);
        if !reads || matches!(handshake.verdict.action, Action::Block | Action::Reroute) {
            return handshake;
        }
        let mut noted: Option<Decision> = None;
        let mut last = None;
        let mut seen = Findings::default();
        // Data in the handshake's query is decided as the first message.
        let query = self.engine.scan_query(meta.query());
        if !query.classes.is_empty() {
            let verdict = self.policy.evaluate(&ws, &dest, &query);
            if matches!(verdict.action, Action::Block | Action::Reroute) {
                return Decision {
                    dest,
                    verdict,
                    findings: query,
                    scanned: true,
                };
            }
            seen.classes.clone_from(&query.classes);
            if verdict.action != Action::Allow || !verdict.shadow.is_empty() {
                noted = Some(Decision {
                    dest: dest.clone(),
                    verdict,
                    findings: query,
                    scanned: true,
                });
            }
        }
        for m in messages {
            // The handshake's query went with the handshake, not with each message.
            let scanner = self.engine.scanner(ContentHint::default());
            let findings = self.held(scanner, m.as_ref(), self.hold_memory);
            let mut verdict = self.policy.evaluate(&ws, &dest, &findings);
            if matches!(verdict.action, Action::Block | Action::Reroute) {
                verdict.action = Action::Block;
                verdict.reroute = None;
                return Decision {
                    dest,
                    verdict,
                    findings,
                    scanned: true,
                };
            }
            for (class, n) in &findings.classes {
                let most = seen.classes.entry(*class).or_insert(0);
                *most = (*most).max(*n);
            }
            seen.bytes += findings.bytes;
            if seen.incomplete.is_none() {
                seen.incomplete.clone_from(&findings.incomplete);
            }
            let notable = verdict.action != Action::Allow || !verdict.shadow.is_empty();
            if notable && noted.is_none() {
                noted = Some(Decision {
                    dest: dest.clone(),
                    verdict: verdict.clone(),
                    findings,
                    scanned: true,
                });
            }
            last = Some(verdict);
        }
        if let Some(d) = noted {
            return d;
        }
        match last {
            Some(verdict) => Decision {
                dest,
                verdict,
                findings: seen,
                scanned: true,
            },
            None => handshake,
        }
    }

    /// Learns from the answer to `meta` when the proxy would have: an upload-info
    /// endpoint, a forwarded request, a success status, an answer it reads whole.
    pub fn learn(
        &self,
        meta: &RequestMeta,
        verdict: &Verdict,
        status: u16,
        body: &[u8],
        learned: &LearnedRegions,
        now: SystemTime,
    ) -> usize {
        let forwarded = verdict.action != crate::policy::Action::Block;
        if !forwarded
            || !self.policy.is_upload_info(meta)
            || !(200..300).contains(&status)
            || body.len() > LEARN_MAX
        {
            return 0;
        }
        learned.observe_response(self.policy, meta, status, body, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn request_meta_from_urls() {
        struct Case {
            name: &'static str,
            url: &'static str,
            want: Result<
                (
                    &'static str,
                    &'static str,
                    u16,
                    &'static str,
                    Option<&'static str>,
                ),
                (),
            >,
        }
        let cases = [
            Case {
                name: "https default port",
                url: "https://OAPI.DingTalk.com./media/upload?access_token=x",
                want: Ok((
                    "https",
                    "oapi.dingtalk.com",
                    443,
                    "/media/upload",
                    Some("access_token=x"),
                )),
            },
            Case {
                name: "http explicit port",
                url: "http://example.mo:8080/a/b",
                want: Ok(("http", "example.mo", 8080, "/a/b", None)),
            },
            Case {
                name: "ipv6 host",
                url: "https://[::1]:8443/",
                want: Ok(("https", "::1", 8443, "/", None)),
            },
            Case {
                name: "no path",
                url: "https://api.dingtalk.com",
                want: Ok(("https", "api.dingtalk.com", 443, "/", None)),
            },
            Case {
                name: "relative",
                url: "/media/upload",
                want: Err(()),
            },
            Case {
                name: "ftp",
                url: "ftp://example.com/x",
                want: Err(()),
            },
            Case {
                name: "garbage",
                url: "ht tp://x",
                want: Err(()),
            },
        ];
        for c in cases {
            let got = request_meta(
                "POST",
                c.url,
                &h(&[
                    ("Content-Type", "application/json"),
                    ("content-length", "12"),
                ]),
            );
            match (got, c.want) {
                (Ok(m), Ok((scheme, host, port, path, query))) => {
                    assert_eq!(
                        (
                            m.scheme.as_str(),
                            m.host.as_str(),
                            m.port,
                            m.path.as_str(),
                            m.query.as_deref()
                        ),
                        (scheme, host, port, path, query),
                        "{}",
                        c.name
                    );
                    assert_eq!(
                        m.content_type.as_deref(),
                        Some("application/json"),
                        "{}",
                        c.name
                    );
                    assert_eq!(m.content_length, Some(12), "{}", c.name);
                }
                (Err(_), Err(())) => {}
                (got, want) => panic!("{}: got {got:?}, want {want:?}", c.name),
            }
        }
    }

    /// A decider under `cfg` that holds bodies of 1 MiB and messages of 1 KiB.
    fn small_holds<'a>(
        cfg: &'a crate::config::Config,
        parts: Option<&'a UploadParts>,
    ) -> Decider<'a> {
        Decider {
            policy: &cfg.policy,
            engine: &cfg.engine,
            hold_max: 1 << 20,
            hold_memory: 1024,
            parts,
        }
    }

    #[test]
    fn a_body_past_the_hold_limit_is_incomplete() {
        let cfg = crate::config::load(None).expect("embedded config");
        let d = Decider {
            policy: &cfg.policy,
            engine: &cfg.engine,
            hold_max: 16,
            hold_memory: 16,
            parts: None,
        };
        let mut meta =
            request_meta("POST", "https://oapi.dingtalk.com/media/upload", &[]).expect("url");
        meta.content_type = Some("text/plain".into());
        let learned = LearnedRegions::new(8);
        let small = d.decide(&meta, b"hello", &learned, SystemTime::now());
        assert!(small.scanned);
        assert_eq!(small.findings.incomplete, None);
        assert_eq!(small.verdict.action, crate::policy::Action::Allow);
        let big = d.decide(&meta, &[b'a'; 64], &learned, SystemTime::now());
        assert_eq!(
            big.findings.incomplete.map(|i| i.reason),
            Some(IncompleteReason::HoldLimit)
        );
        assert_eq!(big.verdict.action, crate::policy::Action::Block);
    }

    #[test]
    fn a_query_string_is_read_with_the_body() {
        let cfg = crate::config::load(None).expect("embedded config");
        let d = small_holds(&cfg, None);
        let learned = LearnedRegions::new(8);
        let run = |method: &str, url: &str| {
            let meta = request_meta(method, url, &[]).expect("url");
            d.decide(&meta, b"", &learned, SystemTime::now())
        };
        let data = "?msg=%E5%93%A1%E5%B7%A5%20A123456%283%29&agent_id=42";
        let post = run(
            "POST",
            &format!("https://oapi.dingtalk.com/router/rest{data}"),
        );
        assert_eq!(post.verdict.action, Action::Block, "{post:?}");
        assert_eq!(post.findings.count(crate::inspect::Class::HkId), 1);
        assert_eq!(post.findings.formats, ["query"]);
        let clean = run("POST", "https://oapi.dingtalk.com/router/rest?agent_id=42");
        assert_eq!(clean.verdict.action, Action::Allow, "{clean:?}");
        assert!(clean.findings.classes.is_empty());
        // The shipped rules name uploads; a GET is decided on where it goes.
        let get = run(
            "GET",
            &format!("https://oapi.dingtalk.com/router/rest{data}"),
        );
        assert!(!get.scanned, "{get:?}");
    }

    #[test]
    fn later_parts_of_a_video_continue_its_first_part() {
        let cfg = crate::config::load(None).expect("embedded config");
        let parts = UploadParts::new();
        let d = small_holds(&cfg, Some(&parts));
        let learned = LearnedRegions::new(8);
        let mut head = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2\0\0\0\0mdat".to_vec();
        head.extend(crate::testutil::noise(7, 16 << 10));
        let middle = crate::testutil::noise(8, 16 << 10);
        let put = |upload: &str, n: u32, body: &[u8]| {
            let url = format!(
                "https://zjk-dualstack.trans.dingtalk.com/yundisk0/v.mp4?partNumber={n}&uploadId={upload}"
            );
            let meta = request_meta("PUT", &url, &[]).expect("url");
            d.decide(&meta, body, &learned, SystemTime::now())
                .verdict
                .action
        };
        assert_eq!(put("A", 2, &middle), Action::Block, "no first part seen");
        assert_eq!(put("B", 1, &head), Action::Allow);
        assert_eq!(put("B", 2, &middle), Action::Allow);
        assert_eq!(put("B", 3, &middle), Action::Allow);
        assert_eq!(put("A", 3, &middle), Action::Block, "another upload");
        let staff = "HKID A123456(3)".as_bytes();
        assert_eq!(put("B", 4, staff), Action::Block, "text is read as ever");
    }

    #[test]
    fn websocket_messages_are_decided_one_by_one() {
        let cfg = crate::config::load(None).expect("embedded config");
        let d = small_holds(&cfg, None);
        let clean =
            br#"{"lwp":"/r/IDLMessage/sendMessage","body":[{"content":"lunch at 12:30?"}]}"#
                .to_vec();
        let staff = r#"{"body":[{"content":"員工 陳大文 A123456(3)"}]}"#
            .as_bytes()
            .to_vec();
        let big = vec![b'x'; 2048];
        let learned = LearnedRegions::new(8);
        let run = |url: &str, messages: &[Vec<u8>]| {
            let meta = request_meta("GET", url, &[]).expect("url");
            d.decide_websocket(&meta, messages, &learned, SystemTime::now())
        };
        let outcome = |dec: &Decision| {
            (
                dec.verdict.action,
                dec.verdict.rule.clone(),
                dec.findings.count(crate::inspect::Class::HkId),
            )
        };
        let mainland = "wss://webalfa-cm3.dingtalk.com/lwp";
        let abroad = "wss://webalfa.dingtalk.io/lwp";
        let blocked = Some("sensitive-to-mainland".to_string());
        let audited = Some("sensitive-abroad-audited".to_string());
        // (action, rule, distinct HKIDs) of the entry's outcome.
        type Want = (Action, Option<String>, u64);
        let cases: Vec<(&str, &str, Vec<Vec<u8>>, Want)> = vec![
            (
                "the sensitive message stops the rest",
                mainland,
                vec![clean.clone(), staff.clone(), clean.clone()],
                (Action::Block, blocked.clone(), 1),
            ),
            (
                "clean messages pass",
                mainland,
                vec![clean.clone(), clean.clone()],
                (Action::Allow, None, 0),
            ),
            (
                "no messages: the handshake",
                mainland,
                vec![],
                (Action::Allow, None, 0),
            ),
            (
                "abroad: audited, not stopped",
                abroad,
                vec![clean.clone(), staff.clone()],
                (Action::Audit, audited.clone(), 1),
            ),
            (
                "past the hold: unread, fails closed",
                mainland,
                vec![big.clone()],
                (Action::Block, blocked.clone(), 0),
            ),
            (
                "an id in the handshake's query: refused before any message",
                "wss://webalfa-cm3.dingtalk.com/lwp?note=A123456(3)",
                vec![clean.clone()],
                (Action::Block, blocked, 1),
            ),
            (
                "the same abroad: audited as the first message",
                "wss://webalfa.dingtalk.io/lwp?note=A123456(3)",
                vec![clean.clone()],
                (Action::Audit, audited.clone(), 1),
            ),
            (
                "no rule reads messages there",
                "wss://example.com/socket",
                vec![staff.clone()],
                (Action::Allow, None, 0),
            ),
        ];
        for (name, url, messages, want) in cases {
            assert_eq!(outcome(&run(url, &messages)), want, "{name}");
        }
        let cut = run(mainland, &[big]);
        assert_eq!(
            cut.findings.incomplete.map(|i| i.reason),
            Some(IncompleteReason::HoldLimit)
        );
        assert!(!run("wss://example.com/socket", &[staff]).scanned);
    }
}
