//! The one writer of the state file: what the daemon remembers is updated here, on events
//! only (a kill written, a report, a recovery, a stop during an episode, a start that finds
//! something to correct), and each change is saved at once.

use std::path::Path;

use chrono::{DateTime, FixedOffset};

use super::state::{KillsRecorded, OpenEpisode, State, StateFile};
use crate::capture::pstore::crash_records;
use crate::capture::{boot_id, init_start};
use crate::report::PreviousBoot;
use crate::say;
use crate::text::escape::escape_path;

pub struct StateKeeper {
    file: StateFile,
    state: State,
}

impl StateKeeper {
    /// Reads the state at start, in the boot `<proc-root>` says, at `now`. Returns the entry
    /// that says how the previous boot ended, when it ended during an episode. A state file
    /// that cannot be read or is damaged is said once and replaced.
    pub fn start(
        log_dir: &Path,
        proc_root: &Path,
        sys_root: &Path,
        now: DateTime<FixedOffset>,
    ) -> (StateKeeper, Option<PreviousBoot>) {
        let file = StateFile::in_dir(log_dir);
        let (found, damaged) = match file.load() {
            Ok(read) => {
                if read.damaged {
                    say!(
                        Warning,
                        "memory-monitor: {} is damaged (a write cut short?); what it still says is kept, and it is written anew",
                        escape_path(file.path())
                    );
                }
                (read.state, read.damaged)
            }
            Err(e) => {
                say!(
                    Warning,
                    "memory-monitor: cannot read {}: {e}; starting without it, so kills still in the kernel's log may be written again, and how the last boot ended is not known",
                    escape_path(file.path())
                );
                (State::default(), false)
            }
        };
        let boot = boot_id(proc_root);
        let init = init_start(proc_root);
        let previous = found.previous_boot(boot.as_deref(), init, now, crash_records(sys_root));
        // What this run must not inherit: an episode of an earlier run ended with it, and so
        // did its clean stop.
        let stale = found.episode.is_some()
            || found.stopped_cleanly
            || found.same_boot(boot.as_deref(), init) == Some(false);
        let mut state = found.of_boot(boot.as_deref());
        state.init_start = init;
        state.episode = None;
        state.stopped_cleanly = false;
        let mut keeper = StateKeeper { file, state };
        if damaged || stale {
            keeper.save();
        }
        (keeper, previous)
    }

    pub fn kills(&self) -> KillsRecorded {
        self.state.kills()
    }

    pub fn kills_written(&mut self, kills: KillsRecorded) {
        self.state.set_kills(kills);
        self.save();
    }

    /// A report of episode `incident`, high since `high_since`, written at `time`.
    pub fn reported(
        &mut self,
        incident: u32,
        high_since: DateTime<FixedOffset>,
        time: DateTime<FixedOffset>,
        used_percent: f64,
    ) {
        // The first high sample is the episode's, whatever a later report measures.
        let high_since = match &self.state.episode {
            Some(open) if open.incident == incident => open.high_since,
            _ => high_since,
        };
        self.state.episode = Some(OpenEpisode {
            incident,
            high_since,
            last_report: time,
        });
        self.state.last_used_percent = Some(used_percent);
        self.save();
    }

    pub fn recovered(&mut self, used_percent: f64) {
        self.state.episode = None;
        self.state.last_used_percent = Some(used_percent);
        self.save();
    }

    /// Stopped by a signal: remembered only during an episode, the one case the next boot
    /// says something about.
    pub fn stopped(&mut self) {
        if self.state.episode.is_some() {
            self.state.stopped_cleanly = true;
            self.save();
        }
    }

    fn save(&mut self) {
        if let Err(e) = self.file.save(&self.state) {
            say!(
                Error,
                "memory-monitor: cannot write {}: {e}; a restart may write the same kills again, and the next boot may not know how this one ended",
                escape_path(self.file.path())
            );
        }
    }
}
