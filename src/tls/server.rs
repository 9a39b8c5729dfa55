//! The client-facing TLS config: a minted leaf, ALPN `h2` then `http/1.1` (what hyper-util's auto
//! server speaks), TLS 1.2 and 1.3 with the ring provider.
//!
//! The caller picks the host before the handshake (tokio-rustls' `LazyConfigAcceptor` yields the
//! ClientHello; use its SNI, else the CONNECT host), then gets the per-host config from
//! [`super::LeafCache`], which builds it once per leaf so session resumption state is kept per host.

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use super::{provider, TlsError};

/// ALPN ids offered to clients, in server preference order.
pub const SERVER_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A server config presenting `key` whatever the client asks for.
pub fn server_config(key: Arc<CertifiedKey>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedLeaf(key)));
    cfg.alpn_protocols = SERVER_ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(cfg))
}

/// The leaf was chosen from the SNI before the handshake began, so resolving is just handing it out.
#[derive(Debug)]
struct FixedLeaf(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedLeaf {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{client_trusting, dingtalk_ca, handshake};
    use super::*;

    struct Case {
        name: &'static str,
        client_alpn: &'static [&'static [u8]],
        want: Option<&'static [u8]>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "h2 preferred",
            client_alpn: &[b"http/1.1", b"h2"],
            want: Some(b"h2"),
        },
        Case {
            name: "http/1.1 only",
            client_alpn: &[b"http/1.1"],
            want: Some(b"http/1.1"),
        },
        Case {
            name: "no alpn",
            client_alpn: &[],
            want: None,
        },
    ];

    #[tokio::test]
    async fn handshake_negotiates_alpn_and_verifies_the_minted_leaf() {
        let ca = dingtalk_ca();
        let server = server_config(ca.mint("x.dingtalk.com").expect("mint")).expect("config");
        for case in CASES {
            let client = client_trusting(ca.cert_der(), case.client_alpn);
            let alpn = handshake(client, Arc::clone(&server), "x.dingtalk.com")
                .await
                .unwrap_or_else(|e| panic!("case {}: {e}", case.name));
            assert_eq!(alpn.as_deref(), case.want, "case {}", case.name);
        }
    }

    #[tokio::test]
    async fn handshake_for_another_name_fails() {
        let ca = dingtalk_ca();
        let server = server_config(ca.mint("x.dingtalk.com").expect("mint")).expect("config");
        let client = client_trusting(ca.cert_der(), &[b"h2"]);
        let err = handshake(client, server, "y.dingtalk.com")
            .await
            .expect_err("wrong name");
        assert!(err.to_string().contains("not valid for name"), "{err}");
    }
}
