//! Binary data in no format read here: scanned as bytes as before (strings
//! in it still count), with its UTF-16LE strings read as text, and reported
//! unread when its bytes are as random as compressed or encrypted data are.
//!
//! The last is what keeps a body from passing for empty when it is a chunk
//! of a larger upload (the second half of a zip), a container that encrypts
//! without a header (VeraCrypt), or a format of compressed data sluice does
//! not know: none of these can be read, and the scan says so.

use memchr::memchr;

use super::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// Bits of entropy per byte, corrected for the body's length, past which the
/// bytes are taken for compressed or encrypted data. Deflate, LZMA and AES
/// output measure 7.9–8.0; text in any encoding, executables, databases
/// and fonts stay under 7.
const OPAQUE_BITS: f64 = 7.5;

/// A UTF-16 string is read once it has this many characters, and this many
/// of them in ASCII (see `Wide::qualified`).
const WIDE_MIN: u32 = 4;
const WIDE_MIN_ASCII: u32 = 3;

/// Characters of a string looked back over from its first ASCII one (whose
/// zero high byte is what the search finds): 64, a long line of Chinese.
/// The stream keeps those bytes (and a unit more) from one call to the
/// next, so the look back sees the same bytes however the body is split.
const LOOK_BACK: usize = 64;
const CARRY: usize = 2 * LOOK_BACK + 4;

/// A string longer than this is passed on in pieces; one that is not yet
/// text keeps only its last `WIDE_TAIL` bytes.
const WIDE_PIECE: usize = 4096;
const WIDE_TAIL: usize = 512;

/// Strings read from UTF-16 wait until the byte stream reaches a NUL, where
/// they are passed on between boundaries. Past this much they are passed at
/// the next NUL.
const WIDE_FLUSH: usize = 64 << 10;
/// Past this much they are passed on where the last one ended, NUL or not:
/// a long string of CJK characters has no NUL for as long as it runs.
const WIDE_FORCE: usize = 256 << 10;

/// Bytes handled at once; a larger call is taken in pieces of this size.
const PIECE: usize = 64 << 10;

/// A UTF-16 string being read, in one byte alignment of the stream.
#[derive(Default)]
struct Wide {
    /// The string so far, as UTF-8 (what is left after pieces passed on).
    text: Vec<u8>,
    chars: u32,
    ascii: u32,
    /// Whether a string is open at `next` (it reached the end of the data).
    open: bool,
    /// Global offset of the next unit of this alignment to read.
    next: u64,
}

impl Wide {
    /// Binary data read two bytes at a time makes CJK characters of any two
    /// ASCII letters, and of random bytes a third of the time; a string that
    /// has at least a few characters below U+0080 (a zero high byte each) is
    /// text written as UTF-16, as Windows keeps its strings.
    fn qualified(&self) -> bool {
        self.chars >= WIDE_MIN && self.ascii >= WIDE_MIN_ASCII
    }

    fn reset(&mut self) {
        self.text.clear();
        self.chars = 0;
        self.ascii = 0;
        self.open = false;
    }
}

/// A code unit as text: ASCII (`Some(true)`), another character Macau's
/// documents are written in (`Some(false)`: Latin letters for Portuguese, CJK
/// punctuation and ideographs, full-width forms), or none (`None`).
#[inline]
fn text_unit(lo: u8, hi: u8) -> Option<bool> {
    match hi {
        0 if matches!(lo, 0x20..=0x7E | b'\t' | b'\n' | b'\r') => Some(true),
        0 if lo >= 0xC0 => Some(false),
        0x30 if lo <= 0x3F => Some(false),
        0x4E..=0x9F => Some(false),
        0xFF if lo <= 0xEF => Some(false),
        _ => None,
    }
}

/// Bit 7 of each byte of `x` that is printable ASCII (0x20–0x7E).
#[inline]
fn printable(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = x & LOW7;
    // At least 0x20: adding 0x60 carries into bit 7; below 0x7F: adding 1 does not.
    (low + 0x6060_6060_6060_6060) & !(low + 0x0101_0101_0101_0101) & !x & HIGH
}

