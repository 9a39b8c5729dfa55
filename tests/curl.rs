//! A real client: curl through sluice, with sluice's CA as its only trust anchor.

mod support;

use support::*;

const HOST: &str = "oapi.dingtalk.com";

/// curl through `proxy` (bounded in time), with `args` after the common flags.
async fn curl(proxy: &TestProxy, args: Vec<String>) -> (bool, String, String) {
    run_curl(Some(&proxy.url()), &args).await
}

#[tokio::test]
async fn curl_uploads_through_the_proxy_h1_and_h2() {
    let pki = Pki::new("test origin CA");
    let origin = Origin::https(pki.issue(&[HOST])).await;
    let proxy = spawn_proxy(test_config(
        Some(pki.ca_file()),
        &[(HOST, 443, origin.addr)],
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("upload.bin");
    let data = pseudo_random(3 << 20, 42);
    std::fs::write(&file, &data).unwrap();

    for (flag, version) in [("--http1.1", "HTTP/1.1"), ("--http2", "HTTP/2.0")] {
        let (ok, out, err) = curl(
            &proxy,
            vec![
                "--cacert".into(),
                proxy.ca_pem_path.display().to_string(),
                flag.into(),
                "-w".into(),
                "\n%{http_version}".into(),
                "--data-binary".into(),
                format!("@{}", file.display()),
                format!("https://{HOST}/media/upload?type=file"),
            ],
        )
        .await;
        assert!(ok, "curl {flag} failed: {err}");
        let (json, seen_version) = out.rsplit_once('\n').unwrap();
        let j: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            j["sha256"].as_str(),
            Some(sha256_hex(&data).as_str()),
            "{flag}"
        );
        assert_eq!(j["len"].as_u64(), Some(data.len() as u64));
        assert_eq!(j["path"].as_str(), Some("/media/upload?type=file"));
        // curl negotiated the protocol it asked for with sluice (ALPN on the minted leaf).
        let want = if version == "HTTP/2.0" { "2" } else { "1.1" };
        assert_eq!(seen_version, want, "{flag}");
    }
    assert_eq!(origin.requests().len(), 2);
    proxy.shutdown().await;
}

#[tokio::test]
async fn curl_sees_502_for_an_untrusted_upstream() {
    // An origin whose certificate sluice does not trust: curl sees the proxy's 502
    // on CONNECT, never a certificate.
    let pki = Pki::new("untrusted CA");
    let origin = Origin::https(pki.issue(&[HOST])).await;
    let proxy = spawn_proxy(test_config(None, &[(HOST, 443, origin.addr)])).await;
    let (ok, _out, err) = curl(
        &proxy,
        vec![
            "--cacert".into(),
            proxy.ca_pem_path.display().to_string(),
            format!("https://{HOST}/"),
        ],
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("502"),
        "curl reports the CONNECT refusal: {err}"
    );
    assert!(origin.requests().is_empty());
    proxy.shutdown().await;
}

#[tokio::test]
async fn curl_plain_http_through_the_proxy() {
    let origin = Origin::http().await;
    let proxy = spawn_proxy(test_config(
        None,
        &[("plain.dingtalk.com", 80, origin.addr)],
    ))
    .await;
    let (ok, out, err) = curl(
        &proxy,
        vec![
            "--data-binary".into(),
            "hello".into(),
            "http://plain.dingtalk.com/robot/send".into(),
        ],
    )
    .await;
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["sha256"].as_str(), Some(sha256_hex(b"hello").as_str()));
    proxy.shutdown().await;
}

