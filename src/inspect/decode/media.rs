//! Recognised media, walked to where it ends. A picture or a video is passed
//! over without a look at its content, but what is appended after its end (a
//! zip added to a JPEG with `copy /b`, text after a PNG's last chunk) is read
//! as a body of its own.
//!
//! Each format is walked by its own framing: PNG chunks, JPEG segments and
//! markers, GIF blocks, ISO BMFF boxes (MP4, MOV, HEIC, M4A), RIFF (WebP,
//! WAV, AVI), BMP and AIFF sizes. Only headers are read; what they frame is
//! stepped over, so a walk costs a few operations per chunk, not per byte (a
//! JPEG's coded data is searched for its next marker with `memchr`). Formats
//! whose end cannot be found by their framing (TIFF, Ogg, MP3, WebM…) are
//! media to the end of the body; every byte of that is looked at, long runs
//! of text in it are read, and a document or archive joined after it ends it
//! (`media_text`). A structure that breaks (a chunk
//! type that is no name, a box shorter than its header) ends the media where
//! it breaks: what is there is read as what follows, never passed unread.

use super::cx::Cx;
use super::media_text::Tail;
use super::sniff::{media_magic, ContentHint};
use super::Node;
use crate::inspect::sink::TextSink;

/// How many bytes of what follows a media file are gathered before it is
/// judged. Phones put a short marker between a still picture and the video
/// of a "motion photo" (`MotionPhoto_Data`); `MARKER` bytes of it are allowed.
const LOOK: usize = 64;
const MARKER: usize = 48;

/// Top-level ISO BMFF boxes that may be 16 MiB or larger: media data,
/// movie and fragment headers, padding, metadata, vendor boxes.
const LARGE_BOXES: [&[u8]; 12] = [
    b"mdat", b"moov", b"moof", b"mfra", b"free", b"skip", b"wide", b"junk", b"uuid", b"meta",
    b"udta", b"sidx",
];

/// What the walk reads next.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// A header of this many bytes (at most 16), then the format says what next.
    Header(usize),
    /// Bytes the structure frames, stepped over.
    Skip(u64, Then),
    /// A JPEG's next marker (in coded data or between segments); `ff` when
    /// the previous chunk ended on its 0xFF.
    Marker { ff: bool },
    /// Every byte to the end of the body is media, in which long runs of
    /// text are read, until a document or archive joined after it starts.
    Rest,
    /// The media has ended: what follows is gathered, then judged.
    After,
}

#[derive(Clone, Copy, Debug)]
enum Then {
    Header(usize),
    Marker,
    End,
}

/// The format being walked, and where in it.
#[derive(Clone, Copy, Debug)]
enum Walk {
    /// The first 8 bytes tell the format.
    Start,
    Png,
    /// A segment's length (the marker was found by `Phase::Marker`).
    Jpeg,
    Gif(Gif),
    /// A box header; `large` for the 64-bit size that follows a size of 1.
    Bmff {
        large: bool,
    },
    /// A RIFF header; after the first, another is an AVI's next part
    /// (`AVIX`) and anything else follows the file.
    Riff {
        first: bool,
    },
    Bmp,
    Aiff,
}

#[derive(Clone, Copy, Debug)]
enum Gif {
    Screen,
    Block,
    Label,
    Image,
    CodeSize,
    SubBlock,
}

/// What a header says.
enum Next {
    Go(Phase),
    /// The media ends after the header just read.
    End,
    /// The media ended before the header just read: it belongs to what follows.
    EndBefore,
}

pub(crate) struct MediaNode {
    walk: Walk,
    phase: Phase,
    hdr: [u8; 16],
    have: usize,
    /// What follows the media once it is known: `None` while it is gathered in `tail`.
    after: Option<Box<Node>>,
    tail: Vec<u8>,
    depth: u32,
    /// Media `judge` found after media: its bytes, walked next (before the
    /// rest of the input), by `feed`'s loop rather than by recursion, so a
    /// body of a thousand tiny pictures takes no stack.
    replay: Option<Vec<u8>>,
    /// The walk has read only the header its magic number was in.
    fresh: bool,
    /// That header turned out to be no header of the format: the tail
    /// starts with what only looked like media, and is not judged media
    /// again at its first byte (which would walk the same bytes forever).
    refused_start: bool,
    /// The text runs of media that runs to the end (`Phase::Rest`), and the
    /// document or archive that may be joined after it.
    rest: Tail,
}

