//! The process table: every process on one line, columns as wide as their widest cell, one
//! space between them, sorted by %MEM. This is where a column's alignment is decided.

use std::cmp::Ordering;

use crate::parse::ps::{COLUMNS, COMMAND, PsProcess, PsTable};

/// Numbers read right to left; text left to right. COMMAND is last and never padded.
const RIGHT_ALIGNED: [bool; 11] = [
    false, true, true, true, true, true, false, false, false, true, false,
];

/// Highest %MEM first; ties by highest RSS, then lowest PID. Unknown values sort last.
fn by_memory(a: &PsProcess, b: &PsProcess) -> Ordering {
    let (a, b) = (a.row(), b.row());
    b.mem_tenths()
        .cmp(&a.mem_tenths())
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
    for row in rows() {
        let cells = row.cells();
        for (widest, cell) in widths.iter_mut().zip(cells) {
            *widest = (*widest).max(row.width_of(cell));
        }
        commands += cells[COMMAND].len();
    }
    // Reserved up front: growing a string of megabytes by doubling copies it again and again.
    if let Some(room) = room_for(&widths, table.row_count(), commands) {
        out.reserve(room);
    }

    push_line(out, COLUMNS, COLUMNS.map(str::len), &widths);
    for row in rows() {
        let cells = row.cells();
        push_line(out, cells, cells.map(|cell| row.width_of(cell)), &widths);
    }
    for odd in &table.odd_lines {
        out.push_str(&format!(
            "  (ps line {} is not a process row; as printed: {})\n",
            odd.line_number, odd.text
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

fn push_line(out: &mut String, cells: [&str; 11], cell_widths: [usize; 11], widths: &[usize; 11]) {
    let line_start = out.len();
    for (column, ((cell, width), cell_width)) in
        cells.iter().zip(widths).zip(cell_widths).enumerate()
    {
        if column > 0 {
            out.push(' ');
        }
        let pad = width.saturating_sub(cell_width);
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

fn push_spaces(out: &mut String, mut count: usize) {
    const SPACES: &str = "                                ";
    while count > 0 {
        let now = count.min(SPACES.len());
        out.push_str(SPACES.get(..now).unwrap_or_default());
        count -= now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::ps;

    fn render_text(ps_output: &str) -> String {
        let mut out = String::new();
        render(&ps::parse(ps_output.as_bytes()).unwrap(), &mut out);
        out
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
}
