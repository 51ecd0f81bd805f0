//! The parsed table: ps's output as it was captured, and beside it each row's place in it and the
//! few numbers it is sorted and chosen by. A row is read from the output again when it is asked
//! for, so a table of thousands of processes costs its output and 32 bytes a row. Thread rows
//! follow their process, so a process is a run of rows and sorting moves runs, never splitting
//! one.

use std::fmt;
use std::ops::Range;

use super::{PsRow, Tenths, numbered_lines};

/// Eleven fields and their blanks: `u 1 0 0 0 0 ? S 0 0 c`. No row is shorter, so an output of
/// n bytes holds at most n / 21 rows, whatever it claims.
const SHORTEST_ROW: usize = 21;

/// One row's line in the output and its sort keys. The numbers stay as wide as ps may print
/// them: a narrower type would sort some hostile rows differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    start: u32,
    len: u32,
    /// 0 with no PID (`-`): see `flags`.
    pid: u32,
    flags: u8,
    mem_tenths: u64,
    rss_kib: u64,
}

const HAS_PID: u8 = 1;
const HAS_MEM: u8 = 2;
const HAS_RSS: u8 = 4;

impl Row {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Thread rows of `ps auxm` (PID `-`) are the only rows without a PID.
    fn is_process(&self) -> bool {
        self.has(HAS_PID)
    }

    fn span(&self) -> Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// A row of a [`PsTable`], for [`PsTable::set_full_user`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowId(usize);

/// A line under a procps header that is not a process row. Kept, so nothing ps said is lost,
/// but never put into the table's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OddLine<'a> {
    /// Counted from 1, the header's line included.
    pub line_number: usize,
    /// As ps printed it, trailing blanks dropped.
    pub text: &'a [u8],
}

/// The process table of one `ps aux` run: process rows in ps's order, each followed by the thread
/// rows `ps auxm` printed under it (none for `ps aux`).
#[derive(Clone, Default)]
pub struct PsTable {
    output: Vec<u8>,
    rows: Vec<Row>,
    process_count: usize,
    odd_lines: Vec<(usize, Range<usize>)>,
    /// Full user names for rows whose name ps cut, by row, in row order.
    full_users: Vec<(RowId, Vec<u8>)>,
}

impl PsTable {
    /// The table of an output whose header has been checked.
    pub(super) fn from_output(output: Vec<u8>) -> PsTable {
        let body = || numbered_lines(&output).skip(1);
        // Room for every row at once: growing by doubling could hold twice what is needed.
        // Blank lines get none, so a broken ps printing millions of them costs nothing.
        let rows = body().count().min(output.len() / SHORTEST_ROW + 1);
        let mut table = PsTable {
            rows: Vec::with_capacity(rows),
            ..PsTable::default()
        };
        for (line_number, span) in body() {
            if !table.push(&output, span.clone()) {
                table.odd_lines.push((line_number, span));
            }
        }
        table.rows.shrink_to_fit();
        table.output = output;
        table
    }

    /// Keeps the line at `span` as a row if it is one. A thread row with no process above it is
    /// not, nor is a line past 4 GiB of output (a row's place is kept in 32 bits).
    fn push(&mut self, output: &[u8], span: Range<usize>) -> bool {
        let Some(row) = output.get(span.clone()).and_then(PsRow::decode) else {
            return false;
        };
        let (Ok(start), Ok(len)) = (u32::try_from(span.start), u32::try_from(span.len())) else {
            return false;
        };
        if row.pid.is_some() {
            self.process_count += 1;
        } else if self.process_count == 0 {
            return false;
        }
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        self.rows.push(Row {
            start,
            len,
            pid: row.pid.unwrap_or(0),
            flags: flag(row.pid.is_some(), HAS_PID)
                | flag(row.mem.is_some(), HAS_MEM)
                | flag(row.rss_kib.is_some(), HAS_RSS),
            mem_tenths: row.mem.map_or(0, |Tenths(t)| t),
            rss_kib: row.rss_kib.unwrap_or(0),
        });
        true
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

    pub fn odd_lines(&self) -> impl ExactSizeIterator<Item = OddLine<'_>> {
        self.odd_lines.iter().map(|(line_number, span)| OddLine {
            line_number: *line_number,
            text: self.output.get(span.clone()).unwrap_or_default(),
        })
    }

