//! Tar archives, streaming: each member is decoded as what it is (a `.tar.gz`
//! of spreadsheets is spreadsheets), named by its header, GNU long-name record
//! or pax `path`. Headers are checked by their checksum; a member cut short,
//! a broken header, or data after the end marker make the scan incomplete.

use super::cx::Cx;
use super::{ContentHint, Node};
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

const BLOCK: usize = 512;
/// Longest long-name or pax record kept (its rest is skipped).
const MAX_META: usize = 64 << 10;

/// Whether `head` (at least 263 bytes) is a ustar or GNU tar header.
pub(crate) fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar") && checksum_ok(head)
}

fn octal(field: &[u8]) -> Option<u64> {
    // GNU base-256 for sizes past 8 GiB: the top bit of the first byte.
    if let Some((&first, rest)) = field.split_first() {
        if first & 0x80 != 0 {
            return rest.iter().try_fold(u64::from(first & 0x7F), |v, &b| {
                v.checked_mul(256)?.checked_add(u64::from(b))
            });
        }
    }
    let digits = field
        .iter()
        .skip_while(|b| **b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(*b));
    let mut v = 0u64;
    let mut any = false;
    for &d in digits {
        v = v.checked_mul(8)?.checked_add(u64::from(d - b'0'))?;
        any = true;
    }
    any.then_some(v)
}

/// The header's sum of bytes (its checksum field counted as spaces) matches
/// the field: as unsigned bytes, or as signed ones, which old Unix tars
/// (HP-UX, V7) summed.
fn checksum_ok(h: &[u8]) -> bool {
    let Some(want) = h.get(148..156).and_then(octal) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in h.iter().take(BLOCK).enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    unsigned == want || u64::try_from(signed).is_ok_and(|s| s == want)
}

fn text_field(f: &[u8]) -> String {
    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    String::from_utf8_lossy(f.get(..end).unwrap_or(&[])).into_owned()
}

/// What the data after a header is.
enum Data {
    /// A file: decoded.
    Member(Node),
    /// A GNU long name (`L`) or pax header (`x`): names the next member.
    Meta(u8),
    /// A directory, a link or anything else without content.
    Nothing,
}

pub(crate) struct TarNode {
    depth: u32,
    header: Vec<u8>,
    data: Option<Data>,
    meta: Vec<u8>,
    /// Content bytes of the current entry still to come, then its padding.
    left: u64,
    pad: u64,
    /// A name for the next member, from a long-name or pax record.
    next_name: Option<String>,
    /// The next member's size from a pax record (which overrides the header's).
    next_size: Option<u64>,
    zero_blocks: u8,
    ended: bool,
    broken: bool,
    /// A GNU sparse member's extension blocks (its map of holes) come next;
    /// its data, of this size, after them.
    sparse_ext: Option<u64>,
}

