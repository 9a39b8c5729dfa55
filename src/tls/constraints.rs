//! The CA's X.509 name constraints: built from [`CaOptions`] when the CA is made, read back from the
//! certificate when it is loaded, and checked before a leaf is minted so a leaf the constraints forbid
//! fails here with a clear error instead of in every client.
//!
//! IP addresses: RFC 5280 leaves a name type unconstrained when no subtree of that type is listed, so
//! a CA constrained only to DNS names could still sign for any IP. Unless the operator lists IP ranges
//! (`ip_constraints`), the CA therefore *excludes* `0.0.0.0/0` and `::/0`, and sluice cannot intercept
//! a CONNECT to a bare IP (that connection should be tunnelled or refused by policy instead).

use ipnet::IpNet;
use rcgen::{CidrSubnet, GeneralSubtree, NameConstraints};
use rustls::pki_types::DnsName;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use super::ca::CaOptions;
use super::host::LeafHost;
use super::TlsError;

/// Name constraints as read from a CA certificate, in the form [`Constraints::permits`] checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Constraints {
    present: bool,
    permitted_dns: Vec<String>,
    excluded_dns: Vec<String>,
    permitted_ip: Vec<IpSubtree>,
    excluded_ip: Vec<IpSubtree>,
}

/// An address and a mask of the same length (4 or 16 bytes), as encoded in the certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
struct IpSubtree {
    addr: Vec<u8>,
    mask: Vec<u8>,
}

/// The `NameConstraints` extension for a new CA, or `None` for an unconstrained one.
pub(crate) fn build(opts: &CaOptions) -> Result<Option<NameConstraints>, TlsError> {
    if opts.name_constraints.is_empty() {
        if let Some(net) = opts.ip_constraints.first() {
            return Err(TlsError::BadConstraint {
                value: net.to_string(),
                reason: "IP constraints need at least one DNS name constraint",
            });
        }
        return Ok(None);
    }
    let mut dns: Vec<String> = Vec::new();
    for raw in &opts.name_constraints {
        let name = normalise_domain(raw)?;
        if !dns.contains(&name) {
            dns.push(name);
        }
    }
    let mut permitted: Vec<GeneralSubtree> = dns.into_iter().map(GeneralSubtree::DnsName).collect();
    let mut excluded = Vec::new();
    if opts.ip_constraints.is_empty() {
        excluded.push(GeneralSubtree::IpAddress(CidrSubnet::V4([0; 4], [0; 4])));
        excluded.push(GeneralSubtree::IpAddress(CidrSubnet::V6([0; 16], [0; 16])));
    } else {
        permitted.extend(opts.ip_constraints.iter().map(|net: &IpNet| {
            GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
                net.network(),
                net.prefix_len(),
            ))
        }));
    }
    Ok(Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: excluded,
    }))
}

/// `*.dingtalk.com`, `.dingtalk.com` and `DingTalk.com` all become the subtree `dingtalk.com`, which
/// permits the domain and everything under it.
fn normalise_domain(raw: &str) -> Result<String, TlsError> {
    let bad = |reason| TlsError::BadConstraint {
        value: raw.to_owned(),
        reason,
    };
    let trimmed = raw.trim();
    let name = trimmed
        .strip_prefix("*.")
        .or_else(|| trimmed.strip_prefix('.'))
        .unwrap_or(trimmed);
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name.is_empty() {
        return Err(bad("an empty constraint would permit every name"));
    }
    if name.contains('*') {
        return Err(bad("only a leading \"*.\" wildcard is allowed"));
    }
    DnsName::try_from(name.as_str()).map_err(|_| bad("not a DNS name"))?;
    Ok(name)
}

/// Reads the name constraints of a (CA) certificate.
pub(crate) fn read(cert: &X509Certificate<'_>) -> Result<Constraints, String> {
    let ext = cert
        .name_constraints()
        .map_err(|e| format!("name constraints: {e}"))?;
    let Some(ext) = ext else {
        return Ok(Constraints::default());
    };
    let mut out = Constraints {
        present: true,
        ..Constraints::default()
    };
    for subtree in ext.value.permitted_subtrees.iter().flatten() {
        push_name(&subtree.base, &mut out.permitted_dns, &mut out.permitted_ip)?;
    }
    for subtree in ext.value.excluded_subtrees.iter().flatten() {
        push_name(&subtree.base, &mut out.excluded_dns, &mut out.excluded_ip)?;
    }
    Ok(out)
}

fn push_name(
    name: &GeneralName<'_>,
    dns: &mut Vec<String>,
    ip: &mut Vec<IpSubtree>,
) -> Result<(), String> {
    match name {
        GeneralName::DNSName(d) => dns.push(d.to_ascii_lowercase()),
        GeneralName::IPAddress(bytes) if bytes.len() == 8 || bytes.len() == 32 => {
            let (addr, mask) = bytes.split_at(bytes.len() / 2);
            ip.push(IpSubtree {
                addr: addr.to_vec(),
                mask: mask.to_vec(),
            });
        }
        GeneralName::IPAddress(_) => return Err("malformed IP name constraint".to_owned()),
        // Other name types never appear in a leaf sluice mints, so they cannot forbid one.
        _ => {}
    }
    Ok(())
}

