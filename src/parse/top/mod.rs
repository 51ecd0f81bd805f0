//! Reading top's batch output: the summary lines of the last frame, kept for context, and the
//! CPU figure (100 − idle) from that frame ([`cpu`]). Parsed by label, not position, so procps
//! 3.2 to 4.x, per-CPU lines and localised decimals are read correctly or reported as
//! unreadable.

use std::fmt;

use crate::text::escape::{escape, trim_trailing_blanks};

mod cpu;

pub use cpu::CpuUnreadable;
use cpu::cpu_busy;

#[derive(Clone, Debug, PartialEq)]
pub struct TopSummary {
    /// The last frame's summary lines as top printed them, trailing blanks removed.
    pub lines: Vec<Vec<u8>>,
    /// Percentage of CPU busy over top's delay, or why it is not known.
    pub cpu_busy: Result<f64, CpuUnreadable>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopError {
    Empty,
    NoFrame { first_line: Vec<u8> },
}

impl fmt::Display for TopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopError::Empty => write!(f, "top printed nothing"),
            TopError::NoFrame { first_line } => write!(
                f,
                "top's output is not procps `top -b` output (no `top -` summary line; it starts with `{}`)",
                escape(first_line)
            ),
        }
    }
}

impl std::error::Error for TopError {}

/// The most summary lines kept: five, plus one per CPU when top shows each (its `1` toggle).
/// Anything longer is not a summary, and must not cost memory in proportion to its length.
pub const MAX_SUMMARY_LINES: usize = 1024;

/// How every frame of top's batch output begins.
pub(crate) const FRAME_START: &[u8] = b"top - ";

pub fn parse(output: &[u8]) -> Result<TopSummary, TopError> {
    // Found by scanning, not by collecting the lines: a top printing millions of them must not
    // cost millions of entries.
    let mut frame_start = None;
    let mut first_line = None;
    let mut at = 0;
    for line in output.split(|&b| b == b'\n') {
        if line.starts_with(FRAME_START) {
            frame_start = Some(at);
        } else if first_line.is_none() && !trim_trailing_blanks(line).is_empty() {
            first_line = Some(line);
        }
        at += line.len() + 1;
    }
    let Some(frame) = frame_start.and_then(|start| output.get(start..)) else {
        let first_line = first_line
            .map(trim_trailing_blanks)
            .ok_or(TopError::Empty)?;
        return Err(TopError::NoFrame {
            first_line: first_line.to_vec(),
        });
    };
    let summary: Vec<&[u8]> = frame
        .split(|&b| b == b'\n')
        .map(trim_trailing_blanks)
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !ends_summary(l))
        .take(MAX_SUMMARY_LINES)
        .map(|(_, l)| l)
        .collect();
    Ok(TopSummary {
        lines: summary.iter().map(|l| l.to_vec()).collect(),
        cpu_busy: cpu_busy(&summary),
    })
}

/// Whether a line (trailing blanks trimmed) that follows a frame's first line ends its summary.
pub(crate) fn ends_summary(line: &[u8]) -> bool {
    line.is_empty() || is_task_header(line)
}

fn is_task_header(line: &[u8]) -> bool {
    let trimmed = line
        .iter()
        .position(|&b| b != b' ')
        .and_then(|i| line.get(i..))
        .unwrap_or_default();
    trimmed.starts_with(b"PID ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_frame_is_used() {
        let text = "top - 10:00:00 up 1 min\n%Cpu(s):  0.0 us,  0.0 sy,  0.0 ni,100.0 id\n\n  PID USER\n    1 root\n\
                    top - 10:00:01 up 1 min\n%Cpu(s): 30.0 us, 20.0 sy,  0.0 ni, 50.0 id\nMiB Mem :   100.0 total\n\n  PID USER\n    1 root\n";
        let s = parse(text.as_bytes()).unwrap();
        assert!((s.cpu_busy.unwrap() - 50.0).abs() < 1e-9);
        assert_eq!(
            s.lines,
            vec![
                &b"top - 10:00:01 up 1 min"[..],
                b"%Cpu(s): 30.0 us, 20.0 sy,  0.0 ni, 50.0 id",
                b"MiB Mem :   100.0 total"
            ]
        );
    }

    #[test]
    fn summary_ends_at_the_task_header_even_without_a_blank_line() {
        let text = "top - x\nTasks: 1 total\nMiB Swap:   0.0 total\n    PID USER      PR\n163819 root      20";
        assert_eq!(
            parse(text.as_bytes()).unwrap().lines,
            vec![&b"top - x"[..], b"Tasks: 1 total", b"MiB Swap:   0.0 total"]
        );
    }

    #[test]
    fn not_top_is_an_error() {
        assert_eq!(parse(b""), Err(TopError::Empty));
        assert_eq!(parse(b"\n\n"), Err(TopError::Empty));
        let err = parse(b"Mem: 1K used\nCPU: 0% usr\n").unwrap_err();
        assert!(err.to_string().contains("`Mem: 1K used`"), "{err}");
    }

    #[test]
    fn millions_of_lines_cost_no_memory_per_line() {
        let mut text = b"top - 1\n%Cpu(s): 1.0 us, 0.0 sy, 0.0 ni, 99.0 id\n".to_vec();
        text.extend(
            std::iter::repeat_n(b'x', 10)
                .chain([b'\n'])
                .cycle()
                .take(11 << 20),
        );
        let s = parse(&text).unwrap();
        assert_eq!(s.lines.len(), MAX_SUMMARY_LINES);
        let blank = [b"top - 1\n".as_slice(), &vec![b'\n'; 16 << 20]].concat();
        assert_eq!(parse(&blank).unwrap().lines, vec![b"top - 1"]);
        assert_eq!(parse(&vec![b'\n'; 16 << 20]), Err(TopError::Empty));
    }

    #[test]
    fn summary_lines_are_kept_raw_and_errors_show_them_escaped() {
        let s = parse(b"top - 1 \x1b[2J up\n%Cpu(s): 1.0 us, 0.0 sy, 0.0 ni, 99.0 id\n").unwrap();
        assert_eq!(s.lines[0], b"top - 1 \x1b[2J up");
        let unclear = CpuUnreadable::Unclear(b"%Cpu(s): \x1b[2J".to_vec());
        assert_eq!(
            unclear.to_string(),
            "top's CPU line could not be read: `%Cpu(s): \\x1b[2J`"
        );
    }
}
