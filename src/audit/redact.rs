//! Keeping raw secrets and personal data out of the audit log: query-secret
//! redaction for paths, a last-line mask for samples, and length bounds.

/// Longest redacted path kept in a record.
const MAX_PATH: usize = 2048;
/// Longest sample kept in a record.
const MAX_SAMPLE: usize = 64;
/// What a redacted value becomes.
pub const REDACTED: &str = "REDACTED";

/// Names (normalised: lowercase ASCII letters and digits only, so `access_token`,
/// `Access-Token` and `access%5Ftoken` all read `accesstoken`) that are secret
/// wherever they appear inside a parameter name.
const SECRET_PARTS: &[&str] = &[
    "token",
    "secret",
    "key",
    "passw",
    "signature",
    "credential",
    "session",
    "auth",
    "ticket",
];

/// Names that are secret only as a whole: short words that occur inside harmless
/// names (`sign` in `design`), and personal data that sometimes travels in queries.
const SECRET_NAMES: &[&str] = &[
    "sign",
    "sig",
    "timestamp",
    "nonce",
    "pwd",
    "code",
    "mobile",
    "phone",
    "email",
    "idcard",
    "idno",
    "passport",
];

/// Alibaba Cloud API signing parameters (`x-acs-signature-nonce`, …).
const SECRET_PREFIXES: &[&str] = &["xacs"];

/// Redacts the values of secret query (and fragment, and `;` path) parameters,
/// keeping their names, and any `user:password@` of an absolute URL.
///
/// Parameter names are matched after lenient percent-decoding and case folding;
/// malformed `%` escapes are taken literally, never an error. The result is bounded
/// to `MAX_PATH` bytes (after redaction, so truncation cannot expose a secret's prefix).
pub fn redact_path(path_and_query: &str) -> String {
    redact_path_with(path_and_query, |_| false)
}

/// As `redact_path`, and also redacts each query or fragment pair (`name=value`,
/// as written) for which `personal` holds: the inspector's say on what a value
/// carries, beside the names this module knows. A pair without `=`, or
/// whose name `personal` also holds for, is redacted whole.
pub fn redact_path_with(path_and_query: &str, personal: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(path_and_query.len().min(MAX_PATH) + 16);
    let (before_fragment, fragment) = match path_and_query.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (path_and_query, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (before_fragment, None),
    };
    redact_path_part(path, &mut out);
    if let Some(query) = query {
        out.push('?');
        redact_pairs(query, '&', &personal, &mut out);
    }
    if let Some(fragment) = fragment {
        // OAuth implicit flows put `access_token=` in the fragment.
        out.push('#');
        redact_pairs(fragment, '&', &personal, &mut out);
    }
    bound(&out, MAX_PATH)
}

fn redact_path_part(path: &str, out: &mut String) {
    let path = strip_userinfo(path, out);
    // `;jsessionid=…` style path parameters.
    let mut segments = path.split(';');
    if let Some(first) = segments.next() {
        out.push_str(first);
    }
    for param in segments {
        out.push(';');
        redact_pairs(param, '\u{0}', &|_| false, out);
    }
}

/// Copies `scheme://` of an absolute URL into `out` with any userinfo redacted and
/// returns the rest.
fn strip_userinfo<'a>(path: &'a str, out: &mut String) -> &'a str {
    let Some(scheme_end) = path.find("://") else {
        return path;
    };
    let after = scheme_end + 3;
    let (scheme, rest) = path.split_at(after);
    out.push_str(scheme);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            out.push_str(REDACTED);
            out.push_str(authority.get(at..).unwrap_or(""));
        }
        None => out.push_str(authority),
    }
    tail
}

fn redact_pairs(pairs: &str, separator: char, personal: &dyn Fn(&str) -> bool, out: &mut String) {
    for (i, pair) in pairs.split(separator).enumerate() {
        if i > 0 {
            out.push(separator);
        }
        match pair.split_once('=') {
            Some((name, _)) if personal(pair) && personal(name) => out.push_str(REDACTED),
            Some((name, _)) if is_secret_name(name) || personal(pair) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            None if personal(pair) => out.push_str(REDACTED),
            _ => out.push_str(pair),
        }
    }
}

