//! NEON building blocks for the 16-byte kernels the hot path runs on aarch64
//! where x86_64 runs SSE2: NEON is part of every aarch64 CPU, as SSE2 is of
//! every x86_64 one, so ARM laptops and gateways read 16 bytes per step too
//! instead of falling back to a byte at a time.
//!
//! NEON has no `pmovmskb`; `movemask` and `movemask64` weigh each lane by its
//! bit and add across lanes, which is how its compares become the bit masks
//! the kernels' callers walk.

use std::arch::aarch64::*;

/// A vector of lanes that are all-ones (`0xFF`) or all-zeros.
pub(crate) type Lanes = uint8x16_t;

/// Each lane's bit within its byte of the mask: lanes 0–7 make the low byte,
/// lanes 8–15 the high one.
const WEIGHTS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];

/// The 16 bytes of `block`.
#[inline(always)]
pub(crate) fn load(block: &[u8; 16]) -> uint8x16_t {
    // SAFETY: NEON is part of every aarch64 CPU; the load reads the 16 bytes
    // of `block`.
    unsafe { vld1q_u8(block.as_ptr()) }
}

/// The 16 bytes of `s` from `at`, or `None` where fewer are left.
#[inline(always)]
pub(crate) fn load_at(s: &[u8], at: usize) -> Option<uint8x16_t> {
    let block = s.get(at..at.checked_add(16)?)?;
    <&[u8; 16]>::try_from(block).ok().map(load)
}

/// No lane set.
#[inline(always)]
pub(crate) fn none() -> Lanes {
    // SAFETY: NEON is part of every aarch64 CPU; no memory is touched.
    unsafe { vdupq_n_u8(0) }
}

/// Lanes equal to `c`.
#[inline(always)]
pub(crate) fn eq(v: uint8x16_t, c: u8) -> Lanes {
    // SAFETY: NEON is part of every aarch64 CPU; no memory is touched.
    unsafe { vceqq_u8(v, vdupq_n_u8(c)) }
}

/// Lanes within `lo..=hi` (unsigned; `lo <= hi`), as one compare of `v - lo`.
#[inline(always)]
pub(crate) fn within(v: uint8x16_t, lo: u8, hi: u8) -> Lanes {
    // SAFETY: NEON is part of every aarch64 CPU; no memory is touched.
    unsafe { vcleq_u8(vsubq_u8(v, vdupq_n_u8(lo)), vdupq_n_u8(hi.wrapping_sub(lo))) }
}

/// Lanes that are ASCII letters, either case.
#[inline(always)]
pub(crate) fn letter(v: uint8x16_t) -> Lanes {
    // SAFETY: NEON is part of every aarch64 CPU; no memory is touched.
    within(unsafe { vorrq_u8(v, vdupq_n_u8(0x20)) }, b'a', b'z')
}

/// Lanes that are ASCII digits.
#[inline(always)]
pub(crate) fn digit(v: uint8x16_t) -> Lanes {
    within(v, b'0', b'9')
}

/// `a | b`.
#[inline(always)]
pub(crate) fn or(a: Lanes, b: Lanes) -> Lanes {
    // SAFETY: NEON is part of every aarch64 CPU; no memory is touched.
    unsafe { vorrq_u8(a, b) }
}

/// `a & b`.
#[inline(always)]
pub(crate) fn and(a: Lanes, b: Lanes) -> Lanes {
    // SAFETY: NEON is part of every aarch64 CPU; no memory is touched.
    unsafe { vandq_u8(a, b) }
}

/// `a & !b`.
#[inline(always)]
pub(crate) fn and_not(a: Lanes, b: Lanes) -> Lanes {
    // SAFETY: NEON is part of every aarch64 CPU; no memory is touched.
    unsafe { vbicq_u8(a, b) }
}

/// Bit `k` set when lane `k` is.
#[inline(always)]
pub(crate) fn movemask(m: Lanes) -> u32 {
    // SAFETY: NEON is part of every aarch64 CPU; the load reads the 16 bytes
    // of `WEIGHTS`.
    unsafe {
        let bits = vandq_u8(m, vld1q_u8(WEIGHTS.as_ptr()));
        u32::from(vaddv_u8(vget_low_u8(bits))) | u32::from(vaddv_u8(vget_high_u8(bits))) << 8
    }
}

/// `movemask` of 64 lanes, `m[0]`'s in the low 16 bits: three rounds of
/// pairwise adds instead of four reductions.
#[inline(always)]
pub(crate) fn movemask64(m: [Lanes; 4]) -> u64 {
    // SAFETY: NEON is part of every aarch64 CPU; the load reads the 16 bytes
    // of `WEIGHTS`, the store writes the 16 of `bytes`.
    unsafe {
        let w = vld1q_u8(WEIGHTS.as_ptr());
        let [a, b, c, d] = m.map(|v| vandq_u8(v, w));
        // Each round halves the lanes, adding neighbours (whose bits differ):
        // after three, byte `j` holds lanes `8j..8j + 8`.
        let ab = vpaddq_u8(a, b);
        let cd = vpaddq_u8(c, d);
        let abcd = vpaddq_u8(ab, cd);
        // Through memory rather than a 64-bit lane, which a big-endian
        // target would number the other way; on little-endian aarch64 this
        // compiles to the same single move.
        let mut bytes = [0u8; 16];
        vst1q_u8(bytes.as_mut_ptr(), vpaddq_u8(abcd, abcd));
        let [b0, b1, b2, b3, b4, b5, b6, b7, ..] = bytes;
        u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vector whose lane `k` is set where bit `k` of `bits` is.
    fn lanes(bits: u16) -> Lanes {
        let bytes: [u8; 16] = std::array::from_fn(|k| if bits >> k & 1 == 1 { 0xFF } else { 0 });
        load(&bytes)
    }

    #[test]
    fn masks_keep_every_lane_in_its_place() {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let words = [
                s as u16,
                (s >> 16) as u16,
                (s >> 32) as u16,
                (s >> 48) as u16,
            ];
            assert_eq!(movemask(lanes(words[0])), u32::from(words[0]));
            assert_eq!(movemask64(words.map(lanes)), s);
        }
        assert_eq!(movemask64([lanes(u16::MAX); 4]), u64::MAX);
        assert_eq!(movemask64([lanes(0); 4]), 0);
    }

    #[test]
    fn byte_classes_agree_with_the_standard_library() {
        let all: [u8; 256] = std::array::from_fn(|b| b as u8);
        for block in all.chunks_exact(16) {
            let block = <&[u8; 16]>::try_from(block).unwrap();
            let v = load(block);
            let want = |f: &dyn Fn(u8) -> bool| {
                block
                    .iter()
                    .enumerate()
                    .fold(0u32, |m, (k, &b)| m | u32::from(f(b)) << k)
            };
            assert_eq!(movemask(letter(v)), want(&|b| b.is_ascii_alphabetic()));
            assert_eq!(movemask(digit(v)), want(&|b| b.is_ascii_digit()));
            assert_eq!(movemask(within(v, 0x80, 0xBF)), want(&|b| b & 0xC0 == 0x80));
            assert_eq!(movemask(eq(v, b'@')), want(&|b| b == b'@'));
        }
    }
}
