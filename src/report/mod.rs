//! The model: what one entry of the logs says, as data, before any of it is rendered. Each entry
//! is assembled once, here, and handed to every output (`output`), which renders it its own way.
//! Pure: the wall-clock time comes in with the entry.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};

use crate::decide::ReportDue;
use crate::parse::ps::{PsError, PsTable};
use crate::parse::top::{TopError, TopSummary};
use crate::proc::ProcDetails;
use crate::sample::MemSample;
use crate::text::duration::format_duration;
use crate::text::escape::escape;
use crate::text::size::format_kib;

/// One entry of incidents.log, and what the other outputs make of it.
#[derive(Debug)]
pub enum Entry {
    /// Boxed: a report is several times the size of the other entries.
    Report(Box<Report>),
    Recovered(Recovered),
}

/// A report: the machine at one moment.
#[derive(Debug)]
pub struct Report {
    pub time: DateTime<FixedOffset>,
    pub occasion: Occasion,
    pub memory: MemSample,
    pub evidence: Evidence,
}

/// Why a report was written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Occasion {
    /// The rules said so (`decide`).
    Incident {
        due: ReportDue,
        threshold_percent: f64,
    },
    /// Asked for on the command line.
    Snapshot,
}

/// The end of an episode that was reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recovered {
    pub time: DateTime<FixedOffset>,
    pub incident: u32,
    pub memory: MemSample,
    /// From the episode's first high sample to the sample that ended it.
    pub high_for: Duration,
}

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

impl Report {
    /// The episode's number; `None` for a snapshot.
    pub fn incident(&self) -> Option<u32> {
        match self.occasion {
            Occasion::Incident { due, .. } => Some(due.incident),
            Occasion::Snapshot => None,
        }
    }

    /// The first report of an episode begins a new section of the logs.
    pub fn starts_episode(&self) -> bool {
        matches!(self.occasion, Occasion::Incident { due, .. } if due.starts_episode())
    }

    /// Percentage of CPU busy over top's interval, if top said.
    pub fn cpu_busy(&self) -> Option<f64> {
        self.evidence
            .top
            .as_ref()
            .ok()
            .and_then(|summary| summary.cpu_busy.as_ref().ok().copied())
    }

    /// Why the header says `CPU n/a`, if it does.
    pub fn cpu_problem(&self) -> Option<String> {
        match &self.evidence.top {
            Ok(summary) => summary.cpu_busy.as_ref().err().map(ToString::to_string),
            Err(why) => Some(why.to_string()),
        }
    }
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
