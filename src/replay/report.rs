//! How replay results are printed: the table and summary for people, one JSON
//! object per entry for scripts (the DESIGN.md contract), and the policy diff.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;
#[cfg(test)]
use serde_json::Value;

use super::offline::{Change, Outcome};
use crate::policy::Action;

/// Widest a table cell may be; longer values are cut with `…`.
const MAX_CELL: usize = 40;

/// `{"index": N, "method": …, "url": …, "region": …, "jurisdiction": …,
/// "classes": {…}, "action": …, "rule": name|null}` — exactly DESIGN.md's keys.
pub fn json_line(o: &Outcome) -> String {
    // A struct, not `json!`: the keys come out in the documented order.
    #[derive(serde::Serialize)]
    struct Line<'a> {
        index: usize,
        method: &'a str,
        url: &'a str,
        region: &'a str,
        jurisdiction: &'a str,
        classes: BTreeMap<&'static str, u64>,
        action: &'static str,
        rule: Option<&'a str>,
    }
    let line = Line {
        index: o.index,
        method: &o.method,
        url: &o.url,
        region: &o.region,
        jurisdiction: &o.jurisdiction,
        classes: o.classes.iter().map(|(c, n)| (c.id(), *n)).collect(),
        action: o.action.id(),
        rule: o.rule.as_deref(),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

fn classes_cell(o: &Outcome) -> String {
    if o.classes.is_empty() {
        return match &o.incomplete {
            Some(_) => "(incomplete)".to_owned(),
            None => "-".to_owned(),
        };
    }
    let mut s = o
        .classes
        .iter()
        .map(|(c, n)| format!("{c}:{n}"))
        .collect::<Vec<_>>()
        .join(",");
    if o.incomplete.is_some() {
        s.push_str(" (incomplete)");
    }
    s
}

/// The region, or the jurisdiction when only that is known (`mainland-china?`).
fn region_cell(o: &Outcome) -> String {
    if o.region == crate::policy::UNKNOWN && o.jurisdiction != crate::policy::UNKNOWN {
        format!("{}?", o.jurisdiction)
    } else {
        o.region.clone()
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_CELL {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_CELL - 1).collect();
    out.push('…');
    out
}

/// Rows with columns padded to the widest cell of each.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(cell);
            l.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(cell.chars().count()),
            ));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

fn row(o: &Outcome) -> Vec<String> {
    vec![
        o.index.to_string(),
        o.method.clone(),
        cut(&o.host),
        region_cell(o),
        cut(&classes_cell(o)),
        o.action.id().to_owned(),
        o.rule.clone().unwrap_or_else(|| "-".to_owned()),
    ]
}

/// The human report: one row per entry, then the summary.
pub fn text(outcomes: &[Outcome]) -> String {
    let rows: Vec<Vec<String>> = outcomes.iter().map(row).collect();
    let mut out = table(
        &[
            "entry", "method", "host", "region", "classes", "action", "rule",
        ],
        &rows,
    );
    out.push('\n');
    out.push_str(&summary(outcomes));
    out
}

fn counts_line(label: &str, counts: &BTreeMap<String, u64>) -> String {
    let items = if counts.is_empty() {
        "-".to_owned()
    } else {
        counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{label:<15}{items}\n")
}

/// Counts by action, by jurisdiction, and (entries containing) each class.
pub fn summary(outcomes: &[Outcome]) -> String {
    let mut actions = BTreeMap::new();
    let mut jurisdictions = BTreeMap::new();
    let mut classes = BTreeMap::new();
    for o in outcomes {
        *actions.entry(o.action.id().to_owned()).or_insert(0) += 1;
        *jurisdictions.entry(o.jurisdiction.clone()).or_insert(0) += 1;
        for c in o.classes.keys() {
            *classes.entry(c.id().to_owned()).or_insert(0) += 1;
        }
    }
    let mut out = format!("{} entries\n", outcomes.len());
    out.push_str(&counts_line("actions:", &actions));
    out.push_str(&counts_line("jurisdictions:", &jurisdictions));
    out.push_str(&counts_line("classes:", &classes));
    out
}

/// Whether any entry's action is `fail_on` (`--fail-on`).
pub fn any_action(outcomes: &[Outcome], fail_on: Action) -> bool {
    outcomes.iter().any(|o| o.action == fail_on)
}

/// The entries whose verdict changes between the current policy and `OTHER`.
pub fn diff_text(changes: &[Change], total: usize, other: &str) -> String {
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            let rule = |o: &Outcome| o.rule.clone().unwrap_or_else(|| "-".to_owned());
            vec![
                c.before.index.to_string(),
                c.before.method.clone(),
                cut(&c.before.host),
                cut(&classes_cell(&c.before)),
                format!("{} ({})", c.before.action, rule(&c.before)),
                format!("{} ({})", c.after.action, rule(&c.after)),
            ]
        })
        .collect();
    let mut out = String::new();
    if !changes.is_empty() {
        out.push_str(&table(
            &["entry", "method", "host", "classes", "now", other],
            &rows,
        ));
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} of {total} entries change verdict under {other}",
        changes.len()
    );
    out
}

