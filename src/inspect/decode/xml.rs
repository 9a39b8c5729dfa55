//! The XML events of Office and ODF parts: what quick_xml's reader gives, with
//! the same checks (markup closed, end names matching), read from the part's
//! inflater into one buffer and handed out from there.
//!
//! quick_xml's buffered reader copies every event into a buffer of its own,
//! searches each with a call of `memchr`, and checks that each is UTF-8 (its
//! types hold `str`); a sheet is little but events (five per cell), and that
//! was most of the time an XLSX took. Here an event is a slice of the buffer
//! the inflater fills, the short searches are loops, and bytes are bytes:
//! the readers that keep text check it or read it lossily, and `Tag::event`
//! makes a tag quick_xml's where its attributes are read.
//!
//! Only the events the Office readers use are handed out: start, empty and
//! end tags, text and CDATA. Declarations, processing instructions, comments
//! and doctypes are read past, and are malformed where quick_xml says so.
//! Unlike quick_xml, what is held is bounded whatever the part: long text
//! comes in pieces, and markup too long or nested too deep ends the part.

use std::borrow::Cow;
use std::io::{ErrorKind, Read};

use quick_xml::events::BytesStart;

/// Bytes asked of the inflater per read: larger reads cost fewer calls into
/// it (64 KiB against quick_xml's 8 KiB was +5% on a DOCX).
const READ: usize = 64 << 10;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Longest tag, comment, CDATA section or declaration read: Office writes
/// none near it, and what is longer is not held (quick_xml held any).
pub(super) const MAX_MARKUP: usize = 1 << 20;
/// Text is handed out in pieces of at most this, cut where no character or
/// reference is split: a part's text node is not held whole, however long.
pub(super) const TEXT_PIECE: usize = 1 << 20;

/// Elements open at once: Office nests a few dozen deep. Each costs the
/// reader its name, so a part of nothing but `<a>` would otherwise hold three
/// times its size.
pub(super) const MAX_NESTING: usize = 4096;

/// Why a part could not be read to its end.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unread {
    /// Markup that is not closed, or not as XML allows, or input that failed.
    Malformed,
    /// Markup longer than `MAX_MARKUP`.
    TooLong,
    /// More than `MAX_NESTING` elements open, or more than `MAX_MARKUP`
    /// bytes of their names.
    TooDeep,
}

/// An event as where it lies in the buffer: read without holding a borrow
/// of it, and made a `Raw` at the end.
enum Tok {
    Text((usize, usize)),
    CData((usize, usize)),
    /// The tag between `<` and `>` (without a closing `/`), and its name's length.
    Start((usize, usize), usize),
    Empty((usize, usize), usize),
    /// The name.
    End((usize, usize)),
}

/// An event as bytes of the part: quick_xml's events, without the check
/// that each is UTF-8 which its types need (a fifth of a DOCX's time). Where
/// a reader needs a tag's attributes, `Tag::event` makes it quick_xml's.
pub(super) enum Raw<'a> {
    Start(Tag<'a>),
    Empty(Tag<'a>),
    /// The name.
    End(&'a [u8]),
    Text(&'a [u8]),
    CData(&'a [u8]),
}

/// A start or empty tag: what lies between `<` and `>` (or `/>`).
#[derive(Clone, Copy)]
pub(super) struct Tag<'a> {
    content: &'a [u8],
    /// The name's length.
    name: usize,
}

impl<'a> Tag<'a> {
    /// The name, with its prefix.
    pub(super) fn name(&self) -> &'a [u8] {
        self.content.get(..self.name).unwrap_or(&[])
    }

    /// The name without its prefix (`x:c` is `c`), as quick_xml's `local_name`.
    pub(super) fn local_name(&self) -> &'a [u8] {
        local(self.name())
    }

    /// What follows the name: the attributes.
    pub(super) fn attributes_raw(&self) -> &'a [u8] {
        self.content.get(self.name..).unwrap_or(&[])
    }

    /// The tag as quick_xml's, for reading its attributes in full: as long
    /// again if a bad byte before the name's end was replaced.
    pub(super) fn event(&self) -> BytesStart<'a> {
        let text = utf8(self.content);
        let name = match text {
            Cow::Borrowed(_) => self.name,
            Cow::Owned(ref s) => name_len(s.as_bytes()),
        };
        BytesStart::from_content(text, name)
    }
}

