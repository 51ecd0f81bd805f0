//! The monitoring loop: sample, decide, and on an incident capture, render and append. The idle
//! path (one meminfo read, one state-machine step, one sigtimedwait) allocates nothing.

pub mod signals;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Local};

use crate::capture::Tools;
use crate::capture::gather::{self as incident, Incident, Sources};
use crate::daemon::signals::{Received, Signals};
use crate::decide::episode::{Episodes, Event, Report, Rules};
use crate::output::append::{LOG_FILES, LogDir, LogFile, NotWritten, Written};
use crate::render::details;
use crate::render::header::{self as report, Occasion};
use crate::sample::meminfo::{MemSample, MeminfoReader};
use crate::text::duration::format_setting;
use crate::text::escape;

/// The daemon's messages to stderr, the journal under systemd. A stderr that has gone away (a
/// closed pipe, a journal stream lost) must not stop the watch, as `eprintln!` would by
/// panicking; the message is then lost, the logs are not.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

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
                    say!(
                        "memory-monitor: reading {} works again",
                        escape::escape_path(self.meminfo.path())
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
                        escape::escape_path(self.meminfo.path())
                    );
                }
                // A fresh descriptor for the next try, in case this one went bad.
                self.meminfo.reopen();
                None
            }
        }
    }
}

/// How often unwritten reports are retried while nothing else is written (besides at every
/// report and on SIGHUP).
const RETRY_EVERY: Duration = Duration::from_secs(60);

/// Runs until SIGTERM or SIGINT. Errors only for what makes running pointless at start.
pub fn run(settings: &Settings) -> Result<(), String> {
    // Before anything starts a thread, so every thread inherits the blocked mask.
    let signals = Signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    settings.tools.check()?;
    let logs = LogDir::prepare(&settings.log_dir)?;
    let (mut watch, first) = Watch::start(&settings.proc_root, settings.rules)?;
    allow_late_wakeups(settings.interval);
    say!(
        "memory-monitor {}: RAM {:.1}% in use; reporting when above {} for {} (sampled every {}, repeated every {}) to {}",
        env!("CARGO_PKG_VERSION"),
        first.used_percent(),
        report::format_threshold(settings.rules.threshold_percent),
        format_setting(settings.rules.sustain),
        format_setting(settings.interval),
        format_setting(settings.rules.repeat),
        escape::escape_path(&settings.log_dir),
    );
    let sources = Sources::of_this_system(
        settings.tools.clone(),
        settings.proc_root.clone(),
        settings.details,
    );
    let mut writer = Writer {
        logs,
        sources,
        threshold_percent: settings.rules.threshold_percent,
        retry_at: None,
    };

    let mut next_tick = Instant::now();
    loop {
        if let Some((event, sample)) = watch.tick()
            && writer.handle(event, sample, &signals).is_err()
        {
            break;
        }
        writer.retry_if_due();
        // A slow capture must not be followed by a burst of catch-up ticks.
        next_tick = (next_tick + settings.interval).max(Instant::now());
        if sleep_until(&signals, next_tick, &mut writer) == Some(Received::Stop) {
            break;
        }
    }
    writer.last_try();
    say!("memory-monitor: stopping on signal");
    Ok(())
}

fn sleep_until(signals: &Signals, deadline: Instant, writer: &mut Writer) -> Option<Received> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match signals.wait(left) {
            Some(Received::Hangup) => writer.reopen(),
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
    /// When to retry unwritten reports, while there are any.
    retry_at: Option<Instant>,
}

impl Writer<'_> {
    fn handle(
        &mut self,
        event: Event,
        sample: MemSample,
        signals: &Signals,
    ) -> Result<(), Stopped> {
        let now = Local::now().fixed_offset();
        match event {
            Event::Report(report) => {
                let incident =
                    incident::collect(&self.sources, Some(signals)).map_err(|_| Stopped)?;
                self.write_report(&now, report, &sample, &incident);
                // Freed before the trim, or the trim has nothing to give back.
                drop(incident);
                release_freed_memory();
            }
            Event::Recovered { high_for, .. } => {
                self.append(
                    LogFile::Incidents,
                    report::recovered_line(&now, &sample, high_for),
                );
            }
        }
        Ok(())
    }

    fn write_report(
        &mut self,
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
            report::render_incident_after(marker.clone(), &header, incident),
        );
        if self.sources.details > 0 {
            let mut text = marker + &header + "\n";
            details::render(&incident.details, now, &mut text);
            text.push('\n');
            self.append(LogFile::Details, text);
        }
        if let Some(why) = incident.cpu_problem() {
            say!(
                "memory-monitor: incident {}: CPU n/a: {why}",
                report.incident
            );
        }
        if let Err(why) = &incident.ps {
            say!(
                "memory-monitor: incident {}: no process table: {why}",
                report.incident
            );
        }
        for note in &incident.notes {
            say!("memory-monitor: incident {}: {note}", report.incident);
        }
    }

    fn append(&mut self, file: LogFile, text: String) {
        let result = self.logs.append(file, text);
        self.said(file, result);
    }

    /// Tells stderr how a write went when it is news: a failure, or delayed reports landing.
    fn said(&mut self, file: LogFile, result: Result<Written, NotWritten>) {
        let path = || escape::escape_path(&self.logs.path(file));
        match result {
            Ok(Written { delayed: 0 }) => {}
            Ok(Written { delayed }) => {
                say!(
                    "memory-monitor: {} can be written again; {delayed} delayed entries written",
                    path()
                );
            }
            Err(NotWritten { error, waiting }) => {
                say!(
                    "memory-monitor: cannot write {}: {error}; {waiting} entries kept in memory, retried at the next report",
                    path()
                );
            }
        }
        self.retry_at = if LOG_FILES.iter().any(|&f| self.logs.waiting(f) > 0) {
            Some(Instant::now() + RETRY_EVERY)
        } else {
            None
        };
    }

    fn retry(&mut self) {
        for file in LOG_FILES {
            if self.logs.waiting(file) > 0 {
                let result = self.logs.flush(file);
                self.said(file, result);
            }
        }
    }

    fn retry_if_due(&mut self) {
        if self.retry_at.is_some_and(|at| Instant::now() >= at) {
            self.retry();
        }
    }

    /// SIGHUP, as after log rotation: open both files again now (creating them), and retry.
    fn reopen(&mut self) {
        let failures = self.logs.reopen();
        for (file, e) in &failures {
            say!(
                "memory-monitor: SIGHUP: cannot open {}: {e}",
                escape::escape_path(&self.logs.path(*file))
            );
        }
        if failures.is_empty() {
            say!("memory-monitor: SIGHUP: log files reopened");
        }
        self.retry();
    }

    /// At exit: one more try for what waits, and a word on what is lost.
    fn last_try(&mut self) {
        self.retry();
        for file in LOG_FILES {
            let lost = self.logs.waiting(file);
            if lost > 0 {
                say!(
                    "memory-monitor: {lost} entries for {} could not be written and are lost",
                    file.file_name()
                );
            }
        }
    }
}

/// Lets the kernel wake us up to 1% of an interval late (at most 50 ms), so the sleep's timer
/// can fire with others already due instead of waking a core on its own; the default slack
/// is 50 µs. Decisions are made on the monotonic clock, so a late tick only shifts the grid.
fn allow_late_wakeups(interval: Duration) {
    let slack = (interval / 100).min(Duration::from_millis(50));
    if let Ok(nanos) = libc::c_ulong::try_from(slack.as_nanos()) {
        // SAFETY: PR_SET_TIMERSLACK takes an integer and touches no memory of ours.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, nanos) };
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
