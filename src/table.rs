//! The process table: every process on one line, columns as wide as their widest cell, one
//! space between them, sorted by %MEM. This is where a column's alignment is decided.

use std::cmp::Ordering;

use crate::ps::{COLUMNS, COMMAND, PsProcess, PsTable};

/// Numbers read right to left; text left to right. COMMAND is last and never padded.
const RIGHT_ALIGNED: [bool; 11] = [
    false, true, true, true, true, true, false, false, false, true, false,
];

/// Highest %MEM first; ties by highest RSS, then lowest PID. Unknown values sort last.
fn by_memory(a: &PsProcess, b: &PsProcess) -> Ordering {
    let (a, b) = (&a.row, &b.row);
    b.mem_tenths
        .cmp(&a.mem_tenths)
        .then(b.rss_kib.cmp(&a.rss_kib))
        .then_with(|| match (a.pid, b.pid) {
            (Some(x), Some(y)) => x.cmp(&y),
            (x, y) => y.cmp(&x),
        })
}

/// The processes in table order.
pub fn sorted(table: &PsTable) -> Vec<&PsProcess> {
    let mut processes: Vec<&PsProcess> = table.processes.iter().collect();
    processes.sort_by(|a, b| by_memory(a, b));
    processes
}

/// Appends the header and one line per process (then its threads, for `ps auxm`), then the lines
/// ps printed that were not process rows, indented so they cannot be taken for rows.
pub fn render(table: &PsTable, out: &mut String) {
    let processes = sorted(table);
    let rows = || {
        processes
            .iter()
            .flat_map(|p| std::iter::once(&p.row).chain(&p.threads))
    };

    let mut widths = COLUMNS.map(|c| c.len());
    for row in rows() {
        for (width, cell) in widths.iter_mut().zip(&row.cells) {
            *width = (*width).max(char_width(cell));
        }
    }
    out.reserve(widths.iter().sum::<usize>() * (table.processes.len() + 1));
    push_line(out, &COLUMNS, &widths);
    for row in rows() {
        push_line(out, &row.cells, &widths);
    }
    for odd in &table.odd_lines {
        out.push_str(&format!(
            "  (ps line {} is not a process row; as printed: {})\n",
            odd.line_number, odd.text
        ));
    }
}

fn char_width(cell: &str) -> usize {
    if cell.is_ascii() {
        cell.len()
    } else {
        cell.chars().count()
    }
}

fn push_line<S: AsRef<str>>(out: &mut String, cells: &[S; 11], widths: &[usize; 11]) {
    let line_start = out.len();
    for (column, cell) in cells.iter().enumerate() {
        let cell = cell.as_ref();
        if column > 0 {
            out.push(' ');
        }
        let width = widths.get(column).copied().unwrap_or(0);
        let pad = width.saturating_sub(char_width(cell));
        if column == COMMAND {
            out.push_str(cell);
        } else if RIGHT_ALIGNED.get(column).copied().unwrap_or(false) {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(cell);
        } else {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', pad));
        }
    }
    // Only an empty COMMAND leaves blanks at the end.
    let kept = out
        .get(line_start..)
        .map_or(0, |line| line.trim_end_matches(' ').len());
    out.truncate(line_start + kept);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ps;

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
