//! One incident's evidence: run ps and top, parse them, put full user names in, and read the
//! details of the biggest processes. Shared by the daemon and `snapshot`.

use std::path::PathBuf;

use crate::capture::{self, Captured, Interrupted, Outputs, Tools};
use crate::daemon::signals::Signals;
use crate::parse::ps::PsTable;
use crate::parse::top::TopSummary;
use crate::proc::details::{ProcDetails, ProcSource, system_clock_ticks};
use crate::proc::users::{self, SystemUsers, UserNames};

/// Where the evidence comes from.
pub struct Sources<'a> {
    pub tools: Tools,
    pub proc_root: PathBuf,
    /// How many of the biggest processes get details.
    pub details: usize,
    pub users: &'a dyn UserNames,
    pub clock_ticks: u64,
}

impl Sources<'static> {
    /// This machine's passwd database and clock ticks.
    pub fn of_this_system(tools: Tools, proc_root: PathBuf, details: usize) -> Sources<'static> {
        Sources {
            tools,
            proc_root,
            details,
            users: &SystemUsers,
            clock_ticks: system_clock_ticks(),
        }
    }
}

#[derive(Debug)]
pub struct Incident {
    pub top: Result<TopSummary, String>,
    pub ps: Result<PsTable, String>,
    /// The processes with the most resident memory, biggest first.
    pub details: Vec<ProcDetails>,
    /// What the reader must know to read the rest right (an output that was cut short).
    pub notes: Vec<String>,
}

impl Incident {
    pub fn cpu_busy(&self) -> Option<f64> {
        self.top
            .as_ref()
            .ok()
            .and_then(|summary| summary.cpu_busy.as_ref().ok().copied())
    }

    /// Why the header says `CPU n/a`, if it does.
    pub fn cpu_problem(&self) -> Option<String> {
        match &self.top {
            Ok(summary) => summary.cpu_busy.as_ref().err().map(ToString::to_string),
            Err(why) => Some(why.clone()),
        }
    }
}

/// Runs ps and top and reads the details; a stop signal interrupts it.
pub fn collect(sources: &Sources, stop: Option<&Signals>) -> Result<Incident, Interrupted> {
    let outputs = capture::run_ps_and_top(&sources.tools, stop)?;
    Ok(from_outputs(outputs, sources))
}

/// Everything after the programs ran; separate so tests can feed recorded outputs.
pub fn from_outputs(outputs: Outputs, sources: &Sources) -> Incident {
    let own_pids = outputs.own_pids;
    let mut notes = Vec::new();
    let mut cut_noted = |program: &str, captured: Captured| {
        if let Some(cut) = captured.cut {
            notes.push(capture::cut_note(program, cut));
        }
        captured.bytes
    };
    let top = outputs.top.map(|c| cut_noted("top", c));
    let ps = outputs.ps.map(|c| cut_noted("ps", c));
    let top = top.and_then(|bytes| crate::parse::top::parse(&bytes).map_err(|e| e.to_string()));
    let mut ps = ps.and_then(|bytes| crate::parse::ps::parse(&bytes).map_err(|e| e.to_string()));
    if let Ok(table) = &mut ps {
        users::expand_cut_names(table, &sources.proc_root, sources.users);
    }
    let details = match &ps {
        Ok(table) => details_of(table, sources.details, &own_pids, sources),
        Err(_) => Vec::new(),
    };
    Incident {
        top,
        ps,
        details,
        notes,
    }
}

/// The `/proc` details of the `n` processes with the most RSS, leaving out `skip`.
pub fn details_of(table: &PsTable, n: usize, skip: &[u32], sources: &Sources) -> Vec<ProcDetails> {
    let source = ProcSource::new(&sources.proc_root, sources.users, sources.clock_ticks);
    biggest_by_rss(table, n, skip)
        .into_iter()
        .map(|pid| source.read(pid))
        .collect()
}

/// PIDs of the `n` processes with the most RSS (ties: lowest PID first), leaving out `skip`.
pub fn biggest_by_rss(table: &PsTable, n: usize, skip: &[u32]) -> Vec<u32> {
    let mut sized: Vec<(u64, u32)> = table
        .processes()
        .filter_map(|p| Some((p.row().rss_kib().unwrap_or(0), p.row().pid()?)))
        .filter(|(_, pid)| !skip.contains(pid))
        .collect();
    sized.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    sized.into_iter().take(n).map(|(_, pid)| pid).collect()
}
