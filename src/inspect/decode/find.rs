//! Byte scanning for the JSON and CSV decoders: where the next of a few
//! bytes is (a JSON string's `"` or `\`, a CSV cell's separator or line
//! end), and how long a number runs. It knows nothing of either grammar.
//!
//! Chat JSON is mostly short strings (keys, ids, "text") and a customer list
//! short cells, so the end of one is found from a bit mask of those bytes in
//! the next 64, classified once and kept while the parser walks through it:
//! the strings or cells of a block share one classification instead of
//! paying a `memchr2` or `memchr3` call each.

/// Bytes classified at once.
const BLOCK: usize = 64;

/// Where the next of `K` bytes (two or three, none of them 0) is in one
/// chunk, one 64-byte block at a time. Valid for the chunk it is used on:
/// make a new one per `feed`.
pub(crate) struct Finder<const K: usize> {
    /// Where the classified block starts. Before the first, a value that
    /// makes every `from - base` (wrapping) at least `BLOCK`.
    base: usize,
    /// Bit `k` set: `data[base + k]` is one of `needles`.
    bits: u64,
    needles: [u8; K],
}

/// A JSON string's end or escape.
pub(crate) type QuoteFinder = Finder<2>;

impl QuoteFinder {
    pub fn quotes() -> Self {
        Finder::new([b'"', b'\\'])
    }
}

impl<const K: usize> Finder<K> {
    pub fn new(needles: [u8; K]) -> Self {
        Finder {
            base: usize::MAX - (BLOCK - 1),
            bits: 0,
            needles,
        }
    }

    /// The first needle at or after `from`, if `data` has one. `data` must
    /// be the same slice on every call (`from` may go anywhere in it).
    #[inline(always)]
    pub fn next(&mut self, data: &[u8], from: usize) -> Option<usize> {
        let mut off = from.wrapping_sub(self.base);
        if off >= BLOCK {
            if from >= data.len() {
                return None;
            }
            self.load(data, from);
            off = 0;
        }
        let m = self.bits >> off;
        if m != 0 {
            return Some(from + m.trailing_zeros() as usize);
        }
        self.far(data, self.base + BLOCK)
    }

    fn load(&mut self, data: &[u8], from: usize) {
        self.base = from;
        self.bits = match data.get(from..from + BLOCK) {
            Some(b) => classify(b, self.needles),
            None => self.tail(data, from),
        };
    }

    /// Past the block: a long string (a message's text), where `memchr2`'s
    /// or `memchr3`'s wider loop wins. The next call past it classifies a
    /// block afresh.
    #[inline(never)]
    fn far(&self, data: &[u8], from: usize) -> Option<usize> {
        let rest = data.get(from..)?;
        let n = self.needles;
        let found = match (n.first(), n.get(1), n.get(2)) {
            (Some(&a), Some(&b), Some(&c)) => memchr::memchr3(a, b, c, rest),
            (Some(&a), Some(&b), None) => memchr::memchr2(a, b, rest),
            (Some(&a), None, None) => memchr::memchr(a, rest),
            _ => rest.iter().position(|c| n.contains(c)),
        };
        found.map(|k| from + k)
    }

    /// The mask of the chunk's last bytes, from `from` on: the last 64 bytes
    /// of the chunk are classified and shifted (no copy); a chunk shorter
    /// than that is copied into zeros, which are no needle.
    #[cold]
    fn tail(&self, data: &[u8], from: usize) -> u64 {
        if let Some(start) = data.len().checked_sub(BLOCK) {
            let last = data.get(start..).map_or(0, |b| classify(b, self.needles));
            return last
                .checked_shr((from.saturating_sub(start)) as u32)
                .unwrap_or(0);
        }
        let mut tmp = [0u8; BLOCK];
        let rest = data.get(from..).unwrap_or(&[]);
        if let Some(dst) = tmp.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        classify(&tmp, self.needles)
    }
}

/// Bit `k` set when `block[k]` is one of `needles`; `block` is 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify<const K: usize>(block: &[u8], needles: [u8; K]) -> u64 {
    use std::arch::x86_64::*;
    let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
        return classify_scalar(block, &needles);
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, and each unaligned load reads
    // 16 bytes at offsets 0, 16, 32 and 48 of the 64-byte array.
    unsafe {
        let p = block.as_ptr();
        let wanted = needles.map(|c| _mm_set1_epi8(c as i8));
        let lane = |k: usize| {
            let v = _mm_loadu_si128(p.add(k).cast::<__m128i>());
            let hit = wanted.iter().fold(_mm_setzero_si128(), |m, &w| {
                _mm_or_si128(m, _mm_cmpeq_epi8(v, w))
            });
            u64::from(_mm_movemask_epi8(hit) as u32 & 0xffff)
        };
        lane(0) | lane(16) << 16 | lane(32) << 32 | lane(48) << 48
    }
}

/// `classify` with NEON (every aarch64), 16 bytes per compare.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn classify<const K: usize>(block: &[u8], needles: [u8; K]) -> u64 {
    use crate::inspect::neon::{eq, load_at, movemask64, none, or};
    let lanes = [0, 16, 32, 48].map(|at| load_at(block, at));
    let [Some(a), Some(b), Some(c), Some(d)] = lanes else {
        return classify_scalar(block, &needles);
    };
    movemask64([a, b, c, d].map(|v| needles.iter().fold(none(), |m, &n| or(m, eq(v, n)))))
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn classify<const K: usize>(block: &[u8], needles: [u8; K]) -> u64 {
    classify_scalar(block, &needles)
}