/// A name's prefix (`dc` of `dc:title`): what comes before the first `:`.
pub(super) fn prefix(name: &[u8]) -> Option<&[u8]> {
    name.iter()
        .position(|&b| b == b':')
        .and_then(|k| name.get(..k))
}

/// A name without its prefix: what follows the first `:`. (Names are short:
/// a loop, not a call of `memchr`.)
pub(super) fn local(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(k) => name.get(k + 1..).unwrap_or(&[]),
        None => name,
    }
}

/// A pull reader of one part. Its memory is the buffer, which holds the
/// event being read (at most `MAX_MARKUP` or `TEXT_PIECE` and a read), and
/// the names of the open elements (at most `MAX_NESTING` of them, and
/// `MAX_MARKUP` bytes).
pub(super) struct Pull<'r> {
    r: &'r mut dyn Read,
    buf: Vec<u8>,
    /// Unread bytes are `buf[at..end]`.
    at: usize,
    end: usize,
    eof: bool,
    started: bool,
    done: bool,
    /// Names of the open elements, end to end, and where each starts.
    names: Vec<u8>,
    opened: Vec<usize>,
}

impl<'r> Pull<'r> {
    pub(super) fn new(r: &'r mut dyn Read) -> Pull<'r> {
        Pull {
            r,
            buf: Vec::new(),
            at: 0,
            end: 0,
            eof: false,
            started: false,
            done: false,
            names: Vec::new(),
            opened: Vec::new(),
        }
    }

    /// Reads more after what is unread (moved to the front first); false at
    /// the end of the input. Offsets from `at` stay valid across it.
    fn more(&mut self) -> Result<bool, Unread> {
        if self.eof {
            return Ok(false);
        }
        if self.at > 0 {
            self.buf.copy_within(self.at..self.end, 0);
            self.end -= self.at;
            self.at = 0;
        }
        // Room for a full read: what is unread may be one long event that
        // needs it all.
        if self.buf.len() < self.end + READ {
            self.buf.resize(self.end + READ, 0);
        }
        loop {
            let room = self.buf.get_mut(self.end..).unwrap_or(&mut []);
            match self.r.read(room) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(Unread::Malformed),
            }
        }
    }

    /// `more` for markup not closed yet, which may not grow past `MAX_MARKUP`.
    fn more_markup(&mut self) -> Result<bool, Unread> {
        if self.end - self.at > MAX_MARKUP {
            return Err(Unread::TooLong);
        }
        self.more()
    }

    /// The unread byte `k` after `at`, reading more if it is not here yet.
    fn byte(&mut self, k: usize) -> Result<Option<u8>, Unread> {
        while self.at + k >= self.end {
            if !self.more()? {
                return Ok(None);
            }
        }
        Ok(self.buf.get(self.at + k).copied())
    }

