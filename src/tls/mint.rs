//! Leaf certificates: one per host, each with its own fresh P-256 key (never the CA's), valid for a
//! few days, backdated an hour for clock skew, and never past the CA's own expiry.

use std::sync::Arc;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use time::{Duration, OffsetDateTime};

use super::ca::CertAuthority;
use super::host::LeafHost;
use super::{provider, TlsError};

/// Short enough that a leaked leaf key is soon worthless; long enough to outlive any cache entry.
pub const LEAF_LIFETIME: Duration = Duration::days(4);
const LEAF_BACKDATE: Duration = Duration::hours(1);
/// X.520 caps a CN at 64 characters; longer names are carried by the SAN alone.
const MAX_CN_LEN: usize = 64;

/// A minted leaf and when it stops being valid (the cache expires entries well before that).
pub(crate) struct Minted {
    pub key: Arc<CertifiedKey>,
    pub not_after: OffsetDateTime,
}

impl CertAuthority {
    /// Mints a leaf for `host` (an SNI value, or the CONNECT host when there is no SNI), chained
    /// `[leaf, ca]`. Fails with [`TlsError::NotPermitted`] when the CA's name constraints forbid it.
    pub fn mint(&self, host: &str) -> Result<Arc<CertifiedKey>, TlsError> {
        Ok(self.mint_for(&LeafHost::parse(host)?)?.key)
    }

    pub(crate) fn mint_for(&self, host: &LeafHost) -> Result<Minted, TlsError> {
        if !self.constraints().permits(host) {
            return Err(TlsError::NotPermitted {
                host: host.to_string(),
            });
        }
        let now = OffsetDateTime::now_utc();
        if self.not_after() <= now + LEAF_BACKDATE {
            return Err(TlsError::CaExpired {
                not_after: self.not_after(),
            });
        }
        let not_after = (now + LEAF_LIFETIME).min(self.not_after());

        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "sluice");
        let san = match host {
            LeafHost::Dns(name) => {
                if name.len() <= MAX_CN_LEN {
                    dn.push(DnType::CommonName, name.as_str());
                }
                SanType::DnsName(name.as_str().try_into()?)
            }
            // No CN for IPs: some verifiers read a CN as a DNS name and test it against DNS constraints.
            LeafHost::Ip(ip) => SanType::IpAddress(*ip),
        };
        params.distinguished_name = dn;
        params.subject_alt_names = vec![san];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - LEAF_BACKDATE;
        params.not_after = not_after;
        params.serial_number = Some(random_serial()?);

        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&leaf_key, &self.issuer)?;
        let pkcs8 = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let signer = provider().key_provider.load_private_key(pkcs8)?;
        let chain = vec![cert.der().clone(), self.cert_der().clone()];
        Ok(Minted {
            key: Arc::new(CertifiedKey::new(chain, signer)),
            not_after,
        })
    }
}

