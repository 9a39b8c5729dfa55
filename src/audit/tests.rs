//! The sink and the verifier together: chains that verify, tampering that is caught
//! at the right line, restarts, concurrency and write failures.

use std::io::Cursor;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use super::*;

fn record(n: u64) -> AuditRecord {
    let mut rec = AuditRecord::new(
        RecordKind::Request,
        "10.1.2.3:50000",
        "oapi.dingtalk.com",
        443,
    )
    .with_request("POST", "/robot/send?access_token=t0ps3cret&sign=xyz");
    rec.region = String::from("cn-hangzhou");
    rec.jurisdiction = String::from("mainland-china");
    rec.bytes = n;
    rec.action = String::from(if n.is_multiple_of(2) {
        "allow"
    } else {
        "block"
    });
    rec.policy = sha256_hex(b"policy");
    rec
}

fn chain_of(n: u64) -> (AuditSink, Vec<String>) {
    let sink = AuditSink::memory();
    for i in 0..n {
        sink.append(record(i)).unwrap();
    }
    let lines = sink.lines();
    (sink, lines)
}

fn verify_lines(lines: &[String]) -> Result<VerifyReport, VerifyError> {
    verify(Cursor::new(lines.concat()))
}

#[test]
fn chain_of_several_records_verifies() {
    let (sink, lines) = chain_of(5);
    assert_eq!(lines.len(), 5);
    let report = verify_lines(&lines).unwrap();
    assert_eq!(report.records, 5);
    assert_eq!(report.last_hash, sink.last_hash());
    assert!(report.first_ts.is_some() && report.last_ts.is_some());
    assert!(lines[0].contains(&format!("\"prev\":\"{GENESIS}\"")));
    // Never a raw query secret in the log.
    assert!(lines.iter().all(|l| !l.contains("t0ps3cret")));
}

#[test]
fn anchors_catch_a_rewritten_or_cut_log() {
    let (_, lines) = chain_of(6);
    let head_at_3 = verify_lines(&lines[..3]).unwrap().last_hash;
    let head = verify_lines(&lines).unwrap().last_hash;
    // The log as written passes through both anchors, at their lines.
    let anchors = [head_at_3.clone(), head.clone()];
    let report = verify_anchored(Cursor::new(lines.concat()), &anchors).unwrap();
    assert_eq!(report.anchors, vec![3, 6]);

    // Rewritten from the start with a consistent chain (a record made to say
    // `allow`): the chain alone verifies, the anchor does not.
    let forged = AuditSink::memory();
    for i in 0..6 {
        let mut rec = record(i);
        rec.action = String::from("allow");
        forged.append(rec).unwrap();
    }
    let forged = forged.lines();
    assert!(verify_lines(&forged).is_ok());
    let err = verify_anchored(Cursor::new(forged.concat()), &anchors[..1]).unwrap_err();
    assert_eq!(err.reason, BreakReason::AnchorMissing(head_at_3.clone()));
    assert_eq!(err.line, 7, "reported at the end of the log");

    // Cut before the anchor: the cut is caught; after it, it cannot be.
    let err = verify_anchored(Cursor::new(lines[..2].concat()), &anchors[..1]).unwrap_err();
    assert_eq!(err.reason, BreakReason::AnchorMissing(head_at_3.clone()));
    assert!(verify_anchored(Cursor::new(lines[..4].concat()), &anchors[..1]).is_ok());
    assert!(is_hash(&head) && !is_hash("abc") && !is_hash(&head.to_uppercase()));
}

#[test]
fn append_returns_the_chained_record() {
    let sink = AuditSink::memory();
    let a = sink.append(record(1)).unwrap();
    let b = sink.append(record(2)).unwrap();
    assert_eq!(a.prev, GENESIS);
    assert_eq!(b.prev, a.hash);
    assert_eq!(a.hash.len(), 64);
    let parsed: AuditRecord = serde_json::from_str(sink.lines()[1].trim_end()).unwrap();
    assert_eq!(parsed, b);
}

#[test]
fn empty_log_verifies() {
    let report = verify(Cursor::new("")).unwrap();
    assert_eq!(report.records, 0);
    assert_eq!(report.last_hash, GENESIS);
}

struct Tamper {
    name: &'static str,
    edit: fn(&mut Vec<String>),
    line: usize,
    reason: BreakReason,
}

fn replace_field(line: &str, from: &str, to: &str) -> String {
    assert!(line.contains(from), "fixture: {from} not in {line}");
    line.replacen(from, to, 1)
}

