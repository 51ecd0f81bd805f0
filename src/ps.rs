//! Parsing procps `ps aux` output into rows: the first ten fields split on blanks, COMMAND the
//! rest of the line as printed. Anything that is not procps is refused with a reason, so the log
//! never holds a garbage table.

use std::fmt;

use crate::escape::{escape, escape_word, trim_trailing_blanks};

/// The columns of `ps aux`, in order; COMMAND is last and may hold blanks.
pub const COLUMNS: [&str; 11] = [
    "USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND",
];
pub const USER: usize = 0;
pub const PID: usize = 1;
pub const CPU: usize = 2;
pub const MEM: usize = 3;
pub const VSZ: usize = 4;
pub const RSS: usize = 5;
pub const COMMAND: usize = 10;

/// Eleven fields and their blanks: `u 1 0 0 0 0 ? S 0 0 c`.
const SHORTEST_ROW: usize = 21;

/// One line of the table: every cell already escaped and normalised for the log, kept in one
/// string (a table of thousands of rows would otherwise be tens of thousands of allocations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsRow {
    text: String,
    /// Where each cell ends in `text`; cell `i` starts where cell `i - 1` ends.
    ends: [u32; 11],
    /// Whether `text` is all ASCII, so widths in characters are lengths in bytes.
    ascii: bool,
    /// `None` for a thread row of `ps auxm`, whose PID is `-`.
    pub pid: Option<u32>,
    /// %MEM in tenths of a percent, exact, for sorting.
    pub mem_tenths: Option<u64>,
    pub rss_kib: Option<u64>,
}

impl PsRow {
    fn span(&self, column: usize) -> (usize, usize) {
        let end_of = |i: usize| self.ends.get(i).map_or(0, |&end| end as usize);
        let start = column.checked_sub(1).map_or(0, end_of);
        (start, end_of(column).max(start))
    }

    pub fn cell(&self, column: usize) -> &str {
        let (start, end) = self.span(column);
        self.text.get(start..end).unwrap_or_default()
    }

    /// The cell's width in characters, as the table aligns it.
    pub fn cell_width(&self, column: usize) -> usize {
        let (start, end) = self.span(column);
        if self.ascii {
            end - start
        } else {
            self.cell(column).chars().count()
        }
    }

    pub fn cells(&self) -> [&str; 11] {
        std::array::from_fn(|column| self.cell(column))
    }

    pub fn user(&self) -> &str {
        self.cell(USER)
    }

    pub fn command(&self) -> &str {
        self.cell(COMMAND)
    }

    /// Replaces one cell's text (already escaped); rare, so it simply rebuilds the row.
    pub fn set_cell(&mut self, column: usize, value: &str) {
        let mut cells = self.cells().map(str::to_owned);
        if let Some(cell) = cells.get_mut(column) {
            *cell = value.to_owned();
        }
        let mut text = String::with_capacity(cells.iter().map(String::len).sum());
        for (end, cell) in self.ends.iter_mut().zip(&cells) {
            text.push_str(cell);
            *end = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        self.ascii = text.is_ascii();
        self.text = text;
    }
}

/// A process row with the thread rows `ps auxm` prints under it (none for `ps aux`); threads
/// stay with their process when the table is sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsProcess {
    pub row: PsRow,
    pub threads: Vec<PsRow>,
}

/// A line under a procps header that is not a process row. Kept, escaped, so nothing ps said is
/// lost, but never put into the table's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OddLine {
    pub line_number: usize,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PsTable {
    pub processes: Vec<PsProcess>,
    pub odd_lines: Vec<OddLine>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PsError {
    Empty,
    /// The header is not procps's; the text says whose it looks like.
    NotProcps {
        looks_like: &'static str,
        header: String,
    },
}

impl fmt::Display for PsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PsError::Empty => write!(f, "ps printed nothing"),
            PsError::NotProcps { looks_like, header } => write!(
                f,
                "ps output is not procps `ps aux` output ({looks_like}); its header is `{header}`, \
                 expected `{}`",
                COLUMNS.join(" ")
            ),
        }
    }
}

impl std::error::Error for PsError {}