/// `--diff --json`: one object per changed entry.
pub fn diff_json_line(c: &Change) -> String {
    json!({
        "index": c.before.index,
        "method": c.before.method,
        "url": c.before.url,
        "before": {"action": c.before.action.id(), "rule": c.before.rule},
        "after": {"action": c.after.action.id(), "rule": c.after.rule},
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::Class;

    fn outcome(index: usize, action: Action, rule: Option<&str>, hk: u64) -> Outcome {
        let mut classes = BTreeMap::new();
        if hk > 0 {
            classes.insert(Class::HkId, hk);
        }
        Outcome {
            index,
            method: "POST".into(),
            url: "https://oapi.dingtalk.com/media/upload?access_token=REDACTED".into(),
            host: "oapi.dingtalk.com".into(),
            region: "cn-hangzhou".into(),
            jurisdiction: "mainland-china".into(),
            classes,
            action,
            rule: rule.map(str::to_owned),
            incomplete: None,
        }
    }

    #[test]
    fn json_line_has_exactly_the_contract_keys() {
        let line = json_line(&outcome(3, Action::Block, Some("sensitive-to-mainland"), 2));
        let v: Value = serde_json::from_str(&line).expect("json");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec![
            "index",
            "method",
            "url",
            "region",
            "jurisdiction",
            "classes",
            "action",
            "rule",
        ];
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(v["classes"]["hk_id"], 2);
        assert_eq!(v["action"], "block");
        let allow = json_line(&outcome(0, Action::Allow, None, 0));
        let v: Value = serde_json::from_str(&allow).expect("json");
        assert!(v["rule"].is_null());
    }

    #[test]
    fn text_has_a_row_per_entry_and_a_summary() {
        let outs = [
            outcome(0, Action::Allow, None, 0),
            outcome(1, Action::Block, Some("sensitive-to-mainland"), 3),
        ];
        let t = text(&outs);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("entry  method  host"), "{t}");
        assert!(
            lines[2].contains("hk_id:3") && lines[2].contains("sensitive-to-mainland"),
            "{t}"
        );
        assert!(t.contains("actions:       allow 1, block 1"), "{t}");
        assert!(t.contains("jurisdictions: mainland-china 2"), "{t}");
        assert!(t.contains("classes:       hk_id 1"), "{t}");
    }

    #[test]
    fn fail_on_and_diff() {
        let a = [
            outcome(0, Action::Allow, None, 0),
            outcome(1, Action::Block, Some("r"), 1),
        ];
        let b = [
            outcome(0, Action::Allow, None, 0),
            outcome(1, Action::Audit, Some("r"), 1),
        ];
        assert!(any_action(&a, Action::Block));
        assert!(!any_action(&b, Action::Block));
        assert!(any_action(&b, Action::Audit));
        let changes = super::super::offline::diff(&a, &b);
        assert_eq!(changes.len(), 1);
        let t = diff_text(&changes, 2, "other.yaml");
        assert!(t.contains("block (r)") && t.contains("audit (r)"), "{t}");
        assert!(
            t.ends_with("1 of 2 entries change verdict under other.yaml\n"),
            "{t}"
        );
    }
}
