//! Stream filters: the chain a stream's `/Filter` names, undone in order under
//! the body's limits. FlateDecode is what most writers use; ReportLab wraps it
//! in ASCII85, and older writers use LZW. Image codecs are recognised, not
//! decoded.

use flate2::{Decompress, FlushDecompress, Status};

use super::syntax::{int, is_delimiter, is_name, value};
use crate::inspect::decode::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// Filters named in a chain beyond this are not undone.
const MAX_CHAIN: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Flate,
    Lzw { early: bool },
    Ascii85,
    AsciiHex,
    RunLength,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    /// An image: recognised and skipped.
    Image(&'static str),
    /// Filters to undo, in order (none: the data is as it is).
    Chain(Vec<Step>),
    /// A filter not undone here (encryption, a predictor, an unknown name).
    Unreadable,
}

/// What the stream dictionary `dict` says its data is.
pub(crate) fn filter(dict: &[u8]) -> Filter {
    let names = filter_names(dict);
    let has = |n: &[u8]| names.contains(&n);
    let image_codec = if has(b"DCTDecode") || has(b"DCT") {
        Some("image/jpeg")
    } else if has(b"JPXDecode") {
        Some("image/jp2")
    } else if has(b"JBIG2Decode") || has(b"CCITTFaxDecode") || has(b"CCF") {
        Some("image/x-pdf-image")
    } else {
        None
    };
    if is_name(dict, b"Subtype", b"Image") || image_codec.is_some() {
        return Filter::Image(image_codec.unwrap_or("image/x-pdf-image"));
    }
    // PNG and TIFF predictors are for images and cross-reference streams.
    if int(dict, b"Predictor").is_some_and(|p| p > 1) || names.len() > MAX_CHAIN {
        return Filter::Unreadable;
    }
    let early = int(dict, b"EarlyChange") != Some(0);
    let mut steps = Vec::with_capacity(names.len());
    for name in &names {
        steps.push(match *name {
            b"FlateDecode" | b"Fl" => Step::Flate,
            b"LZWDecode" | b"LZW" => Step::Lzw { early },
            b"ASCII85Decode" | b"A85" => Step::Ascii85,
            b"ASCIIHexDecode" | b"AHx" => Step::AsciiHex,
            b"RunLengthDecode" | b"RL" => Step::RunLength,
            _ => return Filter::Unreadable,
        });
    }
    Filter::Chain(steps)
}

/// The names of `/Filter`: one name, or an array of them.
fn filter_names(dict: &[u8]) -> Vec<&[u8]> {
    let Some(v) = value(dict, b"Filter") else {
        return Vec::new();
    };
    let v = match v.strip_prefix(b"[") {
        Some(inner) => inner
            .get(..memchr::memchr(b']', inner).unwrap_or(inner.len()))
            .unwrap_or(&[]),
        // One name: up to the first delimiter after it.
        None => {
            let end = v
                .iter()
                .skip(1)
                .position(|&c| is_delimiter(c))
                .map_or(v.len(), |e| e + 1);
            v.get(..end).unwrap_or(&[])
        }
    };
    v.split(|&c| c == b'/')
        .skip(1)
        .map(|n| {
            let end = n.iter().position(|&c| is_delimiter(c)).unwrap_or(n.len());
            n.get(..end).unwrap_or(&[])
        })
        .collect()
}

/// Output with a cap: past it, the stream is cut and the body reported.
struct Capped {
    out: Vec<u8>,
    cap: usize,
    over: bool,
}

impl Capped {
    fn push(&mut self, bytes: &[u8]) -> bool {
        if self.out.len() + bytes.len() > self.cap {
            self.over = true;
            return false;
        }
        self.out.extend_from_slice(bytes);
        true
    }
}

