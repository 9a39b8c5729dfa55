//! What a PDF's objects say about its streams: which are page content (and
//! so must be read), which font each content stream's resource names (`/F1`)
//! stand for and how that font's codes become text, and what the attached
//! files are called. Found by indexing the file's objects, those packed in
//! object streams too: pages name their content streams and their resources
//! (inherited from the page tree when a page has none), form XObjects carry
//! their own, a font names its ToUnicode CMap, a file specification its file.

use std::collections::HashMap;
use std::ops::Range;

use memchr::memmem;

use super::cmap::{Budget, CMap};
use super::filters::{decode, filter, Filter};
use super::syntax::{
    balanced, header_number, int, is_delimiter, is_name, reference, skip_space, stream_start, value,
};
use crate::inspect::decode::cx::Cx;
use crate::inspect::findings::IncompleteReason;
use crate::inspect::sink::TextSink;

/// How many `/Parent` links are followed to find a page's resources.
const MAX_INHERIT: usize = 32;
/// Objects indexed (a thousand-page report has tens of thousands).
const MAX_OBJECTS: usize = 1 << 18;
/// Code ranges and UTF-16 units kept from all of a PDF's font maps (a CJK
/// subset maps a few thousand codes).
const MAX_MAP_RANGES: usize = 1 << 18;
const MAX_MAP_UNITS: usize = 1 << 19;

/// How one font's strings become text.
pub(crate) enum Font {
    /// Through its ToUnicode CMap.
    Mapped(CMap),
    /// Two-byte codes that are UTF-16 already (`UniGB-UCS2-H` and its kin,
    /// for fonts that are not embedded).
    Utf16,
    /// Codes that are a legacy CJK encoding's bytes, by the predefined CMap
    /// the font names (`GBK-EUC-H`, `ETen-B5-H`, `HKscs-B5-H`…): what older
    /// Chinese software writes for fonts it does not embed.
    Legacy(&'static encoding_rs::Encoding),
    /// A composite font with neither: its codes are glyph numbers, and what
    /// they show cannot be known.
    Unreadable,
    /// A simple font without a map: its bytes are (close to) Latin-1, and
    /// are read as they are.
    Raw,
}

/// Where an object's bytes are: in the file, or in an inflated object stream.
enum Place {
    File {
        dict: Range<usize>,
        stream: Option<Range<usize>>,
    },
    Packed {
        arena: usize,
        dict: Range<usize>,
    },
}

struct Objects<'a> {
    buf: &'a [u8],
    at: HashMap<u32, Place>,
    arenas: Vec<Vec<u8>>,
    /// The bodies of objects that may be a string alone (`7 0 obj (…)
    /// endobj`), in the file (`None`) or in an arena; every copy of each,
    /// an incremental update's earlier values too: they leave with the file.
    strings: Vec<(Option<usize>, Range<usize>)>,
}

impl<'a> Objects<'a> {
    fn dict(&self, num: u32) -> &[u8] {
        match self.at.get(&num) {
            Some(Place::File { dict, .. }) => self.buf.get(dict.clone()).unwrap_or(&[]),
            Some(Place::Packed { arena, dict }) => self
                .arenas
                .get(*arena)
                .and_then(|a| a.get(dict.clone()))
                .unwrap_or(&[]),
            None => &[],
        }
    }

    fn stream(&self, num: u32) -> Option<&'a [u8]> {
        match self.at.get(&num) {
            Some(Place::File {
                stream: Some(s), ..
            }) => self.buf.get(s.clone()),
            _ => None,
        }
    }

    /// A stream's data with its filters undone; `None` if it cannot be read.
    fn stream_data<S: TextSink>(&self, num: u32, cx: &mut Cx<S>) -> Option<Vec<u8>> {
        let data = self.stream(num)?;
        match filter(self.dict(num)) {
            Filter::Chain(steps) => {
                let (out, whole) = decode(data, &steps, cx);
                (whole || !out.is_empty()).then_some(out)
            }
            Filter::Image(_) | Filter::Unreadable => None,
        }
    }

    /// A dictionary given in place (`<< … >>`) or by reference.
    fn resolve<'s>(&'s self, value: &'s [u8]) -> &'s [u8] {
        match reference(value) {
            Some(n) => self.dict(n),
            None => value
                .strip_prefix(b"<<")
                .map_or(&[][..], |_| balanced(value)),
        }
    }
}