/// A legacy gateway call carries its whole message in the query string, with
/// an empty body (DINGTALK.md: "parameters move between query and form").
/// sluice reads the query as it reads a form: staff data in it is stopped on
/// its way to the mainland and recorded abroad, and no record holds the value.
#[tokio::test]
async fn curl_query_string_data_is_inspected_and_kept_out_of_the_record() {
    let pki = Pki::new("test origin CA");
    let hosts = ["oapi.dingtalk.com", "oapi.dingtalk.io"];
    let origin = Origin::https(pki.issue(&hosts)).await;
    let resolve: Vec<_> = hosts.iter().map(|h| (*h, 443, origin.addr)).collect();
    let proxy = spawn_proxy(shipped_config(Some(pki.ca_file()), &resolve)).await;
    // `A123456(3)`, URL-encoded as a browser would send it.
    let query = "method=dingtalk.oapi.message.send&access_token=t0ps3cret\
                 &msg=%7B%22content%22%3A%22HKID%20A123456%283%29%22%7D&agent_id=42";
    let post = |host: &str| {
        vec![
            "--cacert".into(),
            proxy.ca_pem_path.display().to_string(),
            "-X".into(),
            "POST".into(),
            "-w".into(),
            "\n%{http_code}".into(),
            format!("https://{host}/router/rest?{query}"),
        ]
    };

    let (ok, out, err) = curl(&proxy, post("oapi.dingtalk.com")).await;
    assert!(ok, "{err}");
    let (json, code) = out.rsplit_once('\n').unwrap();
    assert_eq!(code, "200", "oapi-style block: {out}");
    let j: serde_json::Value = serde_json::from_str(json).unwrap();
    assert!(j["errcode"].as_i64().unwrap_or(0) != 0, "{j}");
    assert!(!json.contains("A123456"), "{json}");
    assert!(origin.requests().is_empty(), "nothing reached the mainland");

    let (ok, out, err) = curl(&proxy, post("oapi.dingtalk.io")).await;
    assert!(ok, "{err}");
    assert!(out.ends_with("\n200"), "{out}");
    let seen = origin.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].path,
        format!("/router/rest?{query}"),
        "sent unchanged"
    );

    let records = proxy.audit_records();
    let actions: Vec<_> = records.iter().map(|r| r["action"].clone()).collect();
    assert_eq!(actions, ["block", "audit"], "{records:?}");
    for r in &records {
        assert_eq!(r["classes"]["hk_id"], 1, "{r}");
        assert_eq!(r["bytes"], 0, "{r}");
        assert_eq!(
            r["path"],
            "/router/rest?method=dingtalk.oapi.message.send&access_token=REDACTED\
             &msg=REDACTED&agent_id=42",
            "{r}"
        );
    }
    let log = std::fs::read_to_string(&proxy.audit_path).unwrap();
    assert!(!log.contains("A123456") && !log.contains("t0ps3cret"));

    // The admin endpoint counts both decisions, as a scraper reads them.
    let admin = |path: &str| {
        let url = format!("http://{}{path}", proxy.admin.expect("admin endpoint"));
        // Straight to it, not through the proxy (which refuses loopback).
        vec![
            "--noproxy".into(),
            "*".into(),
            "-w".into(),
            "\n%{http_code}".into(),
            url,
        ]
    };
    let (ok, out, err) = curl(&proxy, admin("/metrics")).await;
    assert!(ok, "{err}");
    assert!(out.ends_with("\n200"), "{out}");
    for line in [
        "sluice_decisions_total{kind=\"request\",action=\"block\",jurisdiction=\"mainland-china\"} 1",
        "sluice_decisions_total{kind=\"request\",action=\"audit\",jurisdiction=\"singapore\"} 1",
        "sluice_values_found_total{class=\"hk_id\"} 2",
        "sluice_audit_failing 0",
    ] {
        assert!(out.contains(line), "{line} in\n{out}");
    }
    assert!(
        !out.contains("A123456") && !out.contains("router"),
        "counts only"
    );
    let (ok, out, _) = curl(&proxy, admin("/healthz")).await;
    assert!(ok && out.ends_with("\n200"), "{out}");
    assert!(out.contains("\"status\":\"ok\""), "{out}");
    let (_, out, _) = curl(&proxy, admin("/nothing")).await;
    assert!(out.ends_with("\n404"), "{out}");
    let (_, out, _) = curl(
        &proxy,
        [vec!["-X".into(), "POST".into()], admin("/metrics")].concat(),
    )
    .await;
    assert!(out.ends_with("\n405"), "{out}");

    // The log sums up as the DPO's evidence, with the real binary.
    let html = proxy.audit_path.with_extension("html");
    let out = sluice_ok([
        "audit".as_ref(),
        "report".as_ref(),
        "--json".as_ref(),
        "--html".as_ref(),
        html.as_os_str(),
        proxy.audit_path.as_os_str(),
    ]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["integrity"]["verified"], true);
    let personal = |dest: &str| j["destinations"][dest]["personal"].clone();
    assert_eq!(personal("mainland-china")["stopped"], 1, "{j}");
    assert_eq!(personal("singapore")["sent_audited"], 1, "{j}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h1>Data-residency audit report</h1>"));
    assert!(!page.contains("A123456") && !page.contains("127.0.0.1"));
    proxy.shutdown().await;
}

