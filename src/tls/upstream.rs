//! The upstream side: a rustls client trusting the web roots plus the operator's `--upstream-ca`
//! files, with full certificate verification (rustls' `WebPkiServerVerifier`), and short human
//! reasons for handshakes that fail, for the 502 body and the audit record.
//!
//! The two configs are built once and shared: each keeps its own session-resumption cache, which
//! pooled and repeated upstream connections reuse.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, ClientConfig, RootCertStore};

use super::{provider, truncate_for_message, TlsError};

/// A root bundle is at most a few hundred kilobytes; the cap keeps a wrong path from being read whole.
const MAX_ROOT_FILE_BYTES: u64 = 16 << 20;

/// Which application protocols to offer upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alpn {
    /// `h2`, then `http/1.1`: ordinary requests.
    H2Http1,
    /// `http/1.1` only: for `Upgrade` (WebSocket), which h2 cannot carry the same way.
    Http1Only,
}

#[derive(Debug, Clone)]
pub struct UpstreamTls {
    h2_http1: Arc<ClientConfig>,
    http1: Arc<ClientConfig>,
    root_count: usize,
}

impl UpstreamTls {
    /// Trusts `webpki-roots` (when `use_web_roots`) plus every certificate in each PEM file.
    pub fn new(
        extra_root_pem_files: &[PathBuf],
        use_web_roots: bool,
    ) -> Result<UpstreamTls, TlsError> {
        let mut roots = RootCertStore::empty();
        if use_web_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for path in extra_root_pem_files {
            add_pem_roots(&mut roots, path)?;
        }
        if roots.is_empty() {
            return Err(TlsError::NoRoots);
        }
        let root_count = roots.len();
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider()).build()?;
        let build = |alpn: &[&[u8]]| -> Result<Arc<ClientConfig>, TlsError> {
            let mut cfg = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()?
                .with_webpki_verifier(Arc::clone(&verifier))
                .with_no_client_auth();
            cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(Arc::new(cfg))
        };
        Ok(UpstreamTls {
            h2_http1: build(&[b"h2", b"http/1.1"])?,
            http1: build(&[b"http/1.1"])?,
            root_count,
        })
    }

    /// The shared client config for `alpn`.
    pub fn client_config(&self, alpn: Alpn) -> Arc<ClientConfig> {
        match alpn {
            Alpn::H2Http1 => Arc::clone(&self.h2_http1),
            Alpn::Http1Only => Arc::clone(&self.http1),
        }
    }

    /// How many trust anchors were loaded (for the start-up log line).
    pub fn root_count(&self) -> usize {
        self.root_count
    }
}

