//! Who may use the proxy: the client address ACL and optional Basic proxy authentication.

use std::net::IpAddr;

use base64::Engine as _;
use ipnet::IpNet;

use crate::config::AuthConfig;

/// Client address ranges allowed to connect.
#[derive(Clone, Debug)]
pub struct Acl {
    allow: Vec<IpNet>,
}

impl Acl {
    pub fn new(allow: &[IpNet]) -> Acl {
        Acl {
            allow: allow.to_vec(),
        }
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        // A v4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.allow.iter().any(|n| n.contains(&ip))
    }
}

/// Basic proxy authentication against SHA-256 password digests.
#[derive(Clone)]
pub struct ProxyAuth {
    realm: String,
    users: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for ProxyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyAuth")
            .field("realm", &self.realm)
            .field("users", &self.users.len())
            .finish()
    }
}

/// Why a request was not authenticated; the name is safe to log, never the password.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Rejected { user: String },
}

impl ProxyAuth {
    /// Built from a validated config: digests are 64 hex digits.
    pub fn new(cfg: &AuthConfig) -> ProxyAuth {
        let users = cfg
            .users
            .iter()
            .map(|u| {
                let mut d = [0u8; 32];
                for (i, chunk) in u.password_sha256.as_bytes().chunks(2).take(32).enumerate() {
                    let hex = std::str::from_utf8(chunk).unwrap_or("00");
                    d[i] = u8::from_str_radix(hex, 16).unwrap_or(0);
                }
                (u.name.clone(), d)
            })
            .collect();
        ProxyAuth {
            realm: cfg.realm.clone(),
            users,
        }
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Checks a `Proxy-Authorization` header value; returns the user name.
    pub fn check(&self, header: Option<&[u8]>) -> Result<String, AuthFailure> {
        let h = header.ok_or(AuthFailure::Missing)?;
        let h = std::str::from_utf8(h).map_err(|_| AuthFailure::Malformed)?;
        let (scheme, cred) = h.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(AuthFailure::Malformed);
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(cred.trim())
            .map_err(|_| AuthFailure::Malformed)?;
        let raw = String::from_utf8(raw).map_err(|_| AuthFailure::Malformed)?;
        let (user, pass) = raw.split_once(':').ok_or(AuthFailure::Malformed)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, pass.as_bytes());
        // Compare every user's digest in full so timing says nothing about which
        // byte differed or whether the name exists.
        let mut found = false;
        for (name, want) in &self.users {
            let same_pass = want
                .iter()
                .zip(digest.as_ref())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
            found |= same_pass && name == user;
        }
        if found {
            Ok(user.to_string())
        } else {
            Err(AuthFailure::Rejected {
                user: user.chars().take(64).collect(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UserConfig;

    fn sha_hex(s: &str) -> String {
        ring::digest::digest(&ring::digest::SHA256, s.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn acl() {
        let acl = Acl::new(&[
            "127.0.0.0/8".parse().unwrap(),
            "10.20.0.0/16".parse().unwrap(),
        ]);
        assert!(acl.permits("127.0.0.1".parse().unwrap()));
        assert!(acl.permits("10.20.3.4".parse().unwrap()));
        assert!(acl.permits("::ffff:10.20.3.4".parse().unwrap()));
        assert!(!acl.permits("10.21.0.1".parse().unwrap()));
        assert!(!acl.permits("::1".parse().unwrap()));
    }

    #[test]
    fn basic_auth() {
        let auth = ProxyAuth::new(&AuthConfig {
            realm: "r".into(),
            users: vec![UserConfig {
                name: "alice".into(),
                password_sha256: sha_hex("s3cret"),
            }],
        });
        let b64 = |s: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(s)
            )
        };
        assert_eq!(
            auth.check(Some(b64("alice:s3cret").as_bytes())),
            Ok("alice".into())
        );
        assert_eq!(auth.check(None), Err(AuthFailure::Missing));
        assert_eq!(auth.check(Some(b"Bearer x")), Err(AuthFailure::Malformed));
        assert_eq!(auth.check(Some(b"Basic !!!")), Err(AuthFailure::Malformed));
        assert!(matches!(
            auth.check(Some(b64("alice:wrong").as_bytes())),
            Err(AuthFailure::Rejected { .. })
        ));
        assert!(matches!(
            auth.check(Some(b64("bob:s3cret").as_bytes())),
            Err(AuthFailure::Rejected { .. })
        ));
    }
}
