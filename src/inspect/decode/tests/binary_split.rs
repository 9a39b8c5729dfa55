//! Binary data of no format, split every way: the UTF-16 strings read from
//! it, the raw bytes and the boundaries between them, and the opaque check
//! must come out the same whatever the calls, from empty bodies to ones past
//! the 64 KiB pieces and the 256 KiB of strings that force a pass.

use proptest::prelude::*;

use super::*;

/// A small xorshift, so that a case is a handful of numbers to shrink.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Opens every body: control bytes, so the sniffer takes it for binary
/// data, and no magic number.
const HEAD: &[u8] = b"\x00\x01\x02\x03\x04\x05\x06\x07\x0e\x0f\x10\x11\x12\x13\x14\x15";

fn push_units(body: &mut Vec<u8>, units: impl IntoIterator<Item = u16>) {
    for u in units {
        body.extend_from_slice(&u.to_le_bytes());
    }
}

fn ascii_unit(r: &mut Rng) -> u16 {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ()-@.,\t\r\n";
    u16::from(A.get(r.below(A.len())).copied().unwrap_or(b'x'))
}

/// A CJK ideograph whose low byte is not zero.
fn cjk_unit(r: &mut Rng) -> u16 {
    let u = 0x4E00 + (r.next() % 0x5200) as u16;
    if u & 0xFF == 0 {
        u | 1
    } else {
        u
    }
}

/// One stretch of a body, by kind, length and seed; returns the places
/// worth cutting at (its start and end, where its strings start and end).
fn segment(body: &mut Vec<u8>, kind: u8, len: usize, seed: u64, marks: &mut Vec<usize>) {
    let mut r = Rng::new(seed);
    marks.push(body.len());
    match kind % 12 {
        // Random bytes.
        0 => body.extend((0..len % 400).map(|_| r.byte())),
        // An ASCII string, in either alignment.
        1 => {
            if seed & 1 == 1 {
                body.push(r.byte());
            }
            marks.push(body.len());
            let n = len % 120;
            push_units(body, (0..n).map(|_| ascii_unit(&mut r)));
        }
        // Chinese with ASCII among it.
        2 => {
            if seed & 1 == 1 {
                body.push(0xD8);
            }
            marks.push(body.len());
            let n = len % 200;
            push_units(
                body,
                (0..n).map(|_| {
                    if r.below(4) == 0 {
                        ascii_unit(&mut r)
                    } else {
                        cjk_unit(&mut r)
                    }
                }),
            );
        }
        // Latin-1 letters (Portuguese) with ASCII.
        3 => {
            let n = len % 150;
            push_units(
                body,
                (0..n).map(|_| {
                    if r.below(2) == 0 {
                        0xC0 + (r.next() % 0x40) as u16
                    } else {
                        ascii_unit(&mut r)
                    }
                }),
            );
        }
        // A long ASCII string: pieces of 4 KiB, and soon 64 KiB of strings.
        4 => {
            if seed & 1 == 1 {
                body.push(0xFF);
            }
            let n = 3000 + len % 9000;
            push_units(body, (0..n).map(|_| ascii_unit(&mut r)));
        }
        // Three ASCII letters, then Chinese with no zero byte: sometimes
        // long enough to pile up past 256 KiB with no NUL.
        5 => {
            if seed & 1 == 1 {
                body.push(0x41);
            }
            let n = if len.is_multiple_of(16) {
                50_000 + len % 60_000
            } else {
                len % 3000
            };
            push_units(body, [u16::from(b'R'), u16::from(b'e'), u16::from(b'f')]);
            push_units(body, (0..n).map(|_| cjk_unit(&mut r)));
        }
        // Zeros.
        6 => body.extend(std::iter::repeat_n(0u8, len % 700)),
        // 0xFF followed as JPEG scan data follows it, or not.
        7 => {
            for _ in 0..len % 64 {
                body.push(0xFF);
                body.push(match r.below(4) {
                    0 => 0,
                    1 => 0xD0 + r.below(8) as u8,
                    2 => r.byte(),
                    _ => 0xFF,
                });
            }
        }
        // A letter or two, then a run of one byte that reads as CJK.
        8 => {
            body.extend_from_slice(b"A\x00B\x00");
            let b = [0x55, 0x4E, 0x9F, 0x30][r.below(4)];
            body.extend(std::iter::repeat_n(b, len % 3000));
        }
        // CJK punctuation and full-width forms, then ASCII.
        9 => {
            let n = len % 100;
            push_units(
                body,
                (0..n).map(|_| match r.below(3) {
                    0 => 0x3000 + (r.next() % 0x40) as u16,
                    1 => 0xFF01 + (r.next() % 0xEE) as u16,
                    _ => ascii_unit(&mut r),
                }),
            );
        }
        // One byte: shifts what follows to the other alignment.
        10 => body.push([0, 0xFF, 0x41, 0xD0][r.below(4)]),
        // A string of exactly the least that is read, or one short of it.
        _ => {
            let s: &[&str] = &["abc\u{4E2D}", "ab\u{4E2D}\u{6587}", "abcd", "abc", "A1 "];
            body.extend(utf16le(s[r.below(s.len())]));
            body.push([0, 0xD8, 0x00][r.below(3)]);
        }
    }
    marks.push(body.len());
}

fn body_of(segs: &[(u8, usize, u64)]) -> (Vec<u8>, Vec<usize>) {
    let mut body = HEAD.to_vec();
    let mut marks = Vec::new();
    for &(kind, len, seed) in segs {
        segment(&mut body, kind, len, seed, &mut marks);
    }
    (body, marks)
}

