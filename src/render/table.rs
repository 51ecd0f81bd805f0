//! The process table as the logs show it: every process on one line, sorted by %MEM, each cell
//! escaped, %CPU and %MEM with one decimal, columns as wide as their widest cell and one space
//! apart. This is where a cell's text, width and alignment are decided.

use std::cmp::Ordering;
use std::fmt::Write as _;

use crate::parse::ps::{COLUMNS, PsProcess, PsRow, PsTable, Tenths};
use crate::text::escape::{escape, escape_into, escape_word_into};

const USER: usize = 0;
const PID: usize = 1;
const CPU: usize = 2;
const MEM: usize = 3;
const VSZ: usize = 4;
const RSS: usize = 5;
const TIME: usize = 9;
const COMMAND: usize = 10;

/// Numbers read right to left; text left to right. COMMAND is last and never padded.
const RIGHT_ALIGNED: [bool; 11] = [
    false, true, true, true, true, true, false, false, false, true, false,
];

/// Highest %MEM first; ties by highest RSS, then lowest PID. Unknown values sort last.
fn by_memory(a: &PsProcess, b: &PsProcess) -> Ordering {
    b.mem()
        .cmp(&a.mem())
        .then(b.rss_kib().cmp(&a.rss_kib()))
        .then_with(|| match (a.pid(), b.pid()) {
            (Some(x), Some(y)) => x.cmp(&y),
            (x, y) => y.cmp(&x),
        })
}

/// The processes in table order.
pub fn sorted(table: &PsTable) -> Vec<PsProcess<'_>> {
    let mut processes: Vec<PsProcess> = table.processes().collect();
    processes.sort_by(by_memory);
    processes
}

/// The first `n` processes of [`sorted`], found without sorting the others: a tenth of the
/// work for the 10 of 1,000 that incidents.jsonl names.
pub fn first(table: &PsTable, n: usize) -> Vec<PsProcess<'_>> {
    let mut processes: Vec<PsProcess> = table.processes().collect();
    if n < processes.len() {
        // The order is total (PIDs differ), so the first n are the same as after a sort.
        processes.select_nth_unstable_by(n, by_memory);
        processes.truncate(n);
    }
    processes.sort_by(by_memory);
    processes
}

/// One row's cells as shown, in one reused buffer.
#[derive(Default)]
struct Cells {
    text: String,
    ends: [usize; 11],
}

impl Cells {
    fn fill(&mut self, row: &PsRow) {
        let text = &mut self.text;
        text.clear();
        for (column, end) in self.ends.iter_mut().enumerate() {
            match column {
                PID => push_number(text, row.pid.map(u64::from)),
                CPU => push_percent(text, row.cpu),
                MEM => push_percent(text, row.mem),
                VSZ => push_number(text, row.vsz_kib),
                RSS => push_number(text, row.rss_kib),
                COMMAND => escape_into(text, row.command),
                // A blank ps did not split on must not make a cell read as several.
                _ => escape_word_into(text, text_cell(row, column)),
            }
            *end = text.len();
        }
    }

    fn cell(&self, column: usize) -> &str {
        let start = column
            .checked_sub(1)
            .and_then(|before| self.ends.get(before))
            .copied()
            .unwrap_or(0);
        let end = self.ends.get(column).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or_default()
    }

    fn all(&self) -> [&str; 11] {
        std::array::from_fn(|column| self.cell(column))
    }
}

/// The text cells of a row, by column.
fn text_cell<'a>(row: &PsRow<'a>, column: usize) -> &'a [u8] {
    match column {
        USER => row.user,
        6 => row.tty,
        7 => row.stat,
        8 => row.start,
        TIME => row.time,
        _ => b"",
    }
}

fn push_number(out: &mut String, value: Option<u64>) {
    match value {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push('-'),
    }
}

/// Exactly one decimal, whatever ps printed: `109` is shown `109.0`.
fn push_percent(out: &mut String, value: Option<Tenths>) {
    match value {
        Some(Tenths(tenths)) => {
            let _ = write!(out, "{}.{}", tenths / 10, tenths % 10);
        }
        None => out.push('-'),
    }
}

