//! One test per rejection, and the embedded default.

use super::*;

fn errs(text: &str) -> Vec<ConfigError> {
    parse(text, "t.yaml").expect_err("should be rejected").0
}

#[test]
fn embedded_default_is_valid() {
    let c = load(None).expect("embedded config parses");
    assert_eq!(c.listen.to_string(), "127.0.0.1:3128");
    assert!(c.intercept.hosts.contains(&"*.dingtalk.com".to_string()));
    assert!(c.tls.name_constraints);
    assert!(c.auth.is_none());
}

#[test]
fn empty_document_gives_defaults() {
    let c = parse("", "t.yaml").unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:3128");
    assert_eq!(c.limits.max_connections, 4096);
}

#[test]
fn audit_rotation_is_a_size_or_null() {
    let size = |text: &str| parse(text, "t.yaml").unwrap().audit.rotate.map(|b| b.get());
    assert_eq!(size(""), Some(256 << 20), "rotated by default");
    assert_eq!(
        load(None).unwrap().audit.rotate.map(|b| b.get()),
        Some(256 << 20)
    );
    assert_eq!(size("audit: { rotate: 1MiB }"), Some(1 << 20));
    assert_eq!(size("audit: { rotate: null }"), None);
    let e = errs("audit: { rotate: lots }");
    assert_eq!(e[0].path, "audit.rotate", "{e:?}");
}

#[test]
fn admin_listens_on_loopback_unless_told_otherwise() {
    let listen = |text: &str| parse(text, "t.yaml").unwrap().admin.listen;
    assert_eq!(listen(""), Some("127.0.0.1:9464".parse().unwrap()));
    assert_eq!(load(None).unwrap().admin.listen, listen(""));
    assert_eq!(listen("admin: { listen: null }"), None);
    assert_eq!(
        listen("admin: { listen: \"[::1]:9000\" }"),
        Some("[::1]:9000".parse().unwrap())
    );
    assert_eq!(errs("admin: { listen: nowhere }")[0].path, "admin.listen");
    assert_eq!(errs("admin: { port: 1 }")[0].path, "admin.port");
}

#[test]
fn transparent_mode_is_off_unless_asked_for() {
    let listen = |text: &str| parse(text, "t.yaml").unwrap().transparent.listen;
    assert_eq!(listen(""), None);
    assert_eq!(load(None).unwrap().transparent.listen, None);
    assert_eq!(
        listen("transparent: { listen: 0.0.0.0:3129 }"),
        Some("0.0.0.0:3129".parse().unwrap())
    );
    assert_eq!(
        errs("transparent: { listen: lan0 }")[0].path,
        "transparent.listen"
    );
    assert_eq!(
        errs("transparent: { mode: tproxy }")[0].path,
        "transparent.mode"
    );
}

#[test]
fn unknown_top_level_key_with_suggestion() {
    let e = errs("listen: 127.0.0.1:1\nintercpt:\n  hosts: []\n");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "intercpt");
    assert_eq!(e[0].pos, Some(Pos { line: 2, col: 1 }));
    assert!(
        e[0].message.contains("did you mean \"intercept\""),
        "{}",
        e[0].message
    );
    assert_eq!(
        e[0].to_string(),
        "t.yaml:2:1: intercpt: unknown key \"intercpt\" (did you mean \"intercept\"?)"
    );
}

#[test]
fn unknown_nested_key_is_located() {
    let e = errs("limits:\n  max_connections: 10\n  idle_timout: 5s\n");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "limits.idle_timout");
    assert_eq!(e[0].pos, Some(Pos { line: 3, col: 3 }));
    assert!(
        e[0].message.contains("did you mean \"idle_timeout\""),
        "{}",
        e[0].message
    );
}

#[test]
fn all_errors_reported_at_once() {
    let text = "listen: nowhere\nlimits:\n  idle_timeout: 5 parsecs\nresolve:\n  - bad\n  - a.com:443:127.0.0.1:8443\n  - b.com:x:1.2.3.4:5\nintercept:\n  hosts: ['*.ok.com', 'bad host']\n";
    let e = errs(text);
    let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "listen",
            "limits.idle_timeout",
            "resolve[0]",
            "resolve[2]",
            "intercept.hosts[1]"
        ]
    );
    // Sorted in file order, each with its line.
    let lines: Vec<usize> = e.iter().map(|e| e.pos.unwrap().line).collect();
    assert_eq!(lines, vec![1, 3, 5, 7, 9]);
}

