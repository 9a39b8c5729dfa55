//! The name a leaf is minted for: a normalised DNS name or an IP address, parsed from an SNI value or
//! a CONNECT authority. Normalising here keeps one cache entry per host however the client spelled it.

use std::fmt;
use std::net::IpAddr;

use rustls::pki_types::DnsName;

use super::{truncate_for_message, TlsError};

/// A host a leaf certificate can name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LeafHost {
    /// Lower-case, without a trailing dot, valid as a DNS reference name.
    Dns(String),
    Ip(IpAddr),
}

impl LeafHost {
    /// Parses `host` as found in SNI or in a CONNECT authority *without* its port: `x.dingtalk.com`,
    /// `X.DingTalk.com.`, `10.0.0.1`, `[::1]` or `::1`. Wildcards and anything that is not a valid
    /// DNS name are refused, so a hostile SNI cannot end up in a certificate.
    pub fn parse(host: &str) -> Result<LeafHost, TlsError> {
        let bad = || TlsError::BadHost {
            host: truncate_for_message(host),
        };
        let unbracketed = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(LeafHost::Ip(ip));
        }
        let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        // A DNS name needs a letter somewhere in its last label; "300.1.1.1" is neither name nor IP.
        let last_label = name.rsplit('.').next().unwrap_or("");
        if name.contains('*') || !last_label.bytes().any(|b| b.is_ascii_alphabetic()) {
            return Err(bad());
        }
        DnsName::try_from(name.as_str()).map_err(|_| bad())?;
        Ok(LeafHost::Dns(name))
    }
}

impl fmt::Display for LeafHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeafHost::Dns(name) => f.write_str(name),
            LeafHost::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        input: &'static str,
        want: Option<&'static str>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "plain",
            input: "x.dingtalk.com",
            want: Some("x.dingtalk.com"),
        },
        Case {
            name: "upper case folds",
            input: "X.DingTalk.COM",
            want: Some("x.dingtalk.com"),
        },
        Case {
            name: "trailing dot",
            input: "oapi.dingtalk.com.",
            want: Some("oapi.dingtalk.com"),
        },
        Case {
            name: "ipv4",
            input: "10.1.2.3",
            want: Some("10.1.2.3"),
        },
        Case {
            name: "ipv6 bracketed",
            input: "[::1]",
            want: Some("::1"),
        },
        Case {
            name: "ipv6 bare",
            input: "2001:db8::1",
            want: Some("2001:db8::1"),
        },
        Case {
            name: "single label",
            input: "localhost",
            want: Some("localhost"),
        },
        Case {
            name: "wildcard refused",
            input: "*.dingtalk.com",
            want: None,
        },
        Case {
            name: "empty refused",
            input: "",
            want: None,
        },
        Case {
            name: "space refused",
            input: "a b.com",
            want: None,
        },
        Case {
            name: "bad ipv4 refused",
            input: "300.1.1.1",
            want: None,
        },
        Case {
            name: "port refused",
            input: "x.dingtalk.com:443",
            want: None,
        },
        Case {
            name: "nul refused",
            input: "a\0.com",
            want: None,
        },
    ];

    #[test]
    fn parse_cases() {
        for case in CASES {
            let got = LeafHost::parse(case.input).ok().map(|h| h.to_string());
            assert_eq!(got.as_deref(), case.want, "case {}", case.name);
        }
    }

    #[test]
    fn long_hostile_input_is_truncated_in_the_error() {
        let hostile = "é".repeat(10_000);
        let msg = LeafHost::parse(&hostile)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(msg.len() < 400, "error message is {} bytes", msg.len());
    }
}
