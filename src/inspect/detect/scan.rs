//! `TextScan`: the per-body streaming state behind `TextSink`. Text is appended
//! to one buffer (so nothing is ever split across calls), a SIMD pass marks
//! candidate starts, and every start is handled in document order with a fixed
//! lookahead; only `LOOK` bytes wait for the next call.
//!
//! Positions are global offsets in the stream (boundaries count one byte), so
//! context windows and de-duplication do not depend on how text was chunked.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use super::ident::{self, Meaning, Readings, MAX_CHAIN, MAX_TOKEN};
use super::keywords::{bit, is_cjk_lead, load8, MAX_TERM};
use super::tally::At;
use super::Detectors;
use crate::inspect::{Class, Findings, TextSink};

/// Bytes handled per append, so the buffer stays small whatever a caller passes.
const SLICE: usize = 32 * 1024;
/// Lookahead a start may need: a term (64), a token of 48 full-width
/// characters (144), an e-mail domain (128).
const LOOK: usize = 192;
/// History kept before the first unscanned byte: an e-mail local part (64) and
/// a token's letters before its first digit.
const BACK: usize = 96;
const COMPACT_AT: usize = 128 * 1024;
const MAX_PENDING: usize = 1024;
const RING: usize = 4;
const MAX_EMAIL_DOMAIN: usize = 128;
const _: () = assert!(LOOK > MAX_TERM + 2 && LOOK > MAX_TOKEN * 3 && LOOK > MAX_EMAIL_DOMAIN + 2);

/// A candidate token: ASCII-folded, letters upper-cased, separators kept.
#[derive(Clone, Copy)]
struct Tok {
    start: u64,
    end: u64,
    norm: [u8; MAX_TOKEN],
    len: u8,
    alnum: u8,
}

/// Tokens longer than this stand alone: no chained reading uses them.
const CHAIN_PIECE: u8 = 8;
/// Longest chained reading, in alphanumerics (an IBAN).
const CHAIN_ALNUM: usize = 34;

impl Tok {
    fn text(&self) -> &[u8] {
        self.norm.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// A candidate that needs a keyword nearby that has not been seen (yet).
#[derive(Clone, Copy)]
struct Pending {
    start: u64,
    end: u64,
    readings: Readings,
}

const FIELD_CACHE: usize = 32;

struct FieldMatch {
    name: Vec<u8>,
    mask: u16,
    terms: Vec<u16>,
}

/// An overlong or half-read token whose end is still ahead.
#[derive(Clone, Copy)]
struct Resume {
    at: u64,
    prev: u8,
}

struct State {
    det: Arc<Detectors>,
    base: u64,
    next: u64,
    skip_tok: u64,
    skip_kw: u64,
    resume: Option<Resume>,
    chain: Vec<Tok>,
    pending: VecDeque<Pending>,
    /// Recent keyword positions per class (`u64::MAX` = none).
    hits: [[u64; RING]; Class::ALL.len()],
    hit_next: [u8; Class::ALL.len()],
    field_mask: u16,
    field_terms: Vec<u16>,
    field_waiting: bool,
    /// Field names seen and what they matched: a CSV repeats its headers for
    /// every cell. Bounded; replaced round-robin.
    field_cache: Vec<FieldMatch>,
    field_cache_next: usize,
    joined: Vec<u8>,
    tally: super::tally::Tally,
}

/// Per-body scanning state. Reuse it with `reset`; buffers keep their capacity.
pub struct TextScan {
    buf: Vec<u8>,
    st: State,
}

impl fmt::Debug for TextScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the buffer: it holds body text.
        f.debug_struct("TextScan")
            .field("offset", &(self.st.base + self.buf.len() as u64))
            .field("pending", &self.st.pending.len())
            .field("tally", &self.st.tally)
            .finish_non_exhaustive()
    }
}

