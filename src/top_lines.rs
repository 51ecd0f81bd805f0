//! Keeping, as top's output streams in, only the lines [`top::parse`] reads: the last frame's
//! summary, or before any frame the first non-blank line its error quotes. top prints a row per
//! task in every frame, thousands of them on the machines that have incidents, and none of them
//! is ever used; holding them all would cost memory exactly when it is short.
//!
//! The rules below mirror `top::parse` and must stay in step with it: the tests feed both the
//! whole output and what is kept here, and require the same result.

use crate::escape::trim_trailing_blanks;
use crate::top::{self, FRAME_START, MAX_SUMMARY_LINES};

#[derive(Debug, Default)]
pub struct TopLines {
    /// Whole lines, each ending in '\n', then the current line's bytes when it may be kept.
    kept: Vec<u8>,
    /// Where the current line starts in `kept`.
    line_start: usize,
    state: State,
    line: Line,
}

#[derive(Clone, Copy, Debug, Default)]
enum State {
    /// No frame and no non-blank line yet: any line may be the one an error quotes.
    #[default]
    Start,
    /// No frame yet; `kept` holds the first non-blank line.
    FirstLine,
    /// `kept` holds this many summary lines of the current frame.
    Summary(usize),
    /// The current frame's summary has ended; only a new frame matters.
    AfterSummary,
}

#[derive(Clone, Copy, Debug, Default)]
enum Line {
    /// Its bytes go to `kept`, as it may be kept whatever follows.
    #[default]
    Kept,
    /// Kept only if it starts a frame; this many bytes of [`FRAME_START`] matched so far, and
    /// nothing is held until all have.
    Prefix(usize),
    /// Cannot be kept: its remaining bytes are dropped as they come.
    Skipped,
}

impl TopLines {
    pub fn push(&mut self, data: &[u8]) {
        let mut pieces = data.split(|&b| b == b'\n');
        if let Some(first) = pieces.next() {
            self.extend_line(first);
        }
        for piece in pieces {
            self.end_line();
            self.extend_line(piece);
        }
    }

    /// At the end of the output: an unterminated last line is a line too, as parse reads it.
    pub fn finish(mut self) -> Vec<u8> {
        self.end_line();
        self.kept
    }

    /// When the output was cut mid-line: the partial line is dropped, as is the whole output's.
    pub fn finish_cut(mut self) -> Vec<u8> {
        self.kept.truncate(self.line_start);
        self.kept
    }

    /// Bytes held now, for tests of the memory this costs.
    pub fn held(&self) -> usize {
        self.kept.capacity()
    }

    fn extend_line(&mut self, bytes: &[u8]) {
        match self.line {
            Line::Kept => self.kept.extend_from_slice(bytes),
            Line::Skipped => {}
            Line::Prefix(matched) => {
                let wanted = FRAME_START.get(matched..).unwrap_or_default();
                let n = wanted.len().min(bytes.len());
                self.line = if bytes.get(..n) != wanted.get(..n) {
                    Line::Skipped
                } else if n == wanted.len() {
                    self.kept.extend_from_slice(FRAME_START);
                    self.kept
                        .extend_from_slice(bytes.get(n..).unwrap_or_default());
                    Line::Kept
                } else {
                    Line::Prefix(matched + n)
                };
            }
        }
    }

