//! Decompression (gzip, zlib/raw deflate, brotli, zstd, xz, lzip, bzip2), streaming into a fixed
//! output buffer so a bomb never inflates into memory: output is handed on
//! 32 KiB at a time, counted against the body's budget, and the ratio of
//! output to input is checked past a grace size.

use brotli::{BrotliDecompressStream, BrotliResult, BrotliState, HeapAlloc, HuffmanCode};
use flate2::{Crc, Decompress, FlushDecompress, Status};
use lzma_rust2::{Action, LzipStream, StreamResult, XzStream};
use zstd::stream::raw::{DParameter, Decoder as ZstdDecoder, InBuffer, Operation, OutBuffer};

use super::cx::Cx;
use super::{ContentHint, Kind, Node};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

const OUT: usize = 32 << 10;
/// Input every decoder is given at a time: whole slices at fixed offsets in
/// the stream, so that it reads the same however the body arrived. The xz,
/// lzip, zstd and brotli decoders keep decoded bytes back until a call ends
/// (or hand out nothing of a call that meets a fault), so how much of a
/// corrupt stream is read would depend on the split. zlib and bzip2 hand out
/// what they make as they go, but the ratio and the decompressed budget are
/// checked after each call: called on whatever arrived, a run that expands
/// far before text that does not tripped the ratio in small chunks and not
/// whole, and a budget cut the output at another place.
pub(super) const STAGE: usize = 16 << 10;
/// A gzip header longer than this (huge name or extra field) is not believed.
const MAX_GZIP_HEADER: usize = 16 << 10;
/// zstd frames may ask for a window this large and no larger (8 MiB).
const ZSTD_WINDOW_LOG_MAX: u32 = 23;
/// Memory an LZMA decoder (xz, lzip, 7z) may take for its dictionary, in
/// KiB: enough for `xz -9` and 7-Zip's "ultra" (64 MiB dictionaries), while
/// a header asking for more (the format allows 4 GiB) is refused before any
/// allocation.
pub(super) const LZMA_MEMORY_KIB: u32 = 80 << 10;

