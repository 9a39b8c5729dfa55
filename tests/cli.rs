//! The command line itself: `check` and `ca init`, through the real binary.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn sluice(args: &[&str], dir: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_prints_the_compiled_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = sluice(&["check"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("<embedded config/sluice.yaml>: ok"));
    assert!(out.contains("1. sensitive-to-mainland"), "{out}");
    assert!(out.contains("default: allow"));
    assert!(out.contains("transparent: off"), "{out}");
    std::fs::write(
        dir.path().join("gw.yaml"),
        "transparent: { listen: 0.0.0.0:3129 }\n",
    )
    .unwrap();
    let (code, out, err) = sluice(&["check", "--config", "gw.yaml"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("transparent: redirected connections on 0.0.0.0:3129"),
        "{out}"
    );
}

#[test]
fn check_reports_every_error_with_its_place_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        "listen: nowhere\nlimits:\n  idle_timout: 5s\npolicy:\n  rules:\n    - name: ids\n      when: { classes: { hkid: 1 } }\n      action: block\n",
    )
    .unwrap();
    let (code, _out, err) = sluice(&["check", "--config", cfg.to_str().unwrap()], dir.path());
    assert_eq!(code, 1);
    let file = cfg.display().to_string();
    assert!(err.contains(&format!("{file}:1:1: listen:")), "{err}");
    assert!(err.contains(&format!("{file}:3:3: limits.idle_timout: unknown key \"idle_timout\" (did you mean \"idle_timeout\"?)")), "{err}");
    assert!(
        err.contains(&format!("{file}:7:"))
            && err.contains("policy.rules[0].when.classes.hkid")
            && err.contains("\"ids\""),
        "{err}"
    );
    assert!(err.contains("3 error(s)"), "{err}");
}

#[test]
fn ca_init_writes_a_private_key_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = sluice(&["ca", "init", "--dir", "ca"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("name constraints: dingtalk.com, dingtalk.io, aliyuncs.com"),
        "{out}"
    );
    let key = dir.path().join("ca/sluice-ca.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let before = std::fs::read(&key).unwrap();
    let (code, _, err) = sluice(&["ca", "init", "--dir", "ca"], dir.path());
    assert_eq!(code, 1);
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "the existing key is untouched"
    );
    let (code, _, _) = sluice(&["ca", "init", "--dir", "ca", "--overwrite"], dir.path());
    assert_eq!(code, 0);
    assert_ne!(std::fs::read(&key).unwrap(), before);
}

/// `audit verify --anchor`: a head kept from an earlier verify must still be in
/// the chain; a malformed anchor is a usage error (exit 2), not a broken chain.
#[test]
fn audit_verify_checks_anchors() {
    use sluice::audit::{AuditRecord, AuditSink, RecordKind};

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let sink = AuditSink::open(&log).unwrap();
    let rec = |n: u64| {
        let mut r = AuditRecord::new(RecordKind::Request, "10.0.0.1:1", "oapi.dingtalk.com", 443)
            .with_request("POST", "/robot/send");
        r.bytes = n;
        r
    };
    sink.append(rec(1)).unwrap();
    let anchor = sink.last_hash();
    sink.append(rec(2)).unwrap();
    drop(sink);

    let verify = || {
        sluice(
            &["audit", "verify", "audit.jsonl", "--anchor", &anchor],
            dir.path(),
        )
    };
    let (code, out, _) = verify();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("anchor {anchor}: found at line 1")),
        "{out}"
    );

    // The whole log rewritten: the anchor is gone.
    std::fs::remove_file(&log).unwrap();
    let sink = AuditSink::open(&log).unwrap();
    sink.append(rec(3)).unwrap();
    drop(sink);
    let (code, out, _) = verify();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not in the chain"), "{out}");

    let (code, _, err) = sluice(
        &["audit", "verify", "audit.jsonl", "--anchor", "xyz"],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("not a record hash"), "{err}");
}

