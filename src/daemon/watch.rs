//! Sampling and deciding, without the sleeping: what the loop does every tick, and the recent
//! samples a report looks back on.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::decide::{Episodes, Event, ReportDue, Rules};
use crate::proc::CgroupScope;
use crate::sample::{
    Breakdown, CgroupMemoryReader, MemSample, MeminfoReader, Trend, TrendLine, parse_breakdown,
};
use crate::say;
use crate::text::escape::escape_path;

pub struct Watch {
    meminfo: MeminfoReader,
    /// Sampled instead of meminfo when memory is a cgroup's against its limit.
    cgroup: Option<CgroupMemoryReader>,
    episodes: Episodes,
    trend: Trend,
    /// When the last sample was taken: a report's trend ends there, however long the tick
    /// took between that sample and the report.
    last_sample_at: Duration,
    origin: Instant,
    sampling_failed: bool,
}

impl Watch {
    /// Opens meminfo (and the cgroup's files, in that scope) and takes a first sample, so an
    /// unreadable proc root or cgroup stops the program at start.
    pub fn start(
        proc_root: &Path,
        scope: Option<&CgroupScope>,
        rules: Rules,
        interval: Duration,
    ) -> Result<(Watch, MemSample), String> {
        let (meminfo, mut first) = MeminfoReader::open_sampled(proc_root)?;
        let cgroup = match scope {
            None => None,
            Some(scope) => {
                let cannot = |e: &dyn std::fmt::Display| {
                    format!(
                        "cannot read {}: {e}; use --memory-scope host to watch the machine's RAM instead",
                        escape_path(&scope.usage)
                    )
                };
                let mut reader =
                    CgroupMemoryReader::open(&scope.usage, &scope.limit).map_err(|e| cannot(&e))?;
                first = reader.sample().map_err(|e| cannot(&e))?;
                Some(reader)
            }
        };
        let mut watch = Watch {
            meminfo,
            cgroup,
            episodes: Episodes::new(rules),
            trend: Trend::new(interval),
            last_sample_at: Duration::ZERO,
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
        let (result, path) = match &mut self.cgroup {
            Some(cgroup) => (cgroup.sample(), cgroup.path()),
            None => (self.meminfo.sample(), self.meminfo.path()),
        };
        match result {
            Ok(sample) => {
                if std::mem::take(&mut self.sampling_failed) {
                    say!(
                        Notice,
                        "memory-monitor: reading {} works again",
                        escape_path(path)
                    );
                }
                self.last_sample_at = self.now();
                self.trend.push(self.last_sample_at, sample.used_percent());
                Some(sample)
            }
            Err(e) => {
                if !std::mem::replace(&mut self.sampling_failed, true) {
                    say!(
                        Error,
                        "memory-monitor: cannot read {}: {e}; retrying every tick",
                        escape_path(path)
                    );
                }
                // A fresh descriptor for the next try, in case this one went bad.
                if self.cgroup.is_none() {
                    self.meminfo.reopen();
                }
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

    /// Where MemTotal is, for a report: from the meminfo read the sample made, or in a cgroup's
    /// scope, from one read now.
    pub fn breakdown(&mut self) -> Option<Breakdown> {
        if self.cgroup.is_some() {
            self.meminfo.sample().ok()?;
        }
        parse_breakdown(self.meminfo.last_text()).ok()
    }

    /// The recent samples for a report on the last sample.
    pub fn trend_line(&self) -> Option<TrendLine> {
        self.trend.line(self.last_sample_at, self.last_sample_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::CELLS;

    #[test]
    fn the_trend_ends_at_the_last_sample_however_late_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let meminfo = dir.path().join("meminfo");
        std::fs::write(&meminfo, "MemTotal: 1000 kB\nMemAvailable: 600 kB\n").unwrap();
        let rules = Rules {
            threshold_percent: 80.0,
            sustain: Duration::from_secs(15),
            repeat: Duration::from_secs(600),
            urgent_percent: Some(95.0),
        };
        let (mut watch, _) =
            Watch::start(dir.path(), None, rules, Duration::from_millis(50)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        std::fs::write(&meminfo, "MemTotal: 1000 kB\nMemAvailable: 30 kB\n").unwrap();
        assert!(watch.sample().is_some());
        let sampled_at = watch.last_sample_at;
        // A slow tick between the sample and its report: the window must not stretch past the
        // sample, or the sample leaves the last cell.
        std::thread::sleep(Duration::from_millis(300));
        let line = watch.trend_line().unwrap();
        assert_eq!(line.window, sampled_at);
        assert_eq!(line.cells[CELLS - 1], Some(97.0));
        assert_eq!(line.cells[0], Some(40.0));
    }
}
