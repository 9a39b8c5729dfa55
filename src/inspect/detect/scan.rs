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

use super::candidates::{fold_at, Resume, Tok, MAX_EMAIL_DOMAIN};
use super::ident::{Meaning, Readings, MAX_CHAIN, MAX_TOKEN};
use super::keywords::{bit, is_cjk_lead, load8, MAX_TERM};
use super::table;
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
const _: () = assert!(LOOK > MAX_TERM + 2 && LOOK > MAX_TOKEN * 3 && LOOK > MAX_EMAIL_DOMAIN + 2);

/// A candidate that needs a keyword nearby that has not been seen (yet).
#[derive(Clone, Copy)]
struct Pending {
    start: u64,
    end: u64,
    readings: Readings,
}

const FIELD_CACHE: usize = 32;
/// Most bytes before a term in a value that is its label (`* `, `新`).
const LABEL_LEAD: u64 = 3;
/// Terms a field name contributes as evidence (the cache keeps at most this many).
const FIELD_TERMS: usize = 8;

/// What a field name gives the values under it: context classes, and the
/// terms that count once as evidence for each value that is not blank.
#[derive(Clone, Copy, Default)]
struct Ctx {
    mask: u16,
    n_terms: u8,
    terms: [u16; FIELD_TERMS],
}

/// Where one value begins and its field's context.
#[derive(Clone, Copy)]
struct Seg {
    start: u64,
    ctx: Ctx,
    /// The value has a non-blank byte: its field's terms count.
    evidence: bool,
    /// The value opened under a field (a column, a key), even one that
    /// names nothing.
    field: bool,
}

impl Seg {
    fn plain(start: u64) -> Seg {
        Seg {
            start,
            ctx: Ctx::default(),
            evidence: false,
            field: false,
        }
    }
}

struct FieldMatch {
    key: NameKey,
    name: Vec<u8>,
    ctx: Ctx,
    /// The name could itself be an identifier or a contact (`name_may_be_data`).
    data: bool,
}

/// Whether a field name has as many digits as the shortest identifier (an
/// HKID's six), or an `@`: a JSON object keyed by ID number, phone or e-mail
/// (`{"A123456(3)": {…}}`), a form or query field named by one. Such a name is
/// read as a value too; other names (`field1`, `v2`) only give context.
fn name_may_be_data(name: &[u8]) -> bool {
    let ascii = name.iter().filter(|b| b.is_ascii_digit()).count();
    let wide = name
        .windows(3)
        .filter(|w| w[0] == 0xEF && w[1] == 0xBC && (0x90..=0x99).contains(&w[2]))
        .count();
    ascii + wide >= 6 || name.contains(&b'@')
}

pub(super) struct State {
    pub(super) det: Arc<Detectors>,
    pub(super) base: u64,
    next: u64,
    pub(super) skip_tok: u64,
    skip_kw: u64,
    pub(super) resume: Option<Resume>,
    pub(super) chain: Vec<Tok>,
    pending: VecDeque<Pending>,
    /// Recent keyword positions per class (`u64::MAX` = none).
    hits: [[u64; RING]; Class::ALL.len()],
    hit_next: [u8; Class::ALL.len()],
    /// The context classes of the value being scanned (from its `Seg`).
    pub(super) field_mask: u16,
    /// Where the last context term of each class ended (`u64::MAX`: none
    /// yet), for what is read only right after one: an account number
    /// shaped like a Unix time, a bare ICD-10 code, a Macau id in plain
    /// digits, another country's passport (`State::term_end`).
    term_ends: [u64; Class::ALL.len()],
    /// Where the last term ended that opened its value (`u64::MAX`: none
    /// yet): a value that is a label (`身份證編號`, `Passport No.`), which
    /// alone names the value after it. A sentence that ends in a term (a
    /// chat message asking for an account number) names nothing after it.
    pub(super) label_end: u64,
    /// Whether that label's value opened under a field. A label with none
    /// (a CSV's or a sheet's header row) names no value under a field (the
    /// first cell below the header): a header's last cell is no label.
    pub(super) label_field: bool,
    /// How many groups of digits the token at the front of the chain
    /// follows in its run (read or passed over before it).
    pub(super) groups_before: u8,
    /// Where the last number grouped by spaces left waiting for an account
    /// term ends: the tokens inside it do not wait again.
    pub(super) spaced_until: u64,
    /// Values buffered but not yet reached by the scan, in order, from
    /// `seg_at` (the one being scanned) on; the ones before it are dropped at
    /// the end of each scan. Values are batched: the scan runs over many at
    /// once, switching context where each begins.
    segs: Vec<Seg>,
    seg_at: usize,
    /// Where the value after the current one begins (`u64::MAX`: none yet):
    /// the one compare every start makes.
    next_seg: u64,
    /// Field names seen and what they matched: a CSV repeats its headers for
    /// every cell, and successive bodies their JSON keys. Bounded; replaced
    /// round-robin; kept across `reset`.
    field_cache: Vec<FieldMatch>,
    field_cache_next: usize,
    /// The entry the last name matched: names come in a fixed order (a CSV's
    /// columns, the keys of each JSON message), so the next name is most often
    /// the entry after it, checked first without hashing.
    field_last: usize,
    /// The Markdown table whose rows the scan is in, if any.
    table: Table,
    pub(super) joined: Vec<u8>,
    pub(super) tally: super::tally::Tally,
    /// The token fast paths (`plain_number`, `hopeless_word`); off only in tests
    /// that check them against the general walk.
    pub(super) shortcuts: bool,
}

/// A Markdown table the scan has read the header of (`State::table_row`).
struct Table {
    /// Each column's context, from its header cell as a CSV's from its header.
    cols: Vec<Ctx>,
    /// Where its next row must start (`u64::MAX`: no table is open).
    next_row: u64,
    /// Where the value the last row left the scan in began: a row in another
    /// value (the next JSON string, the next cell) is not this table's.
    home: u64,
}

impl Table {
    fn closed() -> Table {
        Table {
            cols: Vec::new(),
            next_row: u64::MAX,
            home: 0,
        }
    }
}

/// Per-body scanning state. Reuse it with `reset`; buffers keep their capacity.
pub struct TextScan {
    buf: Vec<u8>,
    st: State,
    /// 64-byte blocks with the word filter (AVX-512 VBMI), else 16-byte blocks.
    /// Only x86_64 has the wide pass; elsewhere this stays false.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    wide: bool,
    /// Whether the next text opens a new value, and under which context.
    opening: Opening,
}

/// What the next text does. A field's context is taken from the cache when
/// the text comes, not copied here: a struct written in `field` and read back
/// at once in `text` stalled on store forwarding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// The current value goes on.
    Continue,
    /// A value with no field (after a plain boundary).
    Plain,
    /// A value under the field `field_last` names in the cache.
    Field,
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
        let row = _mm_and_si128(
            _mm_cmpeq_epi8(cur, _mm_set1_epi8(b'|' as i8)),
            _mm_cmpeq_epi8(prev, _mm_set1_epi8(b'\n' as i8)),
        );
        let m = _mm_or_si128(
            _mm_or_si128(word, digit_start),
            _mm_or_si128(_mm_or_si128(high, at), row),
        );
        _mm_movemask_epi8(m) as u32
    }
}