    /// The next event; `None` at the end of the part. Inlined: returned
    /// through memory, the event was read back in wider pieces than it was
    /// written, and the stall cost the Office formats 12% (how the caller
    /// copied it depended on unrelated code).
    #[inline]
    pub(super) fn next_raw(&mut self) -> Result<Option<Raw<'_>>, Unread> {
        if self.done {
            return Ok(None);
        }
        let tok = self.read();
        if !matches!(tok, Ok(Some(_))) {
            self.done = true;
        }
        let Some(tok) = tok? else {
            return Ok(None);
        };
        let at = |r: (usize, usize)| self.buf.get(r.0..r.1).unwrap_or(&[]);
        Ok(Some(match tok {
            Tok::Text(r) => Raw::Text(at(r)),
            Tok::CData(r) => Raw::CData(at(r)),
            Tok::Start(r, name) => Raw::Start(Tag {
                content: at(r),
                name,
            }),
            Tok::Empty(r, name) => Raw::Empty(Tag {
                content: at(r),
                name,
            }),
            Tok::End(r) => Raw::End(at(r)),
        }))
    }

    fn read(&mut self) -> Result<Option<Tok>, Unread> {
        if !self.started {
            self.started = true;
            // quick_xml drops a byte order mark at the start.
            while self.end - self.at < BOM.len() && self.more()? {}
            if self
                .buf
                .get(self.at..self.end)
                .is_some_and(|b| b.starts_with(BOM))
            {
                self.at += BOM.len();
            }
        }
        loop {
            let Some(first) = self.byte(0)? else {
                return Ok(None);
            };
            if first != b'<' {
                return self.text().map(Some);
            }
            let Some(kind) = self.byte(1)? else {
                return Err(Unread::Malformed);
            };
            match kind {
                b'/' => return self.end_tag().map(Some),
                b'!' => {
                    if let Some(data) = self.bang()? {
                        return Ok(Some(Tok::CData(data)));
                    }
                }
                b'?' => self.instruction()?,
                _ => return self.start_tag().map(Some),
            }
        }
    }

    /// Text up to the next `<` or the end of the part, or a piece of it.
    fn text(&mut self) -> Result<Tok, Unread> {
        let mut from = 0;
        let len = loop {
            let rest = self.buf.get(self.at + from..self.end).unwrap_or(&[]);
            let found = find(b'<', rest).map(|k| from + k);
            from = self.end - self.at;
            // Past the piece by a byte at least: whether the byte after it
            // begins a character is known.
            if found.unwrap_or(from) > TEXT_PIECE {
                break piece_end(self.buf.get(self.at..self.end).unwrap_or(&[]), TEXT_PIECE);
            }
            if let Some(len) = found {
                break len;
            }
            if !self.more()? {
                break from;
            }
        };
        let start = self.at;
        self.at += len;
        Ok(Tok::Text((start, start + len)))
    }

    /// Where the `>` that closes a tag is, from `<` at `at`, as an offset from
    /// `at`: the first not inside a quoted attribute value.
    fn tag_end(&mut self) -> Result<usize, Unread> {
        let mut quote = 0u8;
        self.markup_end(|b| {
            if quote != 0 {
                if b == quote {
                    quote = 0;
                }
            } else if b == b'>' {
                return true;
            } else if b == b'"' || b == b'\'' {
                quote = b;
            }
            false
        })
    }

    /// The offset from `<` at `at` of the first byte after it for which
    /// `closes` holds (it sees every byte in order), reading more as needed.
    #[inline(always)]
    fn markup_end(&mut self, mut closes: impl FnMut(u8) -> bool) -> Result<usize, Unread> {
        let mut k = 1;
        loop {
            let rest = self.buf.get(self.at + k..self.end).unwrap_or(&[]);
            for &b in rest {
                if closes(b) {
                    return within(k);
                }
                k += 1;
            }
            if !self.more_markup()? {
                return Err(Unread::Malformed);
            }
        }
    }

    fn start_tag(&mut self) -> Result<Tok, Unread> {
        let close = self.tag_end()?;
        let start = self.at;
        self.at += close + 1;
        let content = self.buf.get(start + 1..start + close).unwrap_or(&[]);
        if content.last() == Some(&b'/') {
            let content = content.get(..content.len() - 1).unwrap_or(&[]);
            return Ok(Tok::Empty(
                (start + 1, start + close - 1),
                name_len(content),
            ));
        }
        let name = name_len(content);
        // The names held are bounded as the elements are: a few long names
        // would otherwise hold as much as many short ones.
        if self.opened.len() >= MAX_NESTING || self.names.len() + name > MAX_MARKUP {
            return Err(Unread::TooDeep);
        }
        self.opened.push(self.names.len());
        self.names
            .extend_from_slice(content.get(..name).unwrap_or(&[]));
        Ok(Tok::Start((start + 1, start + close), name))
    }

    fn end_tag(&mut self) -> Result<Tok, Unread> {
        let close = self.tag_end()?;
        let start = self.at;
        self.at += close + 1;
        let content = self.buf.get(start + 2..start + close).unwrap_or(&[]);
        // White space may follow the name; a tag of nothing else stays as is.
        let len = content
            .iter()
            .rposition(|b| !is_space(*b))
            .map_or(content.len(), |last| last + 1);
        let name = content.get(..len).unwrap_or(&[]);
        let open = self.opened.pop().ok_or(Unread::Malformed)?;
        if !same(self.names.get(open..).unwrap_or(&[]), name) {
            return Err(Unread::Malformed);
        }
        self.names.truncate(open);
        Ok(Tok::End((start + 2, start + 2 + len)))
    }

    /// `<!` at `at`: a CDATA section's text; `None` after a comment or a
    /// doctype, which are read past.
    fn bang(&mut self) -> Result<Option<(usize, usize)>, Unread> {
        let Some(kind) = self.byte(2)? else {
            return Err(Unread::Malformed);
        };
        // Where its `>` is (from `<`), and which of the three it is.
        let (close, event): (usize, u8) = match kind {
            b'-' => (
                self.close_with(|d, c| c > 5 && ends_with(d, c, b"--"))?,
                b'-',
            ),
            b'[' => (self.close_with(|d, c| ends_with(d, c, b"]]"))?, b'['),
            b'D' | b'd' => (self.doctype_end()?, b'D'),
            _ => return Err(Unread::Malformed),
        };
        let start = self.at;
        self.at += close + 1;
        // The markup between `<` and `>`.
        let inner = self.buf.get(start + 1..start + close).unwrap_or(&[]);
        match event {
            b'-' if inner.starts_with(b"!--") => Ok(None),
            b'[' if inner.starts_with(b"![CDATA[") => Ok(Some((start + 1 + 8, start + close - 2))),
            b'D' if inner
                .get(..8)
                .is_some_and(|h| h.eq_ignore_ascii_case(b"!DOCTYPE")) =>
            {
                // A doctype names its root.
                if inner.get(8..).unwrap_or(&[]).iter().all(|b| is_space(*b)) {
                    return Err(Unread::Malformed);
                }
                Ok(None)
            }
            _ => Err(Unread::Malformed),
        }
    }

    /// The first `>` after `<` at `at` for which `closes(data, offset)`
    /// holds, `data` starting at `<`.
    fn close_with(&mut self, closes: impl Fn(&[u8], usize) -> bool) -> Result<usize, Unread> {
        let mut from = 1;
        loop {
            let data = self.buf.get(self.at..self.end).unwrap_or(&[]);
            let mut k = from;
            while let Some(g) = data.get(k..).and_then(|rest| find(b'>', rest)) {
                if closes(data, k + g) {
                    return within(k + g);
                }
                k += g + 1;
            }
            from = data.len();
            if !self.more_markup()? {
                return Err(Unread::Malformed);
            }
        }
    }

    /// A doctype's `>`: the first with as many `>` as `<` before it inside.
    fn doctype_end(&mut self) -> Result<usize, Unread> {
        let mut depth = 0u64;
        self.markup_end(|b| {
            if b == b'<' {
                depth += 1;
            } else if b == b'>' {
                if depth == 0 {
                    return true;
                }
                depth -= 1;
            }
            false
        })
    }

    /// `<?` at `at`: a declaration or processing instruction, read past. It
    /// ends at the first `?>` (its opening `?` counts), and must hold more
    /// than that `?`.
    fn instruction(&mut self) -> Result<(), Unread> {
        let close = self.close_with(|d, c| ends_with(d, c, b"?"))?;
        if close < 3 {
            return Err(Unread::Malformed);
        }
        self.at += close + 1;
        Ok(())
    }
}

