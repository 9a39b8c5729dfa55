//! Properties: no panic on any host, path or answer; path globs agree with a
//! naive reference; the compiled policy can be shared across threads.

use proptest::prelude::*;

use super::*;
use crate::policy::pattern::{HostPattern, PathGlob};

/// The obvious recursive matcher the fast one must agree with.
fn naive_glob(pat: &[&str], path: &[&str]) -> bool {
    match (pat.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((&"**", rest)), _) => {
            naive_glob(rest, path)
                || (!path.is_empty() && naive_glob(pat, path.get(1..).unwrap_or(&[])))
        }
        (Some((p, prest)), Some((s, srest))) => {
            naive_segment(p.as_bytes(), s.as_bytes()) && naive_glob(prest, srest)
        }
        _ => false,
    }
}

fn naive_segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| naive_segment(rest, s.get(i..).unwrap_or(&[]))),
        Some((c, rest)) => s.first() == Some(c) && naive_segment(rest, s.get(1..).unwrap_or(&[])),
    }
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn shared_across_threads() {
    assert_send_sync::<Policy>();
    assert_send_sync::<LearnedRegions>();
}

proptest! {
    #[test]
    fn glob_agrees_with_naive(
        pat in prop::collection::vec(prop::sample::select(vec!["a", "b", "*", "**", "a*", "*b", "a*b", ""]), 0..5),
        path in prop::collection::vec(prop::sample::select(vec!["a", "b", "ab", "ba", "aab", ""]), 0..6),
    ) {
        let glob_text = format!("/{}", pat.join("/"));
        let path_text = format!("/{}", path.join("/"));
        let glob = PathGlob::parse(&glob_text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let want = naive_glob(
            &glob_text.get(1..).unwrap_or("").split('/').collect::<Vec<_>>(),
            &path_text.get(1..).unwrap_or("").split('/').collect::<Vec<_>>(),
        );
        prop_assert_eq!(glob.matches(&path_text), want, "{} vs {}", glob_text, path_text);
    }

    #[test]
    fn no_panic_on_any_host_or_path(host in "[a-z0-9.*{}-]{0,40}", path in "\\PC{0,40}") {
        let p = default_policy();
        let meta = RequestMeta::new("POST", &host, &path);
        let d = dest_of(&p, &meta);
        let _ = p.plan(&meta, &d);
        let _ = p.evaluate(&meta, &d, &Findings::default());
        if let Ok(hp) = HostPattern::parse(&host, true) {
            let _ = hp.matches(&path);
        }
        let _ = PathGlob::parse(&path).map(|g| g.matches(&host));
    }

    #[test]
    fn no_panic_on_any_answer(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let p = default_policy();
        let learned = LearnedRegions::new(4);
        let meta = RequestMeta::new("POST", "api.dingtalk.com", "/v1.0/storage/spaces/1/files/uploadInfos/query");
        let _ = learned.observe_response(&p, &meta, 200, &body, t0());
        prop_assert!(learned.len() <= 4);
    }
}
