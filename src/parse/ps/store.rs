//! The parsed table: every row's text in one string, in ps's order, and beside it each row's
//! few numbers (see [`super::row`]). Thread rows follow their process, so a process is a run of
//! rows and sorting moves runs, never splitting one.

use std::fmt;

use super::row::{Row, RowId, span};
use super::{COMMAND, OddLine, PsRow};

/// The process table of one `ps aux` run: process rows in ps's order, each followed by the thread
/// rows `ps auxm` printed under it (none for `ps aux`).
#[derive(Clone, Default)]
pub struct PsTable {
    text: String,
    rows: Vec<Row>,
    process_count: usize,
    pub odd_lines: Vec<OddLine>,
    /// Room the parse had reserved before giving back what it did not use.
    #[cfg(test)]
    pub(super) reserved: (usize, usize),
}

impl PsTable {
    /// Room for `rows` more rows holding `text` more bytes of text.
    pub(super) fn reserve(&mut self, text: usize, rows: usize) {
        self.text.reserve_exact(text);
        self.rows.reserve_exact(rows);
    }

    pub(super) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Keeps a row whose text [`Row::start`] points at; a thread row with no process above it is
    /// refused, and its text dropped.
    pub(super) fn push(&mut self, row: Row) -> bool {
        if row.is_process() {
            self.process_count += 1;
        } else if self.process_count == 0 {
            self.text.truncate(row.start());
            return false;
        }
        self.rows.push(row);
        true
    }

    /// Gives back the room reserved for rows that turned out to be blank or odd.
    pub(super) fn shrink_to_fit(&mut self) {
        #[cfg(test)]
        {
            self.reserved = self.capacities();
        }
        self.text.shrink_to_fit();
        self.rows.shrink_to_fit();
    }

    #[cfg(test)]
    pub(super) fn capacities(&self) -> (usize, usize) {
        (self.text.capacity(), self.rows.capacity())
    }

    pub fn processes(&self) -> Processes<'_> {
        Processes {
            table: self,
            next: 0,
            left: self.process_count,
        }
    }

    pub fn process_count(&self) -> usize {
        self.process_count
    }

    /// Process and thread rows together.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    fn row(&self, index: usize) -> PsRow<'_> {
        let meta = self.rows.get(index).unwrap_or(&Row::NONE);
        PsRow::new(&self.text, meta, RowId(index))
    }

    /// Replaces one cell's text (already escaped). Rare (user names ps cut), so the row is
    /// rebuilt at the end of the text; see [`PsTable::set_cells`] for many at once.
    pub fn set_cell(&mut self, row: RowId, column: usize, value: &str) {
        self.set_cells(&[(row, column, value)]);
    }

    /// [`PsTable::set_cell`] for each edit, growing the table's text once rather than by
    /// doubling it. A blank in a cell other than COMMAND is shown as `\x20`, as ps's own cells
    /// show it, since a space there would move every later cell. An edit the text has no room
    /// for (past 4 GiB) is not made.
    pub fn set_cells(&mut self, edits: &[(RowId, usize, &str)]) {
        let grown = |&(id, column, value): &(RowId, usize, &str)| {
            let row = self.row(id.0);
            let spaces = if column < COMMAND {
                value.matches(' ').count()
            } else {
                0
            };
            (row.text().len() + value.len() + 3 * spaces).saturating_sub(row.cell(column).len())
        };
        let extra: usize = edits.iter().map(grown).sum();
        self.text.reserve_exact(extra);
        for &(RowId(index), column, value) in edits {
            self.rebuild(index, column, value);
        }
    }

    fn rebuild(&mut self, index: usize, column: usize, value: &str) {
        let Some(&old) = self.rows.get(index).filter(|_| column <= COMMAND) else {
            return;
        };
        let (old_start, old_end) = (old.start(), old.end());
        let Some(old_text) = self.text.get(old_start..old_end) else {
            return;
        };
        let (cell_start, cell_end) = span(old_text, column);
        let start = self.text.len();
        self.text
            .extend_from_within(old_start..old_start + cell_start);
        if column < COMMAND {
            for (i, part) in value.split(' ').enumerate() {
                if i > 0 {
                    self.text.push_str("\\x20");
                }
                self.text.push_str(part);
            }
        } else {
            self.text.push_str(value);
        }
        self.text.extend_from_within(old_start + cell_end..old_end);
        let new = self.text.get(start..).unwrap_or_default();
        let ascii = new.is_ascii();
        match (u32::try_from(start), u32::try_from(new.len())) {
            (Ok(start), Ok(len)) if u32::try_from(self.text.len()).is_ok() => {
                if let Some(row) = self.rows.get_mut(index) {
                    row.moved(start, len, ascii);
                }
            }
            _ => self.text.truncate(start),
        }
    }
}

/// Tables are equal when their rows and odd lines are, wherever in its text each keeps them.
impl PartialEq for PsTable {
    fn eq(&self, other: &PsTable) -> bool {
        self.rows.len() == other.rows.len()
            && (0..self.rows.len()).all(|i| self.row(i) == other.row(i))
            && self.odd_lines == other.odd_lines
    }
}

impl Eq for PsTable {}

impl fmt::Debug for PsTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsTable")
            .field(
                "rows",
                &(0..self.rows.len())
                    .map(|i| self.row(i))
                    .collect::<Vec<_>>(),
            )
            .field("odd_lines", &self.odd_lines)
            .finish()
    }
}

/// The processes of a table in ps's order.
pub struct Processes<'a> {
    table: &'a PsTable,
    next: usize,
    left: usize,
}

impl<'a> Iterator for Processes<'a> {
    type Item = PsProcess<'a>;

    fn next(&mut self) -> Option<PsProcess<'a>> {
        let first = self.next;
        // The first row is always a process: a thread row is only kept under one.
        let after = self.table.rows.get(first + 1..)?;
        let threads = after.iter().take_while(|r| !r.is_process()).count();
        self.next = first + 1 + threads;
        self.left = self.left.saturating_sub(1);
        Some(PsProcess {
            table: self.table,
            first,
            end: self.next,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Processes<'_> {}

/// A process row with the thread rows `ps auxm` printed under it; they stay with it when the
/// table is sorted.
#[derive(Clone, Copy)]
pub struct PsProcess<'a> {
    table: &'a PsTable,
    first: usize,
    end: usize,
}

impl<'a> PsProcess<'a> {
    pub fn row(&self) -> PsRow<'a> {
        self.table.row(self.first)
    }

    pub fn threads(&self) -> impl ExactSizeIterator<Item = PsRow<'a>> + use<'a> {
        let table = self.table;
        (self.first + 1..self.end).map(move |i| table.row(i))
    }

    pub fn thread_count(&self) -> usize {
        self.end.saturating_sub(self.first + 1)
    }
}

impl fmt::Debug for PsProcess<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsProcess")
            .field("row", &self.row())
            .field("threads", &self.threads().collect::<Vec<_>>())
            .finish()
    }
}