/// Whether `data[..at]` ends with `tail` (false where it is shorter).
fn ends_with(data: &[u8], at: usize, tail: &[u8]) -> bool {
    data.get(..at).is_some_and(|d| d.ends_with(tail))
}

/// A markup's end, `close` bytes from its `<`, if it is not too long.
fn within(close: usize) -> Result<usize, Unread> {
    if close > MAX_MARKUP {
        return Err(Unread::TooLong);
    }
    Ok(close)
}

/// Where to end a piece of a long text, at most `max` bytes (`text` runs
/// past that): before a reference whose `;` is not in the piece, and on a
/// character's first byte, so that the pieces read as the whole would.
fn piece_end(text: &[u8], max: usize) -> usize {
    let mut end = max.min(text.len());
    // References are short (`&#x10FFFF;`, `&quot;`); one not ended within
    // this many bytes is not one, and is read as text either way.
    let tail = end.saturating_sub(32);
    if let Some(amp) = text
        .get(tail..end)
        .and_then(|t| t.iter().rposition(|&b| b == b'&'))
    {
        if !text.get(tail + amp..end).unwrap_or(&[]).contains(&b';') {
            end = tail + amp;
        }
    }
    // At most three continuation bytes end a well-formed text; past that
    // it is not UTF-8, and any cut reads the same.
    for _ in 0..3 {
        match text.get(end) {
            Some(b) if (0x80..0xC0).contains(b) => end -= 1,
            _ => break,
        }
    }
    end
}

