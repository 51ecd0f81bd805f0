//! One report's evidence, gathered: ps and top run and parsed, the user names ps cut put in
//! whole, and the details of the biggest processes read from `/proc`. Shared by the daemon and
//! `snapshot`; the outputs it starts from are a seam for tests and benchmarks.

use std::path::PathBuf;

use super::{Captured, Interrupted, Outputs, StopRequest, Tools, run_ps_and_top};
use crate::parse::{ps, top};
use crate::proc::{DetailsReader, SystemUsers, UserNames, Users, clock_ticks, expand_cut_names};
use crate::report::{Evidence, Missing, Note};

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
            clock_ticks: clock_ticks(),
        }
    }
}

impl Sources<'_> {
    /// Runs ps and top and reads the details; a stop request interrupts it.
    pub fn gather(&self, stop: Option<&dyn StopRequest>) -> Result<Evidence, Interrupted> {
        let outputs = run_ps_and_top(&self.tools, stop)?;
        Ok(self.evidence_from(outputs))
    }

    /// Everything after the programs ran.
    pub fn evidence_from(&self, outputs: Outputs) -> Evidence {
        let mut notes = Vec::new();
        let mut kept = |program: &'static str, captured: Captured| {
            if let Some(cut) = captured.cut {
                notes.push(Note::Cut {
                    program,
                    limit: cut.limit,
                });
            }
            captured.bytes
        };
        let top: Result<Vec<u8>, _> = outputs.top.map(|c| kept("top", c));
        let ps: Result<Vec<u8>, _> = outputs.ps.map(|c| kept("ps", c));
        let top = match top {
            Ok(bytes) => top::parse(&bytes).map_err(Missing::Top),
            Err(failure) => Err(Missing::Program(failure)),
        };
        let mut ps = match ps {
            Ok(bytes) => ps::parse_owned(bytes).map_err(Missing::Ps),
            Err(failure) => Err(Missing::Program(failure)),
        };
        let users = Users::new(self.users);
        if let Ok(table) = &mut ps {
            expand_cut_names(table, &self.proc_root, &users);
        }
        let details = (self.details > 0).then(|| match &ps {
            Ok(table) => {
                // The ps and top we ran are in the table, as every process is, but have ended.
                let reader = DetailsReader::new(&self.proc_root, &users, self.clock_ticks);
                table
                    .biggest_by_rss(self.details, &outputs.own_pids)
                    .into_iter()
                    .map(|pid| reader.read(pid))
                    .collect()
            }
            Err(_) => Vec::new(),
        });
        Evidence {
            top,
            ps,
            details,
            notes,
        }
    }
}