pub fn parse(output: &[u8]) -> Result<PsTable, PsError> {
    let mut lines = output
        .split(|&b| b == b'\n')
        .map(trim_trailing_blanks)
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.is_empty());
    let (_, header) = lines.next().ok_or(PsError::Empty)?;
    check_header(header)?;

    // Room for every row up front, but never more than the output could hold: a broken ps
    // printing millions of blank lines must not reserve memory for millions of rows.
    let line_count = output.iter().filter(|&&b| b == b'\n').count();
    let rows = line_count.min(output.len() / SHORTEST_ROW);
    let mut table = PsTable {
        processes: Vec::with_capacity(rows),
        odd_lines: Vec::new(),
    };
    for (line_number, line) in lines {
        let row = parse_row(line);
        match (row, table.processes.last_mut()) {
            (Some(row), _) if row.pid.is_some() => {
                table.processes.push(PsProcess {
                    row,
                    threads: Vec::new(),
                });
            }
            // A thread row (PID `-`) of `ps auxm` belongs to the process above it.
            (Some(row), Some(process)) => process.threads.push(row),
            _ => table.odd_lines.push(OddLine {
                line_number,
                text: escape(line),
            }),
        }
    }
    Ok(table)
}

fn check_header(header: &[u8]) -> Result<(), PsError> {
    let words: Vec<&[u8]> = split_blanks(header).collect();
    if words
        .iter()
        .copied()
        .eq(COLUMNS.iter().map(|c| c.as_bytes()))
    {
        return Ok(());
    }
    let has = |name: &str| words.contains(&name.as_bytes());
    let looks_like = if has("STARTED") || has("TT") {
        "it looks like BSD or macOS ps"
    } else if words.first().is_some_and(|w| *w == b"PID") && !has("%MEM") {
        "it looks like busybox ps"
    } else {
        "unknown format"
    };
    Err(PsError::NotProcps {
        looks_like,
        header: escape(header),
    })
}

fn split_blanks(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|w| !w.is_empty())
}

/// Splits off the first ten fields; COMMAND is what follows the one blank after TIME, so the
/// leading blanks of `ps f` forest art survive.
fn parse_row(line: &[u8]) -> Option<PsRow> {
    let mut fields: [&[u8]; 10] = [&[]; 10];
    let mut rest = line;
    for field in fields.iter_mut() {
        let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
        rest = rest.get(start..)?;
        let end = rest
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(rest.len());
        *field = rest.get(..end)?;
        rest = rest.get(end..)?;
    }
    let command = rest.get(1..).unwrap_or_default();

    let [user, pid, cpu, mem, vsz, rss, tty, stat, start, time] = fields;
    let pid_value = number_or_dash(pid)?;
    let cpu_tenths = tenths_or_dash(cpu)?;
    let mem_tenths = tenths_or_dash(mem)?;
    let rss_kib = number_or_dash(rss)?;
    number_or_dash(vsz)?;
    let pid_value = match pid_value {
        Some(p) => Some(u32::try_from(p).ok()?),
        None => None,
    };
    // A row of printable ASCII, nearly every row, is copied as it is and checked as UTF-8 once.
    let plain = line.iter().all(|&b| (0x20..0x7f).contains(&b));
    let mut bytes = Vec::with_capacity(line.len() + 4);
    let mut ends = [0; 11];
    for (column, raw) in [
        user, pid, cpu, mem, vsz, rss, tty, stat, start, time, command,
    ]
    .into_iter()
    .enumerate()
    {
        match (column, cpu_tenths, mem_tenths) {
            (CPU, Some(tenths), _) | (MEM, _, Some(tenths)) => push_tenths(&mut bytes, tenths),
            _ if plain => bytes.extend_from_slice(raw),
            (COMMAND, _, _) => bytes.extend_from_slice(escape(raw).as_bytes()),
            // A blank ps did not split on must not make a cell read as several.
            _ => bytes.extend_from_slice(escape_word(raw).as_bytes()),
        }
        if let Some(end) = ends.get_mut(column) {
            // A line longer than 4 GiB is not a ps row.
            *end = u32::try_from(bytes.len()).ok()?;
        }
    }
    let text = String::from_utf8(bytes).ok()?;
    Some(PsRow {
        ascii: text.is_ascii(),
        text,
        ends,
        pid: pid_value,
        mem_tenths,
        rss_kib,
    })
}

/// `Some(None)` for `-`, `Some(Some(n))` for digits, `None` for anything else.
fn number_or_dash(field: &[u8]) -> Option<Option<u64>> {
    if field == b"-" {
        return Some(None);
    }
    digits(field).map(Some)
}

