//! Parsing procps `ps aux` output into a typed table: numbers as numbers, the other cells and
//! COMMAND as the raw bytes ps printed. How a cell is shown (escaped, padded, with one decimal)
//! is decided by `render::table`, not here. Anything that is not procps is refused with a reason,
//! so a log never holds a garbage table.

use std::fmt;

use crate::text::escape::{escape, trim_trailing_blanks};
use crate::text::number::parse_u64;

mod table;

pub use table::{OddLine, Processes, PsProcess, PsTable, RowId};

/// The columns of `ps aux`, in order; COMMAND is last and may hold blanks.
pub const COLUMNS: [&str; 11] = [
    "USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND",
];

/// A percentage in exact tenths, as ps prints %CPU and %MEM: `12.3` is 123.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tenths(pub u64);

/// One row of the table, typed. `None` stands for ps's `-`, which the thread rows of `ps auxm`
/// print in PID, %MEM, VSZ and RSS. Text cells are ps's bytes, untrusted and unescaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PsRow<'a> {
    /// The full name when ps cut it (`verylon+`) and /proc and passwd gave the rest.
    pub user: &'a [u8],
    pub pid: Option<u32>,
    pub cpu: Option<Tenths>,
    pub mem: Option<Tenths>,
    pub vsz_kib: Option<u64>,
    pub rss_kib: Option<u64>,
    pub tty: &'a [u8],
    pub stat: &'a [u8],
    pub start: &'a [u8],
    pub time: &'a [u8],
    /// The rest of the line after the one blank that follows TIME, inner and leading blanks
    /// kept (`ps f` draws its forest with them).
    pub command: &'a [u8],
}

impl<'a> PsRow<'a> {
    /// One line of `ps aux` (trailing blanks already dropped), or `None` when it is not a row:
    /// fewer than ten fields, or a number column that holds neither digits nor `-`.
    pub fn decode(line: &'a [u8]) -> Option<PsRow<'a>> {
        let [
            user,
            pid,
            cpu,
            mem,
            vsz,
            rss,
            tty,
            stat,
            start,
            time,
            command,
        ] = fields(line)?;
        let pid = match dash_or(pid, parse_u64)? {
            Some(pid) => Some(u32::try_from(pid).ok()?),
            None => None,
        };
        Some(PsRow {
            user,
            pid,
            cpu: dash_or(cpu, parse_tenths)?.map(Tenths),
            mem: dash_or(mem, parse_tenths)?.map(Tenths),
            vsz_kib: dash_or(vsz, parse_u64)?,
            rss_kib: dash_or(rss, parse_u64)?,
            tty,
            stat,
            start,
            time,
            command,
        })
    }
}

/// Splits off the first ten fields at blanks; COMMAND is what follows the one blank after
/// TIME, so the leading blanks of `ps f` forest art survive.
fn fields(line: &[u8]) -> Option<[&[u8]; 11]> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let mut fields: [&[u8]; 11] = [&[]; 11];
    let mut rest = line;
    for field in fields.iter_mut().take(10) {
        let start = rest.iter().position(|b| !blank(b))?;
        rest = rest.get(start..)?;
        let len = rest.iter().position(blank).unwrap_or(rest.len());
        *field = rest.get(..len)?;
        rest = rest.get(len..)?;
    }
    fields[10] = rest.get(1..).unwrap_or_default();
    Some(fields)
}

/// `Some(None)` for `-`, `Some(Some(value))` for what `parse` reads, `None` for anything else.
fn dash_or<T>(field: &[u8], parse: fn(&[u8]) -> Option<T>) -> Option<Option<T>> {
    if field == b"-" {
        Some(None)
    } else {
        parse(field).map(Some)
    }
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
    let whole = parse_u64(whole)?;
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let first = frac.first().map_or(0, |d| u64::from(d - b'0'));
    let round_up = frac.get(1).is_some_and(|d| *d >= b'5');
    whole
        .checked_mul(10)?
        .checked_add(first + u64::from(round_up))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PsError {
    Empty,
    /// The header is not procps's; `looks_like` says whose it looks like.
    NotProcps {
        looks_like: &'static str,
        header: Vec<u8>,
    },
}

impl fmt::Display for PsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PsError::Empty => write!(f, "ps printed nothing"),
            PsError::NotProcps { looks_like, header } => write!(
                f,
                "ps output is not procps `ps aux` output ({looks_like}); its header is `{}`, \
                 expected `{}`",
                escape(header),
                COLUMNS.join(" ")
            ),
        }
    }
}

impl std::error::Error for PsError {}

/// Parses a copy of `output`; see [`parse_owned`].
pub fn parse(output: &[u8]) -> Result<PsTable, PsError> {
    parse_owned(output.to_vec())
}

/// Parses ps's output, which the table keeps: its rows are read from it, not copied.
pub fn parse_owned(output: Vec<u8>) -> Result<PsTable, PsError> {
    let (_, header) = numbered_lines(&output).next().ok_or(PsError::Empty)?;
    check_header(output.get(header).unwrap_or_default())?;
    Ok(PsTable::from_output(output))
}

/// The lines that are not blank once their trailing blanks are dropped: (number from 1, where
/// they lie in `output`).
pub(super) fn numbered_lines(
    output: &[u8],
) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
    let mut offset = 0;
    output
        .split(|&b| b == b'\n')
        .enumerate()
        .filter_map(move |(i, line)| {
            let at = offset;
            offset += line.len() + 1;
            let kept = trim_trailing_blanks(line).len();
            (kept > 0).then_some((i + 1, at..at + kept))
        })
}

fn check_header(header: &[u8]) -> Result<(), PsError> {
    let words: Vec<&[u8]> = header
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|w| !w.is_empty())
        .collect();
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
        header: header.to_vec(),
    })
}

#[cfg(test)]
mod tests;