fn index<'a, S: TextSink>(buf: &'a [u8], cx: &mut Cx<S>) -> Objects<'a> {
    let mut objs = Objects {
        buf,
        at: HashMap::new(),
        arenas: Vec::new(),
        strings: Vec::new(),
    };
    let mut at = 0;
    // The next `endobj` at or after `at`, found once however many objects
    // (streams without their own `endobj`) come before it.
    let mut next_end: Option<usize> = None;
    while let Some(p) = memmem::find(buf.get(at..).unwrap_or(&[]), b"obj") {
        let k = at + p;
        at = k + 3;
        if buf.get(k + 3).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        let Some(num) = header_number(buf, k) else {
            continue;
        };
        let end = match next_end {
            Some(e) if e >= at => e,
            _ => {
                let rest = buf.get(at..).unwrap_or(&[]);
                let e = memmem::find(rest, b"endobj").map_or(buf.len(), |e| at + e);
                next_end = Some(e);
                e
            }
        };
        let stream = memmem::find(buf.get(at..end).unwrap_or(&[]), b"stream").map(|s| at + s);
        let place = match stream.and_then(|s| Some((s, stream_start(buf, s + 6)?))) {
            Some((s, data)) => {
                let stop = memmem::find(buf.get(data..).unwrap_or(&[]), b"endstream")
                    .map_or(buf.len(), |e| data + e);
                let dict = at..s;
                at = stop;
                Place::File {
                    dict,
                    stream: Some(data..stop),
                }
            }
            None => {
                let dict = at..end;
                if opens_string(buf.get(dict.clone()).unwrap_or(&[])) {
                    objs.strings.push((None, dict.clone()));
                }
                at = end;
                Place::File { dict, stream: None }
            }
        };
        if objs.at.len() >= MAX_OBJECTS && !objs.at.contains_key(&num) {
            cx.incomplete(
                IncompleteReason::EntryLimit,
                format!("PDF with more than {MAX_OBJECTS} objects"),
            );
            break;
        }
        // An incremental update's later copy of an object is the current one.
        objs.at.insert(num, place);
    }
    // Objects packed in object streams: their dictionaries are compressed.
    let packed: Vec<u32> = objs
        .at
        .keys()
        .copied()
        .filter(|&n| is_name(objs.dict(n), b"Type", b"ObjStm"))
        .collect();
    for n in packed {
        if cx.stopped {
            break;
        }
        let dict = objs.dict(n);
        let (Some(count), Some(first)) = (int(dict, b"N"), int(dict, b"First")) else {
            continue;
        };
        let Some(data) = objs.stream_data(n, cx) else {
            continue;
        };
        let header: Vec<u64> = data
            .get(..usize::try_from(first).unwrap_or(usize::MAX).min(data.len()))
            .unwrap_or(&[])
            .split(u8::is_ascii_whitespace)
            .filter_map(|w| std::str::from_utf8(w).ok()?.parse().ok())
            .take(usize::try_from(count.saturating_mul(2)).unwrap_or(usize::MAX))
            .collect();
        let arena = objs.arenas.len();
        let offsets: Vec<(u32, usize)> = header
            .chunks_exact(2)
            .filter_map(|p| match p {
                [num, off] => Some((
                    u32::try_from(*num).ok()?,
                    usize::try_from(first.checked_add(*off)?).ok()?,
                )),
                _ => None,
            })
            .collect();
        for (i, &(num, start)) in offsets.iter().enumerate() {
            let end = offsets.get(i + 1).map_or(data.len(), |&(_, e)| e);
            if objs.at.len() >= MAX_OBJECTS {
                cx.incomplete(
                    IncompleteReason::EntryLimit,
                    format!("PDF with more than {MAX_OBJECTS} objects"),
                );
                break;
            }
            if start <= end && end <= data.len() {
                if opens_string(data.get(start..end).unwrap_or(&[])) {
                    objs.strings.push((Some(arena), start..end));
                }
                objs.at.entry(num).or_insert(Place::Packed {
                    arena,
                    dict: start..end,
                });
            }
        }
        objs.arenas.push(data);
    }
    objs
}

