//! Rule semantics on small hand-written policies: order, actions, counts, shadow,
//! on_incomplete, reroute, and body plans.

use super::*;

const TWO_RULES: &str = r#"
default: allow
upstreams:
  macau-records: { url: "https://records.example.mo/dingtalk" }
  international: { host_map: { from: .dingtalk.com, to: .dingtalk.io } }
rules: []
"#;

/// A policy with `rules` (YAML list items) under the default regions.
fn with_rules(rules: &str) -> Policy {
    let mut cfg = policy_yaml(TWO_RULES);
    let parsed: Vec<RuleConfig> =
        serde_yaml::from_str(rules).unwrap_or_else(|e| panic!("rules: {e}"));
    cfg.rules = parsed;
    build(&cfg, &regions_cfg())
}

/// (name, classes found, expected action, expected rule)
type ClassCase = (
    &'static str,
    &'static [(Class, u64)],
    Action,
    Option<&'static str>,
);
/// (name, classes found, expected rule)
type RuleCase = (&'static str, &'static [(Class, u64)], Option<&'static str>);
/// (name, host, findings, expected action, rule, reason)
type IncompleteCase = (
    &'static str,
    &'static str,
    Findings,
    Action,
    Option<&'static str>,
    VerdictReason,
);

fn run(p: &Policy, host: &str, f: &Findings) -> Verdict {
    let meta = RequestMeta::new("POST", host, "/media/upload?access_token=x");
    let d = dest_of(p, &meta);
    p.evaluate(&meta, &d, f)
}

#[test]
fn first_match_wins() {
    let p = with_rules(
        r#"
- { name: first, when: { classes: { hk_id: 1 } }, action: audit }
- { name: second, when: { classes: { hk_id: 1 } }, action: block }
- { name: third, when: { classes: { phone: 1 } }, action: block }
"#,
    );
    let cases: &[ClassCase] = &[
        (
            "both match, first wins",
            &[(Class::HkId, 1)],
            Action::Audit,
            Some("first"),
        ),
        (
            "only third",
            &[(Class::Phone, 1)],
            Action::Block,
            Some("third"),
        ),
        (
            "first beats third",
            &[(Class::HkId, 1), (Class::Phone, 1)],
            Action::Audit,
            Some("first"),
        ),
        ("none", &[(Class::Email, 5)], Action::Allow, None),
    ];
    for &(name, classes, action, rule) in cases {
        let v = run(&p, "oapi.dingtalk.com", &findings(classes));
        assert_eq!((v.action, v.rule.as_deref()), (action, rule), "case {name}");
    }
}

#[test]
fn each_action() {
    let p = with_rules(
        r#"
- { name: to-block, when: { host: block.example }, action: block }
- { name: to-allow, when: { host: allow.example }, action: allow }
- { name: to-audit, when: { host: audit.example }, action: audit }
- { name: to-macau, when: { host: reroute.example }, action: reroute, upstream: macau-records }
"#,
    );
    let cases = [
        ("block.example", Action::Block),
        ("allow.example", Action::Allow),
        ("audit.example", Action::Audit),
        ("reroute.example", Action::Reroute),
    ];
    for (host, action) in cases {
        let v = run(&p, host, &Findings::default());
        assert_eq!(v.action, action, "host {host}");
        assert_eq!(v.reason, VerdictReason::Destination, "host {host}");
        assert_eq!(
            v.reroute.is_some(),
            action == Action::Reroute,
            "host {host}"
        );
    }
    let v = run(&p, "reroute.example", &Findings::default());
    let target = v.reroute.map(|u| {
        u.target
            .apply("https", "reroute.example", 443, "/media/upload?x=1")
    });
    assert_eq!(
        target.flatten().map(|r| (r.host, r.path_and_query)),
        Some((
            "records.example.mo".to_owned(),
            "/dingtalk/media/upload?x=1".to_owned()
        ))
    );
}

#[test]
fn reroute_host_map_and_inapplicable_map_blocks() {
    let p = with_rules(
        r#"
- { name: to-intl, when: { jurisdiction: mainland-china, categories: { identity: 1 } }, action: reroute, upstream: international }
"#,
    );
    let ids = findings(&[(Class::MacauId, 1)]);
    let v = run(&p, "oapi.dingtalk.com", &ids);
    assert_eq!(v.action, Action::Reroute);
    let r = v.reroute.and_then(|u| {
        u.target
            .apply("https", "oapi.dingtalk.com", 443, "/media/upload")
    });
    assert_eq!(r.map(|r| r.host), Some("oapi.dingtalk.io".to_owned()));
    // A mainland OSS host is not under `.dingtalk.com`: never forward it as is.
    let v = run(&p, "oss-cn-hangzhou.aliyuncs.com", &ids);
    assert_eq!(v.action, Action::Block);
    assert_eq!(
        v.reason,
        VerdictReason::RerouteInapplicable {
            upstream: "international".into()
        }
    );
}

#[test]
fn minimum_counts_on_classes_and_categories() {
    let p = with_rules(
        r#"
- { name: ids, when: { classes: ["hk_id >= 2", "macau_id"] }, action: block }
- { name: contacts, when: { categories: { contact: 20 } }, action: audit }
- { name: both, when: { classes: { passport: 1 }, categories: { health: 3 }, match: all }, action: block }
"#,
    );
    let cases: &[RuleCase] = &[
        ("one hkid below min", &[(Class::HkId, 1)], None),
        ("two hkids", &[(Class::HkId, 2)], Some("ids")),
        ("bare name means one", &[(Class::MacauId, 1)], Some("ids")),
        (
            "19 contacts",
            &[(Class::Phone, 10), (Class::Email, 9)],
            None,
        ),
        (
            "20 contacts across classes",
            &[(Class::Phone, 10), (Class::Email, 10)],
            Some("contacts"),
        ),
        ("all: only passport", &[(Class::Passport, 1)], None),
        ("all: only health", &[(Class::Health, 3)], None),
        (
            "all: both",
            &[(Class::Passport, 1), (Class::Health, 3)],
            Some("both"),
        ),
    ];
    for &(name, classes, rule) in cases {
        let v = run(&p, "oapi.dingtalk.com", &findings(classes));
        assert_eq!(v.rule.as_deref(), rule, "case {name}");
    }
    let v = run(&p, "oapi.dingtalk.com", &findings(&[(Class::HkId, 5)]));
    assert_eq!(
        v.reason,
        VerdictReason::Matched {
            hits: vec![CountHit {
                subject: Subject::Class(Class::HkId),
                count: 5,
                min: 2
            }]
        }
    );
}

#[test]
fn shadow_rules_are_reported_not_enforced() {
    let p = with_rules(
        r#"
- { name: trial-block, when: { classes: { phone: 1 } }, action: block, shadow: true }
- { name: trial-dest, when: { jurisdiction: mainland-china }, action: block, shadow: true }
- { name: real, when: { classes: { hk_id: 1 } }, action: audit }
- { name: after-real, when: { classes: { hk_id: 1 } }, action: block, shadow: true }
"#,
    );
    let v = run(
        &p,
        "oapi.dingtalk.com",
        &findings(&[(Class::Phone, 1), (Class::HkId, 1)]),
    );
    assert_eq!((v.action, v.rule.as_deref()), (Action::Audit, Some("real")));
    let shadow: Vec<(&str, Action)> = v
        .shadow
        .iter()
        .map(|s| (s.rule.as_str(), s.action))
        .collect();
    assert_eq!(
        shadow,
        vec![
            ("trial-block", Action::Block),
            ("trial-dest", Action::Block)
        ]
    );

    let v = run(&p, "oapi.dingtalk.io", &findings(&[(Class::Phone, 1)]));
    assert_eq!((v.action, v.rule.as_deref()), (Action::Allow, None));
    assert_eq!(v.shadow.len(), 1);
}

#[test]
fn on_incomplete_default_and_overridden() {
    let p = with_rules(
        r#"
- { name: strict, when: { host: strict.example, classes: { hk_id: 1 } }, action: audit }
- { name: lenient, when: { host: lenient.example, classes: { hk_id: 1 } }, action: block, on_incomplete: allow }
- { name: monitor, when: { host: monitor.example, classes: { hk_id: 1 } }, action: block, on_incomplete: audit }
- { name: to-records, when: { host: records.example, classes: { hk_id: 1 } }, action: block, on_incomplete: reroute, upstream: macau-records }
- { name: explicit, when: { host: explicit.example, incomplete: true }, action: audit }
- { name: later, when: { host: [lenient.example, explicit.example] }, action: block }
"#,
    );
    let cases: &[IncompleteCase] = &[
        (
            "default is block",
            "strict.example",
            incomplete(&[]),
            Action::Block,
            Some("strict"),
            VerdictReason::Incomplete,
        ),
        (
            "settled despite incomplete",
            "strict.example",
            incomplete(&[(Class::HkId, 1)]),
            Action::Audit,
            Some("strict"),
            VerdictReason::Matched {
                hits: vec![CountHit {
                    subject: Subject::Class(Class::HkId),
                    count: 1,
                    min: 1,
                }],
            },
        ),
        (
            "complete and clean",
            "strict.example",
            Findings::default(),
            Action::Allow,
            None,
            VerdictReason::Default,
        ),
        (
            "allow fires and stops",
            "lenient.example",
            incomplete(&[]),
            Action::Allow,
            Some("lenient"),
            VerdictReason::Incomplete,
        ),
        (
            "audit",
            "monitor.example",
            incomplete(&[]),
            Action::Audit,
            Some("monitor"),
            VerdictReason::Incomplete,
        ),
        (
            "reroute",
            "records.example",
            incomplete(&[]),
            Action::Reroute,
            Some("to-records"),
            VerdictReason::Incomplete,
        ),
        (
            "incomplete condition",
            "explicit.example",
            incomplete(&[]),
            Action::Audit,
            Some("explicit"),
            VerdictReason::Incomplete,
        ),
        (
            "incomplete condition not met",
            "explicit.example",
            Findings::default(),
            Action::Block,
            Some("later"),
            VerdictReason::Destination,
        ),
    ];
    for (name, host, f, action, rule, reason) in cases {
        let v = run(&p, host, f);
        assert_eq!(
            (v.action, v.rule.as_deref(), &v.reason),
            (*action, *rule, reason),
            "case {name}"
        );
    }
}

#[test]
fn meta_conditions_path_method_host_region() {
    let p = with_rules(
        r#"
- name: storage
  when:
    region: [cn-zhangjiakou]
    method: put
    path: /yundisk0/**
  action: block
- name: robots
  when: { host: "*.dingtalk.com", path: "/robot/*" }
  action: audit
"#,
    );
    let cases: &[(&str, &str, &str, &str, Option<&str>)] = &[
        (
            "region, method and path",
            "PUT",
            "zjk-dualstack.trans.dingtalk.com",
            "/yundisk0/a/b",
            Some("storage"),
        ),
        (
            "wrong method",
            "POST",
            "zjk-dualstack.trans.dingtalk.com",
            "/yundisk0/a/b",
            None,
        ),
        (
            "wrong region",
            "PUT",
            "sh-dualstack.trans.dingtalk.com",
            "/yundisk0/a/b",
            None,
        ),
        (
            "wrong path",
            "PUT",
            "zjk-dualstack.trans.dingtalk.com",
            "/other",
            None,
        ),
        (
            "host and path",
            "POST",
            "oapi.dingtalk.com",
            "/robot/send",
            Some("robots"),
        ),
        (
            "query is not path",
            "POST",
            "oapi.dingtalk.com",
            "/robot?x=/robot/send",
            None,
        ),
    ];
    for &(name, method, host, path, rule) in cases {
        let meta = RequestMeta::new(method, host, path);
        let d = dest_of(&p, &meta);
        assert_eq!(
            p.evaluate(&meta, &d, &Findings::default()).rule.as_deref(),
            rule,
            "case {name}"
        );
    }
}

#[test]
fn websocket_messages_are_uploads_to_rules_that_name_post() {
    let p = with_rules(
        r#"
- { name: messages-only, when: { host: ws.example, method: websocket }, action: audit }
- { name: posts, when: { host: [ws.example, post.example], method: [POST] }, action: block }
- { name: puts, when: { host: put.example, method: PUT }, action: block }
"#,
    );
    let rule = |method: &str, host: &str| {
        let meta = RequestMeta::new(method, host, "/lwp");
        p.evaluate(&meta, &dest_of(&p, &meta), &Findings::default())
            .rule
    };
    assert_eq!(
        rule(WEBSOCKET, "ws.example").as_deref(),
        Some("messages-only")
    );
    assert_eq!(rule("POST", "ws.example").as_deref(), Some("posts"));
    assert_eq!(rule(WEBSOCKET, "post.example").as_deref(), Some("posts"));
    assert_eq!(rule(UPGRADE, "post.example").as_deref(), Some("posts"));
    assert_eq!(
        rule(UPGRADE, "ws.example").as_deref(),
        Some("posts"),
        "not a WebSocket"
    );
    // Only POST stands for a message: PUT and GET (the handshake) do not.
    assert_eq!(rule(WEBSOCKET, "put.example"), None);
    assert_eq!(rule("GET", "post.example"), None);
}

#[test]
fn body_plans() {
    let p = with_rules(
        r#"
- { name: body-rule, when: { host: held.example, classes: { hk_id: 1 } }, action: block }
- { name: dest-block, when: { host: [held.example, blocked.example, observed.example] }, action: block }
- { name: shadow-body, when: { host: observed.example, classes: { phone: 1 } }, action: block, shadow: true }
- { name: shadow-dest, when: { host: [observed.example, plain.example] }, action: audit, shadow: true }
"#,
    );
    let plan = |host: &str| {
        let meta = RequestMeta::new("POST", host, "/");
        p.plan(&meta, &dest_of(&p, &meta))
    };
    assert_eq!(plan("held.example"), BodyPlan::Hold);
    let BodyPlan::Decided(v) = plan("blocked.example") else {
        panic!("blocked.example should be decided without the body");
    };
    assert_eq!(
        (v.action, v.rule.as_deref()),
        (Action::Block, Some("dest-block"))
    );
    // dest-block decides before the shadow rules are reached.
    assert!(matches!(plan("observed.example"), BodyPlan::Decided(_)));
    let BodyPlan::Decided(v) = plan("plain.example") else {
        panic!("plain.example should be decided");
    };
    assert_eq!((v.action, v.shadow.len()), (Action::Allow, 1));

    let q = with_rules(
        r#"
- { name: shadow-body, when: { classes: { phone: 1 } }, action: block, shadow: true }
- { name: dest, when: { host: observed.example }, action: audit }
"#,
    );
    let meta = RequestMeta::new("POST", "observed.example", "/");
    let d = dest_of(&q, &meta);
    assert_eq!(q.plan(&meta, &d), BodyPlan::Observe);
    assert!(!q.may_act_on_body(&meta, &d));
    let v = q.evaluate(&meta, &d, &findings(&[(Class::Phone, 1)]));
    assert_eq!((v.action, v.shadow.len()), (Action::Audit, 1));
}

/// Whenever the plan decides without the body, every body gives the same verdict.
#[test]
fn decided_plans_agree_with_evaluate() {
    let p = default_policy();
    let bodies = [
        Findings::default(),
        findings(&[(Class::HkId, 3)]),
        findings(&[(Class::Phone, 30)]),
        incomplete(&[]),
        incomplete(&[(Class::Health, 2)]),
    ];
    let hosts = [
        "oapi.dingtalk.com",
        "oapi.dingtalk.io",
        "example.com",
        "oss-cn-hongkong.aliyuncs.com",
    ];
    for host in hosts {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            let meta = RequestMeta::new(method, host, "/x");
            let d = dest_of(&p, &meta);
            if let BodyPlan::Decided(v) = p.plan(&meta, &d) {
                for f in &bodies {
                    assert_eq!(p.evaluate(&meta, &d, f), v, "{method} {host} {f:?}");
                }
            }
        }
    }
}