const TAMPERS: &[Tamper] = &[
    Tamper {
        name: "modified middle line",
        edit: |l| l[2] = replace_field(&l[2], "\"bytes\":2", "\"bytes\":3"),
        line: 3,
        reason: BreakReason::HashMismatch,
    },
    Tamper {
        name: "modified last line",
        edit: |l| l[4] = replace_field(&l[4], "\"action\":\"allow\"", "\"action\":\"block\""),
        line: 5,
        reason: BreakReason::HashMismatch,
    },
    Tamper {
        name: "modified first line",
        edit: |l| l[0] = replace_field(&l[0], "cn-hangzhou", "cn-hongkong"),
        line: 1,
        reason: BreakReason::HashMismatch,
    },
    Tamper {
        name: "deleted line",
        edit: |l| {
            l.remove(1);
        },
        line: 2,
        reason: BreakReason::PrevMismatch,
    },
    Tamper {
        name: "deleted first line",
        edit: |l| {
            l.remove(0);
        },
        line: 1,
        reason: BreakReason::PrevMismatch,
    },
    Tamper {
        name: "reordered lines",
        edit: |l| l.swap(2, 3),
        line: 3,
        reason: BreakReason::PrevMismatch,
    },
    Tamper {
        name: "inserted copy of a record",
        edit: |l| {
            let copy = l[1].clone();
            l.insert(3, copy);
        },
        line: 4,
        reason: BreakReason::PrevMismatch,
    },
    Tamper {
        name: "truncated last line",
        edit: |l| {
            let last = l[4].clone();
            l[4] = last[..last.len() / 2].to_owned();
        },
        line: 5,
        reason: BreakReason::Unterminated,
    },
    Tamper {
        name: "non-JSON line",
        edit: |l| l[1] = String::from("hello world\n"),
        line: 2,
        reason: BreakReason::NotARecord(String::new()),
    },
    Tamper {
        name: "hash field removed",
        edit: |l| {
            let cut = l[2].find(",\"hash\"").unwrap();
            l[2] = format!("{}}}\n", &l[2][..cut]);
        },
        line: 3,
        reason: BreakReason::NoHash,
    },
    Tamper {
        name: "blank line inserted",
        edit: |l| l.insert(2, String::from("\n")),
        line: 3,
        reason: BreakReason::Empty,
    },
    Tamper {
        name: "reformatted whitespace",
        edit: |l| l[1] = l[1].replacen(",", ", ", 1),
        line: 2,
        reason: BreakReason::HashMismatch,
    },
];

#[test]
fn tampering_is_caught_at_the_right_line() {
    let (_, original) = chain_of(5);
    for case in TAMPERS {
        let mut lines = original.clone();
        (case.edit)(&mut lines);
        let err = verify_lines(&lines).expect_err(case.name);
        assert_eq!(err.line, case.line, "case: {}: {err}", case.name);
        match (&err.reason, &case.reason) {
            (BreakReason::NotARecord(_), BreakReason::NotARecord(_)) => {}
            (got, want) => assert_eq!(got, want, "case: {}", case.name),
        }
    }
}

#[test]
fn every_truncation_point_is_caught_or_ends_on_a_record() {
    let (_, lines) = chain_of(3);
    let log = lines.concat();
    let ends: Vec<usize> = lines
        .iter()
        .scan(0, |end, l| {
            *end += l.len();
            Some(*end)
        })
        .collect();
    for cut in 0..log.len() {
        let result = verify(Cursor::new(&log.as_bytes()[..cut]));
        if cut == 0 || ends.contains(&cut) {
            assert!(result.is_ok(), "cut at {cut}");
        } else {
            let err = result.expect_err("cut inside a record");
            assert_eq!(err.reason, BreakReason::Unterminated, "cut at {cut}");
        }
    }
}

#[test]
fn break_names_the_record_id() {
    let (_, mut lines) = chain_of(3);
    let rec: AuditRecord = serde_json::from_str(lines[1].trim_end()).unwrap();
    lines[1] = lines[1].replacen("\"bytes\":1", "\"bytes\":9", 1);
    let err = verify_lines(&lines).unwrap_err();
    assert_eq!(err.id.as_deref(), Some(rec.id.as_str()));
    assert!(err
        .to_string()
        .starts_with(&format!("line 2 (id {})", rec.id)));
}