/// What the block pass marked in a block, bit `k` for position `i + k`.
struct Marks {
    /// Positions to handle.
    starts: u64,
    /// Glued runs dismissed (`glued_runs`): they only end the chain.
    hopeless: u64,
    /// The starts that can start only a token or an e-mail address.
    tokens_only: u64,
    /// Positions the block covers (bits `0..width`): 64, or less where the
    /// block ends early, before a run it cannot see the end of.
    width: usize,
}

/// One 64-byte block's masks, bit `k` for position `i + k`; the `_before`
/// masks describe the byte before each position. (Only the wide pass, on
/// x86_64, makes them; the tests check `glued_runs` everywhere.)
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct GluedBlock {
    letters: u64,
    digits: u64,
    letters_before: u64,
    /// Bytes `hopeless_word` leaves to the general walk when they come before
    /// a run's letters: non-ASCII (it may fold to a full-width letter), `+`, `(`.
    refused_before: u64,
    /// Bytes that do not end a run cleanly: non-ASCII, or a separator a
    /// token may hold (`(`, `)`, `-`, `/`, `.`, `<`, `+`).
    bad_end: u64,
}

/// The block form of `hopeless_word` for the two runs API traffic is full of:
/// a digit straight after four or more letters (`user123`, `conv2024`), and
/// one after three letters with a letter later in the run (`cid0a3f…`).
/// Either holds four letters, more than any reading allows, so the run can be
/// no identifier: the start only ends the chain, which `State::starts` does
/// without reading it. Everything else, and a run this cannot see whole
/// (reaching past the block, or one of several three-letter runs in it), is
/// left to `token`. Bit operations only: a branch per start, taken as the
/// data decides, cost more than the walk it saves.
///
/// The floor `hopeless_word` walks back to (where the last token ended) is
/// not known here: a token never ends inside a run of letters except where
/// the general walk then finds the run glued to the token before it, which
/// dismisses it too.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn glued_runs(glued: u64, b: GluedBlock) -> u64 {
    let lb = b.letters_before;
    let alnum = b.letters | b.digits;
    // Bit k: the bytes at k-1 … k-4 are letters (lanes of `lb` k … k-3).
    let four = lb & lb << 1 & lb << 2 & lb << 3;
    let three = lb & lb << 1 & lb << 2 & !(lb << 3);
    // The walk back stops after five letters and finds the run glued to a
    // word; after exactly four or three, the byte before them must be one
    // it accepts. Lanes whose bytes before lie outside the block are left.
    let four = four & !(!(lb << 4) & b.refused_before << 4) & !0xF;
    let three = three & !(b.refused_before << 3) & !0x7;
    // Only a run's first digit after letters starts a token: the later ones
    // are inside it. Adding the starts to the run's bits clears each run from
    // its first start on (the carry runs up to the byte after the run).
    let from_first = alnum & !alnum.wrapping_add(glued);
    let first = glued & from_first & !(from_first << 1);
    let (four, three) = (first & four, first & three);
    let starts = four | three;
    // The sum holds where each such run ends; a run reaching the top of the
    // block carries out, and is left.
    let ends = alnum.wrapping_add(starts) & !alnum;
    let top = u64::MAX.checked_shl(64 - alnum.leading_ones()).unwrap_or(0);
    // A three-letter run needs a letter after its digit, which only a lone
    // such run can be asked for here.
    let rest = alnum & !alnum.wrapping_add(three);
    let lone = three & three.wrapping_sub(1) == 0;
    let three = three & 0u64.wrapping_sub(u64::from(lone && rest & b.letters != 0));
    let clean = 0u64.wrapping_sub(u64::from(ends & b.bad_end == 0));
    // The digits after letters later in a dismissed run go with it: `token`
    // would have stepped over them.
    let runs = alnum & !alnum.wrapping_add(four | three);
    glued & runs & !top & clean
}

