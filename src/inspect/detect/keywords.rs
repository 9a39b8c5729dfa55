//! Keyword dictionaries compiled for the hot path: a sparse bit filter on the
//! first 4 bytes (ASCII terms, case-folded) or first 6 bytes (two CJK characters)
//! of every term, so a text position costs one multiply and one bit test; only a
//! filter hit looks at the terms themselves.

use super::settings::SettingsError;
use crate::inspect::Class;

/// Longest term in bytes: bounds how far the scanner must look ahead.
pub(crate) const MAX_TERM: usize = 64;
const SLOT_BITS: u32 = 16;

pub(crate) const WEAK: u8 = 1;
pub(crate) const STRONG: u8 = 2;

/// What a term is evidence or context for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Roles {
    /// Bit `Class as u16` set: the term is context for that class. For the
    /// evidence classes the bit means "a term of that class" (context for ICD-10
    /// codes and amounts).
    pub context: u16,
    pub health: u8,
    pub fin: u8,
}

pub(crate) fn bit(c: Class) -> u16 {
    1 << (c as u16)
}

#[derive(Debug)]
struct Term {
    text: Box<[u8]>,
    roles: Roles,
    /// First 8 bytes with 0x20 or-ed in, and the mask of their length: equal
    /// case-folded text is equal here too, so one compare rejects most filter hits.
    head: u64,
    head_mask: u64,
}

fn head_of(text: &[u8]) -> (u64, u64) {
    let len = text.len().min(8);
    let mask = if len == 8 {
        u64::MAX
    } else {
        (1u64 << (len * 8)) - 1
    };
    ((load8(text, 0) | 0x2020_2020_2020_2020) & mask, mask)
}

/// Filter bits, then the terms of each slot (compressed rows: `offsets[slot]..offsets[slot + 1]`).
/// A second set of bits, under another hash, turns most keys that share a
/// slot with a term away before its terms are compared: one in twenty
/// words did, and some of them, like the `"text"` of every chat message,
/// come by the thousand.
#[derive(Debug)]
struct Index {
    bits: Box<[u64]>,
    bits2: Box<[u64]>,
    offsets: Box<[u32]>,
    entries: Box<[u16]>,
}

#[inline(always)]
fn slot(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOT_BITS)) as usize
}

#[inline(always)]
fn slot2(key: u64) -> usize {
    (key.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> (64 - SLOT_BITS)) as usize
}

fn set(bits: &mut [u64], s: usize) {
    if let Some(w) = bits.get_mut(s / 64) {
        *w |= 1 << (s % 64);
    }
}

#[inline(always)]
fn test(bits: &[u64], s: usize) -> bool {
    bits.get(s / 64).copied().unwrap_or(0) >> (s % 64) & 1 == 1
}

impl Index {
    fn build(pairs: &mut [(u64, u16)]) -> Index {
        let size = 1usize << SLOT_BITS;
        let mut bits = vec![0u64; size / 64].into_boxed_slice();
        let mut bits2 = vec![0u64; size / 64].into_boxed_slice();
        let mut counts = vec![0u32; size + 1];
        pairs.sort_unstable_by_key(|&(k, t)| (slot(k), t));
        let mut entries = Vec::with_capacity(pairs.len());
        let mut last: Option<(usize, u16)> = None;
        for &(k, t) in pairs.iter() {
            let s = slot(k);
            // Every key sets its second bit, including keys whose slot and
            // term are already listed (a 3-letter term's many keys).
            set(&mut bits2, slot2(k));
            if last == Some((s, t)) {
                continue;
            }
            last = Some((s, t));
            set(&mut bits, s);
            if let Some(c) = counts.get_mut(s + 1) {
                *c += 1;
            }
            entries.push(t);
        }
        for i in 1..counts.len() {
            let prev = counts.get(i - 1).copied().unwrap_or(0);
            if let Some(c) = counts.get_mut(i) {
                *c += prev;
            }
        }
        Index {
            bits,
            bits2,
            offsets: counts.into_boxed_slice(),
            entries: entries.into_boxed_slice(),
        }
    }

