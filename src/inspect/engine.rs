//! The engine as one configured value: decoders plus detectors, giving `Findings`
//! for a body fed chunk by chunk. What the proxy, `scan`, `replay` and the benches hold.

use std::cell::RefCell;
use std::sync::Arc;

use serde::Deserialize;

use super::decode::{ContentHint, Limits};
use super::detect::{DetectorSettings, Detectors, SettingsError, TextScan};
use super::findings::Findings;
use super::scanner::Scanner;

/// The `inspect:` section of the configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Bounds on one body's scan (size, ratio, depth, entries, time).
    pub limits: Limits,
    /// Dictionaries, thresholds and custom patterns; the shipped ones by default.
    pub detectors: DetectorSettings,
}

/// Compiled once (at start and on reload), shared by every scan.
#[derive(Clone, Debug)]
pub struct Engine {
    detectors: Arc<Detectors>,
    limits: Limits,
}

thread_local! {
    /// Detector states of small bodies finished on this thread, kept for the
    /// next ones: a chat message is a body of its own, and allocating and
    /// moving a fresh state was most of what such a body cost. Per thread, so
    /// a state is reused on the core that last touched it (a pool shared by
    /// the proxy's workers made held requests slower). Each state belongs to
    /// the engine whose dictionaries it holds; states of an engine replaced by
    /// a reload age out.
    // Boxed on purpose: a state moves into and out of a scanner as a pointer,
    // not as 1.6 KB.
    #[allow(clippy::vec_box)]
    static SPARE: RefCell<Vec<Box<TextScan>>> = const { RefCell::new(Vec::new()) };
}
/// States kept per thread, a few KiB each.
const SPARE_MAX: usize = 8;
/// Only states of bodies this small come back (a large body's buffers and
/// sets go with it).
const SPARE_UP_TO: u64 = 256 * 1024;

impl Engine {
    /// Errors carry key paths relative to the `inspect` section.
    pub fn new(s: &Settings) -> Result<Engine, Vec<SettingsError>> {
        let detectors = Detectors::new(&s.detectors).map_err(|errs| {
            errs.into_iter()
                .map(|e| SettingsError {
                    path: if e.path.is_empty() {
                        "detectors".into()
                    } else {
                        format!("detectors.{}", e.path)
                    },
                    message: e.message,
                })
                .collect::<Vec<_>>()
        })?;
        Ok(Engine {
            detectors: Arc::new(detectors),
            limits: s.limits.clone(),
        })
    }

    /// The shipped dictionaries and default limits.
    pub fn shipped() -> Engine {
        Engine {
            detectors: Arc::new(Detectors::shipped()),
            limits: Limits::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A scan of one body whose headers (or file name) are `hint`.
    pub fn scanner(&self, hint: ContentHint) -> BodyScan {
        // Where the thread's spares cannot be reached (its exit), a fresh
        // state is always correct.
        let kept = SPARE
            .try_with(|cell| {
                let mut spare = cell.try_borrow_mut().ok()?;
                let mine = spare
                    .iter()
                    .rposition(|t| Arc::ptr_eq(t.detectors(), &self.detectors))?;
                Some(spare.swap_remove(mine))
            })
            .ok()
            .flatten();
        let text = kept.unwrap_or_else(|| Box::new(TextScan::new(self.detectors.clone())));
        BodyScan {
            inner: Scanner::new(text, &self.limits, hint),
        }
    }

    /// A scan of one body on the detectors' general paths only (16-byte
    /// blocks, every token walked): what the fuzz target checks the fast
    /// paths against, on any body.
    #[cfg(fuzzing)]
    pub fn scanner_general(&self, hint: ContentHint) -> BodyScan {
        let text = Box::new(TextScan::general(self.detectors.clone()));
        BodyScan {
            inner: Scanner::new(text, &self.limits, hint),
        }
    }

    /// What a query string (without its `?`) shows on its own, read as form
    /// fields: for what goes up before any body (a WebSocket handshake's).
    pub fn scan_query(&self, query: &str) -> Findings {
        let mut s = self.scanner(ContentHint::default());
        s.query(query);
        s.finish()
    }

    /// Which pairs (`name=value`, as written between `&`s) of a query string
    /// hold data the detectors classify, so that a record can keep the URL
    /// without their values. One scan of the whole query settles the common
    /// case (nothing). Else each pair is read alone; when that finds nothing
    /// (the data counted only beside another pair), or the query has more
    /// pairs than are worth reading one by one, every pair is named.
    pub fn query_data<'q>(&self, query: &'q str) -> QueryData<'q> {
        let classified = |q: &str| !self.scan_query(q).classes.is_empty();
        if query.is_empty() || !classified(query) {
            return QueryData::None;
        }
        let pairs: Vec<&str> = query.split('&').collect();
        if pairs.len() > QUERY_PAIRS_READ {
            return QueryData::All;
        }
        let with: Vec<&str> = pairs.into_iter().filter(|p| classified(p)).collect();
        if with.is_empty() {
            return QueryData::All;
        }
        // Data can sit in a name as well (`?A123456(3)=1`).
        let names = with
            .iter()
            .filter_map(|p| p.split_once('=').map(|(n, _)| n))
            .filter(|n| classified(n))
            .collect();
        QueryData::Pairs { pairs: with, names }
    }