#[test]
fn edited_line_with_recomputed_hash_is_caught_at_the_next_line() {
    let (_, mut lines) = chain_of(4);
    let mut rec: AuditRecord = serde_json::from_str(lines[1].trim_end()).unwrap();
    rec.action = String::from("allow");
    rec.rule = None;
    let prev = rec.prev.clone();
    let forged = chain::seal(&mut rec, &prev).unwrap();
    lines[1] = forged;
    let err = verify_lines(&lines).unwrap_err();
    assert_eq!((err.line, err.reason), (3, BreakReason::PrevMismatch));
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn file_sink_restart_continues_the_chain_and_file_is_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let first_hash = {
        let sink = AuditSink::open(&path).unwrap();
        sink.append(record(0)).unwrap();
        sink.append(record(1)).unwrap().hash
    };
    assert_eq!(mode_of(&path), 0o600);
    let sink = AuditSink::open_with(&path, Fsync::Always).unwrap();
    assert_eq!(sink.last_hash(), first_hash);
    let third = sink.append(record(2)).unwrap();
    assert_eq!(third.prev, first_hash);
    drop(sink);
    let report = verify_file(&path, &[]).unwrap();
    assert_eq!(report.records, 3);
    assert_eq!(report.last_hash, third.hash);
}

#[test]
fn existing_world_readable_log_is_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _sink = AuditSink::open(&path).unwrap();
    assert_eq!(mode_of(&path), 0o600);
}

#[test]
fn torn_last_line_is_cut_on_open_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let (_, lines) = chain_of(3);
    let torn = &lines[2][..lines[2].len() / 2];
    std::fs::write(&path, format!("{}{}{torn}", lines[0], lines[1])).unwrap();
    let sink = AuditSink::open(&path).unwrap();
    let rec1: AuditRecord = serde_json::from_str(lines[1].trim_end()).unwrap();
    assert_eq!(sink.last_hash(), rec1.hash);
    sink.append(record(7)).unwrap();
    drop(sink);
    assert_eq!(verify_file(&path, &[]).unwrap().records, 3);
}

#[test]
fn torn_only_line_restarts_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, "{\"ts\":\"2026").unwrap();
    let sink = AuditSink::open(&path).unwrap();
    assert_eq!(sink.last_hash(), GENESIS);
    sink.append(record(0)).unwrap();
    drop(sink);
    assert_eq!(verify_file(&path, &[]).unwrap().records, 1);
}

#[test]
fn garbage_last_line_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, "not a record\n").unwrap();
    let err = AuditSink::open(&path).unwrap_err();
    assert!(matches!(err, AuditError::Recover { .. }), "{err}");
}

