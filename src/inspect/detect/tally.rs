//! Counting: distinct normalised values per identifier class (kept as keyed
//! hashes, never as values), evidence per evidence class, and a few masked
//! samples. Everything here is bounded by settings, not by input.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use super::keywords::{Dictionary, STRONG};
use super::mask;
use crate::inspect::{Class, Findings};

const CLASSES: usize = Class::ALL.len();

/// The set holds keyed SipHash values already: hashing them again (with
/// SipHash, as `HashSet`'s default does) was a tenth of a CSV scan. They are
/// uniform, so the set uses them as they are.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in rather than panic.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[derive(Default)]
struct IdTally {
    seen: HashSet<u64, BuildHasherDefault<PreHashed>>,
    count: u64,
    samples: Vec<String>,
}

/// Plain runs of card length with a card issuer's prefix and no card context
/// near (no keyword, no column or key naming cards). Order and tracking
/// numbers look like that and pass Luhn one time in ten; a list of cards
/// passes every time. So the valid ones are held (hashed and masked, never
/// raw) until the body ends, and counted as cards unless the body has many
/// such runs and most of them fail.
#[derive(Default)]
struct PlainCards {
    seen: u64,
    valid: u64,
    held: Vec<(u64, String)>,
}

/// Fewest plain runs for their pass rate to say anything.
const PLAIN_CARDS_JUDGED: u64 = 10;

#[derive(Default)]
pub(crate) struct EvidenceTally {
    /// Term ids seen (as a bitset over the dictionary).
    distinct: Vec<u64>,
    strong: bool,
    weak_distinct: u32,
    pieces: u64,
    supporting: u64,
    /// Two different terms of the class were seen within the window, or
    /// as two field names.
    near: bool,
    /// The last term seen as a field name.
    field_term: Option<u16>,
    samples: Vec<String>,
    /// The previous term hit: (position, term, counted yet).
    last: Option<(u64, u16, bool)>,
    /// Weak terms far apart, for the span they must share.
    spread: Spread,
}

#[derive(Default)]
struct Spread {
    /// Weak terms seen in text within `SPREAD` windows of the latest one:
    /// (position, term), oldest first, at most `SPREAD_HITS`.
    hits: VecDeque<(u64, u16)>,
    /// Weak terms seen as field names: they cover their whole column, so
    /// they are in every span.
    fields: Vec<u16>,
    /// Most distinct weak terms seen together in one span.
    best: u32,
}

/// Terms far apart count only inside a span this many context windows wide
/// (at the default 300 bytes, about two pages): a patient file whose terms
/// are spread out is still short, while a 700 KB changelog names a clinic
/// (Python's Argument Clinic), a diagnosis and a symptom somewhere.
const SPREAD: u64 = 16;
/// Weak term hits kept for the span; more in one span only repeat terms.
const SPREAD_HITS: usize = 32;

/// Where a term was seen: in text at a position, or as a field name (which
/// covers its whole value and always counts).
#[derive(Clone, Copy)]
pub(crate) enum At {
    Text(u64),
    Field,
}

impl EvidenceTally {
    /// A weak term counts as a piece of evidence only when a different term of
    /// the class is within `window` of it ("please be patient" alone, however
    /// often, is no evidence); strong terms and field names always count.
    fn term(
        &mut self,
        id: u16,
        strength: u8,
        at: At,
        window: u64,
        dict: &Dictionary,
        samples: usize,
    ) {
        match at {
            At::Field => {
                self.pieces += 1;
                if strength < STRONG && !self.near && !self.strong {
                    self.spread_field(id);
                }
                // Two columns or keys of one body that name the class (a
                // table with Diagnosis and Hospital columns) are together.
                if self.field_term.is_some_and(|t| t != id) {
                    self.near = true;
                }
                self.field_term = Some(id);
            }
            At::Text(g) => {
                let near = self
                    .last
                    .filter(|&(p, other, _)| other != id && g.saturating_sub(p) <= window);
                let mut counted = strength >= STRONG;
                if let Some((p, other, was_counted)) = near {
                    counted = true;
                    self.near = true;
                    if !was_counted {
                        self.pieces += 1;
                        self.last = Some((p, other, true));
                    }
                }
                if counted {
                    self.pieces += 1;
                }
                self.last = Some((g, id, counted));
                // The span matters only while no two terms were near and no
                // term was strong (`present`): in a record, that is soon.
                if strength < STRONG && !self.near && !self.strong {
                    self.spread_hit(g, id, window);
                }
            }
        }
        let (w, b) = (usize::from(id) / 64, usize::from(id) % 64);
        if self.distinct.len() <= w {
            self.distinct.resize(w + 1, 0);
        }
        let Some(word) = self.distinct.get_mut(w) else {
            return;
        };
        if *word >> b & 1 == 1 {
            return;
        }
        *word |= 1 << b;
        if strength >= STRONG {
            self.strong = true;
        } else {
            self.weak_distinct += 1;
        }
        if self.samples.len() < samples {
            self.samples.push(dict.text(id).to_string());
        }
    }

