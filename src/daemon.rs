//! The monitoring loop: sample, decide, and on an incident capture, render and append. The idle
//! path (one meminfo read, one state-machine step, one sigtimedwait) allocates nothing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Local};

use crate::capture::Tools;
use crate::duration::format_setting;
use crate::episode::{Episodes, Event, Report, Rules};
use crate::incident::{self, Incident, Sources};
use crate::logfile::{LogDir, LogFile};
use crate::meminfo::{MemSample, MeminfoReader};
use crate::report::{self, Occasion};
use crate::signals::{Received, Signals};
use crate::{details, escape};

#[derive(Clone, Debug)]
pub struct Settings {
    pub rules: Rules,
    pub interval: Duration,
    pub log_dir: PathBuf,
    pub details: usize,
    pub proc_root: PathBuf,
    pub tools: Tools,
}

/// Sampling and deciding, without the sleeping: what the loop does every tick.
pub struct Watch {
    meminfo: MeminfoReader,
    episodes: Episodes,
    origin: Instant,
    sampling_failed: bool,
}

impl Watch {
    /// Opens meminfo and takes a first sample, so an unreadable proc root stops the program at
    /// start.
    pub fn start(proc_root: &std::path::Path, rules: Rules) -> Result<(Watch, MemSample), String> {
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
                    eprintln!(
                        "memory-monitor: reading {} works again",
                        self.meminfo.path().display()
                    );
                }
                self.episodes
                    .observe(now, sample.used_percent())
                    .map(|event| (event, sample))
            }
            Err(e) => {
                if !std::mem::replace(&mut self.sampling_failed, true) {
                    eprintln!(
                        "memory-monitor: cannot read {}: {e}; retrying every tick",
                        self.meminfo.path().display()
                    );
                }
                None
            }
        }
    }
}

/// Runs until SIGTERM or SIGINT. Errors only for what makes running pointless at start.
pub fn run(settings: &Settings) -> Result<(), String> {
    // Before anything starts a thread, so every thread inherits the blocked mask.
    let signals = Signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    let logs = LogDir::prepare(&settings.log_dir)?;
    let (mut watch, first) = Watch::start(&settings.proc_root, settings.rules)?;
    eprintln!(
        "memory-monitor {}: RAM {:.1}% in use; reporting when above {} for {} (sampled every {}, repeated every {}) to {}",
        env!("CARGO_PKG_VERSION"),
        first.used_percent(),
        report::format_threshold(settings.rules.threshold_percent),
        format_setting(settings.rules.sustain),
        format_setting(settings.interval),
        format_setting(settings.rules.repeat),
        settings.log_dir.display(),
    );
    let sources = Sources::of_this_system(
        settings.tools.clone(),
        settings.proc_root.clone(),
        settings.details,
    );
    let writer = Writer {
        logs,
        sources,
        threshold_percent: settings.rules.threshold_percent,
    };

    let mut next_tick = Instant::now();
    loop {
        if let Some((event, sample)) = watch.tick()
            && writer.handle(event, sample, &signals).is_err()
        {
            break;
        }
        // A slow capture must not be followed by a burst of catch-up ticks.
        next_tick = (next_tick + settings.interval).max(Instant::now());
        if sleep_until(&signals, next_tick) == Some(Received::Stop) {
            break;
        }
    }
    eprintln!("memory-monitor: stopping on signal");
    Ok(())
}

fn sleep_until(signals: &Signals, deadline: Instant) -> Option<Received> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match signals.wait(left) {
            Some(Received::Hangup) => {
                eprintln!(
                    "memory-monitor: SIGHUP: log files are reopened for every report, nothing to do"
                );
            }
            Some(Received::Stop) => return Some(Received::Stop),
            None => return None,
        }
    }
}

/// Stopped while capturing; nothing was written.
struct Stopped;

struct Writer<'a> {
    logs: LogDir,
    sources: Sources<'a>,
    threshold_percent: f64,
}

impl Writer<'_> {
    fn handle(&self, event: Event, sample: MemSample, signals: &Signals) -> Result<(), Stopped> {
        let now = Local::now().fixed_offset();
        match event {
            Event::Report(report) => {
                let mut pause = |d| signals.wait(d) == Some(Received::Stop);
                let incident = incident::collect(&self.sources, &mut pause).map_err(|_| Stopped)?;
                self.write_report(&now, report, &sample, &incident);
                release_freed_memory();
            }
            Event::Recovered { high_for, .. } => {
                self.append(
                    LogFile::Incidents,
                    &report::recovered_line(&now, &sample, high_for),
                );
            }
        }
        Ok(())
    }

    fn write_report(
        &self,
        now: &DateTime<FixedOffset>,
        report: Report,
        sample: &MemSample,
        incident: &Incident,
    ) {
        let occasion = Occasion::Incident {
            report,
            threshold_percent: self.threshold_percent,
        };
        let header = report::header_line(now, &occasion, sample, incident.cpu_busy());
        let marker = if report.starts_episode() {
            report::new_log_marker(now, report.incident)
        } else {
            String::new()
        };
        self.append(
            LogFile::Incidents,
            &(marker.clone() + &report::render_incident(&header, incident)),
        );
        if self.sources.details > 0 {
            let mut text = marker + &header + "\n";
            details::render(&incident.details, now, &mut text);
            text.push('\n');
            self.append(LogFile::Details, &text);
        }
        if let Some(why) = incident.cpu_problem() {
            eprintln!(
                "memory-monitor: incident {}: CPU n/a: {why}",
                report.incident
            );
        }
        if let Err(why) = &incident.ps {
            eprintln!(
                "memory-monitor: incident {}: no process table: {why}",
                report.incident
            );
        }
    }

    fn append(&self, file: LogFile, text: &str) {
        if let Err(e) = self.logs.append(file, text) {
            let path = self.logs.path(file);
            eprintln!(
                "memory-monitor: cannot write {}: {}",
                escape::escape(path.as_os_str().as_encoded_bytes()),
                e
            );
        }
    }
}

/// A capture of thousands of processes leaves megabytes freed but held by malloc; give them back
/// so the daemon is small again while idle.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