    fn end_line(&mut self) {
        let line = self.kept.get(self.line_start..).unwrap_or_default();
        let keep = match (self.line, self.state) {
            (Line::Prefix(_) | Line::Skipped, _) => false,
            (Line::Kept, _) if line.starts_with(FRAME_START) => {
                // A new frame: whatever came before it is never read.
                self.kept.drain(..self.line_start);
                self.state = State::Summary(0);
                true
            }
            (Line::Kept, State::Start) => {
                let blank = trim_trailing_blanks(line).is_empty();
                if !blank {
                    self.state = State::FirstLine;
                }
                !blank
            }
            (Line::Kept, State::Summary(_)) => {
                let ends = top::ends_summary(trim_trailing_blanks(line));
                if ends {
                    self.state = State::AfterSummary;
                }
                !ends
            }
            (Line::Kept, State::FirstLine | State::AfterSummary) => false,
        };
        if keep {
            self.kept.push(b'\n');
            if let State::Summary(n) = self.state {
                self.state = if n + 1 >= MAX_SUMMARY_LINES {
                    State::AfterSummary
                } else {
                    State::Summary(n + 1)
                };
            }
        } else {
            self.kept.truncate(self.line_start);
        }
        self.line_start = self.kept.len();
        self.line = match self.state {
            State::Start | State::Summary(_) => Line::Kept,
            State::FirstLine | State::AfterSummary => Line::Prefix(0),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::parse;

    fn kept(output: &[u8], chunk: usize) -> Vec<u8> {
        let mut lines = TopLines::default();
        for piece in output.chunks(chunk) {
            lines.push(piece);
        }
        lines.finish()
    }

    /// What parse reads of an output that was cut: its whole lines.
    fn whole_lines(output: &[u8]) -> &[u8] {
        let end = output
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        &output[..end]
    }

    fn kept_cut(output: &[u8], chunk: usize) -> Vec<u8> {
        let mut lines = TopLines::default();
        for piece in output.chunks(chunk) {
            lines.push(piece);
        }
        lines.finish_cut()
    }

    fn same_as_whole(output: &[u8]) {
        for chunk in [1, 2, 3, 5, 6, 7, 4096, output.len().max(1)] {
            let kept = kept(output, chunk);
            assert_eq!(
                parse(&kept),
                parse(output),
                "chunk {chunk}: {:?} kept {:?}",
                String::from_utf8_lossy(output),
                String::from_utf8_lossy(&kept)
            );
            for at in 0..=output.len().min(200) {
                let cut = &output[..at];
                assert_eq!(
                    parse(&kept_cut(cut, chunk)),
                    parse(whole_lines(cut)),
                    "chunk {chunk}, cut at {at}"
                );
            }
        }
    }

    #[test]
    fn only_the_last_summary_is_kept() {
        let output = b"top - 1\n%Cpu(s): 1.0 us, 0.0 sy, 0.0 ni, 99.0 id\n\n  PID USER\n    1 root\n\
                       top - 2\n%Cpu(s): 50.0 us, 0.0 sy, 0.0 ni, 50.0 id\nMiB Mem : 1.0 total\n\n  PID USER\n    1 root\n";
        assert_eq!(
            kept(output, 4096),
            b"top - 2\n%Cpu(s): 50.0 us, 0.0 sy, 0.0 ni, 50.0 id\nMiB Mem : 1.0 total\n"
        );
        same_as_whole(output);
    }

    #[test]
    fn before_a_frame_only_the_first_non_blank_line_is_kept() {
        assert_eq!(kept(b"\n \r\t\nMem: 1K\nCPU: 0%\n", 1), b"Mem: 1K\n");
        assert_eq!(kept(b"\n\n \n", 1), b"");
        assert_eq!(kept(b"", 1), b"");
        for output in [
            &b"\n \r\t\nMem: 1K\nCPU: 0%\n"[..],
            b"\n\n \n",
            b"",
            b"\x00\nx",
            b"garbage\ntop - 1\nTasks: 1\n",
            b"top -\ntop  - 1\n\ttop - 2\nxtop - 3\n",
        ] {
            same_as_whole(output);
        }
    }

    #[test]
    fn the_summary_ends_as_parse_decides() {
        for output in [
            &b"top - 1\nTasks: 1\n  PID USER\nTasks: 2\n"[..],
            b"top - 1\nTasks: 1\n  PID\nTasks: 2\n",
            b"top - 1\nTasks: 1\n  PID \r\nTasks: 2\n",
            b"top - 1\nTasks: 1\nPID x\r\nTasks: 2\n",
            b"top - 1\nTasks: 1\n \t\r\nTasks: 2\n",
            b"top - 1\r\nTasks: 1\r\n\r\n",
            b"top - 1\nTasks: 1",
            b"top - 1",
            b"top - ",
            b"top - 1\ntop - 2\ntop - 3\n  PID\ntop - 4 \x00\xff\x1b[2J\n\n",
            b"top - 1\n%Cpu(s): 1.0 us, 0.0 sy, 0.0 ni, 99.0 id\nx top - 2\n",
        ] {
            same_as_whole(output);
        }
    }

    #[test]
    fn a_summary_longer_than_parse_reads_is_cut_as_parse_cuts_it() {
        let mut output = b"top - 1\n".to_vec();
        for i in 0..MAX_SUMMARY_LINES + 10 {
            output.extend_from_slice(format!("Line {i}\n").as_bytes());
        }
        let whole = parse(&output).unwrap();
        assert_eq!(whole.lines.len(), MAX_SUMMARY_LINES);
        let kept_lines = kept(&output, 7);
        assert_eq!(
            kept_lines.split(|&b| b == b'\n').count(),
            MAX_SUMMARY_LINES + 1
        );
        assert_eq!(parse(&kept_lines), Ok(whole));
        output.extend_from_slice(b"top - 2\nTasks: 1\n");
        assert_eq!(kept(&output, 7), b"top - 2\nTasks: 1\n");
    }

    #[test]
    fn two_frames_of_ten_thousand_tasks_keep_under_4_kib() {
        let mut output = Vec::new();
        for frame in 0..2 {
            output.extend_from_slice(
                format!(
                    "top - 10:00:0{frame} up 1 day,  1 user,  load average: 9.00, 9.00, 9.00\n\
                     Tasks: 10000 total,   1 running, 9999 sleeping,   0 stopped,   0 zombie\n\
                     %Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n\
                     MiB Mem :  15950.0 total,    100.0 free,  15000.0 used,    850.0 buff/cache\n\
                     MiB Swap:      0.0 total,      0.0 free,      0.0 used.    200.0 avail Mem\n\
                     \n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n"
                )
                .as_bytes(),
            );
            for pid in 0..10_000 {
                output.extend_from_slice(
                    format!("{pid:>7} root      20   0  171244  12345   8888 S   0.0   0.1   0:01.23 some-daemon --with args\n")
                        .as_bytes(),
                );
            }
        }
        assert!(output.len() > 1 << 20, "{}", output.len());
        let mut lines = TopLines::default();
        let mut most = 0;
        for piece in output.chunks(64 * 1024) {
            lines.push(piece);
            most = most.max(lines.held());
        }
        assert!(most < 4096, "held {most} bytes");
        let kept = lines.finish();
        assert!(kept.len() < 4096);
        assert_eq!(parse(&kept), parse(&output));
        assert!(parse(&kept).unwrap().lines[0].starts_with("top - 10:00:01"));
    }

    #[test]
    fn millions_of_lines_and_long_lines_cost_no_more_than_their_use() {
        // Skipped lines hold nothing, however long: a task row of megabytes costs no memory.
        let mut lines = TopLines::default();
        lines.push(b"top - 1\nTasks: 1\n\n");
        for _ in 0..2_000_000 {
            lines.push(b"    1 root\n");
        }
        lines.push(b"x");
        for _ in 0..1000 {
            lines.push(&[b'y'; 16 * 1024]);
        }
        assert!(lines.held() < 4096, "{}", lines.held());
        assert_eq!(lines.finish(), b"top - 1\nTasks: 1\n");
    }
}
