//! Host patterns and path globs: parsed once at compile time, matched on the
//! per-request path without allocating.
//!
//! Host patterns (lowercase):
//! - `oapi.dingtalk.com`: exactly that host;
//! - `*.dingtalk.com`: any subdomain, at any depth, but **not** `dingtalk.com` itself
//!   (list the apex separately when it matters);
//! - one label may hold a `*` or a `{region}` between literal text, as in
//!   `zjk-*.trans.dingtalk.com`, `oss-{region}-internal.aliyuncs.com`,
//!   `*.oss-{region}.aliyuncs.com`: the placeholder matches within that one label,
//!   `*` possibly empty, `{region}` a non-empty capture (regions table only).
//!
//! Path globs: `*` matches within one `/`-separated segment, a segment `**` matches
//! any number of segments (zero included). The query string is never part of a path.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatternError {
    #[error("empty pattern")]
    Empty,
    #[error(
        "{0:?} is not allowed in a host pattern (use lowercase letters, digits, '-', '.', '*')"
    )]
    BadChar(char),
    #[error("empty label (two dots in a row, or a leading/trailing dot)")]
    EmptyLabel,
    #[error("a bare \"*\" matches every host: leave `host` out instead")]
    MatchesEverything,
    #[error("only one '*' or '{{region}}' placeholder is allowed, in the first literal label")]
    TooManyPlaceholders,
    #[error("'{{region}}' is only allowed in the regions table")]
    RegionNotAllowed,
    #[error("'{{' must open '{{region}}'")]
    BadBrace,
    #[error("a path glob must start with '/'")]
    PathNotAbsolute,
    #[error("'**' must be a whole path segment")]
    BadDoubleStar,
}

/// What one placeholder label accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    Any,
    Region,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelPattern {
    pub prefix: String,
    pub placeholder: Placeholder,
    pub suffix: String,
}

impl LabelPattern {
    /// The text the placeholder matched, if the label fits.
    fn capture<'h>(&self, label: &'h str) -> Option<&'h str> {
        let rest = label.strip_prefix(self.prefix.as_str())?;
        let mid = rest.strip_suffix(self.suffix.as_str())?;
        match self.placeholder {
            Placeholder::Any => Some(mid),
            Placeholder::Region if mid.is_empty() => None,
            Placeholder::Region => Some(mid),
        }
    }
}

/// A parsed host pattern: `[*.] [label-pattern.] tail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    pub text: String,
    /// At least one extra label to the left is required.
    pub wildcard: bool,
    pub label: Option<LabelPattern>,
    /// The literal labels on the right, e.g. `aliyuncs.com`.
    pub tail: String,
}

/// A successful host match; `region` is the `{region}` capture, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMatch<'h> {
    pub region: Option<&'h str>,
}

