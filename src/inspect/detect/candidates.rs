//! Candidate tokens: what a digit (or `@`) in the text starts. Walks a token
//! (ASCII and full-width folded, inner separators kept), chains tokens split by
//! single spaces (`+853 6123 4567`), reads e-mail addresses, and hands readings
//! to `scan`'s context logic. The streaming buffer and the SIMD pass are `scan`'s.

use super::ident::{self, MAX_CHAIN, MAX_TOKEN};
use super::keywords::bit;
use super::scan::State;
use crate::inspect::Class;

pub(super) const MAX_EMAIL_DOMAIN: usize = 128;

/// A candidate token: ASCII-folded, letters upper-cased, separators kept.
#[derive(Clone, Copy)]
pub(super) struct Tok {
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) norm: [u8; MAX_TOKEN],
    pub(super) len: u8,
    pub(super) alnum: u8,
    /// False for a token shaped like an ICD-10 code that is not written as
    /// one (`State::icd_written`): it supports no health evidence.
    pub(super) icd: bool,
    /// The identifier a label names this token as, where its shape alone
    /// says too little (`State::named_id`).
    pub(super) named: Option<Class>,
}

/// Tokens longer than this stand alone: no chained reading uses them.
const CHAIN_PIECE: u8 = 8;
/// Longest chained reading, in alphanumerics (an IBAN).
const CHAIN_ALNUM: usize = 34;
/// Most bytes between an account term and a number it names (`帳號 ： `).
const ACCOUNT_GAP: u64 = 8;
/// Most bytes between a health term and a bare ICD-10 code it labels.
const ICD_GAP: u64 = 8;
/// Most bytes between a document's term and a number it labels
/// (`BIR number: `, `Passport No.: `).
const LABEL_GAP: u64 = 12;
/// Most bytes of markup between a term and its value beyond those gaps
/// (`</td>\n  <td class="value">`): tags do not count towards them.
const MARKUP_GAP: u64 = 48;

/// What may stand between a term and its value: spaces, punctuation and a
/// word for "number" (`帳號：`, `BIR n.º `, `account no. `), a line break, the
/// break between two values (a form's label and its answer in two cells, a
/// `name` and a `value` in DingTalk's approval JSON), and markup (an HTML
/// page's `</td><td>`, whose tags the scan reads with the text). The bytes
/// outside tags, or `None` when anything else stands there.
fn label_gap(gap: &[u8]) -> Option<usize> {
    let mut rest = gap;
    let mut bytes = 0;
    while let Some((&b, tail)) = rest.split_first() {
        let before = rest.len();
        if b == b'<' {
            let close = rest.iter().position(|&c| c == b'>')?;
            rest = rest.get(close + 1..).unwrap_or(&[]);
            continue;
        }
        rest = if b.is_ascii_whitespace() || b.is_ascii_punctuation() {
            tail
        } else if let Some(t) = rest
            .strip_prefix("：".as_bytes())
            .or_else(|| rest.strip_prefix("　".as_bytes()))
            .or_else(|| rest.strip_prefix("\u{a0}".as_bytes()))
            .or_else(|| rest.strip_prefix("º".as_bytes()))
            .or_else(|| rest.strip_prefix("°".as_bytes()))
        {
            t
        } else {
            number_word(rest)?
        };
        bytes += before - rest.len();
    }
    Some(bytes)
}

/// Chinese words for "number" after a term (`身份證明文件編號`, `護照號：`),
/// the longer first.
const CJK_NUMBER_WORDS: [&str; 6] = ["編號", "编号", "號碼", "号码", "號", "号"];

/// `rest` after a leading `no`, `n` or `number` (any case) that no letter
/// or digit follows, or after a Chinese word for "number".
fn number_word(rest: &[u8]) -> Option<&[u8]> {
    if let Some(t) = CJK_NUMBER_WORDS
        .iter()
        .find_map(|w| rest.strip_prefix(w.as_bytes()))
    {
        return Some(t);
    }
    let n = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let w = rest.get(..n)?;
    let is_number = [&b"n"[..], b"no", b"number"]
        .iter()
        .any(|x| w.eq_ignore_ascii_case(x));
    let next = rest.get(n).copied();
    (is_number && !next.is_some_and(|b| b.is_ascii_digit())).then(|| rest.get(n..).unwrap_or(&[]))
}

/// Longest number read after a country code (a mainland mobile is 11 digits).
const CODE_NUMBER: u8 = 11;

impl Tok {
    /// The token `text` (letters upper-cased, as the walk normalises them)
    /// at global offset `start`, with `alnum` letters and digits.
    fn new(start: u64, text: &[u8], alnum: usize) -> Tok {
        let mut tok = Tok {
            start,
            end: start + text.len() as u64,
            norm: [0; MAX_TOKEN],
            len: text.len().min(MAX_TOKEN) as u8,
            alnum: alnum as u8,
            icd: true,
            named: None,
        };
        for (d, s) in tok.norm.iter_mut().zip(text) {
            *d = s.to_ascii_uppercase();
        }
        tok
    }

    /// A group of digits only, as rows of figures are made of.
    fn is_digits(&self) -> bool {
        self.text().iter().all(u8::is_ascii_digit)
    }

