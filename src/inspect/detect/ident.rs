//! Candidate shapes → identifier classes. Input is a chain of tokens (ASCII,
//! full-width folded, letters upper-cased, inner separators kept) joined by single
//! spaces; output is what the chain could be, with whether it needs context.
//! Check digits live in `validate`; context and counting live in `scan`/`tally`.

use std::fmt;

use super::settings::CheckKind;
use super::validate::{self, Day};
use crate::inspect::Class;

/// Longest token kept (a TD3 MRZ line is 44).
pub(crate) const MAX_TOKEN: usize = 48;
/// Most tokens a single identifier spans (an IBAN in groups of four).
pub(crate) const MAX_CHAIN: usize = 9;

/// A normalised identifier value. Debug never shows it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Value {
    bytes: [u8; MAX_TOKEN],
    len: u8,
}

impl Value {
    pub(crate) fn new(s: &[u8]) -> Value {
        let mut bytes = [0u8; MAX_TOKEN];
        let len = s.len().min(MAX_TOKEN);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..len), s.get(..len)) {
            dst.copy_from_slice(src);
        }
        Value {
            bytes,
            len: len as u8,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value(<{} bytes redacted>)", self.len)
    }
}

/// What a matched chain means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meaning {
    /// An identifier of `class`; with `needs_context`, only if a keyword of
    /// `class` is near (or a column header says so).
    Id {
        class: Class,
        value: Value,
        needs_context: bool,
    },
    /// Supporting evidence (ICD-10 code, amount) for an evidence class; always
    /// needs a term of that class near.
    Support(Class),
    /// A plain digit run of card length with an issuer's prefix: a card if it
    /// passes Luhn and card context is near; without context, judged with the
    /// body's other such runs (`Tally::plain_card`). A failing one is only
    /// counted, and the readings after it still apply.
    PlainCard { value: Value, valid: bool },
}

/// Up to three readings of one chain, best first; the first whose context is
/// present wins.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Readings {
    pub items: [Option<Meaning>; 3],
}

impl Readings {
    fn push(&mut self, m: Meaning) {
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(m);
        }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.items[0].is_none()
    }
    /// An account number that needs a term near it.
    pub(crate) fn account(value: Value) -> Readings {
        let mut r = Readings::default();
        r.push(Meaning::Id {
            class: Class::BankAccount,
            value,
            needs_context: true,
        });
        r
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Meaning> {
        self.items.iter().flatten()
    }
    /// The readings `keep` keeps, in order.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Meaning) -> bool) {
        let all = *self;
        *self = Readings::default();
        for m in all.iter().filter(|m| keep(m)) {
            self.push(*m);
        }
    }
}

/// An operator shape, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Custom {
    pub class: Class,
    pub shape: Vec<u8>,
    pub check: CheckKind,
    pub needs_context: bool,
}

/// `slice::contains` calls out to memchr, far too slow for slices this short
/// (measured: it was a fifth of the token path).
#[inline]
#[allow(clippy::manual_contains)]
pub(crate) fn has(s: &[u8], b: u8) -> bool {
    s.iter().any(|&c| c == b)
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'/' | b'.' | b'(' | b')' | b'+')
}