/// Font names (`/F1`) to font objects, as one resource dictionary gives them.
type Names = HashMap<Vec<u8>, u32>;

/// The fonts of a PDF, by the content streams that name them.
#[derive(Default)]
pub(crate) struct Document {
    fonts: HashMap<u32, Font>,
    /// Name maps, one per resource dictionary: the pages of a document mostly
    /// share theirs, and each is read once.
    lists: Vec<Names>,
    /// Per content stream (page contents, form XObjects): its name map.
    streams: HashMap<u32, usize>,
    /// Every name any resource dictionary gives, for a stream no page claims
    /// (the first font a name was seen with).
    any: Names,
    /// Attached files' names, by the stream that holds each.
    attachments: HashMap<u32, String>,
    /// Bytes delivered from objects that are a string alone.
    pub(crate) string_bytes: usize,
}

impl Document {
    pub(crate) fn of<S: TextSink>(buf: &[u8], cx: &mut Cx<S>) -> Document {
        let mut doc = Document::default();
        let objs = index(buf, cx);
        doc.string_bytes = string_objects(&objs, cx);
        let mut nums: Vec<u32> = objs.at.keys().copied().collect();
        nums.sort_unstable();
        // Resource dictionaries read so far, by where their bytes are; and
        // the page tree's inherited resources, by node.
        let mut read: HashMap<(usize, usize), usize> = HashMap::new();
        let mut inherited: HashMap<u32, Option<&[u8]>> = HashMap::new();
        for &n in &nums {
            if cx.stopped {
                break;
            }
            let dict = objs.dict(n);
            if is_name(dict, b"Type", b"Page") {
                let resources = page_resources(&objs, dict, &mut inherited);
                let list = doc.list(&objs, resources, &mut read);
                for c in contents(dict) {
                    doc.streams.entry(c).or_insert(list);
                }
            } else if is_name(dict, b"Subtype", b"Form") && objs.stream(n).is_some() {
                let resources = value(dict, b"Resources").map(|v| objs.resolve(v));
                let list = doc.list(&objs, resources, &mut read);
                doc.streams.entry(n).or_insert(list);
            } else if let Some(ef) = value(dict, b"EF") {
                // A file specification: `/EF << /F 9 0 R >>` and its name.
                let file = value(objs.resolve(ef), b"F").and_then(reference);
                if let (Some(file), Some(name)) = (file, file_name(dict)) {
                    doc.attachments.insert(file, name);
                }
            }
        }
        let mut used: Vec<u32> = doc.lists.iter().flat_map(|l| l.values().copied()).collect();
        used.sort_unstable();
        used.dedup();
        let mut budget = Budget {
            ranges: MAX_MAP_RANGES,
            units: MAX_MAP_UNITS,
            hit: false,
        };
        for f in used {
            if cx.stopped {
                break;
            }
            let font = font(&objs, f, &mut budget, cx);
            doc.fonts.insert(f, font);
        }
        if budget.hit {
            cx.incomplete(
                IncompleteReason::EntryLimit,
                "PDF font maps larger than the limit",
            );
        }
        doc
    }

    /// The name map of a resource dictionary, read once however many pages
    /// share it.
    fn list(
        &mut self,
        objs: &Objects<'_>,
        resources: Option<&[u8]>,
        read: &mut HashMap<(usize, usize), usize>,
    ) -> usize {
        let key = resources.map_or((0, 0), |r| (r.as_ptr() as usize, r.len()));
        if let Some(&i) = read.get(&key) {
            return i;
        }
        let names = font_names(objs, resources);
        for (name, f) in &names {
            self.any.entry(name.clone()).or_insert(*f);
        }
        self.lists.push(names);
        read.insert(key, self.lists.len() - 1);
        self.lists.len() - 1
    }

    /// Whether `stream` is a page's content or a form's: its text is the
    /// document's, and must be read.
    pub(crate) fn is_content(&self, stream: Option<u32>) -> bool {
        stream.is_some_and(|s| self.streams.contains_key(&s))
    }

    /// Whether any page was found (a PDF too broken for that is read the
    /// old way, stream by stream).
    pub(crate) fn has_pages(&self) -> bool {
        !self.streams.is_empty()
    }