/// Why a stream could not be decoded: the reason the report gives, and what.
type Fault = (IncompleteReason, &'static str);

fn corrupt(what: &'static str) -> Fault {
    (IncompleteReason::Malformed, what)
}

/// What a codec gives up with: why, and the output it made in the same step
/// before it found the fault. That output is handed on first: fed in smaller
/// pieces, the body would have had it handed on in the steps before, and the
/// findings must not depend on how a body was split.
struct Failed {
    fault: Fault,
    made: usize,
}

impl From<Fault> for Failed {
    fn from(fault: Fault) -> Failed {
        Failed { fault, made: 0 }
    }
}

/// A corrupt stream, after `made` bytes of output in the failing step.
fn corrupt_after(made: usize, what: &'static str) -> Failed {
    Failed {
        fault: corrupt(what),
        made,
    }
}

enum Gzip {
    Header(Vec<u8>),
    Body(Decompress, Crc),
    Trailer(Vec<u8>, Crc),
    /// Between members: another one may follow.
    Between,
}

enum Codec {
    Gzip(Gzip),
    /// HTTP `deflate`: zlib, or raw deflate from servers that got it wrong;
    /// which one is known from the first two bytes.
    Deflate(Option<Decompress>, Vec<u8>),
    Brotli(Box<BrotliState<HeapAlloc<u8>, HeapAlloc<u32>, HeapAlloc<HuffmanCode>>>),
    Zstd(Box<ZstdDecoder<'static>>, bool),
    /// One xz stream after another (`cat a.xz b.xz`), with the zero padding
    /// the format allows between them: `None` between two streams.
    Xz(Option<Box<XzStream>>),
    /// lzip decodes concatenated members (`plzip`) itself; whether the input
    /// ended between two of them is asked at `finish`.
    Lzip(Box<LzipStream>, bool),
    /// `pbzip2` writes one bzip2 stream per block, one after another: `None`
    /// between two of them.
    Bzip2(Option<Box<bzip2::Decompress>>),
}

pub(crate) struct DecompressNode {
    name: &'static str,
    codec: Codec,
    out: Vec<u8>,
    inner: Node,
    consumed: u64,
    produced: u64,
    ended: bool,
    /// The stream ended before bytes that are not padding (lzip hands back
    /// what follows its last member rather than leaving it unread).
    trailing: bool,
    failed: bool,
    /// Input held until `STAGE` bytes are in (see `STAGE`).
    staged: Vec<u8>,
}

/// What one step of a codec did.
struct Step {
    used: usize,
    made: usize,
    ended: bool,
}

impl DecompressNode {
    /// A decompressor whose output is sniffed afresh, under the name the
    /// file had before it was compressed (`staff.csv.gz` holds `staff.csv`).
    pub fn new<S: TextSink>(
        kind: &Kind,
        hint: &ContentHint,
        depth: u32,
        cx: &mut Cx<S>,
    ) -> Option<Self> {
        let inner = ContentHint {
            file_name: hint.file_name.as_deref().and_then(uncompressed_name),
            ..ContentHint::default()
        };
        Self::with_inner(kind, Node::sniffing(inner, depth + 1), cx)
    }

    /// A decompressor feeding `inner` (the scanner's Content-Encoding chain).
    pub fn with_inner<S: TextSink>(kind: &Kind, inner: Node, cx: &mut Cx<S>) -> Option<Self> {
        let (name, codec) = match kind {
            Kind::Gzip => ("gzip", Codec::Gzip(Gzip::Header(Vec::new()))),
            Kind::Zlib => ("deflate", Codec::Deflate(None, Vec::new())),
            Kind::Brotli => (
                "br",
                Codec::Brotli(Box::new(BrotliState::new(
                    HeapAlloc::default(),
                    HeapAlloc::default(),
                    HeapAlloc::default(),
                ))),
            ),
            Kind::Zstd => {
                let mut d = match ZstdDecoder::new() {
                    Ok(d) => d,
                    Err(_) => {
                        cx.incomplete(IncompleteReason::Unsupported, "zstd decoder unavailable");
                        return None;
                    }
                };
                if d.set_parameter(DParameter::WindowLogMax(ZSTD_WINDOW_LOG_MAX))
                    .is_err()
                {
                    cx.incomplete(IncompleteReason::Unsupported, "zstd decoder unavailable");
                    return None;
                }
                ("zstd", Codec::Zstd(Box::new(d), true))
            }
            Kind::Xz => ("xz", Codec::Xz(None)),
            Kind::Lzip => (
                "lzip",
                Codec::Lzip(
                    Box::new(LzipStream::new_mem_limit(true, LZMA_MEMORY_KIB)),
                    false,
                ),
            ),
            Kind::Bzip2 => ("bzip2", Codec::Bzip2(None)),
            _ => return None,
        };
        cx.format(name);
        Some(DecompressNode {
            name,
            codec,
            out: vec![0; OUT],
            inner,
            consumed: 0,
            produced: 0,
            ended: false,
            trailing: false,
            failed: false,
            // Grown as input comes: a small compressed body (a chat message
            // sent gzipped) never takes the whole slice.
            staged: Vec::new(),
        })
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        // Whole slices of `STAGE` bytes only, at the same offsets in the
        // stream however the body was split.
        while !data.is_empty() && !self.failed {
            let take = (STAGE - self.staged.len()).min(data.len());
            self.staged
                .extend_from_slice(data.get(..take).unwrap_or(&[]));
            data = data.get(take..).unwrap_or(&[]);
            if self.staged.len() < STAGE {
                return;
            }
            self.flush_staged(cx);
        }
    }

    /// Decodes the input staged so far.
    fn flush_staged<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let staged = std::mem::take(&mut self.staged);
        self.decode(&staged, cx);
        self.staged = staged;
        self.staged.clear();
    }

    fn decode<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        while !self.failed && !cx.stopped {
            if self.ended {
                // Zero padding after the stream (tar blocks, some encoders)
                // is not content. Anything else would cross the border
                // unscanned, so it makes the scan incomplete.
                if self.trailing || data.iter().any(|&b| b != 0) {
                    cx.incomplete(
                        IncompleteReason::Malformed,
                        format!("{}: data after the end of the stream", self.name),
                    );
                    self.failed = true;
                }
                return;
            }
            let step = match self.step(data) {
                Ok(s) => s,
                Err(Failed { fault, made }) => {
                    // The decoder read no further than this slice's end; all
                    // of it counts, or what it made before the fault would be
                    // weighed against none of the input that made it.
                    self.consumed += data.len() as u64;
                    if self.hand_on(made, cx) {
                        self.fail(fault, cx);
                    }
                    return;
                }
            };
            data = data.get(step.used..).unwrap_or(&[]);
            self.consumed += step.used as u64;
            if !self.hand_on(step.made, cx) {
                return;
            }
            self.ended = step.ended;
            let full = step.made == self.out.len();
            // At the end of the stream the loop goes round once more, so that
            // what follows it in this chunk is looked at.
            if !self.ended && ((data.is_empty() && !full) || (step.used == 0 && step.made == 0)) {
                return;
            }
        }
    }

    fn fail<S: TextSink>(&mut self, (reason, what): Fault, cx: &mut Cx<S>) {
        cx.incomplete(reason, format!("{}: {what}", self.name));
        self.failed = true;
    }

    /// Counts `made` bytes of output against the limits and passes them on;
    /// false when a limit ends the stream.
    fn hand_on<S: TextSink>(&mut self, made: usize, cx: &mut Cx<S>) -> bool {
        if made == 0 {
            return true;
        }
        self.produced += made as u64;
        if !cx.expand(made) {
            return false;
        }
        if self.produced > cx.limits.ratio_grace_bytes
            && self.produced > self.consumed.saturating_mul(cx.limits.max_ratio)
        {
            let what = format!("{} expands more than {}:1", self.name, cx.limits.max_ratio);
            cx.incomplete(IncompleteReason::RatioLimit, what);
            self.failed = true;
            return false;
        }
        self.inner.feed(self.out.get(..made).unwrap_or(&[]), cx);
        true
    }

    fn step(&mut self, data: &[u8]) -> Result<Step, Failed> {
        let out = &mut self.out[..];
        match &mut self.codec {
            Codec::Gzip(g) => gzip_step(g, data, out),
            Codec::Deflate(d, first) => {
                let Some(d) = d else {
                    let take = (2 - first.len().min(2)).min(data.len());
                    first.extend_from_slice(data.get(..take).unwrap_or(&[]));
                    if first.len() < 2 {
                        return Ok(Step {
                            used: take,
                            made: 0,
                            ended: false,
                        });
                    }
                    let zlib = match first.as_slice() {
                        [a, b] => a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0,
                        _ => false,
                    };
                    let mut dec = Decompress::new(zlib);
                    let head = std::mem::take(first);
                    let s = inflate(&mut dec, &head, out)?;
                    *d = Some(dec);
                    // The two bytes are in the decompressor now, whatever it made of them.
                    return Ok(Step {
                        used: take,
                        made: s.made,
                        ended: s.ended,
                    });
                };
                inflate(d, data, out)
            }
            Codec::Brotli(state) => {
                let (mut avail_in, mut in_off) = (data.len(), 0);
                let (mut avail_out, mut out_off, mut total) = (out.len(), 0, 0);
                let r = BrotliDecompressStream(
                    &mut avail_in,
                    &mut in_off,
                    data,
                    &mut avail_out,
                    &mut out_off,
                    out,
                    &mut total,
                    state,
                );
                match r {
                    BrotliResult::ResultFailure => {
                        Err(corrupt_after(out_off, "corrupt brotli stream"))
                    }
                    r => Ok(Step {
                        used: in_off,
                        made: out_off,
                        ended: matches!(r, BrotliResult::ResultSuccess),
                    }),
                }
            }
            Codec::Zstd(d, frame_done) => {
                let mut input = InBuffer::around(data);
                let mut output = OutBuffer::around(out);
                let hint = d.run(&mut input, &mut output);
                let (used, made) = (input.pos(), output.pos());
                let hint = hint.map_err(|_| corrupt_after(made, "corrupt zstd stream"))?;
                if used > 0 || made > 0 {
                    *frame_done = hint == 0;
                }
                Ok(Step {
                    used,
                    made,
                    ended: false,
                })
            }
            Codec::Xz(slot) => xz_step(slot, data, out),
            Codec::Lzip(l, done) => {
                let out0 = l.total_out();
                let r = l.process(data, out, Action::Run);
                let step = lzma_step(r, (l.total_out() - out0) as usize, "corrupt lzip stream")?;
                if step.ended {
                    // Under `Run` only bytes that are no member end it.
                    *done = true;
                    self.trailing = l.unused_input().iter().any(|&b| b != 0);
                }
                Ok(step)
            }
            Codec::Bzip2(slot) => bzip2_step(slot, data, out),
        }
    }

    fn complete(&self) -> bool {
        match &self.codec {
            Codec::Gzip(g) => matches!(g, Gzip::Between),
            Codec::Zstd(_, frame_done) => *frame_done,
            Codec::Deflate(..) | Codec::Brotli(_) => self.ended,
            Codec::Xz(slot) => slot.is_none(),
            Codec::Lzip(_, done) => *done,
            Codec::Bzip2(slot) => slot.is_none(),
        }
    }

    /// lzip learns only now that no more input comes: what it still holds
    /// is flushed, and it says whether the input ended between members.
    fn finish_lzip<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        for _ in 0..1 << 16 {
            if self.failed || cx.stopped {
                return;
            }
            let out = &mut self.out[..];
            let Codec::Lzip(l, false) = &mut self.codec else {
                return;
            };
            let out0 = l.total_out();
            let r = l.process(&[], out, Action::Finish);
            let r = match lzma_step(r, (l.total_out() - out0) as usize, "truncated lzip stream") {
                Ok(r) => r,
                Err(Failed { fault, made }) => {
                    if self.hand_on(made, cx) {
                        self.fail(fault, cx);
                    }
                    return;
                }
            };
            if !self.hand_on(r.made, cx) {
                return;
            }
            if r.ended {
                if let Codec::Lzip(_, done) = &mut self.codec {
                    *done = true;
                }
                return;
            }
            if r.made == 0 {
                return;
            }
        }
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.flush_staged(cx);
        if self.consumed > 0 {
            self.finish_lzip(cx);
        }
        if !self.failed && !self.complete() && self.consumed > 0 {
            cx.incomplete(
                IncompleteReason::Malformed,
                format!("truncated {} stream", self.name),
            );
        }
        self.inner.finish(cx);
    }
}

