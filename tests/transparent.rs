//! Transparent mode end to end, as a gateway runs it: iptables redirects
//! curl's connections to sluice, which learns where they were going from the
//! kernel. Everything runs in a network namespace of the test's own (made by
//! its thread, inherited by the runtime's threads and by every command it
//! starts), so no rule touches the machine. Needs root, `ip` and `iptables`
//! (`.ci/run` installs iptables).

mod support;

use std::process::Command;

use support::*;

const HKID_MESSAGE: &str = r#"{"msgtype":"text","text":{"content":"new staff HKID A123456(3)"}}"#;
const PLAIN_MESSAGE: &str = r#"{"msgtype":"text","text":{"content":"lunch at 12:30?"}}"#;

/// Runs a command line (words split on spaces), which must succeed.
fn run(line: &str) {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]));
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// POSTs `body` to `url` with curl and no proxy, from the source ports
/// `ports` (which the namespace's rule redirects), `resolve` sending the host
/// to TEST-NET and `ca` (if any) its only trust anchor: the JSON answer.
async fn post(
    ports: &str,
    ca: Option<&str>,
    resolve: &str,
    body: &str,
    url: &str,
) -> serde_json::Value {
    let mut args = vec!["--local-port", ports, "--resolve", resolve];
    if let Some(ca) = ca {
        args.extend(["--cacert", ca]);
    }
    args.extend([
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body,
        url,
    ]);
    let (ok, out, err) = run_curl(None, &args).await;
    assert!(ok, "{url}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{url}: {e}: {out}"))
}

#[test]
fn redirected_connections_are_decided_by_where_they_were_going() {
    std::thread::spawn(|| {
        // SAFETY: unshare(2) with CLONE_NEWNET moves only this thread (and
        // what it starts from now on) into a new, empty network namespace.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "unshare(CLONE_NEWNET) needs root: {}",
            std::io::Error::last_os_error()
        );
        run("ip link set lo up");
        // The "internet" is TEST-NET-1 on loopback.
        run("ip addr add 192.0.2.1/24 dev lo");
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(scenario());
    })
    .join()
    .unwrap();
}

async fn scenario() {
    let pki = Pki::new("test origin CA");
    let dingtalk = Origin::https(pki.issue(&["oapi.dingtalk.com"])).await;
    let other = Origin::https(pki.issue(&["example.test"])).await;
    let plain = Origin::http().await;
    let mut cfg = shipped_config(
        Some(pki.ca_file()),
        &[
            ("oapi.dingtalk.com", 443, dingtalk.addr),
            ("oapi.dingtalk.com", 80, plain.addr),
        ],
    );
    cfg.transparent.listen = Some("127.0.0.1:0".parse().unwrap());
    // The "LAN": curl's connections come from 192.0.2.1.
    cfg.clients.allow.push("192.0.2.0/24".parse().unwrap());
    let proxy = spawn_proxy(cfg).await;
    let tport = proxy
        .running()
        .transparent_addr()
        .expect("transparent listener")
        .port()
        .to_string();
    // curl's connections (from source ports 20000-20999, which no kernel
    // hands out on its own) go to sluice, as a gateway's PREROUTING rule
    // sends its LAN's. sluice's own connections to the same addresses are
    // not redirected; the tunnel's destination is the other origin.
    run(&format!(
        "iptables -t nat -A OUTPUT -p tcp -d 192.0.2.0/24 --sport 20000:20999 \
         -j REDIRECT --to-ports {tport}"
    ));
    run(&format!(
        "iptables -t nat -A OUTPUT -p tcp -d 192.0.2.20 --dport 443 \
         -j DNAT --to-destination {}",
        other.addr
    ));
    let sluice_ca = proxy.ca_pem_path.display().to_string();
    let pki_ca = pki.ca_file().display().to_string();
    let robot = "https://oapi.dingtalk.com/robot/send?access_token=t0ps3cret";
    let at_10 = "oapi.dingtalk.com:443:192.0.2.10";

    // HTTPS to an intercepted host: decrypted (sluice's CA is what curl
    // must trust), its HKID stopped before the origin sees a byte.
    let j = post("20000-20099", Some(&sluice_ca), at_10, HKID_MESSAGE, robot).await;
    assert!(j["errcode"].as_i64().unwrap_or(0) != 0, "{j}");
    assert_eq!(
        dingtalk.heads_seen(),
        0,
        "a blocked upload reached the origin"
    );

    // A harmless message goes through, byte for byte.
    let j = post("20100-20199", Some(&sluice_ca), at_10, PLAIN_MESSAGE, robot).await;
    let sent = sha256_hex(PLAIN_MESSAGE.as_bytes());
    assert_eq!(j["sha256"].as_str(), Some(sent.as_str()));
    assert_eq!(dingtalk.requests().len(), 1);

    // A host that is not intercepted: tunnelled to the address it was going
    // to, untouched (curl verifies the origin's own certificate).
    let at_20 = "example.test:443:192.0.2.20";
    let j = post(
        "20200-20299",
        Some(&pki_ca),
        at_20,
        "hello",
        "https://example.test/x",
    )
    .await;
    assert_eq!(j["sha256"].as_str(), Some(sha256_hex(b"hello").as_str()));
    assert_eq!(other.requests().len(), 1);

    // Plain HTTP is served by its Host: the same policy, the same answer.
    let plain_url = "http://oapi.dingtalk.com/robot/send";
    let at_10_80 = "oapi.dingtalk.com:80:192.0.2.10";
    let j = post("20300-20399", None, at_10_80, HKID_MESSAGE, plain_url).await;
    assert!(j["errcode"].as_i64().unwrap_or(0) != 0, "{j}");
    assert_eq!(plain.heads_seen(), 0);

    // One record per decision and per tunnel; the tunnel names the host the
    // client asked for and the port it was going to, and no request method.
    // The tunnel's record is written when it closes, just after curl is done.
    let mut records = proxy.audit_records();
    for _ in 0..50 {
        if records.iter().any(|r| r["host"] == "example.test") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        records = proxy.audit_records();
    }
    proxy.shutdown().await;
    let actions: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["host"].as_str().unwrap_or(""),
                r["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        actions.contains(&("oapi.dingtalk.com", "block")),
        "{actions:?}"
    );
    let tunnel = records
        .iter()
        .find(|r| r["host"] == "example.test")
        .expect("a tunnel record");
    assert_eq!(tunnel["port"], 443);
    assert!(tunnel["method"].is_null(), "{tunnel}");
    assert!(!records.iter().any(|r| r.to_string().contains("A123456")));
}