/// `audit verify` over a rotated log: its files in order verify as one
/// chain; a later file alone needs `--from`, and says so.
#[test]
fn audit_verify_follows_the_chain_across_rotated_files() {
    use sluice::audit::{AuditRecord, AuditSink, RecordKind};

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sluice-audit.jsonl");
    let rec = |n: u64| {
        let mut r = AuditRecord::new(RecordKind::Request, "10.0.0.1:1", "oapi.dingtalk.com", 443)
            .with_request("POST", "/robot/send");
        r.bytes = n;
        r
    };
    let sink = AuditSink::open(&log).unwrap().rotate_at(Some(1));
    for n in 0..3 {
        sink.append(rec(n)).unwrap();
    }
    sink.append(rec(3)).unwrap();
    let last = sink.last_hash();
    drop(sink);
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "sluice-audit.jsonl")
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "every record past 1 byte closes its file");
    files.push("sluice-audit.jsonl".into());
    let args = |extra: &[&str]| {
        let mut a = vec!["audit", "verify"];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        sluice(&a, dir.path())
    };
    let all: Vec<&str> = files.iter().map(String::as_str).collect();
    let (code, out, err) = run(args(&all));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches(": ok, 1 record(s)").count(), 4, "{out}");
    assert!(
        out.contains(": ok, 0 record(s)"),
        "the live file, empty: {out}"
    );
    assert!(out.contains(&format!("last hash: {last}")), "{out}");

    let (code, out, _) = run(args(&[&files[2]]));
    assert_eq!(code, 1);
    assert!(out.contains("line 1") && out.contains("--from"), "{out}");
    let (_, first_two, _) = run(args(&[&files[0], &files[1]]));
    let from = first_two
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("last hash: ");
    let (code, out, _) = run(args(&[&files[2], &files[3], "--from", from]));
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(args(&[&files[1], &files[0]]));
    assert_eq!(code, 1, "out of order: {out}");
    let (code, _, err) = run(args(&[&files[0], "--from", "nope"]));
    assert_eq!(code, 2);
    assert!(err.contains("--from"), "{err}");
}

/// `sluice run` as a process: SIGHUP reloads (a broken file keeps the old policy),
/// SIGTERM shuts down cleanly.
#[test]
fn run_reloads_on_sighup_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sluice.yaml");
    let body = |default: &str| {
        format!("listen: 127.0.0.1:0\nadmin: {{ listen: 127.0.0.1:0 }}\npolicy: {{ default: {default} }}\n")
    };
    std::fs::write(&cfg, body("allow")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--ca-dir",
            "ca",
            "--audit-log",
            "audit.jsonl",
        ])
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Bounded waits for what the process says.
    let wait_for = |needle: &str| -> String {
        loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => continue,
                Err(e) => panic!("no line containing {needle:?}: {e}"),
            }
        }
    };
    let admin = wait_for("admin endpoint on http://");
    let admin = admin
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    let _ = wait_for("listening on 127.0.0.1:");
    let metrics = || {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(&admin).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            tcp,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        tcp.read_to_string(&mut out).unwrap();
        out
    };
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    };

    std::fs::write(&cfg, body("explode")).unwrap();
    signal("-HUP");
    let line = wait_for("SIGHUP");
    assert!(
        line.contains("invalid") && line.contains("old one keeps serving"),
        "{line}"
    );
    assert!(
        !line.contains('\u{1b}'),
        "no colour codes off a terminal: {line:?}"
    );

    // logrotate's way: move the log away, then reload; the path is reopened.
    let log = dir.path().join("audit.jsonl");
    std::fs::rename(&log, dir.path().join("audit.jsonl.1")).unwrap();
    std::fs::write(&cfg, body("block")).unwrap();
    signal("-HUP");
    let _ = wait_for("audit log reopened");
    let line = wait_for("SIGHUP");
    assert!(line.contains("reloaded"), "{line}");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let m = metrics();
    assert!(m.starts_with("HTTP/1.1 200"), "{m}");
    assert!(m.contains("sluice_reloads_total 1\n"), "{m}");
    assert!(m.contains("sluice_reloads_rejected_total 1\n"), "{m}");

    signal("-TERM");
    let _ = wait_for("SIGTERM");
    let mut status = None;
    for _ in 0..200 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = status.expect("sluice exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    // Far more output than a pipe buffers, to a reader that stops after 10 bytes.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.txt");
    std::fs::write(&f, "hello").unwrap();
    let args = vec![f.display().to_string(); 3000].join(" ");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' scan {args} | head -c 10 > /dev/null",
            env!("CARGO_BIN_EXE_sluice")
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
