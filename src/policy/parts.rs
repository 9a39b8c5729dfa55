//! `UploadParts`: what the first part of a multipart upload turned out to be,
//! so the later parts of the same file are read as its continuation.
//!
//! A large file goes up in parts, one request each: OSS multipart uploads
//! (`PUT …?partNumber=N&uploadId=…`, the URLs `multiPartUploadInfos` hands
//! out) and DingDrive's `POST /file/upload/chunk?upload_id=…&chunk_sequence=N`
//! (DINGTALK.md). Only the first part holds the file's head. The middle of a
//! video is bytes as random as encrypted data, which the engine rightly
//! reports unread; alone, every later part of a video to the mainland would
//! be refused as uninspectable. Read whole in one request, the same video is
//! recognised by its magic bytes and skipped as media: remembering the head
//! lets a chunked upload be decided as the whole file would be. Nothing is
//! remembered for a part the engine could not read, and a later part is
//! continued only where its own bytes are opaque: any format or text in it
//! is read as in any body.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{Action, RequestMeta};
use crate::inspect::Findings;

/// Uploads remembered at once; the oldest go first.
const CAPACITY: usize = 4096;
/// How long an upload's first part is remembered: OSS keeps an unfinished
/// multipart upload until it is completed or aborted, so this bounds memory
/// rather than matching a protocol timeout.
const TTL: Duration = Duration::from_secs(24 * 3600);
/// Longest upload id kept (OSS's are 32 hex digits).
const MAX_ID: usize = 256;

/// One part of a multipart upload, from its request's query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The upload's id, as written in the query.
    pub upload: String,
    /// 1 for the part that begins the file.
    pub number: u64,
}

/// The part a request carries, when its query names one: OSS's (and S3's)
/// `uploadId` and `partNumber`, or DingDrive's `upload_id` and
/// `chunk_sequence`.
pub fn part_of(meta: &RequestMeta) -> Option<Part> {
    let query = meta.query.as_deref()?;
    let value = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.split_once('=').filter(|(n, _)| *n == name))
            .map(|(_, v)| v)
    };
    [("uploadId", "partNumber"), ("upload_id", "chunk_sequence")]
        .iter()
        .find_map(|(id, n)| {
            let upload = value(id).filter(|v| !v.is_empty() && v.len() <= MAX_ID)?;
            let number = value(n)?.parse().ok()?;
            Some(Part {
                upload: upload.to_owned(),
                number,
            })
        })
}

type Key = (IpAddr, String, String);

/// First parts seen: (client, host, upload id) → the media type it began as.
#[derive(Debug, Default)]
pub struct UploadParts {
    store: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    media: HashMap<Key, (String, SystemTime)>,
    order: VecDeque<Key>,
}

impl UploadParts {
    pub fn new() -> UploadParts {
        UploadParts::default()
    }

    fn key(meta: &RequestMeta, part: &Part) -> Key {
        (
            meta.client,
            meta.host.to_ascii_lowercase(),
            part.upload.clone(),
        )
    }

    /// Notes what a first part was, once it is decided: when it was read
    /// whole, found to be media, and let go (`action`), its later parts are
    /// that media's continuation. A first part stopped gives the rest nothing.
    pub fn decided(
        &self,
        meta: &RequestMeta,
        part: &Part,
        findings: &Findings,
        action: Action,
        now: SystemTime,
    ) {
        let sent = matches!(action, Action::Allow | Action::Audit);
        if !sent || findings.incomplete.is_some() {
            return;
        }
        if let Some(media) = findings.skipped_media.first() {
            self.began_as(meta, part, media, now);
        }
    }

    /// Notes that the first part of `meta`'s upload was `media`, read and
    /// skipped as a whole file of that type would be.
    fn began_as(&self, meta: &RequestMeta, part: &Part, media: &str, now: SystemTime) {
        if part.number != 1 {
            return;
        }
        let key = Self::key(meta, part);
        let Ok(mut s) = self.store.lock() else {
            return;
        };
        if s.media.len() >= CAPACITY && !s.media.contains_key(&key) {
            while let Some(old) = s.order.pop_front() {
                if s.media.remove(&old).is_some() {
                    break;
                }
            }
        }
        if s.media
            .insert(key.clone(), (media.to_owned(), now + TTL))
            .is_none()
        {
            s.order.push_back(key);
        }
        // Entries that expired leave their keys behind in `order`; rebuild it
        // (oldest first: expiry is insertion plus one TTL) before it grows.
        if s.order.len() > 2 * CAPACITY {
            let mut live: Vec<(SystemTime, Key)> =
                s.media.iter().map(|(k, (_, e))| (*e, k.clone())).collect();
            live.sort();
            s.order = live.into_iter().map(|(_, k)| k).collect();
        }
    }

