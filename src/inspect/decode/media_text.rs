//! Text inside media whose end no framing tells (TIFF, Ogg, MP3, WebM…):
//! every byte is looked at, runs of text too long for coded media to hold by
//! chance are read, and a document or archive joined after the media (`copy
//! /b song.mp3 + staff.docx`) ends it there and is read as a body of its own.
//! Four bytes of `OggS` before a customer list no longer pass it as audio.
//!
//! What counts is defined a byte at a time (`Runs::walk`): a run is a
//! stretch of whole UTF-8 characters, printable or `\t`, `\n`, `\r`; one of
//! `MIN_RUN` bytes or more is given to the sink, then a boundary. A block
//! pass goes ahead of it and passes over 64 bytes at a time wherever no
//! run can be that long, so compressed media costs a few instructions per
//! block and the result is the byte walk's, however the body is split.

use crate::inspect::sink::TextSink;

/// Bytes a container's signature is checked over (`joined_at`).
const NEED: usize = 16;

/// What follows the head of media that runs to the end: its text runs, and
/// the first document or archive joined after it.
#[derive(Default)]
pub(crate) struct Tail {
    runs: Runs,
    /// The last bytes seen, fewer than `NEED`: a signature starting in them
    /// cannot be checked yet, so they wait before going to `runs`.
    pending: Seam,
}

/// The bytes `Tail` holds back, with room for those after them that settle
/// them: at most `2 * NEED - 2`, so they live inline (no allocation per body).
#[derive(Default)]
struct Seam {
    bytes: [u8; 2 * NEED],
    len: usize,
}

impl Seam {
    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `data`; what does not fit is dropped, which the callers'
    /// lengths never lead to (checked in tests by the joined-document proptest).
    fn extend(&mut self, data: &[u8]) {
        let n = data.len().min(self.bytes.len() - self.len);
        if let (Some(dst), Some(src)) = (self.bytes.get_mut(self.len..self.len + n), data.get(..n))
        {
            dst.copy_from_slice(src);
        }
        debug_assert_eq!(n, data.len(), "a seam holds fewer than 2 * NEED bytes");
        self.len += n;
    }

    /// Drops the first `n` bytes.
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.bytes.copy_within(n..self.len, 0);
        self.len -= n;
    }

    fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }
}

impl Tail {
    /// Reads `data`. Where a document or archive starts, the media ends: its
    /// text runs end there, and the bytes from the signature on (some may be
    /// from earlier calls) are returned, to be read as what follows.
    pub fn feed<S: TextSink + ?Sized>(&mut self, data: &[u8], sink: &mut S) -> Option<Vec<u8>> {
        if !self.pending.is_empty() {
            if data.len() < NEED - 1 {
                // Too few bytes to settle every waiting position: settle
                // those that can be, and wait with the rest.
                self.pending.extend(data);
                let held = self.pending.as_slice();
                let settled = held.len().saturating_sub(NEED - 1);
                if let Some(q) = (0..settled).find(|&q| joined_at(held, q)) {
                    return Some(self.joined(q, &[], sink));
                }
                self.runs.feed(held.get(..settled).unwrap_or(&[]), sink);
                self.pending.drop_front(settled);
                return None;
            }
            // Each waiting position is checked over the bytes after it.
            let waiting = self.pending.len;
            self.pending.extend(data.get(..NEED - 1).unwrap_or(&[]));
            let seam = self.pending.as_slice();
            if let Some(q) = (0..waiting).find(|&q| joined_at(seam, q)) {
                self.pending.truncate(waiting);
                return Some(self.joined(q, data, sink));
            }
            self.runs.feed(seam.get(..waiting).unwrap_or(&[]), sink);
            self.pending = Seam::default();
        }
        let settled = data.len().saturating_sub(NEED - 1);
        if let Some(p) = first_joined(data, settled) {
            self.runs.feed(data.get(..p).unwrap_or(&[]), sink);
            self.runs.finish(sink);
            return Some(data.get(p..).unwrap_or(&[]).to_vec());
        }
        self.runs.feed(data.get(..settled).unwrap_or(&[]), sink);
        self.pending.extend(data.get(settled..).unwrap_or(&[]));
        None
    }

    /// A signature at `q` in `pending`: what is before it goes to the runs,
    /// which end; it and what follows (`rest`, this call's data) are returned.
    fn joined<S: TextSink + ?Sized>(&mut self, q: usize, rest: &[u8], sink: &mut S) -> Vec<u8> {
        let held = std::mem::take(&mut self.pending);
        let held = held.as_slice();
        self.runs.feed(held.get(..q).unwrap_or(&[]), sink);
        self.runs.finish(sink);
        let mut out = held.get(q..).unwrap_or(&[]).to_vec();
        out.extend_from_slice(rest);
        out
    }