    pub(super) fn text(&self) -> &[u8] {
        self.norm.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// An overlong or half-read token whose end is still ahead.
#[derive(Clone, Copy)]
pub(super) struct Resume {
    pub(super) at: u64,
    pub(super) prev: u8,
}

/// ASCII equivalent of the character at `i` (full-width folded) and its width;
/// width 0 = the character is cut off by the end of the buffer. Non-ASCII
/// characters without an equivalent give 0xFF.
#[inline]
pub(super) fn fold_at(buf: &[u8], i: usize) -> (u8, usize) {
    let Some(&b) = buf.get(i) else {
        return (0, 0);
    };
    match b {
        0..=0x7F => (b, 1),
        0xC2 => match buf.get(i + 1) {
            None => (0, 0),
            Some(0xA0) => (b' ', 2),
            Some(_) => (0xFF, 2),
        },
        0xE3 | 0xEF => match (buf.get(i + 1), buf.get(i + 2)) {
            (Some(&b1), Some(&b2)) => {
                let c = match (b, b1, b2) {
                    (0xE3, 0x80, 0x80) => b' ',
                    (0xEF, 0xBC, 0x90..=0x99) => b'0' + (b2 - 0x90),
                    (0xEF, 0xBC, 0xA1..=0xBA) => b'A' + (b2 - 0xA1),
                    (0xEF, 0xBD, 0x81..=0x9A) => b'a' + (b2 - 0x81),
                    (0xEF, 0xBC, 0x88) => b'(',
                    (0xEF, 0xBC, 0x89) => b')',
                    (0xEF, 0xBC, 0x8B) => b'+',
                    (0xEF, 0xBC, 0x8D) => b'-',
                    (0xEF, 0xBC, 0x8E) => b'.',
                    (0xEF, 0xBC, 0x8F) => b'/',
                    (0xEF, 0xBC, 0x9C) => b'<',
                    (0xEF, 0xBC, 0xA0) => b'@',
                    _ => 0xFF,
                };
                (c, 3)
            }
            _ => (0, 0),
        },
        0xC3..=0xDF => (0xFF, 2),
        0xE0..=0xEF => (0xFF, 3),
        0xF0..=0xF4 => (0xFF, 4),
        _ => (0xFF, 1),
    }
}

/// Width of the character ending just before `i`, if it folds to ASCII.
#[inline]
fn fold_before(buf: &[u8], i: usize) -> (u8, usize) {
    // A full-width character ends in a continuation byte; ASCII needs no folding.
    if let Some(&b) = i.checked_sub(1).and_then(|j| buf.get(j)) {
        if b < 0x80 {
            return (b, 1);
        }
    }
    if i >= 3 {
        if let (c, 3) = fold_at(buf, i - 3) {
            if c != 0xFF {
                return (c, 3);
            }
        }
    }
    match i.checked_sub(1).and_then(|j| buf.get(j)) {
        Some(&b) if b < 0x80 => (b, 1),
        _ => (0xFF, 1),
    }
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_email_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

impl State {
    /// Classifies the longest readable prefix of the chain (or drops its first token).
    fn classify_front(&mut self) {
        let Some(first) = self.chain.first() else {
            return;
        };
        if let Some(class) = first.named {
            let lim = self.det.limits();
            self.tally.identifier(class, first.text(), &lim);
            self.drop_front(1);
            return;
        }
        // Only short pieces combine, and never past the longest chained id.
        let mut j_max = 1;
        let mut total = usize::from(first.alnum);
        if first.alnum <= CHAIN_PIECE {
            let code = ident::country_code(first.text());
            for (k, t) in self.chain.iter().enumerate().skip(1) {
                total += usize::from(t.alnum);
                let piece = t.alnum <= CHAIN_PIECE || code && k == 1 && t.alnum <= CODE_NUMBER;
                if !piece || total > CHAIN_ALNUM {
                    break;
                }
                j_max += 1;
                if t.alnum > CHAIN_PIECE {
                    break;
                }
            }
        }
        if j_max == 1 {
            // One token alone: classify it in place. Most are short numbers
            // (times, counts, dates) that no reading can use.
            let text = first.text();
            let (start, end) = (first.start, first.end);
            let lead = text.first().copied().unwrap_or(0);
            let hopeless = self.det.custom.is_empty()
                && first.alnum < 7
                && !lead.is_ascii_uppercase()
                && !ident::has(text, b'.');
            let mut readings = ident::Readings::default();
            if !hopeless {
                ident::classify(text, self.det.today, &self.det.custom, &mut readings);
                if !first.icd {
                    readings.retain(|m| *m != ident::Meaning::Support(Class::Health));
                }
            }
            self.drop_front(1);
            if !readings.is_empty() {
                self.handle(&readings, start, end);
            }
            return;
        }
        let mut spaced = None;
        for j in (1..=j_max).rev() {
            self.joined.clear();
            for (k, t) in self.chain.iter().take(j).enumerate() {
                if k > 0 {
                    self.joined.push(b' ');
                }
                self.joined.extend_from_slice(t.text());
            }
            let mut readings = ident::Readings::default();
            ident::classify(
                &self.joined,
                self.det.today,
                &self.det.custom,
                &mut readings,
            );
            let (start, end) = match (self.chain.first(), self.chain.get(j - 1)) {
                (Some(a), Some(b)) => (a.start, b.end),
                _ => return,
            };
            // Groups of four cut from a longer row of figures (`quanta 2650
            // 1514 1514 1514 1514 …`, a table's numbers) are no card: one is
            // printed whole, with at most one group of digits beside it
            // (`… 1111 2028`, the expiry year).
            let card = |m: &ident::Meaning| {
                matches!(
                    m,
                    ident::Meaning::Id {
                        class: Class::PaymentCard,
                        ..
                    }
                )
            };
            if readings.iter().any(card) {
                let after = self.chain.iter().skip(j).take_while(|t| t.is_digits());
                if usize::from(self.groups_before) + after.count() >= 2 {
                    readings.retain(|m| !card(m));
                }
            }
            if !readings.is_empty() {
                self.drop_front(j);
                self.handle(&readings, start, end);
                return;
            }
            let Some(v) = ident::spaced_account(&self.joined) else {
                continue;
            };
            if self.context_near(Class::BankAccount, start, end) {
                self.drop_front(j);
                let lim = self.det.limits();
                self.tally
                    .identifier(Class::BankAccount, v.as_bytes(), &lim);
                return;
            }
            if spaced.is_none() && start >= self.spaced_until {
                spaced = Some((v, start, end));
            }
        }
        // Nothing the front of the chain starts reads as anything, and no
        // account term is near yet: one may follow (`9012 3456 7890 is my
        // account`). The tokens go on to be read as before, so a phone
        // among them stays a phone; the run waits once, not once per token
        // it still holds.
        if let Some((v, start, end)) = spaced {
            self.spaced_until = end;
            self.handle(&ident::Readings::account(v), start, end);
        }
        self.drop_front(1);
    }

    /// Takes the first `n` tokens off the chain, counting the groups of
    /// digits the new front follows in its run.
    #[inline]
    fn drop_front(&mut self, n: usize) {
        if n >= self.chain.len() {
            // The run ends with the chain (`make_room` empties it first).
            self.chain.clear();
            self.groups_before = 0;
            return;
        }
        let gone = self.chain.get(..n).unwrap_or(&[]);
        let trailing = gone.iter().rev().take_while(|t| t.is_digits()).count();
        self.groups_before = if trailing == n {
            self.groups_before.saturating_add(n as u8)
        } else {
            trailing as u8
        };
        self.chain.drain(..n);
    }

    #[inline]
    pub(super) fn flush_chain(&mut self) {
        while !self.chain.is_empty() {
            self.classify_front();
        }
    }

    fn push_token(&mut self, buf: &[u8], tok: Tok) {
        let alone = self.make_room(buf, tok.start, tok.alnum);
        self.chain.push(tok);
        self.pushed(alone);
    }

    /// `push_token` for a plain run of `n` ASCII digits at `j`, built in place
    /// (a token is 70 bytes: copying one around was most of this path). A
    /// short run that can join no chain is dropped here, as `classify_front`
    /// would drop it: `room 12 at 3pm`, `about 20 minutes`, `12:30`.
    fn push_digits(&mut self, buf: &[u8], j: usize, n: usize) {
        let start = self.base + j as u64;
        let alnum = n as u8;
        let alone = self.make_room(buf, start, alnum);
        if self.chain.is_empty()
            && n < 7
            && self.det.custom.is_empty()
            && !may_chain_after(buf, j + n)
        {
            return;
        }
        self.chain.push(Tok {
            start,
            end: start + n as u64,
            norm: [0; MAX_TOKEN],
            len: alnum,
            alnum,
            icd: true,
            named: if n == 8 {
                self.named_id(buf, j, buf.get(j..j + n).unwrap_or(&[]))
            } else {
                None
            },
        });
        if let (Some(t), Some(src)) = (self.chain.last_mut(), buf.get(j..j + n)) {
            if let Some(dst) = t.norm.get_mut(..n) {
                dst.copy_from_slice(src);
            }
        }
        self.pushed(alone);
    }

    /// Before a token starting at `start` joins the chain: the chain ends
    /// unless only a single space separates them, or if the token is long
    /// enough to stand alone (returned).
    fn make_room(&mut self, buf: &[u8], start: u64, alnum: u8) -> bool {
        if let Some(last) = self.chain.last() {
            let gap = buf
                .get(
                    (last.end.saturating_sub(self.base)) as usize
                        ..(start.saturating_sub(self.base)) as usize,
                )
                .unwrap_or(&[]);
            let single_space =
                last.end >= self.base && matches!(gap, b" " | b"\xC2\xA0" | b"\xE3\x80\x80");
            if !single_space {
                self.flush_chain();
            }
        }
        let alone = alnum > CHAIN_PIECE;
        // `+86 13800138000`: a country code is read with the whole number after it.
        let after_code = alnum <= CODE_NUMBER
            && matches!(self.chain.as_slice(), [code] if ident::country_code(code.text()));
        if alone && !after_code {
            self.flush_chain();
        }
        alone
    }

    fn pushed(&mut self, alone: bool) {
        if alone {
            self.flush_chain();
        } else if self.chain.len() >= MAX_CHAIN {
            self.classify_front();
        }
    }

    /// A token whose first digit is at `j`: back over its letters (and a
    /// leading `+` / `(`), then forward over alphanumerics and inner separators.
    pub(super) fn token(&mut self, buf: &[u8], j: usize, last: bool) {
        if let Some(n) = plain_number(buf, j, last).filter(|_| self.shortcuts) {
            self.skip_tok = self.base + (j + n) as u64;
            let digits = buf.get(j..j + n).unwrap_or(&[]);
            if n > usize::from(CHAIN_PIECE)
                && self.det.custom.is_empty()
                && ident::epoch_like(digits)
            {
                // A Unix time (every JSON message has one) stands alone and
                // reads as nothing: it only ends the chain.
                self.flush_chain();
                self.epoch_account(buf, j, digits);
                return;
            }
            self.push_digits(buf, j, n);
            return;
        }
        // Only a token with nothing glued before it can be read directly.
        let clean = j
            .checked_sub(1)
            .and_then(|k| buf.get(k))
            .is_some_and(|&b| clean_before(b));
        if self.shortcuts && clean && self.separated(buf, j, last) {
            return;
        }
        if self.shortcuts && clean && self.det.custom.is_empty() && self.short_word(buf, j) {
            return;
        }
        if self.shortcuts && self.det.custom.is_empty() && self.hopeless_word(buf, j, last) {
            return;
        }
        let floor = self.skip_tok.saturating_sub(self.base) as usize;
        let mut s = j;
        let mut letters = 0;
        while s > floor.max(1) && letters <= 4 {
            let (c, w) = fold_before(buf, s);
            if c.is_ascii_alphabetic() && s >= w {
                s -= w;
                letters += 1;
            } else {
                break;
            }
        }
        for want in [b'+', b'('] {
            let (c, w) = fold_before(buf, s);
            if c == want && s > floor.max(1) && s >= w {
                s -= w;
            }
        }
        let (before, _) = fold_before(buf, s);
        let mut glued = letters > 4 || before.is_ascii_alphanumeric() || glues_before(before);
        let mut walk = Walk::new();
        let (stop, prev, complete) = extend(buf, s, 0, &mut walk, last);
        if !complete {
            // The token runs past the data we have: it is longer than any
            // identifier. Swallow the rest of it when more text arrives.
            self.skip_tok = u64::MAX;
            self.resume = Some(Resume {
                at: self.base + stop as u64,
                prev,
            });
            self.flush_chain();
            return;
        }
        self.skip_tok = self.base + stop as u64;
        let (after, _) = fold_at(buf, stop);
        glued |= after == b'@';
        if glued || walk.overlong || walk.n == 0 {
            self.flush_chain();
            return;
        }
        let mut tok = Tok {
            start: self.base + s as u64,
            end: self.base + stop as u64,
            norm: walk.norm,
            len: walk.n as u8,
            alnum: 0,
            icd: true,
            named: None,
        };
        let (alnum, letters) = (walk.alnum, walk.letters);
        let text = tok.text();
        let iban_head = text.iter().take(2).all(u8::is_ascii_uppercase)
            && text
                .get(2..4)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let has_lt = ident::has(text, b'<');
        if !ident::plausible(
            alnum,
            letters,
            iban_head,
            has_lt,
            !self.det.custom.is_empty(),
        ) {
            self.flush_chain();
            return;
        }
        tok.alnum = alnum.min(usize::from(u8::MAX)) as u8;
        if self.det.custom.is_empty()
            && tok.text().iter().all(u8::is_ascii_digit)
            && ident::epoch_like(tok.text())
        {
            self.flush_chain();
            self.epoch_account(buf, s, tok.text());
            return;
        }
        if let Some(end) = grouped_iban(buf, tok.text(), stop) {
            self.flush_chain();
            self.skip_tok = self.base + end as u64;
            let mut v = [0u8; 34];
            let mut k = 0;
            for &b in buf
                .get(s..end)
                .unwrap_or(&[])
                .iter()
                .filter(|b| b.is_ascii_alphanumeric())
            {
                if let Some(slot) = v.get_mut(k) {
                    *slot = b.to_ascii_uppercase();
                    k += 1;
                }
            }
            let lim = self.det.limits();
            self.tally
                .identifier(Class::Iban, v.get(..k).unwrap_or(&[]), &lim);
            return;
        }
        if let Some(decimal) = ident::icd_shape(tok.text()) {
            tok.icd = self.icd_written(buf, s, stop, decimal);
        }
        tok.named = self.named_id(buf, s, tok.text());
        self.push_token(buf, tok);
    }

    /// What the token `text` at `j` is where a label names it: right after
    /// a term for the document (`BIR: 12345678`, `Passport No.: K12345678`)
    /// or under a field named by one (a column headed 身份證編號). Two shapes
    /// are read only so:
    /// - eight plain digits from 1, 5, 7 or 8, a Macau identity number with
    ///   its check digit not set apart (no public check digit exists);
    /// - one or two letters and six to nine digits, another country's
    ///   passport (Hong Kong's K12345678, Portugal's).
    ///
    /// A few words from such a term, these shapes are as often a phone, a
    /// staff number or a booking reference.
    #[inline(never)]
    fn named_id(&self, buf: &[u8], j: usize, text: &[u8]) -> Option<Class> {
        let labelled = |class: Class| {
            let named = self.field_mask & bit(class) != 0
                || self.right_after(buf, j, self.term_end(class), LABEL_GAP);
            named.then_some(class)
        };
        let letters = text.iter().take_while(|b| b.is_ascii_uppercase()).count();
        let digits = text.get(letters..).unwrap_or(&[]);
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        match (letters, digits.len()) {
            (0, 8) if matches!(digits.first(), Some(b'1' | b'5' | b'7' | b'8')) => {
                labelled(Class::MacauId)
            }
            (1..=2, 6..=9) => labelled(Class::Passport),
            _ => None,
        }
    }

    /// Whether the ICD-10-shaped token at `s..stop` is written as a code:
    /// in capitals (`x86`, `v12.3` are not), not glued to a name (`X86_64`),
    /// and, without a subcategory (`E11`, not `E11.9`), labelled: right
    /// after a health term (`Diagnosis: E11`, `診斷：E11`) or under a field
    /// named by one. Three characters are a room, a gate, a bus route or a
    /// mask (`N95`) as often as a diagnosis: near a clinic, a bare `B12`
    /// alone made a health record.
    fn icd_written(&self, buf: &[u8], s: usize, stop: usize, decimal: bool) -> bool {
        let raw = buf.get(s..stop).unwrap_or(&[]);
        if raw.iter().any(u8::is_ascii_lowercase) || buf.get(stop) == Some(&b'_') {
            return false;
        }
        if decimal || self.field_mask & bit(Class::Health) != 0 {
            return true;
        }
        self.right_after(buf, s, self.term_end(Class::Health), ICD_GAP)
    }

    /// Whether position `j` comes right after a term that ended at global
    /// offset `term_end`: at most `gap` bytes later, with nothing but spaces
    /// and punctuation between (`帳號：1234567890`, `Diagnosis: E11`). In a
    /// value of its own, the term must be that value's label (`label_end`),
    /// and a label with no field (a header row's last cell) names no value
    /// under one (the first cell below it).
    fn right_after(&self, buf: &[u8], j: usize, term_end: u64, gap: u64) -> bool {
        let g = self.base + j as u64;
        term_end <= g
            && g - term_end <= gap + MARKUP_GAP
            && term_end >= self.base
            && (self.value_start() <= term_end
                || term_end == self.label_end && (self.label_field || !self.value_has_field()))
            && buf
                .get((term_end - self.base) as usize..j)
                .and_then(label_gap)
                .is_some_and(|n| n as u64 <= gap)
    }

    /// `3pm`, `2nd`, `10am`: fewer than seven letters and digits from a digit
    /// at `j` (after a clean byte), at most three of them letters, then a
    /// clean end. What the walk makes of it, without walking: a plausible
    /// token that no reading uses alone (`classify_front` drops it), so it
    /// is dropped unless a single space joins it to the chain before it or
    /// the one after. Out of line: the common tokens never get here.
    #[inline(never)]
    fn short_word(&mut self, buf: &[u8], j: usize) -> bool {
        let rest = buf.get(j..).unwrap_or(&[]);
        let (run, letters) = alnum_run(rest);
        if run >= 7 || !(1..=3).contains(&letters) {
            return false;
        }
        // The end of the buffer: the walk knows whether more text follows.
        match rest.get(run) {
            Some(&b) if clean_after(b) => {}
            _ => return false,
        }
        if may_chain_after(buf, j + run) {
            return false;
        }
        let start = self.base + j as u64;
        self.skip_tok = start + run as u64;
        self.make_room(buf, start, run as u8);
        if self.chain.is_empty() {
            return true;
        }
        // Joined to the chain before it by a single space: queued as the
        // walk queues it.
        self.chain
            .push(Tok::new(start, rest.get(..run).unwrap_or(&[]), run));
        self.pushed(false);
        true
    }

    /// A run of digits shaped like a Unix time (`digits`, at `j`) is read as an
    /// account number only where nothing else can be meant: under a field
    /// named for accounts, or straight after an account term with nothing
    /// but punctuation between (`account no. 1234567890`, `帳號：1234567890`).
    /// A term a few words back is not enough: API payloads put timestamps
    /// beside everything.
    #[inline(never)]
    fn epoch_account(&mut self, buf: &[u8], j: usize, digits: &[u8]) {
        let named = self.field_mask & bit(Class::BankAccount) != 0;
        if named || self.right_after(buf, j, self.term_end(Class::BankAccount), ACCOUNT_GAP) {
            let lim = self.det.limits();
            self.tally.identifier(Class::BankAccount, digits, &lim);
        }
    }

    /// `12345.67`, `2026-11-20`, `20/11/2026` (amounts fill spreadsheets,
    /// dates every message): the token the walk would read, built directly.
    /// Out of line: the common tokens never get here.
    #[inline(never)]
    fn separated(&mut self, buf: &[u8], j: usize, last: bool) -> bool {
        let Some((n, digits)) = plain_separated(buf, j, last) else {
            return false;
        };
        self.skip_tok = self.base + (j + n) as u64;
        let start = self.base + j as u64;
        let tok = Tok::new(start, buf.get(j..j + n).unwrap_or(&[]), digits);
        let alone = self.make_room(buf, start, tok.alnum);
        // A date (every other chat message has one) reads as nothing alone:
        // where no token can join it, it is not queued to be read so.
        if self.chain.is_empty()
            && self.det.custom.is_empty()
            && ident::plain_date(tok.text())
            && !may_chain_after(buf, j + n)
        {
            return true;
        }
        self.chain.push(tok);
        self.pushed(alone);
        true
    }

    /// Hex ids, `user123`, `v2beta3`: an alphanumeric run with more letters
    /// than any reading allows (or glued to a word), ending at a delimiter.
    /// Concludes what the general walk would (no token; the chain ends; the run
    /// is skipped) without walking it. False when unsure: the walk decides.
    #[inline]
    fn hopeless_word(&mut self, buf: &[u8], j: usize, last: bool) -> bool {
        let floor = self.skip_tok.saturating_sub(self.base) as usize;
        let mut s = j;
        let mut letters = 0;
        while s > floor.max(1) && letters <= 4 {
            match buf.get(s - 1) {
                Some(b) if b.is_ascii_alphabetic() => {
                    s -= 1;
                    letters += 1;
                }
                _ => break,
            }
        }
        // Where `token` would step over `+`/`(` or fold a full-width letter, or
        // may not walk back at all, let it.
        let before = buf.get(s.wrapping_sub(1)).copied().unwrap_or(0xFF);
        if before >= 0x80 || matches!(before, b'+' | b'(') || s <= floor.max(1) && letters > 0 {
            return false;
        }
        let (run, run_letters) = alnum_run(buf.get(j..).unwrap_or(&[]));
        let e = j + run;
        // The end of the last data is an end too (the end of a value). An `@`
        // after the run glues it to an address (`chan2024@`), and the walk
        // would stop there too.
        let mut glued_after = false;
        match buf.get(e) {
            Some(&b) if clean_after(b) => {}
            Some(b'@') => glued_after = true,
            None if last => {}
            _ => return false,
        }
        let Some(word) = buf.get(s..e) else {
            return false;
        };
        let total = letters + run_letters;
        let glued =
            glued_after || letters > 4 || before.is_ascii_alphanumeric() || glues_before(before);
        let iban_head = word.iter().take(2).all(u8::is_ascii_alphabetic)
            && word
                .get(2..4)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if !glued && (total <= 3 || iban_head) {
            return false;
        }
        self.skip_tok = self.base + e as u64;
        self.flush_chain();
        true
    }

    pub(super) fn finish_overlong(&mut self, buf: &[u8], at: usize, prev: u8, last: bool) {
        let mut walk = Walk::new();
        walk.n = MAX_TOKEN;
        walk.overlong = true;
        let (stop, prev, complete) = extend(buf, at, prev, &mut walk, last);
        if complete {
            self.skip_tok = self.base + stop as u64;
        } else {
            self.resume = Some(Resume {
                at: self.base + stop as u64,
                prev,
            });
        }
    }

    pub(super) fn email(&mut self, buf: &[u8], j: usize) {
        let mut k = j;
        while k > 1 && j - k <= 64 && buf.get(k - 1).copied().is_some_and(is_email_local) {
            k -= 1;
        }
        while buf.get(k) == Some(&b'.') && k < j {
            k += 1;
        }
        let local = j - k;
        if local == 0 || local > 64 {
            return;
        }
        let mut d = j + 1;
        while d - j <= MAX_EMAIL_DOMAIN && buf.get(d).copied().is_some_and(is_email_domain) {
            d += 1;
        }
        if d - j > MAX_EMAIL_DOMAIN {
            self.skip_tok = self.base + d as u64;
            return;
        }
        let mut end = d;
        while end > j + 1 && matches!(buf.get(end - 1), Some(b'.' | b'-')) {
            end -= 1;
        }
        self.skip_tok = self.base + d as u64;
        let Some(domain) = buf.get(j + 1..end) else {
            return;
        };
        let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
            return;
        };
        let tld = domain.get(dot + 1..).unwrap_or(&[]);
        let tld_ok = tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic);
        let file_like = [
            b"png".as_slice(),
            b"jpg",
            b"jpeg",
            b"gif",
            b"svg",
            b"webp",
            b"css",
            b"js",
        ]
        .iter()
        .any(|ext| tld.eq_ignore_ascii_case(ext));
        // `git@github.com:org/repo.git`: an scp-style remote (user@host:path)
        // names a host account, not a person's mailbox.
        let remote = buf.get(end) == Some(&b':')
            && buf
                .get(end + 1)
                .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'~' | b'.'));
        // Random bytes scanned raw spell an address now and then; one there
        // is bordered by no text, or its top-level domain cased as none is.
        if !tld_ok
            || !super::scan::cased_as_words_are(tld)
            || !super::scan::bordered_by_text(buf, k, end)
            || remote
            || file_like
            || domain.first() == Some(&b'.')
            || domain.windows(2).any(|w| w == b"..")
        {
            return;
        }
        let mut value = [0u8; 64 + 1 + MAX_EMAIL_DOMAIN];
        let Some(src) = buf.get(k..end) else {
            return;
        };
        let Some(dst) = value.get_mut(..src.len()) else {
            return;
        };
        for (d, s) in dst.iter_mut().zip(src) {
            *d = s.to_ascii_lowercase();
        }
        let lim = self.det.limits();
        self.tally.identifier(Class::Email, dst, &lim);
    }
}

