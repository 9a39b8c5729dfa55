//! The engine as one configured value: decoders plus detectors, giving `Findings`
//! for a body fed chunk by chunk. What the proxy, `scan`, `replay` and the benches hold.

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
        BodyScan {
            inner: Scanner::new(TextScan::new(self.detectors.clone()), &self.limits, hint),
        }
    }

    /// Classifies a whole body at once.
    pub fn scan(&self, hint: ContentHint, body: &[u8]) -> Findings {
        let mut s = self.scanner(hint);
        s.feed(body);
        s.finish()
    }
}

/// One body being scanned.
pub struct BodyScan {
    inner: Scanner<TextScan>,
}

impl BodyScan {
    pub fn feed(&mut self, chunk: &[u8]) {
        self.inner.feed(chunk);
    }

    pub fn finish(self) -> Findings {
        let (mut text, report) = self.inner.finish();
        let mut f = Findings::default();
        text.finish_into(&mut f);
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
    fn settings_reject_unknown_keys() {
        assert!(serde_yaml::from_str::<Settings>("limits: {max_ratio: 5}\nnope: 1\n").is_err());
        let s: Settings = serde_yaml::from_str("limits: {max_ratio: 5}\n").unwrap();
        assert_eq!(s.limits.max_ratio, 5);
        assert!(Engine::new(&s).is_ok());
    }
}