    /// Ends the body: the last bytes are too few to hold a signature that
    /// can be checked, and go to the runs, which end.
    pub fn finish<S: TextSink + ?Sized>(&mut self, sink: &mut S) {
        let held = std::mem::take(&mut self.pending);
        self.runs.feed(held.as_slice(), sink);
        self.runs.finish(sink);
    }
}

/// Whether a document or archive starts at `p` in `data` (which has at
/// least `NEED` bytes from `p`): a zip (a local header with a version and a
/// method real archives use), a PDF, RAR 4 or 5, 7z, or an OLE2 file (Word
/// and Excel 97). Each check is 7 bytes or more, so coded media matches one
/// by chance about once in 2^55 positions.
fn joined_at(data: &[u8], p: usize) -> bool {
    let Some(h) = data.get(p..p + NEED) else {
        return false;
    };
    let byte = |k: usize| h.get(k).copied().unwrap_or(0);
    match byte(0) {
        b'P' => {
            h.starts_with(b"PK\x03\x04")
                && byte(4) <= 63
                && byte(5) == 0
                && matches!(
                    u16::from_le_bytes([byte(8), byte(9)]),
                    0 | 8 | 9 | 12 | 14 | 93 | 95 | 98 | 99
                )
        }
        b'%' => h.starts_with(b"%PDF-1.") && byte(7).is_ascii_digit() || h.starts_with(b"%PDF-2.0"),
        b'R' => h.starts_with(b"Rar!\x1a\x07\x00") || h.starts_with(b"Rar!\x1a\x07\x01\x00"),
        b'7' => h.starts_with(b"7z\xbc\xaf\x27\x1c\x00"),
        0xD0 => h.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        _ => false,
    }
}

/// The first position before `end` where `joined_at` holds. Positions are
/// found by their first two bytes (`PK`, `%P`, `Ra`, `7z`, `\xd0\xcf`: in
/// coded media about one position in 13,000), a block at a time, then checked.
fn first_joined(data: &[u8], end: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::inspect::cpu::vectors().avx512bw {
            // SAFETY: the CPU has AVX-512F and AVX-512BW (`vectors` checked).
            return unsafe { first_joined_avx512(data, end) };
        }
        first_joined_with(data, end, 16, pairs_sse2)
    }
    #[cfg(target_arch = "aarch64")]
    return first_joined_with(data, end, 16, pairs_neon);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    first_joined_with(data, end, 16, |d, i| pairs_bytes(d, i, 16))
}

/// `first_joined` over blocks of `width` positions, their candidates from
/// `pairs`.
#[inline(always)]
fn first_joined_with(
    data: &[u8],
    end: usize,
    width: usize,
    pairs: impl Fn(&[u8], usize) -> u64,
) -> Option<usize> {
    let mut i = 0;
    while i < end {
        let mut cand = pairs(data, i);
        // Candidates at or past `end` wait for the next call.
        if end - i < width {
            cand &= (1u64 << (end - i)) - 1;
        }
        while cand != 0 {
            let p = i + cand.trailing_zeros() as usize;
            cand &= cand - 1;
            if joined_at(data, p) {
                return Some(p);
            }
        }
        i += width;
    }
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn first_joined_avx512(data: &[u8], end: usize) -> Option<usize> {
    first_joined_with(data, end, 64, |d, i| pairs_avx512(d, i))
}

/// Bit `k` set when `data[i + k]`, `data[i + k + 1]` open a signature
/// `joined_at` knows, for 64 positions; near the end, `pairs_bytes`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn pairs_avx512(data: &[u8], i: usize) -> u64 {
    use std::arch::x86_64::*;
    let (Some(a), Some(b)) = (data.get(i..i + 64), data.get(i + 1..i + 65)) else {
        return pairs_bytes(data, i, 64);
    };
    // SAFETY: each load reads the 64 bytes of its slice.
    let (a, b) = unsafe {
        (
            _mm512_loadu_si512(a.as_ptr().cast()),
            _mm512_loadu_si512(b.as_ptr().cast()),
        )
    };
    let pair = |x: u8, y: u8| {
        _mm512_cmpeq_epi8_mask(a, _mm512_set1_epi8(x as i8))
            & _mm512_cmpeq_epi8_mask(b, _mm512_set1_epi8(y as i8))
    };
    pair(b'P', b'K') | pair(b'%', b'P') | pair(b'R', b'a') | pair(b'7', b'z') | pair(0xD0, 0xCF)
}