    /// Classifies a whole body at once.
    pub fn scan(&self, hint: ContentHint, body: &[u8]) -> Findings {
        let mut s = self.scanner(hint);
        s.feed(body);
        s.finish()
    }
}

/// Pairs of one query read alone at most; past it, a query with data is
/// redacted whole.
const QUERY_PAIRS_READ: usize = 64;

/// What `Engine::query_data` found in a query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryData<'q> {
    None,
    /// These pairs, as written, and the names among theirs that hold data
    /// themselves.
    Pairs {
        pairs: Vec<&'q str>,
        names: Vec<&'q str>,
    },
    /// Data that no one pair shows alone: take every pair as holding it.
    All,
}

impl QueryData<'_> {
    /// Whether `text`, a pair or the name in one, holds data, and is to be
    /// left out of a record (`crate::audit::redact_path_with`).
    pub fn holds(&self, text: &str) -> bool {
        match self {
            QueryData::None => false,
            QueryData::Pairs { pairs, names } => pairs.contains(&text) || names.contains(&text),
            QueryData::All => true,
        }
    }
}

/// Puts a finished body's state among the thread's spares. The oldest goes
/// when they are full. When the state is another engine's than the spares'
/// (a reload), the states of engines that no longer exist go at once, and
/// their dictionaries with them, instead of waiting to be pushed out.
#[allow(clippy::vec_box)]
fn keep(spare: &mut Vec<Box<TextScan>>, text: Box<TextScan>) {
    let reloaded = spare
        .first()
        .is_some_and(|t| !Arc::ptr_eq(t.detectors(), text.detectors()));
    if reloaded {
        // An engine is gone when the spares hold every reference to its
        // dictionaries.
        let held = |d: &Arc<Detectors>, spare: &[Box<TextScan>]| {
            spare
                .iter()
                .filter(|t| Arc::ptr_eq(t.detectors(), d))
                .count()
        };
        let gone: Vec<bool> = spare
            .iter()
            .map(|t| Arc::strong_count(t.detectors()) <= held(t.detectors(), spare))
            .collect();
        let mut k = 0;
        spare.retain(|_| {
            let keep = !gone.get(k).copied().unwrap_or(false);
            k += 1;
            keep
        });
    }
    if spare.len() >= SPARE_MAX {
        spare.remove(0);
    }
    spare.push(text);
}

/// One body being scanned.
pub struct BodyScan {
    inner: Scanner<Box<TextScan>>,
}

impl BodyScan {
    /// Reads the request's query string (without its `?`) before the body:
    /// what a request carries in its URL leaves with it. Call it first, once.
    pub fn query(&mut self, query: &str) {
        self.inner.query(query.as_bytes());
    }

    /// This body is a later part of an upload that began as `media`
    /// (`Scanner::continues`).
    pub fn continues(&mut self, media: &str) {
        self.inner.continues(media);
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.inner.feed(chunk);
    }

