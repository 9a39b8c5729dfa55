//! The local certificate authority: generating it, reading it back from PEM, and what it may sign.
//! Writing and loading the files (`sluice ca init`, first start) lives in [`super::store`].

use std::fmt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::constraints::{self, Constraints};
use super::host::LeafHost;
use super::mint::random_serial;
use super::TlsError;

/// File name of the CA certificate inside the CA directory.
pub const CA_CERT_FILE: &str = "sluice-ca.pem";
/// File name of the CA private key inside the CA directory (mode 0600).
pub const CA_KEY_FILE: &str = "sluice-ca.key";

/// A new CA lives long enough to be installed once on a laptop; leaves are what stay short-lived.
const CA_LIFETIME: Duration = Duration::days(3650);
/// Backdating absorbs clients whose clocks run behind.
const CA_BACKDATE: Duration = Duration::days(1);

/// How to make a new CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaOptions {
    /// Permitted DNS subtrees: `dingtalk.com`, `*.dingtalk.com` and `.dingtalk.com` all permit the
    /// domain and its subdomains. Empty = an unconstrained CA (no NameConstraints extension).
    pub name_constraints: Vec<String>,
    /// IP ranges the CA may sign for. Empty (with DNS constraints) = no IP address at all.
    pub ip_constraints: Vec<ipnet::IpNet>,
    /// Subject CN, what users see in their trust store.
    pub common_name: String,
}

impl Default for CaOptions {
    fn default() -> Self {
        CaOptions {
            name_constraints: Vec::new(),
            ip_constraints: Vec::new(),
            common_name: "sluice local interception CA".to_owned(),
        }
    }
}

/// Where `init` wrote the CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The CA certificate and its signing key. `Debug` never prints the key.
pub struct CertAuthority {
    pub(crate) issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    not_after: OffsetDateTime,
    constraints: Constraints,
}

impl fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertAuthority")
            .field("not_after", &self.not_after)
            .field("constraints", &self.constraints)
            .field("key", &"[elided]")
            .finish()
    }
}

impl CertAuthority {
    /// Makes a new ECDSA P-256 CA, path length 0, name-constrained as `opts` says. Nothing is written.
    pub fn generate(opts: &CaOptions) -> Result<CertAuthority, TlsError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, opts.common_name.as_str());
        dn.push(DnType::OrganizationName, "sluice");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.name_constraints = constraints::build(opts)?;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - CA_BACKDATE;
        params.not_after = now + CA_LIFETIME;
        params.serial_number = Some(random_serial()?);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.self_signed(&key)?;
        // Reading our own output back keeps one code path for fresh and loaded CAs.
        CertAuthority::from_pem(
            cert.pem(),
            key,
            Path::new("<generated>"),
            Path::new("<generated>"),
        )
    }

    /// Builds the CA from its certificate PEM and key; the paths only label errors.
    pub(crate) fn from_pem(
        cert_pem: String,
        key: KeyPair,
        cert_path: &Path,
        key_path: &Path,
    ) -> Result<CertAuthority, TlsError> {
        let bad_cert = |reason: String| TlsError::BadCaCert {
            path: cert_path.to_owned(),
            reason,
        };
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| bad_cert(format!("no PEM certificate ({e})")))?;
        let (_, x509) = x509_parser::parse_x509_certificate(&cert_der)
            .map_err(|e| bad_cert(format!("cannot parse: {e}")))?;
        if !x509.is_ca() {
            return Err(bad_cert(
                "not a CA certificate (basicConstraints CA:FALSE or absent)".to_owned(),
            ));
        }
        if x509.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(TlsError::KeyMismatch {
                cert: cert_path.to_owned(),
                key: key_path.to_owned(),
            });
        }
        let not_after = x509.validity().not_after.to_datetime();
        let constraints = constraints::read(&x509).map_err(bad_cert)?;
        let issuer =
            Issuer::from_ca_cert_der(&cert_der, key).map_err(|e| bad_cert(e.to_string()))?;
        Ok(CertAuthority {
            issuer,
            cert_der,
            cert_pem,
            not_after,
            constraints,
        })
    }

    /// The CA certificate in PEM, to install in trust stores.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether this CA's name constraints allow a leaf for `host` (an SNI or CONNECT host without
    /// port). Lets the caller warn at start-up about intercepted domains the CA cannot serve.
    pub fn permits(&self, host: &str) -> bool {
        LeafHost::parse(host).is_ok_and(|h| self.constraints.permits(&h))
    }

    /// Whether the CA carries a NameConstraints extension at all.
    pub fn is_constrained(&self) -> bool {
        self.constraints.is_constrained()
    }

    /// The permitted DNS subtrees, as written in the certificate (empty when unconstrained).
    pub fn permitted_domains(&self) -> &[String] {
        self.constraints.permitted_dns()
    }

    pub(crate) fn constraints(&self) -> &Constraints {
        &self.constraints
    }

    /// The CA key in PKCS#8 PEM, only for writing the key file.
    pub(crate) fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }
}