/// The start pass over 64 positions at a time (AVX-512 with VBMI), handling
/// every start before `to` in order; returns where it stopped. As `block_mask`,
/// except that a word start is kept only if the word filter lets it through.
/// The end of a value (most JSON strings and CSV cells are short) goes through
/// the same pass with masked loads: the missing bytes read as zeros, which never
/// start anything, and the filter only ever lets more through.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,lzcnt,bmi1,bmi2")]
fn scan_wide(st: &mut State, buf: &[u8], mut i: usize, to: usize, last: bool) -> usize {
    use std::arch::x86_64::*;
    // SAFETY: each call makes two 64-byte loads inside one 128-byte table.
    let half = |t: &[u8; 128]| unsafe {
        (
            _mm512_loadu_si512(t.as_ptr().cast()),
            _mm512_loadu_si512(t.as_ptr().add(64).cast()),
        )
    };
    let [(t0l, t0h), (t3l, t3h)] = st.det.dict.words.singles.each_ref().map(half);
    let [(p0l, p0h), (p1l, p1h), (p2l, p2h)] = st.det.dict.words.pairs.each_ref().map(half);
    // `hopeless_word` runs only with the shortcuts on and no custom patterns
    // (which may read any run); so may its block form.
    let dismiss_glued = st.shortcuts && st.det.custom.is_empty();
    // SAFETY: one 64-byte load of each 64-byte table.
    let cjk = st
        .det
        .dict
        .words
        .cjk
        .each_ref()
        .map(|t| unsafe { _mm512_loadu_si512(t.as_ptr().cast()) });
    let [c1, c2, c4, c5] = cjk;
    let (q0, q1) = half(&st.det.dict.words.cjk_pair);
    let x20 = _mm512_set1_epi8(0x20);
    let fold = |v: __m512i| _mm512_or_si512(v, x20);
    let letter = |v: __m512i| {
        let t = _mm512_sub_epi8(fold(v), _mm512_set1_epi8(b'a' as i8));
        _mm512_cmple_epu8_mask(t, _mm512_set1_epi8(25))
    };
    // `pair_hash`: (a * 4) ^ b, of which `vpermi2b` reads the low 7 bits.
    let pair = |a: __m512i, b: __m512i| {
        let a2 = _mm512_add_epi8(a, a);
        _mm512_xor_si512(_mm512_add_epi8(a2, a2), b)
    };
    let digit = |v: __m512i| {
        let t = _mm512_sub_epi8(v, _mm512_set1_epi8(b'0' as i8));
        _mm512_cmple_epu8_mask(t, _mm512_set1_epi8(9))
    };
    let len = buf.len();
    let at0 = buf.as_ptr();
    while i < to {
        // From `i - 1` (always inside: `i < to <= len`) on, 64 bytes or what is left.
        let avail = len - (i - 1);
        // The bytes at `i - 1 + o` for `o` in 0..7. Away from the buffer's
        // end (every block but the last few of a body: `scan` stops `LOOK`
        // bytes short of it) the loads are plain; computing seven lane masks
        // per block cost more than the loads.
        let v: [__m512i; 7] = if avail >= 64 + 6 {
            // SAFETY: `avail >= 70`: each load reads 64 bytes inside `buf`.
            std::array::from_fn(|o| unsafe { _mm512_loadu_si512(at0.add(i - 1 + o).cast()) })
        } else {
            std::array::from_fn(|o| {
                let n = avail.saturating_sub(o).min(64);
                let k = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                // SAFETY: the lanes in `k` are bytes inside `buf`; masked-off
                // lanes are not read (AVX-512 masked loads suppress them), so
                // the pointer may point past the end.
                unsafe { _mm512_maskz_loadu_epi8(k, at0.wrapping_add(i - 1 + o).cast()) }
            })
        };
        let [prev, cur, n1, n2, n3, n4, n5] = v;
        let (pd, cd) = (digit(prev), digit(cur));
        let (lp, lc) = (letter(prev), letter(cur));
        let word_starts = lc & !(lp | pd);
        // The word filter only where a word starts: a block of Chinese text
        // (or of digits) has none, and the branch goes the same way block
        // after block in either kind of text.
        let word = if word_starts != 0 {
            let (f0, f1, f2, f3) = (fold(cur), fold(n1), fold(n2), fold(n3));
            let singles = _mm512_and_si512(
                _mm512_permutex2var_epi8(t0l, f0, t0h),
                _mm512_permutex2var_epi8(t3l, f3, t3h),
            );
            let maybe_term = _mm512_test_epi8_mask(
                _mm512_and_si512(singles, _mm512_permutex2var_epi8(p0l, pair(f0, f1), p0h)),
                _mm512_and_si512(
                    _mm512_permutex2var_epi8(p1l, pair(f1, f2), p1h),
                    _mm512_permutex2var_epi8(p2l, pair(f2, f3), p2h),
                ),
            );
            word_starts & maybe_term
        } else {
            0
        };
        // A CJK start is a 3-byte lead with its two continuation bytes: binary
        // data has lead bytes everywhere, and most of them start nothing.
        let cont = |v: __m512i| {
            _mm512_cmpeq_epi8_mask(
                _mm512_and_si512(v, _mm512_set1_epi8(0xC0u8 as i8)),
                _mm512_set1_epi8(0x80u8 as i8),
            )
        };
        let lead = _mm512_cmple_epu8_mask(
            _mm512_sub_epi8(cur, _mm512_set1_epi8(0xE0u8 as i8)),
            _mm512_set1_epi8(0x0F),
        );
        // A character that may start a CJK term (the CJK tables, which look
        // only at the low six bits: `vpermb` ignores the rest, and the pair
        // table, at seven), or a full-width digit, which starts a token.
        let may_term = _mm512_test_epi8_mask(
            _mm512_and_si512(
                _mm512_and_si512(
                    _mm512_permutexvar_epi8(n1, c1),
                    _mm512_permutexvar_epi8(n2, c2),
                ),
                _mm512_permutex2var_epi8(q0, pair(n2, n5), q1),
            ),
            _mm512_and_si512(
                _mm512_permutexvar_epi8(n4, c4),
                _mm512_permutexvar_epi8(n5, c5),
            ),
        );
        let fw_digit = _mm512_cmpeq_epi8_mask(cur, _mm512_set1_epi8(0xEFu8 as i8))
            & _mm512_cmpeq_epi8_mask(n1, _mm512_set1_epi8(0xBCu8 as i8))
            & _mm512_cmple_epu8_mask(
                _mm512_sub_epi8(n2, _mm512_set1_epi8(0x90u8 as i8)),
                _mm512_set1_epi8(9),
            );
        let high = lead & cont(n1) & cont(n2) & (may_term | fw_digit);
        let at = _mm512_cmpeq_epi8_mask(cur, _mm512_set1_epi8(b'@' as i8));
        // A `|` that begins a line: a Markdown table's row (`table_row`).
        let row = _mm512_cmpeq_epi8_mask(cur, _mm512_set1_epi8(b'|' as i8))
            & _mm512_cmpeq_epi8_mask(prev, _mm512_set1_epi8(b'\n' as i8));
        // Digits straight after letters (`user123`, `cid0a3f…`): a run that
        // can be no identifier only ends the chain (`glued_runs`).
        let glued = cd & lp;
        let mut hopeless = 0;
        let mut width = 64;
        if glued != 0 && dismiss_glued {
            let any = |v: __m512i, bytes: &[u8]| {
                bytes.iter().fold(_mm512_movepi8_mask(v), |m, &c| {
                    m | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8))
                })
            };
            hopeless = glued_runs(
                glued,
                GluedBlock {
                    letters: lc,
                    digits: cd,
                    letters_before: lp,
                    refused_before: any(prev, b"+("),
                    bad_end: any(cur, b"()-/.<+"),
                },
            );
            // A glued run reaching the top of the block, whose end
            // `glued_runs` cannot see: the block ends before the run instead,
            // and the next one, starting with it, sees it whole. (Left to
            // `token`, one run in three of a JSON message's ids and user
            // names crossed a block's end.)
            let top_run = (lc | cd).leading_ones() as usize;
            if (1..64).contains(&top_run) && glued >> (64 - top_run) != 0 && to - i > 64 {
                width = 64 - top_run;
                let within = (1u64 << width) - 1;
                hopeless &= within;
            }
        }
        let digit_start = cd & !pd & !hopeless;
        let mut m = word | digit_start | high | at | row;
        if width < 64 {
            m &= (1u64 << width) - 1;
        }
        if to - i < 64 {
            let live = (1u64 << (to - i)) - 1;
            m &= live;
            hopeless &= live;
        }
        let marks = Marks {
            starts: m,
            hopeless,
            tokens_only: digit_start | at,
            width,
        };
        i = st.starts::<true>(buf, i, marks, to, last);
    }
    i
}

/// Terms this short (`HIV`, `VIH`, `CVV`, `NIB`, `tel`) turn up by chance in
/// binary data scanned as bytes: a few per megabyte of random bytes, and two
/// distinct weak terms anywhere in a body make a record (4 MiB of random
/// bytes was a health record). `short_term_in_text` asks more of them.
const SHORT_TERM: usize = 4;

/// Whether a short term at `j` (`len` bytes) reads as a word of text:
/// written as words are, and bordered by text.
fn short_term_in_text(buf: &[u8], j: usize, len: usize) -> bool {
    buf.get(j..j + len).is_some_and(cased_as_words_are) && bordered_by_text(buf, j, j + len)
}

/// Whether letters are cased as a word is written (`hiv`, `HIV`, `Hiv`; not
/// `hIv`, which random bytes give as often).
pub(super) fn cased_as_words_are(word: &[u8]) -> bool {
    let mut letters = word.iter().filter(|b| b.is_ascii_alphabetic());
    let tail_lower = letters.clone().skip(1).all(u8::is_ascii_lowercase);
    tail_lower || letters.all(u8::is_ascii_uppercase)
}

/// Whether the bytes either side of `start..end` are text: not control bytes,
/// not high bytes that are no UTF-8 character. A NUL may border it: strings
/// in binary files end in one. The ends of the buffer count as text.
pub(super) fn bordered_by_text(buf: &[u8], start: usize, end: usize) -> bool {
    let text_byte = |b: u8| b >= 0x20 && b != 0x7F || matches!(b, 0 | b'\t' | b'\n' | b'\r' | 0x0C);
    let before = match start.checked_sub(1).and_then(|k| buf.get(k)) {
        None => true,
        Some(&b) if b < 0x80 => text_byte(b),
        Some(_) => utf8_ends_at(buf, start),
    };
    let after = match buf.get(end) {
        None => true,
        Some(&b) if b < 0x80 => text_byte(b),
        Some(_) => utf8_starts_at(buf, end),
    };
    before && after
}

