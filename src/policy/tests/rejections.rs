//! One test per compile rejection: the key path and the message.

use super::*;

fn issues_for(policy: &str, regions: Option<RegionsConfig>) -> Vec<ConfigIssue> {
    let cfg = policy_yaml(policy);
    match compile(&cfg, &regions.unwrap_or_else(regions_cfg)) {
        Ok(_) => panic!("expected a rejection for:\n{policy}"),
        Err(issues) => issues,
    }
}

fn one_issue(policy: &str) -> (String, String) {
    let issues = issues_for(policy, None);
    assert_eq!(issues.len(), 1, "{issues:?}");
    let i = issues.into_iter().next().map(|i| (i.path, i.message));
    i.unwrap_or_default()
}

#[test]
fn policy_rejections() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "unknown class with did-you-mean (list form)",
            "rules:\n- { name: ids, when: { classes: [\"prc_id\", \"hkid >= 2\"] }, action: block }",
            "rules[0].when.classes[1]",
            r#"rule "ids": unknown class "hkid" (did you mean "hk_id"?)"#,
        ),
        (
            "unknown class (map form)",
            "rules:\n- { name: ids, when: { classes: { passprot: 1 } }, action: block }",
            "rules[0].when.classes.passprot",
            r#"rule "ids": unknown class "passprot" (did you mean "passport"?)"#,
        ),
        (
            "category under classes",
            "rules:\n- { name: c, when: { classes: { contact: 20 } }, action: block }",
            "rules[0].when.classes.contact",
            r#"rule "c": "contact" is a category, not a class: put it under `categories`"#,
        ),
        (
            "unknown category",
            "rules:\n- { name: c, when: { categories: { helth: 1 } }, action: block }",
            "rules[0].when.categories.helth",
            r#"rule "c": unknown category "helth" (did you mean "health"?)"#,
        ),
        (
            "zero minimum",
            "rules:\n- { name: z, when: { classes: { phone: 0 } }, action: block }",
            "rules[0].when.classes.phone",
            r#"rule "z": minimum count for "phone" must be at least 1"#,
        ),
        (
            "bad count syntax",
            "rules:\n- { name: z, when: { classes: [\"phone > 3\"] }, action: block }",
            "rules[0].when.classes[0]",
            r#"rule "z": bad condition "phone > 3" (expected "name >= N")"#,
        ),
        (
            "unknown jurisdiction",
            "rules:\n- { name: j, when: { jurisdiction: [macau, mainland] }, action: block }",
            "rules[0].when.jurisdiction[1]",
            r#"rule "j": unknown jurisdiction "mainland""#,
        ),
        (
            "unknown region with did-you-mean",
            "rules:\n- { name: r, when: { region: cn-hangzou }, action: block }",
            "rules[0].when.region[0]",
            r#"rule "r": unknown region "cn-hangzou" (did you mean "cn-hangzhou"?)"#,
        ),
        (
            "jurisdiction given as region",
            "rules:\n- { name: r, when: { region: singapore }, action: block }",
            "rules[0].when.region[0]",
            r#"rule "r": "singapore" is a jurisdiction, not a region: put it under `jurisdiction`"#,
        ),
        (
            "reroute without upstream",
            "rules:\n- { name: rr, action: reroute }",
            "rules[0].upstream",
            r#"rule "rr": `reroute` needs an `upstream`"#,
        ),
        (
            "unknown upstream",
            "upstreams: { macau: { url: \"https://r.example.mo\" } }\nrules:\n- { name: rr, action: reroute, upstream: macao }",
            "rules[0].upstream",
            r#"rule "rr": unknown upstream "macao" (did you mean "macau"?)"#,
        ),
        (
            "upstream without reroute",
            "upstreams: { macau: { url: \"https://r.example.mo\" } }\nrules:\n- { name: u, action: block, upstream: macau }",
            "rules[0].upstream",
            r#"rule "u": `upstream` is only used by `reroute`"#,
        ),
        (
            "bad upstream url",
            "upstreams: { macau: { url: \"ftp://r.example.mo\" } }",
            "upstreams.macau",
            r#"upstream "macau": URL must start with http:// or https://"#,
        ),
        (
            "duplicate rule names",
            "rules:\n- { name: same, action: block }\n- { name: same, action: allow }",
            "rules[1].name",
            r#"duplicate rule name "same" (first used by rules[0])"#,
        ),
        (
            "empty rule name",
            "rules:\n- { name: \"\", action: block }",
            "rules[0].name",
            "a rule needs a non-empty name",
        ),
        (
            "bad host pattern",
            "rules:\n- { name: h, when: { host: \"Api.DingTalk.com\" }, action: block }",
            "rules[0].when.host[0]",
            r#"rule "h": bad host pattern "Api.DingTalk.com": 'A' is not allowed in a host pattern (use lowercase letters, digits, '-', '.', '*')"#,
        ),
        (
            "region placeholder in a rule",
            "rules:\n- { name: h, when: { host: \"oss-{region}.aliyuncs.com\" }, action: block }",
            "rules[0].when.host[0]",
            r#"rule "h": bad host pattern "oss-{region}.aliyuncs.com": '{region}' is only allowed in the regions table"#,
        ),
        (
            "bad path glob",
            "rules:\n- { name: p, when: { path: \"media/**\" }, action: block }",
            "rules[0].when.path[0]",
            r#"rule "p": bad path glob "media/**": a path glob must start with '/'"#,
        ),
        (
            "bad method",
            "rules:\n- { name: m, when: { method: \"PO ST\" }, action: block }",
            "rules[0].when.method[0]",
            r#"rule "m": bad method "PO ST""#,
        ),
        (
            "on_incomplete without body conditions",
            "rules:\n- { name: o, when: { host: a.example }, action: block, on_incomplete: allow }",
            "rules[0].on_incomplete",
            r#"rule "o": `on_incomplete` needs class or category conditions (without them the body does not matter)"#,
        ),
        (
            "on_incomplete with incomplete condition",
            "rules:\n- { name: o, when: { incomplete: true }, action: block, on_incomplete: allow }",
            "rules[0].on_incomplete",
            r#"rule "o": `on_incomplete` has no effect on a rule that already says `when.incomplete`"#,
        ),
        (
            "match with one condition",
            "rules:\n- { name: m, when: { classes: { hk_id: 1 }, match: all }, action: block }",
            "rules[0].when.match",
            r#"rule "m": `match` needs at least two class or category conditions to combine"#,
        ),
        (
            "reroute default",
            "default: reroute",
            "default",
            "the default cannot be `reroute` (it has no upstream); use a last rule instead",
        ),
    ];
    for &(name, yaml, path, message) in cases {
        let (got_path, got_message) = one_issue(yaml);
        assert_eq!(
            (got_path.as_str(), got_message.as_str()),
            (path, message),
            "case {name}"
        );
    }
}