    /// The media type a later part of `meta`'s upload continues, when its
    /// first part was seen from the same client to the same host.
    pub fn continues(&self, meta: &RequestMeta, part: &Part, now: SystemTime) -> Option<String> {
        if part.number < 2 {
            return None;
        }
        let key = Self::key(meta, part);
        let mut s = self.store.lock().ok()?;
        match s.media.get(&key) {
            Some((media, expires)) if *expires > now => Some(media.clone()),
            Some(_) => {
                s.media.remove(&key);
                None
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn meta(client: u8, host: &str, query: &str) -> RequestMeta {
        RequestMeta {
            client: IpAddr::V4(Ipv4Addr::new(10, 0, 0, client)),
            method: "PUT".into(),
            scheme: "https".into(),
            host: host.into(),
            port: 443,
            path: "/f.mp4".into(),
            query: Some(query.into()),
            content_type: None,
            content_encoding: None,
            content_length: None,
            accept: None,
            resolved: None,
        }
    }

    #[test]
    fn parts_are_read_from_either_query_form() {
        let cases = [
            (
                "partNumber=1&uploadId=0004B9894A22E5B1888A1E29F823",
                Some(("0004B9894A22E5B1888A1E29F823", 1)),
            ),
            ("uploadId=abc&partNumber=17", Some(("abc", 17))),
            ("agent_id=1&upload_id=u1&chunk_sequence=2", Some(("u1", 2))),
            ("uploadId=abc", None),
            ("partNumber=2", None),
            ("uploadId=&partNumber=2", None),
            ("uploadId=abc&partNumber=two", None),
            ("uploads", None),
        ];
        for (q, want) in cases {
            let got = part_of(&meta(1, "h", q));
            let want = want.map(|(u, n)| Part {
                upload: u.into(),
                number: n,
            });
            assert_eq!(got, want, "{q}");
        }
        let long = format!("uploadId={}&partNumber=2", "a".repeat(MAX_ID + 1));
        assert_eq!(part_of(&meta(1, "h", &long)), None);
    }

    #[test]
    fn a_later_part_continues_the_first_from_the_same_client_and_host() {
        let parts = UploadParts::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let first = meta(
            1,
            "zjk-dualstack.trans.dingtalk.com",
            "uploadId=U&partNumber=1",
        );
        let p1 = part_of(&first).unwrap();
        let later = meta(
            1,
            "ZJK-dualstack.trans.dingtalk.com",
            "uploadId=U&partNumber=3",
        );
        let p3 = part_of(&later).unwrap();
        assert_eq!(parts.continues(&later, &p3, now), None, "nothing seen yet");
        // Only a first part is remembered.
        parts.began_as(&later, &p3, "video/mp4", now);
        assert_eq!(parts.continues(&later, &p3, now), None);
        parts.began_as(&first, &p1, "video/mp4", now);
        assert_eq!(
            parts.continues(&later, &p3, now).as_deref(),
            Some("video/mp4")
        );
        assert_eq!(
            parts.continues(&first, &p1, now),
            None,
            "the first part is itself"
        );
        let elsewhere = meta(
            2,
            "zjk-dualstack.trans.dingtalk.com",
            "uploadId=U&partNumber=3",
        );
        assert_eq!(
            parts.continues(&elsewhere, &p3, now),
            None,
            "another client"
        );
        let other_host = meta(
            1,
            "sh-dualstack.trans.dingtalk.com",
            "uploadId=U&partNumber=3",
        );
        assert_eq!(parts.continues(&other_host, &p3, now), None);
        assert_eq!(parts.continues(&later, &p3, now + TTL), None, "expired");
        assert_eq!(parts.continues(&later, &p3, now), None, "and forgotten");
    }

    #[test]
    fn the_store_is_bounded() {
        let parts = UploadParts::new();
        let now = SystemTime::UNIX_EPOCH;
        for i in 0..CAPACITY + 10 {
            let m = meta(1, "h", &format!("uploadId=u{i}&partNumber=1"));
            parts.began_as(&m, &part_of(&m).unwrap(), "video/mp4", now);
        }
        let s = parts.store.lock().unwrap();
        assert_eq!(s.media.len(), CAPACITY);
        assert!(s.order.len() <= CAPACITY + 10);
        assert!(!s
            .media
            .contains_key(&(meta(1, "h", "").client, "h".into(), "u0".into())));
    }
}