/// The portable `classify` (and the vector forms' fallback for a short
/// block), and the reference they are tested against.
fn classify_scalar(block: &[u8], needles: &[u8]) -> u64 {
    block
        .iter()
        .take(BLOCK)
        .enumerate()
        .filter(|(_, c)| needles.contains(c))
        .fold(0, |m, (k, _)| m | 1 << k)
}

/// Length of the run of number bytes (`0-9 + - . e E`) that `s` starts with.
/// Digits are taken 8 at a time: timestamps and phone numbers are 11 to 13.
#[inline]
pub(crate) fn number_run(s: &[u8]) -> usize {
    const LO: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const HI: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    let mut n = 0;
    while let Some(w) = s.get(n..n + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let x = u64::from_le_bytes(w);
        // Per byte, non-zero unless it is an ASCII digit: the high nibble must
        // be 3 and the low one at most 9 (adding 6 must not reach 0x10).
        // No carry crosses bytes: 0x0f + 0x06 < 0x100.
        let not_digit = ((x & HI) ^ 0x3030_3030_3030_3030)
            | (((x & LO) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010);
        if not_digit != 0 {
            n += not_digit.trailing_zeros() as usize / 8;
            break;
        }
        n += 8;
    }
    n + s
        .get(n..)
        .unwrap_or(&[])
        .iter()
        .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*, for blocks that are mostly quotes, backslashes and text.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The needle sets the decoders use: JSON's, and CSV's for each separator.
    const QUOTES: [u8; 2] = [b'"', b'\\'];
    const CELL_ENDS: [[u8; 3]; 4] = [
        [b',', b'\n', b'\r'],
        [b';', b'\n', b'\r'],
        [b'\t', b'\n', b'\r'],
        [b'|', b'\n', b'\r'],
    ];

    fn classify_agrees<const K: usize>(needles: [u8; K], s: &mut u64) {
        let alphabet = b"\"\\a \x00\xff\x22\x5c\xa2\xdc{}:,;|\t\n\r";
        for _ in 0..5_000 {
            let mut block = [0u8; BLOCK];
            for b in &mut block {
                *b = alphabet[(rng(s) % alphabet.len() as u64) as usize];
            }
            assert_eq!(
                classify(&block, needles),
                classify_scalar(&block, &needles),
                "{block:?}"
            );
            let short = (rng(s) % 64) as usize;
            assert_eq!(classify_scalar(&block[..short], &needles) >> short, 0);
        }
        for &c in &needles {
            let all = [c; BLOCK];
            assert_eq!(classify(&all, needles), u64::MAX);
        }
        assert_eq!(classify(&[b'x'; BLOCK], needles), 0);
    }

    #[test]
    fn simd_and_scalar_classify_agree() {
        let mut s = 0x1234_5678_9abc_def1u64;
        classify_agrees(QUOTES, &mut s);
        for ends in CELL_ENDS {
            classify_agrees(ends, &mut s);
        }
    }

    fn finder_agrees<const K: usize>(needles: [u8; K], s: &mut u64) {
        let lens = [
            0usize, 1, 5, 63, 64, 65, 127, 128, 129, 300, 1023, 1024, 1025, 1089, 3000,
        ];
        for len in lens {
            // Dense, sparse and nearly empty: long gaps cross words and windows.
            for density in [5u64, 23, 150, 5000] {
                let data: Vec<u8> = (0..len)
                    .map(|_| match rng(s) % density {
                        k if (k as usize) < K => needles[k as usize],
                        _ => b'x',
                    })
                    .collect();
                let want = |from: usize| {
                    data.get(from..)
                        .and_then(|r| r.iter().position(|c| needles.contains(c)))
                        .map(|p| p + from)
                };
                // Forward as the parser goes (one finder per chunk), and back.
                for step in [1, 2, 7, 61, 64, 65, 200] {
                    let mut q = Finder::new(needles);
                    let mut from = 0;
                    while from <= len + 1 {
                        assert_eq!(q.next(&data, from), want(from), "len {len} from {from}");
                        from += step;
                    }
                    for from in (0..len).rev().step_by(step * 3) {
                        assert_eq!(q.next(&data, from), want(from), "len {len} back {from}");
                    }
                }
            }
        }
    }

    #[test]
    fn finder_matches_a_plain_search_from_every_start() {
        let mut s = 0x0bad_cafe_f00d_1234u64;
        finder_agrees(QUOTES, &mut s);
        for ends in CELL_ENDS {
            finder_agrees(ends, &mut s);
        }
    }

    #[test]
    fn number_runs() {
        for (s, n) in [
            (&b""[..], 0),
            (b"1764384000000}", 13),
            (b"12345678", 8),
            (b"123456789", 9),
            (b"-1.5e+3,", 7),
            (b"1234567.9E-3 ", 12),
            (b"12345678/", 8),
            (b"1234567:", 7),
            (b"0123456\xb9", 7),
            (b"\x30\x39\x3a\x2f", 2),
            (b"x1", 0),
        ] {
            assert_eq!(number_run(s), n, "{:?}", String::from_utf8_lossy(s));
        }
        // Every byte value after a run of 7 digits, against the plain rule.
        for c in 0..=255u8 {
            let mut s = b"1234567".to_vec();
            s.push(c);
            s.extend_from_slice(b"89");
            let plain = s
                .iter()
                .take_while(|c| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .count();
            assert_eq!(number_run(&s), plain, "byte {c:#x}");
        }
    }
}
