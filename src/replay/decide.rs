//! One request's decision from its method, URL, headers and (whole) body, through
//! the very calls the live proxy makes: `Policy::destination`, `plan`, the engine's
//! scanner, `evaluate`, and learning from upload-info answers. Replay and the
//! round-trip tests use it; nothing here decides anything itself.

use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use crate::inspect::{ContentHint, Engine, Findings, Incomplete, IncompleteReason};
use crate::net::pattern::normalize_host;
use crate::policy::{BodyPlan, Destination, LearnedRegions, Policy, RequestMeta, Verdict};

/// Largest upload-info answer the proxy reads to learn from (`pipeline::LEARN_MAX`).
pub const LEARN_MAX: usize = 1 << 20;

/// Why a captured URL cannot be decided.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not an absolute URL: {0}")]
    Invalid(String),
    #[error("unsupported scheme {0:?} (http or https)")]
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
    let https = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => true,
        Some(s) if s.eq_ignore_ascii_case("http") => false,
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
                let held = usize::try_from(self.hold_max).unwrap_or(usize::MAX);
                let mut scanner = self.engine.scanner(content_hint(meta));
                let fits = body.len() <= held;
                scanner.feed(body.get(..held).unwrap_or(body));
                let mut findings = scanner.finish();
                findings.bytes = body.len().min(held) as u64;
                if !fits {
                    findings.incomplete = Some(hold_limit(self.hold_max));
                }
                let verdict = self.policy.evaluate(meta, &dest, &findings);
                Decision {
                    dest,
                    verdict,
                    findings,
                    scanned: true,
                }
            }
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

    #[test]
    fn a_body_past_the_hold_limit_is_incomplete() {
        let cfg = crate::config::load(None).expect("embedded config");
        let d = Decider {
            policy: &cfg.policy,
            engine: &cfg.engine,
            hold_max: 16,
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
}