    /// Whether the body is a record of the class: a strong term, or enough
    /// distinct weak terms, one more of them when no two were near each
    /// other, and then all within one span (`SPREAD`). An event plan that
    /// asks about food allergies and names the hospital next to the venue,
    /// pages apart, is not a health record; a patient file whose terms are
    /// spread out names more than two.
    /// `with_support`: whether supporting shapes (an ICD-10 code next to a
    /// health term, itself corroboration) may help reach the threshold.
    fn present(&self, threshold: u32, with_support: bool) -> bool {
        if self.strong {
            return true;
        }
        if with_support && self.supporting > 0 {
            self.weak_distinct >= threshold.saturating_sub(1)
        } else if self.near {
            self.weak_distinct >= threshold
        } else {
            self.spread.best.max(self.spread.fields.len() as u32) > threshold
        }
    }

    /// A weak term named by a field: in every span.
    #[cold]
    #[inline(never)]
    fn spread_field(&mut self, id: u16) {
        let fields = &mut self.spread.fields;
        if !fields.contains(&id) && fields.len() < SPREAD_HITS {
            fields.push(id);
        }
    }

    /// A weak term in text at `g`: the distinct weak terms within one span
    /// ending here (and those named by fields) are counted.
    #[cold]
    #[inline(never)]
    fn spread_hit(&mut self, g: u64, id: u16, window: u64) {
        let span = window.saturating_mul(SPREAD);
        let Spread { hits, fields, best } = &mut self.spread;
        while hits
            .front()
            .is_some_and(|&(p, _)| p.saturating_add(span) < g)
        {
            hits.pop_front();
        }
        if hits.len() >= SPREAD_HITS {
            hits.pop_front();
        }
        hits.push_back((g, id));
        // Counted in place: weak hits are few, and the scan allocates nothing
        // once warmed up.
        let mut n = fields.len() as u32;
        for (k, &(_, t)) in hits.iter().enumerate() {
            let again = fields.contains(&t) || hits.iter().take(k).any(|&(_, u)| u == t);
            n += u32::from(!again);
        }
        *best = (*best).max(n);
    }
}

/// A hasher keyed from the OS's randomness: one process-wide key, and one per
/// state. `std`'s `RandomState` reads the OS once per thread; hashing with it
/// turns that into the key without another dependency.
fn keyed_hasher() -> foldhash::quality::SeedableRandomState {
    use std::collections::hash_map::RandomState;
    use std::sync::OnceLock;
    static SHARED: OnceLock<foldhash::SharedSeed> = OnceLock::new();
    let shared =
        SHARED.get_or_init(|| foldhash::SharedSeed::from_u64(RandomState::new().hash_one(0u64)));
    foldhash::quality::SeedableRandomState::with_seed(RandomState::new().hash_one(1u64), shared)
}

/// Per-body counts. Debug shows counts only.
pub(crate) struct Tally {
    /// foldhash (a fraction of SipHash's cost on these short values), keyed
    /// from the OS's randomness rather than its own address-based default, so
    /// values can neither be recovered from the set nor steered into it.
    hasher: foldhash::quality::SeedableRandomState,
    ids: [IdTally; CLASSES],
    plain_cards: PlainCards,
    pub(crate) health: EvidenceTally,
    pub(crate) fin: EvidenceTally,
}

impl fmt::Debug for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts: Vec<(Class, u64)> = Class::ALL
            .iter()
            .zip(self.ids.iter())
            .filter(|(_, t)| t.count > 0)
            .map(|(c, t)| (*c, t.count))
            .collect();
        f.debug_struct("Tally")
            .field("identifiers", &counts)
            .field("health_pieces", &self.health.pieces)
            .field("financial_pieces", &self.fin.pieces)
            .finish()
    }
}

pub(crate) struct Limits {
    pub window: u64,
    pub samples: usize,
    pub max_distinct: usize,
    pub health_threshold: u32,
    pub fin_threshold: u32,
}

