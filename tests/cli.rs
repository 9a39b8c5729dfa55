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
