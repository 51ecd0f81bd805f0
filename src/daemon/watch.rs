//! Sampling and deciding, without the sleeping: what the loop does every tick, and the recent
//! samples a report looks back on.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::decide::{Episodes, Event, ReportDue, Rules};
use crate::sample::{MemSample, MeminfoReader, Trend, TrendLine};
use crate::say;
use crate::text::escape::escape_path;

pub struct Watch {
    meminfo: MeminfoReader,
    episodes: Episodes,
    trend: Trend,
    origin: Instant,
    sampling_failed: bool,
}

impl Watch {
    /// Opens meminfo and takes a first sample, so an unreadable proc root stops the program at
    /// start.
    pub fn start(
        proc_root: &Path,
        rules: Rules,
        interval: Duration,
    ) -> Result<(Watch, MemSample), String> {
        let (meminfo, first) = MeminfoReader::open_sampled(proc_root)?;
        let mut watch = Watch {
            meminfo,
            episodes: Episodes::new(rules),
            trend: Trend::new(interval),
            origin: Instant::now(),
            sampling_failed: false,
        };
        watch.trend.push(Duration::ZERO, first.used_percent());
        Ok((watch, first))
    }

    /// Since the watch started, on the monotonic clock.
    pub fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// One sample, kept for the trend. A failed sample is reported once, not every tick, and
    /// changes nothing.
    pub fn sample(&mut self) -> Option<MemSample> {
        match self.meminfo.sample() {
            Ok(sample) => {
                if std::mem::take(&mut self.sampling_failed) {
                    say!(
                        "memory-monitor: reading {} works again",
                        escape_path(self.meminfo.path())
                    );
                }
                self.trend.push(self.now(), sample.used_percent());
                Some(sample)
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

    /// The decision on a sample just taken: the episode neither ends nor advances on a figure
    /// we do not have.
    pub fn decide(&mut self, sample: &MemSample) -> Option<Event> {
        let now = self.now();
        self.episodes.observe(now, sample.used_percent())
    }

    /// A report after an OOM kill, now.
    pub fn oom_kill(&mut self) -> ReportDue {
        let now = self.now();
        self.episodes.oom_kill(now)
    }

    pub fn is_high(&self) -> bool {
        self.episodes.is_high()
    }

    /// The recent samples for a report now.
    pub fn trend_line(&self) -> Option<TrendLine> {
        let now = self.now();
        self.trend.line(now, now)
    }
}
