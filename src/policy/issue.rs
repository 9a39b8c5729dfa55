//! A configuration problem found by `compile`: which document, which key path, what is wrong.
//! `config::load` turns the key path into file:line:col.

use std::fmt;

/// Which document a key path is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The `policy:` section.
    Policy,
    /// The regions document (`config/regions.yaml` or the operator's).
    Regions,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    pub origin: Origin,
    /// Relative to the section, e.g. `rules[3].when.classes[1]`.
    pub path: String,
    /// Names the rule when there is one, e.g. `rule "pii": unknown class "hkid" (did you mean "hk_id"?)`.
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Collects issues for one document.
pub(crate) struct Issues {
    origin: Origin,
    pub(crate) list: Vec<ConfigIssue>,
}

impl Issues {
    pub(crate) fn new(origin: Origin) -> Issues {
        Issues {
            origin,
            list: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.list.push(ConfigIssue {
            origin: self.origin,
            path: path.into(),
            message: message.into(),
        });
    }
}

/// `unknown class "hkid" (did you mean "hk_id"?)`, or without the hint when nothing is close.
pub(crate) fn unknown<'a>(
    what: &str,
    got: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match did_you_mean(got, candidates) {
        Some(s) => format!("unknown {what} {got:?} (did you mean {s:?}?)"),
        None => format!("unknown {what} {got:?}"),
    }
}

/// The closest candidate within a small edit distance, ignoring case, `_` and `-`.
pub fn did_you_mean<'a>(
    got: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let g = norm(got);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = levenshtein(&g, &norm(c));
        let limit = if g.len() <= 4 { 1 } else { 2 };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let classes = ["hk_id", "macau_id", "prc_id", "phone", "email"];
        let cases = [
            ("missing underscore", "hkid", Some("hk_id")),
            ("typo", "phnoe", Some("phone")),
            ("case", "HK_ID", Some("hk_id")),
            ("far", "passport_number", None),
        ];
        for (name, got, want) in cases {
            assert_eq!(did_you_mean(got, classes), want, "case {name}");
        }
        assert_eq!(
            unknown("class", "hkid", classes),
            r#"unknown class "hkid" (did you mean "hk_id"?)"#
        );
    }
}
