//! WebSocket messages through a live sluice: DingTalk's web IM sends its chat
//! over one (`wss://webalfa-cm3.dingtalk.com/lwp`). Each message the client
//! sends is held and decided as an upload; a blocked one never reaches the
//! origin. A real client (tungstenite) against a real server where the frames
//! are ordinary; raw frames where compression and fragmentation are the point.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

const MAINLAND: &str = "webalfa-cm3.dingtalk.com";
const ABROAD: &str = "webalfa.dingtalk.io";
const STAFF: &str = r#"{"lwp":"/r/IDLMessage/sendMessage","body":[{"content":"員工名單：陳大文 A123456(3)，電話 6612 3456"}]}"#;
const CLEAN: &str =
    r#"{"lwp":"/r/IDLMessage/sendMessage","body":[{"content":"午飯後開會，謝謝"}]}"#;

/// The shipped policy, with `hosts` resolved to the origin at `addr`.
async fn proxy_for(
    pki: &Pki,
    hosts: &[&str],
    addr: std::net::SocketAddr,
    tweak: impl FnOnce(&mut sluice::config::Config),
) -> TestProxy {
    let resolve: Vec<_> = hosts.iter().map(|h| (*h, 443, addr)).collect();
    let mut cfg = shipped_config(Some(pki.ca_file()), &resolve);
    tweak(&mut cfg);
    spawn_proxy(cfg).await
}

async fn tls_via(
    proxy: &TestProxy,
    host: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let tcp = connect_via(proxy.addr, &format!("{host}:443"), "")
        .await
        .expect("CONNECT");
    tls_over(tcp, host, roots_from_pem(&proxy.ca_pem()), &[b"http/1.1"])
        .await
        .expect("TLS")
}

fn message_records(proxy: &TestProxy) -> Vec<serde_json::Value> {
    proxy
        .audit_records()
        .into_iter()
        .filter(|r| r["method"] == "WEBSOCKET")
        .collect()
}

const WAIT: Duration = Duration::from_secs(10);

type WsClient =
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// A tungstenite client connected through `proxy` to `wss://{host}/lwp`.
async fn ws_client(proxy: &TestProxy, host: &str) -> WsClient {
    let tls = tls_via(proxy, host).await;
    let (ws, _) = tokio_tungstenite::client_async(format!("wss://{host}/lwp"), tls)
        .await
        .expect("handshake through sluice");
    ws
}

/// The shipped policy's sluice in front of a tungstenite origin for `host`,
/// and a client connected through it.
async fn web_im(host: &'static str) -> (WsClient, Seen, TestProxy) {
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[host], false).await;
    let proxy = proxy_for(&pki, &[host], addr, |_| {}).await;
    (ws_client(&proxy, host).await, seen, proxy)
}

#[tokio::test]
async fn a_chat_message_with_identity_data_never_reaches_the_mainland() {
    let (mut ws, seen, proxy) = web_im(MAINLAND).await;
    ws.send(Message::text(CLEAN)).await.unwrap();
    let ack = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert_eq!(ack.unwrap().unwrap(), Message::text("ack 1"));

    ws.send(Message::text(STAFF)).await.unwrap();
    let close = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    let Some(Ok(Message::Close(Some(frame)))) = close else {
        panic!("expected a Close frame, got {close:?}");
    };
    assert_eq!(frame.code, CloseCode::Policy);
    assert!(
        frame.reason.contains("sensitive-to-mainland"),
        "{}",
        frame.reason
    );
    assert!(
        frame.reason.contains("slc-"),
        "names the ticket: {}",
        frame.reason
    );
    assert!(!frame.reason.contains("A123456"), "never the value");

    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .expect("the origin's connection ends");
    assert_eq!(
        *seen.messages.lock().unwrap(),
        [CLEAN],
        "only the clean message arrived"
    );

    let recs = message_records(&proxy);
    assert_eq!(recs.len(), 2, "{recs:#?}");
    assert_eq!(recs[0]["action"], "allow");
    assert_eq!(recs[0]["path"], "/lwp");
    assert_eq!(recs[0]["jurisdiction"], "mainland-china");
    assert_eq!(recs[0]["body_sha256"], sha256_hex(CLEAN.as_bytes()));
    assert_eq!(recs[0]["bytes"], CLEAN.len());
    assert_eq!(recs[1]["action"], "block");
    assert_eq!(recs[1]["rule"], "sensitive-to-mainland");
    assert_eq!(recs[1]["classes"]["hk_id"], 1);
    assert_eq!(recs[1]["classes"]["phone"], 1);
    assert_eq!(recs[1]["samples"]["hk_id"][0], "A12****(3)");
    assert!(frame.reason.contains(recs[1]["id"].as_str().unwrap()));
    proxy.shutdown().await;
}