impl HostPattern {
    pub fn parse(text: &str, allow_region: bool) -> Result<HostPattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if text == "*" {
            return Err(PatternError::MatchesEverything);
        }
        let mut labels: Vec<&str> = text.split('.').collect();
        if labels.iter().any(|l| l.is_empty()) {
            return Err(PatternError::EmptyLabel);
        }
        let wildcard = labels.first() == Some(&"*");
        if wildcard {
            labels.remove(0);
        }
        let mut label = None;
        let mut tail_labels = Vec::new();
        for (i, l) in labels.iter().enumerate() {
            check_chars(l)?;
            let has_star = l.contains('*');
            let has_region = l.contains('{') || l.contains('}');
            if !has_star && !has_region {
                tail_labels.push(*l);
                continue;
            }
            if i != 0 || label.is_some() {
                return Err(PatternError::TooManyPlaceholders);
            }
            label = Some(parse_label(l, allow_region)?);
        }
        if tail_labels.is_empty() {
            // `*.*` or `{region}` alone: nothing literal to anchor on.
            return Err(PatternError::MatchesEverything);
        }
        Ok(HostPattern {
            text: text.to_owned(),
            wildcard,
            label,
            tail: tail_labels.join("."),
        })
    }

    /// Matches `host` (lowercase, no port, no trailing dot).
    pub fn matches<'h>(&self, host: &'h str) -> Option<HostMatch<'h>> {
        let rest = if host == self.tail {
            ""
        } else {
            let before = host.strip_suffix(self.tail.as_str())?;
            before.strip_suffix('.')?
        };
        self.match_rest(rest)
    }

    /// Matches what is left of the host once `tail` (and its dot) is removed.
    pub fn match_rest<'h>(&self, rest: &'h str) -> Option<HostMatch<'h>> {
        match (&self.label, self.wildcard) {
            (None, false) => rest.is_empty().then_some(HostMatch { region: None }),
            (None, true) => (!rest.is_empty()).then_some(HostMatch { region: None }),
            (Some(lp), false) => {
                if rest.contains('.') {
                    return None;
                }
                capture(lp, rest)
            }
            (Some(lp), true) => {
                let (left, last) = rest.rsplit_once('.')?;
                if left.is_empty() {
                    return None;
                }
                capture(lp, last)
            }
        }
    }

    /// Orders patterns that share a tail: most specific first.
    pub fn specificity(&self) -> (u8, usize) {
        let literal = self
            .label
            .as_ref()
            .map_or(0, |l| l.prefix.len() + l.suffix.len());
        let rank = match (&self.label, self.wildcard) {
            (None, false) => 0,
            (Some(_), false) => 1,
            (Some(_), true) => 2,
            (None, true) => 3,
        };
        (rank, usize::MAX - literal)
    }
}

fn capture<'h>(lp: &LabelPattern, label: &'h str) -> Option<HostMatch<'h>> {
    let mid = lp.capture(label)?;
    Some(HostMatch {
        region: (lp.placeholder == Placeholder::Region).then_some(mid),
    })
}

fn check_chars(label: &str) -> Result<(), PatternError> {
    for c in label.chars() {
        if !(c.is_ascii_lowercase()
            || c.is_ascii_digit()
            || matches!(c, '-' | '*' | '{' | '}' | '_'))
        {
            return Err(PatternError::BadChar(c));
        }
    }
    Ok(())
}

fn parse_label(l: &str, allow_region: bool) -> Result<LabelPattern, PatternError> {
    let stars = l.matches('*').count();
    let regions = l.matches("{region}").count();
    let braces = l.matches('{').count() + l.matches('}').count();
    if braces != regions * 2 {
        return Err(PatternError::BadBrace);
    }
    if stars + regions != 1 {
        return Err(PatternError::TooManyPlaceholders);
    }
    if regions == 1 && !allow_region {
        return Err(PatternError::RegionNotAllowed);
    }
    let (token, placeholder) = if regions == 1 {
        ("{region}", Placeholder::Region)
    } else {
        ("*", Placeholder::Any)
    };
    let (prefix, suffix) = l.split_once(token).ok_or(PatternError::BadBrace)?;
    Ok(LabelPattern {
        prefix: prefix.to_owned(),
        placeholder,
        suffix: suffix.to_owned(),
    })
}

