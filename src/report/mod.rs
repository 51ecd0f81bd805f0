//! The model: what one entry of the logs says, as data, before any of it is rendered. Each entry
//! is assembled once, here, and handed to every output (`output`), which renders it its own way.
//! Pure: the wall-clock time comes in with the entry.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};

use crate::decide::ReportDue;
use crate::parse::pressure::Pressure;
use crate::proc::{Grew, TmpfsUse, UnitUse};
use crate::sample::{Breakdown, MemSample, TrendLine};

mod evidence;
mod oom;

pub use evidence::{Ending, Evidence, Missing, Note, ProgramFailure};
pub use oom::{KillUser, Limit, MoreOomKills, OomKill, OomKillsCounted};

/// One entry of incidents.log, and what the other outputs make of it.
#[derive(Debug)]
pub enum Entry {
    /// Boxed: a report is several times the size of the other entries.
    Report(Box<Report>),
    Recovered(Recovered),
    OomKill(OomKill),
    MoreOomKills(MoreOomKills),
    OomKillsCounted(OomKillsCounted),
    PreviousBoot(PreviousBoot),
}

/// A report: the machine at one moment.
#[derive(Debug)]
pub struct Report {
    pub time: DateTime<FixedOffset>,
    pub occasion: Occasion,
    pub memory: MemSample,
    pub context: Context,
    pub evidence: Evidence,
}

/// Why a report was written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Occasion {
    /// The rules said so (`decide`).
    Incident {
        due: ReportDue,
        threshold_percent: f64,
        urgent_percent: Option<f64>,
    },
    /// Asked for on the command line.
    Snapshot,
}

/// How memory got where it is: what a report says before the machine's own view.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    /// The used% of the samples of the last minutes.
    pub trend: Option<TrendLine>,
    /// Who grew since the episode began or was last reported; `None` without a baseline.
    pub growth: Option<Growth>,
    /// Where MemTotal is, from the same meminfo read as the header's figure.
    pub breakdown: Option<Breakdown>,
    /// `None` where the kernel has no PSI, or it cannot be read.
    pub pressure: Option<Pressure>,
    /// The tmpfs and ramfs mounts that hold at least 1 MiB, the most first.
    pub tmpfs: Vec<TmpfsUse>,
    /// Every unit, container or cgroup that holds a process, the most memory first.
    pub units: Vec<UnitUse>,
}

/// The processes that grew most since a baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Growth {
    /// When the baseline was read, by the wall clock.
    pub since: DateTime<FixedOffset>,
    /// How long before the report, by the monotonic clock.
    pub ago: Duration,
    /// Most first; empty when nothing grew.
    pub grew: Vec<Grew>,
}

/// At start in a new boot: the previous boot ended while an episode was open.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviousBoot {
    /// When this was found: the new boot's start.
    pub time: DateTime<FixedOffset>,
    /// How the previous boot's daemon ended: stopped by a signal, or not at all.
    pub ending: BootEnding,
    pub incident: u32,
    /// The episode's first high sample.
    pub high_since: DateTime<FixedOffset>,
    pub last_report: DateTime<FixedOffset>,
    /// Used% in the last entry written.
    pub used_percent: Option<f64>,
    /// What the machine still holds of the end, such as a crash record in pstore, each said in
    /// a few words (escaped).
    pub evidence: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootEnding {
    /// No clean stop was recorded: a power cut, a freeze, a crash.
    Abrupt,
    /// The daemon was stopped (SIGTERM, as at shutdown) during the episode.
    ShutDown,
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
