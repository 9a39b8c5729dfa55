//! The shipped regions table and default policy on representative requests.

use std::net::IpAddr;

use super::*;

#[test]
fn shipped_regions_for_every_host_form() {
    let p = default_policy();
    let cases: &[(&str, &str, &str, DestinationSource)] = &[
        (
            "api.dingtalk.com",
            "unknown",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "oapi.dingtalk.com",
            "unknown",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "dingtalk.com",
            "unknown",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "eco.taobao.com",
            "unknown",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "oapi.dingtalk.io",
            "ap-southeast-1",
            "singapore",
            DestinationSource::Host,
        ),
        (
            "api.dingtalk.io",
            "ap-southeast-1",
            "singapore",
            DestinationSource::Host,
        ),
        (
            "zjk-dualstack.trans.dingtalk.com",
            "cn-zhangjiakou",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "zjk-cdn-trans.trans.dingtalk.com",
            "cn-zhangjiakou",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "sh-cdn-trans.trans.dingtalk.com",
            "cn-shanghai",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "sh-dualstack.trans.dingtalk.com",
            "cn-shanghai",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "sz-cdn-trans.trans.dingtalk.com",
            "cn-shenzhen",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "xx-new.trans.dingtalk.com",
            "unknown",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "alidocs.oss-cn-zhangjiakou.aliyuncs.com",
            "cn-zhangjiakou",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "oss-cn-hongkong-internal.aliyuncs.com",
            "cn-hongkong",
            "hong-kong",
            DestinationSource::Host,
        ),
        (
            "bucket.oss-cn-hongkong-internal.aliyuncs.com",
            "cn-hongkong",
            "hong-kong",
            DestinationSource::Host,
        ),
        (
            "cn-shanghai.oss.aliyuncs.com",
            "cn-shanghai",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "bucket.cn-shanghai.oss.aliyuncs.com",
            "cn-shanghai",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "oss-ap-southeast-1.aliyuncs.com",
            "ap-southeast-1",
            "singapore",
            DestinationSource::Host,
        ),
        (
            "oss-cn-hangzhou.aliyuncs.com",
            "cn-hangzhou",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "adash-emas.cn-hangzhou.aliyuncs.com",
            "cn-hangzhou",
            "mainland-china",
            DestinationSource::Host,
        ),
        (
            "oss-accelerate.aliyuncs.com",
            "unknown",
            "unknown",
            DestinationSource::Host,
        ),
        (
            "oss-accelerate-overseas.aliyuncs.com",
            "unknown",
            "unknown",
            DestinationSource::Host,
        ),
        (
            "bucket.oss-accelerate.aliyuncs.com",
            "unknown",
            "unknown",
            DestinationSource::Host,
        ),
        (
            "oss-cn-atlantis.aliyuncs.com",
            "unknown",
            "unknown",
            DestinationSource::Unknown,
        ),
        (
            "example.com",
            "unknown",
            "unknown",
            DestinationSource::Unknown,
        ),
        (
            "evildingtalk.com",
            "unknown",
            "unknown",
            DestinationSource::Unknown,
        ),
    ];
    for &(host, region, jurisdiction, source) in cases {
        let d = dest_of(&p, &RequestMeta::new("PUT", host, "/x"));
        assert_eq!(
            (d.region.as_str(), d.jurisdiction.as_str(), d.source),
            (region, jurisdiction, source),
            "host {host}"
        );
    }
}

