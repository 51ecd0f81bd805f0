//! Parsing procps `ps aux` output into rows: the first ten fields split on blanks, COMMAND the
//! rest of the line as printed. Anything that is not procps is refused with a reason, so the log
//! never holds a garbage table.

use std::fmt;

use crate::text::escape::{escape, escape_into, escape_word_into, trim_trailing_blanks};

mod row;
mod store;

use row::Row;
pub use row::{PsRow, RowId};
pub use store::{Processes, PsProcess, PsTable};

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

/// Room beyond the output's length for the rows' text: a few rows' percentages printed as `0`
/// rather than `0.0` fit without growing it.
const ARENA_MARGIN: usize = 64;

/// A line under a procps header that is not a process row. Kept, escaped, so nothing ps said is
/// lost, but never put into the table's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OddLine {
    pub line_number: usize,
    pub text: String,
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
    let mut offset = 0;
    let mut lines = output
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            let at = offset;
            offset += line.len() + 1;
            (i + 1, at, trim_trailing_blanks(line))
        })
        .filter(|(_, _, line)| !line.is_empty());
    let (_, _, header) = lines.next().ok_or(PsError::Empty)?;
    check_header(header)?;

    let mut table = PsTable::default();
    for (line_number, at, line) in lines {
        if table.text_mut().capacity() == 0 {
            // Room for every row, reserved once, exactly, from the rest of the output: growing by
            // doubling could hold twice what is needed. A row's text is no longer than its line
            // and newline (blanks between cells collapse) but for escaped bytes and percentages
            // ps printed without a decimal, so that room nearly always suffices. Empty lines get
            // no room: a broken ps printing millions of them must not reserve memory for each.
            let rest = output.get(at..).unwrap_or_default();
            let rows = lines_not_blank(rest).min(rest.len() / SHORTEST_ROW + 1);
            table.reserve(rest.len() + ARENA_MARGIN, rows);
        }
        let text = table.text_mut();
        let kept = parse_row(line, text).is_some_and(|row| table.push(row));
        if !kept {
            table.odd_lines.push(OddLine {
                line_number,
                text: escape(line),
            });
        }
    }
    table.shrink_to_fit();
    Ok(table)
}

/// Lines that hold something, if only a blank, in text that starts at the start of a line: one
/// per newline after anything but a newline, and the last line if it has none. Written so the
/// compiler can use vector instructions: a capture's output is scanned once more for this.
fn lines_not_blank(text: &[u8]) -> usize {
    // Summed in blocks small enough for a 32-bit count, which the vectors take four at a time.
    const BLOCK: usize = 1 << 20;
    let next = text.get(1..).unwrap_or_default();
    let ends: usize = text
        .chunks(BLOCK)
        .zip(next.chunks(BLOCK))
        .map(|(block, next)| {
            block
                .iter()
                .zip(next)
                .map(|(&before, &b)| u32::from((b == b'\n') & (before != b'\n')))
                .sum::<u32>() as usize
        })
        .sum();
    let unended = text.last().is_some_and(|&b| b != b'\n');
    ends + usize::from(unended)
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
/// leading blanks of `ps f` forest art survive. Appends the row's text to `text` (see
/// [`row`] for its form); a line that is not a row leaves `text` as it was.
fn parse_row(line: &[u8], text: &mut String) -> Option<Row> {
    // Where each field lies in the line: COMMAND starts one byte after TIME ends.
    let mut spans = [(0, 0); 11];
    let mut at = 0;
    for span in spans.iter_mut().take(COMMAND) {
        let rest = line.get(at..)?;
        let start = at + rest.iter().position(|&b| b != b' ' && b != b'\t')?;
        let end = line
            .get(start..)?
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .map_or(line.len(), |len| start + len);
        *span = (start, end);
        at = end;
    }
    if let Some(command) = spans.get_mut(COMMAND) {
        *command = ((at + 1).min(line.len()), line.len());
    }
    let fields = spans.map(|(start, end)| line.get(start..end).unwrap_or_default());
    let [_, pid, cpu, mem, vsz, rss, ..] = fields;
    let pid_value = number_or_dash(pid)?;
    let cpu_tenths = tenths_or_dash(cpu)?;
    let mem_tenths = tenths_or_dash(mem)?;
    let rss_kib = number_or_dash(rss)?;
    number_or_dash(vsz)?;
    let pid_value = match pid_value {
        Some(p) => Some(u32::try_from(p).ok()?),
        None => None,
    };
    // A row of printable ASCII, nearly every row, is copied as it is. Checked in blocks without
    // stopping early, which the compiler turns into vector instructions.
    let plain = line.chunks(32).all(|block| {
        block
            .iter()
            .fold(true, |ok, &b| ok & (0x20..0x7f).contains(&b))
    });
    // Checked once for the whole line: a plain cell is then copied without a look.
    let plain_text = if plain {
        std::str::from_utf8(line).ok()
    } else {
        None
    };
    let row_start = text.len();
    for (column, (raw, (start, end))) in fields.into_iter().zip(spans).enumerate() {
        if column > 0 {
            text.push(' ');
        }
        match (column, cpu_tenths, mem_tenths, plain_text) {
            (CPU, Some(tenths), _, _) | (MEM, _, Some(tenths), _) => push_tenths(text, tenths),
            (_, _, _, Some(line)) => text.push_str(line.get(start..end).unwrap_or_default()),
            (COMMAND, _, _, None) => escape_into(text, raw),
            // A blank ps did not split on must not make a cell read as several; this is also
            // what lets the row's text be split on spaces again.
            _ => escape_word_into(text, raw),
        }
    }
    // Offsets are 32 bits: past 4 GiB of text a line is not taken as a row.
    let (Ok(start), Ok(len), Ok(_)) = (
        u32::try_from(row_start),
        u32::try_from(text.len() - row_start),
        u32::try_from(text.len()),
    ) else {
        text.truncate(row_start);
        return None;
    };
    let ascii = plain || text.get(row_start..).is_some_and(str::is_ascii);
    Some(Row::new(start, len, ascii, pid_value, mem_tenths, rss_kib))
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
fn push_tenths(out: &mut String, tenths: u64) {
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
    for &d in digits.get(at..).unwrap_or_default() {
        out.push(char::from(d));
    }
    out.push('.');
    out.push(char::from(b'0' + (tenths % 10) as u8));
}

#[cfg(test)]
mod tests;