    pub fn finish(self) -> Findings {
        let (mut text, report) = self.inner.finish();
        let mut f = Findings::default();
        text.finish_into(&mut f);
        // (A state on the general paths, which only fuzzing makes, is not
        // kept: the next body would take it and skip the fast paths.)
        if report.bytes <= SPARE_UP_TO && text.text_len() <= SPARE_UP_TO && text.is_fast() {
            // Forgotten now, not when reused: of this body only its field
            // names (JSON keys, column headers) stay, in the field cache.
            text.reset();
            let _ = SPARE.try_with(|cell| {
                if let Ok(mut spare) = cell.try_borrow_mut() {
                    keep(&mut spare, text);
                }
            });
        }
        f.bytes = report.bytes;
        f.formats = report.formats;
        f.skipped_media = report.skipped_media;
        f.incomplete = report.incomplete;
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::Class;

    fn hint(ct: &str) -> ContentHint {
        ContentHint {
            content_type: Some(ct.into()),
            content_encoding: None,
            file_name: None,
        }
    }

    #[test]
    fn json_chat_with_an_hkid_at_every_split() {
        let e = Engine::shipped();
        let body = br#"{"msg":{"msgtype":"text","text":{"content":"HKID A123456(3) please"}}}"#;
        let whole = e.scan(hint("application/json"), body);
        assert_eq!(whole.count(Class::HkId), 1, "{whole:?}");
        assert!(whole.incomplete.is_none());
        assert_eq!(whole.bytes, body.len() as u64);
        for cut in 0..=body.len() {
            let mut s = e.scanner(hint("application/json"));
            s.feed(&body[..cut]);
            s.feed(&body[cut..]);
            assert_eq!(s.finish(), whole, "split at {cut}");
        }
    }

    #[test]
    fn a_query_is_read_as_form_fields_before_the_body() {
        let e = Engine::shipped();
        let scan = |query: &str, body: &[u8]| {
            let mut s = e.scanner(hint("application/json"));
            s.query(query);
            s.feed(body);
            s.finish()
        };
        let body = br#"{"note":"HKID A123456(3)"}"#;
        // One value in both counts once: the query and the body share a tally.
        let both = scan("id=A123456%283%29&agent_id=42", body);
        assert_eq!(both.count(Class::HkId), 1, "{both:?}");
        assert_eq!(both.formats, ["query", "json"]);
        assert_eq!(both.bytes, body.len() as u64, "the query is not body bytes");
        let two = scan("id=B987654(0)", body);
        assert_eq!(two.count(Class::HkId), 2, "{two:?}");
        // A field name gives its value context, as in a form: a phone without
        // a country code counts under `mobile`, not under `n`.
        assert_eq!(scan("mobile=6123%204567", b"{}").count(Class::Phone), 1);
        assert_eq!(scan("n=6123%204567", b"{}").count(Class::Phone), 0);
        // The query ends at a boundary: nothing runs on into the body.
        let split = scan("q=A12345", b"6(3)");
        assert_eq!(split.count(Class::HkId), 0, "{split:?}");
        let none = scan("", b"{}");
        assert_eq!(none.formats, ["json"]);
    }

    #[test]
    fn a_later_part_of_a_media_upload_is_its_continuation() {
        let e = Engine::shipped();
        let scan = |ct: &str, continues: Option<&str>, body: &[u8]| {
            let mut s = e.scanner(hint(ct));
            if let Some(m) = continues {
                s.continues(m);
            }
            s.feed(body);
            s.finish()
        };
        // As random as the middle of a video.
        let middle = crate::testutil::noise(0x9E37_79B9_7F4A_7C15, 64 << 10);
        let alone = scan("application/octet-stream", None, &middle);
        assert_eq!(
            alone.incomplete.as_ref().map(|i| i.reason),
            Some(crate::inspect::IncompleteReason::Unsupported),
            "{alone:?}"
        );
        let continued = scan("application/octet-stream", Some("video/mp4"), &middle);
        assert_eq!(continued.incomplete, None, "{continued:?}");
        assert_eq!(continued.skipped_media, ["video/mp4"]);
        assert!(continued.classes.is_empty());

        // DingDrive sends each chunk as a multipart file part.
        let mut form =
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.mp4\"\r\n\r\n"
                .to_vec();
        form.extend_from_slice(&middle);
        form.extend_from_slice(b"\r\n--b--\r\n");
        let part = scan("multipart/form-data; boundary=b", Some("video/mp4"), &form);
        assert_eq!(part.incomplete, None, "{part:?}");
        assert_eq!(part.skipped_media, ["video/mp4"]);

        // What is not opaque is read as in any body: text, and formats.
        let text = scan(
            "application/octet-stream",
            Some("video/mp4"),
            b"staff list: HKID A123456(3)",
        );
        assert_eq!(text.count(Class::HkId), 1, "{text:?}");
        assert!(text.skipped_media.is_empty(), "{text:?}");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"HKID A123456(3)").unwrap();
        let gz = gz.finish().unwrap();
        let packed = scan("application/octet-stream", Some("video/mp4"), &gz);
        assert_eq!(packed.count(Class::HkId), 1, "{packed:?}");
    }