fn add_pem_roots(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsError> {
    let mut pem = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(MAX_ROOT_FILE_BYTES).read_to_end(&mut pem))
        .map_err(|source| TlsError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
    let mut added = 0;
    for (index, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let bad = |reason: String| TlsError::BadRoot {
            path: path.to_owned(),
            index,
            reason,
        };
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
        added += 1;
    }
    if added == 0 {
        return Err(TlsError::NoRootsInFile {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// A short reason for a failed upstream TLS connection, e.g. `certificate not trusted (UnknownIssuer)`.
/// Names in it come from certificates and are truncated; nothing else from the peer is echoed.
pub fn describe_verify_error(e: &std::io::Error) -> String {
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "connection closed during the TLS handshake".to_owned()
            }
            std::io::ErrorKind::ConnectionReset => {
                "connection reset during the TLS handshake".to_owned()
            }
            std::io::ErrorKind::TimedOut => "TLS handshake timed out".to_owned(),
            kind => format!("TLS handshake failed ({kind})"),
        };
    };
    match tls {
        rustls::Error::InvalidCertificate(cert) => describe_certificate_error(cert),
        rustls::Error::AlertReceived(alert) => {
            format!("upstream refused the handshake (alert {alert:?})")
        }
        rustls::Error::NoApplicationProtocol => "upstream speaks none of h2, http/1.1".to_owned(),
        rustls::Error::PeerIncompatible(why) => format!("upstream TLS is incompatible ({why:?})"),
        rustls::Error::NoCertificatesPresented => "upstream presented no certificate".to_owned(),
        other => format!(
            "TLS handshake failed ({})",
            truncate_for_message(&other.to_string())
        ),
    }
}

fn describe_certificate_error(e: &CertificateError) -> String {
    match e {
        CertificateError::UnknownIssuer => "certificate not trusted (UnknownIssuer)".to_owned(),
        CertificateError::NotValidForName => {
            "certificate is not valid for the requested name".to_owned()
        }
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let expected = truncate_for_message(&expected.to_str());
            let presented = truncate_for_message(&presented.join(", "));
            format!("certificate is not valid for name {expected} (it names {presented})")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate expired".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate not valid yet (check the clock)".to_owned()
        }
        CertificateError::Revoked => "certificate revoked".to_owned(),
        CertificateError::BadSignature => "certificate has a bad signature".to_owned(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "certificate is not for server authentication".to_owned()
        }
        other => format!(
            "invalid certificate ({})",
            truncate_for_message(&format!("{other:?}"))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::ca::{CaOptions, CertAuthority};
    use super::super::server::server_config;
    use super::super::testutil::{dingtalk_ca, handshake};
    use super::*;

    fn write_pem(dir: &Path, ca: &CertAuthority) -> PathBuf {
        let path = dir.join("upstream-ca.pem");
        fs::write(&path, ca.cert_pem()).expect("write");
        path
    }

    #[tokio::test]
    async fn untrusted_wrong_name_and_trusted_upstreams() {
        let origin_ca = dingtalk_ca();
        let server =
            server_config(origin_ca.mint("oapi.dingtalk.com").expect("mint")).expect("server");
        let tmp = tempfile::tempdir().expect("tempdir");
        let trusted =
            UpstreamTls::new(&[write_pem(tmp.path(), &origin_ca)], true).expect("trusted");
        let web_only = UpstreamTls::new(&[], true).expect("web roots");
        assert!(web_only.root_count() > 50);
        assert_eq!(trusted.root_count(), web_only.root_count() + 1);

        struct Case {
            name: &'static str,
            tls: UpstreamTls,
            alpn: Alpn,
            host: &'static str,
            want: Result<Option<&'static [u8]>, &'static str>,
        }
        let cases = [
            Case {
                name: "untrusted CA",
                tls: web_only,
                alpn: Alpn::H2Http1,
                host: "oapi.dingtalk.com",
                want: Err("not trusted"),
            },
            Case {
                name: "wrong name",
                tls: trusted.clone(),
                alpn: Alpn::H2Http1,
                host: "api.dingtalk.com",
                want: Err("not valid for name api.dingtalk.com"),
            },
            Case {
                name: "trusted h2",
                tls: trusted.clone(),
                alpn: Alpn::H2Http1,
                host: "oapi.dingtalk.com",
                want: Ok(Some(b"h2")),
            },
            Case {
                name: "trusted http1 only",
                tls: trusted,
                alpn: Alpn::Http1Only,
                host: "oapi.dingtalk.com",
                want: Ok(Some(b"http/1.1")),
            },
        ];
        for case in cases {
            let got = handshake(
                case.tls.client_config(case.alpn),
                Arc::clone(&server),
                case.host,
            )
            .await;
            match (got, case.want) {
                (Ok(alpn), Ok(want)) => assert_eq!(alpn.as_deref(), want, "case {}", case.name),
                (Err(e), Err(want)) => {
                    let reason = describe_verify_error(&e);
                    assert!(reason.contains(want), "case {}: {reason}", case.name);
                }
                (got, want) => panic!("case {}: got {got:?}, want {want:?}", case.name),
            }
        }
    }

    #[test]
    fn root_file_errors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let empty = tmp.path().join("empty.pem");
        fs::write(&empty, "no certificates here").expect("write");
        let missing = tmp.path().join("missing.pem");
        assert!(matches!(
            UpstreamTls::new(&[empty], true),
            Err(TlsError::NoRootsInFile { .. })
        ));
        assert!(matches!(
            UpstreamTls::new(&[missing], true),
            Err(TlsError::Io { .. })
        ));
        assert!(matches!(
            UpstreamTls::new(&[], false),
            Err(TlsError::NoRoots)
        ));
        let only_extra = UpstreamTls::new(
            &[write_pem(
                tmp.path(),
                &CertAuthority::generate(&CaOptions::default()).expect("ca"),
            )],
            false,
        )
        .expect("extra only");
        assert_eq!(only_extra.root_count(), 1);
    }

    #[test]
    fn non_tls_errors_have_plain_reasons() {
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(
            describe_verify_error(&eof),
            "connection closed during the TLS handshake"
        );
        let expired = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::Expired),
        );
        assert_eq!(describe_verify_error(&expired), "certificate expired");
    }
}