/// Whether two names are the same: most are a few bytes (`c`, `v`, `w:t`),
/// compared in a loop rather than a call of `memcmp`.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && (a.len() > 16 && a == b || a.iter().zip(b).all(|(x, y)| x == y))
}

/// XML's white space, which ends a tag's name.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn name_len(content: &[u8]) -> usize {
    content
        .iter()
        .position(|b| is_space(*b))
        .unwrap_or(content.len())
}

/// `needle`'s first place in `hay`: a loop over the first bytes (most text
/// in a sheet is a few digits) before `memchr`, whose call and set-up cost
/// more than such a search.
#[inline(always)]
fn find(needle: u8, hay: &[u8]) -> Option<usize> {
    let head = hay.len().min(16);
    if let Some(k) = hay.get(..head)?.iter().position(|&b| b == needle) {
        return Some(k);
    }
    memchr::memchr(needle, hay.get(head..)?).map(|k| k + head)
}

/// quick_xml's events hold text as `str`: parts are UTF-8, and the odd part
/// that is not has its bad bytes replaced (Office writes only UTF-8; the
/// readers that unescape text replaced them anyway).
/// (`from_utf8_lossy` walks valid text in chunks, several times slower than
/// the check.)
fn utf8(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use quick_xml::events::Event;
    use quick_xml::Reader;

    /// An event as both readers are compared on: its kind and its bytes (as
    /// `Pull` gives them: invalid UTF-8 replaced), then how the part ended.
    fn seen(event: &Event<'_>) -> Option<String> {
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Some(match event {
            Event::Start(e) => format!("start {:?} {:?}", lossy(e), lossy(e.name().as_ref())),
            Event::Empty(e) => format!("empty {:?} {:?}", lossy(e), lossy(e.name().as_ref())),
            Event::End(e) => format!("end {:?}", lossy(e)),
            Event::Text(e) => format!("text {:?}", lossy(e)),
            Event::CData(e) => format!("cdata {:?}", lossy(e)),
            _ => return None,
        })
    }

    fn seen_raw(event: &Raw<'_>) -> String {
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match event {
            Raw::Start(e) => format!("start {:?} {:?}", lossy(e.content), lossy(e.name())),
            Raw::Empty(e) => format!("empty {:?} {:?}", lossy(e.content), lossy(e.name())),
            Raw::End(name) => format!("end {:?}", lossy(name)),
            Raw::Text(text) => format!("text {:?}", lossy(text)),
            Raw::CData(text) => format!("cdata {:?}", lossy(text)),
        }
    }

    fn quick_xml_events(doc: &[u8]) -> Vec<String> {
        let mut reader = Reader::from_reader(doc);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(Event::Eof) => break out.push("eof".to_string()),
                Ok(event) => out.extend(seen(&event)),
                Err(_) => break out.push("malformed".to_string()),
            }
            buf.clear();
        }
        out
    }

    /// A reader that gives `doc` a few bytes at a time, so that every event
    /// may be cut by the end of what was read.
    struct Trickle<'a> {
        doc: &'a [u8],
        sizes: Vec<usize>,
        turn: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let want = self
                .sizes
                .get(self.turn % self.sizes.len())
                .copied()
                .unwrap_or(1);
            self.turn += 1;
            let n = want.max(1).min(out.len()).min(self.doc.len());
            out[..n].copy_from_slice(&self.doc[..n]);
            self.doc = &self.doc[n..];
            Ok(n)
        }
    }

    fn pull_events(doc: &[u8], sizes: Vec<usize>) -> Vec<String> {
        let mut r = Trickle {
            doc,
            sizes,
            turn: 0,
        };
        let mut pull = Pull::new(&mut r);
        let mut out = Vec::new();
        loop {
            match pull.next_raw() {
                Ok(Some(event)) => out.push(seen_raw(&event)),
                Ok(None) => break out.push("eof".to_string()),
                Err(_) => break out.push("malformed".to_string()),
            }
        }
        // Once ended, a reader stays ended.
        assert!(matches!(pull.next_raw(), Ok(None)));
        out
    }

    /// Pieces of XML, well-formed or not, that the two readers must agree on.
    const PIECES: &[&str] = &[
        "<c r=\"A1\" t=\"s\">",
        "<v>",
        "</v>",
        "</c>",
        "<row r='1' spans=\"1:3\">",
        "</row>",
        "<w:t xml:space=\"preserve\">",
        "</w:t>",
        "</w:t >",
        "</ w:t>",
        "<a b=\"x>y\" c='it\"s'>",
        "</a>",
        "<br/>",
        "<x:y z=\"1\"/>",
        "<e a='/'/>",
        "<>",
        "</>",
        "< a>",
        "<a\tb='1'\n/>",
        "text",
        " ",
        "\r\n  ",
        "A123456(3) &amp; &lt;x&gt;",
        "陳大文 電話 6123 4567",
        ">",
        "\"'",
        "&bogus;",
        "\u{FEFF}",
        "<!-- a comment -->",
        "<!---->",
        "<!-->",
        "<!--->",
        "<!-- x -- y -->",
        "<!-x>",
        "<![CDATA[ a <b> ]] c ]]>",
        "<![CDATA[]]>",
        "<![CDAT[x]]>",
        "<![]]>",
        "<!DOCTYPE root [<!ENTITY e \"v\">]>",
        "<!doctype html>",
        "<!DOCTYPE>",
        "<!DOCTYPEx>",
        "<!x>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>",
        "<?pi a > b?>",
        "<?>",
        "<??>",
        "<",
        "<!",
        "<?",
        "</",
        "<a b=\"",
    ];

    fn doc() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            8 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 1..4),
        ];
        (any::<bool>(), proptest::collection::vec(piece, 0..24)).prop_map(|(bom, pieces)| {
            let mut doc = if bom { BOM.to_vec() } else { Vec::new() };
            doc.extend(pieces.concat());
            doc
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn events_are_quick_xml_s_however_the_part_is_read(
            doc in doc(),
            sizes in proptest::collection::vec(1usize..9, 1..6),
        ) {
            let want = quick_xml_events(&doc);
            prop_assert_eq!(&pull_events(&doc, vec![usize::MAX]), &want);
            prop_assert_eq!(&pull_events(&doc, sizes), &want);
        }
    }

    #[test]
    fn nested_well_formed_parts_read_as_quick_xml_reads_them() {
        let mut sheet = String::from("\u{FEFF}<?xml version=\"1.0\"?><worksheet><sheetData>");
        for row in 1..200 {
            sheet.push_str(&format!("<row r=\"{row}\">"));
            for col in ["A", "B", "C"] {
                sheet.push_str(&format!("<c r=\"{col}{row}\" t=\"s\"><v>{row}</v></c>"));
            }
            sheet.push_str("<c r=\"D1\"><is><t>陳 &amp; 李</t></is></c></row>");
        }
        sheet.push_str("</sheetData><headerFooter><oddHeader>&amp;LConfidential</oddHeader></headerFooter></worksheet>");
        let want = quick_xml_events(sheet.as_bytes());
        assert_eq!(want.last().map(String::as_str), Some("eof"));
        assert_eq!(pull_events(sheet.as_bytes(), vec![usize::MAX]), want);
        assert_eq!(pull_events(sheet.as_bytes(), vec![3, 1, 7]), want);
    }

    #[test]
    fn events_longer_than_a_read_come_whole() {
        // A text node and a tag each longer than several reads.
        let text = "電話 6123 4567 ".repeat(30_000);
        let value = "x".repeat(200_000);
        let doc = format!("<r><t a=\"{value}\">{text}</t><![CDATA[{text}]]></r>");
        let want = quick_xml_events(doc.as_bytes());
        assert_eq!(want.len(), 7);
        assert_eq!(pull_events(doc.as_bytes(), vec![usize::MAX]), want);
        assert_eq!(pull_events(doc.as_bytes(), vec![5000, 70_000]), want);
    }

    #[test]
    fn input_that_fails_is_malformed() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("inflate failed"))
            }
        }
        let mut r = Failing;
        let mut pull = Pull::new(&mut r);
        assert!(matches!(pull.next_raw(), Err(Unread::Malformed)));
        assert!(matches!(pull.next_raw(), Ok(None)));
    }
}