fn digits(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 19 {
        return None;
    }
    field.iter().try_fold(0u64, |acc, &d| {
        if d.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

fn tenths_or_dash(field: &[u8]) -> Option<Option<u64>> {
    if field == b"-" {
        return Some(None);
    }
    parse_tenths(field).map(Some)
}

/// A percentage as ps prints it (`0.0`, `12.3`, `109`, or `0,5` from a localised ps) in exact
/// tenths, rounded half up if ps ever printed more decimals.
pub fn parse_tenths(field: &[u8]) -> Option<u64> {
    let split = field.iter().position(|&b| b == b'.' || b == b',');
    let (whole, frac) = match split {
        Some(i) => (field.get(..i)?, field.get(i + 1..)?),
        None => (field, &[][..]),
    };
    if split.is_some() && frac.is_empty() {
        return None;
    }
    let whole = digits(whole)?;
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let first = frac.first().map_or(0, |d| u64::from(d - b'0'));
    let round_up = frac.get(1).is_some_and(|d| *d >= b'5');
    whole
        .checked_mul(10)?
        .checked_add(first + u64::from(round_up))
}

/// Tenths back to text with exactly one decimal: `1090` → `109.0`.
fn push_tenths(out: &mut Vec<u8>, tenths: u64) {
    // By hand: the formatting machinery costs more than the rest of a row's parse.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut whole = tenths / 10;
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (whole % 10) as u8;
        }
        whole /= 10;
        if whole == 0 || at == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(at..).unwrap_or_default());
    out.push(b'.');
    out.push(b'0' + (tenths % 10) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n";

    fn one(line: &str) -> PsRow {
        let t = parse(format!("{HEADER}{line}\n").as_bytes()).unwrap();
        assert!(t.odd_lines.is_empty(), "{:?}", t.odd_lines);
        t.processes.into_iter().next().unwrap().row
    }

    #[test]
    fn command_is_the_rest_of_the_line_with_inner_and_leading_blanks() {
        let r = one(
            "root        1503  0.0  0.0  11932  6152 ?        Ss   05:22   0:00 /usr/sbin/smartd  -n   -q never",
        );
        assert_eq!(r.command(), "/usr/sbin/smartd  -n   -q never");
        let forest = one(
            "root         812  0.0  0.1  15432  9000 ?        S    05:22   0:00  \\_ sshd: alice [priv]",
        );
        assert_eq!(forest.command(), " \\_ sshd: alice [priv]");
        assert_eq!(forest.pid, Some(812));
    }

    #[test]
    fn wide_fields_that_shift_columns_still_split() {
        let r = one(
            "user_01   2713  2.4 19.2 12508144 3077224 ?    Sl   Nov21 533:33 /usr/lib64/firefox/firefox",
        );
        assert_eq!(r.cell(VSZ), "12508144");
        assert_eq!(r.cell(RSS), "3077224");
        assert_eq!(r.cell(6), "?");
        assert_eq!(r.cell(9), "533:33");
        assert_eq!(r.rss_kib, Some(3_077_224));
        assert_eq!(r.mem_tenths, Some(192));
    }

    #[test]
    fn percentages_always_get_one_decimal() {
        let r = one("root  1 109  0 1 1 ? R 10:00 1:00 burn");
        assert_eq!((r.cell(CPU), r.cell(MEM)), ("109.0", "0.0"));
        assert_eq!(parse_tenths(b"0,5"), Some(5));
        assert_eq!(parse_tenths(b"12.34"), Some(123));
        assert_eq!(parse_tenths(b"12.35"), Some(124));
        assert_eq!(parse_tenths(b"1000"), Some(10_000));
        for bad in [&b""[..], b".", b"1.", b".5", b"1.2.3", b"x", b"-1", b"1e3"] {
            assert_eq!(parse_tenths(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn empty_command_is_allowed() {
        let r = one("root 7 0.0 0.0 0 0 ? S 10:00 0:00");
        assert_eq!(r.command(), "");
    }

    #[test]
    fn hostile_bytes_are_escaped_in_every_cell() {
        let mut input = HEADER.as_bytes().to_vec();
        input
            .extend_from_slice(b"ev\x1bl 9 0.0 0.0 1 1 pts/\x07 S 10:00 0:00 a\rb\x1b[2J\xff\t2\n");
        let t = parse(&input).unwrap();
        let r = &t.processes[0].row;
        assert_eq!(r.user(), "ev\\x1bl");
        assert_eq!(r.cell(6), "pts/\\x07");
        assert_eq!(r.command(), "a\\x0db\\x1b[2J\\xff\\x092");
    }

    #[test]
    fn blanks_ps_did_not_split_on_are_escaped_outside_command() {
        let r = one(
            "2026-11-22\u{a0}14:03:15\u{a0}|\u{2800}x 9 0.0 0.0 1 1 pts/\u{3000} S 10:00 0:00 a\u{a0}b",
        );
        assert_eq!(
            r.user(),
            "2026-11-22\\xc2\\xa014:03:15\\xc2\\xa0|\\xe2\\xa0\\x80x"
        );
        assert_eq!(r.cell(6), "pts/\\xe3\\x80\\x80");
        assert_eq!(r.command(), "a\u{a0}b");
    }

    #[test]
    fn thread_rows_stay_with_their_process() {
        let input = format!(
            "{HEADER}root 1503 0.0 0.0 11932 6152 ? - 05:22 0:00 /usr/sbin/smartd\n\
             root - 0.0 - - - - Ss 05:22 0:00 -\n\
             root 1514 0.0 0.0 405308 15564 ? - 05:22 0:02 /usr/libexec/udisks2/udisksd\n\
             root - 0.0 - - - - Ssl 05:22 0:00 -\n\
             root - 0.0 - - - - Ssl 05:22 0:00 -\n"
        );
        let t = parse(input.as_bytes()).unwrap();
        let threads: Vec<usize> = t.processes.iter().map(|p| p.threads.len()).collect();
        assert_eq!(threads, vec![1, 2]);
        assert_eq!(t.processes[1].threads[0].cell(MEM), "-");
    }

    #[test]
    fn rows_that_do_not_fit_are_kept_aside_not_tabled() {
        let input = format!(
            "{HEADER}root 1 0.0 0.0 1 1 ? S 10:00 0:00 init\nthis is not a row\njohn smith 5 0.0 0.0 1 1 ? S 10:00 0:00 x\n"
        );
        let t = parse(input.as_bytes()).unwrap();
        assert_eq!(t.processes.len(), 1);
        let odd: Vec<(usize, &str)> = t
            .odd_lines
            .iter()
            .map(|o| (o.line_number, o.text.as_str()))
            .collect();
        assert_eq!(
            odd,
            vec![
                (3, "this is not a row"),
                (4, "john smith 5 0.0 0.0 1 1 ? S 10:00 0:00 x")
            ]
        );
    }

    #[test]
    fn trailing_blanks_and_missing_final_newline() {
        let t = parse(
            format!("{HEADER}root 1 0.0 0.0 1 1 ? S 10:00 0:00 sleep 100 tail  \r").as_bytes(),
        )
        .unwrap();
        assert_eq!(t.processes[0].row.command(), "sleep 100 tail");
    }

    #[test]
    fn not_procps_is_refused_with_a_reason() {
        let bsd = b"USER  PID  %CPU %MEM      VSZ    RSS   TT  STAT STARTED      TIME COMMAND\nroot 1 0.0 0.0 1 1 ?? Ss 12:10PM 0:01.00 launchd\n";
        let err = parse(bsd).unwrap_err().to_string();
        assert!(err.contains("BSD or macOS"), "{err}");
        let busybox = b"PID   USER     TIME  COMMAND\n    1 root      0:01 init\n";
        assert!(parse(busybox).unwrap_err().to_string().contains("busybox"));
        assert!(
            parse(b"hello\x1b]0;pwned\x07\n")
                .unwrap_err()
                .to_string()
                .contains("hello\\x1b]0;pwned\\x07")
        );
        assert_eq!(parse(b""), Err(PsError::Empty));
        assert_eq!(parse(b"\n \n"), Err(PsError::Empty));
    }

    #[test]
    fn blank_lines_reserve_nothing() {
        let mut input = HEADER.as_bytes().to_vec();
        input.extend(std::iter::repeat_n(b'\n', 16 << 20));
        let t = parse(&input).unwrap();
        assert!(t.processes.is_empty());
        assert!(t.processes.capacity() <= input.len() / SHORTEST_ROW);
    }

    #[test]
    fn header_only_is_an_empty_table() {
        assert_eq!(parse(HEADER.as_bytes()).unwrap(), PsTable::default());
    }
}