/// A video uploaded to mainland storage in parts (OSS multipart, as
/// `multiPartUploadInfos` hands out): the middle of a video is as random as
/// encrypted data, which sluice cannot read alone and refuses to the
/// mainland. After the first part showed it a video, the later parts of the
/// same upload are its continuation, decided as the whole file would be.
#[tokio::test]
async fn curl_later_parts_of_a_video_continue_its_first_part() {
    const STORE: &str = "zjk-dualstack.trans.dingtalk.com";
    let pki = Pki::new("test origin CA");
    let origin = Origin::https(pki.issue(&[STORE])).await;
    let proxy = spawn_proxy(shipped_config(
        Some(pki.ca_file()),
        &[(STORE, 443, origin.addr)],
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    // An MP4 head (`ftyp` box), then bytes as random as coded video.
    // (The media box runs to the end of the file: size 0.)
    let mut video = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2\0\0\0\0mdat".to_vec();
    video.extend_from_slice(&pseudo_random(3 * 256 * 1024 - 8, 7));
    let parts: Vec<&[u8]> = video.chunks(256 * 1024 + 24).collect();
    assert_eq!(parts.len(), 3);
    let put = |upload: &str, n: usize| {
        let file = dir.path().join(format!("{upload}-{n}"));
        std::fs::write(&file, parts[n - 1]).unwrap();
        vec![
            "--cacert".into(),
            proxy.ca_pem_path.display().to_string(),
            "-X".into(),
            "PUT".into(),
            "-H".into(),
            "Content-Type: application/octet-stream".into(),
            "--data-binary".into(),
            format!("@{}", file.display()),
            "-o".into(),
            "/dev/null".into(),
            "-w".into(),
            "%{http_code}".into(),
            format!("https://{STORE}/yundisk0/v.mp4?partNumber={n}&uploadId={upload}"),
        ]
    };
    let status = |out: (bool, String, String)| {
        assert!(out.0, "{}", out.2);
        out.1
    };
    // A later part whose first part sluice never saw: unreadable, refused.
    assert_eq!(status(curl(&proxy, put("U1", 2)).await), "451");
    assert!(origin.requests().is_empty());
    for n in 1..=3 {
        assert_eq!(status(curl(&proxy, put("U2", n)).await), "200", "part {n}");
    }
    let seen = origin.requests();
    assert_eq!(seen.len(), 3);
    for (got, want) in seen.iter().zip(&parts) {
        assert_eq!(got.sha256, sha256_hex(want), "{}", got.path);
    }
    // The continuation is the upload's alone.
    assert_eq!(status(curl(&proxy, put("U1", 3)).await), "451");
    let records = proxy.audit_records();
    let got: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or("").to_owned(),
                r["incomplete"]["reason"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let blocked = ("block".to_owned(), Some("unsupported".to_owned()));
    let allowed = ("allow".to_owned(), None);
    assert_eq!(
        got,
        [
            blocked.clone(),
            allowed.clone(),
            allowed.clone(),
            allowed,
            blocked
        ],
        "{records:?}"
    );
    proxy.shutdown().await;
}

/// An approval sent to the mainland as DingTalk's SDKs send one: each answer
/// a `name` and a `value`. The form that carries a Macau identity number,
/// written as the eight digits the card's owner types, and a passport is
/// stopped before a byte leaves, with the error shape the old SDKs read; a
/// leave request with nothing personal in it goes through.
#[tokio::test]
async fn curl_an_approval_form_is_judged_by_its_labels() {
    let pki = Pki::new("test origin CA");
    let origin = Origin::https(pki.issue(&[HOST])).await;
    let proxy = spawn_proxy(shipped_config(
        Some(pki.ca_file()),
        &[(HOST, 443, origin.addr)],
    ))
    .await;
    let form = |answers: &[(&str, &str)]| {
        let values: Vec<_> = answers
            .iter()
            .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
            .collect();
        serde_json::json!({
            "process_code": "PROC-STAFF-01",
            "originator_user_id": "manager01",
            "dept_id": 1,
            "form_component_values": values,
        })
        .to_string()
    };
    let post = |body: String| {
        vec![
            "--cacert".into(),
            proxy.ca_pem_path.display().to_string(),
            "-H".into(),
            "Content-Type: application/json;charset=utf-8".into(),
            "--data-binary".into(),
            body,
            "-w".into(),
            "\n%{http_code}".into(),
            format!("https://{HOST}/topapi/processinstance/create?access_token=t0ps3cret"),
        ]
    };

    let staff = form(&[
        ("申請人", "陳大文"),
        ("身份證編號", "51234567"),
        ("護照號碼", "K12345678"),
        ("入職日期", "2026-12-01"),
    ]);
    let (ok, out, err) = curl(&proxy, post(staff)).await;
    assert!(ok, "{err}");
    let (json, code) = out.rsplit_once('\n').unwrap();
    assert_eq!(code, "200", "oapi-style block: {out}");
    let j: serde_json::Value = serde_json::from_str(json).unwrap();
    assert!(j["errcode"].as_i64().unwrap_or(0) != 0, "{j}");
    assert!(origin.requests().is_empty(), "nothing reached the mainland");

    let leave = form(&[
        ("請假類型", "年假"),
        ("開始時間", "2026-12-21"),
        ("天數", "3"),
    ]);
    let (ok, out, err) = curl(&proxy, post(leave)).await;
    assert!(ok, "{err}");
    assert!(out.ends_with("\n200"), "{out}");
    assert_eq!(origin.requests().len(), 1);

    let records = proxy.audit_records();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["action"], "block", "{}", records[0]);
    assert_eq!(records[0]["classes"]["macau_id"], 1, "{}", records[0]);
    assert_eq!(records[0]["classes"]["passport"], 1, "{}", records[0]);
    assert!(
        records[1]["classes"]
            .as_object()
            .is_none_or(|c| c.is_empty()),
        "{}",
        records[1]
    );
    let log = std::fs::read_to_string(&proxy.audit_path).unwrap();
    assert!(!log.contains("51234567") && !log.contains("K12345678"));
    proxy.shutdown().await;
}