#[tokio::test]
async fn the_same_message_to_the_international_edition_passes_and_is_recorded() {
    let (mut ws, seen, proxy) = web_im(ABROAD).await;
    for n in 1..=3 {
        ws.send(Message::text(STAFF)).await.unwrap();
        let ack = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        assert_eq!(ack.unwrap().unwrap(), Message::text(format!("ack {n}")));
    }
    // Pings pass without a record; the server's pong comes back.
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert!(matches!(pong, Some(Ok(Message::Pong(_)))), "{pong:?}");
    ws.close(None).await.unwrap();
    assert_eq!(seen.messages.lock().unwrap().len(), 3);
    let recs = message_records(&proxy);
    assert_eq!(recs.len(), 3, "one per message, none for the ping");
    for r in &recs {
        assert_eq!(
            (&r["action"], &r["rule"], &r["jurisdiction"]),
            (
                &serde_json::json!("audit"),
                &serde_json::json!("sensitive-abroad-audited"),
                &serde_json::json!("singapore")
            )
        );
    }
    proxy.shutdown().await;
}

/// The handshake's query goes up before any message: an identity number in
/// it is decided as the socket's first message would be, and kept out of the
/// records.
#[tokio::test]
async fn data_in_the_handshake_query_is_decided_as_the_first_message() {
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[MAINLAND, ABROAD], false).await;
    let proxy = proxy_for(&pki, &[MAINLAND, ABROAD], addr, |_| {}).await;
    let url = |host: &str| format!("wss://{host}/lwp?token=t0k&note=HKID%20A123456(3)");

    let tls = tls_via(&proxy, MAINLAND).await;
    let refused = tokio_tungstenite::client_async(url(MAINLAND), tls).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(resp)) = refused else {
        panic!("the handshake should be refused: {refused:?}");
    };
    assert_eq!(resp.status(), 451);
    assert!(seen.messages.lock().unwrap().is_empty());

    let tls = tls_via(&proxy, ABROAD).await;
    let (mut ws, _) = tokio_tungstenite::client_async(url(ABROAD), tls)
        .await
        .expect("abroad the handshake is audited and goes through");
    ws.send(Message::text(CLEAN)).await.unwrap();
    let ack = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert_eq!(ack.unwrap().unwrap(), Message::text("ack 1"));
    ws.close(None).await.unwrap();
    assert_eq!(*seen.messages.lock().unwrap(), [CLEAN]);

    let recs = message_records(&proxy);
    let got: Vec<_> = recs
        .iter()
        .map(|r| (r["action"].clone(), r["classes"]["hk_id"].clone()))
        .collect();
    let want = [
        (serde_json::json!("block"), serde_json::json!(1)),
        (serde_json::json!("audit"), serde_json::json!(1)),
        (serde_json::json!("allow"), serde_json::Value::Null),
    ];
    assert_eq!(got, want, "{recs:#?}");
    for r in &recs {
        assert_eq!(r["path"], "/lwp?token=REDACTED&note=REDACTED", "{r}");
    }
    proxy.shutdown().await;
}

/// A client frame, masked, with RSV1 when `compressed`.
fn client_frame(fin: bool, compressed: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xFA, 0x21, 0x3D];
    let mut out = vec![(u8::from(fin) << 7) | (u8::from(compressed) << 6) | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(k, b)| b ^ mask[k % 4]));
    out
}

/// Deflates `data` as permessage-deflate does: one stream across messages,
/// each message flushed and its 00 00 FF FF tail taken off.
fn deflate_message(z: &mut flate2::Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    z.compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    out.truncate(out.len() - 4);
    out
}

/// A raw WebSocket handshake through the proxy, offering permessage-deflate.
async fn raw_client(
    proxy: &TestProxy,
    host: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut tls = tls_via(proxy, host).await;
    let req = format!(
        "GET /lwp HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    );
    tls.write_all(req.as_bytes()).await.unwrap();
    let head = read_http_head(&mut tls).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("permessage-deflate"),
        "{head}"
    );
    tls
}

