//! Binary data in no format read here: scanned as bytes as before (strings
//! in it still count), with its UTF-16LE strings read as text, and reported
//! unread when its bytes are as random as compressed or encrypted data are.
//!
//! The last is what keeps a body from passing for empty when it is a chunk
//! of a larger upload (the second half of a zip), a container that encrypts
//! without a header (VeraCrypt), or a format of compressed data sluice does
//! not know: none of these can be read, and the scan says so.

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

/// Strings read from UTF-16 wait here until the byte stream reaches a NUL,
/// where they are passed on between boundaries. Past this much they are
/// passed at the next NUL.
const WIDE_FLUSH: usize = 64 << 10;

/// A UTF-16 string being read, in one byte alignment of the stream.
#[derive(Default)]
struct Wide {
    /// The string so far, as UTF-8.
    text: Vec<u8>,
    chars: u32,
    ascii: u32,
}

impl Wide {
    /// Binary data read two bytes at a time makes CJK characters of any two
    /// ASCII letters, and of random bytes a third of the time; a string that
    /// has at least a few characters below U+0080 (a zero high byte each) is
    /// text written as UTF-16, as Windows keeps its strings.
    fn qualified(&self) -> bool {
        self.chars >= WIDE_MIN && self.ascii >= WIDE_MIN_ASCII
    }
}

pub(crate) struct BinaryNode {
    counts: Box<[u64; 256]>,
    total: u64,
    /// JPEG entropy-coded data writes every 0xFF as FF 00 or as a restart
    /// marker (FF D0–D7): a chunk cut from the middle of a JPEG shows it,
    /// where random bytes follow an FF with anything.
    ff: u64,
    ff_as_jpeg: u64,
    /// The last byte of the previous call, if the stream has one.
    prev: Option<u8>,
    /// Global offset of the next byte.
    at: u64,
    /// The string being read in each alignment (by the parity of its offset).
    wide: [Wide; 2],
    /// Finished UTF-16 strings, each followed by a boundary when passed on.
    done: Vec<Vec<u8>>,
    done_bytes: usize,
}

impl BinaryNode {
    pub fn new() -> Self {
        BinaryNode {
            counts: Box::new([0; 256]),
            total: 0,
            ff: 0,
            ff_as_jpeg: 0,
            prev: None,
            at: 0,
            wide: Default::default(),
            done: Vec::new(),
            done_bytes: 0,
        }
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        self.total += data.len() as u64;
        // The bytes go to the sink in pieces that end where strings read
        // from UTF-16 are passed on: at a NUL, so the cut splits nothing the
        // byte scan reads, and at a place the bytes decide (not the chunks).
        let mut from = 0;
        for (k, &b) in data.iter().enumerate() {
            if let Some(c) = self.counts.get_mut(usize::from(b)) {
                *c += 1;
            }
            if let Some(lo) = self.prev {
                if lo == 0xFF && (b == 0 || (0xD0..=0xD7).contains(&b)) {
                    self.ff_as_jpeg += 1;
                }
                self.unit(u16::from_le_bytes([lo, b]));
            }
            self.ff += u64::from(b == 0xFF);
            self.prev = Some(b);
            self.at += 1;
            if b == 0 && self.done_bytes >= WIDE_FLUSH {
                cx.sink.text(data.get(from..=k).unwrap_or_default());
                self.pass(cx);
                from = k + 1;
            }
        }
        cx.sink.text(data.get(from..).unwrap_or_default());
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        for w in &mut self.wide {
            if w.qualified() {
                self.done.push(std::mem::take(&mut w.text));
            }
        }
        self.pass(cx);
        cx.sink.boundary();
        if let Some(bits) = self.opaque(cx.limits.opaque_min_bytes) {
            if self.jpeg_scan_data() {
                cx.media("image/jpeg");
            } else {
                cx.incomplete(
                    IncompleteReason::Unsupported,
                    format!(
                        "{} bytes of compressed or encrypted data in no known format \
                         ({bits:.2} bits per byte): its content cannot be read",
                        self.total
                    ),
                );
            }
        }
    }

    /// One UTF-16LE code unit, ending at the byte just read.
    fn unit(&mut self, u: u16) {
        // The parity of the offset of its high byte picks the alignment.
        let w = &mut self.wide[usize::from(self.at % 2 == 1)];
        let ascii = matches!(u, 0x20..=0x7E | 0x09 | 0x0A | 0x0D);
        // Latin letters (Portuguese), CJK punctuation and ideographs, and
        // full-width forms: the characters Macau's documents are written in.
        let text =
            ascii || matches!(u, 0xC0..=0xFF | 0x3000..=0x303F | 0x4E00..=0x9FFF | 0xFF00..=0xFFEF);
        if text {
            let mut buf = [0u8; 3];
            if let Some(c) = char::from_u32(u32::from(u)) {
                w.text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            w.chars += 1;
            w.ascii += u32::from(ascii);
            // A long string is passed on in pieces; once qualified it stays
            // qualified, so the pieces after the first are kept too.
            if w.text.len() >= 4096 && w.qualified() {
                self.done_bytes += w.text.len();
                self.done.push(std::mem::take(&mut w.text));
            }
        } else {
            if w.qualified() {
                self.done_bytes += w.text.len();
                self.done.push(std::mem::take(&mut w.text));
            }
            w.text.clear();
            w.chars = 0;
            w.ascii = 0;
        }
    }

    /// Passes the UTF-16 strings read so far to the sink, apart from the
    /// bytes around them.
    fn pass<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.done.is_empty() {
            return;
        }
        cx.sink.boundary();
        for s in self.done.drain(..) {
            cx.sink.text(&s);
            cx.sink.boundary();
        }
        self.done_bytes = 0;
    }

    /// The body's entropy in bits per byte, if it is at least `min_bytes`
    /// long (0: never) and past `OPAQUE_BITS`. The plug-in estimate falls
    /// short of the truth by about 255 / (2 n ln 2) bits for n bytes (the
    /// Miller–Madow correction), which is added back so that a 4 KiB chunk
    /// of random bytes measures what a 4 MiB one does.
    fn opaque(&self, min_bytes: u64) -> Option<f64> {
        if min_bytes == 0 || self.total < min_bytes {
            return None;
        }
        let n = self.total as f64;
        let plug_in: f64 = self
            .counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / n;
                -p * p.log2()
            })
            .sum();
        let seen = self.counts.iter().filter(|&&c| c > 0).count() as f64;
        let bits = plug_in + (seen - 1.0) / (2.0 * n * std::f64::consts::LN_2);
        (bits >= OPAQUE_BITS).then_some(bits)
    }

    /// Whether the 0xFF bytes are followed as JPEG scan data follows them:
    /// nearly all, and enough of them to tell (random bytes pass one in 28).
    fn jpeg_scan_data(&self) -> bool {
        self.ff >= 16 && self.ff_as_jpeg * 100 >= self.ff * 95
    }
}