/// Undoes `steps` on `data`. Returns what could be decoded and whether all
/// of it was (a broken stream often still yields its first part).
pub(crate) fn decode<S: TextSink>(data: &[u8], steps: &[Step], cx: &mut Cx<S>) -> (Vec<u8>, bool) {
    let mut cur = data.to_vec();
    let mut whole = true;
    for &step in steps {
        let cap = cx
            .ratio_cap(cur.len() as u64)
            .min(cx.expand_room().min(cx.limits.max_buffer_bytes));
        let mut out = Capped {
            out: Vec::new(),
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            over: false,
        };
        let ok = match step {
            Step::Flate => inflate(&cur, &mut out),
            Step::Lzw { early } => lzw(&cur, early, &mut out),
            Step::Ascii85 => ascii85(&cur, &mut out),
            Step::AsciiHex => ascii_hex(&cur, &mut out),
            Step::RunLength => run_length(&cur, &mut out),
        };
        if out.over {
            cx.incomplete(
                IncompleteReason::RatioLimit,
                "PDF stream expands past the limits",
            );
        }
        if !cx.expand(out.out.len()) || out.over {
            return (Vec::new(), false);
        }
        whole &= ok;
        cur = out.out;
    }
    (cur, whole)
}

fn inflate(data: &[u8], out: &mut Capped) -> bool {
    let mut d = Decompress::new(true);
    let mut input = data;
    let mut chunk = [0u8; 32 << 10];
    loop {
        let (in0, out0) = (d.total_in(), d.total_out());
        let status = d.decompress(input, &mut chunk, FlushDecompress::None);
        let used = (d.total_in() - in0) as usize;
        let made = (d.total_out() - out0) as usize;
        input = input.get(used..).unwrap_or(&[]);
        if !out.push(chunk.get(..made).unwrap_or(&[])) {
            return false;
        }
        match status {
            Ok(Status::StreamEnd) => return true,
            // Out of input without the end: a stream cut short.
            Ok(_) if used == 0 && made == 0 => return false,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

fn ascii_hex(data: &[u8], out: &mut Capped) -> bool {
    let mut bytes = Vec::with_capacity(data.len() / 2 + 1);
    let end = super::hex(data, 0, &mut bytes);
    out.push(&bytes) && end.checked_sub(1).and_then(|e| data.get(e)) == Some(&b'>')
}

fn ascii85(data: &[u8], out: &mut Capped) -> bool {
    let mut group = [0u32; 5];
    let mut n = 0;
    let flush = |group: &[u32; 5], n: usize, out: &mut Capped| {
        // A short last group is padded with `u` and cut to n - 1 bytes.
        let v = group.iter().enumerate().fold(0u64, |v, (i, &c)| {
            v * 85 + u64::from(if i < n { c } else { 84 })
        });
        let bytes = (v as u32).to_be_bytes();
        out.push(bytes.get(..n - 1).unwrap_or(&[]))
    };
    let body = data.strip_prefix(b"<~").unwrap_or(data);
    for &c in body {
        match c {
            b'~' => {
                return (n == 0 || n > 1 && flush(&group, n, out)) && !out.over;
            }
            b'z' if n == 0 => {
                if !out.push(&[0; 4]) {
                    return false;
                }
            }
            b'!'..=b'u' => {
                if let Some(g) = group.get_mut(n) {
                    *g = u32::from(c - b'!');
                }
                n += 1;
                if n == 5 {
                    let v = group.iter().fold(0u64, |v, &c| v * 85 + u64::from(c));
                    let Ok(v) = u32::try_from(v) else {
                        return false;
                    };
                    if !out.push(&v.to_be_bytes()) {
                        return false;
                    }
                    n = 0;
                }
            }
            c if c.is_ascii_whitespace() => {}
            _ => return false,
        }
    }
    // No `~>`: what was read is kept, but the stream was cut.
    false
}

fn run_length(data: &[u8], out: &mut Capped) -> bool {
    let mut i = 0;
    while let Some(&n) = data.get(i) {
        i += 1;
        let ok = match n {
            128 => return true,
            0..=127 => {
                let run = data.get(i..i + usize::from(n) + 1);
                i += usize::from(n) + 1;
                match run {
                    Some(r) => out.push(r),
                    None => return false,
                }
            }
            _ => match data.get(i) {
                Some(&b) => {
                    i += 1;
                    out.push(&[b; 128][..257 - usize::from(n)])
                }
                None => return false,
            },
        };
        if !ok {
            return false;
        }
    }
    true
}

/// LZW as PDF (and TIFF) write it: codes of 9 to 12 bits, most significant
/// bit first, 256 to clear the table, 257 to end; with `early`, the code
/// width grows one code sooner.
fn lzw(data: &[u8], early: bool, out: &mut Capped) -> bool {
    const CLEAR: usize = 256;
    const END: usize = 257;
    // Each entry: (prefix entry, last byte, length); entries below 256 are bytes.
    let mut table: Vec<(u16, u8, u16)> = (0..=255u8).map(|b| (u16::MAX, b, 1)).collect();
    table.extend([(u16::MAX, 0, 0), (u16::MAX, 0, 0)]);
    let mut width = 9;
    let mut acc = 0u32;
    let mut bits = 0;
    let mut prev: Option<usize> = None;
    let mut word = Vec::with_capacity(4096);
    let spell = |table: &[(u16, u8, u16)], mut code: usize, word: &mut Vec<u8>| {
        word.clear();
        while let Some(&(prefix, last, _)) = table.get(code) {
            word.push(last);
            if prefix == u16::MAX {
                break;
            }
            code = usize::from(prefix);
        }
        word.reverse();
    };
    for &byte in data {
        acc = acc << 8 | u32::from(byte);
        bits += 8;
        while bits >= width {
            bits -= width;
            let code = ((acc >> bits) & ((1 << width) - 1)) as usize;
            match code {
                CLEAR => {
                    table.truncate(258);
                    width = 9;
                    prev = None;
                }
                END => return true,
                _ => {
                    let first = if code < table.len() {
                        spell(&table, code, &mut word);
                        word.first().copied()
                    } else if code == table.len() {
                        // The code being defined: the previous word plus its own first byte.
                        let Some(p) = prev else { return false };
                        spell(&table, p, &mut word);
                        let f = word.first().copied();
                        word.extend(f);
                        f
                    } else {
                        return false;
                    };
                    if let (Some(p), Some(f)) = (prev, first) {
                        if table.len() < 4096 {
                            let len = table.get(p).map_or(0, |e| e.2).saturating_add(1);
                            table.push((p as u16, f, len));
                        }
                    }
                    if !out.push(&word) {
                        return false;
                    }
                    prev = Some(code);
                    let next = table.len() + usize::from(early);
                    width = if next >= 2048 {
                        12
                    } else if next >= 1024 {
                        11
                    } else if next >= 512 {
                        10
                    } else {
                        9
                    };
                }
            }
        }
        acc &= (1 << bits) - 1;
    }
    // Ran out without an end code: cut short.
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped() -> Capped {
        Capped {
            out: Vec::new(),
            cap: 1 << 20,
            over: false,
        }
    }

    #[test]
    fn filter_chains_are_read_from_names_and_arrays() {
        assert_eq!(
            filter(b"<< /Filter [ /ASCII85Decode /FlateDecode ] /Length 9 >>"),
            Filter::Chain(vec![Step::Ascii85, Step::Flate])
        );
        assert_eq!(
            filter(b"<</Filter/FlateDecode/Length 3>>"),
            Filter::Chain(vec![Step::Flate])
        );
        assert_eq!(filter(b"<< /Length 3 >>"), Filter::Chain(vec![]));
        assert_eq!(
            filter(b"<< /Filter /LZWDecode /DecodeParms << /EarlyChange 0 >> >>"),
            Filter::Chain(vec![Step::Lzw { early: false }])
        );
        assert_eq!(filter(b"<< /Filter /Crypt >>"), Filter::Unreadable);
        assert_eq!(
            filter(b"<< /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >> >>"),
            Filter::Unreadable
        );
        assert_eq!(
            filter(b"<< /Filter /DCTDecode >>"),
            Filter::Image("image/jpeg")
        );
        assert_eq!(
            filter(b"<< /Subtype /Image /Filter /FlateDecode >>"),
            Filter::Image("image/x-pdf-image")
        );
    }

    #[test]
    fn ascii85_with_short_groups_and_zeros() {
        // A `z` for four zero bytes, white space, a short last group.
        let mut out = capped();
        assert!(ascii85(b"<~84uNB+@._;1GgsI-o3:q\r\nz+D#G$~>", &mut out));
        assert_eq!(out.out, b"HKID A123456(3)!\0\0\0\0 end");
        let mut out = capped();
        assert!(ascii85(b"<~@:B~>", &mut out));
        assert_eq!(out.out, b"ab");
        let mut out = capped();
        assert!(ascii85(b"87cURD]i,\"Ebo80~>", &mut out));
        assert_eq!(out.out, b"Hello World!");
        let mut out = capped();
        assert!(!ascii85(b"87cUR", &mut out), "no end marker");
    }

    #[test]
    fn run_length_and_hex() {
        let mut out = capped();
        assert!(run_length(&[2, b'a', b'b', b'c', 254, b'x', 128], &mut out));
        assert_eq!(out.out, b"abcxxx");
        let mut out = capped();
        assert!(ascii_hex(b"48 65 6C6c6F>", &mut out));
        assert_eq!(out.out, b"Hello");
    }

    #[test]
    fn lzw_of_the_pdf_reference_example() {
        // The example in the PDF reference (7.4.4.2): 2D 00 0 0 … for
        // "-----A---B", codes 45 258 258 65 259 66 257.
        let codes = [256u16, 45, 258, 258, 65, 259, 66, 257];
        let mut bits = 0u64;
        let mut n = 0;
        let mut data = Vec::new();
        for c in codes {
            bits = bits << 9 | u64::from(c);
            n += 9;
            while n >= 8 {
                n -= 8;
                data.push((bits >> n) as u8);
            }
        }
        if n > 0 {
            data.push((bits << (8 - n)) as u8);
        }
        let mut out = capped();
        assert!(lzw(&data, true, &mut out));
        assert_eq!(out.out, b"-----A---B");
    }

    /// An LZW writer as PDF's (early change), for round trips: it clears
    /// the table before it fills.
    fn lzw_encode(data: &[u8]) -> Vec<u8> {
        let width = |next: usize| match next {
            ..512 => 9,
            512..1024 => 10,
            1024..2048 => 11,
            _ => 12,
        };
        let (mut out, mut acc, mut bits) = (Vec::new(), 0u64, 0);
        let mut emit = |code: usize, w: u32| {
            acc = acc << w | code as u64;
            bits += w;
            while bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        };
        let mut dict = std::collections::HashMap::new();
        let mut next = 258;
        emit(256, 9);
        let mut w: Option<usize> = None;
        for &b in data {
            if let Some(p) = w {
                if let Some(&c) = dict.get(&(p, b)) {
                    w = Some(c);
                    continue;
                }
                emit(p, width(next));
                dict.insert((p, b), next);
                next += 1;
                if next >= 4094 {
                    emit(256, width(next));
                    dict.clear();
                    next = 258;
                }
            }
            w = Some(usize::from(b));
        }
        if let Some(p) = w {
            emit(p, width(next));
            emit(257, width(next + 1));
        }
        let mut done = out;
        if bits > 0 {
            done.push((acc << (8 - bits)) as u8);
        }
        done
    }

    #[test]
    fn lzw_round_trips_through_every_code_width_and_a_clear() {
        let mut text = Vec::new();
        let mut x = 7u32;
        while text.len() < 60_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            text.extend_from_slice(
                format!("row {} HKID A123456(3) {} ", x % 977, x >> 20).as_bytes(),
            );
        }
        let mut out = capped();
        assert!(lzw(&lzw_encode(&text), true, &mut out));
        assert_eq!(out.out, text);
    }

    #[test]
    fn output_past_the_cap_stops() {
        let mut out = Capped {
            out: Vec::new(),
            cap: 10,
            over: false,
        };
        assert!(!run_length(&[129, b'x', 129, b'y'], &mut out));
        assert!(out.over);
    }
}