/// `pairs_avx512` with SSE2 (every x86_64), for 16 positions.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn pairs_sse2(data: &[u8], i: usize) -> u64 {
    use std::arch::x86_64::*;
    let (Some(a), Some(b)) = (data.get(i..i + 16), data.get(i + 1..i + 17)) else {
        return pairs_bytes(data, i, 16);
    };
    // SAFETY: SSE2 is part of x86_64; each load reads the 16 bytes of its slice.
    unsafe {
        let a = _mm_loadu_si128(a.as_ptr().cast());
        let b = _mm_loadu_si128(b.as_ptr().cast());
        let pair = |x: u8, y: u8| {
            _mm_and_si128(
                _mm_cmpeq_epi8(a, _mm_set1_epi8(x as i8)),
                _mm_cmpeq_epi8(b, _mm_set1_epi8(y as i8)),
            )
        };
        let any = _mm_or_si128(
            _mm_or_si128(pair(b'P', b'K'), pair(b'%', b'P')),
            _mm_or_si128(
                _mm_or_si128(pair(b'R', b'a'), pair(b'7', b'z')),
                pair(0xD0, 0xCF),
            ),
        );
        u64::from(_mm_movemask_epi8(any) as u16)
    }
}

/// `pairs_sse2` with NEON (every aarch64).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn pairs_neon(data: &[u8], i: usize) -> u64 {
    use crate::inspect::neon::{and, eq, load_at, movemask, or};
    let (Some(a), Some(b)) = (load_at(data, i), load_at(data, i + 1)) else {
        return pairs_bytes(data, i, 16);
    };
    let pair = |x: u8, y: u8| and(eq(a, x), eq(b, y));
    let any = or(
        or(pair(b'P', b'K'), pair(b'%', b'P')),
        or(or(pair(b'R', b'a'), pair(b'7', b'z')), pair(0xD0, 0xCF)),
    );
    u64::from(movemask(any))
}

/// The candidates a byte at a time, for `n` positions from `i`: the end of
/// the data, and the definition the vector forms are tested against. Bytes
/// past the end count as zero.
fn pairs_bytes(data: &[u8], i: usize, n: usize) -> u64 {
    let at = |k: usize| data.get(k).copied().unwrap_or(0);
    (0..n).fold(0, |m, k| {
        let pair = (at(i + k), at(i + k + 1));
        let hit = matches!(
            pair,
            (b'P', b'K') | (b'%', b'P') | (b'R', b'a') | (b'7', b'z') | (0xD0, 0xCF)
        );
        m | u64::from(hit) << k
    })
}

/// The shortest run read. Coded media (compressed, so nearly random) holds
/// a run of 32 text bytes about once in 10^13 bytes; a line of a customer
/// list or a sentence is longer.
const MIN_RUN: usize = 32;

/// Where the byte walk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Between runs, or in one shorter than `MIN_RUN` (its bytes in `held`).
    Gathering,
    /// In a run already given to the sink: its bytes go straight there.
    Reading,
}

struct Runs {
    mode: Mode,
    /// The run so far while it is shorter than `MIN_RUN`.
    held: [u8; MIN_RUN],
    held_len: usize,
    /// A multi-byte character begun and not yet complete: its bytes, and
    /// how many continuation bytes it still needs.
    partial: [u8; 4],
    partial_len: usize,
    need: usize,
    /// The walk is between runs and the byte before was no text byte of
    /// any kind: the block pass may take over.
    settled: bool,
}

impl Default for Runs {
    fn default() -> Self {
        Runs {
            mode: Mode::Gathering,
            held: [0; MIN_RUN],
            held_len: 0,
            partial: [0; 4],
            partial_len: 0,
            need: 0,
            settled: true,
        }
    }
}

/// A byte no text holds, whatever is around it (a control byte, or one
/// UTF-8 never uses): past one the walk is settled, between runs, and the
/// block pass may take over.
#[inline(always)]
fn never_text(b: u8) -> bool {
    !((0x20..=0xF4).contains(&b) && b != 0x7F || matches!(b, b'\t' | b'\n' | b'\r'))
}

/// The continuation bytes a UTF-8 lead byte asks for (`None`: not a lead,
/// or one no valid character has).
#[inline(always)]
fn lead(b: u8) -> Option<usize> {
    match b {
        0xC2..=0xDF => Some(1),
        0xE0..=0xEF => Some(2),
        0xF0..=0xF4 => Some(3),
        _ => None,
    }
}