#[tokio::test]
async fn compressed_fragmented_messages_are_read_through_and_pass_byte_exact() {
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[MAINLAND], true).await;
    let proxy = proxy_for(&pki, &[MAINLAND], addr, |_| {}).await;
    let mut tls = raw_client(&proxy, MAINLAND).await;

    let mut z = flate2::Compress::new(flate2::Compression::default(), false);
    let first = client_frame(true, true, 1, &deflate_message(&mut z, CLEAN.as_bytes()));
    // The second message refers back to the first (context takeover), comes
    // in three fragments, and has a ping between them.
    let second = deflate_message(&mut z, STAFF.as_bytes());
    let (a, rest) = second.split_at(second.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    let ping = client_frame(true, false, 9, b"hb");
    let wire = [
        first.clone(),
        client_frame(false, true, 1, a),
        ping.clone(),
        client_frame(false, false, 0, b),
        client_frame(true, false, 0, c),
    ]
    .concat();
    // Byte by byte where it is hardest: frame headers cut anywhere.
    for piece in wire.chunks(7) {
        tls.write_all(piece).await.unwrap();
    }
    let mut back = Vec::new();
    tokio::time::timeout(WAIT, tls.read_to_end(&mut back))
        .await
        .expect("the proxy closes the client")
        .ok();
    assert_eq!(back[0], 0x88, "a Close frame: {back:?}");
    assert_eq!(&back[2..4], &1008u16.to_be_bytes());

    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .expect("the origin's connection ends");
    let raw = seen.raw.lock().unwrap().clone();
    // The first message exactly as sent, the ping, then sluice's own Close
    // (1001, masked: 2 + 4 + 2 bytes); nothing of the second message.
    let expected = [first, ping].concat();
    assert_eq!(&raw[..expected.len()], &expected[..]);
    let close = &raw[expected.len()..];
    assert_eq!(
        (close.len(), close[0], close[1]),
        (8, 0x88, 0x82),
        "{close:?}"
    );

    let recs = message_records(&proxy);
    assert_eq!(recs.len(), 2, "{recs:#?}");
    assert_eq!(recs[0]["action"], "allow");
    assert_eq!(
        recs[0]["body_sha256"],
        sha256_hex(CLEAN.as_bytes()),
        "of the data as sent"
    );
    assert_eq!(
        (&recs[1]["action"], &recs[1]["classes"]["hk_id"]),
        (&"block".into(), &1.into())
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_message_past_the_hold_limit_is_blocked_to_the_mainland_and_passes_abroad() {
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[MAINLAND, ABROAD], true).await;
    let proxy = proxy_for(&pki, &[MAINLAND, ABROAD], addr, |cfg| {
        cfg.hold.memory = sluice::config::units::Bytes::kib(64);
    })
    .await;
    // 200 KiB of plain text in two frames: more than the 64 KiB held.
    let big = "午飯後開會，謝謝。".repeat(8 * 1024);
    let (x, y) = big.as_bytes().split_at(100 * 1024);
    let wire = [
        client_frame(false, false, 1, x),
        client_frame(true, false, 0, y),
    ]
    .concat();

    let mut tls = raw_client(&proxy, MAINLAND).await;
    tls.write_all(&wire).await.unwrap();
    let mut back = Vec::new();
    tokio::time::timeout(WAIT, tls.read_to_end(&mut back))
        .await
        .expect("closed")
        .ok();
    assert_eq!(
        &back[2..4],
        &1008u16.to_be_bytes(),
        "blocked as uninspected"
    );
    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .unwrap();
    assert_eq!(
        seen.raw.lock().unwrap().len(),
        8,
        "only sluice's Close reached the origin"
    );
    let rec = message_records(&proxy).pop().unwrap();
    assert_eq!(
        (&rec["action"], &rec["incomplete"]["reason"]),
        (&"block".into(), &"hold_limit".into())
    );
    seen.raw.lock().unwrap().clear();

    // Abroad the audit rule lets an incomplete message go: whole, byte exact.
    let mut tls = raw_client(&proxy, ABROAD).await;
    tls.write_all(&wire).await.unwrap();
    tls.shutdown().await.unwrap();
    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .unwrap();
    assert_eq!(*seen.raw.lock().unwrap(), wire);
    let rec = message_records(&proxy).pop().unwrap();
    assert_eq!(
        (&rec["action"], &rec["incomplete"]["reason"]),
        (&"audit".into(), &"hold_limit".into())
    );

    // While the rest of it passes unheld, a new message cannot ride along.
    seen.raw.lock().unwrap().clear();
    let first = client_frame(false, false, 1, x);
    let sneaky = client_frame(true, false, 1, STAFF.as_bytes());
    let mut tls = raw_client(&proxy, ABROAD).await;
    tls.write_all(&[first.clone(), sneaky].concat())
        .await
        .unwrap();
    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .unwrap();
    assert_eq!(
        *seen.raw.lock().unwrap(),
        first,
        "only the held part went on"
    );
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_rule_that_stops_every_message_refuses_the_handshake_itself() {
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[MAINLAND], false).await;
    let proxy = proxy_for(&pki, &[MAINLAND], addr, |cfg| {
        set_policy(
            cfg,
            "policy:\n  default: allow\n  rules:\n    - { name: no-web-im, when: { host: webalfa-cm3.dingtalk.com, method: WEBSOCKET }, action: block }\n",
        );
    })
    .await;
    let tls = tls_via(&proxy, MAINLAND).await;
    let refused = tokio_tungstenite::client_async(format!("wss://{MAINLAND}/lwp"), tls).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(resp)) = refused else {
        panic!("the handshake should be refused: {refused:?}");
    };
    assert_eq!(resp.status(), 451);
    assert!(seen.messages.lock().unwrap().is_empty());
    let recs = message_records(&proxy);
    assert_eq!(recs.len(), 1);
    assert_eq!(
        (&recs[0]["action"], &recs[0]["rule"]),
        (&"block".into(), &"no-web-im".into())
    );
    // Other requests to the host are not messages: the rule leaves them alone.
    let answer = tokio::time::timeout(WAIT, async {
        let tls = tls_via(&proxy, MAINLAND).await;
        send(
            tls,
            false,
            request(
                "GET",
                &format!("https://{MAINLAND}/"),
                full_body(Vec::new()),
            ),
        )
        .await
    })
    .await
    .unwrap();
    // Whatever the origin made of a plain GET, sluice neither answered nor
    // recorded it: the one decision on record is the refused handshake.
    assert!(
        answer.headers.get("x-sluice-ticket").is_none(),
        "{answer:?}"
    );
    assert_ne!(answer.status, 451);
    assert_eq!(proxy.audit_records().len(), 1);
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_message_cut_short_or_stalled_is_never_sent() {
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[ABROAD], true).await;
    let proxy = proxy_for(&pki, &[ABROAD], addr, |cfg| {
        cfg.limits.idle_timeout = sluice::config::units::Dur::secs(1);
    })
    .await;
    let whole = client_frame(true, false, 1, CLEAN.as_bytes());
    let (half, _) = whole.split_at(whole.len() / 2);

    // The client goes away in the middle of its message.
    let mut tls = raw_client(&proxy, ABROAD).await;
    tls.write_all(half).await.unwrap();
    tls.shutdown().await.unwrap();
    drop(tls);
    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .unwrap();
    assert!(seen.raw.lock().unwrap().is_empty(), "nothing of it left");

    // The client stops sending in the middle: the idle timeout ends it.
    let mut tls = raw_client(&proxy, ABROAD).await;
    tls.write_all(half).await.unwrap();
    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .expect("closed after the idle timeout");
    assert!(seen.raw.lock().unwrap().is_empty());
    assert!(message_records(&proxy).is_empty(), "no message was decided");
    proxy.shutdown().await;
}