/// Whether a whole UTF-8 character of two to four bytes ends just before `i`.
fn utf8_ends_at(buf: &[u8], i: usize) -> bool {
    (2..=4).any(|n| {
        i.checked_sub(n)
            .and_then(|k| buf.get(k..i))
            .is_some_and(|c| std::str::from_utf8(c).is_ok())
    })
}

/// Whether a whole UTF-8 character of two to four bytes starts at `i` (or is
/// cut only by the end of the buffer).
fn utf8_starts_at(buf: &[u8], i: usize) -> bool {
    let rest = buf
        .get(i..i + 4.min(buf.len().saturating_sub(i)))
        .unwrap_or(&[]);
    match std::str::from_utf8(rest) {
        Ok(_) => true,
        Err(e) => e.valid_up_to() > 0 || e.error_len().is_none(),
    }
}

/// A term at `j` (`len` bytes) that is one word of a code identifier joined by
/// `-` or `_` (`fa-file-medical`, `prescription_bottle`): names in style
/// sheets, scripts and URLs, not prose about a person. Field names are
/// identifiers by nature and are matched elsewhere (`learn_field`).
#[inline]
fn in_identifier(buf: &[u8], j: usize, len: usize) -> bool {
    let at = |k: usize| buf.get(k).copied().unwrap_or(0);
    let joiner = |b: u8| matches!(b, b'-' | b'_');
    if j >= 2 && joiner(at(j - 1)) && at(j - 2).is_ascii_alphanumeric() {
        return true;
    }
    // A plural "s" may end the term (as `verify_ascii` allows).
    let mut e = j + len;
    if at(e).eq_ignore_ascii_case(&b's') {
        e += 1;
    }
    joiner(at(e)) && at(e + 1).is_ascii_alphanumeric()
}

/// A field name as words: `card_number`, `card-number` and `cardNumber` are
/// "card number" to the dictionary, whose terms are written as prose.
fn field_words(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 4);
    let mut prev = 0u8;
    for &b in name {
        if matches!(b, b'_' | b'-' | b'.') {
            out.push(b' ');
        } else {
            if b.is_ascii_uppercase() && prev.is_ascii_lowercase() {
                out.push(b' ');
            }
            out.push(b);
        }
        prev = b;
    }
    out
}

#[inline(always)]
fn interesting(prev: u8, b: u8) -> bool {
    (b.is_ascii_alphabetic() && !prev.is_ascii_alphanumeric())
        || (b.is_ascii_digit() && !prev.is_ascii_digit())
        || b >= 0xE0
        || b == b'@'
        || (b == b'|' && prev == b'\n')
}

/// `block_mask` with NEON (every aarch64): the SSE2 form's masks.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn block_mask(w: &[u8; 17]) -> u32 {
    use crate::inspect::neon::{and, and_not, digit, eq, letter, load, movemask, or, within};
    let (Some(prev), Some(cur)) = (w.first_chunk::<16>(), w.last_chunk::<16>()) else {
        return 0;
    };
    let (prev, cur) = (load(prev), load(cur));
    let (pl, pd, cl, cd) = (letter(prev), digit(prev), letter(cur), digit(cur));
    let word = and_not(cl, or(pl, pd));
    let digit_start = and_not(cd, pd);
    let high = within(cur, 0xE0, 0xFF);
    let row = and(eq(cur, b'|'), eq(prev, b'\n'));
    movemask(or(or(word, digit_start), or(or(high, eq(cur, b'@')), row)))
}

/// `block_mask` a byte at a time, where there is no vector form.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
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

impl TextScan {
    pub fn new(det: Arc<Detectors>) -> TextScan {
        let mut t = TextScan {
            // Small to start: most bodies are a few KiB of JSON, and a buffer
            // this size up front is an mmap and its page faults per request.
            buf: Vec::with_capacity(4096),
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
                term_ends: [u64::MAX; Class::ALL.len()],
                label_end: u64::MAX,
                label_field: false,
                groups_before: 0,
                spaced_until: 0,
                segs: Vec::new(),
                seg_at: 0,
                next_seg: u64::MAX,
                field_cache: Vec::new(),
                field_cache_next: 0,
                field_last: 0,
                table: Table::closed(),
                joined: Vec::with_capacity(MAX_CHAIN * (MAX_TOKEN + 1)),
                tally: super::tally::Tally::new(),
                shortcuts: true,
            },
            wide: crate::inspect::cpu::vectors().avx512vbmi,
            opening: Opening::Continue,
        };
        t.reset();
        t
    }

    /// The general paths only: 16-byte blocks, every token walked. What the
    /// fast paths are tested (and fuzzed) against.
    #[cfg(any(test, fuzzing))]
    pub fn general(det: Arc<Detectors>) -> TextScan {
        let mut t = TextScan::new(det);
        t.wide = false;
        t.st.shortcuts = false;
        t
    }

    /// Whether this state takes the fast paths (every state but `general`'s).
    pub fn is_fast(&self) -> bool {
        self.st.shortcuts
    }

    /// The dictionaries and settings this state was built for.
    pub fn detectors(&self) -> &Arc<Detectors> {
        &self.st.det
    }

    /// Bytes of text this body has put through the scan so far.
    pub fn text_len(&self) -> u64 {
        self.st.base + self.buf.len() as u64
    }

    /// Forget the last body; keep the allocations.
    pub fn reset(&mut self) {
        self.opening = Opening::Continue;
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
        st.term_ends = [u64::MAX; Class::ALL.len()];
        st.label_end = u64::MAX;
        st.label_field = false;
        st.groups_before = 0;
        st.spaced_until = 0;
        st.segs.clear();
        st.segs.push(Seg::plain(0));
        st.seg_at = 0;
        st.next_seg = u64::MAX;
        st.table.next_row = u64::MAX;
        // The field cache stays: what a name matches depends only on the
        // dictionary, and the next body (the next chat message) repeats the
        // same keys.
        st.tally.reset();
    }

    /// Ends the body: fills counts and masked samples. Call `reset` before reuse.
    pub fn finish_into(&mut self, f: &mut Findings) {
        self.scan(true);
        self.st.enter(u64::MAX);
        self.st.flush_chain();
        self.st.pending.clear();
        let lim = self.st.det.limits();
        self.st.tally.finish_into(f, &lim);
    }

    /// Opens the value that text has just arrived for, under `ctx`, after a
    /// one-byte separator (so no match spans values). Nothing is scanned here:
    /// values are batched, and the scan switches context where each begins.
    // Inlined so the value is written once, in place: a copy of a freshly
    // built struct stalls on store forwarding.
    #[inline(always)]
    fn open_value(&mut self, ctx: Ctx, field: bool) {
        self.buf.push(b'\n');
        let seg = Seg {
            start: self.st.base + self.buf.len() as u64,
            ctx,
            evidence: false,
            field,
        };
        let st = &mut self.st;
        if st.segs.len() == st.seg_at + 1 {
            st.next_seg = seg.start;
        }
        st.segs.push(seg);
    }

    fn maybe_scan(&mut self) {
        let unscanned = self.st.base + self.buf.len() as u64 - self.st.next;
        if unscanned as usize >= LOOK + 1024 {
            self.scan(false);
        }
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
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only when the CPU has the features.
            i = unsafe { scan_wide(st, buf, i, to, last) };
        }
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
            let marks = Marks {
                starts: u64::from(m),
                hopeless: 0,
                tokens_only: 0,
                width: 16,
            };
            i = st.starts::<false>(buf, i, marks, to, last);
        }
        while i < to {
            let prev = buf.get(i - 1).copied().unwrap_or(b'\n');
            let b = buf.get(i).copied().unwrap_or(0);
            i = if interesting(prev, b) {
                st.start::<false>(buf, i, to, last).max(i + 1)
            } else {
                i + 1
            };
        }
        st.next = st.base + to as u64;
        // Values the scan has passed without a start in them still end here
        // (and the list of values stays short whatever the body holds).
        if st.next_seg <= st.next {
            st.enter(st.next);
        }
        if st.seg_at > 0 {
            st.segs.drain(..st.seg_at);
            st.seg_at = 0;
        }
        if !last {
            self.compact();
        }
    }
}

