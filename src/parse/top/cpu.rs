//! The CPU figure of top's summary: 100 − idle, from the all-CPU line or the mean of the
//! per-CPU ones, trusted only when a line's figures add up to 100 as top's always do. Read by a
//! small scanner rather than a regex: the regex engine was 1.2 MB of a 2 MB binary, and as much
//! resident memory after every incident.

use std::fmt;

use crate::text::escape::escape;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CpuUnreadable {
    NoCpuLine,
    /// A CPU line was there but its figures did not read as percentages adding up to 100.
    Unclear(Vec<u8>),
}

impl fmt::Display for CpuUnreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuUnreadable::NoCpuLine => write!(f, "top's summary has no CPU line"),
            CpuUnreadable::Unclear(line) => {
                write!(f, "top's CPU line could not be read: `{}`", escape(line))
            }
        }
    }
}

/// What precedes the first ':' of a summary line, e.g. `%Cpu(s)`, `Cpu0  `, `MiB Mem `.
fn label(line: &[u8]) -> Option<&[u8]> {
    line.get(..line.iter().position(|&b| b == b':')?)
}

#[derive(PartialEq)]
enum CpuLine {
    All,
    One,
}

fn cpu_line_kind(line: &[u8]) -> Option<CpuLine> {
    let label = String::from_utf8_lossy(label(line)?)
        .trim()
        .to_ascii_lowercase();
    let name = label.strip_prefix('%').unwrap_or(&label);
    let number = name.strip_prefix("cpu")?;
    if number == "(s)" {
        Some(CpuLine::All)
    } else if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        Some(CpuLine::One)
    } else {
        None
    }
}

/// 100 − idle, from the all-CPU line, else the mean of the per-CPU lines (top prints only those
/// when its `1` toggle was saved in a toprc).
pub(super) fn cpu_busy(summary: &[&[u8]]) -> Result<f64, CpuUnreadable> {
    if let Some(all) = summary
        .iter()
        .find(|l| cpu_line_kind(l) == Some(CpuLine::All))
    {
        return idle_percent(all).map(|idle| 100.0 - idle);
    }
    let per_cpu: Vec<&&[u8]> = summary
        .iter()
        .filter(|l| cpu_line_kind(l) == Some(CpuLine::One))
        .collect();
    if per_cpu.is_empty() {
        return Err(CpuUnreadable::NoCpuLine);
    }
    let mut idle_sum = 0.0;
    for line in &per_cpu {
        idle_sum += idle_percent(line)?;
    }
    Ok(100.0 - idle_sum / per_cpu.len() as f64)
}

/// procps 3.2 prints four figures (us sy ni id), later ones eight (… wa hi si st). More would
/// let a line of many `0.0`s round its way to 100 and pass the check below.
const MIN_FIGURES: u32 = 4;
const MAX_FIGURES: u32 = 10;

/// The idle figure of a CPU line, trusted only when the line's figures add up to 100 as top's
/// always do (each rounded to a tenth), so a misread decimal comma can never pass for a value.
fn idle_percent(line: &[u8]) -> Result<f64, CpuUnreadable> {
    let unclear = || CpuUnreadable::Unclear(line.to_vec());
    let colon = line.iter().position(|&b| b == b':').ok_or_else(unclear)?;
    let mut idle = None;
    let mut sum_tenths = 0u32;
    let mut figures = 0u32;
    let figures_of_line = Figures {
        text: line.get(colon + 1..).unwrap_or_default(),
        at: 0,
    };
    for (tenths, label) in figures_of_line {
        if label == *b"id" {
            if idle.is_some() {
                return Err(unclear());
            }
            idle = Some(tenths);
        }
        // Saturating: a line of megabytes of figures overflowed the sum, which could wrap to 100.
        sum_tenths = sum_tenths.saturating_add(tenths);
        figures = figures.saturating_add(1);
    }
    let idle = idle.ok_or_else(unclear)?;
    // Each figure is rounded to a tenth, so their sum is within half a tenth per figure of 100.
    let off_by = sum_tenths.abs_diff(1000);
    if !(MIN_FIGURES..=MAX_FIGURES).contains(&figures)
        || off_by.saturating_mul(2) > figures
        || idle > 1000
    {
        return Err(unclear());
    }
    Ok(f64::from(idle) / 10.0)
}