#[tokio::test]
async fn an_upgrade_to_another_protocol_is_an_upload_that_cannot_be_read() {
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[MAINLAND, ABROAD], true).await;
    let proxy = proxy_for(&pki, &[MAINLAND, ABROAD], addr, |_| {}).await;
    let ask = |host: &str| {
        format!(
            "GET /tunnel HTTP/1.1\r\nHost: {host}\r\nUpgrade: x-tunnel\r\nConnection: Upgrade\r\n\r\n"
        )
    };
    // To the mainland: refused before the origin hears of it.
    let mut tls = tls_via(&proxy, MAINLAND).await;
    tls.write_all(ask(MAINLAND).as_bytes()).await.unwrap();
    let head = read_http_head(&mut tls).await;
    assert!(head.starts_with("HTTP/1.1 451"), "{head}");
    assert!(seen.raw.lock().unwrap().is_empty());
    // Abroad the audit rule lets it through, and says what could not be read.
    let mut tls = tls_via(&proxy, ABROAD).await;
    tls.write_all(ask(ABROAD).as_bytes()).await.unwrap();
    let head = read_http_head(&mut tls).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let recs: Vec<_> = proxy
        .audit_records()
        .into_iter()
        .filter(|r| r["method"] == "UPGRADE")
        .collect();
    assert_eq!(recs.len(), 2, "{recs:#?}");
    assert_eq!(
        (&recs[0]["action"], &recs[0]["rule"]),
        (&"block".into(), &"sensitive-to-mainland".into())
    );
    assert_eq!(recs[1]["action"], "audit");
    assert_eq!(recs[1]["incomplete"]["reason"], "unsupported");
    proxy.shutdown().await;
}