/// Bytes before a digit that `token` neither walks back over (letters, `+`,
/// `(`) nor treats as gluing the token to a word (`@`, `.`, `-` …). An `_`
/// separates: file names join their words with it (`陳大文_A123456(3).pdf`).
/// Non-ASCII bytes may fold to full-width letters: not these.
#[inline(always)]
fn clean_before(b: u8) -> bool {
    b.is_ascii() && !b.is_ascii_alphanumeric() && !glues_before(b) && !matches!(b, b'+' | b'(')
}

/// Bytes that make the token after them part of a longer word: an address,
/// a variable, a path, a decimal (`x@a1234567`, `$A1234567`, `v.12345678`).
#[inline(always)]
fn glues_before(b: u8) -> bool {
    matches!(
        b,
        b'@' | b'.' | b'#' | b'$' | b'%' | b'&' | b'=' | b'\\' | b'-'
    )
}

/// Bytes after an alphanumeric run that end the token there: not a separator
/// a token may contain, not a byte that glues it (`@`), not non-ASCII.
#[inline(always)]
fn clean_after(b: u8) -> bool {
    b.is_ascii()
        && !b.is_ascii_alphanumeric()
        && !matches!(b, b'(' | b')' | b'-' | b'/' | b'.' | b'<' | b'+' | b'@')
}

