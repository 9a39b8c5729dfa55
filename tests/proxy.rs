//! The proxy foundation end to end: real sockets, real TLS, HTTP/1.1 and HTTP/2.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use http::StatusCode;
use support::*;

const HOST: &str = "oapi.dingtalk.com";

struct World {
    _pki: Pki,
    origin: Origin,
    proxy: TestProxy,
}

/// An HTTPS origin for `HOST` and a proxy that intercepts it, with `--resolve`
/// pointing `HOST:443` at the origin and the origin's CA as an upstream root.
async fn world() -> World {
    let pki = Pki::new("test origin CA");
    let origin = Origin::https(pki.issue(&[HOST])).await;
    let cfg = test_config(Some(pki.ca_file()), &[(HOST, 443, origin.addr)]);
    let proxy = spawn_proxy(cfg).await;
    World {
        _pki: pki,
        origin,
        proxy,
    }
}

impl World {
    fn sluice_roots(&self) -> Arc<rustls::RootCertStore> {
        roots_from_pem(&self.proxy.ca_pem())
    }

    /// CONNECT to HOST through sluice, then TLS trusting only sluice's CA.
    async fn intercepted(
        &self,
        alpn: &[&[u8]],
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let tcp = connect_via(self.proxy.addr, &format!("{HOST}:443"), "")
            .await
            .expect("CONNECT accepted");
        tls_over(tcp, HOST, self.sluice_roots(), alpn)
            .await
            .expect("TLS with the minted leaf")
    }

    /// CONNECT + TLS (trusting only sluice's CA) + one request.
    async fn upload(&self, h2: bool, body: ReqBody) -> Answer {
        let alpn: &[&[u8]] = if h2 { &[b"h2"] } else { &[b"http/1.1"] };
        let tls = self.intercepted(alpn).await;
        let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        assert_eq!(
            negotiated.as_deref(),
            Some(alpn[0]),
            "ALPN offered by sluice"
        );
        send(
            tls,
            h2,
            request("POST", &format!("https://{HOST}/media/upload"), body),
        )
        .await
    }
}

fn assert_received(answer: &Answer, data: &[u8]) {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let j = answer.json();
    assert_eq!(j["len"].as_u64(), Some(data.len() as u64));
    assert_eq!(j["sha256"].as_str(), Some(sha256_hex(data).as_str()));
}