/// The width in characters of each of a row's cells as shown, found without building the text
/// of the plain ones, nearly all of them.
fn shown_widths(row: &PsRow, scratch: &mut String) -> [usize; 11] {
    let percent = |p: Option<Tenths>| p.map_or(1, |Tenths(t)| digits(t / 10) + 2);
    let number = |n: Option<u64>| n.map_or(1, digits);
    std::array::from_fn(|column| match column {
        PID => number(row.pid.map(u64::from)),
        CPU => percent(row.cpu),
        MEM => percent(row.mem),
        VSZ => number(row.vsz_kib),
        RSS => number(row.rss_kib),
        COMMAND => shown_width(row.command, false, scratch),
        _ => shown_width(text_cell(row, column), true, scratch),
    })
}

/// Digits in `n`.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// `bytes` as shown, in characters; a `word` shows its blanks escaped too.
fn shown_width(bytes: &[u8], word: bool, scratch: &mut String) -> usize {
    shown_size(bytes, word, scratch).1
}

/// `bytes` as shown: (bytes, characters), found without building the text of a plain one.
fn shown_size(bytes: &[u8], word: bool, scratch: &mut String) -> (usize, usize) {
    if is_plain(bytes, word) {
        return (bytes.len(), bytes.len());
    }
    scratch.clear();
    if word {
        escape_word_into(scratch, bytes);
    } else {
        escape_into(scratch, bytes);
    }
    (scratch.len(), width(scratch))
}

/// Printable ASCII, shown as it is (but for a word's spaces).
fn is_plain(bytes: &[u8], word: bool) -> bool {
    bytes
        .iter()
        .all(|&b| (0x21..0x7f).contains(&b) || (b == b' ' && !word))
}

/// A cell's width in characters, as the table aligns it.
fn width(cell: &str) -> usize {
    if cell.is_ascii() {
        cell.len()
    } else {
        cell.chars().count()
    }
}

/// Appends the header and one line per process (then its threads, for `ps auxm`), then the lines
/// ps printed that were not process rows, indented so they cannot be taken for rows.
pub fn render(table: &PsTable, out: &mut String) {
    let processes = sorted(table);
    let rows = || {
        processes
            .iter()
            .flat_map(|p| std::iter::once(p.row()).chain(p.threads()))
    };
    let mut widths = COLUMNS.map(str::len);
    let mut commands = 0;
    let mut scratch = String::new();
    for row in rows() {
        let shown = shown_widths(&row, &mut scratch);
        for (widest, width) in widths.iter_mut().zip(shown) {
            *widest = (*widest).max(width);
        }
        commands += shown_size(row.command, false, &mut scratch).0;
    }
    // Reserved up front: growing a string of megabytes by doubling copies it again and again.
    if let Some(room) = room_for(&widths, table.row_count(), commands) {
        out.reserve(room);
    }

    push_line(out, COLUMNS, &widths);
    let mut cells = Cells::default();
    for row in rows() {
        cells.fill(&row);
        push_line(out, cells.all(), &widths);
    }
    for odd in table.odd_lines() {
        out.push_str(&format!(
            "  (ps line {} is not a process row; as printed: {})\n",
            odd.line_number,
            escape(odd.text)
        ));
    }
}

/// The bytes of the header and `rows` lines whose first ten cells are padded to `widths` and
/// whose commands take `commands` bytes together: exact for an ASCII table. `None` when that is
/// more than a usize holds, which the widths of a hostile ps's cells times its rows can be on a
/// 32-bit machine; such a table is not reserved for.
fn room_for(widths: &[usize; 11], rows: usize, commands: usize) -> Option<usize> {
    // Ten cells and COMMAND, each of the ten followed by a space, and a newline.
    let fixed_part = widths
        .iter()
        .take(COMMAND)
        .try_fold(COMMAND + 1, |sum, &width| sum.checked_add(width))?;
    fixed_part
        .checked_mul(rows.checked_add(1)?)?
        .checked_add(commands)?
        .checked_add(COLUMNS[COMMAND].len())
}