impl Constraints {
    /// Whether a leaf naming `host` would satisfy these constraints (RFC 5280 §4.2.1.10, as webpki
    /// applies it: a name type with permitted subtrees must match one; no name may match an excluded one).
    pub(crate) fn permits(&self, host: &LeafHost) -> bool {
        if !self.present {
            return true;
        }
        match host {
            LeafHost::Dns(name) => {
                let hit = |c: &String| dns_within(name, c);
                !self.excluded_dns.iter().any(hit)
                    && (self.permitted_dns.is_empty() || self.permitted_dns.iter().any(hit))
            }
            LeafHost::Ip(ip) => {
                let octets = match ip {
                    std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
                    std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
                };
                let hit = |s: &IpSubtree| ip_within(&octets, s);
                !self.excluded_ip.iter().any(hit)
                    && (self.permitted_ip.is_empty() || self.permitted_ip.iter().any(hit))
            }
        }
    }

    pub(crate) fn is_constrained(&self) -> bool {
        self.present
    }

    pub(crate) fn permitted_dns(&self) -> &[String] {
        &self.permitted_dns
    }
}

/// `example.com` covers itself and its subdomains; `.example.com` only its subdomains; `` everything.
fn dns_within(name: &str, constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    if constraint.starts_with('.') {
        return name.len() > constraint.len() && name.ends_with(constraint);
    }
    name == constraint
        || name
            .strip_suffix(constraint)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

fn ip_within(addr: &[u8], subtree: &IpSubtree) -> bool {
    addr.len() == subtree.addr.len()
        && addr
            .iter()
            .zip(&subtree.addr)
            .zip(&subtree.mask)
            .all(|((a, c), m)| (a ^ c) & m == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(dns: &[&str], ips: &[&str]) -> CaOptions {
        CaOptions {
            name_constraints: dns.iter().map(|s| s.to_string()).collect(),
            ip_constraints: ips.iter().filter_map(|s| s.parse().ok()).collect(),
            ..CaOptions::default()
        }
    }

    fn constraints_of(o: &CaOptions) -> Constraints {
        let ca = super::super::CertAuthority::generate(o).expect("generate");
        ca.constraints().clone()
    }

    struct Case {
        name: &'static str,
        dns: &'static [&'static str],
        ips: &'static [&'static str],
        host: &'static str,
        permitted: bool,
    }

    const CASES: &[Case] = &[
        Case {
            name: "subdomain of a wildcard",
            dns: &["*.dingtalk.com"],
            ips: &[],
            host: "oapi.dingtalk.com",
            permitted: true,
        },
        Case {
            name: "apex of a wildcard",
            dns: &["*.dingtalk.com"],
            ips: &[],
            host: "dingtalk.com",
            permitted: true,
        },
        Case {
            name: "deep subdomain",
            dns: &["dingtalk.com"],
            ips: &[],
            host: "zjk-a.trans.dingtalk.com",
            permitted: true,
        },
        Case {
            name: "another domain",
            dns: &["dingtalk.com"],
            ips: &[],
            host: "bank.example",
            permitted: false,
        },
        Case {
            name: "suffix without a dot",
            dns: &["dingtalk.com"],
            ips: &[],
            host: "evildingtalk.com",
            permitted: false,
        },
        Case {
            name: "second domain",
            dns: &["dingtalk.com", "aliyuncs.com"],
            ips: &[],
            host: "oss-cn-hangzhou.aliyuncs.com",
            permitted: true,
        },
        Case {
            name: "ip excluded by default",
            dns: &["dingtalk.com"],
            ips: &[],
            host: "10.0.0.1",
            permitted: false,
        },
        Case {
            name: "ipv6 excluded by default",
            dns: &["dingtalk.com"],
            ips: &[],
            host: "::1",
            permitted: false,
        },
        Case {
            name: "ip inside a listed range",
            dns: &["dingtalk.com"],
            ips: &["10.0.0.0/8"],
            host: "10.9.8.7",
            permitted: true,
        },
        Case {
            name: "ip outside a listed range",
            dns: &["dingtalk.com"],
            ips: &["10.0.0.0/8"],
            host: "11.0.0.1",
            permitted: false,
        },
        Case {
            name: "ipv6 when only v4 listed",
            dns: &["dingtalk.com"],
            ips: &["10.0.0.0/8"],
            host: "::1",
            permitted: false,
        },
        Case {
            name: "unconstrained dns",
            dns: &[],
            ips: &[],
            host: "bank.example",
            permitted: true,
        },
        Case {
            name: "unconstrained ip",
            dns: &[],
            ips: &[],
            host: "192.0.2.1",
            permitted: true,
        },
    ];

    #[test]
    fn permits_cases_read_back_from_the_certificate() {
        for case in CASES {
            let c = constraints_of(&opts(case.dns, case.ips));
            let host = LeafHost::parse(case.host).expect("host");
            assert_eq!(c.permits(&host), case.permitted, "case {}", case.name);
        }
    }

    #[test]
    fn rejected_options() {
        let cases: &[(&str, CaOptions)] = &[
            ("empty name", opts(&[""], &[])),
            ("bare wildcard", opts(&["*"], &[])),
            ("inner wildcard", opts(&["a.*.com"], &[])),
            ("not a name", opts(&["a b.com"], &[])),
            ("ip without dns", opts(&[], &["10.0.0.0/8"])),
        ];
        for (name, o) in cases {
            assert!(
                matches!(build(o), Err(TlsError::BadConstraint { .. })),
                "case {name}"
            );
        }
    }
}