fn digits_only(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// Alphanumerics of `s` into `out`; returns the count.
fn compact(s: &[u8], out: &mut [u8; 64]) -> usize {
    let mut n = 0;
    for &b in s.iter().filter(|b| b.is_ascii_alphanumeric()) {
        if let Some(slot) = out.get_mut(n) {
            *slot = b;
            n += 1;
        } else {
            return 0;
        }
    }
    n
}

/// Separators used, as a set of distinct bytes (for "grouped by spaces or dashes").
fn separators(s: &[u8]) -> (bool, bool, bool) {
    let space = has(s, b' ');
    let dash = has(s, b'-');
    let other = s.iter().any(|&b| is_sep(b) && b != b' ' && b != b'-');
    (space, dash, other)
}

/// Digits grouped only by spaces or only by dashes, each group ≥ 2 long but
/// for a lone digit after a longer group in three or more groups: the check
/// digit or account type banks set apart (`18-01-20-123456-7` in Macau,
/// `012-875-2-012345-6` in Hong Kong).
fn grouped_digits(s: &[u8]) -> bool {
    let (space, dash, other) = separators(s);
    if other || (space && dash) {
        return false;
    }
    let split = || s.split(|&b| b == b' ' || b == b'-');
    let three_or_more = split().nth(2).is_some();
    let mut prev = 0;
    for g in split() {
        let lone_ok = g.len() == 1 && prev >= 2 && three_or_more;
        if !(g.len() >= 2 || lone_ok) || !digits_only(g) {
            return false;
        }
        prev = g.len();
    }
    true
}

/// An account number printed in groups by spaces (`9012 3456 7890`), as
/// banks print them on statements and cards: two or more groups of three to
/// six digits, ten to twenty in all. A list of phone numbers has the same
/// shape, so this is read only where account context already is (the
/// caller's test) and never before the chain's other readings.
pub(crate) fn spaced_account(s: &[u8]) -> Option<Value> {
    let mut n = 0;
    let mut groups = 0;
    for g in s.split(|&b| b == b' ') {
        if !(3..=6).contains(&g.len()) || !digits_only(g) {
            return None;
        }
        n += g.len();
        groups += 1;
    }
    if groups < 2 || !(10..=20).contains(&n) {
        return None;
    }
    let mut buf = [0u8; 64];
    let k = compact(s, &mut buf);
    let c = buf.get(..k).unwrap_or(&[]);
    (!epoch_like(c)).then(|| Value::new(c))
}

/// `2026-11-20`, `20-11-2026` as a whole token: no reading takes it (without
/// custom patterns, which may).
pub(crate) fn plain_date(s: &[u8]) -> bool {
    s.len() == 10 && s.iter().all(|&b| b.is_ascii_digit() || b == b'-') && dashed_date(s)
}

/// A calendar date printed with dashes, year first or last (2026-11-20,
/// 20-11-2026): digits an account context nearby does not make an account.
fn dashed_date(s: &[u8]) -> bool {
    let num = validate::number;
    let mut parts = s.split(|&b| b == b'-');
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (day, month) = match (a.len(), b.len(), c.len()) {
        (4, 2, 2) => (num(c), num(b)),
        (2, 2, 4) => (num(a), num(b)),
        _ => return false,
    };
    matches!((day, month), (Some(1..=31), Some(1..=12)))
}

/// A span of years, 2005-2008: a Hong Kong line or an account number in shape,
/// but in copyright lines and CVs it is years.
fn year_range(s: &[u8]) -> bool {
    let year = |g: &[u8]| g.len() == 4 && matches!(validate::number(g), Some(1900..=2099));
    match (s.get(..4), s.get(4), s.get(5..)) {
        (Some(a), Some(b'-'), Some(b)) => year(a) && year(b) && a <= b,
        _ => false,
    }
}

/// A date written as one run of eight digits, year first (20200418, as
/// changelogs and file names date things): it starts like a Hong Kong line,
/// and near a word such as "cells" it read as one.
fn compact_date(s: &[u8]) -> bool {
    let num = validate::number;
    s.len() == 8
        && digits_only(s)
        && matches!(num(s.get(..4).unwrap_or(&[])), Some(1900..=2099))
        && matches!(num(s.get(4..6).unwrap_or(&[])), Some(1..=12))
        && matches!(num(s.get(6..).unwrap_or(&[])), Some(1..=31))
}

/// How phone numbers are printed: one run, or 4-4 (Macau, Hong Kong), 3-4-4
/// or 3-8 (mainland mobiles), by spaces or by dashes. A date (2026-11-20 is
/// eight digits and starts like a Hong Kong line) is not a phone number.
fn phone_groups(s: &[u8]) -> bool {
    // One pass: group lengths, and a single kind of separator between groups.
    let mut lens = [0u8; 3];
    let mut k = 0;
    let mut sep = 0u8;
    for &b in s {
        if b.is_ascii_digit() {
            match lens.get_mut(k) {
                Some(l) => *l = l.saturating_add(1),
                None => return false,
            }
        } else if (b == b' ' || b == b'-') && (sep == 0 || sep == b) && lens.get(k) != Some(&0) {
            sep = b;
            k += 1;
        } else {
            return false;
        }
    }
    match lens.get(..=k) {
        Some([n]) => *n >= 2,
        Some(groups) => matches!(groups, [4, 4] | [3, 8] | [3, 4, 4]),
        None => false,
    }
}

/// How issuers print cards: groups of four (the last may be shorter, but not
/// a lone digit: `4615 3220 3220 1` is a row of numbers), or the
/// Amex/Diners 4-6-5 / 4-6-4, separated by spaces or by dashes.
fn card_groups(s: &[u8]) -> bool {
    if !grouped_digits(s) {
        return false;
    }
    let mut lens = [0usize; 8];
    let mut k = 0;
    for g in s.split(|&b| b == b' ' || b == b'-') {
        match lens.get_mut(k) {
            Some(slot) => *slot = g.len(),
            None => return false,
        }
        k += 1;
    }
    let lens = lens.get(..k).unwrap_or(&[]);
    let fours = lens
        .split_last()
        .is_some_and(|(last, rest)| (2..=4).contains(last) && rest.iter().all(|&l| l == 4));
    fours || matches!(lens, [4, 6, 5] | [4, 6, 4])
}

/// A valid HKID as printed: its value, and whether the check character is in
/// parentheses (`A123456(3)`), the form on the card. Without them
/// (`A1234563`, `A123456 3`) any letter and seven digits pass one time in
/// eleven (`B4000000`, a baud rate in termios headers), so those need context.
fn hkid_layout(s: &[u8]) -> Option<(Value, bool)> {
    let letters = s.iter().take_while(|b| b.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) {
        return None;
    }
    let body = s.get(..letters + 6)?;
    if !digits_only(body.get(letters..)?) {
        return None;
    }
    let (check, parenthesised) = match s.get(letters + 6..)? {
        [b'(', c, b')'] | [b' ', b'(', c, b')'] => (*c, true),
        [c] | [b' ', c] => (*c, false),
        _ => return None,
    };
    let mut v = [0u8; 9];
    let n = letters + 7;
    v.get_mut(..letters + 6)?.copy_from_slice(body);
    *v.get_mut(letters + 6)? = check;
    let v = v.get(..n)?;
    validate::hkid(v).then(|| (Value::new(v), parenthesised))
}

fn macau_layout(s: &[u8]) -> Option<Value> {
    let (first, body, check) = match s {
        [f, rest @ ..] if rest.len() >= 9 => match rest {
            [b'/', mid @ .., b'/', c] if mid.len() == 6 => (*f, mid, *c),
            _ => {
                let (mid, tail) = rest.split_at(6);
                match tail {
                    [b'(', c, b')'] | [b' ', b'(', c, b')'] => (*f, mid, *c),
                    _ => return None,
                }
            }
        },
        _ => return None,
    };
    if !matches!(first, b'1' | b'5' | b'7' | b'8') || !digits_only(body) || !check.is_ascii_digit()
    {
        return None;
    }
    let mut v = [0u8; 8];
    v[0] = first;
    v.get_mut(1..7)?.copy_from_slice(body);
    v[7] = check;
    Some(Value::new(&v))
}

/// Country-code forms: `+853`, `(853)`, `(+853)`, `00853`, then the number.
/// A country code alone (`+853`, `(852)`, `0086`): the token before a number.
pub(crate) fn country_code(s: &[u8]) -> bool {
    split_country_code(s).is_some_and(|(_, rest)| rest.is_empty())
}

fn split_country_code(s: &[u8]) -> Option<(&'static [u8], &[u8])> {
    // Most tokens start with a digit of the number itself.
    if !matches!(s.first(), Some(b'+' | b'(' | b'0')) {
        return None;
    }
    for (cc, digits) in [
        (b"+853".as_slice(), b"853".as_slice()),
        (b"+852", b"852"),
        (b"+86", b"86"),
    ] {
        let rest = s
            .strip_prefix(b"+")
            .and_then(|r| r.strip_prefix(digits))
            .or_else(|| {
                s.strip_prefix(b"(+")
                    .and_then(|r| r.strip_prefix(digits))
                    .and_then(|r| r.strip_prefix(b")"))
            })
            .or_else(|| {
                s.strip_prefix(b"(")
                    .and_then(|r| r.strip_prefix(digits))
                    .and_then(|r| r.strip_prefix(b")"))
            })
            .or_else(|| s.strip_prefix(b"00").and_then(|r| r.strip_prefix(digits)));
        if let Some(rest) = rest {
            let rest = rest
                .strip_prefix(b" ")
                .or_else(|| rest.strip_prefix(b"-"))
                .unwrap_or(rest);
            return Some((cc, rest));
        }
    }
    None
}

fn local_phone_ok(cc: &[u8], d: &[u8]) -> bool {
    match cc {
        b"+853" => d.len() == 8 && (d.starts_with(b"6") || d.starts_with(b"28")),
        b"+852" => {
            d.len() == 8 && matches!(d.first(), Some(b'2' | b'3' | b'5' | b'6' | b'7' | b'9'))
        }
        b"+86" => {
            d.len() == 11 && d.first() == Some(&b'1') && matches!(d.get(1), Some(b'3'..=b'9'))
        }
        _ => false,
    }
}

/// A phone number's value: its country code and local digits (`+85366123456`).
fn with_code(cc: &[u8], local: &[u8]) -> Value {
    let mut v = [0u8; 16];
    let total = cc.len() + local.len();
    if let Some(dst) = v.get_mut(..cc.len()) {
        dst.copy_from_slice(cc);
    }
    if let Some(dst) = v.get_mut(cc.len()..total) {
        dst.copy_from_slice(local);
    }
    Value::new(v.get(..total).unwrap_or(&[]))
}

fn phone(s: &[u8], out: &mut Readings) {
    if let Some((cc, rest)) = split_country_code(s) {
        if phone_groups(rest) {
            let mut d = [0u8; 64];
            let n = compact(rest, &mut d);
            let digits = d.get(..n).unwrap_or(&[]);
            if local_phone_ok(cc, digits) {
                out.push(Meaning::Id {
                    class: Class::Phone,
                    value: with_code(cc, digits),
                    needs_context: false,
                });
            }
        }
        return;
    }
    // A country code without its `+`, as contact lists exported from chat
    // apps write numbers (`85366123456`) and people type them
    // (`853-6612-3456`): only with context.
    for (cc, bare) in [
        (b"+853".as_slice(), b"853".as_slice()),
        (b"+852", b"852"),
        (b"+86", b"86"),
    ] {
        let Some(rest) = s.strip_prefix(bare) else {
            continue;
        };
        let laid_out = match rest {
            [b' ' | b'-', local @ ..] => phone_groups(local),
            local => digits_only(local),
        };
        let mut d = [0u8; 64];
        let n = compact(rest, &mut d);
        let local = d.get(..n).unwrap_or(&[]);
        if laid_out && local_phone_ok(cc, local) {
            out.push(Meaning::Id {
                class: Class::Phone,
                value: with_code(cc, local),
                needs_context: true,
            });
            return;
        }
    }
    if !phone_groups(s) || year_range(s) || compact_date(s) {
        return;
    }
    let mut d = [0u8; 64];
    let n = compact(s, &mut d);
    let digits = d.get(..n).unwrap_or(&[]);
    if local_phone_ok(b"+853", digits)
        || local_phone_ok(b"+852", digits)
        || local_phone_ok(b"+86", digits)
    {
        out.push(Meaning::Id {
            class: Class::Phone,
            value: Value::new(digits),
            needs_context: true,
        });
    }
}

fn shape_matches(shape: &[u8], s: &[u8]) -> bool {
    shape.len() == s.len()
        && shape.iter().zip(s).all(|(&p, &b)| match p {
            b'9' => b.is_ascii_digit(),
            b'A' => b.is_ascii_uppercase(),
            b'X' => b.is_ascii_alphanumeric(),
            other => other == b,
        })
}

/// An ICD-10 code's shape (a category letter and two digits, then `.d{1,4}`
/// or nothing), within the WHO chapters: `Some(true)` with a subcategory.
/// The chapters end early in some letters (neoplasms at C97, so `C99` is
/// the C standard); `U` is kept for emergency use.
pub(crate) fn icd_shape(s: &[u8]) -> Option<bool> {
    let (l, d, decimal) = match s {
        [l, d1, d2] => (*l, [*d1, *d2], false),
        [l, d1, d2, b'.', tail @ ..] if (1..=4).contains(&tail.len()) && digits_only(tail) => {
            (*l, [*d1, *d2], true)
        }
        _ => return None,
    };
    if !l.is_ascii_uppercase() || !digits_only(&d) {
        return None;
    }
    let n = (d[0] - b'0') * 10 + (d[1] - b'0');
    let last = match l {
        b'C' => 97,
        b'D' => 89,
        b'E' => 90,
        b'H' => 95,
        b'K' => 93,
        b'P' => 96,
        b'T' | b'Y' => 98,
        b'U' => return None,
        _ => 99,
    };
    let first = if l == b'V' { 1 } else { 0 };
    // D49 falls between the neoplasms (to D48) and the blood (from D50).
    ((first..=last).contains(&n) && (l, n) != (b'D', 49)).then_some(decimal)
}

/// Shapes that support evidence rather than identify: ICD-10 codes
/// (`icd_shape`) and amounts (`d{1,9}.dd`). One token.
fn support_shapes(s: &[u8], out: &mut Readings) {
    if icd_shape(s).is_some() {
        out.push(Meaning::Support(Class::Health));
        return;
    }
    if let Some(dot) = s.iter().position(|&b| b == b'.') {
        let (int, frac) = s.split_at(dot);
        if (1..=9).contains(&int.len())
            && digits_only(int)
            && frac.len() == 3
            && digits_only(frac.get(1..).unwrap_or(&[]))
        {
            out.push(Meaning::Support(Class::FinancialRecord));
        }
    }
}

/// Unix time in seconds (10 digits) or milliseconds (13) from 2001 to 2033:
/// everywhere in API traffic, never an account number.
pub(crate) fn epoch_like(c: &[u8]) -> bool {
    matches!(c.len(), 10 | 13) && c.first() == Some(&b'1') && matches!(c.get(1), Some(b'0'..=b'9'))
}

/// Cheap test on one token (alphanumerics `alnum`, letters `letters`) before it
/// is queued: false when no reading can use it, alone or in a chain.
pub(crate) fn plausible(
    alnum: usize,
    letters: usize,
    iban_head: bool,
    has_lt: bool,
    custom: bool,
) -> bool {
    if has_lt {
        return true;
    }
    alnum <= 34 && (letters <= 3 || iban_head || custom)
}

/// Every reading of `s` (tokens joined by single spaces), pushed onto `out`,
/// which the caller keeps (it is 170 bytes: returned, it cost a `memcpy`
/// call per token). `today` bounds birth dates.
pub(crate) fn classify(s: &[u8], today: Day, custom: &[Custom], out: &mut Readings) {
    // A date (most messages have one) reads as nothing below: said once here
    // instead of by each reading in turn.
    if custom.is_empty() && plain_date(s) {
        return;
    }
    let mut buf = [0u8; 64];
    let n = compact(s, &mut buf);
    let c = buf.get(..n).unwrap_or(&[]);
    if n == 0 {
        return;
    }
    let tight = !has(s, b' ');
    let letters = c.iter().filter(|b| b.is_ascii_uppercase()).count();
    let iban_head =
        c.iter().take(2).all(u8::is_ascii_uppercase) && c.get(2..4).is_some_and(digits_only);
    if n > 34 && !(tight && s.len() == 44)
        || letters > 3 && !iban_head && custom.is_empty() && !has(s, b'<')
    {
        return;
    }
    // Most tokens in office text are short numbers and timestamps: below 7
    // alphanumerics only an ICD-10 code or an amount can match, and a Unix time
    // matches nothing.
    let short = n < 7 && custom.iter().all(|p| p.shape.len() != s.len());
    // (A Unix time is printed as one run: `18-01-20-123456-7` is an account.)
    if short || digits_only(s) && epoch_like(c) && custom.is_empty() {
        if short && tight {
            support_shapes(s, out);
        }
        return;
    }

    if tight && s.len() == 44 && has(s, b'<') {
        if let Some(doc) = validate::mrz_td3_line2(s) {
            let mut v = [0u8; 9];
            let mut k = 0;
            for &b in doc.iter().filter(|&&b| b != b'<') {
                if let Some(slot) = v.get_mut(k) {
                    *slot = b;
                    k += 1;
                }
            }
            out.push(Meaning::Id {
                class: Class::Passport,
                value: Value::new(v.get(..k).unwrap_or(&[])),
                needs_context: false,
            });
        }
        return;
    }
    if has(s, b'<') {
        return;
    }
    for p in custom {
        if shape_matches(&p.shape, s) {
            let ok = match p.check {
                CheckKind::None => true,
                CheckKind::Luhn => validate::luhn(c),
                CheckKind::Mod97 => validate::iban(c),
            };
            if ok {
                out.push(Meaning::Id {
                    class: p.class,
                    value: Value::new(c),
                    needs_context: p.needs_context,
                });
                return;
            }
        }
    }
    // IBAN: one token, or groups of four separated by spaces.
    // Each reading below is guarded by the counts it needs, so a candidate only
    // meets the validators its shape allows.
    if iban_head && n >= 15 {
        let mut groups = s.split(|&b| b == b' ').peekable();
        let mut fours = true;
        while let Some(g) = groups.next() {
            let last = groups.peek().is_none();
            fours &= if last {
                (1..=4).contains(&g.len())
            } else {
                g.len() == 4
            };
        }
        let layout_ok = tight && s.iter().all(u8::is_ascii_alphanumeric)
            || fours && s.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ');
        if layout_ok && validate::iban(c) {
            out.push(Meaning::Id {
                class: Class::Iban,
                value: Value::new(c),
                needs_context: false,
            });
            return;
        }
    }
    if letters == 0 && (13..=19).contains(&n) && validate::card_issuer(c) {
        let valid = validate::luhn(c);
        if tight && digits_only(s) && n > 16 {
            // Seventeen to nineteen digits in one run are what 64-bit ids
            // and hashes print as (Cargo's fingerprints, a JSON body's ids,
            // constants in code): a tenth of those that start with 4 or 62
            // pass. A UnionPay card that long is written near its name.
            if valid {
                out.push(Meaning::Id {
                    class: Class::PaymentCard,
                    value: Value::new(c),
                    needs_context: true,
                });
            }
        } else if tight && digits_only(s) {
            out.push(Meaning::PlainCard {
                value: Value::new(c),
                valid,
            });
            if valid {
                return;
            }
        } else if valid && card_groups(s) {
            // Written in groups, as people write cards: counted anywhere.
            out.push(Meaning::Id {
                class: Class::PaymentCard,
                value: Value::new(c),
                needs_context: false,
            });
            return;
        }
    }
    // One run, or groups (address, birth date, sequence) by spaces or dashes.
    let prc_layout = || {
        s.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ')
            || s.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    if n == 18 && prc_layout() && validate::prc_id(c, today) {
        out.push(Meaning::Id {
            class: Class::PrcId,
            value: Value::new(c),
            needs_context: false,
        });
        return;
    }
    if let Some((v, parenthesised)) = (letters >= 1 && (8..=9).contains(&n))
        .then(|| hkid_layout(s))
        .flatten()
    {
        out.push(Meaning::Id {
            class: Class::HkId,
            value: v,
            needs_context: !parenthesised,
        });
        return;
    }
    if let Some(v) = (letters == 0 && n == 8).then(|| macau_layout(s)).flatten() {
        out.push(Meaning::Id {
            class: Class::MacauId,
            value: v,
            needs_context: true,
        });
        return;
    }
    if tight
        && (1..=2).contains(&letters)
        && (9..=11).contains(&n)
        && s.iter().all(u8::is_ascii_alphanumeric)
    {
        let rest = c.get(1..).unwrap_or(&[]);
        let passport = match c.first() {
            Some(b'G') => rest.len() == 8 && digits_only(rest),
            Some(b'E') => {
                rest.len() == 8
                    && rest
                        .first()
                        .is_some_and(|b| b.is_ascii_alphanumeric() && !matches!(b, b'I' | b'O'))
                    && digits_only(rest.get(1..).unwrap_or(&[]))
            }
            _ => false,
        };
        if passport {
            out.push(Meaning::Id {
                class: Class::Passport,
                value: Value::new(c),
                needs_context: true,
            });
            return;
        }
        // Home Return Permits (H, M), and the mainland's permits to visit
        // Hong Kong and Macau (往來港澳通行證, C and eight digits).
        let permit = match c.first() {
            Some(b'H' | b'M') => matches!(rest.len(), 8 | 10),
            Some(b'C') => rest.len() == 8,
            _ => false,
        };
        if permit && digits_only(rest) {
            out.push(Meaning::Id {
                class: Class::TravelPermit,
                value: Value::new(c),
                needs_context: true,
            });
            return;
        }
    }
    if tight && n <= 11 {
        support_shapes(s, out);
        if !out.is_empty() {
            return;
        }
    }
    // Hong Kong bank accounts: 3-3-n.
    if tight && letters == 0 && has(s, b'-') {
        let mut parts = s.split(|&b| b == b'-');
        if let (Some(a), Some(b), Some(rest), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            if a.len() == 3 && b.len() == 3 && (6..=9).contains(&rest.len()) && digits_only(c) {
                out.push(Meaning::Id {
                    class: Class::BankAccount,
                    value: Value::new(c),
                    needs_context: false,
                });
                return;
            }
        }
    }
    if letters == 0 && (8..=16).contains(&n) {
        phone(s, out);
    }
    // Account numbers by context: one token (digits, maybe dashed). Spaced
    // groups would swallow lists of phone numbers.
    if tight
        && digits_only(c)
        && (8..=20).contains(&n)
        && (digits_only(s) || grouped_digits(s))
        && !(digits_only(s) && epoch_like(c))
        && !dashed_date(s)
        && !year_range(s)
    {
        out.push(Meaning::Id {
            class: Class::BankAccount,
            value: Value::new(c),
            needs_context: true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_layouts() {
        for ok in [
            "61234567",
            "6123 4567",
            "6123-4567",
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "138 12345678",
        ] {
            assert!(phone_groups(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "6",
            "6123 ",
            " 6123",
            "6123  4567",
            "6123 -4567",
            "138 1234-5678",
            "2026-11-20",
            "20 26 11 20",
            "12 34 56 78",
            "6123/4567",
            "6123.4567",
            "1 2 3 4",
            "61234 567",
        ] {
            assert!(!phone_groups(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn year_ranges_and_dates() {
        for y in ["2005-2008", "1999-2026", "2012-2012"] {
            assert!(year_range(y.as_bytes()), "{y}");
        }
        for n in [
            "2008-2005",
            "2812-3456",
            "6123-4567",
            "2005 2008",
            "2005-20081",
        ] {
            assert!(!year_range(n.as_bytes()), "{n}");
        }
        for d in ["2026-11-20", "20-11-2026", "1990-01-31"] {
            assert!(dashed_date(d.as_bytes()), "{d}");
        }
        for n in [
            "2026-13-20",
            "2026-11-32",
            "2026-00-10",
            "012-345-678901",
            "1234-5678-9012",
            "2026-11",
        ] {
            assert!(!dashed_date(n.as_bytes()), "{n}");
        }
        for d in ["20030614", "19991231", "20260101"] {
            assert!(compact_date(d.as_bytes()), "{d}");
        }
        // Hong Kong lines and Macau's 28 numbers that are no dates.
        for n in ["20301234", "28123456", "21001301", "2003061", "200306140"] {
            assert!(!compact_date(n.as_bytes()), "{n}");
        }
    }
}