#[test]
fn all_issues_reported_at_once() {
    let issues = issues_for(
        "rules:\n- { name: a, when: { classes: { hkid: 1 }, jurisdiction: nowhere }, action: block }\n- { name: a, action: reroute }",
        None,
    );
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "rules[0].when.jurisdiction[0]",
            "rules[0].when.classes.hkid",
            "rules[1].name",
            "rules[1].upstream"
        ]
    );
    assert!(issues.iter().all(|i| i.origin == Origin::Policy));
}

#[test]
fn regions_rejections() {
    let base = regions_cfg;
    let cases: Vec<(&str, RegionsConfig, &str, &str)> = vec![
        ("bad CIDR", {
            let mut r = base();
            r.cidrs.push(CidrConfig { net: "47.92.0.0/33".into(), region: Some("cn-beijing".into()), jurisdiction: None });
            r
        }, "cidrs[0].net", r#"bad CIDR "47.92.0.0/33" (expected e.g. 47.92.0.0/14 or 2408:4000::/22)"#),
        ("CIDR with unknown region", {
            let mut r = base();
            r.cidrs.push(CidrConfig { net: "10.0.0.0/8".into(), region: Some("cn-beijng".into()), jurisdiction: None });
            r
        }, "cidrs[0].region", r#"unknown region "cn-beijng" (did you mean "cn-beijing"?)"#),
        ("CIDR with neither", {
            let mut r = base();
            r.cidrs.push(CidrConfig { net: "10.0.0.0/8".into(), region: None, jurisdiction: None });
            r
        }, "cidrs[0]", "give exactly one of `region` or `jurisdiction`"),
        ("bad host pattern", {
            let mut r = base();
            r.hosts.push(HostConfig { pattern: "oss-{region}-{region}.x.com".into(), region: None, jurisdiction: None });
            r
        }, "hosts[25].pattern", r#"bad host pattern "oss-{region}-{region}.x.com": only one '*' or '{region}' placeholder is allowed, in the first literal label"#),
        ("duplicate host pattern", {
            let mut r = base();
            r.hosts.push(HostConfig { pattern: "*.dingtalk.io".into(), region: Some("cn-beijing".into()), jurisdiction: None });
            r
        }, "hosts[25].pattern", r#"pattern "*.dingtalk.io" already given at hosts[14]"#),
        ("region capture with region", {
            let mut r = base();
            r.hosts.push(HostConfig { pattern: "x-{region}.example".into(), region: Some("cn-beijing".into()), jurisdiction: None });
            r
        }, "hosts[25]", "a pattern with {region} takes its region from the host: drop `region` and `jurisdiction`"),
        ("region in unknown jurisdiction", {
            let mut r = base();
            r.regions.push(RegionConfig { id: "mo-onprem".into(), jurisdiction: "macao".into() });
            r
        }, "regions[29].jurisdiction", r#"unknown jurisdiction "macao" (did you mean "macau"?)"#),
        ("duplicate region", {
            let mut r = base();
            r.regions.push(RegionConfig { id: "cn-beijing".into(), jurisdiction: "mainland-china".into() });
            r
        }, "regions[29].id", r#"duplicate region "cn-beijing""#),
        ("announced name to unknown region", {
            let mut r = base();
            r.announced.insert("QINGDAO".into(), "cn-qindao".into());
            r
        }, "announced.QINGDAO", r#"unknown region "cn-qindao" (did you mean "cn-qingdao"?)"#),
        ("bad learn path", {
            let mut r = base();
            r.learn.endpoints.push(LearnEndpointConfig { host: OneOrMany(vec!["api.dingtalk.com".into()]), path: OneOrMany(vec!["v1.0/x".into()]), method: None });
            r
        }, "learn.endpoints[1].path[0]", r#"bad path glob "v1.0/x": a path glob must start with '/'"#),
    ];
    for (name, regions, path, message) in cases {
        let issues = issues_for("default: allow", Some(regions));
        let got: Vec<(&str, &str, Origin)> = issues
            .iter()
            .map(|i| (i.path.as_str(), i.message.as_str(), i.origin))
            .collect();
        assert_eq!(got, vec![(path, message, Origin::Regions)], "case {name}");
    }
}

#[test]
fn unknown_yaml_keys_are_rejected_by_serde() {
    let err =
        serde_yaml::from_str::<PolicyConfig>("rules:\n- { name: a, action: block, shdow: true }");
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("unknown field `shdow`"), "{msg}");
    let err = serde_yaml::from_str::<PolicyConfig>("rules:\n- { name: a, action: deny }");
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("unknown variant `deny`"), "{msg}");
}