/// The name a compressed file's content had: its compression suffix taken
/// off, and the short forms of `.tar.gz` and the like read as `.tar`.
fn uncompressed_name(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    match ext.to_ascii_lowercase().as_str() {
        "gz" | "gzip" | "bz2" | "xz" | "lz" | "zst" | "br" => Some(stem.to_owned()),
        "tgz" | "tbz" | "tbz2" | "txz" | "tlz" | "tzst" => Some(format!("{stem}.tar")),
        _ => None,
    }
}

/// One step of an LZMA stream (xz, lzip): a memory limit is a limit, any
/// other error a corrupt stream, found after `made` bytes of output (the
/// decoder's count; its result has none on an error).
fn lzma_step(
    r: std::io::Result<StreamResult>,
    made: usize,
    what: &'static str,
) -> Result<Step, Failed> {
    match r {
        Ok(r) => Ok(Step {
            used: r.bytes_consumed,
            made: r.bytes_produced,
            ended: r.status == lzma_rust2::Status::StreamEnd,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::OutOfMemory => Err(Failed {
            fault: (
                IncompleteReason::SizeLimit,
                "its dictionary is larger than the decoder's memory limit",
            ),
            made,
        }),
        Err(_) => Err(corrupt_after(made, what)),
    }
}

fn xz_step(slot: &mut Option<Box<XzStream>>, data: &[u8], out: &mut [u8]) -> Result<Step, Failed> {
    let Some(x) = slot else {
        let step = |used, ended| {
            Ok(Step {
                used,
                made: 0,
                ended,
            })
        };
        return match data.first() {
            None => step(0, false),
            // Stream padding: zeros in fours between streams and after the last.
            Some(0) => step(data.iter().take_while(|&&b| b == 0).count(), false),
            Some(0xfd) => {
                *slot = Some(Box::new(XzStream::new_mem_limit(false, LZMA_MEMORY_KIB)));
                xz_step(slot, data, out)
            }
            Some(_) => step(0, true),
        };
    };
    let out0 = x.total_out();
    let r = x.process(data, out, Action::Run);
    let step = lzma_step(r, (x.total_out() - out0) as usize, "corrupt xz stream")?;
    if step.ended {
        *slot = None;
    }
    Ok(Step {
        ended: false,
        ..step
    })
}

fn bzip2_step(
    slot: &mut Option<Box<bzip2::Decompress>>,
    data: &[u8],
    out: &mut [u8],
) -> Result<Step, Failed> {
    let Some(d) = slot else {
        return match data.first() {
            None => Ok(Step {
                used: 0,
                made: 0,
                ended: false,
            }),
            // Another stream (`pbzip2`, `cat a.bz2 b.bz2`): started in this
            // same step, since a step that uses nothing ends the feed.
            Some(b'B') => {
                *slot = Some(Box::new(bzip2::Decompress::new(false)));
                bzip2_step(slot, data, out)
            }
            // Not another stream: `feed` looks at what follows.
            Some(_) => Ok(Step {
                used: 0,
                made: 0,
                ended: true,
            }),
        };
    };
    let (in0, out0) = (d.total_in(), d.total_out());
    let status = d.decompress(data, out);
    let step = Step {
        used: (d.total_in() - in0) as usize,
        made: (d.total_out() - out0) as usize,
        ended: false,
    };
    let status = status.map_err(|_| corrupt_after(step.made, "corrupt bzip2 stream"))?;
    if status == bzip2::Status::StreamEnd {
        *slot = None;
    }
    Ok(step)
}

fn inflate(d: &mut Decompress, data: &[u8], out: &mut [u8]) -> Result<Step, Failed> {
    let (in0, out0) = (d.total_in(), d.total_out());
    let status = d.decompress(data, out, FlushDecompress::None);
    let made = (d.total_out() - out0) as usize;
    let status = status.map_err(|_| corrupt_after(made, "corrupt deflate stream"))?;
    Ok(Step {
        used: (d.total_in() - in0) as usize,
        made,
        ended: status == Status::StreamEnd,
    })
}

fn gzip_step(g: &mut Gzip, data: &[u8], out: &mut [u8]) -> Result<Step, Failed> {
    let none = |used| {
        Ok(Step {
            used,
            made: 0,
            ended: false,
        })
    };
    match g {
        Gzip::Between => match data.first() {
            None => none(0),
            Some(0x1f) => {
                // Another member (`cat a.gz b.gz`, pigz): read its header in
                // this same step, since a step that uses nothing ends the feed.
                *g = Gzip::Header(Vec::new());
                gzip_step(g, data, out)
            }
            // Not another member: the stream has ended, and `feed` looks at
            // what follows.
            Some(_) => Ok(Step {
                used: 0,
                made: 0,
                ended: true,
            }),
        },
        Gzip::Header(buf) => {
            let held = buf.len();
            let take = (MAX_GZIP_HEADER - held.min(MAX_GZIP_HEADER)).min(data.len());
            buf.extend_from_slice(data.get(..take).unwrap_or(&[]));
            match gzip_header_len(buf).map_err(corrupt)? {
                Some(len) => {
                    *g = Gzip::Body(Decompress::new(false), Crc::new());
                    none(len - held)
                }
                None if buf.len() >= MAX_GZIP_HEADER => Err(corrupt("gzip header too long").into()),
                None => none(take),
            }
        }
        Gzip::Body(d, crc) => {
            let s = inflate(d, data, out)?;
            crc.update(out.get(..s.made).unwrap_or(&[]));
            if s.ended {
                let crc = std::mem::replace(crc, Crc::new());
                *g = Gzip::Trailer(Vec::with_capacity(8), crc);
            }
            Ok(Step { ended: false, ..s })
        }
        Gzip::Trailer(buf, crc) => {
            let take = (8 - buf.len()).min(data.len());
            buf.extend_from_slice(data.get(..take).unwrap_or(&[]));
            if let [a, b, c, d, e, f, h, i] = buf[..] {
                if u32::from_le_bytes([a, b, c, d]) != crc.sum()
                    || u32::from_le_bytes([e, f, h, i]) != crc.amount()
                {
                    return Err(corrupt("gzip checksum mismatch").into());
                }
                *g = Gzip::Between;
            }
            none(take)
        }
    }
}

/// The length of a complete gzip member header in `b`, if `b` holds one yet.
fn gzip_header_len(b: &[u8]) -> Result<Option<usize>, &'static str> {
    let [0x1f, 0x8b, cm, flags, ..] = *b else {
        if b.len() >= 2 && !b.starts_with(b"\x1f\x8b") {
            return Err("not a gzip stream");
        }
        return Ok(None);
    };
    if cm != 8 {
        return Err("unknown gzip method");
    }
    let mut at = 10;
    if b.len() < at {
        return Ok(None);
    }
    if flags & 0x04 != 0 {
        let Some(&[lo, hi]) = b.get(at..at + 2).and_then(|s| <&[u8; 2]>::try_from(s).ok()) else {
            return Ok(None);
        };
        at += 2 + usize::from(u16::from_le_bytes([lo, hi]));
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            match b.get(at..).and_then(|rest| memchr::memchr(0, rest)) {
                Some(nul) => at += nul + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    Ok((b.len() >= at).then_some(at))
}