impl Tally {
    pub(crate) fn new() -> Tally {
        Tally {
            hasher: keyed_hasher(),
            ids: Default::default(),
            plain_cards: PlainCards::default(),
            health: EvidenceTally::default(),
            fin: EvidenceTally::default(),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.plain_cards.seen = 0;
        self.plain_cards.valid = 0;
        self.plain_cards.held.clear();
        for t in &mut self.ids {
            t.seen.clear();
            t.count = 0;
            t.samples.clear();
        }
        for e in [&mut self.health, &mut self.fin] {
            e.distinct.iter_mut().for_each(|w| *w = 0);
            e.strong = false;
            e.weak_distinct = 0;
            e.pieces = 0;
            e.supporting = 0;
            e.near = false;
            e.field_term = None;
            e.samples.clear();
            e.last = None;
            e.spread.hits.clear();
            e.spread.fields.clear();
            e.spread.best = 0;
        }
    }

    pub(crate) fn identifier(&mut self, class: Class, value: &[u8], lim: &Limits) {
        let h = self.hasher.hash_one(value);
        let Some(t) = self.ids.get_mut(class as usize) else {
            return;
        };
        if t.seen.len() >= lim.max_distinct {
            // Past the bound we can no longer tell repeats apart: count on.
            if !t.seen.contains(&h) {
                t.count += 1;
            }
            return;
        }
        if t.seen.insert(h) {
            t.count += 1;
            if t.samples.len() < lim.samples {
                t.samples.push(mask::mask(class, value));
            }
        }
    }

    pub(crate) fn term(
        &mut self,
        class: Class,
        id: u16,
        strength: u8,
        at: At,
        dict: &Dictionary,
        lim: &Limits,
    ) {
        match class {
            Class::Health => self
                .health
                .term(id, strength, at, lim.window, dict, lim.samples),
            Class::FinancialRecord => {
                self.fin
                    .term(id, strength, at, lim.window, dict, lim.samples)
            }
            _ => {}
        }
    }

    /// The held plain cards that count, beyond those already in `cards`: none
    /// when the body's plain runs mostly fail Luhn (they are ids, and the
    /// valid ones chance), else the distinct new ones.
    fn plain_cards_counted(&self, cards: &IdTally, lim: &Limits) -> (u64, Vec<String>) {
        let p = &self.plain_cards;
        if p.seen >= PLAIN_CARDS_JUDGED && p.valid * 2 < p.seen {
            return (0, Vec::new());
        }
        let mut new: HashSet<u64, BuildHasherDefault<PreHashed>> = HashSet::default();
        let mut samples = Vec::new();
        for (h, sample) in &p.held {
            if !cards.seen.contains(h) && new.insert(*h) && samples.len() < lim.samples {
                samples.push(sample.clone());
            }
        }
        (new.len() as u64, samples)
    }

    /// A plain card-length run with no card context: `Some(value)` if it
    /// passes Luhn, `None` if not (counted only).
    pub(crate) fn plain_card(&mut self, valid: Option<&[u8]>, lim: &Limits) {
        let p = &mut self.plain_cards;
        p.seen += 1;
        let Some(value) = valid else {
            return;
        };
        p.valid += 1;
        if p.held.len() < lim.max_distinct {
            let h = self.hasher.hash_one(value);
            p.held.push((h, mask::mask(Class::PaymentCard, value)));
        }
    }

    pub(crate) fn support(&mut self, class: Class) {
        match class {
            Class::Health => self.health.supporting += 1,
            Class::FinancialRecord => self.fin.supporting += 1,
            _ => {}
        }
    }

    pub(crate) fn finish_into(&self, f: &mut Findings, lim: &Limits) {
        for (class, t) in Class::ALL.iter().zip(self.ids.iter()) {
            if t.count > 0 {
                *f.classes.entry(*class).or_insert(0) += t.count;
                f.samples
                    .entry(*class)
                    .or_default()
                    .extend(t.samples.iter().cloned());
            }
        }
        if !self.plain_cards.held.is_empty() {
            if let Some(cards) = self.ids.get(Class::PaymentCard as usize) {
                let (extra, samples) = self.plain_cards_counted(cards, lim);
                if extra > 0 {
                    *f.classes.entry(Class::PaymentCard).or_insert(0) += extra;
                    let kept = f.samples.entry(Class::PaymentCard).or_default();
                    let room = lim.samples.saturating_sub(kept.len());
                    kept.extend(samples.into_iter().take(room));
                }
            }
        }
        // An ICD-10 code is specific to health; a number with two decimals is
        // in every table of measurements ("a sheer amount of instructions …
        // 2.39 1.20"), so amounts only add to a financial record that its
        // terms have already made.
        for (class, e, threshold, with_support) in [
            (Class::Health, &self.health, lim.health_threshold, true),
            (Class::FinancialRecord, &self.fin, lim.fin_threshold, false),
        ] {
            if threshold > 0 && e.present(threshold, with_support) {
                // Reported means at least one piece, even when the terms that
                // reached the threshold were each too far from the others.
                *f.classes.entry(class).or_insert(0) += (e.pieces + e.supporting).max(1);
                f.samples
                    .entry(class)
                    .or_default()
                    .extend(e.samples.iter().cloned());
            }
        }
    }
}
