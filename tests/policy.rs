//! Residency policy end to end: uploads through a live sluice (with `--resolve`)
//! to fake DingTalk origins that record what they received.

mod support;

use std::sync::Arc;

use http::StatusCode;
use support::*;

const OSS_HOST: &str = "dingtalk-ul.oss-accelerate.aliyuncs.com";
const RECORDS_HOST: &str = "records.example.mo";

struct World {
    pki: Pki,
    /// oapi/api on .com and .io.
    dingtalk: Origin,
    /// An OSS endpoint whose host tells no region.
    oss: Origin,
    /// An on-premises records API in Macau (reroute target).
    records: Origin,
    proxy: TestProxy,
}

const UPLOAD_INFO_PATH: &str = "/v1.0/storage/spaces/123/files/uploadInfos/query";

fn upload_info_answer() -> String {
    serde_json::json!({
        "uploadKey": "k-1",
        "storageDriver": "DINGTALK",
        "protocol": "HEADER_SIGNATURE",
        "headerSignatureInfo": {
            "resourceUrls": [format!("https://{OSS_HOST}/yundisk0/iAEIAqRmaWxl?Expires=1&sig=abc")],
            "headers": {"Authorization": "OSS x:y"},
            "expirationSeconds": 600,
            "region": "ZHANGJIAKOU"
        }
    })
    .to_string()
}

/// A proxy with the shipped default policy, or with `policy_yaml` when given.
async fn world_with(
    policy_yaml: Option<&str>,
    tweak: impl FnOnce(&mut sluice::config::Config),
) -> World {
    let pki = Pki::new("test origin CA");
    let names = [
        "oapi.dingtalk.com",
        "oapi.dingtalk.io",
        "api.dingtalk.com",
        "api.dingtalk.io",
    ];
    let dingtalk = Origin::https_routes(
        pki.issue(&names),
        vec![(UPLOAD_INFO_PATH, upload_info_answer())],
    )
    .await;
    let oss = Origin::https(pki.issue(&[OSS_HOST])).await;
    let records = Origin::https(pki.issue(&[RECORDS_HOST])).await;
    let mut resolve: Vec<(&str, u16, std::net::SocketAddr)> =
        names.iter().map(|n| (*n, 443, dingtalk.addr)).collect();
    resolve.push((OSS_HOST, 443, oss.addr));
    resolve.push((RECORDS_HOST, 443, records.addr));
    let mut cfg = shipped_config(Some(pki.ca_file()), &resolve);
    if let Some(y) = policy_yaml {
        set_policy(&mut cfg, y);
    }
    tweak(&mut cfg);
    let proxy = spawn_proxy(cfg).await;
    World {
        pki,
        dingtalk,
        oss,
        records,
        proxy,
    }
}

async fn world() -> World {
    world_with(None, |_| {}).await
}

impl World {
    fn roots(&self) -> Arc<rustls::RootCertStore> {
        roots_from_pem(&self.proxy.ca_pem())
    }