/// One path segment of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of segments.
    Any,
    /// Literal text with `*` wildcards inside one segment.
    Glob(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathGlob {
    pub text: String,
    segments: Vec<Segment>,
}

impl PathGlob {
    pub fn parse(text: &str) -> Result<PathGlob, PatternError> {
        let body = text
            .strip_prefix('/')
            .ok_or(PatternError::PathNotAbsolute)?;
        let mut segments = Vec::new();
        for seg in body.split('/') {
            if seg == "**" {
                segments.push(Segment::Any);
            } else if seg.contains("**") {
                return Err(PatternError::BadDoubleStar);
            } else {
                segments.push(Segment::Glob(seg.to_owned()));
            }
        }
        Ok(PathGlob {
            text: text.to_owned(),
            segments,
        })
    }

    /// `path` without its query string.
    pub fn matches(&self, path: &str) -> bool {
        let Some(body) = path.strip_prefix('/') else {
            return false;
        };
        // The classic one-star backtracking, at segment level: `**` is the star.
        let mut pi = 0usize; // index into segments
        let mut ti = 0usize; // byte offset of the current path segment in `body`
        let mut backtrack: Option<(usize, usize)> = None;
        let at_end = |ti: usize| ti > body.len();
        loop {
            if pi < self.segments.len() {
                match self.segments.get(pi) {
                    Some(Segment::Any) => {
                        backtrack = Some((pi, ti));
                        pi += 1;
                        continue;
                    }
                    Some(Segment::Glob(g)) if !at_end(ti) => {
                        let (seg, next) = segment_at(body, ti);
                        if glob_segment(g.as_bytes(), seg.as_bytes()) {
                            pi += 1;
                            ti = next;
                            continue;
                        }
                    }
                    _ => {}
                }
            } else if at_end(ti) {
                return true;
            }
            // Mismatch: let the last `**` swallow one more segment.
            match backtrack {
                Some((bp, bt)) if !at_end(bt) => {
                    let (_, next) = segment_at(body, bt);
                    backtrack = Some((bp, next));
                    pi = bp + 1;
                    ti = next;
                }
                _ => return false,
            }
        }
    }
}

/// The segment starting at `start`, and where the next one starts (`len + 1` past the end).
fn segment_at(body: &str, start: usize) -> (&str, usize) {
    let rest = body.get(start..).unwrap_or("");
    match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(""), start + i + 1),
        None => (rest, body.len() + 1),
    }
}