/// ASCII equivalent of the character at `i` (full-width folded) and its width;
/// width 0 = the character is cut off by the end of the buffer. Non-ASCII
/// characters without an equivalent give 0xFF.
#[inline]
fn fold_at(buf: &[u8], i: usize) -> (u8, usize) {
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

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_mask(w: &[u8; 17]) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, and both unaligned loads read
    // 16 bytes inside the 17-byte array.
    unsafe {
        let prev = _mm_loadu_si128(w.as_ptr().cast::<__m128i>());
        let cur = _mm_loadu_si128(w.as_ptr().add(1).cast::<__m128i>());
        let letter = |v: __m128i| {
            let t = _mm_sub_epi8(
                _mm_or_si128(v, _mm_set1_epi8(0x20)),
                _mm_set1_epi8(b'a' as i8),
            );
            _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(25)), t)
        };
        let digit = |v: __m128i| {
            let t = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t)
        };
        let (pl, pd, cl, cd) = (letter(prev), digit(prev), letter(cur), digit(cur));
        let word = _mm_andnot_si128(_mm_or_si128(pl, pd), cl);
        let digit_start = _mm_andnot_si128(pd, cd);
        let high = _mm_cmpeq_epi8(_mm_max_epu8(cur, _mm_set1_epi8(0xE0u8 as i8)), cur);
        let at = _mm_cmpeq_epi8(cur, _mm_set1_epi8(b'@' as i8));
        let m = _mm_or_si128(_mm_or_si128(word, digit_start), _mm_or_si128(high, at));
        _mm_movemask_epi8(m) as u32
    }
}

