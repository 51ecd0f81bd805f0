//! One row of the parsed table, read from the table's text. An incident's table is the biggest
//! thing the daemon holds, so each row costs its text and a few numbers, no string of its own.
//!
//! A row's text is its ten first cells joined by single spaces, a space, then COMMAND. Those ten
//! cells never hold a space (ps split them on blanks, and a blank in a cell that is not plain
//! ASCII is shown escaped), so the cells are found again by counting spaces.

use std::fmt;

use super::{COMMAND, USER};

/// The bit of [`Row::flags`] set when the row's text is all ASCII, so widths in characters are
/// lengths in bytes.
const ASCII: u8 = 1;
const HAS_PID: u8 = 2;
const HAS_MEM: u8 = 4;
const HAS_RSS: u8 = 8;

/// One row's place in the table's text and the numbers it is sorted by. The numbers stay as wide
/// as ps may print them: a sentinel or a narrower type would sort some hostile rows differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::parse::ps) struct Row {
    start: u32,
    len: u32,
    pid: u32,
    flags: u8,
    mem_tenths: u64,
    rss_kib: u64,
}

impl Row {
    /// What a row index past the table reads as: nothing.
    pub(in crate::parse::ps) const NONE: Row = Row {
        start: 0,
        len: 0,
        pid: 0,
        flags: ASCII,
        mem_tenths: 0,
        rss_kib: 0,
    };

    pub(in crate::parse::ps) fn new(
        start: u32,
        len: u32,
        ascii: bool,
        pid: Option<u32>,
        mem_tenths: Option<u64>,
        rss_kib: Option<u64>,
    ) -> Row {
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        Row {
            start,
            len,
            pid: pid.unwrap_or(0),
            flags: flag(ascii, ASCII)
                | flag(pid.is_some(), HAS_PID)
                | flag(mem_tenths.is_some(), HAS_MEM)
                | flag(rss_kib.is_some(), HAS_RSS),
            mem_tenths: mem_tenths.unwrap_or(0),
            rss_kib: rss_kib.unwrap_or(0),
        }
    }

    fn has(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }

    /// Thread rows of `ps auxm` (PID `-`) are the only rows without a PID.
    pub(in crate::parse::ps) fn is_process(&self) -> bool {
        self.has(HAS_PID)
    }

    pub(in crate::parse::ps) fn start(&self) -> usize {
        self.start as usize
    }

    pub(in crate::parse::ps) fn end(&self) -> usize {
        self.start() + self.len as usize
    }

    /// Points the row at text rebuilt elsewhere.
    pub(in crate::parse::ps) fn moved(&mut self, start: u32, len: u32, ascii: bool) {
        self.start = start;
        self.len = len;
        self.flags = (self.flags & !ASCII) | if ascii { ASCII } else { 0 };
    }
}

/// A row of a [`PsTable`], for [`PsTable::set_cell`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowId(pub(in crate::parse::ps) usize);

/// Where each of the first ten cells ends: at the space before the next.
fn ends(text: &str) -> [usize; COMMAND] {
    let mut ends = [text.len(); COMMAND];
    for (end, at) in ends.iter_mut().zip(spaces(text.as_bytes())) {
        *end = at;
    }
    ends
}

/// Where the spaces are in `bytes`, in order. Every table line reads its row's cells twice, so
/// they are found eight bytes at a time.
fn spaces(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOW7: u64 = ONES * 0x7f;
    let blocks = bytes.chunks_exact(8);
    let tail_at = bytes.len() - blocks.remainder().len();
    let tail = blocks
        .remainder()
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b' ')
        .map(move |(i, _)| tail_at + i);
    blocks
        .enumerate()
        .flat_map(|(n, block)| {
            let x = u64::from_le_bytes(block.try_into().unwrap_or_default()) ^ (ONES * 0x20);
            // The high bit of each byte that was a space, exactly: no carry crosses a byte.
            let mut found = !(((x & LOW7) + LOW7) | x | LOW7);
            std::iter::from_fn(move || {
                let byte = found.trailing_zeros() as usize / 8;
                found &= found.checked_sub(1)?;
                Some(n * 8 + byte)
            })
        })
        .chain(tail)
}