    #[test]
    fn query_data_names_the_pairs_that_carry_it() {
        let e = Engine::shipped();
        assert_eq!(e.query_data(""), QueryData::None);
        assert_eq!(
            e.query_data("access_token=abc&agent_id=42&ts=1764384000000"),
            QueryData::None
        );
        let q = "type=file&msg=HKID%20A123456(3)&mail=chan.tai.man%40example.mo";
        assert_eq!(
            e.query_data(q),
            QueryData::Pairs {
                pairs: vec!["msg=HKID%20A123456(3)", "mail=chan.tai.man%40example.mo"],
                names: vec![]
            }
        );
        assert!(e.query_data(q).holds("msg=HKID%20A123456(3)"));
        assert!(!e.query_data(q).holds("type=file"));
        // A bare value is a pair of its own.
        assert_eq!(
            e.query_data("A123456(3)&x=1"),
            QueryData::Pairs {
                pairs: vec!["A123456(3)"],
                names: vec![]
            }
        );
        let named = e.query_data("A123456(3)=1&x=1");
        assert!(named.holds("A123456(3)=1") && named.holds("A123456(3)"));
        assert!(!named.holds("x=1") && !named.holds("x"));
        // Data no one pair shows alone (the context is in another pair) is
        // taken to be in all of them.
        let apart = "note=%E9%9B%BB%E8%A9%B1&v=6123%204567";
        let whole = e.scan(hint("application/x-www-form-urlencoded"), apart.as_bytes());
        assert_eq!(whole.count(Class::Phone), 1, "{whole:?}");
        assert_eq!(e.query_data(apart), QueryData::All);
        let many: Vec<String> = (0..=QUERY_PAIRS_READ)
            .map(|i| format!("k{i}=A123456(3)"))
            .collect();
        assert_eq!(e.query_data(&many.join("&")), QueryData::All);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// However a query holds an identity number (value, bare, name,
        /// encoded), a record's path never shows it, and the pairs around it
        /// stay as a record writes them.
        #[test]
        fn a_records_path_never_shows_query_data(
            before in proptest::collection::vec("[a-z]{1,6}=[a-z]{0,8}", 0..4),
            after in proptest::collection::vec("[a-z]{1,6}=[a-z]{0,8}", 0..4),
            form in 0usize..5,
        ) {
            let data = [
                "msg=A123456(3)",
                "msg=A123456%283%29",
                "note=HKID%20A123456%283%29%20thanks",
                "A123456(3)",
                "A123456(3)=1",
            ][form];
            let query: Vec<String> = before
                .iter()
                .cloned()
                .chain([data.to_owned()])
                .chain(after.iter().cloned())
                .collect();
            let query = query.join("&");
            let e = Engine::shipped();
            let found = e.query_data(&query);
            let path = crate::audit::redact_path_with(&format!("/r?{query}"), |p| found.holds(p));
            proptest::prop_assert!(!path.contains("123456"), "{path}");
            // The pairs around it stay as a record writes any pair: as they
            // are, or redacted when their name is a secret's (`key=`).
            for p in before.iter().chain(&after) {
                let alone = crate::audit::redact_path(&format!("/r?{p}"));
                let kept = alone.trim_start_matches("/r?");
                proptest::prop_assert!(path.contains(kept), "{p} kept as {kept} in {path}");
            }
        }
    }

    #[test]
    fn json_keyed_by_identity_number_at_every_split() {
        let e = Engine::shipped();
        let body = br#"{"staff":{"A123456(3)":{"name":"Chan"},"B987654(0)":{"name":"Wong"}}}"#;
        let whole = e.scan(hint("application/json"), body);
        assert_eq!(whole.count(Class::HkId), 2, "{whole:?}");
        for cut in 0..=body.len() {
            let mut s = e.scanner(hint("application/json"));
            s.feed(&body[..cut]);
            s.feed(&body[cut..]);
            assert_eq!(s.finish(), whole, "split at {cut}");
        }
    }

