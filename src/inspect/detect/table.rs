//! Markdown pipe tables in running text: which bytes of a line are its
//! cells, and whether a line is the delimiter row under a header. The scan
//! (`State::table_row`) gives each body cell its column's context, as the
//! CSV reader gives each cell its header's: a DingTalk robot's `markdown`
//! message or a `.md` file listing staff under `| 姓名 | BIR | 手提電話 |`
//! is read by column, not only by nearness.

/// Cells read in one row; a row with more is not read as a table row (its
/// text is still scanned as text).
pub(super) const MAX_CELLS: usize = 32;

/// One line of a table, as byte ranges of the slice it was read from.
pub(super) struct Row {
    /// Where the line ends: the index of its `\n`, or the end of the slice
    /// when the text ends there.
    pub end: usize,
    /// Each cell's bytes, between two pipes, or from the last pipe to the
    /// line's end when the row has no closing pipe.
    cells: [(u16, u16); MAX_CELLS],
    n: usize,
}

impl Row {
    pub fn cells(&self) -> &[(u16, u16)] {
        self.cells.get(..self.n).unwrap_or(&[])
    }

    /// Where the row's last cell ends: its closing pipe, or the line's end.
    pub fn cells_end(&self) -> usize {
        self.cells()
            .last()
            .map_or(self.end, |&(_, b)| usize::from(b))
    }
}

/// The row that starts at `text[0]` (a `|` at the start of a line). `whole`:
/// the text ends where `text` does, so a line without a `\n` ends there;
/// otherwise a line that does not end inside `text` is not read, and no
/// more than `MAX_CELLS` cells are. Only a pipe after a backslash is text
/// (GitHub's rule, inside code spans too).
pub(super) fn row(text: &[u8], whole: bool) -> Option<Row> {
    let end = match memchr::memchr(b'\n', text) {
        Some(e) => e,
        None if whole => text.len(),
        None => return None,
    };
    let line = text.get(..end)?;
    // A CRLF line's `\r` is not part of its last cell.
    let stop = if line.last() == Some(&b'\r') {
        end - 1
    } else {
        end
    };
    let mut row = Row {
        end,
        cells: [(0, 0); MAX_CELLS],
        n: 0,
    };
    let mut from = 1;
    let mut escaped = false;
    for (k, &c) in line.iter().enumerate().take(stop).skip(1) {
        if c == b'|' && !escaped {
            push(&mut row, from, k)?;
            from = k + 1;
        }
        escaped = c == b'\\' && !escaped;
    }
    if line.get(from..stop).is_some_and(|rest| !blank(rest)) {
        push(&mut row, from, stop)?;
    }
    (row.n > 0).then_some(row)
}

fn push(row: &mut Row, from: usize, to: usize) -> Option<()> {
    let slot = row.cells.get_mut(row.n)?;
    *slot = (u16::try_from(from).ok()?, u16::try_from(to).ok()?);
    row.n += 1;
    Some(())
}

/// Whether a row is the delimiter under a header: each cell `---`, `:--`,
/// `--:` or `:-:`, spaces around.
pub(super) fn is_delimiter(text: &[u8], row: &Row) -> bool {
    row.cells().iter().all(|&(a, b)| {
        let cell = trim(text.get(usize::from(a)..usize::from(b)).unwrap_or(&[]));
        let inner = cell.strip_prefix(b":").unwrap_or(cell);
        let inner = inner.strip_suffix(b":").unwrap_or(inner);
        !inner.is_empty() && inner.iter().all(|&c| c == b'-')
    })
}

pub(super) fn trim(cell: &[u8]) -> &[u8] {
    let from = cell
        .iter()
        .position(|c| !is_space(*c))
        .unwrap_or(cell.len());
    let to = cell
        .iter()
        .rposition(|c| !is_space(*c))
        .map_or(from, |k| k + 1);
    cell.get(from..to).unwrap_or(&[])
}

pub(super) fn blank(cell: &[u8]) -> bool {
    cell.iter().all(|c| is_space(*c))
}

fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(line: &str, whole: bool) -> Option<Vec<String>> {
        let r = row(line.as_bytes(), whole)?;
        Some(
            r.cells()
                .iter()
                .map(|&(a, b)| line[usize::from(a)..usize::from(b)].to_owned())
                .collect(),
        )
    }

    #[test]
    fn cells_lie_between_pipes() {
        let table: &[(&str, bool, Option<&[&str]>)] = &[
            ("| a | b |\nrest", false, Some(&[" a ", " b "])),
            // No closing pipe: the last cell runs to the line's end.
            ("| a | b\n", false, Some(&[" a ", " b"])),
            ("| a | b |  \n", false, Some(&[" a ", " b "])),
            ("| a |\r\n", false, Some(&[" a "])),
            ("|| b |\n", false, Some(&["", " b "])),
            // An escaped pipe is text.
            ("| a \\| b | c |\n", false, Some(&[" a \\| b ", " c "])),
            ("| a \\\\| c |\n", false, Some(&[" a \\\\", " c "])),
            // A line that does not end in reach is not read, unless the text ends.
            ("| a | b |", false, None),
            ("| a | b |", true, Some(&[" a ", " b "])),
            ("|\n", false, None),
            ("|   \n", false, None),
        ];
        for (line, whole, want) in table {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(cells(line, *whole), want, "{line:?}");
        }
    }

    #[test]
    fn a_row_of_too_many_cells_is_not_read() {
        let line = format!("{}\n", "| x ".repeat(MAX_CELLS + 1));
        assert!(row(line.as_bytes(), false).is_none());
        let line = format!("{}|\n", "| x ".repeat(MAX_CELLS));
        assert_eq!(
            row(line.as_bytes(), false).unwrap().cells().len(),
            MAX_CELLS
        );
    }

    #[test]
    fn delimiter_rows() {
        let table = [
            ("| --- | :-- | --: | :-: |\n", true),
            ("|---|---|\n", true),
            ("| - |\n", true),
            ("| --- | abc |\n", false),
            ("| : |\n", false),
            ("| -- - |\n", false),
            ("| 51234567 |\n", false),
        ];
        for (line, want) in table {
            let r = row(line.as_bytes(), false).unwrap();
            assert_eq!(is_delimiter(line.as_bytes(), &r), want, "{line:?}");
        }
    }

    #[test]
    fn trimming() {
        assert_eq!(trim(b"  BIR \t"), b"BIR");
        assert_eq!(trim(b"   "), b"");
        assert!(blank(b" \t "));
        assert!(!blank(b" x "));
    }
}