impl State {
    /// Handles the starts marked in a block (bit k = position `i + k`), in
    /// order; returns where the next block begins (past the block, or past a
    /// run of CJK characters that left it). `FILTERED`: a 64-byte block from
    /// `scan_wide`, which marked only the CJK characters that may start a
    /// term, so each is probed on its own; else a 16-byte block.
    #[inline(always)]
    fn starts<const FILTERED: bool>(
        &mut self,
        buf: &[u8],
        i: usize,
        marks: Marks,
        to: usize,
        last: bool,
    ) -> usize {
        let Marks {
            starts: mut m,
            mut hopeless,
            tokens_only,
            width,
        } = marks;
        while m != 0 {
            let k = m.trailing_zeros();
            let j = i + k as usize;
            m &= m - 1;
            let passed = hopeless & ((1u64 << k) - 1);
            if passed != 0 {
                hopeless &= !passed;
                self.dismissed(i, passed);
            }
            let e = self.start::<FILTERED>(buf, j, to, last);
            if e > j + 1 {
                // A run of CJK characters was handled in one go.
                if e >= i + width {
                    // (Only 16-byte blocks read runs so, and they mark no
                    // glued runs; were there any, they would end here.)
                    if hopeless != 0 {
                        self.dismissed(i, hopeless);
                    }
                    return e;
                }
                m &= !((1u64 << (e - i)) - 1);
            }
            // Digit and `@` starts inside the token just read (the rest of a
            // hex id) would only be skipped: drop them now. `skip_tok` only
            // grows while a block is handled.
            if m & tokens_only != 0 {
                let below = self.skip_tok.saturating_sub(self.base + i as u64);
                let low = if below >= 64 {
                    u64::MAX
                } else {
                    (1u64 << below) - 1
                };
                m &= !(tokens_only & low);
            }
        }
        if hopeless != 0 {
            self.dismissed(i, hopeless);
        }
        i + width
    }

    /// What `token` does for the starts `glued_runs` marked (bit `k`: position
    /// `i + k`), none of them a token: the chain ends at the first one not
    /// inside a token already read. Nothing else read them since, so doing it
    /// now is doing it then. Where `token` would also move `skip_tok` past the
    /// run: the digits after it in the run are marked too, an `@` after it
    /// is read either way, and a later token walks back over letters, `+`
    /// and `(` only, which a marked run's end never is.
    #[inline(always)]
    fn dismissed(&mut self, i: usize, marks: u64) {
        let last = i + 63 - marks.leading_zeros() as usize;
        if self.base + last as u64 >= self.skip_tok {
            self.flush_chain();
        }
    }