#[test]
fn bad_cidr() {
    let e = errs("clients:\n  allow: [10.0.0.0/33]\n");
    assert_eq!(e[0].path, "clients.allow[0]");
    assert_eq!(e[0].pos.unwrap().line, 2);
}

#[test]
fn bad_size_and_zero_limits() {
    let e = errs("limits:\n  max_connections: 0\n  max_header_bytes: 12QB\n");
    assert_eq!(
        e.len(),
        1,
        "serde stops a section at its first error: {e:?}"
    );
    assert_eq!(e[0].path, "limits.max_header_bytes");
    let e = errs("limits:\n  max_connections: 0\n");
    assert_eq!(e[0].path, "limits.max_connections");
    assert!(e[0].message.contains("at least 1"));
}

#[test]
fn hold_memory_over_max() {
    let e = errs("hold:\n  memory: 2GiB\n  max: 1GiB\n");
    assert_eq!(e[0].path, "hold.memory");
}

#[test]
fn auth_needs_hex_digest() {
    let e = errs("auth:\n  users:\n    - name: alice\n      password_sha256: secret\n");
    assert_eq!(e[0].path, "auth.users[0].password_sha256");
    assert_eq!(e[0].pos.unwrap().line, 4);
    // The bad value itself is not echoed back.
    assert!(!e[0].to_string().contains("secret\""));
}

#[test]
fn syntax_error_is_located() {
    let e = errs("listen: [1, 2\nclients: {}\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].pos.is_some());
}

#[test]
fn top_level_must_be_mapping() {
    let e = errs("- a\n- b\n");
    assert!(e[0].message.contains("mapping"));
}

#[test]
fn resolve_rules_parse() {
    let r: ResolveRule = "OAPI.dingtalk.com:443:127.0.0.1:8443".parse().unwrap();
    assert_eq!(r.host, "oapi.dingtalk.com");
    assert_eq!(r.port, 443);
    assert_eq!(r.to.to_string(), "127.0.0.1:8443");
    let r: ResolveRule = "a.com:443:[::1]:8443".parse().unwrap();
    assert_eq!(r.to.to_string(), "[::1]:8443");
    let r: ResolveRule = "a.com:443:::1:8443".parse().unwrap();
    assert_eq!(r.to.to_string(), "[::1]:8443");
    for bad in [
        "a.com",
        "a.com:443",
        ":443:1.2.3.4:5",
        "a.com:0:1.2.3.4:5",
        "a.com:443:nope:5",
    ] {
        assert!(bad.parse::<ResolveRule>().is_err(), "{bad}");
    }
}

#[test]
fn overrides_win() {
    let mut c = parse("resolve: ['a.com:443:127.0.0.1:1']\n", "t").unwrap();
    c.apply(&Overrides {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        resolve: vec!["a.com:443:127.0.0.1:2".parse().unwrap()],
        ..Default::default()
    });
    assert_eq!(c.listen.port(), 0);
    assert_eq!(c.resolve.len(), 1);
    assert_eq!(c.resolve[0].to.port(), 2);
}

#[test]
fn policy_errors_point_at_the_rule() {
    let text = "policy:\n  rules:\n    - name: ok\n      when: { jurisdiction: mainland-china }\n      action: block\n    - name: pii\n      when:\n        classes: { hkid: 1 }\n      action: block\n";
    let e = errs(text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].path, "policy.rules[1].when.classes.hkid");
    assert!(e[0].message.contains("pii"), "{}", e[0].message);
    assert!(
        e[0].message.contains("did you mean \"hk_id\""),
        "{}",
        e[0].message
    );
    assert_eq!(e[0].pos.map(|p| p.line), Some(8));
}

#[test]
fn policy_shape_errors_are_located() {
    let e = errs("policy:\n  rules:\n    - name: x\n      action: explode\n");
    assert_eq!(e[0].path, "policy.rules[0].action");
    assert_eq!(e[0].pos.map(|p| p.line), Some(4));
}

#[test]
fn the_embedded_policy_compiles_with_rules() {
    let c = load(None).unwrap();
    assert!(c.policy_config.rules.len() >= 4);
    assert_eq!(c.policy.hash().len(), 64);
}

#[test]
fn policy_errors_are_reported_beside_other_sections_errors() {
    let e = errs("listen: nope\npolicy:\n  rules:\n    - name: r1\n      when: { classes: { hkid: 1 } }\n      action: block\n");
    let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, vec!["listen", "policy.rules[0].when.classes.hkid"]);
}