/// Cut lists for one body: random, one byte apart, at the 64 KiB pieces,
/// at the strings' edges and around its NULs.
fn cut_lists(body: &[u8], marks: &[usize], seed: u64) -> Vec<(&'static str, Vec<usize>)> {
    let n = body.len();
    let mut r = Rng::new(seed);
    let mut lists = Vec::new();
    let random: Vec<usize> = (0..1 + r.below(30)).map(|_| r.below(n + 1)).collect();
    lists.push(("random", random));
    let at = r.below(n + 1);
    lists.push(("one byte apart", (at..(at + 48).min(n)).collect()));
    let mut pieces = Vec::new();
    for k in 1..=n / (64 << 10) + 1 {
        let p = k * (64 << 10);
        pieces.extend([p.saturating_sub(1), p, p + 1, p + 7]);
    }
    // Calls larger than a piece, and not a multiple of it.
    pieces.extend([100_000, 200_001, 300_002]);
    lists.push(("pieces", pieces));
    let shift = [0usize, 1, 2, 3];
    let edges: Vec<usize> = marks
        .iter()
        .map(|&m| (m + shift[r.below(4)]).saturating_sub(1))
        .collect();
    lists.push(("edges", edges));
    // A NUL first or last in a call.
    let nuls: Vec<usize> = body
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == 0)
        .map(|(i, _)| i)
        .filter_map(|i| match r.below(32) {
            0 => Some(i),
            1 => Some(i + 1),
            _ => None,
        })
        .collect();
    lists.push(("nuls", nuls));
    if n <= 6000 {
        lists.push(("bytewise", (1..n).collect()));
    }
    for (_, l) in &mut lists {
        l.sort_unstable();
        l.dedup();
    }
    lists
}

fn limits_of(pick: u8, n: usize) -> Limits {
    let min = match pick % 6 {
        0 => 0,
        1 => 1,
        2 => n as u64,
        3 => n as u64 + 1,
        4 => 64,
        _ => Limits::default().opaque_min_bytes,
    };
    Limits {
        opaque_min_bytes: min,
        ..Limits::default()
    }
}

/// Whether the body was read as binary data (a head of UTF-16 with commas
/// and line ends is sniffed as CSV), and then split every way.
fn check_splits(body: &[u8], marks: &[usize], limits: &Limits, seed: u64) -> bool {
    let hint = ContentHint::default();
    let whole = scan_chunks(body, &hint, limits, &[]);
    if whole.1.formats != ["binary"] {
        return false;
    }
    for (name, cuts) in cut_lists(body, marks, seed) {
        let split = scan_chunks(body, &hint, limits, &cuts);
        if split.0 != whole.0 {
            let first = split
                .0
                .events
                .iter()
                .zip(&whole.0.events)
                .position(|(a, b)| a != b);
            panic!(
                "{name}: events differ (at event {first:?}; {} vs {} events) with cuts {cuts:?}",
                split.0.events.len(),
                whole.0.events.len()
            );
        }
        assert_eq!(
            split.1, whole.1,
            "{name}: report differs with cuts {cuts:?}"
        );
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Mixed bodies: noise, strings of every kind in both alignments, zero
    /// runs, 0xFF pairs; now and then far past 64 and 256 KiB.
    #[test]
    fn binary_bodies_scan_the_same_however_split(
        segs in prop::collection::vec((0u8..12, 0usize..1_000_000, any::<u64>()), 0..40),
        cut_seed in any::<u64>(),
        pick in any::<u8>(),
    ) {
        let (body, marks) = body_of(&segs);
        prop_assume!(check_splits(&body, &marks, &limits_of(pick, body.len()), cut_seed));
    }

    /// Bodies of up to ten bytes, at every split and byte by byte.
    #[test]
    fn tiny_binary_bodies_scan_the_same_however_split(
        body in prop::collection::vec(
            prop::sample::select(vec![0u8, 1, 0x0e, 0x20, 0x41, 0x4E, 0x55, 0xC0, 0xD0, 0xFF]),
            0..=10,
        ),
        min in 0u64..12,
    ) {
        let limits = Limits { opaque_min_bytes: min, ..Limits::default() };
        scan_all_ways("tiny", &body, &ContentHint::default(), &limits);
    }

    /// Short bodies of the bytes that matter to the string reader, at every
    /// split: odd lengths, strings ending at the last byte of a call, a NUL
    /// first or last in one.
    #[test]
    fn short_binary_bodies_scan_the_same_however_split(
        tail in prop::collection::vec(
            prop::sample::select(vec![0u8, 0, 0, 0x01, 0x41, 0x61, 0x20, 0x4E, 0x30, 0xC0, 0xD0, 0xFF]),
            0..400,
        ),
        odd in any::<bool>(),
        min in 0u64..600,
    ) {
        let mut body = HEAD.get(..if odd { 3 } else { 4 }).unwrap_or_default().to_vec();
        body.extend(tail);
        let limits = Limits { opaque_min_bytes: min, ..Limits::default() };
        scan_all_ways("short", &body, &ContentHint::default(), &limits);
    }
}

/// A body of one byte left the odd alignment's first unit past the data's
/// end, and the string reader subtracted past zero (a panic in debug
/// builds, a wrapped offset in release).
#[test]
fn binary_bodies_of_one_or_two_bytes_are_read() {
    for body in [
        &b"\x00"[..],
        b"\x01",
        b"\x00\x00",
        b"A\x00",
        b"\x00A",
        b"\x01\xff",
    ] {
        let (sink, report) = scan_all_ways(
            "one byte",
            body,
            &ContentHint::default(),
            &Limits::default(),
        );
        assert_eq!(report.formats, vec!["binary"], "{body:?}");
        assert_eq!(
            sink.events,
            vec![SinkEvent::Text(body.to_vec()), B],
            "{body:?}"
        );
    }
}
