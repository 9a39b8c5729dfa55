//! Which row of a spreadsheet names its columns, and each cell handed to the
//! sink under its column's name. The first row with a cell does, unless it
//! has one cell only: office sheets open with a title (`2026年11月員工資料`,
//! a merged cell over the table) above the real header, and a title taken
//! for the header leaves every column unnamed (the BIR column's numbers then
//! read as Hong Kong lines). So while the names come from a one-cell row, a
//! later row with two or more cells names the columns instead, unless its
//! first cell is data (`names_a_column`): then the one-cell row was a
//! one-column header, and keeps its name, as a one-column sheet does.

use super::cx::Cx;
use super::{MAX_COLUMNS, MAX_HEADER};
use crate::inspect::sink::TextSink;

/// A held cell longer than this is no header's: it goes on as data.
const MAX_HELD: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Header {
    /// No row with a cell yet: the next one names the columns.
    First,
    /// This row names the columns (the first with a cell, or the one
    /// that replaced a title).
    ThisRow,
    /// The names come from a one-cell row (a title, or a one-column
    /// sheet's header): a row of two or more cells may replace them.
    Tentative,
    /// The names are settled for the rest of the sheet.
    Settled,
}

pub(crate) struct Columns {
    names: Vec<Vec<u8>>,
    header: Header,
    /// Cells with text in the row being read.
    cells: usize,
    /// The cell being read has had text.
    live: bool,
    /// The cell being read is held (`held`), not delivered yet.
    holding: bool,
    /// While `Tentative`: the column of the row's first cell, held (its
    /// text in `held`) until the row shows whether it names the columns.
    held_at: Option<usize>,
    /// The held cell's text; the buffer is kept from row to row.
    held: Vec<u8>,
}

impl Columns {
    pub fn new() -> Columns {
        Columns {
            names: Vec::new(),
            header: Header::First,
            cells: 0,
            live: false,
            holding: false,
            held_at: None,
            held: Vec::new(),
        }
    }

    /// A new sheet (or table) begins: what the last one held is delivered,
    /// and its names are forgotten.
    pub fn next_sheet<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.end_row(cx);
        self.names.clear();
        self.header = Header::First;
    }

    /// One cell's whole text, in column `col` of the row being read.
    pub fn cell<S: TextSink>(&mut self, text: &[u8], col: usize, cx: &mut Cx<S>) {
        self.text(text, 0, text.len(), col, cx);
        self.end_cell(cx);
    }

    /// A piece of the text of the cell in column `col`: `data[from..to]`
    /// (what follows it in `data` lets the sink copy a short cell in a
    /// fixed-size block). A cell may come in several pieces.
    pub fn text<S: TextSink>(
        &mut self,
        data: &[u8],
        from: usize,
        to: usize,
        col: usize,
        cx: &mut Cx<S>,
    ) {
        let bytes = data.get(from..to).unwrap_or(&[]);
        if bytes.is_empty() {
            return;
        }
        let first_piece = !self.live;
        if first_piece {
            self.cells += 1;
            self.live = true;
        }
        match self.header {
            Header::First | Header::ThisRow => {
                self.header = Header::ThisRow;
                self.name(col, bytes, first_piece);
            }
            Header::Tentative if self.holding || (first_piece && self.cells == 1) => {
                let at = *self.held_at.get_or_insert(col);
                if self.held.len() + bytes.len() <= MAX_HELD {
                    self.held.extend_from_slice(bytes);
                    self.holding = true;
                    return;
                }
                // Too long for a header's cell: data, under the title.
                self.held_at = None;
                self.holding = false;
                self.field(at, cx);
                if !self.held.is_empty() {
                    cx.sink.text(&self.held);
                }
                self.held.clear();
            }
            Header::Tentative if first_piece && self.held_at.is_some() => {
                let at = self.held_at.take().unwrap_or(col);
                let first = std::mem::take(&mut self.held);
                if names_a_column(&first) {
                    // The row's second cell: it names the columns, not the title.
                    self.names.clear();
                    self.name(at, &first, true);
                    cx.sink.text(&first);
                    cx.sink.boundary();
                    self.header = Header::ThisRow;
                    self.name(col, bytes, true);
                } else {
                    // A row of data under a one-column header.
                    self.field(at, cx);
                    cx.sink.text(&first);
                    cx.sink.boundary();
                    self.field(col, cx);
                }
                self.held = first;
                self.held.clear();
            }
            Header::Tentative | Header::Settled => {
                if first_piece {
                    self.field(col, cx);
                }
            }
        }
        cx.sink.text_in(data, from, to);
    }

    /// The cell being read ends.
    pub fn end_cell<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.live && !self.holding {
            cx.sink.boundary();
        }
        self.live = false;
        self.holding = false;
    }

    /// The row being read ends (a new one begins, or the sheet ends).
    pub fn end_row<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        self.end_cell(cx);
        if let Some(at) = self.held_at.take() {
            self.field(at, cx);
            cx.sink.text(&self.held);
            cx.sink.boundary();
            self.held.clear();
        }
        self.header = match (self.header, self.cells) {
            (Header::ThisRow, 1) => Header::Tentative,
            (Header::ThisRow, _) => Header::Settled,
            // A row of data that could not name the columns (its first
            // cell too long to hold): the title's names stay.
            (Header::Tentative, n) if n >= 2 => Header::Settled,
            (other, _) => other,
        };
        self.cells = 0;
    }

    /// `text` names column `col` (`first`: its first piece), within the
    /// bounds on columns and names.
    fn name(&mut self, col: usize, text: &[u8], first: bool) {
        if col >= MAX_COLUMNS {
            return;
        }
        if self.names.len() <= col {
            self.names.resize(col + 1, Vec::new());
        }
        if let Some(n) = self.names.get_mut(col) {
            if first {
                n.clear();
            }
            let room = MAX_HEADER.saturating_sub(n.len()).min(text.len());
            n.extend_from_slice(text.get(..room).unwrap_or(&[]));
        }
    }

    /// Opens a cell of column `col` under its name, if it has one.
    fn field<S: TextSink>(&self, col: usize, cx: &mut Cx<S>) {
        if let Some(name) = self.names.get(col).filter(|n| !n.is_empty()) {
            cx.sink.field(name);
        }
    }
}

