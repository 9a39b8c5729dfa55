//! The shipped regions table and default policy, and learning from DingTalk answers.

use std::net::IpAddr;
use std::time::Duration;

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

const UPLOAD_INFO_ANSWER: &str = r#"{
  "uploadKey": "k-1",
  "storageDriver": "DINGTALK",
  "protocol": "HEADER_SIGNATURE",
  "headerSignatureInfo": {
    "resourceUrls": ["https://cdn-upload.example-cdn.com/yundisk0/iAEIAqRmaWxl?Expires=1&sig=abc"],
    "internalResourceUrls": ["http://internal-upload.example-cdn.com:8080/yundisk0/iAEIAqRmaWxl"],
    "headers": {"Authorization": "OSS x:y", "x-oss-date": "Sun, 29 Nov 2026 03:00:00 GMT"},
    "expirationSeconds": 600,
    "region": "ZHANGJIAKOU"
  }
}"#;

fn upload_info_meta() -> RequestMeta {
    RequestMeta::new(
        "POST",
        "api.dingtalk.com",
        "/v1.0/storage/spaces/123/files/uploadInfos/query?unionId=u1",
    )
}

#[test]
fn learns_region_from_upload_info_answer() {
    let p = default_policy();
    let learned = LearnedRegions::new(p.learn_capacity());
    let meta = upload_info_meta();
    assert!(p.is_upload_info(&meta));
    assert_eq!(
        learned.observe_response(&p, &meta, 200, UPLOAD_INFO_ANSWER.as_bytes(), t0()),
        2
    );

    let put = RequestMeta::new(
        "PUT",
        "cdn-upload.example-cdn.com",
        "/yundisk0/iAEIAqRmaWxl?Expires=1&sig=abc",
    );
    let d = p.destination(&put, &learned, t0() + Duration::from_secs(10));
    assert_eq!(
        (d.region.as_str(), d.jurisdiction.as_str(), d.source),
        (
            "cn-zhangjiakou",
            "mainland-china",
            DestinationSource::Learned
        )
    );
    let internal = RequestMeta::new(
        "PUT",
        "internal-upload.example-cdn.com",
        "/yundisk0/iAEIAqRmaWxl",
    );
    assert_eq!(
        p.destination(&internal, &learned, t0()).region,
        "cn-zhangjiakou"
    );

    // The announced region makes the PUT a mainland upload for the default policy.
    let hkids = findings(&[(Class::HkId, 2)]);
    assert_eq!(p.evaluate(&put, &d, &hkids).action, Action::Block);

    // Another path on the same host was not announced.
    let other = RequestMeta::new("PUT", "cdn-upload.example-cdn.com", "/yundisk0/other");
    assert_eq!(
        p.destination(&other, &learned, t0()).source,
        DestinationSource::Unknown
    );
    // Expired after expirationSeconds.
    let late = p.destination(&put, &learned, t0() + Duration::from_secs(601));
    assert_eq!(late.source, DestinationSource::Unknown);
}