#[cfg(test)]
mod bounds {
    use super::*;

    /// Events (kind, bytes), how the part ended, and the most buffer held.
    type Seen = (Vec<(u8, Vec<u8>)>, Option<Unread>, usize);

    fn all_events(doc: &[u8], read: usize) -> Seen {
        struct Sized<'a>(&'a [u8], usize);
        impl Read for Sized<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(out.len()).min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = Sized(doc, read);
        let mut pull = Pull::new(&mut r);
        let mut out = Vec::new();
        let mut most = 0;
        let end = loop {
            match pull.next_raw() {
                Ok(Some(Raw::Text(t))) => out.push((b't', t.to_vec())),
                Ok(Some(Raw::Start(t))) => out.push((b's', t.content.to_vec())),
                Ok(Some(_)) => out.push((b'o', Vec::new())),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
            most = most.max(pull.buf.len());
        };
        (out, end, most)
    }

    #[test]
    fn a_long_text_comes_in_pieces_that_read_as_the_whole() {
        // References and three-byte characters at every offset around the cuts.
        let unit = "陳大文 &amp; 6123&#x34;567 ";
        // Each pad moves the cuts by a byte within the unit.
        for (pad, read) in (0..unit.len()).map(|p| (p, READ)).chain([(5, 4096 + 3)]) {
            let text = "x".repeat(pad) + &unit.repeat((3 * TEXT_PIECE) / unit.len() + 7);
            let doc = format!("<t>{text}</t>");
            let (events, end, most) = all_events(doc.as_bytes(), read);
            assert_eq!(end, None);
            let pieces: Vec<&Vec<u8>> = events
                .iter()
                .filter(|(k, _)| *k == b't')
                .map(|(_, t)| t)
                .collect();
            assert!(pieces.len() >= 3, "{} pieces", pieces.len());
            for p in &pieces {
                assert!(p.len() <= TEXT_PIECE);
                assert!(std::str::from_utf8(p).is_ok(), "a character was cut");
            }
            // Each piece unescaped on its own reads as the whole does.
            let mut by_piece = Vec::new();
            for p in &pieces {
                super::super::ooxml::unescaped(p, &mut by_piece);
            }
            let mut whole = Vec::new();
            super::super::ooxml::unescaped(text.as_bytes(), &mut whole);
            assert!(by_piece == whole, "a reference was cut");
            assert_eq!(
                pieces
                    .iter()
                    .flat_map(|p| p.iter().copied())
                    .collect::<Vec<u8>>(),
                text.as_bytes()
            );
            // What is held stays near a piece, not the text's 3 MiB.
            assert!(most <= TEXT_PIECE + 2 * READ + 4096, "held {most}");
        }
    }