#[test]
fn concurrent_appends_keep_the_chain_linear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sink = Arc::new(AuditSink::open(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let sink = Arc::clone(&sink);
            std::thread::spawn(move || {
                for i in 0..50 {
                    sink.append(record(t * 1000 + i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let report = verify_file(&path, &[]).unwrap();
    assert_eq!(report.records, 400);
    assert_eq!(report.last_hash, sink.last_hash());
}

#[test]
fn write_failure_is_an_error_and_does_not_advance_the_chain() {
    let path = Path::new("/dev/full");
    if !path.exists() {
        return;
    }
    let sink = AuditSink::open(path).unwrap();
    let err = sink.append(record(0)).unwrap_err();
    assert!(matches!(err, AuditError::Write { .. }), "{err}");
    assert_eq!(sink.last_hash(), GENESIS);
}

#[test]
fn open_failure_names_the_path() {
    let err = AuditSink::open(Path::new("/nonexistent-dir/audit.jsonl")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent-dir/audit.jsonl"));
}

/// The log's files in the order they were written: closed ones by name, then
/// the live one.
fn log_files(dir: &Path, live: &Path) -> Vec<std::path::PathBuf> {
    let mut closed: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != live)
        .collect();
    closed.sort();
    closed.push(live.to_owned());
    closed
}

#[test]
fn rotation_closes_files_by_time_and_the_chain_runs_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice-audit.jsonl");
    let one = chain_of(1).1[0].len() as u64;
    let sink = AuditSink::open(&path).unwrap().rotate_at(Some(3 * one));
    for i in 0..10 {
        sink.append(record(i)).unwrap();
    }
    let files = log_files(dir.path(), &path);
    assert_eq!(files.len(), 4, "{files:?}");
    for f in &files[..3] {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("sluice-audit.2"), "{name}");
        assert!(name.ends_with("Z.jsonl") || name.contains("Z_0"), "{name}");
        assert!(!name.contains(':'), "{name}");
        assert_eq!(mode_of(f), 0o600, "{name}");
        assert_eq!(verify_file(f, &[]).map(|r| r.records).unwrap_or(3), 3);
    }
    assert_eq!(mode_of(&path), 0o600);
    let reports = verify_files(&files, GENESIS, &[]).unwrap();
    let counts: Vec<u64> = reports.iter().map(|(_, r)| r.records).collect();
    assert_eq!(counts, [3, 3, 3, 1]);
    assert_eq!(reports[3].1.last_hash, sink.last_hash());
    // A later file alone starts mid-chain: it verifies from the hash the
    // files before it ended on, and not from the start.
    let second = std::slice::from_ref(&files[1]);
    let from = reports[0].1.last_hash.clone();
    assert_eq!(verify_files(second, &from, &[]).unwrap()[0].1.records, 3);
    let (at, e) = verify_files(second, GENESIS, &[]).unwrap_err();
    assert_eq!(
        (at, e.line, e.reason),
        (files[1].clone(), 1, BreakReason::PrevMismatch)
    );
    // Out of order, a file is missing, or an anchor is not there: caught.
    let swapped = [files[1].clone(), files[0].clone()];
    assert_eq!(verify_files(&swapped, GENESIS, &[]).unwrap_err().1.line, 1);
    let gap = [files[0].clone(), files[2].clone()];
    assert_eq!(verify_files(&gap, GENESIS, &[]).unwrap_err().0, files[2]);
    let anchor = reports[2].1.last_hash.clone();
    assert!(verify_files(&files, GENESIS, std::slice::from_ref(&anchor)).is_ok());
    let (_, e) = verify_files(&files[..2], GENESIS, &[anchor]).unwrap_err();
    assert!(matches!(e.reason, BreakReason::AnchorMissing(_)), "{e}");
    // A restart picks the live file up where it was, rotation and all.
    drop(sink);
    let sink = AuditSink::open(&path).unwrap().rotate_at(Some(3 * one));
    for i in 0..3 {
        sink.append(record(i)).unwrap();
    }
    let files = log_files(dir.path(), &path);
    assert_eq!(files.len(), 5);
    let total: u64 = verify_files(&files, GENESIS, &[])
        .unwrap()
        .iter()
        .map(|(_, r)| r.records)
        .sum();
    assert_eq!(total, 13);
}

#[test]
fn a_log_that_is_no_file_is_not_rotated() {
    // A link to a device, so a rotation that went wrong would move the link,
    // never the device.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::os::unix::fs::symlink("/dev/null", &path).unwrap();
    let sink = AuditSink::open(&path).unwrap().rotate_at(Some(1));
    for i in 0..3 {
        sink.append(record(i)).unwrap();
    }
    let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
    assert!(kind.is_symlink(), "the link is where it was");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert!(!sink.reopen().unwrap(), "still the same device");
}

#[test]
fn reopen_follows_a_log_moved_away_and_refuses_a_foreign_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sink = AuditSink::open(&path).unwrap();
    sink.append(record(0)).unwrap();
    assert!(!sink.reopen().unwrap(), "the path still names the file");
    // logrotate's `create` mode: move away, then signal.
    let moved = dir.path().join("audit.jsonl.1");
    std::fs::rename(&path, &moved).unwrap();
    sink.append(record(1)).unwrap(); // still into the moved file
    assert!(sink.reopen().unwrap());
    sink.append(record(2)).unwrap();
    assert_eq!(mode_of(&path), 0o600);
    let reports = verify_files(&[moved.clone(), path.clone()], GENESIS, &[]).unwrap();
    assert_eq!(reports[0].1.records, 2);
    assert_eq!(reports[1].1.records, 1);
    // A file put in its place that is not this log: the old file goes on.
    let (_, foreign) = chain_of(2);
    std::fs::rename(&path, dir.path().join("audit.jsonl.2")).unwrap();
    std::fs::write(&path, foreign.concat()).unwrap();
    assert!(matches!(sink.reopen(), Err(AuditError::Recover { .. })));
    sink.append(record(3)).unwrap();
    let kept = [moved, dir.path().join("audit.jsonl.2")];
    assert_eq!(verify_files(&kept, GENESIS, &[]).unwrap()[1].1.records, 2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), foreign.concat());
}

/// A log of a week's traffic, summed up: what a DPO hands the regulator.
#[test]
fn report_sums_a_verified_log_up_without_any_value_or_client() {
    use crate::inspect::{Category, Class, Incomplete, IncompleteReason};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sink = AuditSink::open(&path).unwrap();
    let put = |day: u32,
               jurisdiction: &str,
               action: &str,
               rule: Option<&str>,
               f: &dyn Fn(&mut AuditRecord)| {
        let mut r = record(0);
        r.ts = format!("2026-11-{day:02}T09:00:00.000Z");
        r.jurisdiction = jurisdiction.into();
        r.action = action.into();
        r.rule = rule.map(str::to_owned);
        r.samples.insert(Class::HkId, vec!["A12****(3)".into()]);
        f(&mut r);
        sink.append(r).unwrap();
    };
    let hkid = |r: &mut AuditRecord| {
        r.classes.insert(Class::HkId, 2);
        r.categories.insert(Category::Identity, 2);
    };
    let sick = |r: &mut AuditRecord| {
        r.classes.insert(Class::Health, 1);
        r.categories.insert(Category::Health, 1);
    };
    put(
        23,
        "mainland-china",
        "block",
        Some("sensitive-to-mainland"),
        &hkid,
    );
    put(23, "mainland-china", "allow", None, &|_| {});
    put(
        24,
        "mainland-china",
        "block",
        Some("sensitive-to-mainland"),
        &sick,
    );
    put(
        24,
        "singapore",
        "audit",
        Some("sensitive-abroad-audited"),
        &hkid,
    );
    put(
        25,
        "mainland-china",
        "block",
        Some("<script>x</script>"),
        &|r| {
            r.incomplete = Some(Incomplete {
                reason: IncompleteReason::Unsupported,
                detail: "opaque".into(),
            });
            r.policy = sha256_hex(b"policy v2");
            r.shadow.push(ShadowHit {
                rule: "contacts-shadow".into(),
                action: "block".into(),
            });
        },
    );
    drop(sink);
    let mut tunnel = AuditRecord::new(RecordKind::Tunnel, "10.1.2.3:5", "x.example.cn", 443);
    tunnel.jurisdiction = "mainland-china".into();
    tunnel.action = "allow".into();
    tunnel.policy = sha256_hex(b"policy v2");
    AuditSink::open(&path).unwrap().append(tunnel).unwrap();

    let r = Report::of_files(std::slice::from_ref(&path), GENESIS).unwrap();
    assert_eq!(r.records, 6);
    assert!(r.integrity.verified);
    assert_eq!(r.period.first.as_deref(), Some("2026-11-23T09:00:00.000Z"));
    let cn = &r.destinations["mainland-china"];
    assert_eq!(cn.requests[&Outcome::Stopped], 3);
    assert_eq!(cn.requests[&Outcome::Sent], 1);
    assert_eq!(
        cn.personal.get(&Outcome::Sent),
        None,
        "nothing personal went"
    );
    assert_eq!(cn.personal[&Outcome::Stopped], 2);
    assert_eq!(cn.categories[&Category::Health][&Outcome::Stopped], 1);
    assert_eq!(cn.incomplete[&Outcome::Stopped], 1);
    assert_eq!(cn.tunnels, 1);
    let sg = &r.destinations["singapore"];
    assert_eq!(sg.categories[&Category::Identity][&Outcome::SentAudited], 1);
    assert_eq!(r.rules["sensitive-to-mainland"].acted[&Outcome::Stopped], 2);
    assert_eq!(r.rules["contacts-shadow"].shadow, 1);
    assert_eq!(r.incomplete["unsupported"][&Outcome::Stopped], 1);
    assert_eq!(r.policies.len(), 2);
    assert_eq!(r.daily_personal.len(), 2, "days with personal data");
    let text = r.text();
    assert!(text.contains("mainland-china: 4 request(s)"), "{text}");
    assert!(text.contains("identity: 1 [stopped 1]"), "{text}");
    let html = r.html();
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    assert!(html.contains("<svg") && html.contains("2026-11-24: 1 sent, 1 stopped"));
    let json: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
    assert_eq!(
        json["destinations"]["singapore"]["personal"]["sent_audited"],
        1
    );
    for out in [&text, &html, &r.json()] {
        for secret in ["10.1.2.3", "A12****", "robot/send", "x.example.cn"] {
            assert!(!out.contains(secret), "{secret} in a report");
        }
    }

    // No report of a log whose chain is broken.
    let log = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, log.replacen("\"block\"", "\"allow\"", 1)).unwrap();
    let err = Report::of_files(std::slice::from_ref(&path), GENESIS).unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
}