    /// The name of the file attached in `stream`.
    pub(crate) fn attachment(&self, stream: Option<u32>) -> Option<&str> {
        self.attachments.get(&stream?).map(String::as_str)
    }

    /// The font `name` stands for in content stream `stream`.
    pub(crate) fn get(&self, stream: Option<u32>, name: &[u8]) -> Option<&Font> {
        let by_stream = stream
            .and_then(|s| self.streams.get(&s))
            .and_then(|&l| self.lists.get(l))
            .and_then(|names| names.get(name));
        let f = by_stream.or_else(|| self.any.get(name))?;
        self.fonts.get(f)
    }
}

/// Whether an object's body opens with a string (the cheap test made of
/// every object while indexing; `string_object` decides).
fn opens_string(body: &[u8]) -> bool {
    match skip_space(body) {
        [b'(', ..] => true,
        [b'<', c, ..] => *c != b'<',
        _ => false,
    }
}

/// The string an object's body is, if it is one string and nothing else.
fn string_object(body: &[u8]) -> Option<Vec<u8>> {
    let b = skip_space(body);
    let mut out = Vec::new();
    let end = match b {
        [b'(', ..] => match super::literal_closed(b, 1, &mut out) {
            (end, true) => end,
            (_, false) => return None,
        },
        [b'<', ..] => {
            let close = memchr::memchr(b'>', b)?;
            let digits = b.get(1..close)?;
            if !digits
                .iter()
                .all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace())
            {
                return None;
            }
            super::hex(b, 1, &mut out)
        }
        _ => return None,
    };
    skip_space(b.get(end..)?).is_empty().then_some(out)
}

/// Delivers the objects that are a string alone; returns the bytes
/// delivered. Text values are often held so (`/V 7 0 R`, `/Contents 9 0 R`,
/// the info dictionary's `/Title 5 0 R`): a dictionary's key says only where
/// they are. What else a PDF holds as a lone string (JavaScript, a URI, a
/// name-tree key) is text too, and reading it costs little; binary strings
/// (signatures) sit inside dictionaries, not alone.
fn string_objects<S: TextSink>(objs: &Objects<'_>, cx: &mut Cx<S>) -> usize {
    let mut shown = 0;
    for (arena, range) in &objs.strings {
        if cx.stopped {
            break;
        }
        let bytes = match arena {
            None => objs.buf,
            Some(a) => objs.arenas.get(*a).map_or(&[][..], Vec::as_slice),
        };
        let Some(text) = string_object(bytes.get(range.clone()).unwrap_or(&[])) else {
            continue;
        };
        if !text.is_empty() {
            shown += super::deliver(&text, cx);
            cx.sink.boundary();
        }
    }
    shown
}

fn font<S: TextSink>(objs: &Objects<'_>, f: u32, budget: &mut Budget, cx: &mut Cx<S>) -> Font {
    let dict = objs.dict(f);
    if let Some(map) = value(dict, b"ToUnicode")
        .and_then(reference)
        .and_then(|m| objs.stream_data(m, cx))
    {
        return Font::Mapped(CMap::parse(&map, budget));
    }
    if !is_name(dict, b"Subtype", b"Type0") {
        return Font::Raw;
    }
    let encoding = value(dict, b"Encoding").unwrap_or(&[]);
    let name = encoding.strip_prefix(b"/").unwrap_or(&[]);
    let name = name
        .get(
            ..name
                .iter()
                .position(|&c| is_delimiter(c))
                .unwrap_or(name.len()),
        )
        .unwrap_or(&[]);
    if memmem::find(name, b"UCS2").is_some() || memmem::find(name, b"UTF16").is_some() {
        Font::Utf16
    } else {
        predefined_encoding(name).map_or(Font::Unreadable, Font::Legacy)
    }
}

