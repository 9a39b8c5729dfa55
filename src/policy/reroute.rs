//! Named reroute targets: a base URL (an on-premises records API) or a host-suffix
//! mapping (`.dingtalk.com` → `.dingtalk.io`), and where a request lands under each.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::schema::UpstreamConfig;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UpstreamError {
    #[error("give exactly one of `url` or `host_map`")]
    NeitherOrBoth,
    #[error("URL must start with http:// or https://")]
    Scheme,
    #[error("URL has no host")]
    NoHost,
    #[error("bad port {0:?}")]
    Port(String),
    #[error("URL must not carry user info, a query or a fragment")]
    Extra,
    #[error("host map suffixes must start with '.' and be lowercase, e.g. \".dingtalk.com\"")]
    Suffix,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RerouteTarget {
    BaseUrl {
        scheme: String,
        host: String,
        port: u16,
        /// No trailing slash; empty for the root.
        path_prefix: String,
    },
    HostMap {
        from_suffix: String,
        to_suffix: String,
    },
}

/// Where a rerouted request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rerouted {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path_and_query: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    pub name: String,
    pub target: RerouteTarget,
}

impl RerouteTarget {
    pub fn from_config(cfg: &UpstreamConfig) -> Result<RerouteTarget, UpstreamError> {
        match (&cfg.url, &cfg.host_map) {
            (Some(url), None) => parse_base_url(url),
            (None, Some(map)) => {
                let ok = |s: &str| {
                    s.len() > 1
                        && s.starts_with('.')
                        && !s.ends_with('.')
                        && s.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                        })
                };
                if !ok(&map.from) || !ok(&map.to) {
                    return Err(UpstreamError::Suffix);
                }
                Ok(RerouteTarget::HostMap {
                    from_suffix: map.from.clone(),
                    to_suffix: map.to.clone(),
                })
            }
            _ => Err(UpstreamError::NeitherOrBoth),
        }
    }

    /// Where a request for `scheme://host:port/path?query` goes instead; `None` when a
    /// host map does not cover `host` (the caller must then not forward it at all).
    pub fn apply(
        &self,
        scheme: &str,
        host: &str,
        port: u16,
        path_and_query: &str,
    ) -> Option<Rerouted> {
        match self {
            RerouteTarget::BaseUrl {
                scheme: s,
                host: h,
                port: p,
                path_prefix,
            } => {
                let pq = if path_and_query.starts_with('/') {
                    format!("{path_prefix}{path_and_query}")
                } else {
                    format!("{path_prefix}/{path_and_query}")
                };
                Some(Rerouted {
                    scheme: s.clone(),
                    host: h.clone(),
                    port: *p,
                    path_and_query: pq,
                })
            }
            RerouteTarget::HostMap {
                from_suffix,
                to_suffix,
            } => {
                let new_host = self.map_host(host, from_suffix, to_suffix)?;
                Some(Rerouted {
                    scheme: scheme.to_owned(),
                    host: new_host,
                    port,
                    path_and_query: path_and_query.to_owned(),
                })
            }
        }
    }

    /// Whether `apply` would give a target for `host`.
    pub fn applies_to(&self, host: &str) -> bool {
        match self {
            RerouteTarget::BaseUrl { .. } => true,
            RerouteTarget::HostMap { from_suffix, .. } => {
                host.ends_with(from_suffix.as_str()) || Some(host) == from_suffix.get(1..)
            }
        }
    }

    fn map_host(&self, host: &str, from: &str, to: &str) -> Option<String> {
        if let Some(stem) = host.strip_suffix(from) {
            if !stem.is_empty() {
                return Some(format!("{stem}{to}"));
            }
        }
        // The apex: `dingtalk.com` under `.dingtalk.com` → `.dingtalk.io`.
        (Some(host) == from.get(1..)).then(|| to.get(1..).unwrap_or_default().to_owned())
    }

    /// One line for `sluice check`.
    pub fn describe(&self) -> String {
        match self {
            RerouteTarget::BaseUrl {
                scheme,
                host,
                port,
                path_prefix,
            } => format!("base url {scheme}://{host}:{port}{path_prefix}"),
            RerouteTarget::HostMap {
                from_suffix,
                to_suffix,
            } => format!("host map *{from_suffix} -> *{to_suffix}"),
        }
    }
}

fn parse_base_url(url: &str) -> Result<RerouteTarget, UpstreamError> {
    let (scheme, rest, default_port) = if let Some(r) = url.strip_prefix("https://") {
        ("https", r, 443)
    } else if let Some(r) = url.strip_prefix("http://") {
        ("http", r, 80)
    } else {
        return Err(UpstreamError::Scheme);
    };
    if rest.contains(['?', '#']) {
        return Err(UpstreamError::Extra);
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(UpstreamError::Extra);
    }
    let (host, port) = split_host_port(authority, default_port)?;
    if host.is_empty() {
        return Err(UpstreamError::NoHost);
    }
    Ok(RerouteTarget::BaseUrl {
        scheme: scheme.to_owned(),
        host: host.to_ascii_lowercase(),
        port,
        path_prefix: path.trim_end_matches('/').to_owned(),
    })
}