fn is_secret_name(raw: &str) -> bool {
    let name = normalise_name(raw);
    SECRET_NAMES.contains(&name.as_str())
        || SECRET_PARTS.iter().any(|part| name.contains(part))
        || SECRET_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// Percent-decodes leniently (a `%` not followed by two hex digits stays literal),
/// then keeps only ASCII letters and digits, lowercased.
fn normalise_name(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex_value(h).zip(hex_value(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match escaped {
            Some(v) => {
                decoded.push(v);
                i += 3;
            }
            None => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    decoded
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| char::from(b.to_ascii_lowercase()))
        .collect()
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The inspector masks samples; this is the audit log's own guard against a
/// detector that forgot to. A sample with a run of `**` is taken as masked;
/// anything else keeps two leading characters and its length only.
pub fn mask_sample(sample: &str) -> String {
    if sample.contains("**") {
        return bound(sample, MAX_SAMPLE);
    }
    let count = sample.chars().count();
    let shown: String = sample
        .chars()
        .take(if count >= 8 { 2 } else { 0 })
        .collect();
    format!("{shown}****[{count}]")
}

/// `s` cut to at most `max` bytes on a character boundary, marked when cut.
pub fn bound(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 16);
    out.push_str(s.get(..end).unwrap_or(""));
    out.push_str("…[truncated]");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        input: &'static str,
        want: &'static str,
    }

    const CASES: &[Case] = &[
        Case {
            name: "no query",
            input: "/v1.0/robot/oToMessages/batchSend",
            want: "/v1.0/robot/oToMessages/batchSend",
        },
        Case {
            name: "robot webhook with access_token, timestamp and sign",
            input: "/robot/send?access_token=0123abcdef&timestamp=1700000000000&sign=abc%2Bdef%3D",
            want: "/robot/send?access_token=REDACTED&timestamp=REDACTED&sign=REDACTED",
        },
        Case {
            name: "mixed case names",
            input: "/x?Access_Token=a&SIGN=b&TimeStamp=c&page=2",
            want: "/x?Access_Token=REDACTED&SIGN=REDACTED&TimeStamp=REDACTED&page=2",
        },
        Case {
            name: "repeated keys",
            input: "/x?sign=a&sign=b&q=1&sign=c",
            want: "/x?sign=REDACTED&sign=REDACTED&q=1&sign=REDACTED",
        },
        Case {
            name: "percent-encoded name",
            input: "/x?access%5Ftoken=a&%73ign=b",
            want: "/x?access%5Ftoken=REDACTED&%73ign=REDACTED",
        },
        Case {
            name: "malformed percent escapes",
            input: "/x%zz?%=1&%4=2&a%ZZb=3&token%=4&%%%=5",
            want: "/x%zz?%=1&%4=2&a%ZZb=3&token%=REDACTED&%%%=5",
        },
        Case {
            name: "secret-ish name parts, x-acs prefix and words that only contain sign",
            input: "/x?appSecret=1&AppKey=2&x-acs-signature-nonce=3&design=4&signal=5&OSSAccessKeyId=6&Signature=7",
            want: "/x?appSecret=REDACTED&AppKey=REDACTED&x-acs-signature-nonce=REDACTED&design=4&signal=5&OSSAccessKeyId=REDACTED&Signature=REDACTED",
        },
        Case {
            name: "fragment with a token and a plain fragment",
            input: "/cb?state=1#access_token=abc&expires_in=7200",
            want: "/cb?state=1#access_token=REDACTED&expires_in=7200",
        },
        Case {
            name: "plain fragment kept",
            input: "/doc#section-2",
            want: "/doc#section-2",
        },
        Case {
            name: "empty query, empty value, name without value",
            input: "/x?&token=&sign&a=",
            want: "/x?&token=REDACTED&sign&a=",
        },
        Case {
            name: "value containing equals signs",
            input: "/x?sign=a=b=c&n=1",
            want: "/x?sign=REDACTED&n=1",
        },
        Case {
            name: "path parameter session id",
            input: "/app;jsessionid=ABC123;v=1?x=1",
            want: "/app;jsessionid=REDACTED;v=1?x=1",
        },
        Case {
            name: "absolute form with userinfo",
            input: "http://user:pa55@example.com:8080/p?password=x",
            want: "http://REDACTED@example.com:8080/p?password=REDACTED",
        },
        Case {
            name: "personal data in the query",
            input: "/u?mobile=13800138000&email=a%40b.mo&lang=zh",
            want: "/u?mobile=REDACTED&email=REDACTED&lang=zh",
        },
        Case {
            name: "non-ASCII",
            input: "/搜索?关键=值&token=秘密",
            want: "/搜索?关键=值&token=REDACTED",
        },
    ];

    #[test]
    fn redact_path_table() {
        for case in CASES {
            assert_eq!(redact_path(case.input), case.want, "case: {}", case.name);
        }
    }

    #[test]
    fn redact_path_is_bounded_and_never_leaks_a_cut_secret() {
        let long = format!("/x?a={}&token=SECRETVALUE", "b".repeat(10_000));
        let out = redact_path(&long);
        assert!(out.len() <= MAX_PATH + 16);
        assert!(!out.contains("SECRET"));
    }

    #[test]
    fn redact_path_never_panics_on_odd_bytes() {
        for input in [
            "%",
            "?%",
            "?=%",
            "#",
            "?#",
            "://@",
            "a://",
            ";=",
            "?%e4%b8=1",
            "é%é",
        ] {
            let _ = redact_path(input);
        }
    }

    #[test]
    fn mask_sample_keeps_masked_and_masks_raw() {
        assert_eq!(mask_sample("A12****(3)"), "A12****(3)");
        assert_eq!(mask_sample("85261234567"), "85****[11]");
        assert_eq!(mask_sample("1234"), "****[4]");
        assert!(mask_sample(&format!("A1**{}", "9".repeat(500))).len() <= MAX_SAMPLE + 16);
    }

    #[test]
    fn pairs_the_inspector_names_are_redacted_too() {
        let data = |p: &str| p.contains("A123456") || p == "closed";
        let cases = [
            ("/a?A123456(3)=1&n=1", "/a?REDACTED&n=1"),
            ("/a?msg=A123456(3)&n=1", "/a?msg=REDACTED&n=1"),
            ("/a?A123456(3)&n=1", "/a?REDACTED&n=1"),
            (
                "/a?access_token=x&msg=A123456",
                "/a?access_token=REDACTED&msg=REDACTED",
            ),
            ("/a#msg=A123456", "/a#msg=REDACTED"),
            ("/a;msg=A123456?n=1", "/a;msg=A123456?n=1"),
            ("/a?n=closed&closed", "/a?n=closed&REDACTED"),
            ("/a", "/a"),
        ];
        for (path, want) in cases {
            assert_eq!(redact_path_with(path, data), want, "{path}");
        }
        assert_eq!(
            redact_path_with("/a?n=1&m", |_| true),
            "/a?REDACTED&REDACTED"
        );
    }

    #[test]
    fn bound_cuts_on_char_boundaries() {
        assert_eq!(bound("abc", 3), "abc");
        assert_eq!(bound("澳門", 4), "澳…[truncated]");
    }
}
