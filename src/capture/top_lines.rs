//! Keeping, as top's output streams in, only the lines [`top::parse`] reads: the last frame's
//! summary, or before any frame the first non-blank line its error quotes. top prints a row per
//! task in every frame, thousands of them on the machines that have incidents, and none of them
//! is ever used; holding them all would cost memory exactly when it is short.
//!
//! The rules below mirror `top::parse` and must stay in step with it: tests/top_lines.rs gives
//! parse both the whole output and what is kept here, and requires the same result.

use crate::parse::top::{self, FRAME_START, MAX_SUMMARY_LINES};
use crate::text::escape::trim_trailing_blanks;

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