#[inline(always)]
fn interesting(prev: u8, b: u8) -> bool {
    (b.is_ascii_alphabetic() && !prev.is_ascii_alphanumeric())
        || (b.is_ascii_digit() && !prev.is_ascii_digit())
        || b >= 0xE0
        || b == b'@'
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn block_mask(w: &[u8; 17]) -> u32 {
    let mut m = 0u32;
    for (k, pair) in w.windows(2).enumerate() {
        if let [p, b] = pair {
            if interesting(*p, *b) {
                m |= 1 << k;
            }
        }
    }
    m
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_email_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

impl TextScan {
    pub fn new(det: Arc<Detectors>) -> TextScan {
        let mut t = TextScan {
            buf: Vec::with_capacity(COMPACT_AT + SLICE + LOOK),
            st: State {
                det,
                base: 0,
                next: 0,
                skip_tok: 0,
                skip_kw: 0,
                resume: None,
                chain: Vec::with_capacity(MAX_CHAIN),
                pending: VecDeque::new(),
                hits: [[u64::MAX; RING]; Class::ALL.len()],
                hit_next: [0; Class::ALL.len()],
                field_mask: 0,
                field_terms: Vec::new(),
                field_waiting: false,
                field_cache: Vec::new(),
                field_cache_next: 0,
                joined: Vec::with_capacity(MAX_CHAIN * (MAX_TOKEN + 1)),
                tally: super::tally::Tally::new(),
            },
        };
        t.reset();
        t
    }

    /// Forget the last body; keep the allocations.
    pub fn reset(&mut self) {
        self.buf.clear();
        // One byte of history so the first real byte has a "previous" byte.
        self.buf.push(b'\n');
        let st = &mut self.st;
        st.base = 0;
        st.next = 1;
        st.skip_tok = 0;
        st.skip_kw = 0;
        st.resume = None;
        st.chain.clear();
        st.pending.clear();
        st.hits = [[u64::MAX; RING]; Class::ALL.len()];
        st.hit_next = [0; Class::ALL.len()];
        st.field_mask = 0;
        st.field_terms.clear();
        st.field_waiting = false;
        st.field_cache.clear();
        st.field_cache_next = 0;
        st.tally.reset();
    }

    /// Ends the body: fills counts and masked samples. Call `reset` before reuse.
    pub fn finish_into(&mut self, f: &mut Findings) {
        self.end_value();
        self.st.pending.clear();
        let lim = self.st.det.limits();
        self.st.tally.finish_into(f, &lim);
    }

    /// Scans everything buffered, classifies the open chain, and inserts a
    /// one-byte separator so no match spans the end of a value.
    fn end_value(&mut self) {
        self.scan(true);
        self.st.flush_chain(&self.buf);
        self.buf.push(b'\n');
        self.st.next = self.st.base + self.buf.len() as u64;
        self.compact();
    }

    fn compact(&mut self) {
        if self.buf.len() < COMPACT_AT {
            return;
        }
        let unscanned = (self.st.next - self.st.base) as usize;
        let keep_from = unscanned.saturating_sub(BACK);
        self.buf.drain(..keep_from);
        self.st.base += keep_from as u64;
    }

    /// Handles every start before `len - LOOK` (all of them when `last`).
    fn scan(&mut self, last: bool) {
        let len = self.buf.len();
        let from = (self.st.next - self.st.base) as usize;
        let to = if last { len } else { len.saturating_sub(LOOK) };
        if to <= from {
            return;
        }
        let buf = &self.buf[..];
        let st = &mut self.st;
        if let Some(r) = st.resume.take() {
            let at = (r.at - st.base) as usize;
            st.finish_overlong(buf, at, r.prev, last);
        }
        let mut i = from;
        while i < to && i + 16 < len {
            let Some(window) = buf
                .get(i - 1..i + 16)
                .and_then(|w| <&[u8; 17]>::try_from(w).ok())
            else {
                break;
            };
            let mut m = block_mask(window);
            if to - i < 16 {
                m &= (1u32 << (to - i)) - 1;
            }
            while m != 0 {
                let j = i + m.trailing_zeros() as usize;
                m &= m - 1;
                st.start(buf, j, last);
            }
            i += 16;
        }
        while i < to {
            let prev = buf.get(i - 1).copied().unwrap_or(b'\n');
            let b = buf.get(i).copied().unwrap_or(0);
            if interesting(prev, b) {
                st.start(buf, i, last);
            }
            i += 1;
        }
        st.next = st.base + to as u64;
        if !last {
            self.compact();
        }
    }
}

impl State {
    #[inline(always)]
    fn start(&mut self, buf: &[u8], j: usize, last: bool) {
        let g = self.base + j as u64;
        let b = buf.get(j).copied().unwrap_or(0);
        if b.is_ascii_digit() {
            if g >= self.skip_tok {
                self.token(buf, j, last);
            }
        } else if b.is_ascii_alphabetic() {
            if g >= self.skip_kw {
                let w = load8(buf, j);
                if let Some(slot) = self.det.dict.ascii_slot(w) {
                    if let Some((id, len)) = self.det.dict.verify_ascii(slot, buf, j) {
                        self.keyword(id, g, len);
                    }
                }
            }
        } else if b == b'@' {
            if g >= self.skip_tok {
                self.email(buf, j);
            }
        } else if is_cjk_lead(b) {
            if b == 0xEF && g >= self.skip_tok && fold_at(buf, j).0.is_ascii_digit() {
                self.token(buf, j, last);
            } else if g >= self.skip_kw {
                let w = load8(buf, j);
                if let Some(slot) = self.det.dict.cjk_slot(w) {
                    if let Some((id, len)) = self.det.dict.verify_cjk(slot, buf, j) {
                        self.keyword(id, g, len);
                    }
                }
            }
        }
    }

    fn keyword(&mut self, id: u16, g: u64, len: usize) {
        self.skip_kw = g + len as u64;
        let roles = self.det.dict.roles(id);
        let lim = self.det.limits();
        if roles.health > 0 {
            self.tally.term(
                Class::Health,
                id,
                roles.health,
                At::Text(g),
                &self.det.dict,
                &lim,
            );
        }
        if roles.fin > 0 {
            self.tally.term(
                Class::FinancialRecord,
                id,
                roles.fin,
                At::Text(g),
                &self.det.dict,
                &lim,
            );
        }
        let mut bits = roles.context;
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let (Some(ring), Some(n)) = (self.hits.get_mut(c), self.hit_next.get_mut(c)) {
                if let Some(slot) = ring.get_mut(usize::from(*n) % RING) {
                    *slot = g;
                }
                *n = n.wrapping_add(1);
            }
        }
        if roles.context != 0 && !self.pending.is_empty() {
            self.resolve_pending(roles.context, g);
        }
    }

    fn resolve_pending(&mut self, bits: u16, g: u64) {
        let w = self.det.window;
        while self.pending.front().is_some_and(|p| p.end + w < g) {
            self.pending.pop_front();
        }
        let mut accepted: Vec<Meaning> = Vec::new();
        self.pending.retain(|p| {
            if g + w < p.start {
                return true;
            }
            let hit = p.readings.iter().find(|m| match m {
                Meaning::Id { class, .. } | Meaning::Support(class) => bit(*class) & bits != 0,
            });
            match hit {
                Some(m) => {
                    accepted.push(*m);
                    false
                }
                None => true,
            }
        });
        for m in accepted {
            self.accept(m);
        }
    }

    fn accept(&mut self, m: Meaning) {
        let lim = self.det.limits();
        match m {
            Meaning::Id { class, value, .. } => {
                self.tally.identifier(class, value.as_bytes(), &lim)
            }
            Meaning::Support(class) => self.tally.support(class),
        }
    }

    fn context_near(&self, class: Class, start: u64, end: u64) -> bool {
        if self.field_mask & bit(class) != 0 {
            return true;
        }
        let w = self.det.window;
        self.hits.get(class as usize).is_some_and(|ring| {
            ring.iter()
                .any(|&q| q != u64::MAX && q + w >= start && q <= end + w)
        })
    }

    fn handle(&mut self, readings: Readings, start: u64, end: u64) {
        let mut needs = false;
        for m in readings.iter() {
            let ok = match m {
                Meaning::Id {
                    needs_context: false,
                    ..
                } => true,
                Meaning::Id { class, .. } | Meaning::Support(class) => {
                    needs = true;
                    self.context_near(*class, start, end)
                }
            };
            if ok {
                self.accept(*m);
                return;
            }
        }
        if needs {
            if self.pending.len() >= MAX_PENDING {
                self.pending.pop_front();
            }
            self.pending.push_back(Pending {
                start,
                end,
                readings,
            });
        }
    }

    /// Classifies the longest readable prefix of the chain (or drops its first token).
    fn classify_front(&mut self) {
        let Some(first) = self.chain.first() else {
            return;
        };
        // Only short pieces combine, and never past the longest chained id.
        let mut j_max = 1;
        let mut total = usize::from(first.alnum);
        if first.alnum <= CHAIN_PIECE {
            for t in self.chain.iter().skip(1) {
                total += usize::from(t.alnum);
                if t.alnum > CHAIN_PIECE || total > CHAIN_ALNUM {
                    break;
                }
                j_max += 1;
            }
        }
        for j in (1..=j_max).rev() {
            self.joined.clear();
            for (k, t) in self.chain.iter().take(j).enumerate() {
                if k > 0 {
                    self.joined.push(b' ');
                }
                self.joined.extend_from_slice(t.text());
            }
            let readings = ident::classify(&self.joined, self.det.today, &self.det.custom);
            if !readings.is_empty() {
                let (start, end) = match (self.chain.first(), self.chain.get(j - 1)) {
                    (Some(a), Some(b)) => (a.start, b.end),
                    _ => return,
                };
                self.chain.drain(..j);
                self.handle(readings, start, end);
                return;
            }
        }
        self.chain.remove(0);
    }

    fn flush_chain(&mut self, _buf: &[u8]) {
        while !self.chain.is_empty() {
            self.classify_front();
        }
    }

    fn push_token(&mut self, buf: &[u8], tok: Tok) {
        if let Some(last) = self.chain.last() {
            let gap = buf
                .get(
                    (last.end.saturating_sub(self.base)) as usize
                        ..(tok.start.saturating_sub(self.base)) as usize,
                )
                .unwrap_or(&[]);
            let single_space =
                last.end >= self.base && matches!(gap, b" " | b"\xC2\xA0" | b"\xE3\x80\x80");
            if !single_space {
                self.flush_chain(buf);
            }
        }
        let alone = tok.alnum > CHAIN_PIECE;
        if alone {
            self.flush_chain(buf);
        }
        self.chain.push(tok);
        if alone || self.chain.len() >= MAX_CHAIN {
            self.classify_front();
        }
    }

    /// A token whose first digit is at `j`: back over its letters (and a
    /// leading `+` / `(`), then forward over alphanumerics and inner separators.
    fn token(&mut self, buf: &[u8], j: usize, last: bool) {
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
        let mut glued = letters > 4
            || before.is_ascii_alphanumeric()
            || matches!(
                before,
                b'_' | b'@' | b'.' | b'#' | b'$' | b'%' | b'&' | b'=' | b'\\' | b'-'
            );
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
            self.flush_chain(buf);
            return;
        }
        self.skip_tok = self.base + stop as u64;
        let (after, _) = fold_at(buf, stop);
        glued |= matches!(after, b'@' | b'_');
        if glued || walk.overlong || walk.n == 0 {
            self.flush_chain(buf);
            return;
        }
        let mut tok = Tok {
            start: self.base + s as u64,
            end: self.base + stop as u64,
            norm: walk.norm,
            len: walk.n as u8,
            alnum: 0,
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
            self.flush_chain(buf);
            return;
        }
        tok.alnum = alnum.min(usize::from(u8::MAX)) as u8;
        if let Some(end) = grouped_iban(buf, tok.text(), stop) {
            self.flush_chain(buf);
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
        self.push_token(buf, tok);
    }

    fn finish_overlong(&mut self, buf: &[u8], at: usize, prev: u8, last: bool) {
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

    fn email(&mut self, buf: &[u8], j: usize) {
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
        if !tld_ok
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
        // Fast path: a run of ASCII alphanumerics.
        while let Some(&b) = buf.get(i) {
            if !b.is_ascii_alphanumeric() {
                break;
            }
            let c = b.to_ascii_uppercase();
            walk.alnum += 1;
            walk.letters += usize::from(c.is_ascii_uppercase());
            walk.push(c);
            prev = c;
            i += 1;
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
            b'-' | b'/' | b'.' => prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric(),
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

impl TextSink for TextScan {
    fn field(&mut self, name: &[u8]) {
        self.end_value();
        let det = Arc::clone(&self.st.det);
        let st = &mut self.st;
        let slot = match st.field_cache.iter().position(|f| f.name == name) {
            Some(k) => k,
            None => {
                let mut m = FieldMatch {
                    name: name.to_vec(),
                    mask: 0,
                    terms: Vec::new(),
                };
                det.dict.find_all(name, |id| {
                    let roles = det.dict.roles(id);
                    m.mask |= roles.context;
                    if (roles.health > 0 || roles.fin > 0) && m.terms.len() < 8 {
                        m.terms.push(id);
                    }
                });
                if st.field_cache.len() < FIELD_CACHE {
                    st.field_cache.push(m);
                    st.field_cache.len() - 1
                } else {
                    let k = st.field_cache_next % FIELD_CACHE;
                    st.field_cache_next = st.field_cache_next.wrapping_add(1);
                    if let Some(old) = st.field_cache.get_mut(k) {
                        *old = m;
                    }
                    k
                }
            }
        };
        st.field_terms.clear();
        st.field_mask = 0;
        if let Some(f) = st.field_cache.get(slot) {
            st.field_mask = f.mask;
            st.field_terms.extend_from_slice(&f.terms);
        }
        st.field_waiting = !st.field_terms.is_empty();
    }

    fn text(&mut self, bytes: &[u8]) {
        for piece in bytes.chunks(SLICE) {
            if self.st.field_waiting && piece.iter().any(|b| !b.is_ascii_whitespace()) {
                // A value under a column or key named by a term is one piece of evidence.
                self.st.field_waiting = false;
                let lim = self.st.det.limits();
                let det = Arc::clone(&self.st.det);
                for &id in &self.st.field_terms {
                    let roles = det.dict.roles(id);
                    if roles.health > 0 {
                        self.st.tally.term(
                            Class::Health,
                            id,
                            roles.health,
                            At::Field,
                            &det.dict,
                            &lim,
                        );
                    }
                    if roles.fin > 0 {
                        self.st.tally.term(
                            Class::FinancialRecord,
                            id,
                            roles.fin,
                            At::Field,
                            &det.dict,
                            &lim,
                        );
                    }
                }
            }
            self.buf.extend_from_slice(piece);
            let unscanned = self.st.base + self.buf.len() as u64 - self.st.next;
            if unscanned as usize >= LOOK + 1024 {
                self.scan(false);
            }
        }
    }

    fn boundary(&mut self) {
        self.end_value();
        self.st.field_mask = 0;
        self.st.field_terms.clear();
        self.st.field_waiting = false;
    }
}
