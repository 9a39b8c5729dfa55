//! `sluice replay` end to end: every real exporter's HAR and the DingTalk
//! fixtures offline, the scenarios under tests/scenarios, the command line
//! (`--json`, `--fail-on`, `--diff`, malformed input), live replay through an
//! in-process sluice to test origins, and record → load → replay round trips.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use sluice::config;
use sluice::policy::Action;
use sluice::replay::har::{self, Har};
use sluice::replay::live::{self, LiveOptions};
use sluice::replay::offline::{self, Outcome};
use sluice::replay::record::{RecordedFlow, RecordedResponse, Recorder};
use sluice::replay::report;
use support::*;

fn manifest(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn fixture(name: &str) -> PathBuf {
    manifest(&format!("tests/fixtures/{name}"))
}

fn shipped() -> config::Config {
    config::load(None).expect("embedded config")
}

fn replay_file(cfg: &config::Config, path: &Path) -> Vec<Outcome> {
    let har = har::load_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    offline::replay(cfg, &har).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn verdicts(outs: &[Outcome]) -> Vec<(Action, Option<String>)> {
    outs.iter().map(|o| (o.action, o.rule.clone())).collect()
}

fn sluice(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run sluice");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---- offline ----

#[test]
fn every_real_har_replays_offline() {
    let cfg = shipped();
    let dir = manifest("../shared/har/real");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("shared/har/real")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "har"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 8,
        "expected the shared real HARs in {}",
        dir.display()
    );
    for f in files {
        let har = har::load_file(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let outs = offline::replay(&cfg, &har).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(outs.len(), har.entries.len(), "{}", f.display());
        // None of them goes to DingTalk: the shipped policy lets them all through.
        assert!(
            outs.iter().all(|o| o.action == Action::Allow),
            "{}",
            f.display()
        );
        assert!(report::text(&outs).contains(&format!("{} entries", outs.len())));
    }
}

#[test]
fn dingtalk_fixtures_under_the_shipped_policy() {
    struct Case {
        name: &'static str,
        file: &'static str,
        /// (action, rule, region) per entry.
        want: &'static [(Action, Option<&'static str>, &'static str)],
    }
    const MAINLAND: Option<&str> = Some("sensitive-to-mainland");
    let cases = [
        Case {
            name:
                "media/upload multipart: a customer CSV with HKIDs is blocked, a clean one allowed",
            file: "dingtalk-media-upload.har",
            want: &[
                (Action::Block, MAINLAND, "unknown"),
                (Action::Allow, None, "unknown"),
            ],
        },
        Case {
            name: "asyncsend_v2 JSON: mainland blocked, International Edition audited",
            file: "dingtalk-asyncsend-v2.har",
            want: &[
                (Action::Block, MAINLAND, "unknown"),
                (
                    Action::Audit,
                    Some("sensitive-abroad-audited"),
                    "ap-southeast-1",
                ),
                (Action::Allow, None, "unknown"),
            ],
        },
        Case {
            name:
                "uploadInfos → PUT → commit: the PUT's region is learned from the answer before it",
            file: "dingtalk-upload-flow.har",
            want: &[
                (Action::Allow, None, "unknown"),
                (Action::Block, MAINLAND, "cn-zhangjiakou"),
                (Action::Allow, None, "unknown"),
            ],
        },
        Case {
            name: "web IM over WebSocket (Chrome's _webSocketMessages): each sent message decided",
            file: "dingtalk-web-im.har",
            want: &[
                (Action::Block, MAINLAND, "unknown"),
                (Action::Allow, None, "unknown"),
                (
                    Action::Audit,
                    Some("sensitive-abroad-audited"),
                    "ap-southeast-1",
                ),
            ],
        },
        Case {
            name: "the same PUT before its uploadInfos answer: nothing learned yet, allowed",
            file: "dingtalk-upload-flow-unlearned.har",
            want: &[
                (Action::Allow, None, "unknown"),
                (Action::Allow, None, "unknown"),
                (Action::Allow, None, "unknown"),
            ],
        },
    ];
    let cfg = shipped();
    for c in cases {
        let outs = replay_file(&cfg, &fixture(c.file));
        let got: Vec<(Action, Option<&str>, &str)> = outs
            .iter()
            .map(|o| (o.action, o.rule.as_deref(), o.region.as_str()))
            .collect();
        assert_eq!(got, c.want, "{}", c.name);
        for o in &outs {
            assert!(
                !o.url.contains("3f9a1c0d2b7e4a55") && !o.url.contains("77aa"),
                "{}: token in {}",
                c.name,
                o.url
            );
        }
    }
}

/// tests/scenarios/NNNN_name/{policy.yaml, capture.har, expected.jsonl}: the
/// capture replayed under the policy prints exactly the expected lines.
#[test]
fn scenarios() {
    let root = manifest("tests/scenarios");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cfg =
            config::load(Some(&dir.join("policy.yaml"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        let outs = replay_file(&cfg, &dir.join("capture.har"));
        let expected = std::fs::read_to_string(dir.join("expected.jsonl")).expect("expected.jsonl");
        let want: Vec<serde_json::Value> = expected
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: expected.jsonl: {e}"))
            })
            .collect();
        let got: Vec<serde_json::Value> = outs
            .iter()
            .map(|o| serde_json::from_str(&report::json_line(o)).expect("json"))
            .collect();
        assert_eq!(got, want, "scenario {name}");
    }
}

// ---- the command line ----

#[test]
fn cli_json_lines_follow_the_contract() {
    let f = fixture("dingtalk-asyncsend-v2.har");
    let (code, out, err) = sluice(&["replay", "--json", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["index"], 0);
    assert_eq!(lines[0]["action"], "block");
    assert_eq!(lines[0]["classes"]["hk_id"], 1);
    assert_eq!(lines[0]["jurisdiction"], "mainland-china");
    assert_eq!(lines[1]["action"], "audit");
    assert_eq!(lines[2]["rule"], serde_json::Value::Null);
    assert!(!out.contains("77aa"), "a token leaked: {out}");
}

#[test]
fn cli_fail_on_sets_the_exit_status() {
    let media = fixture("dingtalk-media-upload.har");
    let clean = manifest("../shared/har/real/chrome.har");
    let cases = [
        ("block found", &media, Some("block"), 1),
        ("audit not found", &media, Some("audit"), 0),
        ("no --fail-on", &media, None, 0),
        ("clean capture", &clean, Some("block"), 0),
    ];
    for (name, file, fail_on, want) in cases {
        let mut args = vec!["replay"];
        if let Some(f) = fail_on {
            args.extend(["--fail-on", f]);
        }
        args.push(file.to_str().unwrap());
        let (code, out, err) = sluice(&args);
        assert_eq!(code, want, "{name}: {out}{err}");
        assert!(
            out.contains("actions:"),
            "{name}: the report is printed either way: {out}"
        );
    }
}

#[test]
fn cli_malformed_har_names_the_entry_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "no url",
            r#"{"log":{"entries":[{"request":{"method":"GET"}}]}}"#,
            "entries[0].request.url: missing",
        ),
        (
            "relative url",
            r#"{"log":{"entries":[{"request":{"method":"GET","url":"/x"}}]}}"#,
            "entries[0].request.url: not an absolute URL",
        ),
        (
            "bad header",
            r#"{"log":{"entries":[{"request":{"method":"GET","url":"https://a.b/","headers":[7]}}]}}"#,
            "entries[0].request.headers[0]",
        ),
        ("not json", "{", "not JSON"),
    ];
    for (name, text, want) in cases {
        let p = dir.path().join("bad.har");
        std::fs::write(&p, text).unwrap();
        let (code, _, err) = sluice(&["replay", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
    }
}

#[test]
fn cli_diff_lists_the_entries_whose_verdict_changes() {
    let f = fixture("dingtalk-asyncsend-v2.har");
    let other = manifest("tests/scenarios/0003_monitor_mode/policy.yaml");
    let (code, out, err) = sluice(&[
        "replay",
        "--diff",
        other.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Entry 0 goes from block to audit, entry 1 from one audit rule to another; 2 stays.
    assert!(
        out.contains("block (sensitive-to-mainland)") && out.contains("audit (monitor-identity)"),
        "{out}"
    );
    assert!(out.contains("2 of 3 entries change verdict"), "{out}");
    let (_, json, _) = sluice(&[
        "replay",
        "--json",
        "--diff",
        other.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    let idx: Vec<u64> = json
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["index"]
                .as_u64()
                .expect("index")
        })
        .collect();
    assert_eq!(idx, [0, 1]);
}

// ---- live ----

const OSS_HOST: &str = "dingtalk-ul.oss-accelerate.aliyuncs.com";

/// The upload-info answer recorded in the fixture, served by the fake DingTalk.
fn recorded_answer(har: &Har) -> String {
    let body = har
        .entries
        .first()
        .and_then(|e| e.response.as_ref())
        .map(|r| r.body.clone())
        .unwrap_or_default();
    String::from_utf8(body).expect("utf-8 answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_replay_through_a_running_sluice() {
    let flow = har::load_file(&fixture("dingtalk-upload-flow.har")).unwrap();
    let media = har::load_file(&fixture("dingtalk-media-upload.har")).unwrap();
    let pki = Pki::new("replay test origins");
    let names = ["oapi.dingtalk.com", "api.dingtalk.com"];
    let dingtalk = Origin::https_routes(
        pki.issue(&names),
        vec![(
            "/v1.0/storage/spaces/123/files/uploadInfos/query",
            recorded_answer(&flow),
        )],
    )
    .await;
    let oss = Origin::https(pki.issue(&[OSS_HOST])).await;
    let mut resolve: Vec<(&str, u16, std::net::SocketAddr)> =
        names.iter().map(|n| (*n, 443, dingtalk.addr)).collect();
    resolve.push((OSS_HOST, 443, oss.addr));
    let proxy = spawn_proxy(shipped_config(Some(pki.ca_file()), &resolve)).await;

    let mut opts = LiveOptions::new(proxy.addr.to_string());
    opts.cacert = Some(proxy.ca_pem_path.clone());
    opts.progress = false;

    // uploadInfos → PUT → commit, in order (one at a time, so the answer is learned first);
    // the PUT to OSS is refused in the generic 451 shape.
    opts.concurrency = 1;
    opts.rate = Some(1000.0);
    let got = live::run(&flow, &opts).await.expect("live run");
    let summary: Vec<(Option<u16>, bool)> = got.iter().map(|r| (r.status, r.blocked)).collect();
    assert_eq!(
        summary,
        [(Some(200), false), (Some(451), true), (Some(200), false)],
        "{got:?}"
    );
    assert!(got.iter().all(|r| r.error.is_none()), "{got:?}");
    assert_eq!(
        oss.heads_seen(),
        0,
        "the blocked PUT must not reach the OSS origin"
    );
    let ticket = got[1].ticket.clone().expect("ticket");
    assert!(proxy
        .audit_records()
        .iter()
        .any(|r| r["id"] == ticket.as_str() && r["action"] == "block"));

    // media/upload, two at a time: the HKID CSV blocked in the oapi shape, the clean one forwarded.
    opts.concurrency = 2;
    opts.rate = None;
    let got = live::run(&media, &opts).await.expect("live run");
    assert_eq!(got.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1]);
    assert!(got[0].blocked && got[0].status == Some(200), "{got:?}");
    assert!(!got[1].blocked && got[1].status == Some(200), "{got:?}");
    let received = dingtalk.requests();
    let uploads: Vec<_> = received
        .iter()
        .filter(|r| r.path.starts_with("/media/upload"))
        .collect();
    assert_eq!(uploads.len(), 1, "only the clean upload reaches DingTalk");
    assert!(String::from_utf8_lossy(&uploads[0].body).contains("apples"));
    proxy.shutdown().await;
}

/// A Chrome capture of the web IM through a live sluice: each entry's messages
/// go over a real WebSocket, and the one with an HKID is stopped with a ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_replay_of_websocket_messages() {
    let web_im = har::load_file(&fixture("dingtalk-web-im.har")).unwrap();
    let pki = Pki::new("replay ws origins");
    let hosts = ["webalfa-cm3.dingtalk.com", "webalfa.dingtalk.io"];
    let (addr, seen) = ws_origin(&pki, &hosts, false).await;
    let resolve: Vec<_> = hosts.iter().map(|h| (*h, 443, addr)).collect();
    let proxy = spawn_proxy(shipped_config(Some(pki.ca_file()), &resolve)).await;
    let mut opts = LiveOptions::new(proxy.addr.to_string());
    opts.cacert = Some(proxy.ca_pem_path.clone());
    opts.progress = false;
    opts.concurrency = 1;
    let got = live::run(&web_im, &opts).await.expect("live run");
    let summary: Vec<(Option<u16>, bool)> = got.iter().map(|r| (r.status, r.blocked)).collect();
    assert_eq!(
        summary,
        [(Some(101), true), (Some(101), false), (Some(101), false)],
        "{got:?}"
    );
    assert!(got.iter().all(|r| r.error.is_none()), "{got:?}");
    assert!(got[0].url.starts_with("wss://"), "{}", got[0].url);
    let ticket = got[0].ticket.clone().expect("ticket");
    let records = proxy.audit_records();
    let stopped = records
        .iter()
        .find(|r| r["id"] == ticket.as_str())
        .expect("its record");
    assert_eq!(
        (&stopped["action"], &stopped["method"]),
        (&"block".into(), &"WEBSOCKET".into())
    );
    // The origin got every text message but the stopped one (the binary
    // heartbeats get no ack and are not counted).
    let texts = seen.messages.lock().unwrap().clone();
    assert_eq!(texts.len(), 2 + 2 + 2, "{texts:?}");
    assert!(
        texts.iter().filter(|t| t.contains("H155433")).count() == 1,
        "only abroad"
    );
    proxy.shutdown().await;
}

/// `sluice replay --live` without `--proxy`: its own sluice, with `--resolve`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_live_with_an_in_process_proxy() {
    let pki = Pki::new("replay cli origins");
    let dingtalk = Origin::https(pki.issue(&["oapi.dingtalk.com"])).await;
    let resolve = format!("oapi.dingtalk.com:443:{}", dingtalk.addr);
    let ca = pki.ca_file();
    let f = fixture("dingtalk-media-upload.har");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "replay",
            "--live",
            "--json",
            "--resolve",
            &resolve,
            "--upstream-ca",
        ])
        .arg(&ca)
        .arg(&f)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run sluice");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(
        (lines[0]["blocked"].as_bool(), lines[0]["status"].as_u64()),
        (Some(true), Some(200))
    );
    assert_eq!(
        (lines[1]["blocked"].as_bool(), lines[1]["status"].as_u64()),
        (Some(false), Some(200))
    );
    assert_eq!(
        dingtalk.requests().len(),
        1,
        "only the clean upload reaches the origin"
    );
}