/// A block's bytes by kind, bit `k` for byte `k`: printable ASCII and `\t`,
/// `\n`, `\r`; UTF-8 continuation bytes; UTF-8 lead bytes (`lead`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Kinds {
    ascii: u64,
    cont: u64,
    lead: u64,
}

impl Kinds {
    /// The bytes that may be text where they stand: ASCII text, a lead with
    /// a continuation after it, a continuation after a lead or another one.
    /// Coded media has about half its bytes so, against 84% that are a text
    /// byte of some kind taken alone, which made a run of 32 likely every
    /// few thousand bytes. A neighbour in the next or previous block is
    /// taken to fit: the mask must never leave out a byte the walk reads as
    /// text. A byte left out is one past which the walk starts afresh (no
    /// text, a lead with no continuation after it, a continuation after
    /// neither), so the walk may begin after it as if settled.
    #[inline(always)]
    fn text(self) -> u64 {
        let Kinds { ascii, cont, lead } = self;
        let cont_after = (cont >> 1) | 1 << 63;
        let char_before = ((lead | cont) << 1) | 1;
        ascii | (lead & cont_after) | (cont & char_before)
    }
}

/// `Kinds` a byte at a time: the definition the vector forms are tested
/// against, and the form where there is no vector one.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), allow(dead_code))]
fn kinds_bytes(block: &[u8; 64]) -> Kinds {
    let mask = |f: &dyn Fn(u8) -> bool| {
        block
            .iter()
            .enumerate()
            .fold(0u64, |m, (k, &b)| m | u64::from(f(b)) << k)
    };
    Kinds {
        ascii: mask(&|b| (0x20..0x7F).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r')),
        cont: mask(&|b| b & 0xC0 == 0x80),
        lead: mask(&|b| lead(b).is_some()),
    }
}

/// `Kinds` with SSE2 (every x86_64), 16 bytes at a time.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn kinds_sse2(block: &[u8; 64]) -> Kinds {
    use std::arch::x86_64::*;
    let mut kinds = Kinds {
        ascii: 0,
        cont: 0,
        lead: 0,
    };
    for (k, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of x86_64; the load reads the 16 bytes of `lane`.
        let [ascii, cont, lead] = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast());
            // `lo..=hi` as one unsigned compare: v - lo <= hi - lo.
            let within = |lo: u8, hi: u8| {
                let off = _mm_sub_epi8(v, _mm_set1_epi8(lo as i8));
                _mm_cmpeq_epi8(_mm_min_epu8(off, _mm_set1_epi8((hi - lo) as i8)), off)
            };
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let ws = _mm_or_si128(_mm_or_si128(eq(b'\t'), eq(b'\n')), eq(b'\r'));
            [
                _mm_or_si128(within(0x20, 0x7E), ws),
                within(0x80, 0xBF),
                within(0xC2, 0xF4),
            ]
            .map(|m| u64::from(_mm_movemask_epi8(m) as u16) << (16 * k))
        };
        kinds.ascii |= ascii;
        kinds.cont |= cont;
        kinds.lead |= lead;
    }
    kinds
}

/// `Kinds` with NEON (every aarch64), 16 bytes at a time.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn kinds_neon(block: &[u8; 64]) -> Kinds {
    use crate::inspect::neon::{eq, load_at, movemask64, none, or, within};
    let lanes: [_; 4] = std::array::from_fn(|k| load_at(block, 16 * k).unwrap_or_else(none));
    let ws = |v| or(or(eq(v, b'\t'), eq(v, b'\n')), eq(v, b'\r'));
    Kinds {
        ascii: movemask64(lanes.map(|v| or(within(v, 0x20, 0x7E), ws(v)))),
        cont: movemask64(lanes.map(|v| within(v, 0x80, 0xBF))),
        lead: movemask64(lanes.map(|v| within(v, 0xC2, 0xF4))),
    }
}

/// `Kinds` with AVX-512: a block in one register, each kind a mask.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn kinds_avx512(block: &[u8; 64]) -> Kinds {
    use std::arch::x86_64::*;
    // SAFETY: the load reads the 64 bytes of `block`.
    let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
    let within = |lo: u8, hi: u8| {
        _mm512_cmple_epu8_mask(
            _mm512_sub_epi8(v, _mm512_set1_epi8(lo as i8)),
            _mm512_set1_epi8((hi - lo) as i8),
        )
    };
    let eq = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
    Kinds {
        ascii: within(0x20, 0x7E) | eq(b'\t') | eq(b'\n') | eq(b'\r'),
        cont: within(0x80, 0xBF),
        lead: within(0xC2, 0xF4),
    }
}

