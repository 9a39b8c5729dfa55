//! The detectors' configuration as the operator writes it (dictionaries,
//! thresholds, custom patterns), with the shipped defaults from
//! `config/detectors.yaml`. Validation into compiled tables lives in `Detectors::new`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The defaults, embedded so a binary never runs without dictionaries.
pub const SHIPPED_YAML: &str = include_str!("../../../config/detectors.yaml");

/// Terms grouped by language (`en`, `zh-Hant`, `zh-Hans`, `pt`, or any other
/// label): the grouping is for people; matching ignores it.
pub type TermsByLanguage = BTreeMap<String, Vec<String>>;

/// A key left out keeps its shipped value (field-level defaults: serde calls
/// them only for missing keys, so parsing the shipped file does not recurse).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSettings {
    /// How far (in bytes of UTF-8 text, either side) a context keyword reaches.
    #[serde(default = "shipped::context_window")]
    pub context_window: u32,
    /// Masked samples kept per class for the audit record.
    #[serde(default = "shipped::samples_per_class")]
    pub samples_per_class: u32,
    /// Distinct values remembered per class; past it, counts go on without
    /// de-duplication (memory stays bounded on any input).
    #[serde(default = "shipped::max_distinct")]
    pub max_distinct: u32,
    /// Context keywords per identifier class id (`macau_id`, `phone`, …).
    #[serde(default = "shipped::context")]
    pub context: BTreeMap<String, TermsByLanguage>,
    /// Evidence dictionaries for `health` and `financial_record`.
    #[serde(default = "shipped::evidence")]
    pub evidence: BTreeMap<String, EvidenceSettings>,
    /// Operator-defined identifier shapes.
    #[serde(default = "shipped::custom_patterns")]
    pub custom_patterns: Vec<CustomPattern>,
}

mod shipped {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    use super::{CustomPattern, DetectorSettings, EvidenceSettings, TermsByLanguage};

    pub(super) fn get() -> &'static DetectorSettings {
        static S: OnceLock<DetectorSettings> = OnceLock::new();
        S.get_or_init(|| DetectorSettings::shipped().unwrap_or_else(|_| DetectorSettings::empty()))
    }
    pub(super) fn context_window() -> u32 {
        get().context_window
    }
    pub(super) fn samples_per_class() -> u32 {
        get().samples_per_class
    }
    pub(super) fn max_distinct() -> u32 {
        get().max_distinct
    }
    pub(super) fn context() -> BTreeMap<String, TermsByLanguage> {
        get().context.clone()
    }
    pub(super) fn evidence() -> BTreeMap<String, EvidenceSettings> {
        get().evidence.clone()
    }
    pub(super) fn custom_patterns() -> Vec<CustomPattern> {
        get().custom_patterns.clone()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceSettings {
    /// Score needed before the class is reported. A strong term alone scores
    /// `threshold`; each distinct weak term scores 1; supporting evidence (an
    /// ICD-10 code or an amount near a term) adds 1.
    pub threshold: u32,
    pub strong: TermsByLanguage,
    pub weak: TermsByLanguage,
}

/// An identifier shape: `9` a digit, `A` an upper-case letter, `X` either, any
/// other character itself (a separator). Matched against candidate tokens only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    pub name: String,
    /// An identifier class id: the finding is counted under it.
    pub class: String,
    pub shape: String,
    #[serde(default)]
    pub check: CheckKind,
    /// Count only with a context keyword of `class` nearby (or a column header).
    #[serde(default)]
    pub needs_context: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    #[default]
    None,
    Luhn,
    Mod97,
}

/// One problem in the detectors section; `path` is relative to it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SettingsError {
    pub path: String,
    pub message: String,
}

impl SettingsError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> SettingsError {
        SettingsError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl DetectorSettings {
    /// No dictionaries at all: only self-validating identifiers are found.
    pub fn empty() -> DetectorSettings {
        DetectorSettings {
            context_window: 300,
            samples_per_class: 3,
            max_distinct: 100_000,
            context: BTreeMap::new(),
            evidence: BTreeMap::new(),
            custom_patterns: Vec::new(),
        }
    }

    /// Parses the shipped defaults. A test guarantees they parse and compile
    /// (and that they name every key: a missing one would recurse here).
    pub fn shipped() -> Result<DetectorSettings, serde_yaml::Error> {
        serde_yaml::from_str(SHIPPED_YAML)
    }
}

impl Default for DetectorSettings {
    fn default() -> DetectorSettings {
        shipped::get().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the shipped file's comment is what operators copy: it
    /// must be a pattern the detectors accept, and find what it describes.
    #[test]
    fn the_documented_custom_pattern_is_valid() {
        let line = SHIPPED_YAML
            .lines()
            .find_map(|l| l.strip_prefix("#   - {name: staff-no"))
            .expect("the example in config/detectors.yaml");
        let example: CustomPattern =
            serde_yaml::from_str(&format!("{{name: staff-no{line}")).expect("the example parses");
        let mut s = DetectorSettings::default();
        s.custom_patterns.push(example);
        let det = crate::inspect::Detectors::new(&s).expect("the example is accepted");
        let mut scan = crate::inspect::TextScan::new(std::sync::Arc::new(det));
        crate::inspect::TextSink::text(&mut scan, b"bank account staff no. AB12345-6 on file");
        let mut f = crate::inspect::Findings::default();
        scan.finish_into(&mut f);
        assert_eq!(f.count(crate::inspect::Class::BankAccount), 1, "{f:?}");
    }

    #[test]
    fn shipped_yaml_parses_and_has_every_dictionary() {
        let s = DetectorSettings::shipped();
        assert!(s.is_ok(), "{s:?}");
        let s = DetectorSettings::default();
        for class in [
            "macau_id",
            "passport",
            "travel_permit",
            "bank_account",
            "phone",
        ] {
            assert!(s.context.contains_key(class), "context for {class}");
        }
        for class in ["health", "financial_record"] {
            let e = &s.evidence[class];
            for lang in ["en", "zh-Hant", "zh-Hans", "pt"] {
                assert!(e.strong.contains_key(lang), "{class} strong {lang}");
                assert!(e.weak.contains_key(lang), "{class} weak {lang}");
            }
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let r: Result<DetectorSettings, _> = serde_yaml::from_str("context_windw: 3\n");
        assert!(r.is_err());
        let r: Result<DetectorSettings, _> =
            serde_yaml::from_str("evidence: {health: {treshold: 2}}\n");
        assert!(r.is_err());
    }

    #[test]
    fn missing_keys_keep_the_shipped_defaults() {
        let r: DetectorSettings =
            serde_yaml::from_str("context_window: 120\n").unwrap_or_else(|e| {
                panic!("{e}");
            });
        assert_eq!(r.context_window, 120);
        assert_eq!(r.context, DetectorSettings::default().context);
    }
}