    /// Shows `name` instead of the user name ps printed in `row`.
    pub fn set_full_user(&mut self, row: RowId, name: Vec<u8>) {
        match self.full_users.binary_search_by_key(&row, |(id, _)| *id) {
            Ok(at) => {
                if let Some(entry) = self.full_users.get_mut(at) {
                    entry.1 = name;
                }
            }
            Err(at) => self.full_users.insert(at, (row, name)),
        }
    }

    /// PIDs of the `n` processes with the most RSS (ties: lowest PID first), leaving out `skip`.
    pub fn biggest_by_rss(&self, n: usize, skip: &[u32]) -> Vec<u32> {
        let mut sized: Vec<(u64, u32)> = self
            .processes()
            .filter_map(|p| Some((p.rss_kib().unwrap_or(0), p.pid()?)))
            .filter(|(_, pid)| !skip.contains(pid))
            .collect();
        sized.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        sized.into_iter().take(n).map(|(_, pid)| pid).collect()
    }

    #[cfg(test)]
    pub(super) fn rows_capacity(&self) -> usize {
        self.rows.capacity()
    }

    fn meta(&self, index: usize) -> Option<&Row> {
        self.rows.get(index)
    }

    fn row(&self, index: usize) -> PsRow<'_> {
        let line = self
            .meta(index)
            .and_then(|row| self.output.get(row.span()))
            .unwrap_or_default();
        let mut row = PsRow::decode(line).unwrap_or(EMPTY_ROW);
        if let Ok(at) = self
            .full_users
            .binary_search_by_key(&RowId(index), |(id, _)| *id)
            && let Some((_, name)) = self.full_users.get(at)
        {
            row.user = name;
        }
        row
    }
}

/// What a row index past the table reads as: nothing. Never met, since every kept line was
/// decoded once already.
const EMPTY_ROW: PsRow<'static> = PsRow {
    user: b"",
    pid: None,
    cpu: None,
    mem: None,
    vsz_kib: None,
    rss_kib: None,
    tty: b"",
    stat: b"",
    start: b"",
    time: b"",
    command: b"",
};

/// Tables are equal when their rows and odd lines are, wherever in its output each lies.
impl PartialEq for PsTable {
    fn eq(&self, other: &PsTable) -> bool {
        self.rows.len() == other.rows.len()
            && (0..self.rows.len()).all(|i| self.row(i) == other.row(i))
            && self.odd_lines().eq(other.odd_lines())
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
            .field("odd_lines", &self.odd_lines().collect::<Vec<_>>())
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

    /// The process row then its thread rows, each with the id [`PsTable::set_full_user`] takes.
    pub fn rows_with_ids(&self) -> impl Iterator<Item = (RowId, PsRow<'a>)> + use<'a> {
        let table = self.table;
        (self.first..self.end).map(move |i| (RowId(i), table.row(i)))
    }

    pub fn thread_count(&self) -> usize {
        self.end.saturating_sub(self.first + 1)
    }

    /// The sort keys, without reading the row again.
    pub fn pid(&self) -> Option<u32> {
        let row = self.table.meta(self.first)?;
        row.has(HAS_PID).then_some(row.pid)
    }

    pub fn mem(&self) -> Option<Tenths> {
        let row = self.table.meta(self.first)?;
        row.has(HAS_MEM).then_some(Tenths(row.mem_tenths))
    }

    pub fn rss_kib(&self) -> Option<u64> {
        let row = self.table.meta(self.first)?;
        row.has(HAS_RSS).then_some(row.rss_kib)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_costs_at_most_32_bytes_beside_its_line() {
        assert!(
            std::mem::size_of::<Row>() <= 32,
            "{}",
            std::mem::size_of::<Row>()
        );
    }
}