#[test]
fn cidr_fallback_with_resolved_address() {
    let mut r = regions_cfg();
    r.cidrs = vec![
        CidrConfig {
            net: "47.92.0.0/14".into(),
            region: Some("cn-zhangjiakou".into()),
            jurisdiction: None,
        },
        CidrConfig {
            net: "47.92.1.0/24".into(),
            region: Some("cn-hongkong".into()),
            jurisdiction: None,
        },
        CidrConfig {
            net: "2408:4000::/22".into(),
            region: None,
            jurisdiction: Some("mainland-china".into()),
        },
    ];
    let p = build(&policy_cfg(), &r);
    let cases: &[(&str, &str, &str, &str, DestinationSource)] = &[
        (
            "example.com",
            "47.93.10.1",
            "cn-zhangjiakou",
            "mainland-china",
            DestinationSource::Cidr,
        ),
        (
            "example.com",
            "47.92.1.7",
            "cn-hongkong",
            "hong-kong",
            DestinationSource::Cidr,
        ),
        (
            "example.com",
            "2408:4001::1",
            "unknown",
            "mainland-china",
            DestinationSource::Cidr,
        ),
        (
            "example.com",
            "8.8.8.8",
            "unknown",
            "unknown",
            DestinationSource::Unknown,
        ),
        // A known host is not second-guessed by its address.
        (
            "oapi.dingtalk.io",
            "47.93.10.1",
            "ap-southeast-1",
            "singapore",
            DestinationSource::Host,
        ),
        // A host known only as "unknown" is refined by its address.
        (
            "oss-accelerate.aliyuncs.com",
            "47.93.10.1",
            "cn-zhangjiakou",
            "mainland-china",
            DestinationSource::Cidr,
        ),
    ];
    for ip_host in ["47.93.10.1", "[2408:4001::1]"] {
        let d = dest_of(&p, &RequestMeta::new("PUT", ip_host, "/"));
        assert_eq!(
            (d.jurisdiction.as_str(), d.source),
            ("mainland-china", DestinationSource::Cidr),
            "{ip_host}"
        );
    }
    for &(host, ip, region, jurisdiction, source) in cases {
        let mut m = RequestMeta::new("PUT", host, "/");
        m.resolved = Some(ip.parse::<IpAddr>().unwrap_or_else(|e| panic!("{ip}: {e}")));
        let d = dest_of(&p, &m);
        assert_eq!(
            (d.region.as_str(), d.jurisdiction.as_str(), d.source),
            (region, jurisdiction, source),
            "{host} at {ip}"
        );
    }
}

struct Case {
    name: &'static str,
    method: &'static str,
    host: &'static str,
    findings: Findings,
    action: Action,
    rule: Option<&'static str>,
}

#[test]
fn shipped_default_policy() {
    let p = default_policy();
    let cases = [
        Case {
            name: "hkids to mainland",
            method: "POST",
            host: "oapi.dingtalk.com",
            findings: findings(&[(Class::HkId, 3)]),
            action: Action::Block,
            rule: Some("sensitive-to-mainland"),
        },
        Case {
            name: "health to mainland",
            method: "PUT",
            host: "zjk-dualstack.trans.dingtalk.com",
            findings: findings(&[(Class::Health, 1)]),
            action: Action::Block,
            rule: Some("sensitive-to-mainland"),
        },
        Case {
            name: "card to mainland oss",
            method: "PUT",
            host: "alidocs.oss-cn-zhangjiakou.aliyuncs.com",
            findings: findings(&[(Class::PaymentCard, 1)]),
            action: Action::Block,
            rule: Some("sensitive-to-mainland"),
        },
        Case {
            name: "hkids to international",
            method: "POST",
            host: "oapi.dingtalk.io",
            findings: findings(&[(Class::HkId, 3)]),
            action: Action::Audit,
            rule: Some("sensitive-abroad-audited"),
        },
        Case {
            name: "25 phones to mainland",
            method: "POST",
            host: "api.dingtalk.com",
            findings: findings(&[(Class::Phone, 25)]),
            action: Action::Block,
            rule: Some("customer-list-to-mainland"),
        },
        Case {
            name: "12 phones 8 emails to mainland",
            method: "POST",
            host: "api.dingtalk.com",
            findings: findings(&[(Class::Phone, 12), (Class::Email, 8)]),
            action: Action::Block,
            rule: Some("customer-list-to-mainland"),
        },
        Case {
            name: "3 phones to mainland",
            method: "POST",
            host: "api.dingtalk.com",
            findings: findings(&[(Class::Phone, 3)]),
            action: Action::Allow,
            rule: None,
        },
        Case {
            name: "25 phones to singapore",
            method: "POST",
            host: "api.dingtalk.io",
            findings: findings(&[(Class::Phone, 25)]),
            action: Action::Audit,
            rule: Some("sensitive-abroad-audited"),
        },
        Case {
            name: "incomplete to mainland",
            method: "POST",
            host: "oapi.dingtalk.com",
            findings: incomplete(&[]),
            action: Action::Block,
            rule: Some("sensitive-to-mainland"),
        },
        Case {
            name: "incomplete to singapore",
            method: "POST",
            host: "oapi.dingtalk.io",
            findings: incomplete(&[]),
            action: Action::Audit,
            rule: Some("sensitive-abroad-audited"),
        },
        Case {
            name: "incomplete to hong kong",
            method: "PUT",
            host: "oss-cn-hongkong.aliyuncs.com",
            findings: incomplete(&[]),
            action: Action::Allow,
            rule: None,
        },
        Case {
            name: "clean to mainland",
            method: "POST",
            host: "oapi.dingtalk.com",
            findings: Findings::default(),
            action: Action::Allow,
            rule: None,
        },
        Case {
            name: "hkids to unknown",
            method: "POST",
            host: "example.com",
            findings: findings(&[(Class::HkId, 3)]),
            action: Action::Allow,
            rule: None,
        },
    ];
    for c in cases {
        let meta = RequestMeta::new(c.method, c.host, "/upload");
        let d = dest_of(&p, &meta);
        let v = p.evaluate(&meta, &d, &c.findings);
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (c.action, c.rule),
            "case {}",
            c.name
        );
    }
}

