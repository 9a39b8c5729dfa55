//! The seam between decoding and detection: decoders turn a body into text and
//! structure, and push both into a `TextSink`; detectors implement it.

/// Where decoders deliver what they extract. Calls come in document order.
pub trait TextSink {
    /// The text that follows is the value of a field called `name`: a JSON key, a
    /// form or multipart field name, a CSV/XLSX column header, an XML element.
    /// A keyword in `name` gives context to the whole value. Implies a boundary.
    fn field(&mut self, name: &[u8]);

    /// More text. Expected UTF-8 but not guaranteed; a call may end anywhere, even
    /// inside a character or a token: the sink carries state across calls.
    fn text(&mut self, bytes: &[u8]);

    /// The text `data[from..to]`, as `text` takes it. The bytes of `data`
    /// after it are no part of it: a sink may copy past `to` in fixed-size
    /// blocks and cut the copy back, which for short values costs less than
    /// a `memcpy` call.
    #[inline(always)]
    fn text_in(&mut self, data: &[u8], from: usize, to: usize) {
        self.text(data.get(from..to).unwrap_or(&[]));
    }

    /// The end of a value (a JSON string, a CSV cell, a part): no match spans it,
    /// and the field context of the last `field` call ends.
    fn boundary(&mut self);
}

/// A boxed sink is a sink: a scanner can then own a large sink (the detectors'
/// state is 1.6 KB) without copying it on every move.
impl<T: TextSink + ?Sized> TextSink for Box<T> {
    #[inline(always)]
    fn field(&mut self, name: &[u8]) {
        (**self).field(name);
    }

    #[inline(always)]
    fn text(&mut self, bytes: &[u8]) {
        (**self).text(bytes);
    }

    #[inline(always)]
    fn text_in(&mut self, data: &[u8], from: usize, to: usize) {
        (**self).text_in(data, from, to);
    }

    #[inline(always)]
    fn boundary(&mut self) {
        (**self).boundary();
    }
}

/// A sink that keeps everything it is given, for tests of decoders.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecordingSink {
    pub events: Vec<SinkEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkEvent {
    Field(Vec<u8>),
    Text(Vec<u8>),
    Boundary,
}

impl RecordingSink {
    /// All text joined, with `\n` for each boundary: what a detector would see.
    pub fn joined_text(&self) -> String {
        let mut out = Vec::new();
        for e in &self.events {
            match e {
                SinkEvent::Text(t) => out.extend_from_slice(t),
                SinkEvent::Boundary | SinkEvent::Field(_) => out.push(b'\n'),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl TextSink for RecordingSink {
    fn field(&mut self, name: &[u8]) {
        self.events.push(SinkEvent::Field(name.to_vec()));
    }

    fn text(&mut self, bytes: &[u8]) {
        // Coalesce adjacent text so tests do not depend on how a decoder chunks.
        if let Some(SinkEvent::Text(t)) = self.events.last_mut() {
            t.extend_from_slice(bytes);
        } else if !bytes.is_empty() {
            self.events.push(SinkEvent::Text(bytes.to_vec()));
        }
    }

    fn boundary(&mut self) {
        self.events.push(SinkEvent::Boundary);
    }
}
