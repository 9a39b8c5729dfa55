//! Byte scanning for the JSON decoder: where the next `"` or `\` is, and how
//! long a number runs. It knows nothing of JSON's grammar.
//!
//! Chat JSON is mostly short strings (keys, ids, "text"), so the end of a string
//! is found from a bit mask of the `"` and `\` in the next 64 bytes, classified
//! once and kept while the parser walks through it: the strings of a block
//! share one classification instead of paying a `memchr2` call each.

/// Bytes classified at once.
const BLOCK: usize = 64;

/// The `"` and `\` of one chunk, one 64-byte block at a time. Valid for the
/// chunk it is used on: make a new one per `feed`.
pub(crate) struct QuoteFinder {
    /// Where the classified block starts. Before the first, a value that
    /// makes every `from - base` (wrapping) at least `BLOCK`.
    base: usize,
    /// Bit `k` set: `data[base + k]` is `"` or `\`.
    bits: u64,
}

impl QuoteFinder {
    pub fn new() -> Self {
        QuoteFinder {
            base: usize::MAX - (BLOCK - 1),
            bits: 0,
        }
    }

    /// The first `"` or `\` at or after `from`, if `data` has one. `data` must
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
        far(data, self.base + BLOCK)
    }

    fn load(&mut self, data: &[u8], from: usize) {
        self.base = from;
        self.bits = match data.get(from..from + BLOCK) {
            Some(b) => classify(b),
            None => tail(data, from),
        };
    }
}

/// Past the block: a long string (a message's text), where `memchr2`'s
/// wider loop wins. The next call past it classifies a block afresh.
#[inline(never)]
fn far(data: &[u8], from: usize) -> Option<usize> {
    memchr::memchr2(b'"', b'\\', data.get(from..)?).map(|k| from + k)
}

/// The mask of the chunk's last bytes, from `from` on: the last 64 bytes of
/// the chunk are classified and shifted (no copy); a chunk shorter than that
/// is copied into zeros, which are neither `"` nor `\`.
#[cold]
fn tail(data: &[u8], from: usize) -> u64 {
    if let Some(start) = data.len().checked_sub(BLOCK) {
        let last = data.get(start..).map_or(0, classify);
        return last
            .checked_shr((from.saturating_sub(start)) as u32)
            .unwrap_or(0);
    }
    let mut tmp = [0u8; BLOCK];
    let rest = data.get(from..).unwrap_or(&[]);
    if let Some(dst) = tmp.get_mut(..rest.len()) {
        dst.copy_from_slice(rest);
    }
    classify(&tmp)
}

/// Bit `k` set when `block[k]` is `"` or `\`; `block` is 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(block: &[u8]) -> u64 {
    use std::arch::x86_64::*;
    let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
        return classify_scalar(block);
    };
    // SAFETY: SSE2 is part of the x86_64 baseline, and each unaligned load reads
    // 16 bytes at offsets 0, 16, 32 and 48 of the 64-byte array.
    unsafe {
        let p = block.as_ptr();
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let lane = |k: usize| {
            let v = _mm_loadu_si128(p.add(k).cast::<__m128i>());
            let hit = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
            u64::from(_mm_movemask_epi8(hit) as u32 & 0xffff)
        };
        lane(0) | lane(16) << 16 | lane(32) << 32 | lane(48) << 48
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn classify(block: &[u8]) -> u64 {
    classify_scalar(block)
}

/// The portable `classify`, and the reference its SIMD form is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classify_scalar(block: &[u8]) -> u64 {
    block
        .iter()
        .take(BLOCK)
        .enumerate()
        .filter(|(_, &c)| c == b'"' || c == b'\\')
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

    #[test]
    fn simd_and_scalar_classify_agree() {
        let mut s = 0x1234_5678_9abc_def1u64;
        let alphabet = b"\"\\a \x00\xff\x22\x5c\xa2\xdc{}:,";
        for _ in 0..20_000 {
            let mut block = [0u8; BLOCK];
            for b in &mut block {
                *b = alphabet[(rng(&mut s) % alphabet.len() as u64) as usize];
            }
            assert_eq!(classify(&block), classify_scalar(&block), "{block:?}");
            let short = (rng(&mut s) % 64) as usize;
            assert_eq!(classify_scalar(&block[..short]) >> short, 0);
        }
        let mut all = [0u8; BLOCK];
        all.fill(b'"');
        assert_eq!(classify(&all), u64::MAX);
        all.fill(b'\\');
        assert_eq!(classify(&all), u64::MAX);
    }

    #[test]
    fn finder_matches_a_plain_search_from_every_start() {
        let mut s = 0x0bad_cafe_f00d_1234u64;
        let lens = [
            0usize, 1, 5, 63, 64, 65, 127, 128, 129, 300, 1023, 1024, 1025, 1089, 3000,
        ];
        for len in lens {
            // Dense, sparse and nearly empty: long gaps cross words and windows.
            for density in [5u64, 23, 150, 5000] {
                let data: Vec<u8> = (0..len)
                    .map(|_| match rng(&mut s) % density {
                        0 => b'"',
                        1 => b'\\',
                        _ => b'x',
                    })
                    .collect();
                let want = |from: usize| {
                    data.get(from..)
                        .and_then(|r| r.iter().position(|&c| c == b'"' || c == b'\\'))
                        .map(|p| p + from)
                };
                // Forward as the parser goes (one finder per chunk), and back.
                for step in [1, 2, 7, 61, 64, 65, 200] {
                    let mut q = QuoteFinder::new();
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
