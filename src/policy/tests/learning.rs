//! Learning where uploads go from DingTalk's uploadInfos answers, and the bounds
//! on what is remembered.

use std::time::Duration;

use super::*;

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
    assert!(!learned.knows_host("cdn-upload.example-cdn.com", t0()));
    assert_eq!(
        learned.observe_response(&p, &meta, 200, UPLOAD_INFO_ANSWER.as_bytes(), t0()),
        2
    );
    assert!(learned.knows_host("cdn-upload.example-cdn.com", t0()));
    assert!(!learned.knows_host(
        "cdn-upload.example-cdn.com",
        t0() + Duration::from_secs(601)
    ));

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

#[test]
fn absurd_ttl_does_not_panic() {
    let learned = LearnedRegions::new(2);
    learned.insert(
        Lesson {
            host: "up.example".into(),
            path: "/".into(),
            region: "cn-shanghai".into(),
            jurisdiction: "mainland-china".into(),
            ttl: Duration::MAX,
        },
        t0(),
    );
    assert!(learned.lookup("up.example", "/", t0()).is_none());
}