/// 128 random bits, top bit clear so the DER INTEGER stays positive and 16 bytes long.
pub(crate) fn random_serial() -> Result<SerialNumber, TlsError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| TlsError::Rcgen(rcgen::Error::RingUnspecified))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use x509_parser::extensions::GeneralName;

    use super::super::ca::CaOptions;
    use super::super::testutil::{dingtalk_ca, verify_leaf};
    use super::*;

    fn leaf_x509(key: &CertifiedKey) -> x509_parser::certificate::X509Certificate<'_> {
        let der = key.cert.first().expect("leaf");
        x509_parser::parse_x509_certificate(der).expect("parse").1
    }

    #[test]
    fn leaf_has_its_own_key_san_eku_and_short_backdated_validity() {
        let ca = dingtalk_ca();
        let key = ca.mint("X.DingTalk.com").expect("mint");
        let leaf = leaf_x509(&key);
        let ca_x = x509_parser::parse_x509_certificate(ca.cert_der())
            .expect("ca")
            .1;
        assert_ne!(
            leaf.public_key().raw,
            ca_x.public_key().raw,
            "leaf key must not be the CA key"
        );
        assert_eq!(leaf.issuer(), ca_x.subject());

        let san = leaf
            .subject_alternative_name()
            .expect("san")
            .expect("present");
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect();
        assert_eq!(
            names,
            [format!("{:?}", GeneralName::DNSName("x.dingtalk.com"))]
        );
        let eku = leaf
            .extended_key_usage()
            .expect("eku")
            .expect("present")
            .value;
        assert!(eku.server_auth);
        assert!(!leaf.is_ca());

        let now = OffsetDateTime::now_utc();
        let v = leaf.validity();
        assert!(v.not_before.to_datetime() < now - Duration::minutes(30));
        let remaining = v.not_after.to_datetime() - now;
        assert!(
            remaining > Duration::days(2) && remaining <= LEAF_LIFETIME,
            "{remaining}"
        );
        assert_eq!(key.cert.get(1), Some(ca.cert_der()));
        key.keys_match().expect("leaf key matches leaf cert");
    }

    #[test]
    fn every_leaf_gets_a_fresh_key_and_serial() {
        let ca = dingtalk_ca();
        let a = ca.mint("a.dingtalk.com").expect("a");
        let b = ca.mint("a.dingtalk.com").expect("b");
        let (xa, xb) = (leaf_x509(&a), leaf_x509(&b));
        assert_ne!(xa.public_key().raw, xb.public_key().raw);
        assert_ne!(xa.raw_serial(), xb.raw_serial());
    }

    #[test]
    fn leaf_verifies_for_its_name_and_not_for_another() {
        let ca = dingtalk_ca();
        let key = ca.mint("oapi.dingtalk.com").expect("mint");
        verify_leaf(ca.cert_der(), &key, "oapi.dingtalk.com").expect("valid for its name");
        let err = verify_leaf(ca.cert_der(), &key, "api.dingtalk.com").expect_err("other name");
        assert!(format!("{err:?}").contains("NotValidForName"), "{err:?}");
    }

    #[test]
    fn ip_leaf_has_an_ip_san_when_the_ca_permits_the_range() {
        let ca = CertAuthority::generate(&CaOptions {
            name_constraints: vec!["dingtalk.com".into()],
            ip_constraints: vec!["127.0.0.0/8".parse().expect("net")],
            ..CaOptions::default()
        })
        .expect("ca");
        let key = ca.mint("127.0.0.1").expect("mint");
        let leaf = leaf_x509(&key);
        let san = leaf
            .subject_alternative_name()
            .expect("san")
            .expect("present");
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        assert!(san
            .value
            .general_names
            .iter()
            .any(|n| matches!(n, GeneralName::IPAddress(b) if *b == [127, 0, 0, 1])));
        verify_leaf(ca.cert_der(), &key, &ip.to_string()).expect("verifies for the IP");
    }

    #[test]
    fn constrained_ca_refuses_hosts_outside_its_subtrees() {
        let ca = dingtalk_ca();
        for host in ["bank.example", "10.0.0.1", "evildingtalk.com"] {
            let err = ca.mint(host).map(|_| ()).expect_err(host);
            assert!(
                matches!(err, TlsError::NotPermitted { .. }),
                "{host}: {err}"
            );
        }
    }

    #[test]
    fn unconstrained_ca_leaf_for_outside_name_verifies() {
        let ca = CertAuthority::generate(&CaOptions::default()).expect("ca");
        let key = ca.mint("bank.example").expect("mint");
        verify_leaf(ca.cert_der(), &key, "bank.example").expect("verifies");
    }

    #[test]
    fn verifier_rejects_a_leaf_outside_the_constraints_even_if_forced() {
        // Sign directly with the CA's issuer, bypassing `permits`, to prove the constraint is in the
        // certificate and enforced by clients, not only by our check.
        let ca = dingtalk_ca();
        let mut params = CertificateParams::new(vec!["bank.example".to_owned()]).expect("params");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let cert = params.signed_by(&key, &ca.issuer).expect("sign");
        let pkcs8 = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = provider()
            .key_provider
            .load_private_key(pkcs8)
            .expect("signer");
        let forced = CertifiedKey::new(vec![cert.der().clone(), ca.cert_der().clone()], signer);
        let err =
            verify_leaf(ca.cert_der(), &forced, "bank.example").expect_err("constraint enforced");
        assert!(format!("{err:?}").contains("NameConstraint"), "{err:?}");
    }
}