/// Whether a row's first cell can be a column's name: no identifier or
/// contact in it (five digits or more, an `@`). A row that starts with
/// one is data, even under a one-cell row.
fn names_a_column(cell: &[u8]) -> bool {
    cell.iter().filter(|c| c.is_ascii_digit()).count() < 5 && !cell.contains(&b'@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::decode::Limits;
    use crate::inspect::sink::{RecordingSink, SinkEvent};

    /// The rows' cells through `Columns` (`""`: no cell there), each cell
    /// in pieces of `piece` bytes; the events as `[field]text|`.
    fn run(rows: &[&[&str]], piece: usize) -> String {
        let mut cx = Cx::new(RecordingSink::default(), &Limits::default());
        let mut columns = Columns::new();
        for row in rows {
            for (col, cell) in row.iter().enumerate() {
                let b = cell.as_bytes();
                let mut at = 0;
                while at < b.len() {
                    let to = (at + piece).min(b.len());
                    columns.text(b, at, to, col, &mut cx);
                    at = to;
                }
                columns.end_cell(&mut cx);
            }
            columns.end_row(&mut cx);
        }
        let mut out = String::new();
        for e in &cx.sink.events {
            match e {
                SinkEvent::Field(f) => out.push_str(&format!("[{}]", String::from_utf8_lossy(f))),
                SinkEvent::Text(t) => out.push_str(&String::from_utf8_lossy(t)),
                SinkEvent::Boundary => out.push('|'),
            }
        }
        out
    }

    #[test]
    fn which_row_names_the_columns() {
        let long = "x".repeat(MAX_HELD + 1);
        let cases: &[(&str, &[&[&str]], String)] = &[
            (
                "the first row",
                &[&["Name", "Tel"], &["Chan", "6612"]],
                "Name|Tel|[Name]Chan|[Tel]6612|".into(),
            ),
            (
                "a title above the header, and an empty row",
                &[
                    &["Staff 2026", "", ""],
                    &[],
                    &["Name", "BIR", "Tel"],
                    &["Chan", "5123", "6612"],
                ],
                "Staff 2026|Name|BIR|Tel|[Name]Chan|[BIR]5123|[Tel]6612|".into(),
            ),
            (
                "a title, a subtitle, then the header",
                &[
                    &["Staff"],
                    &["Dept: HR"],
                    &["", "Name", "BIR"],
                    &["", "Chan", "5123"],
                ],
                "Staff|[Staff]Dept: HR|Name|BIR|[Name]Chan|[BIR]5123|".into(),
            ),
            (
                "one column: its first row names it",
                &[&["Tel"], &["6612"], &["6623"]],
                "Tel|[Tel]6612|[Tel]6623|".into(),
            ),
            (
                "one column named, and data wider than it",
                &[&["Name & ID"], &["A123456(7)", "陳"], &["Lee", "x"]],
                "Name & ID|[Name & ID]A123456(7)|陳|[Name & ID]Lee|x|".into(),
            ),
            (
                "a header once settled is not replaced",
                &[&["Name", "Tel"], &["Chan", "6612"], &["Total", "2"]],
                "Name|Tel|[Name]Chan|[Tel]6612|[Name]Total|[Tel]2|".into(),
            ),
            (
                "a cell too long for a header is data under the title",
                &[&["Staff"], &[long.as_str(), "x"], &["a", "b"]],
                format!("Staff|[Staff]{long}|x|[Staff]a|b|"),
            ),
        ];
        for (name, rows, want) in cases {
            for piece in [1, 3, 1 << 20] {
                assert_eq!(&run(rows, piece), want, "{name}, pieces of {piece}");
            }
        }
    }
}