#[test]
fn learned_region_refines_but_never_contradicts_host_table() {
    let p = default_policy();
    let learned = LearnedRegions::new(16);
    let answer = |url: &str, region: &str| {
        format!(r#"{{"headerSignatureInfo": {{"resourceUrls": ["{url}"], "region": "{region}"}}}}"#)
    };
    let meta = upload_info_meta();
    // `*.trans.dingtalk.com` with an unknown prefix: host says mainland, answer says Shanghai.
    let a = answer("https://new-trans.trans.dingtalk.com/up/1", "SHANGHAI");
    assert_eq!(
        learned.observe_response(&p, &meta, 200, a.as_bytes(), t0()),
        1
    );
    let d = p.destination(
        &RequestMeta::new("PUT", "new-trans.trans.dingtalk.com", "/up/1"),
        &learned,
        t0(),
    );
    assert_eq!(
        (d.region.as_str(), d.source),
        ("cn-shanghai", DestinationSource::Learned)
    );
    // A mainland host announced as Singapore stays mainland.
    let a = answer("https://api.dingtalk.com/up/2", "SINGAPORE");
    learned.observe_response(&p, &meta, 200, a.as_bytes(), t0());
    let d = p.destination(
        &RequestMeta::new("PUT", "api.dingtalk.com", "/up/2"),
        &learned,
        t0(),
    );
    assert_eq!(
        (d.jurisdiction.as_str(), d.source),
        ("mainland-china", DestinationSource::Host)
    );
}

#[test]
fn learns_drive_variant_bucket_and_endpoint() {
    let p = default_policy();
    let learned = LearnedRegions::new(16);
    let meta = RequestMeta::new(
        "GET",
        "api.dingtalk.com",
        "/v1.0/drive/spaces/9/files/0/uploadInfos",
    );
    let body = br#"{"stsUploadInfo": {"bucket": "Corp-Files", "endPoint": "oss-accelerate.aliyuncs.com", "region": "cn-shenzhen", "accessKeyId": "STS.x"}}"#;
    assert_eq!(learned.observe_response(&p, &meta, 200, body, t0()), 1);
    let put = RequestMeta::new(
        "PUT",
        "corp-files.oss-accelerate.aliyuncs.com",
        "/any/object",
    );
    let d = p.destination(&put, &learned, t0());
    assert_eq!(
        (d.region.as_str(), d.source),
        ("cn-shenzhen", DestinationSource::Learned)
    );
}

#[test]
fn learning_ignores_what_it_should() {
    let p = default_policy();
    let learned = LearnedRegions::new(16);
    let meta = upload_info_meta();
    let cases: &[(&str, &RequestMeta, u16, &[u8])] = &[
        ("garbage", &meta, 200, b"\x00\xff{not json"),
        (
            "truncated",
            &meta,
            200,
            &UPLOAD_INFO_ANSWER.as_bytes()[..80],
        ),
        ("json array", &meta, 200, b"[1,2,3]"),
        ("deep nesting", &meta, 200, &[b'['; 10_000]),
        ("error status", &meta, 403, UPLOAD_INFO_ANSWER.as_bytes()),
        (
            "unknown region name",
            &meta,
            200,
            br#"{"resourceUrls": ["https://a.example/x"], "region": "ATLANTIS"}"#,
        ),
        (
            "url not a string",
            &meta,
            200,
            br#"{"resourceUrls": [7, null], "region": "SHANGHAI"}"#,
        ),
        (
            "not http",
            &meta,
            200,
            br#"{"resourceUrls": ["ftp://a.example/x"], "region": "SHANGHAI"}"#,
        ),
        (
            "other endpoint",
            &RequestMeta::new("POST", "api.dingtalk.com", "/v1.0/robot/groupMessages/send"),
            200,
            UPLOAD_INFO_ANSWER.as_bytes(),
        ),
    ];
    for &(name, m, status, body) in cases {
        assert_eq!(
            learned.observe_response(&p, m, status, body, t0()),
            0,
            "case {name}"
        );
    }
    assert!(learned.is_empty());
}

#[test]
fn learned_regions_are_bounded() {
    let learned = LearnedRegions::new(3);
    let lesson = |i: u32| Lesson {
        host: "up.example".into(),
        path: format!("/f/{i}"),
        region: "cn-shanghai".into(),
        jurisdiction: "mainland-china".into(),
        ttl: Duration::from_secs(60),
    };
    for i in 0..10 {
        learned.insert(lesson(i), t0());
        // Re-inserting the same key must not grow the store either.
        learned.insert(lesson(i), t0());
    }
    assert_eq!(learned.len(), 3);
    assert!(
        learned.lookup("up.example", "/f/0", t0()).is_none(),
        "oldest evicted"
    );
    assert!(
        learned.lookup("up.example", "/f/9", t0()).is_some(),
        "newest kept"
    );
    for i in 0..1000 {
        learned.insert(lesson(i % 2), t0());
    }
    assert!(learned.len() <= 3);
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
    pos("when jurisdiction in [mainland-china]; method in [POST, PUT, PATCH]; any of (payment_card >= 1, iban >= 1, bank_account >= 1, identity >= 1, health >= 1)");
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