/// Whether a token may follow the one ending before `e` with a single space
/// between, and so join its chain (`6123 4567`): the space, then what may
/// start a token. False only when sure: a letter run there is followed by no
/// digit (`12 at 3pm`: `at`), or no space. The end of the buffer is the end
/// of the text (`plain_number` has checked that, as `ends_clean`).
fn may_chain_after(buf: &[u8], e: usize) -> bool {
    match buf.get(e) {
        Some(b' ') => {}
        // A no-break or ideographic space, which `make_room` joins by too.
        Some(0xC2 | 0xE3) => return true,
        _ => return false,
    }
    let p = e + 1;
    let Some(&b) = buf.get(p) else {
        return true;
    };
    if !b.is_ascii_alphabetic() {
        // A digit, `+` or `(` before one, or a byte that may fold to a
        // full-width digit or letter.
        return !b.is_ascii() || b.is_ascii_digit() || matches!(b, b'+' | b'(');
    }
    // Letters start a token only walked back from a digit right after them.
    let tail = buf.get(p..).unwrap_or(&[]);
    let k = tail
        .iter()
        .take(16)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    tail.get(k)
        .is_none_or(|&c| !c.is_ascii() || c.is_ascii_digit())
}

/// Whether `.` at `dot` starts a file's extension (`A1234563.jpg`,
/// `+853 6612 3456.pdf`): a name people give the scan of an ID card or a
/// form, whose content (an image) says nothing readable. The token ends
/// before it, as it would before a space.
fn file_extension(buf: &[u8], dot: usize) -> bool {
    const EXTENSIONS: &[&[u8]] = &[
        b"pdf", b"jpg", b"jpeg", b"png", b"gif", b"bmp", b"tif", b"tiff", b"heic", b"heif",
        b"webp", b"doc", b"docx", b"xls", b"xlsx", b"xlsm", b"ppt", b"pptx", b"txt", b"csv",
        b"rtf", b"odt", b"ods", b"zip", b"7z", b"rar", b"msg", b"eml", b"mp4", b"mov",
    ];
    let Some(rest) = buf.get(dot + 1..) else {
        return false;
    };
    let n = rest
        .iter()
        .take(6)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let ends = rest.get(n).is_none_or(|b| !b.is_ascii_alphanumeric());
    ends && rest
        .get(..n)
        .is_some_and(|ext| EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// Length of the digit run `s` starts with, when it ends within `most + 1`
/// bytes; the end of the last data may end it.
#[inline(always)]
fn digit_run(s: &[u8], most: usize, last: bool) -> Option<usize> {
    let n = digit_prefix(s, most + 1);
    if n < s.len() && n <= most {
        Some(n)
    } else {
        (last && s.len() <= most).then_some(s.len())
    }
}

/// How many ASCII digits `s` starts with, counting no further than `cap`;
/// 16 bytes per step (a Unix time in every chat message, read one byte at a
/// time, was a quarter of the token path).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn digit_prefix(s: &[u8], cap: usize) -> usize {
    use std::arch::x86_64::*;
    let mut n = 0;
    while n < cap {
        let Some(block) = s.get(n..n + 16) else {
            break;
        };
        // SAFETY: SSE2 is part of the x86_64 baseline, and the unaligned load
        // reads exactly the 16 bytes of `block`.
        let digits = unsafe {
            let d = _mm_sub_epi8(
                _mm_loadu_si128(block.as_ptr().cast::<__m128i>()),
                _mm_set1_epi8(b'0' as i8),
            );
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)) as u32
        };
        if digits != 0xFFFF {
            return (n + (!digits).trailing_zeros() as usize).min(cap);
        }
        n += 16;
    }
    n.min(cap) + digit_prefix_bytes(s.get(n..).unwrap_or(&[]), cap.saturating_sub(n))
}