#[test]
fn shipped_policy_body_plans() {
    let p = default_policy();
    let cases: &[(&str, &str, &str, bool)] = &[
        ("POST to mainland api", "POST", "oapi.dingtalk.com", true),
        (
            "PUT to mainland trans",
            "PUT",
            "sh-dualstack.trans.dingtalk.com",
            true,
        ),
        ("POST to singapore", "POST", "oapi.dingtalk.io", true),
        ("GET to mainland", "GET", "oapi.dingtalk.com", false),
        ("POST to unknown", "POST", "example.com", false),
        (
            "POST to hong kong",
            "POST",
            "oss-cn-hongkong.aliyuncs.com",
            false,
        ),
    ];
    for &(name, method, host, hold) in cases {
        let meta = RequestMeta::new(method, host, "/upload");
        let d = dest_of(&p, &meta);
        assert_eq!(p.may_act_on_body(&meta, &d), hold, "case {name}");
        let decided = p.decide_without_body(&meta, &d);
        assert_eq!(decided.is_none(), hold, "case {name}");
        if let Some(v) = decided {
            assert_eq!(
                (v.action, v.reason),
                (Action::Allow, VerdictReason::Default),
                "case {name}"
            );
        }
    }
}

#[test]
fn hash_is_stable_and_follows_the_policy() {
    let a = default_policy();
    let b = default_policy();
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.hash().len(), 64);
    assert!(a.hash().bytes().all(|c| c.is_ascii_hexdigit()));

    let mut changed = policy_cfg();
    if let Some(r) = changed.rules.get_mut(1) {
        r.when.categories = Some(CountConditions::Map(vec![("contact".into(), 21)]));
    }
    assert_ne!(build(&changed, &regions_cfg()).hash(), a.hash());
    let mut regions = regions_cfg();
    regions
        .announced
        .insert("WULANCHABU".into(), "cn-wulanchabu".into());
    assert_ne!(build(&policy_cfg(), &regions).hash(), a.hash());
}

#[test]
fn summary_lists_rules_in_order() {
    let p = default_policy();
    let s = p.summary();
    let pos = |needle: &str| {
        s.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{s}"))
    };
    assert!(pos("1. sensitive-to-mainland") < pos("2. customer-list-to-mainland"));
    assert!(pos("2. customer-list-to-mainland") < pos("4. sensitive-abroad-audited"));
    pos("when jurisdiction in [mainland-china]; method in [POST, PUT, PATCH] (POST covers WEBSOCKET messages and UPGRADE streams); any of (payment_card >= 1, iban >= 1, bank_account >= 1, identity >= 1, health >= 1)");
    pos("then block; if the scan is incomplete and unsettled: block");
    pos("international-edition: host map *.dingtalk.com -> *.dingtalk.io");
    pos("default: allow");
    pos(&format!("policy {}", p.hash()));
    pos("29 regions in 17 jurisdictions");
}

#[test]
fn default_policy_upstream_lookup() {
    let p = default_policy();
    let up = p.upstream("international-edition");
    assert!(matches!(
        up.map(|u| &u.target),
        Some(RerouteTarget::HostMap { .. })
    ));
    assert!(p.upstream("nope").is_none());
}

#[test]
fn connection_time_interception() {
    let p = default_policy();
    let cases = [
        ("mainland api", "oapi.dingtalk.com", true),
        ("mainland trans", "zjk-dualstack.trans.dingtalk.com", true),
        ("international", "api.dingtalk.io", true),
        ("hong kong oss", "oss-cn-hongkong.aliyuncs.com", false),
        ("unknown", "www.example.com", false),
    ];
    for (name, host, want) in cases {
        let meta = RequestMeta::new("CONNECT", host, "/");
        assert_eq!(p.concerns(host, &dest_of(&p, &meta)), want, "case {name}");
    }
}
