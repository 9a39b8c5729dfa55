//! A real client: curl through sluice, with sluice's CA as its only trust anchor.

mod support;

use support::*;

const HOST: &str = "oapi.dingtalk.com";

/// curl through `proxy` (bounded in time), with `args` after the common flags.
async fn curl(proxy: &TestProxy, args: Vec<String>) -> (bool, String, String) {
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "--max-time", "30", "--proxy", &proxy.url()])
        .args(&args)
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .output()
        .await
        .expect("curl is installed (.ci/run installs it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