    #[inline(always)]
    fn maybe(&self, key: u64) -> Option<usize> {
        let s = slot(key);
        (test(&self.bits, s) && test(&self.bits2, slot2(key))).then_some(s)
    }

    fn terms(&self, s: usize) -> &[u16] {
        let a = self.offsets.get(s).copied().unwrap_or(0) as usize;
        let b = self.offsets.get(s + 1).copied().unwrap_or(0) as usize;
        self.entries.get(a..b).unwrap_or(&[])
    }
}

#[inline(always)]
fn load4(s: &[u8], i: usize) -> u32 {
    match s.get(i..i + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Little-endian load of up to 8 bytes at `i`, zero past the end.
#[inline(always)]
pub(crate) fn load8(text: &[u8], i: usize) -> u64 {
    match text.get(i..i + 8) {
        Some(s) => {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        }
        None => {
            // Near the end of a value (every short JSON string, CSV cell and
            // field name): two overlapping loads inside the slice, no loop
            // and no call to `memcpy`.
            let rest = text.get(i..).unwrap_or(&[]);
            let n = rest.len();
            if n >= 4 {
                let lo = load4(rest, 0);
                let hi = load4(rest, n - 4);
                u64::from(lo) | u64::from(hi) << (8 * (n - 4))
            } else if n > 0 {
                let at = |k: usize| u64::from(rest.get(k).copied().unwrap_or(0)) << (8 * k);
                at(0) | at(n / 2) | at(n - 1)
            } else {
                0
            }
        }
    }
}

#[inline(always)]
pub(crate) fn ascii_key(w: u64) -> u64 {
    (w & 0xFFFF_FFFF) | 0x2020_2020
}

#[inline(always)]
pub(crate) fn cjk_key(w: u64) -> u64 {
    w & 0xFFFF_FFFF_FFFF
}

pub(crate) fn is_cjk_lead(b: u8) -> bool {
    (0xE0..=0xEF).contains(&b)
}

/// Case-folded byte for comparison: ASCII and Latin-1 upper-case accented
/// letters (`É` is C3 89, `é` is C3 A9).
#[inline]
fn fold(prev: u8, b: u8) -> u8 {
    if prev == 0xC3 && (0x80..=0x9E).contains(&b) && b != 0x97 {
        b + 0x20
    } else {
        b.to_ascii_lowercase()
    }
}

/// A coarse first pass over every word start at once: the ASCII terms in eight
/// buckets (the 3-byte terms in one, the rest by first byte), and for a term's
/// first four bytes (folded as `ascii_key` folds them) 128-entry tables of the
/// buckets that have those bytes there: one for byte 0, one for byte 3, and one
/// for each pair of neighbours (bytes 0-1, 1-2, 2-3, hashed to seven bits by
/// `pair_hash`). A position can start a term only if some bucket has all five,
/// so most word starts are dismissed 64 at a time without a lookup: a tenth of
/// English word starts get through, most of them real term prefixes (tables of
/// single bytes alone, which a bucket of a few dozen terms fills, let a third
/// through: `has`, `text`, `delivery`). Never a false negative: every term sets
/// its bucket's bit in all five tables (a 3-byte term, which matches whatever
/// non-letter follows it, in every entry of the ones that look at its fourth
/// byte).
///
/// The CJK terms get the same treatment over the continuation bytes of their
/// first two characters (bytes 1, 2, 4 and 5, low six bits: 64-entry tables,
/// and the pair of the two characters' last bytes, 2 and 5, hashed as
/// `pair_hash`), bucketed by byte 2: a run of Chinese text is then dismissed
/// 64 bytes at a time instead of one dictionary probe per character (the
/// single bytes alone let one character in fifty through, nearly all of them
/// starting no term).
// Built on every machine (its no-false-negative tests run everywhere), read
// only by the wide pass, which x86_64 alone has.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Debug, Clone)]
pub(crate) struct WordFilter {
    /// Bytes 0 and 3 (`SINGLE_AT`).
    pub(crate) singles: [[u8; 128]; 2],
    /// Bytes 0-1, 1-2 and 2-3.
    pub(crate) pairs: [[u8; 128]; 3],
    pub(crate) cjk: [[u8; 64]; 4],
    /// Bytes 2 and 5 of a CJK term (`CJK_PAIR_AT`), by `pair_hash`.
    pub(crate) cjk_pair: [u8; 128],
}

/// Bytes of an ASCII term the single-byte tables look at.
pub(crate) const SINGLE_AT: [usize; 2] = [0, 3];

/// Bytes of a CJK term the CJK tables look at.
pub(crate) const CJK_FILTER_AT: [usize; 4] = [1, 2, 4, 5];

/// The two bytes of a CJK term the pair table looks at: each character's last.
pub(crate) const CJK_PAIR_AT: [usize; 2] = [2, 5];

/// The 7-bit index of two neighbouring folded bytes in a pair table. Letters
/// differ in their low five bits, which the shift keeps; the SIMD pass
/// computes the same with two byte adds and a xor (`vpermi2b` reads only the
/// low seven bits of an index).
#[inline(always)]
pub(crate) fn pair_hash(a: u8, b: u8) -> usize {
    usize::from((a.wrapping_mul(4) ^ b) & 0x7F)
}

impl WordFilter {
    fn build(terms: &[Term]) -> WordFilter {
        let mut singles = [[0u8; 128]; 2];
        let mut pairs = [[0u8; 128]; 3];
        for t in terms
            .iter()
            .filter(|t| !is_cjk_lead(t.text.first().copied().unwrap_or(0)))
        {
            let folded = |k: usize| t.text.get(k).copied().unwrap_or(0) | 0x20;
            let idx = |k: usize| usize::from(folded(k) & 0x7F);
            let short = t.text.len() < 4;
            let bucket = 1u8 << if short { 7 } else { idx(0) % 7 };
            for (table, k) in singles.iter_mut().zip(SINGLE_AT) {
                if short && k == 3 {
                    for slot in table.iter_mut() {
                        *slot |= bucket;
                    }
                } else if let Some(slot) = table.get_mut(idx(k)) {
                    *slot |= bucket;
                }
            }
            for (k, table) in pairs.iter_mut().enumerate() {
                if short && k == 2 {
                    for slot in table.iter_mut() {
                        *slot |= bucket;
                    }
                } else if let Some(slot) = table.get_mut(pair_hash(folded(k), folded(k + 1))) {
                    *slot |= bucket;
                }
            }
        }
        let mut cjk = [[0u8; 64]; 4];
        let mut cjk_pair = [0u8; 128];
        for t in terms
            .iter()
            .filter(|t| is_cjk_lead(t.text.first().copied().unwrap_or(0)))
        {
            // Terms are at least 6 bytes (two characters); see `Dictionary::build`.
            let at = |k: usize| usize::from(t.text.get(k).copied().unwrap_or(0) & 0x3F);
            let bucket = 1u8 << (at(2) % 8);
            for (table, k) in cjk.iter_mut().zip(CJK_FILTER_AT) {
                if let Some(slot) = table.get_mut(at(k)) {
                    *slot |= bucket;
                }
            }
            let [a, b] = CJK_PAIR_AT.map(|k| t.text.get(k).copied().unwrap_or(0));
            if let Some(slot) = cjk_pair.get_mut(pair_hash(a, b)) {
                *slot |= bucket;
            }
        }
        WordFilter {
            singles,
            pairs,
            cjk,
            cjk_pair,
        }
    }

    /// Whether a CJK term may start at `b` (its first 6 bytes; scalar form, for tests).
    #[cfg(test)]
    pub(crate) fn may_start_cjk(&self, b: [u8; 6]) -> bool {
        let mut acc = 0xFFu8;
        for (table, k) in self.cjk.iter().zip(CJK_FILTER_AT) {
            let byte = b.get(k).copied().unwrap_or(0);
            acc &= table.get(usize::from(byte & 0x3F)).copied().unwrap_or(0);
        }
        let [x, y] = CJK_PAIR_AT.map(|k| b.get(k).copied().unwrap_or(0));
        acc &= self.cjk_pair.get(pair_hash(x, y)).copied().unwrap_or(0);
        acc != 0
    }

    /// Whether a term may start at the four bytes `b` (scalar form, for tests).
    #[cfg(test)]
    pub(crate) fn may_start(&self, b: [u8; 4]) -> bool {
        let mut acc = 0xFFu8;
        let f = b.map(|byte| byte | 0x20);
        for (table, k) in self.singles.iter().zip(SINGLE_AT) {
            let byte = f.get(k).copied().unwrap_or(0);
            acc &= table.get(usize::from(byte & 0x7F)).copied().unwrap_or(0);
        }
        for (k, table) in self.pairs.iter().enumerate() {
            let (a, b) = (f.get(k).copied(), f.get(k + 1).copied());
            let at = pair_hash(a.unwrap_or(0), b.unwrap_or(0));
            acc &= table.get(at).copied().unwrap_or(0);
        }
        acc != 0
    }
}

#[derive(Debug)]
pub(crate) struct Dictionary {
    terms: Vec<Term>,
    ascii: Index,
    cjk: Index,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) words: WordFilter,
}

/// One term as configured, with where it came from (for errors).
pub(crate) struct Entry {
    pub text: String,
    pub roles: Roles,
    pub path: String,
}

impl Dictionary {
    pub(crate) fn build(entries: Vec<Entry>) -> Result<Dictionary, Vec<SettingsError>> {
        let mut errors = Vec::new();
        let mut terms: Vec<Term> = Vec::new();
        for e in entries {
            let norm = e.text.trim().to_lowercase();
            let bytes = norm.as_bytes();
            let first = bytes.first().copied().unwrap_or(0);
            let problem = if bytes.is_empty() {
                Some("empty term")
            } else if bytes.len() > MAX_TERM {
                Some("term longer than 64 bytes")
            } else if first.is_ascii_alphabetic() {
                (bytes.len() < 3).then_some("ASCII terms need at least 3 characters")
            } else if is_cjk_lead(first) {
                (bytes.len() < 6).then_some("CJK terms need at least 2 characters")
            } else {
                Some("a term must start with an ASCII letter or a CJK character")
            };
            if let Some(p) = problem {
                errors.push(SettingsError::new(e.path, p));
                continue;
            }
            if let Some(t) = terms.iter_mut().find(|t| *t.text == *bytes) {
                t.roles.context |= e.roles.context;
                t.roles.health = t.roles.health.max(e.roles.health);
                t.roles.fin = t.roles.fin.max(e.roles.fin);
            } else {
                let (head, head_mask) = head_of(bytes);
                terms.push(Term {
                    text: bytes.into(),
                    roles: e.roles,
                    head,
                    head_mask,
                });
            }
        }
        if terms.len() > usize::from(u16::MAX) {
            errors.push(SettingsError::new("", "more than 65535 terms"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Dictionary::compile(terms))
    }

    pub(crate) fn empty() -> Dictionary {
        Dictionary::compile(Vec::new())
    }

    fn compile(terms: Vec<Term>) -> Dictionary {
        let mut ascii = Vec::new();
        let mut cjk = Vec::new();
        for (id, t) in terms.iter().enumerate() {
            let id = id as u16;
            let w = load8(&t.text, 0);
            if is_cjk_lead(t.text.first().copied().unwrap_or(0)) {
                cjk.push((cjk_key(w), id));
            } else if t.text.len() >= 4 {
                ascii.push((ascii_key(w), id));
            } else {
                // A 3-letter term matches whatever non-letter follows it.
                for b in (0u8..=255).filter(|b| !b.is_ascii_alphabetic()) {
                    ascii.push((ascii_key(w | u64::from(b) << 24), id));
                }
            }
        }
        Dictionary {
            ascii: Index::build(&mut ascii),
            cjk: Index::build(&mut cjk),
            words: WordFilter::build(&terms),
            terms,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.terms.len()
    }

    pub(crate) fn roles(&self, id: u16) -> Roles {
        self.terms
            .get(usize::from(id))
            .map(|t| t.roles)
            .unwrap_or_default()
    }

    pub(crate) fn text(&self, id: u16) -> &str {
        self.terms
            .get(usize::from(id))
            .and_then(|t| std::str::from_utf8(&t.text).ok())
            .unwrap_or("")
    }

    #[inline(always)]
    pub(crate) fn ascii_slot(&self, w: u64) -> Option<usize> {
        self.ascii.maybe(ascii_key(w))
    }

    #[inline(always)]
    pub(crate) fn cjk_slot(&self, w: u64) -> Option<usize> {
        self.cjk.maybe(cjk_key(w))
    }

    /// The longest ASCII term at word start `i` (the caller checked the start).
    pub(crate) fn verify_ascii(&self, slot: usize, text: &[u8], i: usize) -> Option<(u16, usize)> {
        let mut best: Option<(u16, usize)> = None;
        let w = load8(text, i) | 0x2020_2020_2020_2020;
        for &id in self.ascii.terms(slot) {
            let Some(t) = self.terms.get(usize::from(id)) else {
                continue;
            };
            if w & t.head_mask != t.head {
                continue;
            }
            let Some(window) = text.get(i..i + t.text.len()) else {
                continue;
            };
            let mut prev = 0u8;
            let same = window.iter().zip(t.text.iter()).all(|(&b, &tb)| {
                let ok = fold(prev, b) == tb;
                prev = b;
                ok
            });
            if !same {
                continue;
            }
            // Whole words only; a plural "s" may follow.
            let end = i + t.text.len();
            let after = text.get(end).copied().unwrap_or(b' ');
            let ends_word = !after.is_ascii_alphanumeric()
                || after.eq_ignore_ascii_case(&b's')
                    && !text
                        .get(end + 1)
                        .copied()
                        .unwrap_or(b' ')
                        .is_ascii_alphanumeric();
            let last_is_alnum = t.text.last().is_some_and(u8::is_ascii_alphanumeric);
            if (ends_word || !last_is_alnum) && best.is_none_or(|(_, l)| t.text.len() > l) {
                best = Some((id, t.text.len()));
            }
        }
        best
    }

    /// Walks a run of well-formed 3-byte characters from `k` (stopping before
    /// `to`, a full-width digit or anything else) to the first one at or after
    /// `skip` that passes the CJK filter. Returns where it stopped and, on a
    /// hit, the filter slot. One 8-byte load per character classifies it and
    /// gives the filter key; the filter's bits stay in a register-held slice.
    #[inline]
    pub(crate) fn cjk_scan(
        &self,
        buf: &[u8],
        mut k: usize,
        to: usize,
        skip: usize,
    ) -> (usize, Option<usize>) {
        let bits = &*self.cjk.bits;
        while k < to {
            // Zero-padded past the end, so a cut-off character fails the mask.
            let w = load8(buf, k);
            // Lead E0..=EF, then two continuation bytes 80..=BF.
            let well_formed = w & 0x00C0_C0F0 == 0x0080_80E0;
            // A full-width digit (EF BC 90..=99) starts a token instead.
            let fw_digit = w & 0xFFFF == 0xBCEF && (0x90..=0x99).contains(&((w >> 16) as u8));
            if !well_formed || fw_digit {
                break;
            }
            if k >= skip {
                let s = slot(cjk_key(w));
                if bits.get(s / 64).is_some_and(|b| b >> (s % 64) & 1 == 1) {
                    return (k, Some(s));
                }
            }
            k += 3;
        }
        (k, None)
    }

    /// The longest CJK term at `i`.
    pub(crate) fn verify_cjk(&self, slot: usize, text: &[u8], i: usize) -> Option<(u16, usize)> {
        let mut best: Option<(u16, usize)> = None;
        let w = load8(text, i) | 0x2020_2020_2020_2020;
        for &id in self.cjk.terms(slot) {
            let Some(t) = self.terms.get(usize::from(id)) else {
                continue;
            };
            if w & t.head_mask != t.head {
                continue;
            }
            if text.get(i..i + t.text.len()) == Some(&t.text[..])
                && best.is_none_or(|(_, l)| t.text.len() > l)
            {
                best = Some((id, t.text.len()));
            }
        }
        best
    }

    /// Every match in a short text (field names), by the same rules as the scanner.
    pub(crate) fn find_all(&self, text: &[u8], mut f: impl FnMut(u16)) {
        let mut i = 0;
        while i < text.len() {
            let b = text.get(i).copied().unwrap_or(0);
            let prev = if i == 0 {
                b' '
            } else {
                text.get(i - 1).copied().unwrap_or(b' ')
            };
            let w = load8(text, i);
            let hit = if b.is_ascii_alphabetic() && !prev.is_ascii_alphanumeric() {
                self.ascii_slot(w)
                    .and_then(|s| self.verify_ascii(s, text, i))
            } else if is_cjk_lead(b) {
                self.cjk_slot(w).and_then(|s| self.verify_cjk(s, text, i))
            } else {
                None
            };
            match hit {
                Some((id, len)) => {
                    f(id);
                    i += len;
                }
                None => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Detectors;

    #[test]
    fn word_filter_passes_every_ascii_term_in_any_case() {
        let det = Detectors::shipped();
        let d = &det.dict;
        let mut n = 0;
        for t in d
            .terms
            .iter()
            .filter(|t| t.text.first().is_some_and(u8::is_ascii_alphabetic))
        {
            let head = |f: fn(u8) -> u8, after: u8| {
                let mut b = [0u8; 4];
                for (k, slot) in b.iter_mut().enumerate() {
                    *slot = t.text.get(k).copied().map_or(after, f);
                }
                b
            };
            // A 3-byte term followed by anything that is not a letter.
            for after in (0..=255u8).filter(|b| !b.is_ascii_alphabetic()) {
                assert!(
                    d.words.may_start(head(|b| b, after)),
                    "{}",
                    String::from_utf8_lossy(&t.text)
                );
                assert!(d.words.may_start(head(|b| b.to_ascii_uppercase(), after)));
            }
            n += 1;
        }
        assert!(n > 50, "only {n} ASCII terms");
        // And it does filter: common English word starts are dismissed. A few
        // get through: "with" starts "withdrawal", and a three-letter term
        // (MRI, BIR) passes any fourth byte, so "brin" meets MRI's "ri".
        // Each one let through costs a look-up that fails, not a wrong match.
        let common = [
            "the ", "and ", "for ", "you ", "with", "this", "from", "will", "has ", "about",
            "send", "team", "Can ", "it, ", "text", "is g", "at 1", "deli", "whet", "depl", "welc",
            "atta", "plea", "Plea", "plac", "brin", "ve a",
        ];
        let passed: Vec<_> = common
            .iter()
            .filter(|w| {
                let b = w.as_bytes();
                d.words.may_start([b[0], b[1], b[2], b[3]])
            })
            .collect();
        assert!(passed.len() <= 3, "{passed:?} of {common:?} passed");
    }

    #[test]
    fn slot_index_finds_every_term_and_turns_away_common_words() {
        let det = Detectors::shipped();
        let d = &det.dict;
        for t in d
            .terms
            .iter()
            .filter(|t| t.text.first().is_some_and(u8::is_ascii_alphabetic))
        {
            for after in [b' ', b',', b'"', b'\n', 0xE3] {
                let mut text = t.text.to_ascii_uppercase();
                text.push(after);
                text.extend_from_slice(b"    ");
                let slot = d.ascii_slot(super::load8(&text, 0));
                assert!(slot.is_some(), "{}", String::from_utf8_lossy(&t.text));
                let found = slot.and_then(|s| d.verify_ascii(s, &text, 0));
                assert_eq!(
                    found.map(|(_, len)| len),
                    Some(t.text.len()),
                    "{}",
                    String::from_utf8_lossy(&t.text)
                );
            }
        }
        // Words in every chat message: none of them starts a term, and none
        // should cost a comparison with one.
        for w in [
            "text\"",
            "sender",
            "user1",
            "msgtype",
            "markdown",
            "title",
            "conversationId",
        ] {
            let b = w.as_bytes();
            let slot = d.ascii_slot(super::load8(b, 0));
            assert!(slot.is_none(), "{w} shares a slot with a term");
        }
    }

    #[test]
    fn load8_reads_any_tail_zero_padded() {
        let text: Vec<u8> = (1..=20u8).collect();
        for i in 0..=text.len() + 2 {
            let mut want = [0u8; 8];
            for (k, slot) in want.iter_mut().enumerate() {
                *slot = text.get(i + k).copied().unwrap_or(0);
            }
            assert_eq!(super::load8(&text, i), u64::from_le_bytes(want), "at {i}");
        }
    }

    #[test]
    fn cjk_filter_passes_every_cjk_term_and_dismisses_most_text() {
        let det = Detectors::shipped();
        let d = &det.dict;
        let six = |s: &[u8]| {
            let mut b = [0u8; 6];
            for (slot, x) in b.iter_mut().zip(s) {
                *slot = *x;
            }
            b
        };
        let mut n = 0;
        for t in d
            .terms
            .iter()
            .filter(|t| super::is_cjk_lead(t.text.first().copied().unwrap_or(0)))
        {
            assert!(
                d.words.may_start_cjk(six(&t.text)),
                "{}",
                String::from_utf8_lossy(&t.text)
            );
            n += 1;
        }
        assert!(n > 50, "only {n} CJK terms");
        // Ordinary office Chinese: most character pairs cannot start a term.
        let text = "請大家在週五前審閱季度報告謝謝会议改到下午三点请带上演示文稿今天天氣很好我們中午一起去吃飯吧";
        let chars: Vec<&str> = text
            .char_indices()
            .map(|(i, c)| &text[i..i + c.len_utf8()])
            .collect();
        let pairs: Vec<String> = chars.windows(2).map(|w| w.concat()).collect();
        let passed = pairs
            .iter()
            .filter(|p| d.words.may_start_cjk(six(p.as_bytes())))
            .count();
        assert!(
            passed * 10 <= pairs.len(),
            "{passed} of {} pairs passed",
            pairs.len()
        );
        // Every pair of the characters of a page of office Chinese (22,000
        // pairs): the single-byte tables alone pass 2.7% of them, with the
        // pair table about 1% (the bench's Chinese went from 3.1 to 3.9
        // GiB/s with it).
        let page = "請大家在週五前審閱季度報告，謝謝。会议改到下午三点，请带上演示文稿。客戶查詢送貨時間，已經安排明天出貨。我已经更新了表格并发送给团队，请查收。今天天氣很好，我們中午一起去吃飯吧。这个项目的进度需要再确认一下，麻烦跟进。附件是合同草稿，歡迎在星期一前提出意見。系统升级将在周末进行，期间服务可能中断。";
        let chars: Vec<char> = page.chars().collect();
        let mut all = 0usize;
        let mut passed = 0usize;
        for a in &chars {
            for b in &chars {
                all += 1;
                passed += usize::from(d.words.may_start_cjk(six(format!("{a}{b}").as_bytes())));
            }
        }
        assert!(
            passed * 60 <= all,
            "{passed} of {all} character pairs passed"
        );
    }
}