/// `digit_prefix` with NEON (every aarch64).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn digit_prefix(s: &[u8], cap: usize) -> usize {
    use crate::inspect::neon::{digit, load_at, movemask};
    let mut n = 0;
    while n < cap {
        let Some(v) = load_at(s, n) else {
            break;
        };
        let digits = movemask(digit(v));
        if digits != 0xFFFF {
            return (n + (!digits).trailing_zeros() as usize).min(cap);
        }
        n += 16;
    }
    n.min(cap) + digit_prefix_bytes(s.get(n..).unwrap_or(&[]), cap.saturating_sub(n))
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn digit_prefix(s: &[u8], cap: usize) -> usize {
    digit_prefix_bytes(s, cap)
}

/// `digit_prefix` a byte at a time: the short tail, and other machines.
#[inline(always)]
fn digit_prefix_bytes(s: &[u8], cap: usize) -> usize {
    s.iter()
        .take(cap)
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Whether a token of `s` ends cleanly at `n` (the end of the last data is
/// the end of a value).
#[inline(always)]
fn ends_clean(s: &[u8], n: usize, last: bool) -> bool {
    match s.get(n) {
        Some(&b) => clean_after(b),
        None => last,
    }
}

/// The common token, a run of ASCII digits between clean ends
/// (`"ts":1764384000000,`, `room 12 at`, `6123 4567`), read without the general
/// walk: its length, when the token is exactly the run, as `token` would find
/// it (chaining is `push_digits`'). `None` for anything else: longer runs (no
/// reading) and an end not yet in the buffer take the general path.
#[inline(always)]
fn plain_number(buf: &[u8], j: usize, last: bool) -> Option<usize> {
    if !clean_before(*buf.get(j.checked_sub(1)?)?) {
        return None;
    }
    let rest = buf.get(j..)?;
    let n = digit_run(rest, CHAIN_ALNUM, last)?;
    (n <= CHAIN_ALNUM && ends_clean(rest, n, last)).then_some(n)
}

/// Digit groups joined by single `.`, `-` or `/` between clean ends
/// (`12345.67`, `2026-11-20`, `20/11/2026`): its length and digit count,
/// when the walk would read exactly it as one token (short enough, not too
/// many digits for any reading to keep). `None` for anything else.
#[inline]
fn plain_separated(buf: &[u8], j: usize, last: bool) -> Option<(usize, usize)> {
    if !clean_before(*buf.get(j.checked_sub(1)?)?) {
        return None;
    }
    let rest = buf.get(j..)?;
    let mut n = digit_run(rest, MAX_TOKEN, false)?;
    let mut digits = n;
    let mut groups = 1;
    // The walk takes a separator only between alphanumerics, and only once
    // it has seen the byte after it: so a group must follow each one.
    while matches!(rest.get(n), Some(b'.' | b'-' | b'/')) && n < MAX_TOKEN {
        let tail = rest.get(n + 1..)?;
        let group = digit_run(tail, MAX_TOKEN, last)?;
        if group == 0 {
            return None;
        }
        n += 1 + group;
        digits += group;
        groups += 1;
    }
    let short = groups > 1 && n <= MAX_TOKEN && digits <= CHAIN_ALNUM;
    (short && ends_clean(rest, n, last)).then_some((n, digits))
}

/// An IBAN printed in groups of four whose groups may be all letters (`GB82
/// WEST 1234 …`): such groups are not tokens, so read them here. `first` is the
/// first group's token, ending at `stop`. Returns the end of the longest valid IBAN.
fn grouped_iban(buf: &[u8], first: &[u8], stop: usize) -> Option<usize> {
    let head_ok = first.len() == 4
        && first.iter().take(2).all(u8::is_ascii_uppercase)
        && first.iter().skip(2).all(u8::is_ascii_digit);
    if !head_ok {
        return None;
    }
    let mut acc = [0u8; 34];
    acc.get_mut(..4)?.copy_from_slice(first);
    let mut n = 4;
    let mut i = stop;
    let mut best = None;
    while n < 34 && buf.get(i) == Some(&b' ') {
        let group = buf
            .get(i + 1..)?
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if !(1..=4).contains(&group) || n + group > 34 {
            break;
        }
        for k in 0..group {
            *acc.get_mut(n + k)? = buf.get(i + 1 + k)?.to_ascii_uppercase();
        }
        n += group;
        i += 1 + group;
        if super::validate::iban(acc.get(..n)?) {
            best = Some(i);
        }
        if group < 4 {
            break;
        }
    }
    best
}

/// What `extend` accumulates: the normalised token and its counts.
struct Walk {
    norm: [u8; MAX_TOKEN],
    n: usize,
    overlong: bool,
    alnum: usize,
    letters: usize,
}

impl Walk {
    fn new() -> Walk {
        Walk {
            norm: [0; MAX_TOKEN],
            n: 0,
            overlong: false,
            alnum: 0,
            letters: 0,
        }
    }

    /// Appends a run of ASCII alphanumerics (upper-cased) with `letters`
    /// letters in it, as `push` would one by one.
    #[inline(always)]
    fn extend_alnum(&mut self, src: &[u8], letters: usize) {
        self.alnum += src.len();
        self.letters += letters;
        let room = MAX_TOKEN - self.n;
        let take = src.len().min(room);
        if let (Some(dst), Some(src)) = (self.norm.get_mut(self.n..self.n + take), src.get(..take))
        {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = s.to_ascii_uppercase();
            }
        }
        self.n += take;
        if take < src.len() {
            self.overlong = true;
        }
    }

    #[inline(always)]
    fn push(&mut self, c: u8) {
        if let Some(slot) = self.norm.get_mut(self.n) {
            *slot = c;
            self.n += 1;
        } else {
            self.overlong = true;
        }
    }
}

/// Length of the run of ASCII alphanumerics that `s` starts with, and how many
/// of them are letters; 16 bytes per step (hex ids and timestamps are most of
/// the tokens in API traffic).
#[cfg(target_arch = "x86_64")]
#[inline]
fn alnum_run(s: &[u8]) -> (usize, usize) {
    use std::arch::x86_64::*;
    let mut n = 0;
    let mut letters = 0;
    while let Some(block) = s.get(n..n + 16) {
        // SAFETY: SSE2 is part of the x86_64 baseline, and the unaligned load
        // reads exactly the 16 bytes of `block`.
        let (alnum, alpha) = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let l = _mm_sub_epi8(
                _mm_or_si128(v, _mm_set1_epi8(0x20)),
                _mm_set1_epi8(b'a' as i8),
            );
            let letter = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(25)), l);
            let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            let digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
            (
                _mm_movemask_epi8(_mm_or_si128(letter, digit)) as u32,
                _mm_movemask_epi8(letter) as u32,
            )
        };
        if alnum != 0xFFFF {
            let k = (!alnum).trailing_zeros();
            let inside = (1u32 << k) - 1;
            return (
                n + k as usize,
                letters + (alpha & inside).count_ones() as usize,
            );
        }
        n += 16;
        letters += alpha.count_ones() as usize;
    }
    let (k, alpha) = alnum_run_bytes(s.get(n..).unwrap_or(&[]));
    (n + k, letters + alpha)
}