/// The figures of a CPU line: `5.9 us`, `88,2 id` (localised), `97.8%id` (procps 3.2),
/// `,100.0 id` (procps 4, no blank): a number of at most three digits and one decimal, after a
/// blank, comma or colon, then a two-letter label. Yields (tenths, label).
struct Figures<'a> {
    text: &'a [u8],
    at: usize,
}

impl Iterator for Figures<'_> {
    type Item = (u32, [u8; 2]);

    fn next(&mut self) -> Option<(u32, [u8; 2])> {
        while self.at < self.text.len() {
            let start = self.at;
            self.at += 1;
            let at_boundary =
                start == 0 || matches!(self.text.get(start - 1), Some(b' ' | b'\t' | b',' | b':'));
            if at_boundary && let Some((figure, end)) = figure_at(self.text, start) {
                self.at = end;
                return Some(figure);
            }
        }
        None
    }
}

/// Reads one figure starting at `start`, returning it and where it ends.
fn figure_at(text: &[u8], start: usize) -> Option<((u32, [u8; 2]), usize)> {
    let byte = |i: usize| text.get(i).copied();
    let mut i = start;
    let mut whole = 0u32;
    while let Some(d) = byte(i).filter(u8::is_ascii_digit) {
        whole = whole * 10 + u32::from(d - b'0');
        i += 1;
        if i - start > 3 {
            return None;
        }
    }
    if i == start {
        return None;
    }
    let mut tenth = 0;
    if let (Some(b'.' | b','), Some(d)) = (byte(i), byte(i + 1).filter(u8::is_ascii_digit)) {
        tenth = u32::from(d - b'0');
        i += 2;
    }
    let skip_blanks = |mut i: usize| {
        while byte(i) == Some(b' ') {
            i += 1;
        }
        i
    };
    i = skip_blanks(i);
    if byte(i) == Some(b'%') {
        i = skip_blanks(i + 1);
    }
    let (a, b) = (byte(i)?, byte(i + 1)?);
    let ends_word = !byte(i + 2).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
    (a.is_ascii_lowercase() && b.is_ascii_lowercase() && ends_word)
        .then_some(((whole * 10 + tenth, [a, b]), i + 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::top::parse;

    fn busy(text: &str) -> Result<f64, CpuUnreadable> {
        parse(text.as_bytes()).unwrap().cpu_busy
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn reads_the_cpu_line_of_each_procps_generation() {
        let v33 = "top - 1\n%Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n";
        assert!(close(busy(v33).unwrap(), 11.8));
        let v4 = "top - 1\n%Cpu(s):  0.0 us,  0.0 sy,  0.0 ni,100.0 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st \n";
        assert!(close(busy(v4).unwrap(), 0.0));
        let v4_busy = "top - 1\n%Cpu(s):100.0 us,  0.0 sy,  0.0 ni,  0.0 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n";
        assert!(close(busy(v4_busy).unwrap(), 100.0));
        let v32 = "top - 1\nCpu(s):  1.3%us,  0.7%sy,  0.0%ni, 97.8%id,  0.2%wa,  0.0%hi,  0.0%si,  0.0%st\n";
        assert!(close(busy(v32).unwrap(), 2.2));
    }

    #[test]
    fn localised_decimal_commas_read_correctly() {
        let de = "top - 1\n%Cpu(s):  5,9 us,  5,9 sy,  0,0 ni, 88,2 id,  0,0 wa,  0,0 hi,  0,0 si,  0,0 st\n";
        assert!(close(busy(de).unwrap(), 11.8));
        let de_full = "top - 1\n%Cpu(s):  0,0 us,  0,0 sy,  0,0 ni,100,0 id,  0,0 wa,  0,0 hi,  0,0 si,  0,0 st\n";
        assert!(close(busy(de_full).unwrap(), 0.0));
    }

    #[test]
    fn ambiguous_or_translated_lines_are_unreadable_never_misread() {
        // Translated labels: no `id`.
        assert!(matches!(
            busy("top - 1\n%CPU(s):  2,3 be,  0,8 sy,  0,0 ni, 96,9 in,  0,0 wa\n"),
            Err(CpuUnreadable::Unclear(_))
        ));
        // Figures that do not add up to 100.
        assert!(busy("top - 1\n%Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 50.2 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n").is_err());
        // Bar graph mode of the `t` toggle.
        assert!(busy("top - 1\n%Cpu(s):  2.0/1.0     3[|||                ]\n").is_err());
        // busybox
        assert!(
            busy("top - 1\nCPU:   0.0% usr   0.0% sys   0.0% nic 100.0% idle   0.0% io\n").is_err()
        );
    }

    #[test]
    fn the_scanner_takes_only_whole_figures() {
        let figures = |t: &str| {
            Figures {
                text: t.as_bytes(),
                at: 0,
            }
            .collect::<Vec<_>>()
        };
        assert_eq!(
            figures(" 5.9 us,100.0 id"),
            vec![(59, *b"us"), (1000, *b"id")]
        );
        assert_eq!(
            figures("97.8%id, 0,2 % wa"),
            vec![(978, *b"id"), (2, *b"wa")]
        );
        assert_eq!(
            figures("1000.0 id"),
            vec![],
            "four digits are not a percentage"
        );
        assert_eq!(
            figures("x5.0 id"),
            vec![],
            "a figure starts after a blank, comma or colon"
        );
        assert_eq!(figures(" 5.0 idle"), vec![], "two-letter labels only");
        assert_eq!(figures(" 5.0 i"), vec![]);
        assert_eq!(figures(" 5. us"), vec![], "a decimal point needs its digit");
        assert_eq!(figures(""), vec![]);
    }

    #[test]
    fn a_line_of_many_zero_figures_is_unclear_not_100_percent_busy() {
        let mut line = String::from("top - 1\n%Cpu(s):");
        for _ in 0..2000 {
            line.push_str("  0.0 us,");
        }
        line.push_str("  0.0 id\n");
        assert!(matches!(busy(&line), Err(CpuUnreadable::Unclear(_))));
        // Eight figures, as procps 4 prints them, still read.
        let eight = "top - 1\n%Cpu(s):  1.0 us,  1.0 sy,  0.0 ni, 97.0 id,  1.0 wa,  0.0 hi,  0.0 si,  0.0 st\n";
        assert!(close(busy(eight).unwrap(), 3.0));
    }

    #[test]
    fn a_line_with_two_idle_figures_is_unclear() {
        assert!(busy("top - 1\n%Cpu(s): 50.0 id, 50.0 id,  0.0 us,  0.0 sy\n").is_err());
    }

    #[test]
    fn per_cpu_lines_are_averaged() {
        let text = "top - 1\n%Cpu0  :  0.0 us,  0.0 sy,  0.0 ni,100.0 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n%Cpu1  : 50.0 us,  0.0 sy,  0.0 ni, 50.0 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n";
        assert!(close(busy(text).unwrap(), 25.0));
    }

    #[test]
    fn a_line_of_a_million_figures_is_unclear_not_an_overflow() {
        // Its figures sum to 2^32 + 1000 tenths: a u32 sum panicked in a debug build and wrapped
        // to exactly 100.0 in a release one, so the line read as 100% busy.
        let mut output = b"top - 1\n%Cpu(s):".to_vec();
        output.extend_from_slice(&b"999.9us,".repeat(429_539));
        output.extend_from_slice(b"783.5sy,  0.0 id\n");
        assert!(matches!(
            parse(&output).unwrap().cpu_busy,
            Err(CpuUnreadable::Unclear(_))
        ));
    }

    #[test]
    fn no_cpu_line_is_reported_as_such() {
        assert_eq!(
            busy("top - x\nTasks: 1 total\n"),
            Err(CpuUnreadable::NoCpuLine)
        );
    }
}