fn push_line(out: &mut String, cells: [&str; 11], widths: &[usize; 11]) {
    let line_start = out.len();
    for (column, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if column > 0 {
            out.push(' ');
        }
        let pad = width.saturating_sub(self::width(cell));
        if column == COMMAND {
            out.push_str(cell);
        } else if RIGHT_ALIGNED.get(column).copied().unwrap_or(false) {
            push_spaces(out, pad);
            out.push_str(cell);
        } else {
            out.push_str(cell);
            push_spaces(out, pad);
        }
    }
    // Only an empty COMMAND leaves blanks at the end.
    let kept = out
        .get(line_start..)
        .map_or(0, |line| line.trim_end_matches(' ').len());
    out.truncate(line_start + kept);
    out.push('\n');
}

fn push_spaces(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n(' ', count));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::ps;

    #[test]
    fn the_first_few_are_the_sorted_tables_first() {
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
        for name in ["psaux_jc-centos77_1.txt", "psaux_crush-synaps-arch_1.txt"] {
            let output = std::fs::read(format!("{corpus}/{name}")).unwrap();
            let table = ps::parse(&output).unwrap();
            let all: Vec<_> = sorted(&table).iter().map(PsProcess::row).collect();
            for n in [0, 1, 10, all.len() - 1, all.len(), all.len() + 5] {
                let few: Vec<_> = first(&table, n).iter().map(PsProcess::row).collect();
                assert_eq!(few, all[..n.min(all.len())], "{name}, {n}");
            }
        }
    }

    fn render_text(ps_output: &str) -> String {
        render_bytes(ps_output.as_bytes())
    }

    fn render_bytes(ps_output: &[u8]) -> String {
        let mut out = String::new();
        render(&ps::parse(ps_output).unwrap(), &mut out);
        out
    }

    const HEADER: &str = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n";

    /// The cells of the one row of a table, as the table shows them.
    fn row_cells(row: &[u8]) -> Vec<String> {
        let table = ps::parse(&[HEADER.as_bytes(), row].concat()).unwrap();
        let mut cells = Cells::default();
        cells.fill(&table.processes().next().unwrap().row());
        cells.all().map(str::to_owned).to_vec()
    }

    #[test]
    fn aligns_sorts_and_never_pads_the_command() {
        let out = render_text(
            "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n\
             root 1 0.0 0.1 27248 11880 ? Ss Jun24 0:50 /sbin/init splash\n\
             alice 1325221 109 12.5 273678204 2000000 pts/0 Sl+ 10:00 160:37 firefox  -P  x\n\
             bob 7 0.0 0.1 100 11880 ? S Jun24 0:00\n\
             carol 8 0.0 0.1 100 11881 ? S Jun24 0:00 [k thread]\n",
        );
        let expected = "\
USER      PID  %CPU %MEM       VSZ     RSS TTY   STAT START   TIME COMMAND
alice 1325221 109.0 12.5 273678204 2000000 pts/0 Sl+  10:00 160:37 firefox  -P  x
carol       8   0.0  0.1       100   11881 ?     S    Jun24   0:00 [k thread]
root        1   0.0  0.1     27248   11880 ?     Ss   Jun24   0:50 /sbin/init splash
bob         7   0.0  0.1       100   11880 ?     S    Jun24   0:00
";
        assert_eq!(out, expected);
    }

    #[test]
    fn sizes_past_32_bits_sort_right() {
        let t = ps::parse(
            format!(
                "{HEADER}pi 10 0.0 0.0 4194300 4294967295 ? S 10:00 0:00 a\n\
                 pi 11 0.0 0.0 18014398509481983 4294967296 ? S 10:00 0:00 b\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let order: Vec<Option<u32>> = sorted(&t).iter().map(PsProcess::pid).collect();
        assert_eq!(order, vec![Some(11), Some(10)]);
    }

    #[test]
    fn percentages_always_get_one_decimal() {
        let cells = row_cells(b"root  1 109  0 1 1 ? R 10:00 1:00 burn\n");
        assert_eq!((&*cells[CPU], &*cells[MEM]), ("109.0", "0.0"));
        let cells = row_cells(b"root 1 0,5 12.34 1 1 ? R 10:00 1:00 burn\n");
        assert_eq!((&*cells[CPU], &*cells[MEM]), ("0.5", "12.3"));
    }

    #[test]
    fn hostile_bytes_are_escaped_in_every_cell() {
        let cells = row_cells(b"ev\x1bl 9 0.0 0.0 1 1 pts/\x07 S 10:00 0:00 a\rb\x1b[2J\xff\t2\n");
        assert_eq!(cells[USER], "ev\\x1bl");
        assert_eq!(cells[6], "pts/\\x07");
        assert_eq!(cells[COMMAND], "a\\x0db\\x1b[2J\\xff\\x092");
    }

    #[test]
    fn blanks_ps_did_not_split_on_are_escaped_outside_command() {
        let cells = row_cells(
            "2026-11-22\u{a0}14:03:15\u{a0}|\u{2800}x 9 0.0 0.0 1 1 pts/\u{3000} S 10:00 0:00 a\u{a0}b\n"
                .as_bytes(),
        );
        assert_eq!(
            cells[USER],
            "2026-11-22\\xc2\\xa014:03:15\\xc2\\xa0|\\xe2\\xa0\\x80x"
        );
        assert_eq!(cells[6], "pts/\\xe3\\x80\\x80");
        assert_eq!(cells[COMMAND], "a\u{a0}b");
    }

    #[test]
    fn a_full_user_name_is_shown_escaped_and_counted_in_characters() {
        let mut t = ps::parse(
            format!("{HEADER}verylon+ 10 0.5 1.0 100 2000 pts/1 Sl 10:00 0:01 x\nab 2 0.0 0.0 1 1 ? S 10:00 0:00 y\n")
                .as_bytes(),
        )
        .unwrap();
        let id = t
            .processes()
            .next()
            .unwrap()
            .rows_with_ids()
            .next()
            .unwrap()
            .0;
        t.set_full_user(id, "rené\x1b".as_bytes().to_vec());
        let mut out = String::new();
        render(&t, &mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].starts_with("rené\\x1b  10 "), "{out}");
        assert!(lines[2].starts_with("ab         2 "), "{out}");
    }

    #[test]
    fn the_room_reserved_is_the_table_exactly_and_never_wraps() {
        let output = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n\
             root 1 0.0 0.1 27248 11880 ? Ss Jun24 0:50 /sbin/init splash\n\
             pi 812 2.4 91.0 4194300 3535332 pts/0 Sl+ 10:00 160:37 chromium --type=renderer\n";
        let table = ps::parse(output.as_bytes()).unwrap();
        let mut out = String::new();
        render(&table, &mut out);
        let widths = [4, 3, 4, 4, 7, 7, 5, 4, 5, 6, 7];
        let commands = "/sbin/init splash".len() + "chromium --type=renderer".len();
        assert_eq!(room_for(&widths, 2, commands), Some(out.len()), "{out}");
        // Widths and rows a 32-bit usize cannot multiply: no reservation rather than a wrapped
        // one (or, in a debug build, a panic).
        let wide = [usize::MAX / 4; 11];
        assert_eq!(room_for(&wide, 3, 0), None);
        assert_eq!(room_for(&[1; 11], usize::MAX, 0), None);
        assert_eq!(
            room_for(&[0; 11], usize::MAX / 11 - 2, 0),
            Some((usize::MAX / 11 - 1) * 11 + 7)
        );
        assert_eq!(room_for(&[0; 11], 0, usize::MAX), None);
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        let out = render_text(
            "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nrené 1 0.0 0.0 1 1 ? S 10:00 0:00 x\nab 2 0.0 0.0 1 1 ? S 10:00 0:00 y\n",
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[1].chars().position(|c| c == '1'),
            lines[2].chars().position(|c| c == '2')
        );
    }

    #[test]
    fn odd_lines_follow_the_table_escaped() {
        let out = render_bytes(b"USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nroot 1 0.0 0.0 1 1 ? S 10:00 0:00 init\nnot \x1b[2Ja row\n");
        assert!(
            out.ends_with("  (ps line 3 is not a process row; as printed: not \\x1b[2Ja row)\n"),
            "{out}"
        );
    }
}
