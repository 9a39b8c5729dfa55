//! Helpers shared by the unit tests of several modules.

/// `n` bytes as random as compressed or encrypted data (xorshift from
/// `seed`): reproducible, and opaque to every decoder.
pub(crate) fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