    async fn call(
        &self,
        h2: bool,
        method: &str,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let tcp = connect_via(self.proxy.addr, &format!("{host}:443"), "")
            .await
            .expect("CONNECT");
        let alpn: &[&[u8]] = if h2 { &[b"h2"] } else { &[b"http/1.1"] };
        let tls = tls_over(tcp, host, self.roots(), alpn).await.expect("TLS");
        let mut req = request(method, &format!("https://{host}{path}"), full_body(body));
        for (k, v) in headers {
            req.headers_mut().insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        send(tls, h2, req).await
    }

    /// An HTTP/1.1 POST of `body` as `content_type`.
    async fn post(&self, host: &str, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        self.call(
            false,
            "POST",
            host,
            path,
            &[("content-type", content_type)],
            body,
        )
        .await
    }

    /// A plain-text file upload to DingTalk's mainland upload endpoint.
    async fn upload(&self, h2: bool, body: Vec<u8>) -> Answer {
        let ct = [("content-type", "text/plain")];
        self.call(
            h2,
            "POST",
            "oapi.dingtalk.com",
            "/file/upload/single",
            &ct,
            body,
        )
        .await
    }

    /// An HTTP/1.1 POST of a JSON document, as the DingTalk SDKs send them.
    async fn post_json(&self, host: &str, path: &str, doc: &serde_json::Value) -> Answer {
        let body = doc.to_string().into_bytes();
        self.post(host, path, "application/json", body).await
    }

    fn record_for(&self, ticket: &str) -> serde_json::Value {
        self.proxy
            .audit_records()
            .into_iter()
            .find(|r| r["id"] == ticket)
            .unwrap_or_else(|| panic!("no audit record with id {ticket}"))
    }
}

fn hkid_docx(n: u32) -> Vec<u8> {
    let paras: Vec<String> = (0..n)
        .map(|i| format!("員工 {i} 身份證號碼 {}", hkid(i)))
        .collect();
    docx(&paras)
}

fn media_upload(n: u32) -> (Vec<u8>, String) {
    let body = multipart(&[
        ("type", None, "text/plain", b"file".to_vec()),
        (
            "media",
            Some("staff.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            hkid_docx(n),
        ),
    ]);
    (body, multipart_type())
}

#[tokio::test]
async fn docx_of_hkids_is_blocked_to_mainland_and_allowed_to_the_international_edition() {
    let w = world().await;
    let (body, ctype) = media_upload(30);
    let a = w
        .post(
            "oapi.dingtalk.com",
            "/media/upload?access_token=SECRETTOKEN&type=file",
            &ctype,
            body.clone(),
        )
        .await;
    // oapi style: HTTP 200 with a non-zero errcode the SDKs will not retry.
    assert_eq!(a.status, StatusCode::OK);
    let j = a.json();
    assert_eq!(j["errcode"], 451, "{j}");
    let ticket = j["sluice_ticket"].as_str().unwrap().to_string();
    assert!(j["errmsg"].as_str().unwrap().contains(&ticket));
    assert!(
        !a.text().contains("A1"),
        "the block response repeats no identity number"
    );
    assert_eq!(w.dingtalk.heads_seen(), 0, "the origin received nothing");

    let rec = w.record_for(&ticket);
    assert_eq!(rec["action"], "block");
    assert_eq!(rec["rule"], "sensitive-to-mainland");
    assert_eq!(rec["jurisdiction"], "mainland-china");
    assert_eq!(rec["classes"]["hk_id"], 30);
    assert!(
        !rec["path"].as_str().unwrap().contains("SECRETTOKEN"),
        "query secrets redacted"
    );
    let samples = rec["samples"]["hk_id"].as_array().unwrap();
    assert!(!samples.is_empty());
    let raw = std::fs::read_to_string(&w.proxy.audit_path).unwrap();
    for i in 0..30 {
        assert!(!raw.contains(&hkid(i)), "no raw HKID in the audit log");
    }

    // The same upload to the International Edition: allowed (and audited), byte-exact.
    let a = w
        .post(
            "oapi.dingtalk.io",
            "/media/upload?type=file",
            &ctype,
            body.clone(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    a.assert_origin_got(&body, "the DOCX to the international edition");
    let got = &w.dingtalk.requests()[0];
    assert_eq!(got.body.as_ref(), body.as_slice());
    let last = w.proxy.audit_records().pop().unwrap();
    assert_eq!(last["action"], "audit");
    assert_eq!(last["jurisdiction"], "singapore");
    assert_eq!(
        last["body_sha256"].as_str(),
        Some(sha256_hex(&body).as_str())
    );
    w.proxy.shutdown().await;
}

/// Files as offices still send them: an Excel 97 workbook (LibreOffice-made,
/// numeric phone cells), the same workbook in a RAR archive, and an encrypted
/// file, as DingTalk's client uploads them, with no useful content type.
/// None may reach the mainland: the workbook and the archive for what they
/// hold, the encrypted file because it cannot be read.
#[tokio::test]
async fn legacy_workbooks_rar_archives_and_encrypted_files_are_blocked_to_mainland() {
    let w = world().await;
    let xls = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/legacy/staff.xls"
    ))
    .unwrap();
    let mut archive = rars::Builder::new(rars::ArchiveVersion::Rar50);
    archive
        .add_bytes(b"staff.xls".to_vec(), xls.clone(), None, None)
        .unwrap();
    let rar = archive.to_bytes().unwrap();
    // As `gpg --symmetric` writes it: a symmetric-key session packet first.
    let mut gpg =
        b"\x8c\x0d\x04\x09\x03\x02\xd0\xe6\x5f\xbc\x95\x64\x46\xdf\xff\xd2\x55\x01".to_vec();
    gpg.extend((0..64u8).map(|i| i.wrapping_mul(97)));
    // The encrypted file stops at the first rule: what it might hold is
    // unsettled, and that rule's `on_incomplete` blocks.
    for (file, data, incomplete) in [
        ("staff.xls", xls, None),
        ("staff.rar", rar, None),
        ("staff.xlsx.gpg", gpg, Some("encrypted")),
    ] {
        let body = multipart(&[
            ("type", None, "text/plain", b"file".to_vec()),
            ("media", Some(file), "application/octet-stream", data),
        ]);
        let a = w
            .post(
                "oapi.dingtalk.com",
                "/media/upload?type=file",
                &multipart_type(),
                body,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK);
        let j = a.json();
        assert_eq!(j["errcode"], 451, "{file}: {j}");
        let rec = w.record_for(j["sluice_ticket"].as_str().unwrap());
        assert_eq!(rec["action"], "block", "{file}: {rec}");
        assert_eq!(rec["rule"], "sensitive-to-mainland", "{file}: {rec}");
        assert_eq!(
            rec["incomplete"]["reason"].as_str(),
            incomplete,
            "{file}: {rec}"
        );
        if incomplete.is_none() {
            assert_eq!(rec["classes"]["phone"], 2, "{rec}");
            assert_eq!(rec["classes"]["hk_id"], 1, "{rec}");
        }
    }
    assert_eq!(w.dingtalk.heads_seen(), 0, "the origin received nothing");
    w.proxy.shutdown().await;
}

/// DingDrive's chunked upload sends a file in pieces, one request each. A
/// piece from the middle of a compressed file (here the second half of a
/// workbook) has no header and reads as random bytes: it is blocked to the
/// mainland as unread, not passed for empty. A piece of a text file is read
/// as text, and a piece of a JPEG is recognised as such and allowed.
#[tokio::test]
async fn chunks_of_a_compressed_upload_are_blocked_as_unread() {
    let w = world().await;
    let rows = staff_rows(3000);
    let zip = deflated_zip("xl/worksheets/sheet1.xml", rows.as_bytes());
    let second_half = zip[zip.len() / 2..].to_vec();
    assert!(
        second_half.len() > 8192,
        "a chunk worth judging: {}",
        second_half.len()
    );
    let text_chunk = format!("客戶 陳大文 A123456(3)\n{rows}").into_bytes();
    // Entropy-coded JPEG data: every 0xFF is followed by a stuffed zero.
    let jpeg_chunk: Vec<u8> = pseudo_random(20_000, 11)
        .into_iter()
        .flat_map(|b| if b == 0xFF { vec![b, 0] } else { vec![b] })
        .collect();
    for (seq, data, want) in [
        (2, second_half, "block"),
        (3, text_chunk, "block"),
        (4, jpeg_chunk, "allow"),
    ] {
        // The SDKs name a piece `blob`: nothing tells its format but its bytes.
        let body = multipart(&[("file", Some("blob"), "application/octet-stream", data)]);
        let path = format!("/file/upload/chunk?agent_id=1&upload_id=u-1&chunk_sequence={seq}");
        let a = w
            .post("oapi.dingtalk.com", &path, &multipart_type(), body)
            .await;
        assert_eq!(a.status, StatusCode::OK);
        let recs = w.proxy.audit_records();
        let rec = recs.last().expect("an audit record");
        assert_eq!(rec["action"], want, "chunk {seq}: {rec}");
        match seq {
            2 => {
                assert_eq!(a.json()["errcode"], 451, "{}", a.text());
                assert_eq!(rec["incomplete"]["reason"], "unsupported", "{rec}");
                assert!(
                    rec["classes"].as_object().is_none_or(|c| c.is_empty()),
                    "{rec}"
                );
            }
            3 => {
                assert_eq!(rec["classes"]["hk_id"], 1, "{rec}");
                assert!(rec["incomplete"].is_null(), "{rec}");
            }
            _ => assert!(rec["incomplete"].is_null(), "{rec}"),
        }
    }
    // Only the JPEG's piece reached DingTalk.
    assert_eq!(w.dingtalk.requests().len(), 1);
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn the_same_over_http2_and_gzip() {
    let w = world().await;
    let (body, ctype) = media_upload(5);
    let a = w
        .call(
            true,
            "POST",
            "oapi.dingtalk.com",
            "/media/upload",
            &[("content-type", &ctype)],
            body,
        )
        .await;
    assert_eq!(a.json()["errcode"], 451, "h2 upload blocked");

    let chat = serde_json::json!({"agent_id": 1, "msg": {"msgtype": "text", "text": {"content": format!("客戶身份證 {} 及 {}", hkid(1), hkid(2))}}});
    let gz = gzip(chat.to_string().as_bytes());
    let a = w
        .call(
            false,
            "POST",
            "oapi.dingtalk.com",
            "/topapi/message/corpconversation/asyncsend_v2",
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            gz,
        )
        .await;
    assert_eq!(
        a.json()["errcode"],
        451,
        "gzip-encoded JSON blocked: {}",
        a.text()
    );
    assert_eq!(w.dingtalk.heads_seen(), 0);
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn sick_leave_note_in_chat_is_blocked_and_a_harmless_one_allowed() {
    let w = world().await;
    let note = serde_json::json!({
        "agent_id": 100, "userid_list": "u1",
        "msg": {"msgtype": "text", "text": {"content": "醫生證明書：茲證明陳大文先生於本院求診，診斷為急性腸胃炎，建議病假三天。仁伯爵綜合醫院"}}
    });
    let a = w
        .post_json(
            "oapi.dingtalk.com",
            "/topapi/message/corpconversation/asyncsend_v2?access_token=t",
            &note,
        )
        .await;
    assert_eq!(a.json()["errcode"], 451, "{}", a.text());
    let ticket = a.json()["sluice_ticket"].as_str().unwrap().to_string();
    assert!(w.record_for(&ticket)["classes"]["health"].as_u64().unwrap() >= 1);

    let harmless = serde_json::json!({
        "agent_id": 100, "userid_list": "u1",
        "msg": {"msgtype": "text", "text": {"content": "明天下午三點開會，請準時出席。Please be patient, the health check of the build server is green."}}
    });
    let a = w
        .post_json(
            "oapi.dingtalk.com",
            "/topapi/message/corpconversation/asyncsend_v2",
            &harmless,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    a.assert_origin_got(harmless.to_string().as_bytes(), "the harmless note");
    assert_eq!(w.dingtalk.requests().len(), 1);
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn upload_region_is_learned_from_the_upload_info_answer() {
    let w = world().await;
    let csv = customers_csv(200);
    // Before DingTalk announced anything, the accelerate host has no region: allowed.
    let a = w
        .call(
            false,
            "PUT",
            OSS_HOST,
            "/yundisk0/other",
            &[("content-type", "text/csv")],
            csv.clone(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(w.oss.heads_seen(), 1);

    // uploadInfos/query answers with the URL and region ZHANGJIAKOU…
    let q = serde_json::json!({"protocol": "HEADER_SIGNATURE", "multipart": false, "option": {"preferRegion": "ZHANGJIAKOU"}});
    let a = w
        .post_json(
            "api.dingtalk.com",
            &format!("{UPLOAD_INFO_PATH}?unionId=u1"),
            &q,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.text().contains("resourceUrls"),
        "the answer is relayed unchanged"
    );

    // …so the PUT of a 200-customer list to that URL is attributed to cn-zhangjiakou and blocked.
    let a = w
        .call(
            false,
            "PUT",
            OSS_HOST,
            "/yundisk0/iAEIAqRmaWxl?Expires=1&sig=abc",
            &[("content-type", "text/csv")],
            csv,
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
        "{}",
        a.text()
    );
    let j = a.json();
    assert_eq!(j["rule"], "customer-list-to-mainland");
    assert_eq!(
        w.oss.heads_seen(),
        1,
        "the PUT target received no byte of it"
    );
    let rec = w.record_for(j["ticket"].as_str().unwrap());
    assert_eq!(rec["region"], "cn-zhangjiakou");
    assert!(rec["classes"]["phone"].as_u64().unwrap() >= 200, "{rec}");
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn reroute_delivers_to_the_reroute_target_only() {
    let policy = format!(
        "policy:\n  upstreams:\n    macau-records: {{ url: \"https://{RECORDS_HOST}/intake\" }}\n  rules:\n    - name: health-stays-in-macau\n      when: {{ jurisdiction: mainland-china, categories: {{ health: 1 }} }}\n      action: reroute\n      upstream: macau-records\n"
    );
    let w = world_with(Some(&policy), |_| {}).await;
    let note = "病假證明 診斷：糖尿病 高血壓 出院摘要".as_bytes().to_vec();
    let a = w
        .post(
            "oapi.dingtalk.com",
            "/file/upload/single?agent_id=1",
            "text/plain; charset=utf-8",
            note.clone(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(w.dingtalk.heads_seen(), 0, "not the original destination");
    let got = w.records.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/intake/file/upload/single?agent_id=1");
    assert_eq!(got[0].host.as_deref(), Some(RECORDS_HOST));
    assert_eq!(got[0].body.as_ref(), note.as_slice());
    let last = w.proxy.audit_records().pop().unwrap();
    assert_eq!(last["action"], "reroute");
    assert!(last["target"].as_str().unwrap().contains(RECORDS_HOST));
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn bodies_past_the_hold_limit_are_decided_by_on_incomplete() {
    // Default policy: past the hold limit the scan is incomplete → blocked to mainland.
    let w = world_with(None, |c| {
        c.hold.memory = sluice::config::units::Bytes(16 << 10);
        c.hold.max = sluice::config::units::Bytes(64 << 10);
    })
    .await;
    let big = "明天開會。".repeat(20_000).into_bytes();
    let a = w
        .post(
            "oapi.dingtalk.com",
            "/file/upload/single",
            "text/plain",
            big.clone(),
        )
        .await;
    assert_eq!(a.json()["errcode"], 451, "{}", a.text());
    let rec = w.proxy.audit_records().pop().unwrap();
    assert_eq!(rec["incomplete"]["reason"], "hold_limit", "{rec}");
    assert_eq!(w.dingtalk.heads_seen(), 0);
    w.proxy.shutdown().await;

    // A policy that lets incomplete scans through: the held part and the rest arrive byte-exact.
    let policy = "policy:\n  rules:\n    - name: ids\n      when: { jurisdiction: mainland-china, categories: { identity: 1 } }\n      action: block\n      on_incomplete: audit\n";
    let w = world_with(Some(policy), |c| {
        c.hold.memory = sluice::config::units::Bytes(16 << 10);
        c.hold.max = sluice::config::units::Bytes(64 << 10);
    })
    .await;
    let a = w.upload(true, big.clone()).await;
    a.assert_origin_got(&big, "the body past the hold limit");
    assert_eq!(w.proxy.audit_records().pop().unwrap()["action"], "audit");
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn large_held_bodies_are_inspected_to_the_last_byte() {
    // Past the first MiB the hold and the scan run on their own threads; with a
    // 1 MiB memory limit the rest is spilled. Both must still see every byte.
    let w = world_with(None, |c| {
        c.hold.memory = sluice::config::units::Bytes(1 << 20);
    })
    .await;
    let harmless = "明天開會，請準備季度報告。Weekly sync moved to Thursday.\n"
        .repeat(50_000)
        .into_bytes();
    assert!(harmless.len() > 3 << 20);
    let mut tainted = harmless.clone();
    tainted.extend_from_slice("附上醫生紙，請批准病假。".as_bytes());
    for h2 in [false, true] {
        let a = w.upload(h2, tainted.clone()).await;
        assert_eq!(a.json()["errcode"], 451, "h2={h2}: {}", a.text());
        assert_eq!(w.dingtalk.heads_seen(), 0, "h2={h2}");
        let rec = w.proxy.audit_records().pop().unwrap();
        assert!(rec["classes"]["health"].as_u64() >= Some(1), "{rec}");
        assert_eq!(rec["bytes"].as_u64(), Some(tainted.len() as u64), "{rec}");
    }
    for h2 in [false, true] {
        let a = w.upload(h2, harmless.clone()).await;
        a.assert_origin_got(&harmless, &format!("h2={h2}"));
        let rec = w.proxy.audit_records().pop().unwrap();
        assert_eq!(
            rec["body_sha256"].as_str(),
            Some(sha256_hex(&harmless).as_str())
        );
    }
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn nothing_of_a_held_body_leaves_before_the_verdict() {
    use tokio::io::AsyncWriteExt;
    let w = world().await;
    let tcp = connect_via(w.proxy.addr, "oapi.dingtalk.com:443", "")
        .await
        .unwrap();
    let mut tls = tls_over(tcp, "oapi.dingtalk.com", w.roots(), &[b"http/1.1"])
        .await
        .unwrap();
    let body = "會議紀錄：下週一上午十時。".repeat(100);
    let head = format!(
        "POST /topapi/message/corpconversation/asyncsend_v2 HTTP/1.1\r\nHost: oapi.dingtalk.com\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    tls.flush().await.unwrap();
    // Half the body is with the proxy: give it every chance to leak (bounded), then check it did not.
    for _ in 0..20 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        assert_eq!(
            w.dingtalk.heads_seen(),
            0,
            "a held body must not start upstream"
        );
    }
    let r = raw_exchange(&mut tls, &body.as_bytes()[body.len() / 2..]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(w.dingtalk.requests()[0].sha256, sha256_hex(body.as_bytes()));
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn api_style_block_and_browser_page() {
    let w = world().await;
    let form = serde_json::json!({"formComponentValues": [{"name": "身份證", "value": hkid(7)}]});
    let a = w
        .post_json("api.dingtalk.com", "/v1.0/workflow/processInstances", &form)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let j = a.json();
    assert_eq!(j["code"], "Forbidden.AccessDenied.DataResidency");
    assert!(j["requestid"].as_str().unwrap().starts_with("slc-"));
    assert_eq!(
        a.headers.get("x-acs-request-id").unwrap(),
        j["requestid"].as_str().unwrap()
    );
    assert_eq!(w.dingtalk.heads_seen(), 0);
    w.proxy.shutdown().await;

    // A browser gets a page; anything else a 451 with JSON.
    let policy = format!("policy:\n  rules:\n    - name: no-oss\n      when: {{ host: [\"{OSS_HOST}\"] }}\n      action: block\n");
    let w = world_with(Some(&policy), |_| {}).await;
    let a = w
        .call(
            false,
            "PUT",
            OSS_HOST,
            "/x",
            &[("accept", "text/html,application/xhtml+xml")],
            b"x".to_vec(),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(a.text().contains("no-oss") && a.text().contains("slc-"));
    let a = w
        .call(false, "PUT", OSS_HOST, "/x", &[], b"x".to_vec())
        .await;
    assert_eq!(a.status, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS);
    assert_eq!(a.json()["rule"], "no-oss");
    assert_eq!(w.oss.heads_seen(), 0);
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn audit_chain_verifies_and_tampering_is_caught() {
    let w = world().await;
    for i in 0..3 {
        let chat = serde_json::json!({"msg": {"text": {"content": format!("身份證 {}", hkid(i))}}});
        w.post_json(
            "oapi.dingtalk.com",
            "/topapi/message/corpconversation/asyncsend_v2",
            &chat,
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::copy(&w.proxy.audit_path, &path).unwrap();
    w.proxy.shutdown().await;
    let out = sluice_ok(["audit".as_ref(), "verify".as_ref(), path.as_os_str()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 record(s)"));

    let text = std::fs::read_to_string(&path).unwrap();
    let tampered = text.replacen("\"action\":\"block\"", "\"action\":\"allow\"", 1);
    assert_ne!(text, tampered);
    std::fs::write(&path, tampered).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["audit", "verify"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("line 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = w.pki;
}

#[tokio::test]
async fn reload_with_a_broken_config_keeps_the_old_policy() {
    let w = world().await;
    let before = w.proxy.running().policy_hash();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "policy:\n  rules:\n    - name: x\n      when: { classes: { hkid: 1 } }\n      action: block\n").unwrap();
    let err = w
        .proxy
        .running()
        .reload(Some(&broken), &Default::default())
        .expect_err("rejected");
    assert!(err.to_string().contains("hk_id"), "{err}");
    assert_eq!(w.proxy.running().policy_hash(), before);
    // Still enforcing the shipped policy.
    let (body, ctype) = media_upload(3);
    let a = w
        .post("oapi.dingtalk.com", "/media/upload", &ctype, body.clone())
        .await;
    assert_eq!(a.json()["errcode"], 451);

    // A valid new policy (allow everything) takes over atomically.
    let ok = dir.path().join("ok.yaml");
    std::fs::write(&ok, "policy: { default: allow }\n").unwrap();
    let after = w
        .proxy
        .running()
        .reload(Some(&ok), &Default::default())
        .unwrap();
    assert_ne!(after, before);
    let a = w
        .post("oapi.dingtalk.com", "/media/upload", &ctype, body.clone())
        .await;
    a.assert_origin_got(&body, "the upload under the old policy");
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn an_unwritable_audit_log_fails_closed() {
    let w = world_with(None, |c| c.audit.path = "/dev/full".into()).await;
    let (body, ctype) = media_upload(2);
    let a = w
        .post("oapi.dingtalk.io", "/media/upload", &ctype, body)
        .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text());
    assert!(a.text().contains("audit log"));
    assert_eq!(
        w.dingtalk.heads_seen(),
        0,
        "an allowed upload does not go without its record"
    );
    // The health check says so, and the metrics count it.
    let (status, body) = w.proxy.admin_request("GET", "/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"status\":\"failing\""), "{body}");
    let (_, metrics) = w.proxy.admin_request("GET", "/metrics").await;
    assert!(
        metrics.contains("sluice_audit_write_failures_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("sluice_audit_failing 1"), "{metrics}");
    // Requests that need no decision still stream.
    let a = w
        .call(
            false,
            "GET",
            "oapi.dingtalk.com",
            "/gettoken",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn recorded_flows_replay_to_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let har_path = dir.path().join("today.har");
    let pki = Pki::new("test origin CA");
    let names = ["oapi.dingtalk.com", "oapi.dingtalk.io"];
    let origin = Origin::https(pki.issue(&names)).await;
    let resolve: Vec<_> = names.iter().map(|n| (*n, 443, origin.addr)).collect();
    let proxy = spawn_proxy_with(
        shipped_config(Some(pki.ca_file()), &resolve),
        sluice::app::StartOptions {
            record: Some(har_path.clone()),
        },
    )
    .await;
    let roots = roots_from_pem(&proxy.ca_pem());
    let chat = |id: String| {
        serde_json::json!({"msg": {"text": {"content": format!("身份證 {id}")}}}).to_string()
    };
    for (i, host) in names.iter().enumerate() {
        let tcp = connect_via(proxy.addr, &format!("{host}:443"), "")
            .await
            .unwrap();
        let tls = tls_over(tcp, host, roots.clone(), &[b"http/1.1"])
            .await
            .unwrap();
        let mut req = request(
            "POST",
            &format!(
                "https://{host}/topapi/message/corpconversation/asyncsend_v2?access_token=SECRET"
            ),
            full_body(chat(hkid(i as u32))),
        );
        req.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        let a = send(tls, false, req).await;
        assert_eq!(a.status, StatusCode::OK);
    }
    proxy.shutdown().await;

    let text = std::fs::read_to_string(&har_path).unwrap();
    assert!(
        !text.contains(&hkid(0)) && !text.contains(&hkid(1)),
        "identity numbers are masked"
    );
    let har = sluice::replay::har::load_file(&har_path).expect("the recording is a valid HAR");
    assert_eq!(har.entries.len(), 2);
    for e in &har.entries {
        assert!(
            !e.request.url.contains("SECRET"),
            "query secrets are masked: {}",
            e.request.url
        );
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["replay", "--json"])
        .arg(&har_path)
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[1]["action"], "audit");
}