#[tokio::test]
async fn intercepted_uploads_arrive_byte_exact_h1_and_h2() {
    let w = world().await;
    for h2 in [false, true] {
        for size in [0usize, 1, 10 << 20] {
            let data = pseudo_random(size, size as u64 + 7);
            let a = w.upload(h2, full_body(data.clone())).await;
            assert_received(&a, &data);
        }
        // Chunked (no length announced), in odd-sized frames.
        let data = pseudo_random(300_001, 99);
        let a = w.upload(h2, chunked_body(data.clone(), 7_777)).await;
        assert_received(&a, &data);
    }
    let reqs = w.origin.requests();
    assert_eq!(reqs.len(), 8);
    assert!(reqs
        .iter()
        .all(|r| r.path == "/media/upload" && r.method == "POST"));
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn plain_http_absolute_form() {
    let origin = Origin::http().await;
    let cfg = test_config(None, &[("plain.dingtalk.com", 80, origin.addr)]);
    let proxy = spawn_proxy(cfg).await;
    let data = pseudo_random(70_000, 3);
    let a = plain_via(
        proxy.addr,
        request(
            "PUT",
            "http://plain.dingtalk.com/files/a.bin?x=1",
            full_body(data.clone()),
        ),
    )
    .await;
    assert_received(&a, &data);
    let r = &origin.requests()[0];
    assert_eq!(r.path, "/files/a.bin?x=1", "origin-form upstream");
    assert_eq!(r.host.as_deref(), Some("plain.dingtalk.com"));
    // Keep-alive: a second request on a new connection and the same pool works too.
    let a = plain_via(
        proxy.addr,
        request("GET", "http://plain.dingtalk.com/", full_body("")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    proxy.shutdown().await;
}

#[tokio::test]
async fn http1_keep_alive_on_the_proxy_listener() {
    let origin = Origin::http().await;
    let proxy = spawn_proxy(test_config(None, &[("ka.dingtalk.com", 80, origin.addr)])).await;
    let io =
        hyper_util::rt::TokioIo::new(tokio::net::TcpStream::connect(proxy.addr).await.unwrap());
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    for i in 0..5u64 {
        let data = pseudo_random(1000 + i as usize, i);
        let resp = sender
            .send_request(request(
                "POST",
                "http://ka.dingtalk.com/x",
                full_body(data.clone()),
            ))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        let j: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(j["sha256"].as_str(), Some(sha256_hex(&data).as_str()));
    }
    assert_eq!(origin.requests().len(), 5);
    proxy.shutdown().await;
}

#[tokio::test]
async fn hosts_not_intercepted_are_tunnelled() {
    let pki = Pki::new("test origin CA");
    let origin = Origin::https(pki.issue(&["www.example.org"])).await;
    let cfg = test_config(
        Some(pki.ca_file()),
        &[("www.example.org", 443, origin.addr)],
    );
    let proxy = spawn_proxy(cfg).await;
    let tcp = connect_via(proxy.addr, "www.example.org:443", "")
        .await
        .expect("CONNECT");
    // The client trusts only the origin's own CA: a minted leaf would fail here.
    let tls = tls_over(tcp, "www.example.org", pki.roots(), &[b"http/1.1"])
        .await
        .expect("the origin's own certificate, end to end");
    let chain = peer_chain(&tls);
    assert_eq!(
        chain.last(),
        Some(&pki.ca_der),
        "chain ends at the origin's CA"
    );
    let data = pseudo_random(5000, 1);
    let a = send(
        tls,
        false,
        request("POST", "https://www.example.org/x", full_body(data.clone())),
    )
    .await;
    assert_received(&a, &data);
    proxy.shutdown().await;
}

#[tokio::test]
async fn bypass_list_exempts_pinned_hosts() {
    let pki = Pki::new("test origin CA");
    let origin = Origin::https(pki.issue(&["pinned.dingtalk.com"])).await;
    let mut cfg = test_config(
        Some(pki.ca_file()),
        &[("pinned.dingtalk.com", 443, origin.addr)],
    );
    cfg.intercept.bypass.push("pinned.dingtalk.com".into());
    let proxy = spawn_proxy(cfg).await;
    let tcp = connect_via(proxy.addr, "pinned.dingtalk.com:443", "")
        .await
        .expect("CONNECT");
    let tls = tls_over(tcp, "pinned.dingtalk.com", pki.roots(), &[b"http/1.1"]).await;
    assert!(tls.is_ok(), "bypassed host sees its own certificate");
    proxy.shutdown().await;
}

#[tokio::test]
async fn untrusted_upstream_gives_502_and_no_minted_certificate() {
    let pki = Pki::new("an untrusted CA");
    let origin = Origin::https(pki.issue(&[HOST])).await;
    // No --upstream-ca: the origin's CA is unknown to sluice.
    let proxy = spawn_proxy(test_config(None, &[(HOST, 443, origin.addr)])).await;
    let err = connect_via(proxy.addr, &format!("{HOST}:443"), "")
        .await
        .expect_err("CONNECT must be refused");
    assert_eq!(err.status, StatusCode::BAD_GATEWAY);
    assert!(
        err.body.contains("not trusted") || err.body.contains("UnknownIssuer"),
        "{}",
        err.body
    );
    assert!(origin.requests().is_empty());
    proxy.shutdown().await;
}

#[tokio::test]
async fn wrong_name_upstream_gives_502() {
    let pki = Pki::new("test origin CA");
    let origin = Origin::https(pki.issue(&["someone-else.example"])).await;
    let proxy = spawn_proxy(test_config(
        Some(pki.ca_file()),
        &[(HOST, 443, origin.addr)],
    ))
    .await;
    let err = connect_via(proxy.addr, &format!("{HOST}:443"), "")
        .await
        .expect_err("CONNECT must be refused");
    assert_eq!(err.status, StatusCode::BAD_GATEWAY);
    assert!(
        err.body.contains("name") || err.body.contains("NotValidForName"),
        "{}",
        err.body
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn acl_refuses_clients_outside_the_ranges() {
    let mut cfg = test_config(None, &[]);
    cfg.clients.allow = vec!["10.99.0.0/16".parse().unwrap()];
    let proxy = spawn_proxy(cfg).await;
    let mut s = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let r = raw_exchange(
        &mut s,
        b"GET http://a.dingtalk.com/ HTTP/1.1\r\nHost: a.dingtalk.com\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("may not use this proxy"));
    proxy.shutdown().await;
}

#[tokio::test]
async fn proxy_authentication() {
    let origin = Origin::http().await;
    let mut cfg = test_config(None, &[("auth.dingtalk.com", 80, origin.addr)]);
    cfg.auth = Some(sluice::config::AuthConfig {
        realm: "office".into(),
        users: vec![sluice::config::UserConfig {
            name: "alice".into(),
            password_sha256: sha256_hex(b"pa55"),
        }],
    });
    let proxy = spawn_proxy(cfg).await;
    let ask = |auth: &str| {
        format!("GET http://auth.dingtalk.com/ HTTP/1.1\r\nHost: auth.dingtalk.com\r\n{auth}Connection: close\r\n\r\n")
    };
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for header in [
        "".to_string(),
        format!("Proxy-Authorization: Basic {}\r\n", b64("alice:nope")),
    ] {
        let mut s = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
        let r = raw_exchange(&mut s, ask(&header).as_bytes()).await;
        assert_eq!(r.status, StatusCode::PROXY_AUTHENTICATION_REQUIRED);
        assert!(r.head.contains("Basic realm=\"office\""), "{}", r.head);
    }
    // CONNECT is refused the same way.
    let err = connect_via(proxy.addr, "x.dingtalk.com:443", "")
        .await
        .expect_err("407");
    assert_eq!(err.status, StatusCode::PROXY_AUTHENTICATION_REQUIRED);
    let mut s = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let ok = format!("Proxy-Authorization: Basic {}\r\n", b64("alice:pa55"));
    let r = raw_exchange(&mut s, ask(&ok).as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(origin.requests().len(), 1);
    assert!(
        origin.requests()[0]
            .headers
            .get("proxy-authorization")
            .is_none(),
        "credentials are not forwarded"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn connect_to_internal_addresses_is_refused() {
    let origin = Origin::http().await;
    let proxy = spawn_proxy(test_config(None, &[])).await;
    for target in [
        format!("127.0.0.1:{}", origin.port()),
        "169.254.169.254:80".into(),
        "[::1]:443".into(),
        // The proxy itself.
        proxy.addr.to_string(),
    ] {
        let err = connect_via(proxy.addr, &target, "")
            .await
            .expect_err("refused");
        assert_eq!(err.status, StatusCode::FORBIDDEN, "{target}: {}", err.body);
    }
    // Absolute-form requests meet the same rule.
    let mut s = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let req = format!(
        "GET http://127.0.0.1:{}/ HTTP/1.1\r\nHost: x\r\n\r\n",
        origin.port()
    );
    let r = raw_exchange(&mut s, req.as_bytes()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(origin.requests().is_empty());
    proxy.shutdown().await;
}

#[tokio::test]
async fn malformed_and_oversized_requests_then_keeps_serving() {
    let origin = Origin::http().await;
    let proxy = spawn_proxy(test_config(None, &[("ok.dingtalk.com", 80, origin.addr)])).await;
    let cases: Vec<(Vec<u8>, StatusCode)> = vec![
        (b"THIS IS NOT HTTP\r\n\r\n".to_vec(), StatusCode::BAD_REQUEST),
        (b"GET http://ok.dingtalk.com/ HTTP/1.1\r\nBad Header\r\n\r\n".to_vec(), StatusCode::BAD_REQUEST),
        (
            format!(
                "GET http://ok.dingtalk.com/ HTTP/1.1\r\nHost: ok.dingtalk.com\r\nX-Big: {}\r\n\r\n",
                "a".repeat(100 * 1024)
            )
            .into_bytes(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ),
        (b"GET /origin-form HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), StatusCode::BAD_REQUEST),
        (b"CONNECT nohost HTTP/1.1\r\nHost: nohost\r\n\r\n".to_vec(), StatusCode::BAD_REQUEST),
    ];
    for (raw, want) in cases {
        let mut s = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
        let r = raw_exchange(&mut s, &raw).await;
        assert_eq!(
            r.status,
            want,
            "{:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(60)])
        );
    }
    let a = plain_via(
        proxy.addr,
        request("GET", "http://ok.dingtalk.com/still", full_body("")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    proxy.shutdown().await;
}

#[tokio::test]
async fn ca_key_is_private_leaf_keys_are_their_own_and_ca_is_constrained() {
    use std::os::unix::fs::PermissionsExt;
    let w = world().await;
    let key_path = w.proxy.ca_dir.join("sluice-ca.key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "CA key mode");

    let tls = w.intercepted(&[b"http/1.1"]).await;
    let chain = peer_chain(&tls);
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let ca_der =
        rustls::pki_types::CertificateDer::from_pem_slice(w.proxy.ca_pem().as_bytes()).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    assert_ne!(
        leaf.public_key().raw,
        ca.public_key().raw,
        "the leaf has its own key"
    );
    assert_eq!(leaf.issuer(), ca.subject());
    let nc = ca
        .name_constraints()
        .unwrap()
        .expect("CA carries name constraints")
        .value;
    let permitted: Vec<String> = nc
        .permitted_subtrees
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| format!("{:?}", s.base))
        .collect();
    for d in ["dingtalk.com", "dingtalk.io", "aliyuncs.com"] {
        assert!(
            permitted.iter().any(|p| p.contains(d)),
            "{d} in {permitted:?}"
        );
    }
    assert!(!permitted.iter().any(|p| p.contains("example")));
    w.proxy.shutdown().await;
}

use rustls::pki_types::pem::PemObject as _;

#[tokio::test]
async fn websocket_upgrade_passes_through_interception() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world().await;
    let mut tls = w.intercepted(&[b"http/1.1"]).await;
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let r = raw_exchange(&mut tls, req.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SWITCHING_PROTOCOLS, "{}", r.head);
    tls.write_all(b"hello through sluice").await.unwrap();
    let mut buf = [0u8; 20];
    tls.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello through sluice");
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn an_h2c_upgrade_offer_is_dropped_and_the_request_goes_on_as_http1() {
    let w = world().await;
    let mut tls = w.intercepted(&[b"http/1.1"]).await;
    let req = format!(
        "POST /x HTTP/1.1\r\nHost: {HOST}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 5\r\n\r\nhello"
    );
    let r = raw_exchange(&mut tls, req.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.head);
    let got = w.origin.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0].body[..], b"hello");
    for h in ["upgrade", "http2-settings"] {
        assert!(got[0].headers.get(h).is_none(), "{h} reached the origin");
    }
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn misdirected_host_inside_an_intercepted_session_is_refused() {
    let w = world().await;
    let tls = w.intercepted(&[b"http/1.1"]).await;
    let a = send(
        tls,
        false,
        request("POST", "https://api.dingtalk.io/x", full_body("x")),
    )
    .await;
    assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(w.origin.requests().is_empty());
    w.proxy.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_lets_in_flight_requests_finish() {
    use tokio::io::AsyncWriteExt;
    let origin = Origin::http().await;
    let proxy = spawn_proxy(test_config(None, &[("slow.dingtalk.com", 80, origin.addr)])).await;
    let addr: SocketAddr = proxy.addr;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST http://slow.dingtalk.com/up HTTP/1.1\r\nHost: slow.dingtalk.com\r\nContent-Length: 10\r\n\r\nhello")
        .await
        .unwrap();
    // Shutdown begins while the body is half sent…
    let stopping = tokio::spawn(proxy.shutdown());
    tokio::task::yield_now().await;
    // …and new connections are no longer accepted once the listener is gone.
    let r = raw_exchange(&mut s, b"world").await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "in-flight request finished: {}",
        r.body
    );
    stopping.await.unwrap();
    assert_eq!(origin.requests()[0].body.as_ref(), b"helloworld");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test]
async fn connection_limit_refuses_the_connection_past_it() {
    let mut cfg = test_config(None, &[]);
    cfg.limits.max_connections = 1;
    let proxy = spawn_proxy(cfg).await;
    // The first connection holds the only slot (a half-sent request head).
    use tokio::io::AsyncWriteExt;
    let mut first = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    first
        .write_all(b"GET http://a.dingtalk.com/ HTTP/1.1\r\n")
        .await
        .unwrap();
    let mut second = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let r = raw_exchange(&mut second, b"").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("connection limit"));
    drop(first);
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_slow_request_head_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut cfg = test_config(None, &[]);
    cfg.limits.header_read_timeout =
        sluice::config::units::Dur(std::time::Duration::from_millis(200));
    let proxy = spawn_proxy(cfg).await;
    let mut s = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    s.write_all(b"GET http://a.dingtalk.com/ HTTP/1.1\r\nHost: a")
        .await
        .unwrap();
    // The proxy closes the connection (possibly after a 408): reading ends, bounded by 5s.
    let mut buf = Vec::new();
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the proxy closed a connection whose head never completed"
    );
    proxy.shutdown().await;
}
