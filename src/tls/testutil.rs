//! Test helpers shared by this module's unit tests: a DingTalk-constrained CA, chain verification
//! against a root store holding only that CA, and a TLS handshake over an in-memory duplex pipe.

use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ca::{CaOptions, CertAuthority};
use super::provider;

pub(crate) fn dingtalk_ca() -> CertAuthority {
    CertAuthority::generate(&CaOptions {
        name_constraints: vec!["*.dingtalk.com".into()],
        ..CaOptions::default()
    })
    .expect("generate CA")
}

pub(crate) fn roots_with(ca: &CertificateDer<'static>) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).expect("add root");
    Arc::new(roots)
}

/// Verifies `key`'s chain for `name` the way a rustls client trusting only `ca` would.
pub(crate) fn verify_leaf(
    ca: &CertificateDer<'static>,
    key: &CertifiedKey,
    name: &str,
) -> Result<(), rustls::Error> {
    let verifier = WebPkiServerVerifier::builder_with_provider(roots_with(ca), provider())
        .build()
        .expect("verifier");
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    let (leaf, rest) = key.cert.split_first().expect("non-empty chain");
    verifier
        .verify_server_cert(leaf, rest, &name, &[], UnixTime::now())
        .map(drop)
}

/// A client config trusting only `ca`, offering `alpn`.
pub(crate) fn client_trusting(ca: &CertificateDer<'static>, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots_with(ca))
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

/// Runs a handshake between `client` (connecting to `name`) and `server` over a duplex pipe, then
/// echoes one message. Returns the ALPN the client saw, or the client's handshake error.
pub(crate) async fn handshake(
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    name: &str,
) -> Result<Option<Vec<u8>>, std::io::Error> {
    let (c_io, s_io) = tokio::io::duplex(64 * 1024);
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    let server_side = async move {
        let mut tls = tokio_rustls::TlsAcceptor::from(server).accept(s_io).await?;
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await?;
        tls.write_all(&buf).await?;
        tls.shutdown().await?;
        Ok::<_, std::io::Error>(())
    };
    let client_side = async move {
        let mut tls = tokio_rustls::TlsConnector::from(client)
            .connect(name, c_io)
            .await?;
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        tls.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ping");
        Ok::<_, std::io::Error>(alpn)
    };
    let (client_result, _server_result) = tokio::join!(client_side, server_side);
    client_result
}
