//! Host patterns (`host.example` or `*.example`) and the sets compiled from them,
//! matched without allocation on every CONNECT.

use std::collections::HashSet;

/// One pattern: an exact host, or `*.suffix` for every subdomain of `suffix`
/// (not `suffix` itself: list it too if you mean it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    /// Stored with its leading dot (`.dingtalk.com`).
    Subdomains(String),
}

impl HostPattern {
    pub fn parse(s: &str) -> Result<HostPattern, String> {
        let p = s.trim().trim_end_matches('.').to_ascii_lowercase();
        let (wild, rest) = match p.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, p.as_str()),
        };
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let is_ip = rest.parse::<std::net::IpAddr>().is_ok();
        if rest.is_empty() || !(is_ip || rest.split('.').all(valid_label)) {
            return Err(format!(
                "invalid host pattern {s:?}: expected host.example or *.example"
            ));
        }
        Ok(if wild {
            HostPattern::Subdomains(format!(".{rest}"))
        } else {
            HostPattern::Exact(rest.to_string())
        })
    }

    /// The domain this pattern covers, for the CA's name constraints.
    pub fn domain(&self) -> &str {
        match self {
            HostPattern::Exact(h) => h,
            HostPattern::Subdomains(s) => &s[1..],
        }
    }
}

/// A compiled set of patterns. `host` must already be lowercase without a trailing dot.
#[derive(Clone, Debug, Default)]
pub struct HostSet {
    exact: HashSet<String>,
    suffixes: Vec<String>,
}

impl HostSet {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<HostSet, String> {
        let mut set = HostSet::default();
        for p in patterns {
            match HostPattern::parse(p)? {
                HostPattern::Exact(h) => {
                    set.exact.insert(h);
                }
                HostPattern::Subdomains(s) => set.suffixes.push(s),
            }
        }
        Ok(set)
    }

    pub fn matches(&self, host: &str) -> bool {
        self.exact.contains(host)
            || self
                .suffixes
                .iter()
                .any(|s| host.len() > s.len() && host.ends_with(s.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.suffixes.is_empty()
    }
}

/// Lowercases and strips a trailing dot, so `API.DingTalk.com.` and
/// `api.dingtalk.com` are one host everywhere.
pub fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let set = HostSet::new(["*.dingtalk.com", "oapi.dingtalk.io", "10.0.0.1"]).unwrap();
        let cases = [
            ("oapi.dingtalk.com", true),
            ("a.b.dingtalk.com", true),
            ("dingtalk.com", false),
            ("evildingtalk.com", false),
            ("oapi.dingtalk.io", true),
            ("api.dingtalk.io", false),
            ("10.0.0.1", true),
            ("example.com", false),
        ];
        for (host, want) in cases {
            assert_eq!(set.matches(host), want, "{host}");
        }
    }

    #[test]
    fn rejects_bad_patterns() {
        for bad in ["", "*.", "a..b", "exa mple.com", "*.*.com", "http://x.com"] {
            assert!(
                HostPattern::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert_eq!(
            HostPattern::parse("*.DingTalk.com.").unwrap(),
            HostPattern::Subdomains(".dingtalk.com".into())
        );
    }
}
