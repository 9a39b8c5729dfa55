//! Credentials inside recorded text bodies: signed URLs (`resourceUrls` with
//! `Signature=`) and JSON string values under secret-looking keys
//! (`"Authorization": "OSS …"`). `mask` calls this before masking personal data.

use super::mask::{redact_url, MASKED};

/// JSON keys containing one of these (case-insensitive) have their string value masked.
const SECRET_KEY_PARTS: &[&str] = &[
    "authorization",
    "token",
    "secret",
    "signature",
    "password",
    "passwd",
    "accesskey",
    "credential",
    "cookie",
];

/// Both passes over `text`.
pub fn redact(text: &str) -> String {
    json_values(&urls(text))
}

/// Every `http://` or `https://` URL in `text`, query secrets redacted.
fn urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = next_url(rest) {
        let (before, tail) = rest.split_at(start);
        out.push_str(before);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\'))
            .unwrap_or(tail.len());
        let (url, after) = tail.split_at(end);
        out.push_str(&redact_url(url));
        rest = after;
    }
    out.push_str(rest);
    out
}

fn next_url(s: &str) -> Option<usize> {
    let http = s.find("http://");
    let https = s.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `"secretKey": "value"` → `"secretKey": "MASKED"`, found by a quote-aware scan
/// (no JSON parse: the body may be truncated or not quite JSON).
fn json_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(q) = rest.find('"') {
        let (before, tail) = rest.split_at(q);
        out.push_str(before);
        let Some((key, after_key)) = quoted(tail) else {
            out.push_str(tail);
            return out;
        };
        out.push_str(key);
        rest = after_key;
        let secret = {
            let k = key.to_ascii_lowercase();
            SECRET_KEY_PARTS.iter().any(|p| k.contains(p))
        };
        let trimmed = rest.trim_start();
        if !secret || !trimmed.starts_with(':') {
            continue;
        }
        let after_colon = trimmed.get(1..).unwrap_or_default();
        let value_start = after_colon.trim_start();
        if !value_start.starts_with('"') {
            continue;
        }
        let Some((value, after_value)) = quoted(value_start) else {
            continue;
        };
        // Keep the separator exactly; replace the string.
        let sep_len = rest.len() - value_start.len();
        out.push_str(rest.get(..sep_len).unwrap_or_default());
        if value.len() > 2 {
            out.push('"');
            out.push_str(MASKED);
            out.push('"');
        } else {
            out.push_str(value);
        }
        rest = after_value;
    }
    out.push_str(rest);
    out
}

/// A JSON string at the start of `s` (with its quotes, escapes honoured) and the rest.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some((s.get(..=i)?, s.get(i + 1..)?)),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_text_are_masked() {
        let cases = [
            (
                "signed url",
                r#"{"resourceUrls":["https://x.oss-cn-zhangjiakou.aliyuncs.com/a/b?Expires=1&OSSAccessKeyId=LTAI5t&Signature=abc"]}"#,
                &["LTAI5t", "Signature=abc"][..],
                &["/a/b", "Expires=1"][..],
            ),
            (
                "json keys",
                r#"{"headers": {"Authorization" : "OSS LTAI5t:sig", "x-oss-date": "today"}, "accessToken":"t0k\"en"}"#,
                &["LTAI5t:sig", "t0k"][..],
                &[
                    r#""Authorization" : "MASKED""#,
                    r#""accessToken":"MASKED""#,
                    "today",
                ][..],
            ),
            (
                "plain text",
                "see https://example.mo/page and go",
                &[][..],
                &["https://example.mo/page and go"][..],
            ),
            (
                "unterminated",
                r#"{"token": "abc"#,
                &[][..],
                &[r#"{"token": "abc"#][..],
            ),
        ];
        for (name, text, gone, kept) in cases {
            let out = redact(text);
            for g in gone {
                assert!(!out.contains(g), "{name}: {g} in {out}");
            }
            for k in kept {
                assert!(out.contains(k), "{name}: {k} not in {out}");
            }
        }
    }
}
