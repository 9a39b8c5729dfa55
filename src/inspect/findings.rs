//! The vocabulary every other module shares with the engine: data classes, their
//! categories, and the `Findings` a scan produces. No detection logic lives here.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A data class. The ids (`hk_id`, …) are a contract: config, output, audit and
/// metrics all use them (DESIGN.md, "Data classes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    MacauId,
    HkId,
    PrcId,
    Passport,
    TravelPermit,
    PaymentCard,
    Iban,
    BankAccount,
    FinancialRecord,
    Health,
    Phone,
    Email,
}

impl Class {
    pub const ALL: [Class; 12] = [
        Class::MacauId,
        Class::HkId,
        Class::PrcId,
        Class::Passport,
        Class::TravelPermit,
        Class::PaymentCard,
        Class::Iban,
        Class::BankAccount,
        Class::FinancialRecord,
        Class::Health,
        Class::Phone,
        Class::Email,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Class::MacauId => "macau_id",
            Class::HkId => "hk_id",
            Class::PrcId => "prc_id",
            Class::Passport => "passport",
            Class::TravelPermit => "travel_permit",
            Class::PaymentCard => "payment_card",
            Class::Iban => "iban",
            Class::BankAccount => "bank_account",
            Class::FinancialRecord => "financial_record",
            Class::Health => "health",
            Class::Phone => "phone",
            Class::Email => "email",
        }
    }

    pub fn from_id(id: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn category(self) -> Category {
        match self {
            Class::MacauId | Class::HkId | Class::PrcId | Class::Passport | Class::TravelPermit => {
                Category::Identity
            }
            Class::PaymentCard | Class::Iban | Class::BankAccount | Class::FinancialRecord => {
                Category::Financial
            }
            Class::Health => Category::Health,
            Class::Phone | Class::Email => Category::Contact,
        }
    }

    /// Identifier classes count distinct normalised values; evidence classes
    /// (`health`, `financial_record`) count pieces of evidence.
    pub fn is_identifier(self) -> bool {
        !matches!(self, Class::Health | Class::FinancialRecord)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Identity,
    Financial,
    Health,
    Contact,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Identity,
        Category::Financial,
        Category::Health,
        Category::Contact,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Category::Identity => "identity",
            Category::Financial => "financial",
            Category::Health => "health",
            Category::Contact => "contact",
        }
    }

    pub fn from_id(id: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.id() == id)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Why a scan could not look at everything. Any of these makes the policy's
/// `on_incomplete` decide: an incomplete scan never passes silently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incomplete {
    pub reason: IncompleteReason,
    /// A short human explanation; never contains body content.
    pub detail: String,
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.reason.id())
        } else {
            write!(f, "{}: {}", self.reason.id(), self.detail)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncompleteReason {
    /// More body (or decompressed) bytes than the configured limit.
    SizeLimit,
    /// Decompression ratio past the limit (a compression bomb).
    RatioLimit,
    /// Containers nested deeper than the limit.
    DepthLimit,
    /// More archive entries / multipart parts than the limit.
    EntryLimit,
    /// The scan took longer than the per-body time budget.
    TimeLimit,
    /// The body could not be parsed (truncated, corrupt, malformed).
    Malformed,
    /// Encrypted or password-protected content that cannot be read.
    Encrypted,
    /// A content encoding or format the engine does not understand.
    Unsupported,
    /// The proxy could not hold the whole body (hold limit).
    HoldLimit,
}

impl IncompleteReason {
    pub const ALL: [IncompleteReason; 9] = [
        IncompleteReason::SizeLimit,
        IncompleteReason::RatioLimit,
        IncompleteReason::DepthLimit,
        IncompleteReason::EntryLimit,
        IncompleteReason::TimeLimit,
        IncompleteReason::Malformed,
        IncompleteReason::Encrypted,
        IncompleteReason::Unsupported,
        IncompleteReason::HoldLimit,
    ];

    pub fn id(self) -> &'static str {
        match self {
            IncompleteReason::SizeLimit => "size_limit",
            IncompleteReason::RatioLimit => "ratio_limit",
            IncompleteReason::DepthLimit => "depth_limit",
            IncompleteReason::EntryLimit => "entry_limit",
            IncompleteReason::TimeLimit => "time_limit",
            IncompleteReason::Malformed => "malformed",
            IncompleteReason::Encrypted => "encrypted",
            IncompleteReason::Unsupported => "unsupported",
            IncompleteReason::HoldLimit => "hold_limit",
        }
    }
}

/// What a scan found in one body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// Body bytes as received (before any decoding).
    pub bytes: u64,
    /// Count per class: distinct normalised values for identifier classes,
    /// pieces of evidence for `health` and `financial_record`. Zero counts are absent.
    pub classes: BTreeMap<Class, u64>,
    /// A few masked samples per class (e.g. `A12****(3)`). Never a raw value.
    pub samples: BTreeMap<Class, Vec<String>>,
    /// Set when some part of the body could not be inspected.
    pub incomplete: Option<Incomplete>,
    /// Formats recognised and looked inside, outermost first (`gzip`, `multipart`, `docx`, …).
    pub formats: Vec<String>,
    /// Media recognised by magic bytes and skipped (`image/png`, `video/mp4`, …).
    pub skipped_media: Vec<String>,
}

impl Findings {
    pub fn count(&self, class: Class) -> u64 {
        self.classes.get(&class).copied().unwrap_or(0)
    }

    /// Sum of class counts per category.
    pub fn categories(&self) -> BTreeMap<Category, u64> {
        let mut out = BTreeMap::new();
        for (class, n) in &self.classes {
            *out.entry(class.category()).or_insert(0) += n;
        }
        out
    }

    pub fn category_count(&self, category: Category) -> u64 {
        self.classes
            .iter()
            .filter(|(c, _)| c.category() == category)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn is_clean(&self) -> bool {
        self.classes.is_empty() && self.incomplete.is_none()
    }
}