#[test]
fn cli_live_refuses_resolve_for_a_remote_proxy() {
    let f = fixture("dingtalk-media-upload.har");
    let (code, _, err) = sluice(&[
        "replay",
        "--live",
        "--proxy",
        "http://127.0.0.1:9",
        "--resolve",
        "a.b:443:127.0.0.1:1",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("give them to that proxy"), "{err}");
}

#[tokio::test]
async fn live_replay_reports_an_unreachable_proxy_per_entry() {
    let media = har::load_file(&fixture("dingtalk-media-upload.har")).unwrap();
    // Bind then drop: a port with nothing listening.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut opts = LiveOptions::new(addr.to_string());
    opts.progress = false;
    let got = live::run(&media, &opts).await.expect("live run");
    assert_eq!(got.len(), 2);
    assert!(
        got.iter().all(|r| r
            .error
            .as_deref()
            .is_some_and(|e| e.contains("connect to the proxy"))),
        "{got:?}"
    );
}

// ---- recording ----

fn flows_of(har: &Har) -> Vec<RecordedFlow> {
    har.entries
        .iter()
        .map(|e| RecordedFlow {
            started: e.started.clone(),
            method: e.request.method.clone(),
            url: e.request.url.clone(),
            request_headers: e.request.headers.clone(),
            request_body: Some(e.request.body.clone()),
            response: e.response.as_ref().map(|r| RecordedResponse {
                status: r.status,
                headers: r.headers.clone(),
                body: r.body.clone(),
            }),
            sent_messages: e.sent_messages.clone(),
        })
        .collect()
}

#[test]
fn record_then_replay_gives_the_same_verdicts() {
    let cfg = shipped();
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "dingtalk-media-upload.har",
        "dingtalk-asyncsend-v2.har",
        "dingtalk-upload-flow.har",
        "dingtalk-upload-flow-unlearned.har",
        "dingtalk-web-im.har",
    ];
    for (masked, tag) in [(true, "masked"), (false, "unmasked")] {
        for name in files {
            let original = har::load_file(&fixture(name)).unwrap();
            let want = verdicts(&offline::replay(&cfg, &original).unwrap());
            let path = dir.path().join(format!("{tag}-{name}"));
            let rec = if masked {
                Recorder::create(&path, Arc::clone(&cfg.engine)).unwrap()
            } else {
                Recorder::create_unmasked(&path).unwrap()
            };
            std::thread::scope(|s| {
                // Thread-safe: entries recorded from another thread, in order.
                s.spawn(|| flows_of(&original).into_iter().for_each(|f| rec.record(f)));
            });
            assert_eq!(rec.finish().unwrap(), original.entries.len());
            let text = std::fs::read_to_string(&path).unwrap();
            let back = har::load(text.as_bytes()).unwrap_or_else(|e| panic!("{tag} {name}: {e}"));
            let outs = offline::replay(&cfg, &back).unwrap();
            assert_eq!(verdicts(&outs), want, "{tag} {name}");
            let classes: Vec<_> = outs.iter().map(|o| o.classes.clone()).collect();
            let want_classes: Vec<_> = offline::replay(&cfg, &original)
                .unwrap()
                .into_iter()
                .map(|o| o.classes)
                .collect();
            assert_eq!(
                classes, want_classes,
                "{tag} {name}: masked values keep their class and count"
            );
            let regions: Vec<String> = outs.iter().map(|o| o.region.clone()).collect();
            let want_regions: Vec<String> = offline::replay(&cfg, &original)
                .unwrap()
                .into_iter()
                .map(|o| o.region)
                .collect();
            assert_eq!(
                regions, want_regions,
                "{tag} {name}: learning survives the recording"
            );
            if masked {
                // Tokens, keys and signatures anywhere (URLs, headers, JSON answers), and the ids.
                let secrets = [
                    "3f9a1c0d2b7e4a55",
                    "77aa",
                    "a1b2c3",
                    "LTAI5t",
                    "Signature=abc",
                    &hkid(1),
                    &hkid(7),
                    // The web IM capture's HKID, in a WebSocket message.
                    "H155433",
                ];
                for secret in secrets {
                    assert!(
                        !text.contains(secret),
                        "{tag} {name}: {secret} is in the recording"
                    );
                }
            }
        }
    }
}

#[test]
fn a_dropped_recorder_still_leaves_a_valid_har() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.har");
    {
        let rec = Recorder::create_unmasked(&path).unwrap();
        rec.record(RecordedFlow {
            method: "GET".into(),
            url: "https://api.dingtalk.com/v1.0/x".into(),
            ..RecordedFlow::default()
        });
    }
    let back = har::load_file(&path).unwrap();
    assert_eq!(back.entries.len(), 1);
    assert_eq!(
        back.entries[0].request.url,
        "https://api.dingtalk.com/v1.0/x"
    );
    assert!(back.entries[0].response.is_none());
}
