//! Detectors: what sits behind `TextSink`. Normalisation, candidate finding,
//! check digits, keyword context and evidence, distinct counts and masked
//! samples. Decoding bodies into text is the decoders' job, not ours.
//!
//! Design (why it is fast): one SIMD pass over the bytes marks only *candidate
//! starts* (a digit run, `@`, an ASCII word start, a 3-byte UTF-8 lead); a
//! keyword start costs one multiply and one bit test against a sparse filter of
//! the dictionary's 4-byte (ASCII) / 6-byte (CJK) prefixes; validators run only
//! on tokens that contain digits.
//!
//! Layout: `settings` (what the operator writes) → `Detectors::new` (compiled,
//! shared); `scan` (per-body buffer, SIMD pass, context windows, `TextSink`);
//! `candidates` (tokens, chains, e-mail); `ident` (token shapes → classes);
//! `validate` (check digits); `keywords` (dictionary + prefix filter);
//! `tally` (distinct counts, evidence scoring); `mask` (audit samples).

mod candidates;
mod ident;
mod keywords;
mod mask;
mod scan;
mod settings;
mod table;
mod tally;
mod validate;

#[cfg(test)]
mod tests;

use std::fmt;

pub use scan::TextScan;
pub use settings::{CheckKind, CustomPattern, DetectorSettings, EvidenceSettings, SettingsError};
pub use validate::Day;

use ident::Custom;
use keywords::{bit, Dictionary, Entry, Roles, STRONG, WEAK};

use crate::inspect::Class;

/// Compiled detectors: immutable, `Send + Sync`, shared by every scan via `Arc`.
pub struct Detectors {
    dict: Dictionary,
    custom: Vec<Custom>,
    window: u64,
    samples: usize,
    max_distinct: usize,
    health_threshold: u32,
    fin_threshold: u32,
    today: Day,
}

impl fmt::Debug for Detectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detectors")
            .field("terms", &self.dict.len())
            .field("custom_patterns", &self.custom.len())
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

fn today_utc() -> Day {
    let now = time::OffsetDateTime::now_utc();
    Day {
        year: now.year().clamp(0, i32::from(u16::MAX)) as u16,
        month: u8::from(now.month()),
        day: now.day(),
    }
}

fn class_ref(id: &str, path: &str, errors: &mut Vec<SettingsError>) -> Option<Class> {
    let c = Class::from_id(id);
    if c.is_none() {
        errors.push(SettingsError::new(path, format!("unknown class {id:?}")));
    }
    c
}

impl Detectors {
    /// Compiles settings; every problem is reported, each with its key path.
    pub fn new(s: &DetectorSettings) -> Result<Detectors, Vec<SettingsError>> {
        Detectors::new_on(s, today_utc())
    }