/// Bit `k` set when bits `k..k + MIN_RUN` of `t` are all set: a run that
/// long starts at `k` inside the block.
#[inline(always)]
fn long_runs(t: u64) -> u64 {
    const _: () = assert!(MIN_RUN == 32);
    let mut m = t & (t >> 1);
    m &= m >> 2;
    m &= m >> 4;
    m &= m >> 8;
    m & (m >> 16)
}

impl Runs {
    /// Walks `data`, giving the long runs to `sink`.
    pub fn feed<S: TextSink + ?Sized>(&mut self, data: &[u8], sink: &mut S) {
        let mut i = 0;
        while i < data.len() {
            if self.settled {
                i = Runs::pass(data, i);
                if i >= data.len() {
                    break;
                }
            }
            i = self.walk(data, i, sink);
        }
    }

    /// Ends the body: a run being read ends; a shorter one is dropped.
    pub fn finish<S: TextSink + ?Sized>(&mut self, sink: &mut S) {
        if self.mode == Mode::Reading {
            sink.boundary();
        }
        *self = Runs::default();
    }

    /// The block pass, from `i` with the walk settled: passes over every
    /// block no long run can start in, and returns where the walk must
    /// look (a run that may be long, or the last bytes, fewer than a block).
    fn pass(data: &[u8], i: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::inspect::cpu::vectors().avx512bw {
                // SAFETY: the CPU has AVX-512F and AVX-512BW (`vectors` checked).
                return unsafe { pass_avx512(data, i) };
            }
            pass_with(data, i, kinds_sse2)
        }
        #[cfg(target_arch = "aarch64")]
        return pass_with(data, i, kinds_neon);
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        pass_with(data, i, kinds_bytes)
    }

    /// The byte walk from `start` until it settles (past a byte that is no
    /// text of any kind) or the data ends; returns where it stopped.
    fn walk<S: TextSink + ?Sized>(&mut self, data: &[u8], start: usize, sink: &mut S) -> usize {
        self.settled = false;
        // Bytes of a run being read from here on have not been given to the
        // sink yet: they go in one call where the run or the data ends.
        let mut unsent = start;
        // The character pending at the start began in an earlier call, whose
        // share of it was held back (it might not have been completed).
        let mut carried = self.need > 0;
        let mut i = start;
        while let Some(&b) = data.get(i) {
            if self.need > 0 {
                if b & 0xC0 == 0x80 {
                    if let Some(slot) = self.partial.get_mut(self.partial_len) {
                        *slot = b;
                    }
                    self.partial_len += 1;
                    self.need -= 1;
                    i += 1;
                    if self.need == 0 {
                        let len = std::mem::take(&mut self.partial_len);
                        let whole = self.partial;
                        let whole = whole.get(..len).unwrap_or(&[]);
                        if self.mode == Mode::Gathering {
                            self.gather(whole, sink);
                            unsent = i;
                        } else if carried {
                            sink.text(whole);
                            unsent = i;
                        }
                        carried = false;
                    }
                    continue;
                }
                // A character cut short ends the run before its first byte;
                // `b` is looked at again as what follows.
                let lead_at = if carried { start } else { i - self.partial_len };
                self.end_run(data, unsent, lead_at, sink);
                self.partial_len = 0;
                self.need = 0;
                carried = false;
                unsent = i;
                continue;
            }
            if (0x20..0x7F).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r') {
                i += 1;
                if self.mode == Mode::Gathering {
                    self.gather(&[b], sink);
                    unsent = i;
                }
                continue;
            }
            if let Some(n) = lead(b) {
                self.need = n;
                self.partial[0] = b;
                self.partial_len = 1;
                i += 1;
                continue;
            }
            // No text: the run ends here.
            self.end_run(data, unsent, i, sink);
            i += 1;
            unsent = i;
            if never_text(b) {
                self.settled = true;
                return i;
            }
        }
        // The data ends inside the walk: what is read so far goes to the
        // sink, but not a character still missing bytes (it may yet fail).
        if self.mode == Mode::Reading {
            let end = if carried { start } else { i - self.partial_len };
            if end > unsent {
                sink.text(data.get(unsent..end).unwrap_or(&[]));
            }
        }
        i
    }

    /// Adds whole characters to a run that is still gathering; once it is
    /// long enough, gives it to the sink and reads the rest as it comes.
    fn gather<S: TextSink + ?Sized>(&mut self, bytes: &[u8], sink: &mut S) {
        if self.mode == Mode::Reading {
            sink.text(bytes);
            return;
        }
        let room = MIN_RUN - self.held_len;
        if bytes.len() < room {
            if let Some(dst) = self
                .held
                .get_mut(self.held_len..self.held_len + bytes.len())
            {
                dst.copy_from_slice(bytes);
            }
            self.held_len += bytes.len();
            return;
        }
        sink.text(self.held.get(..self.held_len).unwrap_or(&[]));
        sink.text(bytes);
        self.held_len = 0;
        self.mode = Mode::Reading;
    }

    /// The run ends before `end`: the bytes of it from `unsent` on go to the
    /// sink when it is being read, then a boundary; a short run is dropped.
    fn end_run<S: TextSink + ?Sized>(
        &mut self,
        data: &[u8],
        unsent: usize,
        end: usize,
        sink: &mut S,
    ) {
        if self.mode == Mode::Reading {
            if end > unsent {
                sink.text(data.get(unsent..end).unwrap_or(&[]));
            }
            sink.boundary();
        }
        self.mode = Mode::Gathering;
        self.held_len = 0;
    }
}