    #[inline(always)]
    /// Handles the start at `j`; returns where the next start may be (past a
    /// run of CJK characters, which are checked here in a tight loop unless
    /// the block pass already filtered them).
    fn start<const FILTERED: bool>(
        &mut self,
        buf: &[u8],
        j: usize,
        to: usize,
        last: bool,
    ) -> usize {
        let g = self.base + j as u64;
        if self.next_seg <= g {
            self.enter(g);
        }
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
                        if !in_identifier(buf, j, len)
                            && (len > SHORT_TERM || short_term_in_text(buf, j, len))
                        {
                            self.keyword(id, g, len);
                        }
                    }
                }
            }
        } else if b == b'@' {
            if g >= self.skip_tok {
                self.email(buf, j);
            }
        } else if is_cjk_lead(b) {
            if b == 0xEF && fold_at(buf, j).0.is_ascii_digit() {
                if g >= self.skip_tok {
                    self.token(buf, j, last);
                }
            } else if FILTERED {
                if g >= self.skip_kw {
                    if let Some(slot) = self.det.dict.cjk_slot(load8(buf, j)) {
                        if let Some((id, len)) = self.det.dict.verify_cjk(slot, buf, j) {
                            self.keyword(id, g, len);
                        }
                    }
                }
            } else {
                return self.cjk_run(buf, j, to);
            }
        } else if b == b'|' {
            self.table_row(buf, j, last);
        }
        j + 1
    }

    /// A `|` that begins a line: the header of a Markdown table (when the
    /// next line is its delimiter row), or a row of the table above it,
    /// whose cells become values under their columns' context. It reads no
    /// further than `LOOK` bytes on (the text's end, when that is nearer),
    /// so what it decides does not depend on how the text came; a longer
    /// row is read as text, and ends the table.
    #[cold]
    #[inline(never)]
    fn table_row(&mut self, buf: &[u8], j: usize, last: bool) {
        let g = self.base + j as u64;
        let reach = (j + LOOK).min(buf.len());
        let whole = last && reach == buf.len();
        let text = buf.get(j..reach).unwrap_or(&[]);
        let row = table::row(text, whole);
        let open = self.table.next_row != u64::MAX && self.value_start() == self.table.home;
        match row {
            // The delimiter row, read with its header.
            Some(_) if open && g < self.table.next_row => {}
            Some(row) if open && g == self.table.next_row => {
                if table::is_delimiter(text, &row) {
                    self.table.next_row = g + row.end as u64 + 1;
                } else {
                    self.table_cells(text, &row, g);
                }
            }
            Some(row) => {
                self.table.next_row = u64::MAX;
                self.table_header(buf, j, &row, reach, whole);
            }
            None => self.table.next_row = u64::MAX,
        }
    }

    /// Opens a table at the row `head` (at `j`) if the line after it is its
    /// delimiter row, in the same value and with as many cells.
    fn table_header(&mut self, buf: &[u8], j: usize, head: &table::Row, reach: usize, whole: bool) {
        let d = j + head.end + 1;
        if buf.get(d) != Some(&b'|') || self.base + d as u64 >= self.next_seg {
            return;
        }
        let text = buf.get(d..reach).unwrap_or(&[]);
        let Some(delim) = table::row(text, whole) else {
            return;
        };
        if delim.cells().len() != head.cells().len() || !table::is_delimiter(text, &delim) {
            return;
        }
        let header = buf.get(j..).unwrap_or(&[]);
        let mut cols = std::mem::take(&mut self.table.cols);
        cols.clear();
        cols.extend(head.cells().iter().map(|&(a, b)| {
            let cell = header.get(usize::from(a)..usize::from(b)).unwrap_or(&[]);
            self.det.name_ctx(table::trim(cell))
        }));
        self.table = Table {
            cols,
            next_row: self.base + (d + delim.end) as u64 + 1,
            home: self.value_start(),
        };
    }

    /// Each cell of a body row (at `g`, its text `text`) becomes a value
    /// under its column's context, as a CSV's cells are; after the row's
    /// last cell the value it is in goes on as before.
    fn table_cells(&mut self, text: &[u8], row: &table::Row, g: u64) {
        let Some(&outer) = self.segs.get(self.seg_at) else {
            return;
        };
        let cols = &self.table.cols;
        let cells = row.cells().iter().enumerate().map(|(k, &(a, b))| Seg {
            start: g + u64::from(a),
            ctx: cols.get(k).copied().unwrap_or_default(),
            evidence: !table::blank(text.get(usize::from(a)..usize::from(b)).unwrap_or(&[])),
            field: true,
        });
        // Its field's evidence was counted when the scan entered it.
        let after = Seg {
            start: g + row.cells_end() as u64,
            evidence: false,
            ..outer
        };
        let at = self.seg_at + 1;
        self.segs
            .splice(at..at, cells.chain(std::iter::once(after)));
        self.next_seg = self.segs.get(at).map_or(u64::MAX, |s| s.start);
        self.table.next_row = g + row.end as u64 + 1;
        self.table.home = after.start;
    }

    /// Where the last context term of `class` ended (`u64::MAX`: none yet).
    pub(super) fn term_end(&self, class: Class) -> u64 {
        self.term_ends
            .get(class as usize)
            .copied()
            .unwrap_or(u64::MAX)
    }

    /// Where the value being scanned began.
    pub(super) fn value_start(&self) -> u64 {
        self.segs.get(self.seg_at).map_or(0, |s| s.start)
    }

    /// Whether the value being scanned opened under a field.
    pub(super) fn value_has_field(&self) -> bool {
        self.segs.get(self.seg_at).is_some_and(|s| s.field)
    }

    /// Moves the scan into the value that contains `g`: the open chain is
    /// classified under the context it was read in, then each value passed
    /// over gives its field's evidence in turn.
    pub(super) fn enter(&mut self, g: u64) {
        while self.next_seg <= g && self.next_seg != u64::MAX {
            self.flush_chain();
            self.seg_at += 1;
            self.next_seg = self.segs.get(self.seg_at + 1).map_or(u64::MAX, |s| s.start);
            let Some(&Seg { ctx, evidence, .. }) = self.segs.get(self.seg_at) else {
                break;
            };
            self.field_mask = ctx.mask;
            if evidence && ctx.n_terms > 0 {
                // A value under a column or key named by a term is one piece of evidence.
                for &id in ctx.terms.get(..usize::from(ctx.n_terms)).unwrap_or(&[]) {
                    self.evidence(id, At::Field);
                }
            }
        }
    }

    /// Checks every character of a run of well-formed 3-byte characters against
    /// the CJK filter. Stops before `to`, a full-width digit (a token start) or
    /// anything else; continuation bytes it steps over are never starts.
    fn cjk_run(&mut self, buf: &[u8], j: usize, to: usize) -> usize {
        let mut k = j;
        loop {
            // Starts before `skip_kw` are inside the last keyword.
            let skip =
                usize::try_from(self.skip_kw.saturating_sub(self.base)).unwrap_or(usize::MAX);
            match self.det.dict.cjk_scan(buf, k, to, skip) {
                (at, Some(slot)) => {
                    if let Some((id, len)) = self.det.dict.verify_cjk(slot, buf, at) {
                        self.keyword(id, self.base + at as u64, len);
                    }
                    k = at + 3;
                }
                (at, None) => {
                    k = at;
                    break;
                }
            }
        }
        k.max(j + 1)
    }

    /// Term `id` as evidence for the classes it is evidence of.
    fn evidence(&mut self, id: u16, at: At) {
        let roles = self.det.dict.roles(id);
        let lim = self.det.limits();
        for (class, strength) in [
            (Class::Health, roles.health),
            (Class::FinancialRecord, roles.fin),
        ] {
            if strength > 0 {
                self.tally
                    .term(class, id, strength, at, &self.det.dict, &lim);
            }
        }
    }

    fn keyword(&mut self, id: u16, g: u64, len: usize) {
        self.skip_kw = g + len as u64;
        // A term at the start of its value, after at most a marker (`* `) or
        // a character.
        let start = self.value_start();
        if g >= start && g - start <= LABEL_LEAD {
            self.label_end = g + len as u64;
            self.label_field = self.value_has_field();
        }
        self.evidence(id, At::Text(g));
        let roles = self.det.dict.roles(id);
        let mut bits = roles.context;
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(end) = self.term_ends.get_mut(c) {
                *end = g + len as u64;
            }
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
                Meaning::PlainCard { .. } => false,
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
            Meaning::PlainCard { value, .. } => {
                self.tally
                    .identifier(Class::PaymentCard, value.as_bytes(), &lim)
            }
        }
    }

    pub(super) fn context_near(&self, class: Class, start: u64, end: u64) -> bool {
        if self.field_mask & bit(class) != 0 {
            return true;
        }
        let w = self.det.window;
        self.hits.get(class as usize).is_some_and(|ring| {
            ring.iter()
                .any(|&q| q != u64::MAX && q + w >= start && q <= end + w)
        })
    }

    pub(super) fn handle(&mut self, readings: &Readings, start: u64, end: u64) {
        let mut needs = false;
        for m in readings.iter() {
            let ok = match m {
                Meaning::PlainCard { value, valid } => {
                    if self.context_near(Class::PaymentCard, start, end) {
                        if *valid {
                            self.accept(*m);
                            return;
                        }
                    } else {
                        let lim = self.det.limits();
                        self.tally.plain_card(valid.then(|| value.as_bytes()), &lim);
                        if *valid {
                            return;
                        }
                    }
                    // Not a card: what else the run may be is read on.
                    false
                }
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
                readings: *readings,
            });
        }
    }
}

impl Detectors {
    /// What a field name (a key, a column's header) gives the values under
    /// it: the classes its terms are context for, and its health and
    /// financial terms, which count once for each value that is not blank.
    fn name_ctx(&self, name: &[u8]) -> Ctx {
        let dict = &self.dict;
        let mut ctx = Ctx::default();
        dict.find_all(&field_words(name), |id| {
            let roles = dict.roles(id);
            ctx.mask |= roles.context;
            if roles.health > 0 || roles.fin > 0 {
                if let Some(slot) = ctx.terms.get_mut(usize::from(ctx.n_terms)) {
                    *slot = id;
                    ctx.n_terms += 1;
                }
            }
        });
        ctx
    }
}

/// A field name's cache key: a cheap hash and its first 16 bytes (zero-padded),
/// so the usual short key compares without a call to `memcmp`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct NameKey {
    hash: u64,
    len: usize,
    head: [u64; 2],
}