/// `*` within one segment: the classic greedy algorithm with one backtrack point.
fn glob_segment(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..).is_some_and(|r| r.iter().all(|&c| c == b'*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct HostCase {
        name: &'static str,
        pattern: &'static str,
        host: &'static str,
        want: Option<Option<&'static str>>,
    }

    #[test]
    fn host_patterns() {
        let cases = [
            HostCase {
                name: "exact",
                pattern: "oapi.dingtalk.com",
                host: "oapi.dingtalk.com",
                want: Some(None),
            },
            HostCase {
                name: "exact other",
                pattern: "oapi.dingtalk.com",
                host: "api.dingtalk.com",
                want: None,
            },
            HostCase {
                name: "exact not suffix",
                pattern: "dingtalk.com",
                host: "evildingtalk.com",
                want: None,
            },
            HostCase {
                name: "wildcard sub",
                pattern: "*.dingtalk.com",
                host: "api.dingtalk.com",
                want: Some(None),
            },
            HostCase {
                name: "wildcard deep",
                pattern: "*.dingtalk.com",
                host: "a.b.dingtalk.com",
                want: Some(None),
            },
            HostCase {
                name: "wildcard not apex",
                pattern: "*.dingtalk.com",
                host: "dingtalk.com",
                want: None,
            },
            HostCase {
                name: "wildcard label boundary",
                pattern: "*.dingtalk.com",
                host: "xdingtalk.com",
                want: None,
            },
            HostCase {
                name: "prefix glob",
                pattern: "zjk-*.trans.dingtalk.com",
                host: "zjk-dualstack.trans.dingtalk.com",
                want: Some(None),
            },
            HostCase {
                name: "prefix glob other",
                pattern: "zjk-*.trans.dingtalk.com",
                host: "sh-dualstack.trans.dingtalk.com",
                want: None,
            },
            HostCase {
                name: "prefix glob one label",
                pattern: "zjk-*.trans.dingtalk.com",
                host: "a.zjk-x.trans.dingtalk.com",
                want: None,
            },
            HostCase {
                name: "region",
                pattern: "oss-{region}.aliyuncs.com",
                host: "oss-cn-hangzhou.aliyuncs.com",
                want: Some(Some("cn-hangzhou")),
            },
            HostCase {
                name: "region internal",
                pattern: "oss-{region}-internal.aliyuncs.com",
                host: "oss-cn-hongkong-internal.aliyuncs.com",
                want: Some(Some("cn-hongkong")),
            },
            HostCase {
                name: "region bucket",
                pattern: "*.oss-{region}.aliyuncs.com",
                host: "alidocs.oss-cn-zhangjiakou.aliyuncs.com",
                want: Some(Some("cn-zhangjiakou")),
            },
            HostCase {
                name: "region bucket needs bucket",
                pattern: "*.oss-{region}.aliyuncs.com",
                host: "oss-cn-zhangjiakou.aliyuncs.com",
                want: None,
            },
            HostCase {
                name: "region leading",
                pattern: "{region}.oss.aliyuncs.com",
                host: "cn-shanghai.oss.aliyuncs.com",
                want: Some(Some("cn-shanghai")),
            },
            HostCase {
                name: "region empty",
                pattern: "oss-{region}.aliyuncs.com",
                host: "oss-.aliyuncs.com",
                want: None,
            },
            HostCase {
                name: "star empty ok",
                pattern: "oss-accelerate*.aliyuncs.com",
                host: "oss-accelerate.aliyuncs.com",
                want: Some(None),
            },
        ];
        for c in cases {
            let p =
                HostPattern::parse(c.pattern, true).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let got = p.matches(c.host).map(|m| m.region);
            assert_eq!(got, c.want, "case {}", c.name);
        }
    }

    #[test]
    fn host_pattern_rejections() {
        let cases = [
            ("empty", "", PatternError::Empty),
            ("star", "*", PatternError::MatchesEverything),
            ("upper", "API.dingtalk.com", PatternError::BadChar('A')),
            ("dots", "a..com", PatternError::EmptyLabel),
            (
                "two placeholders",
                "a-*.b-*.com",
                PatternError::TooManyPlaceholders,
            ),
            (
                "placeholder in tail",
                "a.b-*.com",
                PatternError::TooManyPlaceholders,
            ),
            ("brace", "oss-{reg}.x.com", PatternError::BadBrace),
            ("only wildcards", "*.*", PatternError::MatchesEverything),
        ];
        for (name, text, want) in cases {
            assert_eq!(HostPattern::parse(text, true), Err(want), "case {name}");
        }
        assert_eq!(
            HostPattern::parse("oss-{region}.x.com", false),
            Err(PatternError::RegionNotAllowed)
        );
    }

    #[test]
    fn path_globs() {
        let cases = [
            (
                "literal",
                "/v1.0/robot/groupMessages/send",
                "/v1.0/robot/groupMessages/send",
                true,
            ),
            (
                "literal other",
                "/v1.0/robot/groupMessages/send",
                "/v1.0/robot/groupMessages/sen",
                false,
            ),
            (
                "star segment",
                "/v1.0/storage/spaces/*/files/uploadInfos/query",
                "/v1.0/storage/spaces/123/files/uploadInfos/query",
                true,
            ),
            (
                "star not across slash",
                "/v1.0/storage/spaces/*/files/uploadInfos/query",
                "/v1.0/storage/spaces/1/2/files/uploadInfos/query",
                false,
            ),
            ("star empty segment", "/a/*/b", "/a//b", true),
            ("partial star", "/media/up*", "/media/upload", true),
            ("double star", "/v1.0/**", "/v1.0/a/b/c", true),
            ("double star zero", "/v1.0/**", "/v1.0", true),
            ("double star middle", "/a/**/z", "/a/b/c/z", true),
            ("double star middle zero", "/a/**/z", "/a/z", true),
            ("double star middle miss", "/a/**/z", "/a/b/c/y", false),
            ("everything", "/**", "/", true),
            ("root only", "/", "/", true),
            ("root vs deeper", "/", "/a", false),
            ("relative path", "/a", "a", false),
            ("backtrack in segment", "/*ab*ab", "/xabyabab", true),
        ];
        for (name, glob, path, want) in cases {
            let g = PathGlob::parse(glob).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(g.matches(path), want, "case {name}");
        }
        assert_eq!(PathGlob::parse("a/b"), Err(PatternError::PathNotAbsolute));
        assert_eq!(PathGlob::parse("/a**"), Err(PatternError::BadDoubleStar));
    }
}