/// `Runs::pass` with the kinds of each block from `kinds`. Blocks follow
/// each other at a fixed stride, so the next load never waits on this one's
/// masks; a run crossing into a block is its bits before plus `carry`.
#[inline(always)]
fn pass_with(data: &[u8], mut i: usize, kinds: impl Fn(&[u8; 64]) -> Kinds) -> usize {
    // How many bytes that may be text end the blocks passed (fewer than
    // `MIN_RUN`, or the walk would have been called): the run they start
    // may go on.
    let mut carry = 0;
    while let Some(block) = data.get(i..i + 64) {
        let Ok(block) = <&[u8; 64]>::try_from(block) else {
            break;
        };
        let t = kinds(block).text();
        if carry + t.trailing_ones() as usize >= MIN_RUN {
            return i - carry;
        }
        let long = long_runs(t);
        if long != 0 {
            // The first long run starts after a byte that cannot be text:
            // the walk reads it.
            return i + long.trailing_zeros() as usize;
        }
        // (`t` has a clear bit: a block of text would have a long run.)
        carry = t.leading_ones() as usize;
        i += 64;
    }
    // The last bytes, fewer than a block, are the walk's, from the start
    // of the run that may go on into them.
    i - carry
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn pass_avx512(data: &[u8], i: usize) -> usize {
    // The closure has this function's features: it may call `kinds_avx512`.
    pass_with(data, i, |b| kinds_avx512(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sink::RecordingSink;
    use crate::testutil::noise;
    use proptest::prelude::*;

    /// The runs a byte at a time, straight from the definition.
    fn runs_by_definition(data: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut run: Vec<u8> = Vec::new();
        let mut i = 0;
        let mut close = |run: &mut Vec<u8>| {
            if run.len() >= MIN_RUN {
                out.push(std::mem::take(run));
            }
            run.clear();
        };
        while i < data.len() {
            let b = data[i];
            if (0x20..0x7F).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r') {
                run.push(b);
                i += 1;
            } else if let Some(n) = lead(b) {
                let whole = data
                    .get(i + 1..i + 1 + n)
                    .is_some_and(|c| c.iter().all(|&c| c & 0xC0 == 0x80));
                if whole {
                    run.extend_from_slice(&data[i..=i + n]);
                    i += 1 + n;
                } else {
                    close(&mut run);
                    // The lead is no character: the bytes after it are
                    // looked at afresh.
                    i += 1;
                    while data.get(i).is_some_and(|&c| c & 0xC0 == 0x80) && i < data.len() {
                        // Continuations after a failed lead are no text.
                        i += 1;
                    }
                }
            } else {
                close(&mut run);
                i += 1;
            }
        }
        close(&mut run);
        out
    }

    fn runs_read(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut sink = RecordingSink::default();
        let mut runs = Runs::default();
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
            let cut = cut.clamp(from, data.len());
            runs.feed(&data[from..cut], &mut sink);
            from = cut;
        }
        runs.finish(&mut sink);
        runs_given(sink)
    }

    /// The runs a sink was given: the text between boundaries, each run
    /// closed by one.
    fn runs_given(sink: RecordingSink) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut cur = Vec::new();
        for e in sink.events {
            match e {
                crate::inspect::sink::SinkEvent::Text(t) => cur.extend_from_slice(&t),
                crate::inspect::sink::SinkEvent::Boundary => out.push(std::mem::take(&mut cur)),
                crate::inspect::sink::SinkEvent::Field(_) => unreachable!(),
            }
        }
        assert!(cur.is_empty(), "text after the last boundary");
        out
    }

    /// Blocks of every byte value in turn, and of coded bytes.
    fn blocks() -> Vec<[u8; 64]> {
        let mut out = Vec::new();
        for base in (0..=255u8).step_by(16) {
            let mut block = [0u8; 64];
            for (k, b) in block.iter_mut().enumerate() {
                *b = base.wrapping_add(k as u8);
            }
            out.push(block);
            block.reverse();
            out.push(block);
        }
        for seed in 0..200 {
            out.push(noise(seed, 64).try_into().unwrap());
        }
        out
    }

    #[test]
    fn the_vector_kinds_are_the_byte_kinds() {
        for block in blocks() {
            let want = kinds_bytes(&block);
            #[cfg(target_arch = "aarch64")]
            assert_eq!(kinds_neon(&block), want, "{block:?}");
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(kinds_sse2(&block), want, "{block:?}");
                if std::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the CPU has AVX-512BW.
                    assert_eq!(unsafe { kinds_avx512(&block) }, want, "{block:?}");
                }
            }
            // A byte the walk reads as text is never left out of the mask.
            let text = want.text();
            for (k, &b) in block.iter().enumerate() {
                let ascii = (0x20..0x7F).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r');
                if ascii {
                    assert_eq!(text >> k & 1, 1, "{block:?} at {k}");
                }
            }
        }
    }

    /// Coded media passes over the block pass without the walk: none of
    /// its bytes is a run that could be long.
    #[test]
    fn coded_bytes_are_passed_over_a_block_at_a_time() {
        let data = noise(12, 1 << 20);
        assert!(Runs::pass(&data, 0) > data.len() - 64);
    }

    #[test]
    fn long_runs_marks_exactly_where_a_run_of_32_starts() {
        for seed in 0..2000u64 {
            // Masks with long runs: a few random bits cleared from all ones.
            let mut t = u64::MAX;
            let mut r = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for _ in 0..(seed % 5) {
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                t &= !(1 << (r % 64));
            }
            let want = (0..64).fold(0u64, |m, k| {
                let all = (k..k + MIN_RUN).all(|j| j < 64 && t >> j & 1 == 1);
                m | u64::from(all) << k
            });
            assert_eq!(long_runs(t), want, "{t:064b}");
        }
    }

    /// Text long enough is read wherever it sits in coded bytes; shorter
    /// text and the coded bytes are not.
    #[test]
    fn long_text_in_noise_is_read_and_short_text_is_not() {
        let line = "A123456(3),陳大文,+853 6123 4567,chan@example.com\n".repeat(3);
        let mut data = noise(7, 5000);
        data.extend_from_slice(line.as_bytes());
        data.extend_from_slice(&noise(8, 3000));
        data.extend_from_slice(b"\0short A123456(3)\0");
        data.extend_from_slice(&noise(9, 3000));
        let runs = runs_read(&data, &[]);
        assert_eq!(runs.len(), 1, "{runs:?}");
        let run = String::from_utf8_lossy(&runs[0]).into_owned();
        assert!(run.contains(&line), "{run:?}");
        assert!(run.len() < line.len() + MIN_RUN, "{run:?}");
        assert_eq!(runs, runs_by_definition(&data));
    }

    #[test]
    fn noise_holds_no_run() {
        let data = noise(11, 1 << 20);
        assert_eq!(runs_read(&data, &[]), Vec::<Vec<u8>>::new());
    }

    /// What `Tail` gives for `data`, fed in pieces cut at `cuts`: the text
    /// runs, and the bytes from a joined document's signature on.
    fn tail_read(data: &[u8], cuts: &[usize]) -> (Vec<Vec<u8>>, Option<Vec<u8>>) {
        let mut sink = RecordingSink::default();
        let mut tail = Tail::default();
        let mut joined = None;
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
            let cut = cut.clamp(from, data.len());
            if let Some(j) = tail.feed(&data[from..cut], &mut sink) {
                let mut j = j;
                j.extend_from_slice(&data[cut..]);
                joined = Some(j);
                break;
            }
            from = cut;
        }
        if joined.is_none() {
            tail.finish(&mut sink);
        }
        (runs_given(sink), joined)
    }

    /// The same from the definitions: the first position with a signature
    /// and `NEED` bytes from it; the runs of what comes before.
    fn tail_by_definition(data: &[u8]) -> (Vec<Vec<u8>>, Option<Vec<u8>>) {
        match (0..data.len()).find(|&p| joined_at(data, p)) {
            Some(p) => (runs_by_definition(&data[..p]), Some(data[p..].to_vec())),
            None => (runs_by_definition(data), None),
        }
    }

    const ZIP_HEAD: &[u8] = b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00";

    #[test]
    fn the_vector_pairs_are_the_byte_pairs() {
        let mut data = noise(50, 4096);
        for (k, sig) in [&b"PK"[..], b"%P", b"Ra", b"7z", b"\xd0\xcf"]
            .iter()
            .enumerate()
        {
            data[100 * k + 7..100 * k + 9].copy_from_slice(sig);
        }
        for i in 0..data.len() {
            #[cfg(target_arch = "aarch64")]
            assert_eq!(pairs_neon(&data, i), pairs_bytes(&data, i, 16), "{i}");
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(pairs_sse2(&data, i), pairs_bytes(&data, i, 16), "{i}");
                if std::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the CPU has AVX-512BW.
                    let wide = unsafe { pairs_avx512(&data, i) };
                    assert_eq!(wide, pairs_bytes(&data, i, 64), "{i}");
                }
            }
        }
    }

    /// Each signature is found after coded bytes and text; a look-alike (a
    /// zip header with a method no archiver writes, `%PDF` without its
    /// version) is not.
    #[test]
    fn documents_joined_after_media_are_found_by_their_signatures() {
        let line = "A123456(3),陳大文,+853 6123 4567\n".repeat(3);
        for sig in [
            ZIP_HEAD,
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
            b"Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5\x0a\x01\x05\x06",
            b"7z\xbc\xaf\x27\x1c\x00\x04\x8d\x9b\xd5\x0f\x00\x00\x00\x00",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00\x00\x00\x00\x00",
        ] {
            let mut data = noise(51, 3000);
            data.extend_from_slice(line.as_bytes());
            let at = data.len();
            data.extend_from_slice(sig);
            data.extend_from_slice(&noise(52, 500));
            let (runs, joined) = tail_read(&data, &[]);
            assert_eq!(joined.as_deref(), Some(&data[at..]), "{sig:?}");
            assert!(
                String::from_utf8_lossy(&runs.concat()).contains(&line),
                "{sig:?}"
            );
            assert_eq!((runs, joined), tail_by_definition(&data));
        }
        for fake in [
            &b"PK\x03\x04\x14\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00"[..],
            b"%PDF-x.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        ] {
            let mut data = noise(53, 1000);
            data.extend_from_slice(fake);
            data.extend_from_slice(&noise(54, 100));
            assert_eq!(tail_read(&data, &[]).1, None, "{fake:?}");
        }
    }

    /// The ways a test cuts `len` bytes: whole, at `cuts`, byte by byte.
    fn cut_ways(len: usize, cuts: &[prop::sample::Index]) -> [Vec<usize>; 3] {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(len + 1)).collect();
        at.sort_unstable();
        [Vec::new(), at, (1..len).collect()]
    }

    fn soup() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            "[ -~]{0,50}",
            "[a-z ,\n]{20,90}",
            "[陳大文醫生紙，。 ]{1,30}",
            prop::collection::vec(any::<u8>(), 0..40)
                .prop_map(|v| String::from_utf8_lossy(&v).into_owned()),
        ]
        .prop_map(String::into_bytes);
        let raw = prop::collection::vec(any::<u8>(), 0..40);
        prop::collection::vec(prop_oneof![piece, raw], 0..30).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// The block pass and the walk read what the definition says, cut
        /// anywhere (a character or a run split between calls).
        #[test]
        fn runs_are_the_definitions_however_split(
            data in soup(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let want = runs_by_definition(&data);
            for cut in cut_ways(data.len(), &cuts) {
                prop_assert_eq!(&runs_read(&data, &cut), &want);
            }
        }

        /// A joined document's signature anywhere (or none), the stream cut
        /// anywhere: the runs before it and the bytes from it on are the
        /// definitions'.
        #[test]
        fn a_joined_document_is_found_however_split(
            data in soup(),
            at in any::<prop::sample::Index>(),
            with in any::<bool>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut data = data;
            if with {
                let p = at.index(data.len() + 1);
                data.splice(p..p, ZIP_HEAD.iter().copied());
            }
            let want = tail_by_definition(&data);
            for cut in cut_ways(data.len(), &cuts) {
                prop_assert_eq!(&tail_read(&data, &cut), &want);
            }
        }
    }
}