/// The encoding whose bytes a predefined CMap's codes are (PDF 32000-1
/// §9.7.5.2, Table 118). Those that map to CIDs of no encoding here (CNS-EUC,
/// the Identity CMaps) have none: their text cannot be read.
fn predefined_encoding(name: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let has = |part: &[u8]| memmem::find(name, part).is_some();
    Some(if has(b"UTF8") {
        encoding_rs::UTF_8
    } else if has(b"GBK2K") {
        encoding_rs::GB18030
    } else if name.starts_with(b"GB") {
        // GB-EUC, GBpc-EUC, GBK-EUC, GBKp-EUC, GBT-EUC: GB 2312 and its
        // extensions, all inside GBK.
        encoding_rs::GBK
    } else if has(b"B5") {
        // B5pc, ETen-B5, ETenms-B5 and the Hong Kong sets (HKscs-B5 and its
        // predecessors): Big5, whose WHATWG form carries HKSCS.
        encoding_rs::BIG5
    } else if has(b"RKSJ") {
        encoding_rs::SHIFT_JIS
    } else if matches!(name, b"EUC-H" | b"EUC-V") {
        encoding_rs::EUC_JP
    } else if name.starts_with(b"KSC") {
        encoding_rs::EUC_KR
    } else {
        return None;
    })
}

/// A file specification's name (`/UF`, else `/F`), as text.
fn file_name(spec: &[u8]) -> Option<String> {
    [&b"UF"[..], b"F"].iter().find_map(|key| {
        let v = value(spec, key)?;
        let mut bytes = Vec::new();
        match v.first() {
            Some(b'(') => super::literal(v, 1, &mut bytes),
            Some(b'<') => super::hex(v, 1, &mut bytes),
            _ => return None,
        };
        let mut name = String::new();
        super::text_string(&bytes, &mut name);
        Some(name)
    })
}

/// A page's resources, its own or the nearest ancestor's. What each node of
/// the page tree passes down is remembered: a document of many pages under
/// one node reads that node once.
fn page_resources<'s>(
    objs: &'s Objects<'_>,
    page: &'s [u8],
    inherited: &mut HashMap<u32, Option<&'s [u8]>>,
) -> Option<&'s [u8]> {
    if let Some(r) = value(page, b"Resources") {
        return Some(objs.resolve(r));
    }
    // Up the tree to a node that has them (or whose answer is known).
    let mut chain = Vec::new();
    let mut node = value(page, b"Parent").and_then(reference);
    let mut found = None;
    while let Some(n) = node {
        if let Some(&known) = inherited.get(&n) {
            found = known;
            break;
        }
        if chain.len() >= MAX_INHERIT || chain.contains(&n) {
            break;
        }
        chain.push(n);
        let dict = objs.dict(n);
        if let Some(r) = value(dict, b"Resources") {
            found = Some(objs.resolve(r));
            break;
        }
        node = value(dict, b"Parent").and_then(reference);
    }
    for n in chain {
        inherited.insert(n, found);
    }
    found
}

/// The `/Font` entries of a resource dictionary: name → font object.
fn font_names(objs: &Objects<'_>, resources: Option<&[u8]>) -> Names {
    let Some(fonts) = resources.and_then(|r| value(r, b"Font")) else {
        return Names::new();
    };
    let fonts = objs.resolve(fonts);
    let mut out = Names::new();
    let mut at = 0;
    while let Some(p) = memchr::memchr(b'/', fonts.get(at..).unwrap_or(&[])) {
        let start = at + p + 1;
        let mut i = start;
        while fonts.get(i).is_some_and(|&c| !is_delimiter(c)) {
            i += 1;
        }
        at = i.max(start);
        let name = fonts.get(start..i).unwrap_or(&[]);
        if let Some(f) = reference(skip_space(fonts.get(i..).unwrap_or(&[]))) {
            out.entry(name.to_vec()).or_insert(f);
        }
    }
    out
}

/// The content streams a page names: one reference or an array of them.
fn contents(page: &[u8]) -> Vec<u32> {
    let Some(v) = value(page, b"Contents") else {
        return Vec::new();
    };
    if let Some(n) = reference(v) {
        return vec![n];
    }
    let Some(inner) = v.strip_prefix(b"[") else {
        return Vec::new();
    };
    let inner = inner
        .get(..memchr::memchr(b']', inner).unwrap_or(inner.len()))
        .unwrap_or(&[]);
    let words: Vec<&[u8]> = inner
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(3)
        .filter_map(|w| match w {
            [n, _, r] if *r == b"R" => std::str::from_utf8(n).ok()?.parse().ok(),
            _ => None,
        })
        .collect()
}