    #[test]
    fn kept_detector_states_carry_nothing_from_one_body_to_the_next() {
        let e = Engine::shipped();
        let json = || hint("application/json");
        // A phone number without a country code counts only in context: here
        // the key gives it, in the next body the key does not.
        let keyed = "{\"電話\":\"6123 4567\",\"note\":\"HKID A123456(3)\"}".as_bytes();
        let plain = br#"{"note":"6123 4567","ts":1764384000000}"#;
        let fresh = |body: &[u8]| {
            let mut s = Engine::shipped().scanner(json());
            s.feed(body);
            s.finish()
        };
        let want_keyed = fresh(keyed);
        let want_plain = fresh(plain);
        assert_eq!(want_keyed.count(Class::Phone), 1, "{want_keyed:?}");
        assert_eq!(want_keyed.count(Class::HkId), 1, "{want_keyed:?}");
        assert!(want_plain.classes.is_empty(), "{want_plain:?}");
        // The fresh engines' states are kept too; start from none.
        SPARE.with(|s| s.borrow_mut().clear());
        for round in 0..50 {
            let body: &[u8] = if round % 2 == 0 { keyed } else { plain };
            let want = if round % 2 == 0 {
                &want_keyed
            } else {
                &want_plain
            };
            assert_eq!(&e.scan(json(), body), want, "round {round}");
        }
        assert_eq!(spare_len(), 1);
    }

    #[test]
    fn kept_states_are_bounded_and_large_bodies_keep_none() {
        let e = Engine::shipped();
        let open: Vec<BodyScan> = (0..SPARE_MAX + 10)
            .map(|_| e.scanner(hint("text/plain")))
            .collect();
        for mut s in open {
            s.feed(b"hello");
            s.finish();
        }
        assert_eq!(spare_len(), SPARE_MAX);

        SPARE.with(|s| s.borrow_mut().clear());
        let big = vec![b'x'; SPARE_UP_TO as usize + 1];
        let f = e.scan(hint("text/plain"), &big);
        assert_eq!(f.bytes, big.len() as u64);
        assert_eq!(spare_len(), 0);

        // Another engine (a reload) does not take this one's states.
        e.scan(hint("text/plain"), b"hello");
        let other = Engine::shipped();
        let s = other.scanner(hint("text/plain"));
        assert_eq!(spare_len(), 1, "the first engine's state is still kept");
        s.finish();
        assert_eq!(spare_len(), 2);
    }

    #[test]
    fn a_replaced_engines_states_are_released_with_it() {
        let old = Engine::shipped();
        let open: Vec<BodyScan> = (0..3).map(|_| old.scanner(hint("text/plain"))).collect();
        for mut s in open {
            s.feed(b"hello");
            s.finish();
        }
        assert_eq!(spare_len(), 3);
        let dictionaries = Arc::downgrade(&old.detectors);
        drop(old);
        assert!(
            dictionaries.upgrade().is_some(),
            "kept states still hold them"
        );

        let new = Engine::shipped();
        new.scan(hint("application/json"), br#"{"note":"hello"}"#);
        assert!(
            dictionaries.upgrade().is_none(),
            "released at the first body after the reload"
        );
        assert_eq!(spare_len(), 1);

        // An engine still in use keeps its state beside another's.
        let other = Engine::shipped();
        other.scan(hint("text/plain"), b"hello");
        new.scan(hint("text/plain"), b"hello");
        assert_eq!(spare_len(), 2, "one state of each engine");
    }

    /// Tests run on threads of their own, so this thread's spares are theirs.
    fn spare_len() -> usize {
        SPARE.with(|s| s.borrow().len())
    }

    #[test]
    fn settings_reject_unknown_keys() {
        assert!(serde_yaml::from_str::<Settings>("limits: {max_ratio: 5}\nnope: 1\n").is_err());
        let s: Settings = serde_yaml::from_str("limits: {max_ratio: 5}\n").unwrap();
        assert_eq!(s.limits.max_ratio, 5);
        assert!(Engine::new(&s).is_ok());
    }
}