fn split_host_port(authority: &str, default_port: u16) -> Result<(&str, u16), UpstreamError> {
    // `[::1]:8443`: the colon that separates the port comes after the bracket.
    let port_sep = if authority.starts_with('[') {
        authority
            .find(']')
            .and_then(|i| authority.get(i + 1..).map(|r| (i, r)))
            .and_then(|(i, r)| r.starts_with(':').then_some(i + 1))
    } else {
        authority.rfind(':')
    };
    match port_sep {
        Some(i) => {
            let host = authority.get(..i).unwrap_or("");
            let port_text = authority.get(i + 1..).unwrap_or("");
            let port = port_text
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| UpstreamError::Port(port_text.to_owned()))?;
            Ok((host, port))
        }
        None => Ok((authority, default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::schema::HostMapConfig;

    fn url(u: &str) -> UpstreamConfig {
        UpstreamConfig {
            url: Some(u.to_owned()),
            host_map: None,
        }
    }

    fn map(from: &str, to: &str) -> UpstreamConfig {
        UpstreamConfig {
            url: None,
            host_map: Some(HostMapConfig {
                from: from.to_owned(),
                to: to.to_owned(),
            }),
        }
    }

    #[test]
    fn apply_cases() {
        struct Case {
            name: &'static str,
            cfg: UpstreamConfig,
            req: (&'static str, &'static str, u16, &'static str),
            want: Option<(&'static str, &'static str, u16, &'static str)>,
        }
        let cases = [
            Case {
                name: "base url with prefix",
                cfg: url("https://records.example.mo/dingtalk/"),
                req: (
                    "https",
                    "api.dingtalk.com",
                    443,
                    "/v1.0/storage/x?unionId=1",
                ),
                want: Some((
                    "https",
                    "records.example.mo",
                    443,
                    "/dingtalk/v1.0/storage/x?unionId=1",
                )),
            },
            Case {
                name: "base url with port, no prefix",
                cfg: url("http://10.0.0.5:8080"),
                req: ("https", "oapi.dingtalk.com", 443, "/media/upload?type=file"),
                want: Some(("http", "10.0.0.5", 8080, "/media/upload?type=file")),
            },
            Case {
                name: "base url ipv6",
                cfg: url("https://[::1]:8443/r"),
                req: ("https", "oapi.dingtalk.com", 443, "/a"),
                want: Some(("https", "[::1]", 8443, "/r/a")),
            },
            Case {
                name: "host map subdomain",
                cfg: map(".dingtalk.com", ".dingtalk.io"),
                req: (
                    "https",
                    "oapi.dingtalk.com",
                    443,
                    "/media/upload?access_token=x",
                ),
                want: Some((
                    "https",
                    "oapi.dingtalk.io",
                    443,
                    "/media/upload?access_token=x",
                )),
            },
            Case {
                name: "host map apex",
                cfg: map(".dingtalk.com", ".dingtalk.io"),
                req: ("https", "dingtalk.com", 443, "/"),
                want: Some(("https", "dingtalk.io", 443, "/")),
            },
            Case {
                name: "host map does not cover",
                cfg: map(".dingtalk.com", ".dingtalk.io"),
                req: ("https", "evildingtalk.com", 443, "/"),
                want: None,
            },
        ];
        for c in cases {
            let t =
                RerouteTarget::from_config(&c.cfg).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let got = t.apply(c.req.0, c.req.1, c.req.2, c.req.3);
            let want = c.want.map(|(s, h, p, pq)| Rerouted {
                scheme: s.to_owned(),
                host: h.to_owned(),
                port: p,
                path_and_query: pq.to_owned(),
            });
            assert_eq!(got, want, "case {}", c.name);
            assert_eq!(t.applies_to(c.req.1), got.is_some(), "case {}", c.name);
        }
    }

    #[test]
    fn upstream_rejections() {
        let cases = [
            (
                "neither",
                UpstreamConfig::default(),
                UpstreamError::NeitherOrBoth,
            ),
            (
                "both",
                UpstreamConfig {
                    url: Some("https://a".into()),
                    host_map: Some(HostMapConfig {
                        from: ".a".into(),
                        to: ".b".into(),
                    }),
                },
                UpstreamError::NeitherOrBoth,
            ),
            ("ftp", url("ftp://x"), UpstreamError::Scheme),
            ("no host", url("https:///x"), UpstreamError::NoHost),
            (
                "bad port",
                url("https://x:99999/"),
                UpstreamError::Port("99999".into()),
            ),
            ("query", url("https://x/?a=1"), UpstreamError::Extra),
            ("userinfo", url("https://u:p@x/"), UpstreamError::Extra),
            (
                "suffix without dot",
                map("dingtalk.com", ".dingtalk.io"),
                UpstreamError::Suffix,
            ),
        ];
        for (name, cfg, want) in cases {
            assert_eq!(RerouteTarget::from_config(&cfg), Err(want), "case {name}");
        }
    }
}