#[tokio::test]
async fn a_recorded_web_im_session_replays_to_the_same_verdict() {
    use sluice::replay::{har, offline};
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[MAINLAND], false).await;
    let dir = tempfile::tempdir().unwrap();
    let har_path = dir.path().join("web-im.har");
    let resolve = [(MAINLAND, 443, addr)];
    let cfg = shipped_config(Some(pki.ca_file()), &resolve);
    let opts = sluice::app::StartOptions {
        record: Some(har_path.clone()),
    };
    let proxy = spawn_proxy_with(cfg.clone(), opts).await;
    let mut ws = ws_client(&proxy, MAINLAND).await;
    ws.send(Message::text(CLEAN)).await.unwrap();
    let ack = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert_eq!(ack.unwrap().unwrap(), Message::text("ack 1"));
    ws.send(Message::text(STAFF)).await.unwrap();
    let close = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert!(
        matches!(close, Some(Ok(Message::Close(Some(_))))),
        "{close:?}"
    );
    tokio::time::timeout(WAIT, seen.closed.notified())
        .await
        .unwrap();
    proxy.shutdown().await;

    // One entry: the handshake, its 101, and both messages the client sent
    // (the blocked one too, its identity digits masked).
    let capture = har::load_file(&har_path).expect("a valid HAR");
    assert_eq!(capture.entries.len(), 1, "{capture:#?}");
    let entry = &capture.entries[0];
    assert_eq!(entry.response.as_ref().map(|r| r.status), Some(101));
    let sent: Vec<String> = entry
        .sent_messages
        .iter()
        .map(|m| String::from_utf8_lossy(&m.data).into_owned())
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0], CLEAN);
    assert!(!sent[1].contains("A123456"), "masked: {}", sent[1]);
    let outs = offline::replay(&cfg, &capture).unwrap();
    assert_eq!(
        (outs[0].action, outs[0].rule.as_deref()),
        (sluice::policy::Action::Block, Some("sensitive-to-mainland"))
    );
}

#[tokio::test]
async fn a_rerouted_socket_still_has_its_messages_read_where_it_goes() {
    const REROUTED: &str = "webalfa-cm3.dingtalk.io";
    let pki = Pki::new("ws origin CA");
    let (addr, seen) = ws_origin(&pki, &[MAINLAND, REROUTED], false).await;
    let proxy = proxy_for(&pki, &[MAINLAND, REROUTED], addr, |cfg| {
        set_policy(
            cfg,
            "policy:
  default: allow
  upstreams:
    international-edition: { host_map: { from: .dingtalk.com, to: .dingtalk.io } }
  rules:
    - { name: web-im-abroad, when: { jurisdiction: mainland-china, method: WEBSOCKET }, action: reroute, upstream: international-edition }
    - { name: identity-abroad, when: { jurisdiction: singapore, classes: { hk_id: 1 } }, action: audit }
",
        );
    })
    .await;
    let mut ws = ws_client(&proxy, MAINLAND).await;
    ws.send(Message::text(STAFF)).await.unwrap();
    let ack = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert_eq!(ack.unwrap().unwrap(), Message::text("ack 1"));
    assert_eq!(*seen.messages.lock().unwrap(), [STAFF]);
    let recs = proxy.audit_records();
    let handshake = recs
        .iter()
        .find(|r| r["action"] == "reroute")
        .expect("the handshake's record");
    assert!(handshake["target"].as_str().unwrap().contains(REROUTED));
    // The handshake's record names WEBSOCKET too (the rule it met is about
    // messages); the message's is the one for the new host.
    let msgs: Vec<_> = message_records(&proxy)
        .into_iter()
        .filter(|r| r["host"] == REROUTED)
        .collect();
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert_eq!(
        (
            &msgs[0]["action"],
            &msgs[0]["rule"],
            &msgs[0]["host"],
            &msgs[0]["jurisdiction"]
        ),
        (
            &"audit".into(),
            &"identity-abroad".into(),
            &REROUTED.into(),
            &"singapore".into()
        )
    );
    proxy.shutdown().await;
}