impl NameKey {
    fn of(name: &[u8]) -> NameKey {
        let mut h = name.len() as u64;
        for k in (0..name.len()).step_by(8) {
            h = (h.rotate_left(5) ^ load8(name, k)).wrapping_mul(0x517C_C1B7_2722_0A95);
        }
        NameKey {
            hash: h,
            len: name.len(),
            head: [load8(name, 0), load8(name, 8)],
        }
    }

    /// Names past 16 bytes still need their whole text compared.
    fn is_whole(&self) -> bool {
        self.len <= 16
    }
}

impl State {
    /// Points `field_last` at the cache entry for a field name, learning the
    /// name if it was not seen before (a CSV repeats its headers for every
    /// cell, JSON its keys for every object).
    #[inline(always)]
    fn find_field(&mut self, name: &[u8]) {
        if let Some((k, f)) = self.next_field(name) {
            if name.len() <= 16 && f.key.head == [load8(name, 0), load8(name, 8)] || f.name == name
            {
                self.field_last = k;
                return;
            }
        }
        let key = NameKey::of(name);
        match self
            .field_cache
            .iter()
            .position(|f| f.key == key && (key.is_whole() || f.name == name))
        {
            Some(k) => self.field_last = k,
            None => self.learn_field(key, name),
        }
    }

    /// The cached field after the one found last (the keys of a JSON object
    /// come in the order the previous object had them), if its name is as
    /// long as `name`.
    #[inline(always)]
    fn next_field(&self, name: &[u8]) -> Option<(usize, &FieldMatch)> {
        let guess = self.field_last + 1;
        let guess = if guess < self.field_cache.len() {
            guess
        } else {
            0
        };
        self.field_cache
            .get(guess)
            .filter(|f| f.name.len() == name.len())
            .map(|f| (guess, f))
    }

    /// Whether the name `find_field` found last may itself be data.
    fn last_field_is_data(&self) -> bool {
        self.field_cache
            .get(self.field_last)
            .is_some_and(|f| f.data)
    }

    /// The context of the field `find_field` found last.
    fn last_field_ctx(&self) -> Ctx {
        self.field_cache
            .get(self.field_last)
            .map_or_else(Ctx::default, |f| f.ctx)
    }

    /// A field name not in the cache: its terms, remembered.
    #[cold]
    #[inline(never)]
    fn learn_field(&mut self, key: NameKey, name: &[u8]) {
        let m = FieldMatch {
            key,
            name: name.to_vec(),
            ctx: self.det.name_ctx(name),
            data: name_may_be_data(name),
        };
        if self.field_cache.len() < FIELD_CACHE {
            self.field_last = self.field_cache.len();
            self.field_cache.push(m);
        } else {
            let k = self.field_cache_next % FIELD_CACHE;
            self.field_cache_next = self.field_cache_next.wrapping_add(1);
            self.field_last = k;
            if let Some(old) = self.field_cache.get_mut(k) {
                *old = m;
            }
        }
    }
}

impl TextScan {
    /// A field name read as a value of its own, with no field's context.
    #[cold]
    #[inline(never)]
    fn name_as_value(&mut self, name: &[u8]) {
        self.opening = Opening::Plain;
        self.text(name);
        self.opening = Opening::Plain;
    }
}

impl TextScan {
    /// `field` when the name is the one after the last found in the cache
    /// and is no data (the keys of a JSON object in the order the previous
    /// object had them): settled without a call.
    #[inline(always)]
    fn field_fast(&mut self, name: &[u8]) -> bool {
        let hit = self.st.next_field(name).filter(|(_, f)| {
            name.len() <= 16 && f.key.head == [load8(name, 0), load8(name, 8)] && !f.data
        });
        let Some((k, _)) = hit else {
            return false;
        };
        self.st.field_last = k;
        self.opening = Opening::Field;
        true
    }

    #[inline(never)]
    fn field_slow(&mut self, name: &[u8]) {
        self.st.find_field(name);
        if self.st.last_field_is_data() {
            self.name_as_value(name);
        }
        self.opening = Opening::Field;
    }

    /// `text` for a short value opening under a field (most JSON values and
    /// CSV cells): no call and no slicing loop. A long value (a message's
    /// text) takes the call, which is small beside its scan. `padded` starts with `bytes` and may
    /// go on past them: a short value is copied as a fixed 32 bytes and cut
    /// back, as a `memcpy` call per value cost more than the copy.
    #[inline(always)]
    fn text_fast(&mut self, bytes: &[u8], padded: &[u8]) -> bool {
        if self.opening != Opening::Field || bytes.is_empty() || bytes.len() > 256 {
            return false;
        }
        let ctx = self.st.last_field_ctx();
        self.open_value(ctx, true);
        self.opening = Opening::Continue;
        self.evidence_from(ctx.n_terms > 0, bytes);
        match padded.get(..32) {
            Some(block) if bytes.len() <= 32 => {
                let keep = self.buf.len() + bytes.len();
                self.buf.extend_from_slice(block);
                self.buf.truncate(keep);
            }
            _ => self.buf.extend_from_slice(bytes),
        }
        self.maybe_scan();
        true
    }

    /// A field named by a health or financial term counts once a value of
    /// it has a byte that is not blank. `waiting`: the open value's field
    /// has such terms, not yet counted.
    #[inline(always)]
    fn evidence_from(&mut self, waiting: bool, bytes: &[u8]) {
        if waiting && bytes.iter().any(|b| !b.is_ascii_whitespace()) {
            if let Some(seg) = self.st.segs.last_mut() {
                seg.evidence = true;
            }
        }
    }

    #[inline(never)]
    fn text_slow(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // Whether this value's field has terms that still wait for a
        // non-blank byte, known without reading back a value just written.
        let waiting = match self.opening {
            Opening::Continue => self
                .st
                .segs
                .last()
                .is_some_and(|seg| seg.ctx.n_terms > 0 && !seg.evidence),
            Opening::Plain => {
                self.open_value(Ctx::default(), false);
                false
            }
            Opening::Field => {
                let ctx = self.st.last_field_ctx();
                self.open_value(ctx, true);
                ctx.n_terms > 0
            }
        };
        self.opening = Opening::Continue;
        self.evidence_from(waiting, bytes);
        for piece in bytes.chunks(SLICE) {
            self.buf.extend_from_slice(piece);
            self.maybe_scan();
        }
    }
}

impl TextSink for TextScan {
    #[inline(always)]
    fn field(&mut self, name: &[u8]) {
        if !self.field_fast(name) {
            self.field_slow(name);
        }
    }

    // Not forced inline, unlike `text_in`: decoders whose values are short
    // (JSON, CSV) call that; elsewhere `text` is a call, and forcing it in
    // grew the media text walk past being inlined itself (−3%).
    fn text(&mut self, bytes: &[u8]) {
        if !self.text_fast(bytes, bytes) {
            self.text_slow(bytes);
        }
    }

    #[inline(always)]
    fn text_in(&mut self, data: &[u8], from: usize, to: usize) {
        let bytes = data.get(from..to).unwrap_or(&[]);
        if !self.text_fast(bytes, data.get(from..).unwrap_or(&[])) {
            self.text_slow(bytes);
        }
    }