/// Bit 7 of each byte of `x` that is zero.
#[inline]
fn zero(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LOW7) + LOW7) | x) & 0x8080_8080_8080_8080
}

/// The first index at or after `from` of a printable ASCII byte followed by
/// a NUL (a UTF-16 character below U+0080) at an even index (`even`) or an
/// odd one: eight bytes at a time, so that zeros, random bytes and code go
/// by at a fraction of a nanosecond a byte.
fn next_anchor(buf: &[u8], from: usize, even: bool) -> Option<usize> {
    let mut i = from;
    while let (Some(lo), Some(hi)) = (buf.get(i..i + 8), buf.get(i + 1..i + 9)) {
        let lo = u64::from_le_bytes(lo.try_into().ok()?);
        let hi = u64::from_le_bytes(hi.try_into().ok()?);
        // Keep the bytes at the wanted parity of index (`i + j`).
        let lanes = if i.is_multiple_of(2) == even {
            0x0080_0080_0080_0080
        } else {
            0x8000_8000_8000_8000
        };
        let m = printable(lo) & zero(hi) & lanes;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while let Some(&[lo, hi]) = buf.get(i..i + 2) {
        if i.is_multiple_of(2) == even && hi == 0 && (0x20..=0x7E).contains(&lo) {
            return Some(i);
        }
        i += 1;
    }
    None
}

pub(crate) struct BinaryNode {
    counts: Box<[[u64; 256]; 4]>,
    total: u64,
    /// Whether the bytes are judged for randomness: not in a format known
    /// to hold pictures' compressed data (EMF), whose strings are still read.
    judge: bool,
    /// JPEG entropy-coded data writes every 0xFF as FF 00 or as a restart
    /// marker (FF D0–D7): a chunk cut from the middle of a JPEG shows it,
    /// where random bytes follow an FF with anything.
    ff: u64,
    ff_as_jpeg: u64,
    /// The last `CARRY` bytes before the current call, and then the call's
    /// bytes (`window`), so that units and look-backs across calls read the
    /// same bytes as within one.
    window: Vec<u8>,
    /// Global offset of `window[0]`.
    window_at: u64,
    /// The string being read in each alignment (by the parity of its offset).
    wide: [Wide; 2],
    /// Finished UTF-16 strings, by the offset where each ended; passed on,
    /// each followed by a boundary, at the first NUL once they are many.
    done: Vec<(u64, Vec<u8>)>,
    /// A NUL at or after this offset passes the strings on; so does this
    /// offset itself (`thresholds`).
    flush_from: Option<u64>,
    force_from: Option<u64>,
}

impl BinaryNode {
    pub fn new(judge: bool) -> Self {
        BinaryNode {
            counts: Box::new([[0; 256]; 4]),
            total: 0,
            judge,
            ff: 0,
            ff_as_jpeg: 0,
            window: Vec::new(),
            window_at: 0,
            wide: [
                Wide::default(),
                Wide {
                    next: 1,
                    ..Wide::default()
                },
            ],
            done: Vec::new(),
            flush_from: None,
            force_from: None,
        }
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        // In pieces, so the window never holds more than one of them.
        for piece in data.chunks(PIECE) {
            self.feed_piece(piece, cx);
        }
    }

    fn feed_piece<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        self.count(data);
        let keep = self.window.len().saturating_sub(CARRY);
        self.window.drain(..keep);
        self.window_at += keep as u64;
        let data_at = self.window_at + self.window.len() as u64;
        self.window.extend_from_slice(data);
        self.strings(false);
        // The bytes go to the sink in pieces cut where strings read from
        // UTF-16 are passed on: at a NUL, so the cut splits nothing the byte
        // scan reads, or (when strings pile up without one) where the string
        // that made them too many ended; either way at a place the bytes
        // decide, not the calls.
        let mut from = 0;
        loop {
            let soft = self.flush_from.and_then(|at| {
                let start = usize::try_from(at.saturating_sub(data_at)).ok()?.max(from);
                Some(start + memchr(0, data.get(start..)?)? + 1)
            });
            let hard = self.force_from.and_then(|at| {
                usize::try_from(at.checked_sub(data_at)?)
                    .ok()
                    .filter(|&i| i <= data.len())
            });
            let (cut, upto) = match (soft, hard) {
                (Some(s), Some(h)) if h < s => (h, h),
                (Some(s), _) => (s, s - 1),
                (None, Some(h)) => (h, h),
                (None, None) => break,
            };
            let cut = cut.max(from);
            cx.sink.text(data.get(from..cut).unwrap_or_default());
            self.pass(data_at + upto as u64, cx);
            from = cut;
        }
        cx.sink.text(data.get(from..).unwrap_or_default());
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.strings(true);
        self.pass(u64::MAX, cx);
        cx.sink.boundary();
        let total = self.total;
        if let Some(bits) = self.opaque(cx.limits.opaque_min_bytes) {
            if self.jpeg_scan_data() {
                cx.media("image/jpeg");
            } else if cx.continues.is_some() {
                // The rest of a media file whose head came in an earlier
                // part, as unread here as the whole file would have been.
                cx.continued = true;
            } else {
                cx.incomplete(
                    IncompleteReason::Unsupported,
                    format!(
                        "{total} bytes of compressed or encrypted data in no known format \
                         ({bits:.2} bits per byte): its content cannot be read"
                    ),
                );
            }
        }
    }

    /// The byte histogram, and the JPEG evidence.
    fn count(&mut self, data: &[u8]) {
        self.histogram(data);
        self.total += data.len() as u64;
        // An FF as the last byte of the previous call is followed here.
        if self.window.last() == Some(&0xFF) {
            if let Some(&next) = data.first() {
                self.ff_as_jpeg += u64::from(next == 0 || (0xD0..=0xD7).contains(&next));
            }
        }
        let mut k = 0;
        while let Some(off) = data.get(k..).and_then(|rest| memchr(0xFF, rest)) {
            let j = k + off;
            self.ff += 1;
            if let Some(&next) = data.get(j + 1) {
                self.ff_as_jpeg += u64::from(next == 0 || (0xD0..=0xD7).contains(&next));
            }
            k = j + 1;
        }
    }

    /// Four histograms, summed at the end, so that runs of one byte do not
    /// wait on their own increments.
    fn histogram(&mut self, piece: &[u8]) {
        let [c0, c1, c2, c3] = &mut *self.counts;
        let mut quads = piece.chunks_exact(4);
        for q in &mut quads {
            if let [a, b, c, d] = *q {
                c0[usize::from(a)] += 1;
                c1[usize::from(b)] += 1;
                c2[usize::from(c)] += 1;
                c3[usize::from(d)] += 1;
            }
        }
        for &b in quads.remainder() {
            c0[usize::from(b)] += 1;
        }
    }

    /// Reads the UTF-16 strings of the window's new bytes in both
    /// alignments; at the end of the body (`last`), the open ones end too.
    fn strings(&mut self, last: bool) {
        for a in 0..2 {
            self.strings_in(a);
            let w = &mut self.wide[a];
            if last && w.open {
                let end = self.window_at + self.window.len() as u64;
                if w.qualified() {
                    self.done.push((end, std::mem::take(&mut w.text)));
                }
                w.reset();
            }
        }
        // Strings of both alignments, in the order they ended.
        self.done.sort_by_key(|(end, _)| *end);
        self.thresholds();
    }

    /// One alignment: from each ASCII unit (a printable byte before a NUL,
    /// found by looking for NULs, which random bytes have one in 256 of)
    /// back over the text units before it, then forward to the end of the
    /// string; or on with a string left open by the previous call.
    fn strings_in(&mut self, a: usize) {
        let buf = &self.window;
        let base = self.window_at;
        let end = base + buf.len() as u64;
        let w = &mut self.wide[a];
        let byte = |g: u64| {
            buf.get(usize::try_from(g.checked_sub(base)?).ok()?)
                .copied()
        };
        loop {
            if !w.open {
                // The next ASCII unit of this alignment at or after `w.next`.
                let from = usize::try_from(w.next.saturating_sub(base)).unwrap_or(usize::MAX);
                let found =
                    next_anchor(buf, from, (w.next ^ base) & 1 == 0).map(|i| base + i as u64);
                let Some(first) = found else {
                    // Nothing before the last unit begun can start a string
                    // (none has, in a body of one byte: alignment 1 starts
                    // past its end).
                    if let Some(last) = end.checked_sub(1).filter(|&l| l >= w.next) {
                        let aligned = last - (last - w.next) % 2;
                        w.next = w.next.max(aligned.saturating_sub(2 * LOOK_BACK as u64));
                    }
                    return;
                };
                // Back over the text units before it, as far as `LOOK_BACK`
                // and never into a string already read.
                let floor = w.next.max(first.saturating_sub(2 * LOOK_BACK as u64));
                let mut start = first;
                while start >= floor + 2 {
                    let u = start - 2;
                    match (byte(u), byte(u + 1)) {
                        (Some(lo), Some(hi)) if text_unit(lo, hi).is_some() => start = u,
                        _ => break,
                    }
                }
                w.next = start;
                w.open = true;
            }
            // Forward over text units to the end of the string.
            let mut g = w.next;
            loop {
                let (Some(lo), Some(hi)) = (byte(g), byte(g + 1)) else {
                    // The data ends inside the string: it stays open.
                    w.next = g;
                    return;
                };
                match text_unit(lo, hi) {
                    Some(ascii) => {
                        let c = char::from_u32(u32::from(u16::from_le_bytes([lo, hi])));
                        let mut utf8 = [0u8; 3];
                        if let Some(c) = c {
                            w.text
                                .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                        }
                        // Saturating: a string may run as long as the body,
                        // and the limits may allow one of 8 GiB.
                        w.chars = w.chars.saturating_add(1);
                        w.ascii = w.ascii.saturating_add(u32::from(ascii));
                        g += 2;
                        // A long string is passed on in pieces; once
                        // qualified it stays qualified, so later pieces are
                        // kept too. One this long and not yet qualified keeps
                        // only its last `WIDE_TAIL` bytes: it is mostly a run
                        // of bytes that read as CJK (a bitmap's fill after a
                        // letter), which held whole grew with the body; and
                        // if ASCII does come (a long Chinese paragraph, then
                        // an identity number), the words just before it are
                        // the ones that matter.
                        if w.text.len() >= WIDE_PIECE {
                            if w.qualified() {
                                self.done.push((g, std::mem::take(&mut w.text)));
                            } else {
                                let mut cut = w.text.len() - WIDE_TAIL;
                                while w.text.get(cut).is_some_and(|b| b & 0xC0 == 0x80) {
                                    cut += 1;
                                }
                                w.text.drain(..cut);
                            }
                        }
                    }
                    None => {
                        // It ends with the unit that is no text: only once
                        // that unit is read is the string known to end, so a
                        // NUL before its end does not pass it on.
                        if w.qualified() {
                            self.done.push((g + 2, std::mem::take(&mut w.text)));
                        }
                        w.reset();
                        w.next = g + 2;
                        break;
                    }
                }
            }
        }
    }

    /// Passes the UTF-16 strings that ended by `upto` to the sink, apart
    /// from the bytes around them.
    fn pass<S: TextSink>(&mut self, upto: u64, cx: &mut Cx<S>) {
        let n = self.done.partition_point(|(end, _)| *end <= upto);
        if n > 0 {
            cx.sink.boundary();
            for (_, s) in self.done.drain(..n) {
                cx.sink.text(&s);
                cx.sink.boundary();
            }
        }
        self.thresholds();
    }

    /// Where the strings waiting are to be passed on: at the first NUL from
    /// the end of the one that makes them `WIDE_FLUSH` bytes, and at the end
    /// of the one that makes them `WIDE_FORCE`, NUL or not.
    fn thresholds(&mut self) {
        let mut total = 0;
        self.flush_from = None;
        self.force_from = None;
        for (end, s) in &self.done {
            total += s.len();
            if total >= WIDE_FLUSH && self.flush_from.is_none() {
                self.flush_from = Some(*end);
            }
            if total >= WIDE_FORCE {
                self.force_from = Some(*end);
                break;
            }
        }
    }

    /// The body's entropy in bits per byte, if it is at least `min_bytes`
    /// long (0: never) and past `OPAQUE_BITS`. The plug-in estimate falls
    /// short of the truth by about 255 / (2 n ln 2) bits for n bytes (the
    /// Miller–Madow correction), which is added back so that a 4 KiB chunk
    /// of random bytes measures what a 4 MiB one does.
    fn opaque(&self, min_bytes: u64) -> Option<f64> {
        if !self.judge || min_bytes == 0 || self.total < min_bytes {
            return None;
        }
        let n = self.total as f64;
        let (mut plug_in, mut seen) = (0.0f64, 0.0f64);
        let [c0, c1, c2, c3] = &*self.counts;
        for (((a, b), c), d) in c0.iter().zip(c1).zip(c2).zip(c3) {
            let count = a + b + c + d;
            if count > 0 {
                let p = count as f64 / n;
                plug_in -= p * p.log2();
                seen += 1.0;
            }
        }
        let bits = plug_in + (seen - 1.0) / (2.0 * n * std::f64::consts::LN_2);
        (bits >= OPAQUE_BITS).then_some(bits)
    }

    /// Whether the 0xFF bytes are followed as JPEG scan data follows them:
    /// nearly all, and enough of them to tell (random bytes pass one in 28).
    fn jpeg_scan_data(&self) -> bool {
        self.ff >= 16 && self.ff_as_jpeg * 100 >= self.ff * 95
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::decode::Limits;
    use crate::inspect::sink::RecordingSink;

    impl BinaryNode {
        /// Bytes held between calls: the window, strings being read and
        /// strings waiting to be passed on.
        fn held(&self) -> usize {
            self.window.capacity()
                + self.wide.iter().map(|w| w.text.capacity()).sum::<usize>()
                + self.done.iter().map(|(_, s)| s.capacity()).sum::<usize>()
        }
    }

    /// A letter or two before a long run of bytes that read as CJK (a
    /// bitmap's grey fill) never qualifies: it was held whole, growing with
    /// the body.
    #[test]
    fn a_string_that_never_qualifies_is_not_held_whole() {
        let mut cx = Cx::new(RecordingSink::default(), &Limits::default());
        let mut node = BinaryNode::new(true);
        node.feed(b"\x00\x01\x02\x03A\x00B\x00", &mut cx);
        let fill = vec![0x80u8; 64 << 10];
        for _ in 0..64 {
            node.feed(&fill, &mut cx);
            assert!(node.held() < 256 << 10, "{} bytes held", node.held());
        }
        // Its end (a C, qualifying it) brings back only the last of it.
        node.feed(b"C\x00\x00\x00", &mut cx);
        node.finish(&mut cx);
        let fill = cx
            .sink
            .joined_text()
            .chars()
            .filter(|&c| c == '\u{8080}')
            .count();
        assert!(
            (1..=WIDE_PIECE / 3).contains(&fill),
            "{fill} characters of fill"
        );
    }

    /// A Chinese paragraph longer than a piece, then an identity number in
    /// the same string: the number and the words before it are read.
    #[test]
    fn a_long_chinese_run_then_ascii_keeps_its_end() {
        let mut cx = Cx::new(RecordingSink::default(), &Limits::default());
        let mut node = BinaryNode::new(true);
        let text = format!("{}身份證號碼：A123456(3)", "員工請假申請".repeat(400));
        let mut body = vec![0u8, 1, 2, 3];
        body.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        body.extend_from_slice(&[0xFE, 0xFE, 0, 0]);
        node.feed(&body, &mut cx);
        node.finish(&mut cx);
        assert!(cx
            .sink
            .joined_text()
            .contains("員工請假申請身份證號碼：A123456(3)"));
    }
}