/// Where cell `column` lies in a text of `len` bytes whose cells end at `ends`; empty at the end
/// for a column past COMMAND.
fn span_in(ends: &[usize; COMMAND], len: usize, column: usize) -> (usize, usize) {
    let start = match column.checked_sub(1) {
        None => 0,
        Some(before) => ends.get(before).map_or(len, |&end| end + 1),
    }
    .min(len);
    let end = ends.get(column).copied().unwrap_or(len);
    (start, end.max(start))
}

/// Where cell `column` lies in a row's text.
pub(in crate::parse::ps) fn span(text: &str, column: usize) -> (usize, usize) {
    span_in(&ends(text), text.len(), column)
}

/// One line of the table: every cell already escaped and normalised for the log.
#[derive(Clone, Copy)]
pub struct PsRow<'a> {
    /// The whole table's text; the row's own is sliced from it only when a cell is read, so
    /// sorting by the numbers never touches the text.
    all_text: &'a str,
    meta: &'a Row,
    id: RowId,
}

impl<'a> PsRow<'a> {
    pub(in crate::parse::ps) fn new(all_text: &'a str, meta: &'a Row, id: RowId) -> PsRow<'a> {
        PsRow { all_text, meta, id }
    }

    pub(in crate::parse::ps) fn text(&self) -> &'a str {
        self.all_text
            .get(self.meta.start()..self.meta.end())
            .unwrap_or_default()
    }

    pub fn id(&self) -> RowId {
        self.id
    }

    /// `None` for a thread row of `ps auxm`, whose PID is `-`.
    pub fn pid(&self) -> Option<u32> {
        self.meta.has(HAS_PID).then_some(self.meta.pid)
    }

    /// %MEM in tenths of a percent, exact, for sorting.
    pub fn mem_tenths(&self) -> Option<u64> {
        self.meta.has(HAS_MEM).then_some(self.meta.mem_tenths)
    }

    pub fn rss_kib(&self) -> Option<u64> {
        self.meta.has(HAS_RSS).then_some(self.meta.rss_kib)
    }

    pub fn cell(&self, column: usize) -> &'a str {
        let text = self.text();
        let (start, end) = span(text, column);
        text.get(start..end).unwrap_or_default()
    }

    pub fn cells(&self) -> [&'a str; 11] {
        let text = self.text();
        let ends = ends(text);
        std::array::from_fn(|column| {
            let (start, end) = span_in(&ends, text.len(), column);
            text.get(start..end).unwrap_or_default()
        })
    }

    /// The cell's width in characters, as the table aligns it.
    pub fn cell_width(&self, column: usize) -> usize {
        self.width_of(self.cell(column))
    }

    /// The width in characters of one of this row's cells.
    pub fn width_of(&self, cell: &str) -> usize {
        if self.meta.has(ASCII) {
            cell.len()
        } else {
            cell.chars().count()
        }
    }

    pub fn user(&self) -> &'a str {
        self.cell(USER)
    }

    pub fn command(&self) -> &'a str {
        self.cell(COMMAND)
    }
}

/// Rows are equal when their cells and numbers are, wherever their tables keep them.
impl PartialEq for PsRow<'_> {
    fn eq(&self, other: &PsRow<'_>) -> bool {
        self.text() == other.text()
            && self.pid() == other.pid()
            && self.mem_tenths() == other.mem_tenths()
            && self.rss_kib() == other.rss_kib()
    }
}

impl fmt::Debug for PsRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsRow")
            .field("cells", &self.cells())
            .field("pid", &self.pid())
            .field("mem_tenths", &self.mem_tenths())
            .field("rss_kib", &self.rss_kib())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_are_found_in_every_position() {
        let texts = [
            "",
            " ",
            "a b",
            "        ",
            "abcdefg hijklmno pq          r ",
            "\u{a0}x\u{3000} \u{2800}\t\x20!\x7f\x1f\x21 é  ",
            "root 1 0.0 0.1 167436 11904 ? Ss Nov20 0:05 /sbin/init splash",
        ];
        for text in texts {
            for start in 0..text.len().min(9) {
                let Some(text) = text.get(start..) else {
                    continue;
                };
                let expected: Vec<usize> = text.match_indices(' ').map(|(at, _)| at).collect();
                assert_eq!(
                    spaces(text.as_bytes()).collect::<Vec<_>>(),
                    expected,
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn a_row_costs_at_most_32_bytes_beside_its_text() {
        assert!(
            std::mem::size_of::<Row>() <= 32,
            "{}",
            std::mem::size_of::<Row>()
        );
    }
}