    fn boundary(&mut self) {
        // The value ends; the next one opens only when text arrives for it
        // (JSON's boundary before every key, empty strings and cells).
        self.opening = Opening::Plain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Where the test block starts: past the history byte, which
    /// `hopeless_word` does not walk back onto.
    const AT: usize = 2;

    /// `glued_runs` on the block at `buf[AT..AT + 64]`, its masks made a byte
    /// at a time (the start pass makes the same with vector compares).
    fn glued_marks(buf: &[u8]) -> (u64, u64) {
        let mask = |f: &dyn Fn(usize) -> bool| (0..64).fold(0u64, |m, k| m | u64::from(f(k)) << k);
        let cur = |k: usize| buf[AT + k];
        let prev = |k: usize| buf[AT - 1 + k];
        let letters = mask(&|k| cur(k).is_ascii_alphabetic());
        let digits = mask(&|k| cur(k).is_ascii_digit());
        let letters_before = mask(&|k| prev(k).is_ascii_alphabetic());
        let glued = digits & letters_before;
        let block = GluedBlock {
            letters,
            digits,
            letters_before,
            refused_before: mask(&|k| prev(k) >= 0x80 || b"+(".contains(&prev(k))),
            bad_end: mask(&|k| cur(k) >= 0x80 || b"()-/.<+".contains(&cur(k))),
        };
        (glued, glued_runs(glued, block))
    }

    fn glued_soup() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            "[a-zA-Z]{1,7}",
            "[0-9]{1,6}",
            "[a-f0-9]{1,12}",
            "[ \n\",:+(@.#=()/<_-]",
            Just("６".to_string()),
            Just("é".to_string()),
            Just("GB82".to_string()),
        ];
        proptest::collection::vec(piece, 1..60)
            .prop_map(|v| format!("\n\n{}", v.concat()).into_bytes())
            .prop_filter("a block and some", |b| b.len() >= 80)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Every start the block pass dismisses lies in a run where the
        /// general token walk reads no token, from the run's first start on.
        #[test]
        fn glued_runs_dismiss_only_what_the_walk_reads_nothing_in(buf in glued_soup()) {
            let (glued, marked) = glued_marks(&buf);
            prop_assert_eq!(marked & !glued, 0);
            let det = Arc::new(Detectors::shipped());
            let mut rest = marked;
            while rest != 0 {
                let k = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                let j = AT + k;
                let text = String::from_utf8_lossy(&buf);
                // The run's first digit after a letter is the start `token` reads.
                let run_start = (0..j).rev().take_while(|&p| buf[p].is_ascii_alphanumeric()).last().unwrap_or(j);
                let run_end = (j..buf.len()).find(|&p| !buf[p].is_ascii_alphanumeric()).unwrap_or(buf.len());
                let first = (run_start..=j)
                    .find(|&p| p > 0 && buf[p].is_ascii_digit() && buf[p - 1].is_ascii_alphabetic())
                    .unwrap_or(j);
                prop_assert!(marked >> (first - AT) & 1 == 1, "{:?} at {}", text, first);
                // Every digit start of the run from there, as the scan meets
                // them (the walk may stop inside a run: the rest are glued to it).
                let mut walk = TextScan::general(Arc::clone(&det));
                for p in first..run_end {
                    if buf[p].is_ascii_digit() && !buf[p - 1].is_ascii_digit() && p as u64 >= walk.st.skip_tok {
                        walk.st.token(&buf, p, false);
                    }
                }
                let mut f = Findings::default();
                walk.st.tally.finish_into(&mut f, &det.limits());
                prop_assert!(walk.st.chain.is_empty() && walk.st.pending.is_empty(), "{:?} at {}", text, first);
                prop_assert!(f.classes.is_empty(), "{:?} at {}", text, first);
            }
        }
    }

    #[test]
    fn glued_runs_dismiss_api_ids_and_keep_identifiers() {
        let block = |text: &str| {
            let mut b = format!("\n\n{text}").into_bytes();
            b.resize(100, b' ');
            glued_marks(&b)
        };
        // `user123` and a conversation id are dismissed, every digit start in them.
        let (glued, marked) = block("\"user123\",\"cid0a3f9b2c\"");
        assert_eq!(glued.count_ones(), 5);
        assert_eq!(marked, glued);
        // Identifiers glued to one or two letters, an IBAN head, a run after
        // `+` or a non-ASCII byte, a run cut by a separator, and one reaching
        // past the block are left to `token`.
        for text in [
            "A123456(3)",
            "AB1234567",
            "GB82WEST12345698765432",
            "   GB82WEST12345698765432",
            "   AB12cdef",
            "   abc123",
            "+abcd1234",
            "éabcd1234",
            "abcd1234-5",
            "abc123 ",
            &format!("{}user123", " ".repeat(58)),
        ] {
            assert_eq!(block(text).1, 0, "{text}");
        }
    }

    /// The vector forms of `block_mask` (SSE2, NEON) mark what `interesting`
    /// marks, byte by byte: every pair of bytes that matters (letters,
    /// digits, `@`, the edges of each range), in every lane.
    #[test]
    fn block_mask_marks_what_interesting_marks() {
        let edges = [
            0u8, b'\n', b' ', b'+', b'(', b'/', b'0', b'9', b':', b'?', b'@', b'A', b'Z', b'[',
            b'`', b'a', b'z', b'{', 0x7F, 0x80, 0xBF, 0xC0, 0xDF, 0xE0, 0xEF, 0xF0, 0xFF,
        ];
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for round in 0..20_000 {
            let w: [u8; 17] = std::array::from_fn(|_| {
                let r = next();
                if round % 2 == 0 {
                    edges[(r % edges.len() as u64) as usize]
                } else {
                    r as u8
                }
            });
            let want = (0..16).fold(0u32, |m, k| m | u32::from(interesting(w[k], w[k + 1])) << k);
            assert_eq!(block_mask(&w), want, "{w:?}");
        }
    }

    #[test]
    fn values_that_get_no_text_cost_nothing() {
        let mut s = TextScan::new(Arc::new(Detectors::shipped()));
        for _ in 0..100_000 {
            s.boundary();
            s.field("電話".as_bytes());
            s.text(b"");
        }
        assert_eq!(s.buf.len(), 1, "only the initial history byte");
        assert_eq!(s.st.segs.len() - s.st.seg_at, 1);
        // The field's context still reaches the text that finally comes: a
        // Macau mobile number counts only in context.
        s.text(b"6123 4567");
        let mut f = Findings::default();
        s.finish_into(&mut f);
        let mut none = TextScan::new(Arc::new(Detectors::shipped()));
        none.text(b"6123 4567");
        let mut g = Findings::default();
        none.finish_into(&mut g);
        assert_eq!(f.classes.get(&Class::Phone), Some(&1), "{:?}", f.classes);
        assert!(g.classes.is_empty(), "{:?}", g.classes);
    }

    #[test]
    fn values_without_starts_do_not_pile_up() {
        let mut s = TextScan::new(Arc::new(Detectors::shipped()));
        for _ in 0..100_000 {
            s.field(b"note");
            s.text(b"- ... -");
            s.boundary();
        }
        assert!(s.st.segs.len() < 2_000, "{} values queued", s.st.segs.len());
        assert!(s.st.seg_at <= 1);
        let mut f = Findings::default();
        s.finish_into(&mut f);
        assert!(f.classes.is_empty());
    }
}