    #[test]
    fn elements_nested_past_the_limit_end_the_part() {
        let doc = "<a>".repeat(MAX_NESTING) + "text" + &"</a>".repeat(MAX_NESTING);
        let (events, end, _) = all_events(doc.as_bytes(), READ);
        assert_eq!(end, None);
        assert_eq!(events.len(), 2 * MAX_NESTING + 1);
        let doc = "<a>".repeat(MAX_NESTING + 1);
        let (events, end, _) = all_events(doc.as_bytes(), READ);
        assert_eq!(end, Some(Unread::TooDeep));
        assert_eq!(events.len(), MAX_NESTING);
        // Two open elements whose names are together past the limit.
        let long = "n".repeat(MAX_MARKUP / 2 + 1);
        let doc = format!("<{long}><{long}>");
        let (events, end, _) = all_events(doc.as_bytes(), READ);
        assert_eq!(end, Some(Unread::TooDeep));
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn markup_past_the_limit_is_too_long_and_not_held() {
        let value = "x".repeat(MAX_MARKUP + 10);
        for doc in [
            format!("<r><c a=\"{value}\"/></r>"),
            format!("<r><!-- {value} --></r>"),
            format!("<r><![CDATA[{value}]]></r>"),
            format!("<r><?pi {value}?></r>"),
        ] {
            let (_, end, most) = all_events(doc.as_bytes(), READ);
            assert_eq!(end, Some(Unread::TooLong));
            assert!(most <= MAX_MARKUP + 2 * READ, "held {most}");
        }
        // Just under it, all is read.
        let value = "x".repeat(MAX_MARKUP - 64);
        let (events, end, _) = all_events(format!("<r a=\"{value}\">t</r>").as_bytes(), READ);
        assert_eq!(end, None);
        assert_eq!(events.len(), 3);
    }
}