    /// As `new`, with "today" fixed (birth dates after it are not real).
    pub fn new_on(s: &DetectorSettings, today: Day) -> Result<Detectors, Vec<SettingsError>> {
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        if s.context_window == 0 || s.context_window > 10_000 {
            errors.push(SettingsError::new(
                "context_window",
                "must be between 1 and 10000",
            ));
        }
        if s.samples_per_class > 100 {
            errors.push(SettingsError::new(
                "samples_per_class",
                "must be at most 100",
            ));
        }
        if s.max_distinct == 0 || s.max_distinct > 10_000_000 {
            errors.push(SettingsError::new(
                "max_distinct",
                "must be between 1 and 10000000",
            ));
        }
        for (class_id, langs) in &s.context {
            let path = format!("context.{class_id}");
            let Some(class) = class_ref(class_id, &path, &mut errors) else {
                continue;
            };
            for (lang, terms) in langs {
                for (i, t) in terms.iter().enumerate() {
                    entries.push(Entry {
                        text: t.clone(),
                        roles: Roles {
                            context: bit(class),
                            ..Roles::default()
                        },
                        path: format!("{path}.{lang}[{i}]"),
                    });
                }
            }
        }
        let mut thresholds = (0, 0);
        for (class_id, e) in &s.evidence {
            let path = format!("evidence.{class_id}");
            let Some(class) = class_ref(class_id, &path, &mut errors) else {
                continue;
            };
            match class {
                Class::Health => thresholds.0 = e.threshold,
                Class::FinancialRecord => thresholds.1 = e.threshold,
                _ => {
                    errors.push(SettingsError::new(
                        &path,
                        "evidence applies to health and financial_record only",
                    ));
                    continue;
                }
            }
            if e.threshold == 0 {
                errors.push(SettingsError::new(
                    format!("{path}.threshold"),
                    "must be at least 1",
                ));
            }
            for (strength, group, name) in [(STRONG, &e.strong, "strong"), (WEAK, &e.weak, "weak")]
            {
                for (lang, terms) in group {
                    for (i, t) in terms.iter().enumerate() {
                        let mut roles = Roles {
                            context: bit(class),
                            ..Roles::default()
                        };
                        if class == Class::Health {
                            roles.health = strength;
                        } else {
                            roles.fin = strength;
                        }
                        entries.push(Entry {
                            text: t.clone(),
                            roles,
                            path: format!("{path}.{name}.{lang}[{i}]"),
                        });
                    }
                }
            }
        }
        let mut custom = Vec::new();
        for (i, p) in s.custom_patterns.iter().enumerate() {
            let path = format!("custom_patterns[{i}]");
            let Some(class) = class_ref(&p.class, &format!("{path}.class"), &mut errors) else {
                continue;
            };
            if !class.is_identifier() {
                errors.push(SettingsError::new(
                    format!("{path}.class"),
                    format!("{class} counts evidence, not identifiers"),
                ));
            }
            let shape = p.shape.as_bytes();
            let digits = shape
                .iter()
                .filter(|b| matches!(b, b'9' | b'A' | b'X'))
                .count();
            if !(4..=ident::MAX_TOKEN).contains(&shape.len()) || digits < 4 {
                errors.push(SettingsError::new(
                    format!("{path}.shape"),
                    "needs 4 to 48 characters, at least 4 of them 9, A or X",
                ));
            } else if !shape
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b" -/.()".contains(b))
            {
                errors.push(SettingsError::new(
                    format!("{path}.shape"),
                    "only 9, A, X, letters, digits and the separators -/.() and space",
                ));
            } else if !shape.contains(&b'9') {
                errors.push(SettingsError::new(
                    format!("{path}.shape"),
                    "candidates always contain a digit: use 9 at least once",
                ));
            } else if shape
                .iter()
                .take_while(|&&b| b != b'9')
                .any(|b| !b.is_ascii_alphabetic())
            {
                // The scanner finds a token from its first digit back over the
                // letters touching it, so nothing else may come before.
                errors.push(SettingsError::new(
                    format!("{path}.shape"),
                    "only letters may come before the first 9",
                ));
            }
            custom.push(Custom {
                class,
                shape: shape.to_vec(),
                check: p.check,
                needs_context: p.needs_context,
            });
        }
        let dict = Dictionary::build(entries);
        match dict {
            Ok(dict) if errors.is_empty() => Ok(Detectors {
                dict,
                custom,
                window: u64::from(s.context_window),
                samples: s.samples_per_class as usize,
                max_distinct: s.max_distinct as usize,
                health_threshold: thresholds.0,
                fin_threshold: thresholds.1,
                today,
            }),
            Ok(_) => Err(errors),
            Err(mut more) => {
                errors.append(&mut more);
                Err(errors)
            }
        }
    }

    /// The shipped defaults (`config/detectors.yaml`). A test guarantees they
    /// compile; were they ever not to, this falls back to no dictionaries.
    pub fn shipped() -> Detectors {
        let s = DetectorSettings::default();
        Detectors::new(&s).unwrap_or_else(|_| Detectors::bare())
    }

    fn bare() -> Detectors {
        Detectors {
            dict: Dictionary::empty(),
            custom: Vec::new(),
            window: 300,
            samples: 3,
            max_distinct: 10_000,
            health_threshold: 0,
            fin_threshold: 0,
            today: today_utc(),
        }
    }

    fn limits(&self) -> tally::Limits {
        tally::Limits {
            window: self.window,
            samples: self.samples,
            max_distinct: self.max_distinct,
            health_threshold: self.health_threshold,
            fin_threshold: self.fin_threshold,
        }
    }
}
