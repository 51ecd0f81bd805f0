//! Sampling and deciding, without the sleeping: what the loop does every tick.

use std::path::Path;
use std::time::Instant;

use crate::decide::{Episodes, Event, Rules};
use crate::sample::{MemSample, MeminfoReader};
use crate::say;
use crate::text::escape::escape_path;

pub struct Watch {
    meminfo: MeminfoReader,
    episodes: Episodes,
    origin: Instant,
    sampling_failed: bool,
}

impl Watch {
    /// Opens meminfo and takes a first sample, so an unreadable proc root stops the program at
    /// start.
    pub fn start(proc_root: &Path, rules: Rules) -> Result<(Watch, MemSample), String> {
        let (meminfo, first) = MeminfoReader::open_sampled(proc_root)?;
        let watch = Watch {
            meminfo,
            episodes: Episodes::new(rules),
            origin: Instant::now(),
            sampling_failed: false,
        };
        Ok((watch, first))
    }

    /// One sample and one decision. A failed sample is reported once, not every tick, and
    /// changes nothing: the episode neither ends nor advances on a figure we do not have.
    pub fn tick(&mut self) -> Option<(Event, MemSample)> {
        let now = self.origin.elapsed();
        match self.meminfo.sample() {
            Ok(sample) => {
                if std::mem::take(&mut self.sampling_failed) {
                    say!(
                        "memory-monitor: reading {} works again",
                        escape_path(self.meminfo.path())
                    );
                }
                self.episodes
                    .observe(now, sample.used_percent())
                    .map(|event| (event, sample))
            }
            Err(e) => {
                if !std::mem::replace(&mut self.sampling_failed, true) {
                    say!(
                        "memory-monitor: cannot read {}: {e}; retrying every tick",
                        escape_path(self.meminfo.path())
                    );
                }
                // A fresh descriptor for the next try, in case this one went bad.
                self.meminfo.reopen();
                None
            }
        }
    }
}
