//! What ps, top and `/proc` said at the time of a report, and why a part of it is missing.

use std::fmt;
use std::time::Duration;

use crate::parse::ps::{PsError, PsTable};
use crate::parse::top::{TopError, TopSummary};
use crate::proc::ProcDetails;
use crate::text::duration::format_duration;
use crate::text::escape::escape;
use crate::text::size::format_kib;

/// What ps, top and `/proc` said at the time of a report.
#[derive(Debug)]
pub struct Evidence {
    pub top: Result<TopSummary, Missing>,
    pub ps: Result<PsTable, Missing>,
    /// The biggest processes by RSS, biggest first; `None` when none were asked for.
    pub details: Option<Vec<ProcDetails>>,
    /// What the reader must know to read the rest right (an output that was cut short).
    pub notes: Vec<Note>,
}

/// Why part of a report is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Missing {
    Program(ProgramFailure),
    Ps(PsError),
    Top(TopError),
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Program(failure) => failure.fmt(f),
            Missing::Ps(e) => e.fmt(f),
            Missing::Top(e) => e.fmt(f),
        }
    }
}

/// How running ps or top failed. `program` is `ps` or `top`; `path` what was run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramFailure {
    NotFound {
        program: &'static str,
        path: Vec<u8>,
    },
    CannotStart {
        program: &'static str,
        path: Vec<u8>,
        error: String,
    },
    TimedOut {
        program: &'static str,
        after: Duration,
    },
    /// It ended other than with status 0; `stderr` is the first line it printed there, if any.
    Failed {
        program: &'static str,
        how: Ending,
        stderr: Vec<u8>,
    },
    CannotWait {
        program: &'static str,
        error: String,
    },
    NoResult {
        program: &'static str,
    },
}

/// How a program that failed ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    Status(i32),
    Signal(i32),
    /// Neither, as std words the status.
    Other(String),
}

impl fmt::Display for ProgramFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProgramFailure::NotFound { program, path } => {
                write!(f, "{program} not found ({})", escape(path))
            }
            ProgramFailure::CannotStart {
                program,
                path,
                error,
            } => write!(
                f,
                "{program} could not be started ({}): {}",
                escape(path),
                escape(error.as_bytes())
            ),
            ProgramFailure::TimedOut { program, after } => write!(
                f,
                "{program} timed out after {} and was killed",
                format_duration(*after)
            ),
            ProgramFailure::Failed {
                program,
                how,
                stderr,
            } => {
                match how {
                    Ending::Status(code) => write!(f, "{program} exited with status {code}")?,
                    Ending::Signal(signal) => write!(f, "{program} was killed by signal {signal}")?,
                    Ending::Other(status) => write!(f, "{program} failed ({status})")?,
                }
                if stderr.is_empty() {
                    Ok(())
                } else {
                    write!(f, ": {}", escape(stderr))
                }
            }
            ProgramFailure::CannotWait { program, error } => write!(
                f,
                "{program} could not be waited for: {}",
                escape(error.as_bytes())
            ),
            ProgramFailure::NoResult { program } => write!(f, "{program} gave no result"),
        }
    }
}

/// Something a reader must know to read a report right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The program printed more than `limit` bytes; only the whole lines before that were read.
    Cut { program: &'static str, limit: usize },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Cut { program, limit } => write!(
                f,
                "{program} printed more than {}; only the lines before that were read",
                format_kib(u64::try_from(limit / 1024).unwrap_or(u64::MAX))
            ),
        }
    }
}