/// `alnum_run` with NEON (every aarch64).
#[cfg(target_arch = "aarch64")]
#[inline]
fn alnum_run(s: &[u8]) -> (usize, usize) {
    use crate::inspect::neon::{digit, letter, load_at, movemask, or};
    let mut n = 0;
    let mut letters = 0;
    while let Some(v) = load_at(s, n) {
        let alpha = letter(v);
        let (alnum, alpha) = (movemask(or(alpha, digit(v))), movemask(alpha));
        if alnum != 0xFFFF {
            let k = (!alnum).trailing_zeros();
            let inside = (1u32 << k) - 1;
            return (
                n + k as usize,
                letters + (alpha & inside).count_ones() as usize,
            );
        }
        n += 16;
        letters += alpha.count_ones() as usize;
    }
    let (k, alpha) = alnum_run_bytes(s.get(n..).unwrap_or(&[]));
    (n + k, letters + alpha)
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
fn alnum_run(s: &[u8]) -> (usize, usize) {
    alnum_run_bytes(s)
}

/// `alnum_run` a byte at a time: the short tail, and machines with neither
/// SSE2 nor NEON.
fn alnum_run_bytes(s: &[u8]) -> (usize, usize) {
    let k = s
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(s.len());
    let alpha = s
        .get(..k)
        .unwrap_or(&[])
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .count();
    (k, alpha)
}

/// Walks a token forward from `i`. Returns where it stopped, the last accepted
/// character, and whether the stop is final (false: the data ran out first).
fn extend(
    buf: &[u8],
    mut i: usize,
    mut prev: u8,
    walk: &mut Walk,
    last: bool,
) -> (usize, u8, bool) {
    loop {
        // Fast path: a run of ASCII alphanumerics, measured first and then
        // copied in one go (a per-byte push was most of the token path).
        let rest = buf.get(i..).unwrap_or(&[]);
        let (run, letters) = alnum_run(rest);
        if let Some(src) = rest.get(..run) {
            walk.extend_alnum(src, letters);
            prev = src.last().map_or(prev, u8::to_ascii_uppercase);
            i += run;
        }
        let (c, w) = fold_at(buf, i);
        if w == 0 {
            return (i, prev, last);
        }
        let (next, nw) = fold_at(buf, i + w);
        let next_known = nw > 0 || last;
        let accept = match c {
            b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => true,
            b'(' | b'-' | b'/' | b'.' | b'<' | b'+' if !next_known => return (i, prev, false),
            b'(' => next.is_ascii_alphanumeric() || next == b'+',
            b'+' => (prev == 0 || prev == b'(') && next.is_ascii_digit(),
            b')' => prev.is_ascii_alphanumeric(),
            b'.' => {
                prev.is_ascii_alphanumeric()
                    && next.is_ascii_alphanumeric()
                    && !file_extension(buf, i)
            }
            b'-' | b'/' => prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric(),
            b'<' => {
                (prev.is_ascii_alphanumeric() || prev == b'<')
                    && (next.is_ascii_alphanumeric() || next == b'<')
            }
            _ => false,
        };
        if !accept {
            return (i, prev, true);
        }
        let c = c.to_ascii_uppercase();
        if c.is_ascii_alphanumeric() {
            walk.alnum += 1;
            walk.letters += usize::from(c.is_ascii_uppercase());
        }
        walk.push(c);
        prev = c;
        i += w;
    }
}

#[cfg(test)]
mod tests {
    use super::{alnum_run, digit_run, label_gap};

    #[test]
    fn what_may_stand_between_a_term_and_its_value() {
        for ok in [
            "",
            "：",
            " : ",
            " n.º ",
            " nº ",
            " N° ",
            " No. ",
            " number: ",
            " #",
            ":\n",
            "\r\n\t",
        ] {
            assert!(label_gap(ok.as_bytes()).is_some(), "{ok:?}");
        }
        for bad in [" of ", " no1", " note ", " n.º 5 ", " ID ", " numbers "] {
            assert_eq!(label_gap(bad.as_bytes()), None, "{bad:?}");
        }
        // Tags stand between too, and do not count.
        assert_eq!(label_gap(b"</td>\n  <td class=\"v\">"), Some(3));
        assert_eq!(label_gap(b": <b>"), Some(2));
        assert_eq!(label_gap(b" <b"), None, "a tag left open");
    }

    #[test]
    fn digit_run_agrees_with_the_byte_loop() {
        // The definition it replaced: the first non-digit among `most + 1` bytes.
        let byte_loop = |s: &[u8], most: usize, last: bool| {
            s.iter()
                .take(most + 1)
                .position(|b| !b.is_ascii_digit())
                .or((last && s.len() <= most).then_some(s.len()))
        };
        let text = b"1764384000997,\"x\":12 3pm 0123456789012345678901234567890123456789/:`x";
        for a in 0..text.len() {
            for b in a..=text.len() {
                for most in [0, 1, 8, 15, 16, 17, 34, 48] {
                    for last in [false, true] {
                        let s = &text[a..b];
                        assert_eq!(
                            digit_run(s, most, last),
                            byte_loop(s, most, last),
                            "{a}..{b} most {most} last {last}"
                        );
                    }
                }
            }
        }
        for k in 0..=255u8 {
            let mut s = vec![b'4'; 40];
            s[usize::from(k) % 40] = k;
            for most in [12, 16, 33, 34, 40] {
                assert_eq!(
                    digit_run(&s, most, false),
                    byte_loop(&s, most, false),
                    "byte {k}"
                );
            }
        }
    }

    #[test]
    fn alnum_run_agrees_with_the_byte_loop() {
        let byte_loop = |s: &[u8]| {
            let k = s
                .iter()
                .position(|c| !c.is_ascii_alphanumeric())
                .unwrap_or(s.len());
            (k, s[..k].iter().filter(|c| c.is_ascii_alphabetic()).count())
        };
        let text = b"cid0a3f9b2c7d1e4f55AZaz09 x@Y`{/:[0123456789abcdefABCDEF0123456789xyz";
        for a in 0..text.len() {
            for b in a..=text.len() {
                let s = &text[a..b];
                assert_eq!(alnum_run(s), byte_loop(s), "{a}..{b}");
            }
        }
        let all: Vec<u8> = (0..=255u8).collect();
        for k in 0..all.len() {
            let mut s = vec![b'7'; 40];
            s[k % 40] = all[k];
            s[(k * 7) % 40] = b'q';
            assert_eq!(alnum_run(&s), byte_loop(&s), "byte {k}");
        }
    }
}
