//! Where the proxy may connect, and connecting there: `--resolve` mappings, DNS,
//! refusal of internal destinations (SSRF through the proxy), connect timeouts.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::config::ResolveRule;

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("destination {addr} is refused: {why}")]
    Refused { addr: String, why: &'static str },
    #[error("cannot resolve {host}: {source}")]
    Dns { host: String, source: io::Error },
    #[error("{host} resolved to no address")]
    NoAddress { host: String },
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        source: io::Error,
    },
    #[error("connecting to {host}:{port} timed out after {timeout:?}")]
    Timeout {
        host: String,
        port: u16,
        timeout: Duration,
    },
}

/// Resolves and connects upstream under the proxy's rules.
#[derive(Clone, Debug)]
pub struct Dialer {
    mappings: HashMap<(String, u16), SocketAddr>,
    refuse_internal: bool,
    /// The proxy's own listeners: a request to them would loop.
    own: Vec<SocketAddr>,
    connect_timeout: Duration,
}

/// The addresses a host resolved to, and whether an operator mapping chose them.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub addrs: Vec<SocketAddr>,
    pub mapped: bool,
}

impl Dialer {
    pub fn new(
        resolve: &[ResolveRule],
        refuse_internal: bool,
        own: Vec<SocketAddr>,
        connect_timeout: Duration,
    ) -> Dialer {
        Dialer {
            mappings: resolve
                .iter()
                .map(|r| ((r.host.clone(), r.port), r.to))
                .collect(),
            refuse_internal,
            own,
            connect_timeout,
        }
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Resolves `host:port` and checks each address against the rules. A
    /// `--resolve` mapping is the operator's explicit choice and is not refused
    /// for being internal (but is still refused if it points at the proxy itself).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Resolved, DialError> {
        if let Some(to) = self.mappings.get(&(host.to_string(), port)) {
            self.check_own(*to)?;
            return Ok(Resolved {
                addrs: vec![*to],
                mapped: true,
            });
        }
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => {
                let lookup = tokio::net::lookup_host((host, port));
                match tokio::time::timeout(self.connect_timeout, lookup).await {
                    Ok(Ok(it)) => it.collect(),
                    Ok(Err(source)) => {
                        return Err(DialError::Dns {
                            host: host.to_string(),
                            source,
                        })
                    }
                    Err(_) => {
                        return Err(DialError::Timeout {
                            host: host.to_string(),
                            port,
                            timeout: self.connect_timeout,
                        })
                    }
                }
            }
        };
        if addrs.is_empty() {
            return Err(DialError::NoAddress {
                host: host.to_string(),
            });
        }
        for a in &addrs {
            self.check_own(*a)?;
            if self.refuse_internal {
                if let Some(why) = internal_reason(a.ip()) {
                    return Err(DialError::Refused {
                        addr: a.to_string(),
                        why,
                    });
                }
            }
        }
        Ok(Resolved {
            addrs,
            mapped: false,
        })
    }

    fn check_own(&self, a: SocketAddr) -> Result<(), DialError> {
        let loops = self.own.iter().any(|own| {
            own.port() == a.port()
                && (own.ip() == a.ip()
                    || (own.ip().is_unspecified()
                        && (a.ip().is_loopback() || a.ip().is_unspecified()))
                    || (own.ip().is_loopback() && a.ip().is_unspecified()))
        });
        if loops {
            return Err(DialError::Refused {
                addr: a.to_string(),
                why: "it is this proxy's own listener",
            });
        }
        Ok(())
    }

    /// Resolves and connects, trying each address in turn within the connect timeout.
    pub async fn connect(&self, host: &str, port: u16) -> Result<(TcpStream, Resolved), DialError> {
        let resolved = self.resolve(host, port).await?;
        let attempt = async {
            let mut last = None;
            for a in &resolved.addrs {
                match TcpStream::connect(a).await {
                    Ok(s) => {
                        // Small request heads and TLS records should not wait for Nagle.
                        let _ = s.set_nodelay(true);
                        return Ok(s);
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| io::Error::other("no address")))
        };
        match tokio::time::timeout(self.connect_timeout, attempt).await {
            Ok(Ok(s)) => Ok((s, resolved)),
            Ok(Err(source)) => Err(DialError::Connect {
                host: host.to_string(),
                port,
                source,
            }),
            Err(_) => Err(DialError::Timeout {
                host: host.to_string(),
                port,
                timeout: self.connect_timeout,
            }),
        }
    }
}

/// Why an address must not be reached through the proxy by default, if it must not.
pub fn internal_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_reason(v4);
            }
            if v6.is_loopback() {
                Some("loopback address")
            } else if v6.is_unspecified() {
                Some("unspecified address")
            } else if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                Some("link-local address")
            } else if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                Some("cloud metadata address")
            } else {
                None
            }
        }
    }
}

fn v4_reason(v4: Ipv4Addr) -> Option<&'static str> {
    if v4.is_loopback() {
        Some("loopback address")
    } else if v4.is_unspecified() || v4.octets()[0] == 0 {
        Some("unspecified address")
    } else if v4 == Ipv4Addr::new(169, 254, 169, 254) || v4 == Ipv4Addr::new(100, 100, 100, 200) {
        // AWS/GCP/Azure, and Alibaba Cloud's instance metadata service.
        Some("cloud metadata address")
    } else if v4.is_link_local() {
        Some("link-local address")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        let cases: &[(&str, bool)] = &[
            ("127.0.0.1", true),
            ("127.9.9.9", true),
            ("::1", true),
            ("0.0.0.0", true),
            ("169.254.169.254", true),
            ("100.100.100.200", true),
            ("169.254.1.1", true),
            ("fe80::1", true),
            ("::ffff:127.0.0.1", true),
            ("fd00:ec2::254", true),
            ("10.1.2.3", false),
            ("192.168.1.1", false),
            ("47.246.1.1", false),
            ("2001:db8::1", false),
        ];
        for (ip, want) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(internal_reason(ip).is_some(), *want, "{ip}");
        }
    }

    #[tokio::test]
    async fn mappings_win_and_loops_are_refused() {
        let own: SocketAddr = "127.0.0.1:3128".parse().unwrap();
        let rules = vec![
            "oapi.dingtalk.com:443:127.0.0.1:8443".parse().unwrap(),
            "loop.dingtalk.com:443:127.0.0.1:3128".parse().unwrap(),
        ];
        let d = Dialer::new(&rules, true, vec![own], Duration::from_secs(1));
        let r = d.resolve("oapi.dingtalk.com", 443).await.unwrap();
        assert!(r.mapped);
        assert_eq!(r.addrs, vec!["127.0.0.1:8443".parse().unwrap()]);
        assert!(matches!(
            d.resolve("loop.dingtalk.com", 443).await,
            Err(DialError::Refused { .. })
        ));
        assert!(matches!(
            d.resolve("127.0.0.1", 80).await,
            Err(DialError::Refused { .. })
        ));
        assert!(matches!(
            d.resolve("169.254.169.254", 80).await,
            Err(DialError::Refused { .. })
        ));
    }
}