#[cfg(test)]
mod tests {
    use x509_parser::extensions::{GeneralName, KeyUsage};

    use super::*;

    fn parse(ca: &CertAuthority) -> x509_parser::certificate::X509Certificate<'_> {
        x509_parser::parse_x509_certificate(ca.cert_der())
            .expect("parse")
            .1
    }

    #[test]
    fn constrained_ca_lists_permitted_subtrees_and_is_a_pathlen_0_ca() {
        let ca = CertAuthority::generate(&CaOptions {
            name_constraints: vec!["*.dingtalk.com".into(), "aliyuncs.com".into()],
            ..CaOptions::default()
        })
        .expect("generate");
        let x = parse(&ca);
        let bc = x.basic_constraints().expect("bc").expect("present").value;
        assert!(bc.ca);
        assert_eq!(bc.path_len_constraint, Some(0));
        let ku: &KeyUsage = x.key_usage().expect("ku").expect("present").value;
        assert!(ku.key_cert_sign() && ku.crl_sign());
        let nc = x.name_constraints().expect("nc").expect("present");
        assert!(nc.critical);
        let permitted: Vec<String> = nc
            .value
            .permitted_subtrees
            .iter()
            .flatten()
            .filter_map(|s| match s.base {
                GeneralName::DNSName(d) => Some(d.to_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(permitted, ["dingtalk.com", "aliyuncs.com"]);
        let excluded_ips = nc
            .value
            .excluded_subtrees
            .iter()
            .flatten()
            .filter(|s| matches!(s.base, GeneralName::IPAddress(b) if b.iter().all(|&x| x == 0)))
            .count();
        assert_eq!(excluded_ips, 2, "0.0.0.0/0 and ::/0 excluded");
        assert!(ca.is_constrained());
        assert_eq!(ca.permitted_domains(), ["dingtalk.com", "aliyuncs.com"]);
    }

    #[test]
    fn unconstrained_option_gives_no_extension() {
        let ca = CertAuthority::generate(&CaOptions::default()).expect("generate");
        assert!(parse(&ca).name_constraints().expect("nc").is_none());
        assert!(!ca.is_constrained());
        assert!(ca.permits("bank.example"));
    }

    #[test]
    fn ca_is_p256_and_long_lived() {
        let ca = CertAuthority::generate(&CaOptions::default()).expect("generate");
        let x = parse(&ca);
        assert_eq!(
            x.public_key().algorithm.algorithm,
            x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY
        );
        assert!(ca.not_after() > OffsetDateTime::now_utc() + Duration::days(3000));
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let ca = CertAuthority::generate(&CaOptions::default()).expect("generate");
        let debug = format!("{ca:?}");
        let pem = ca.key_pem();
        let body = pem.lines().nth(1).expect("pem body line");
        assert!(!debug.contains(body));
        assert!(!debug.contains("PRIVATE"));
    }

    #[test]
    fn mismatched_key_is_refused() {
        let ca = CertAuthority::generate(&CaOptions::default()).expect("generate");
        let other = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let err = CertAuthority::from_pem(
            ca.cert_pem().to_owned(),
            other,
            Path::new("c"),
            Path::new("k"),
        )
        .expect_err("mismatch");
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    }
}
