//! CSV (and `;`, tab or `|` separated): the first row names the columns (or
//! the first of two or more cells, under a title: `Columns`); every later
//! cell is delivered as `field(column name)`, its text, and a boundary.
//! Quoted cells (with `""` and line breaks inside) and CRLF are handled. The
//! separator is the most frequent candidate on the first line.

use memchr::memchr;

use super::columns::Columns;
use super::cx::Cx;
use super::find::Finder;
use crate::inspect::sink::TextSink;

/// The first line is held to choose the separator, up to this many bytes.
const MAX_FIRST_LINE: usize = 64 << 10;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    CellStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted cell: either `""` or the closing quote.
    QuoteInQuoted,
}

pub(crate) struct CsvNode {
    sep: Option<u8>,
    first: Vec<u8>,
    state: State,
    col: usize,
    columns: Columns,
}

impl CsvNode {
    pub fn new() -> Self {
        CsvNode {
            sep: None,
            first: Vec::new(),
            state: State::CellStart,
            col: 0,
            columns: Columns::new(),
        }
    }

    pub fn feed<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        if self.sep.is_some() {
            self.cells(data, cx);
            return;
        }
        let end = memchr(b'\n', data);
        let take = end.map_or(data.len(), |i| i + 1);
        let room = MAX_FIRST_LINE.saturating_sub(self.first.len());
        let take = take.min(room);
        self.first
            .extend_from_slice(data.get(..take).unwrap_or(&[]));
        if end.is_some_and(|i| i < take) || self.first.len() >= MAX_FIRST_LINE {
            self.start(cx);
            self.cells(data.get(take..).unwrap_or(&[]), cx);
        }
    }

    fn start<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let mut counts = [0usize; 4];
        let cands = [b',', b';', b'\t', b'|'];
        let mut quoted = false;
        for &c in &self.first {
            if c == b'"' {
                quoted = !quoted;
            } else if !quoted {
                if let Some(k) = cands.iter().position(|&s| s == c) {
                    if let Some(n) = counts.get_mut(k) {
                        *n += 1;
                    }
                }
            }
        }
        let mut best = 0;
        for k in 1..cands.len() {
            if counts.get(k) > counts.get(best) {
                best = k;
            }
        }
        self.sep = cands.get(best).copied();
        let first = std::mem::take(&mut self.first);
        self.cells(&first, cx);
    }

    fn cells<S: TextSink>(&mut self, data: &[u8], cx: &mut Cx<S>) {
        let sep = self.sep.unwrap_or(b',');
        let mut ends = Finder::new([sep, b'\n', b'\r']);
        let mut i = 0;
        while let Some(&c) = data.get(i) {
            match self.state {
                State::CellStart => {
                    match c {
                        b'"' => self.state = State::Quoted,
                        b'\r' => {}
                        b'\n' => self.end_row(cx),
                        c if c == sep => self.end_cell(cx),
                        _ => {
                            // The cell's text starts here: read whole below.
                            self.state = State::Unquoted;
                            continue;
                        }
                    }
                    i += 1;
                }
                State::Unquoted => match ends.next(data, i) {
                    None => {
                        self.text(data, i, data.len(), cx);
                        return;
                    }
                    Some(j) => {
                        self.text(data, i, j, cx);
                        i = j + 1;
                        match data.get(j) {
                            Some(b'\n') => self.end_row(cx),
                            Some(b'\r') => {}
                            _ => self.end_cell(cx),
                        }
                    }
                },
                State::Quoted => match memchr(b'"', data.get(i..).unwrap_or(&[])) {
                    None => {
                        self.text(data, i, data.len(), cx);
                        return;
                    }
                    Some(k) => {
                        self.text(data, i, i + k, cx);
                        i += k + 1;
                        self.state = State::QuoteInQuoted;
                    }
                },
                State::QuoteInQuoted => {
                    if c == b'"' {
                        self.text(b"\"", 0, 1, cx);
                        self.state = State::Quoted;
                        i += 1;
                    } else {
                        // Closing quote: whatever follows is read unquoted.
                        self.state = State::Unquoted;
                    }
                }
            }
        }
    }

    /// The cell text `data[from..to]` (what follows it in `data` lets the
    /// sink copy a short cell in a fixed-size block).
    fn text<S: TextSink>(&mut self, data: &[u8], from: usize, to: usize, cx: &mut Cx<S>) {
        self.columns.text(data, from, to, self.col, cx);
    }

    fn end_cell<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.columns.end_cell(cx);
        self.col += 1;
        self.state = State::CellStart;
    }

    fn end_row<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.end_cell(cx);
        self.columns.end_row(cx);
        self.col = 0;
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.sep.is_none() {
            self.start(cx);
        }
        self.end_row(cx);
    }
}