impl TarNode {
    pub fn new(depth: u32) -> Self {
        TarNode {
            depth,
            header: Vec::with_capacity(BLOCK),
            data: None,
            meta: Vec::new(),
            left: 0,
            pad: 0,
            next_name: None,
            next_size: None,
            zero_blocks: 0,
            ended: false,
            broken: false,
            sparse_ext: None,
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        while !data.is_empty() && !self.broken && !cx.stopped {
            if self.left > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                let (now, rest) = data.split_at(n);
                match &mut self.data {
                    Some(Data::Member(node)) => node.feed(now, cx),
                    Some(Data::Meta(_)) => {
                        let room = MAX_META.saturating_sub(self.meta.len());
                        self.meta
                            .extend_from_slice(now.get(..room.min(now.len())).unwrap_or(&[]));
                    }
                    _ => {}
                }
                self.left -= n as u64;
                data = rest;
                if self.left == 0 {
                    self.end_entry(cx);
                }
            } else if self.pad > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(self.pad).unwrap_or(usize::MAX));
                self.pad -= n as u64;
                data = data.get(n..).unwrap_or(&[]);
            } else if self.ended {
                // Archives are padded with zero blocks; anything else after
                // the end marker is no member's, and would leave unread.
                if data.iter().any(|&b| b != 0) {
                    cx.incomplete(
                        IncompleteReason::Malformed,
                        "data after the end of the tar archive",
                    );
                    self.broken = true;
                }
                return;
            } else {
                let n = (BLOCK - self.header.len()).min(data.len());
                self.header.extend_from_slice(data.get(..n).unwrap_or(&[]));
                data = data.get(n..).unwrap_or(&[]);
                if self.header.len() == BLOCK {
                    self.start_entry(cx);
                    self.header.clear();
                }
            }
        }
    }

    fn start_entry<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let h = &self.header;
        if let Some(size) = self.sparse_ext {
            // An extension block: more follow while its last flag is set.
            if h.get(504).is_some_and(|&f| f != 0) {
                return;
            }
            self.sparse_ext = None;
            self.start_data(size, cx);
            return;
        }
        if h.iter().all(|&b| b == 0) {
            self.zero_blocks += 1;
            self.ended = self.zero_blocks >= 2;
            return;
        }
        self.zero_blocks = 0;
        let size = self
            .next_size
            .take()
            .or_else(|| h.get(124..136).and_then(octal));
        let (true, Some(size)) = (checksum_ok(h), size) else {
            cx.incomplete(IncompleteReason::Malformed, "broken tar header");
            self.broken = true;
            return;
        };
        let kind = h.get(156).copied().unwrap_or(0);
        let mut name = text_field(h.get(..100).unwrap_or(&[]));
        if h.get(257..262) == Some(b"ustar") {
            let prefix = text_field(h.get(345..500).unwrap_or(&[]));
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        let name = self.next_name.take().unwrap_or(name);
        let extended = kind == b'S' && h.get(482).is_some_and(|&f| f != 0);
        self.data = Some(match kind {
            // Regular files, contiguous files, GNU sparse files (their data
            // pieces, holes left out).
            b'0' | 0 | b'7' | b'S' => {
                if !cx.entry() {
                    self.broken = true;
                    return;
                }
                super::container::member_name(&name, cx);
                let hint = ContentHint {
                    file_name: Some(name),
                    ..ContentHint::default()
                };
                Data::Member(Node::sniffing(hint, self.depth + 1))
            }
            b'L' | b'x' => {
                self.meta.clear();
                Data::Meta(kind)
            }
            _ => Data::Nothing,
        });
        if extended {
            self.sparse_ext = Some(size);
        } else {
            self.start_data(size, cx);
        }
    }

    fn start_data<S: TextSink>(&mut self, size: u64, cx: &mut Cx<S>) {
        self.left = size;
        self.pad = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        if size == 0 {
            self.end_entry(cx);
        }
    }

    fn end_entry<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        match self.data.take() {
            Some(Data::Member(mut node)) => node.finish(cx),
            Some(Data::Meta(b'L')) => self.next_name = Some(text_field(&self.meta)),
            Some(Data::Meta(_)) => {
                self.next_name =
                    pax_value(&self.meta, b"path").map(|p| String::from_utf8_lossy(p).into_owned());
                self.next_size = pax_value(&self.meta, b"size")
                    .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok());
            }
            _ => {}
        }
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.broken {
            return;
        }
        if self.left > 0 || !self.header.is_empty() {
            if let Some(Data::Member(node)) = &mut self.data {
                node.finish(cx);
            }
            cx.incomplete(IncompleteReason::Malformed, "truncated tar archive");
        }
    }
}

/// A value of a pax extended header (`<len> <key>=<value>\n` records).
fn pax_value<'m>(records: &'m [u8], key: &[u8]) -> Option<&'m [u8]> {
    let mut rest = records;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(rest.get(..sp)?).ok()?.parse().ok()?;
        let record = rest.get(sp + 1..len)?;
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(v) = record.strip_prefix(key).and_then(|r| r.strip_prefix(b"=")) {
            return Some(v);
        }
        rest = rest.get(len..)?;
    }
    None
}