impl MediaNode {
    pub fn new(depth: u32) -> MediaNode {
        MediaNode {
            walk: Walk::Start,
            phase: Phase::Header(8),
            hdr: [0; 16],
            have: 0,
            after: None,
            tail: Vec::new(),
            depth,
            replay: None,
            fresh: false,
            refused_start: false,
            rest: Tail::default(),
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        // What `judge` hands back comes before the rest of `data`; walking
        // it may hand back more. Each round settles at least a byte.
        let mut held: Vec<u8> = Vec::new();
        loop {
            if !held.is_empty() {
                let walked = std::mem::take(&mut held);
                held = self.run(&walked, cx).to_vec();
            } else if !data.is_empty() {
                data = self.run(data, cx);
            }
            if cx.stopped {
                return;
            }
            match self.replay.take() {
                Some(mut first) => {
                    first.append(&mut held);
                    held = first;
                }
                None if held.is_empty() && data.is_empty() => return,
                None => {}
            }
        }
    }

    /// Walks `data` until it is used up or `judge` hands bytes back; returns
    /// what is left of it.
    fn run<'a, S: TextSink>(&mut self, mut data: &'a [u8], cx: &mut Cx<S>) -> &'a [u8] {
        while !data.is_empty() && !cx.stopped && self.replay.is_none() {
            match self.phase {
                Phase::Rest => {
                    if let Some(joined) = self.rest.feed(data, &mut cx.sink) {
                        // A document or archive joined after the media ends
                        // it: read as what follows media is.
                        self.phase = Phase::After;
                        self.hand_back(&joined);
                    }
                    return &[];
                }
                Phase::After => {
                    if let Some(after) = &mut self.after {
                        after.feed(data, cx);
                        return &[];
                    }
                    data = self.gather(data, cx);
                }
                Phase::Skip(n, then) => {
                    let k = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                    data = data.get(k..).unwrap_or(&[]);
                    let left = n - k as u64;
                    self.phase = if left > 0 {
                        Phase::Skip(left, then)
                    } else {
                        match then {
                            Then::Header(n) => Phase::Header(n),
                            Then::Marker => Phase::Marker { ff: false },
                            Then::End => Phase::After,
                        }
                    };
                }
                Phase::Marker { ff } => data = self.marker(data, ff),
                Phase::Header(need) => {
                    let k = (need - self.have).min(data.len());
                    if let (Some(dst), Some(src)) =
                        (self.hdr.get_mut(self.have..self.have + k), data.get(..k))
                    {
                        dst.copy_from_slice(src);
                    }
                    self.have += k;
                    data = data.get(k..).unwrap_or(&[]);
                    if self.have < need {
                        return data;
                    }
                    self.have = 0;
                    let hdr = self.hdr;
                    let hdr = hdr.get(..need).unwrap_or(&[]);
                    if let Walk::Start = self.walk {
                        // The opening is also the first of the format's own
                        // headers (or part of it): read again once the
                        // format is known.
                        let used = self.start(hdr);
                        self.fresh = used == 0;
                        let rest = self.run(hdr.get(used..).unwrap_or(&[]), cx);
                        self.hand_back(rest);
                        continue;
                    }
                    let fresh = std::mem::take(&mut self.fresh);
                    match self.next(hdr) {
                        Next::Go(p) => self.phase = p,
                        Next::End => self.phase = Phase::After,
                        Next::EndBefore => {
                            self.phase = Phase::After;
                            self.refused_start = fresh;
                            let rest = self.gather(hdr, cx);
                            self.hand_back(rest);
                        }
                    }
                }
            }
        }
        data
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if let Phase::Rest = self.phase {
            self.rest.finish(&mut cx.sink);
            return;
        }
        // Each round settles at least one byte of the tail: what follows may
        // itself be media with something after it.
        for _ in 0..=LOOK {
            if cx.stopped {
                return;
            }
            // A header cut by the end of the body: a truncated file (the
            // first part of a larger upload) ends anywhere. Its few bytes
            // are read as text; sniffed, they could pass for the start of
            // some truncated format. (A media file shorter than its opening
            // header is its magic number alone: nothing to read.)
            if let Phase::Header(_) = self.phase {
                if self.have > 0 && !matches!(self.walk, Walk::Start) {
                    let have = std::mem::take(&mut self.have);
                    cx.sink.text(self.hdr.get(..have).unwrap_or(&[]));
                    cx.sink.boundary();
                }
                break;
            }
            if self.after.is_none() && matches!(self.phase, Phase::After) && !self.tail.is_empty() {
                self.judge(cx);
                if let Some(replay) = self.replay.take() {
                    self.feed(&replay, cx);
                }
                continue;
            }
            break;
        }
        if let Some(after) = &mut self.after {
            after.finish(cx);
        }
    }

    /// Picks the walk from the first 8 bytes; returns how many of them the
    /// format's walk does not read again.
    fn start(&mut self, head: &[u8]) -> usize {
        let (walk, phase, used) = if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            (Walk::Png, Phase::Header(8), 8)
        } else if head.starts_with(b"\xff\xd8") {
            (Walk::Jpeg, Phase::Marker { ff: false }, 2)
        } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            (Walk::Gif(Gif::Screen), Phase::Header(13), 0)
        } else if head.get(4..8) == Some(b"ftyp") {
            (Walk::Bmff { large: false }, Phase::Header(8), 0)
        } else if head.starts_with(b"RIFF") {
            (Walk::Riff { first: true }, Phase::Header(12), 0)
        } else if head.starts_with(b"BM") {
            (Walk::Bmp, Phase::Header(6), 0)
        } else if head.starts_with(b"FORM") {
            (Walk::Aiff, Phase::Header(8), 0)
        } else {
            // No framing to walk (TIFF, Ogg, MPEG audio, a piece of a JPEG
            // without its start): media to the end.
            (Walk::Start, Phase::Rest, 8)
        };
        self.walk = walk;
        self.phase = phase;
        used
    }

    /// What the header just read says comes next.
    fn next(&mut self, h: &[u8]) -> Next {
        let be32 = |at: usize| {
            h.get(at..at + 4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let le32 = |at: usize| {
            h.get(at..at + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let byte = |at: usize| h.get(at).copied().unwrap_or(0);
        match self.walk {
            // The opening goes to `start`, never here; were it to, nothing
            // after it could be framed.
            Walk::Start => Next::Go(Phase::Rest),
            Walk::Png => {
                let len = u64::from(be32(0));
                let name = h.get(4..8).unwrap_or(&[]);
                if len > 0x7fff_ffff || !name.iter().all(u8::is_ascii_alphabetic) {
                    return Next::EndBefore;
                }
                // The chunk's data, then its CRC.
                let then = if name == b"IEND" {
                    Then::End
                } else {
                    Then::Header(8)
                };
                Next::Go(Phase::Skip(len + 4, then))
            }
            Walk::Jpeg => {
                let len = u16::from_be_bytes([byte(0), byte(1)]);
                if len < 2 {
                    return Next::EndBefore;
                }
                Next::Go(Phase::Skip(u64::from(len) - 2, Then::Marker))
            }
            Walk::Gif(at) => {
                // Color tables: 3 bytes per entry, 2^(n+1) entries.
                let table = |flags: u8| {
                    if flags & 0x80 != 0 {
                        3u64 << ((flags & 7) + 1)
                    } else {
                        0
                    }
                };
                let (walk, phase) = match at {
                    Gif::Screen => (Gif::Block, Phase::Skip(table(byte(10)), Then::Header(1))),
                    Gif::Block => match byte(0) {
                        0x21 => (Gif::Label, Phase::Header(1)),
                        0x2c => (Gif::Image, Phase::Header(9)),
                        0x3b => return Next::End,
                        // Stray zeros between blocks, which decoders pass over.
                        0x00 => (Gif::Block, Phase::Header(1)),
                        _ => return Next::EndBefore,
                    },
                    Gif::Label | Gif::CodeSize => (Gif::SubBlock, Phase::Header(1)),
                    Gif::Image => (Gif::CodeSize, Phase::Skip(table(byte(8)), Then::Header(1))),
                    Gif::SubBlock => match byte(0) {
                        0 => (Gif::Block, Phase::Header(1)),
                        n => (Gif::SubBlock, Phase::Skip(u64::from(n), Then::Header(1))),
                    },
                };
                self.walk = Walk::Gif(walk);
                Next::Go(phase)
            }
            Walk::Bmff { large: true } => {
                let size = h
                    .get(..8)
                    .map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
                self.walk = Walk::Bmff { large: false };
                if size < 16 {
                    return Next::EndBefore;
                }
                Next::Go(Phase::Skip(size - 16, Then::Header(8)))
            }
            Walk::Bmff { large: false } => {
                let name = h.get(4..8).unwrap_or(&[]);
                // Text appended after the last box reads as a box of a huge
                // size: a box of another type than those that grow large
                // must be under 16 MiB, whose size opens with a NUL, which
                // text never holds.
                if !name.iter().all(|&b| (0x20..0x7f).contains(&b))
                    || byte(0) != 0 && !LARGE_BOXES.contains(&name)
                {
                    return Next::EndBefore;
                }
                match be32(0) {
                    // To the end of the file, which a stream cannot see.
                    0 => Next::Go(Phase::Rest),
                    1 => {
                        self.walk = Walk::Bmff { large: true };
                        Next::Go(Phase::Header(8))
                    }
                    n if n < 8 => Next::EndBefore,
                    n => Next::Go(Phase::Skip(u64::from(n) - 8, Then::Header(8))),
                }
            }
            Walk::Riff { first } => {
                if h.get(..4) != Some(b"RIFF") {
                    return if first {
                        Next::Go(Phase::Rest)
                    } else {
                        Next::EndBefore
                    };
                }
                self.walk = Walk::Riff { first: false };
                // The size counts the form type; an odd one is padded.
                let size = u64::from(le32(4));
                let skip = (size + (size & 1)).saturating_sub(4);
                Next::Go(Phase::Skip(skip, Then::Header(12)))
            }
            Walk::Bmp => match u64::from(le32(2)) {
                // A size no file has: the header cannot be trusted for its end.
                n if n < 26 => Next::Go(Phase::Rest),
                n => Next::Go(Phase::Skip(n - 6, Then::End)),
            },
            Walk::Aiff => {
                let size = u64::from(be32(4));
                Next::Go(Phase::Skip(size + (size & 1), Then::End))
            }
        }
    }

    /// A JPEG's next marker: coded data and stuffed bytes (0xFF 0x00),
    /// restart markers and fill bytes are stepped over; a segment's length
    /// is read next; the end of the image ends the media.
    fn marker<'a>(&mut self, data: &'a [u8], mut ff: bool) -> &'a [u8] {
        let mut i = 0;
        loop {
            if !ff {
                match memchr::memchr(0xff, data.get(i..).unwrap_or(&[])) {
                    Some(k) => i += k + 1,
                    None => {
                        self.phase = Phase::Marker { ff: false };
                        return &[];
                    }
                }
            }
            let Some(&code) = data.get(i) else {
                self.phase = Phase::Marker { ff: true };
                return &[];
            };
            i += 1;
            match code {
                0xff => ff = true,
                0x00 | 0x01 | 0xd0..=0xd8 => ff = false,
                0xd9 => {
                    self.phase = Phase::After;
                    return data.get(i..).unwrap_or(&[]);
                }
                _ => {
                    self.walk = Walk::Jpeg;
                    self.phase = Phase::Header(2);
                    return data.get(i..).unwrap_or(&[]);
                }
            }
        }
    }

    /// Bytes to walk before the rest of the input: the document or archive
    /// joined after media that runs to the end, from its signature on; or
    /// bytes of a header not walked because `judge` handed bytes back
    /// meanwhile, which come after those (a header is walked where the tail
    /// is empty, so that is a guard, not a path).
    fn hand_back(&mut self, rest: &[u8]) {
        if !rest.is_empty() {
            self.replay
                .get_or_insert_with(Vec::new)
                .extend_from_slice(rest);
        }
    }

    /// Gathers the start of what follows the media (zeros that pad it are
    /// passed over), and judges it once there is enough to.
    fn gather<'a, S: TextSink>(&mut self, data: &'a [u8], cx: &mut Cx<S>) -> &'a [u8] {
        let data = if self.tail.is_empty() {
            let zeros = data.iter().position(|&b| b != 0).unwrap_or(data.len());
            data.get(zeros..).unwrap_or(&[])
        } else {
            data
        };
        let k = (LOOK - self.tail.len().min(LOOK)).min(data.len());
        self.tail.extend_from_slice(data.get(..k).unwrap_or(&[]));
        if self.tail.len() >= LOOK {
            self.judge(cx);
        }
        data.get(k..).unwrap_or(&[])
    }

    /// Decides what follows the media: more media (walked in place, so a
    /// run of pictures nests no deeper), or a body of its own, sniffed.
    fn judge<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let mut tail = std::mem::take(&mut self.tail);
        let from = usize::from(std::mem::take(&mut self.refused_start));
        let at = (from..=MARKER.min(tail.len())).find_map(|k| {
            let rest = tail.get(k..)?;
            let media = if k == 0 {
                media_magic(rest)
            } else if rest.get(4..8) == Some(b"ftyp") || rest.starts_with(b"\xff\xd8\xff") {
                // Past a marker only the two a phone writes there.
                media_magic(rest)
            } else {
                None
            };
            media.map(|m| (k, m))
        });
        if let Some((k, mime)) = at {
            if k > 0 {
                cx.sink.text(tail.get(..k).unwrap_or(&[]));
                cx.sink.boundary();
            }
            cx.media(mime);
            self.walk = Walk::Start;
            self.phase = Phase::Header(8);
            self.have = 0;
            tail.drain(..k);
            self.replay = Some(tail);
            return;
        }
        // What only looked like media by its first byte is sniffed from the
        // next one on: sniffed whole, it would look like the same media.
        if from > 0 {
            cx.sink.text(tail.get(..from).unwrap_or(&[]));
            cx.sink.boundary();
        }
        let mut after = Node::sniffing(ContentHint::default(), self.depth + 1);
        after.feed(tail.get(from..).unwrap_or(&[]), cx);
        self.after = Some(Box::new(after));
    }
}
