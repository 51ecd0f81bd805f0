//! The monitoring loop: sample and decide every tick ([`watch`]), follow the kernel's OOM kills
//! ([`kills`]); on a report, capture, build the entry and hand it to the outputs. The idle path
//! (one meminfo read, one read of the kernel's log, one state-machine step, one poll of the
//! signals) allocates nothing.

mod kills;
mod notify;
pub mod state;
mod state_keeper;
mod watch;

use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Local};

use crate::capture::{Sources, StopRequest, Tools, kernel_now, read_places};
use crate::decide::{Event, ReportDue, Rules};
use crate::output::jsonl::{self, StartSettings};
use crate::output::{Hook, IncidentsJsonl, Journal, LogFile, MetricsFile, Outputs, journal};
use crate::proc::{Baseline, MemoryScope, SystemUsers, UserNames, choose_scope};
use crate::render::header::{format_threshold, format_time_of_day};
use crate::report::{Context, Entry, Growth, Occasion, Recovered, Report};
use crate::sample::{MemSample, MeminfoReader};
use crate::say;
use crate::signals::{Received, Signals};
use crate::text::duration::format_setting;
use crate::text::escape::{escape, escape_path};
pub use kills::KillWatch;
pub use notify::Systemd;
pub use state_keeper::StateKeeper;
pub use watch::Watch;

#[derive(Clone, Debug)]
pub struct Settings {
    pub rules: Rules,
    pub interval: Duration,
    pub log_dir: PathBuf,
    /// `--json`: incidents.jsonl beside incidents.log.
    pub json: bool,
    pub details: usize,
    pub proc_root: PathBuf,
    pub tools: Tools,
    /// `None`: kills are counted from /proc/vmstat only.
    pub kernel_log: Option<PathBuf>,
    /// Where cgroups are read: `<sys-root>/fs/cgroup`.
    pub sys_root: PathBuf,
    pub memory_scope: MemoryScope,
    /// `--on-event`: `None` runs no hook.
    pub hook: Option<HookSettings>,
    /// Where journald's native entries go, when stderr is the journal.
    pub journal_socket: PathBuf,
    /// `--metrics-file`: `None` writes none.
    pub metrics_file: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct HookSettings {
    pub program: PathBuf,
    pub timeout: Duration,
}

/// The resident memory of every process when the running episode began or was last reported.
struct Since {
    baseline: Baseline,
    at: Duration,
    wall: DateTime<FixedOffset>,
}

/// Runs until SIGTERM or SIGINT. Errors only for what makes running pointless at start.
pub fn run(settings: &Settings) -> Result<(), String> {
    let systemd = Systemd::from_env();
    // Before anything starts a thread, so every thread inherits the blocked mask.
    let signals = Signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    settings.tools.check()?;
    let mut outputs = outputs(settings)?;
    let mut rules = settings.rules;
    if let Some(urgent) = rules.urgent_percent
        && urgent <= rules.threshold_percent
    {
        say!(
            Warning,
            "memory-monitor: --urgent {} is not above --threshold {}; running without urgent reports",
            format_threshold(urgent),
            format_threshold(rules.threshold_percent)
        );
        rules.urgent_percent = None;
    }
    let scope = choose_scope(
        settings.memory_scope,
        &settings.proc_root,
        &settings.sys_root,
        MeminfoReader::open_sampled(&settings.proc_root)?
            .1
            .total_kib,
    )?;
    let (mut watch, first) = Watch::start(
        &settings.proc_root,
        scope.as_ref(),
        rules,
        settings.interval,
    )?;
    let started = kernel_now();
    allow_late_wakeups(settings.interval);
    keep_in_memory();
    say!(
        Info,
        "memory-monitor {}: RAM {:.1}% in use; reporting when above {} for {} (sampled every {}, repeated every {}) to {}; memory scope: {}",
        env!("CARGO_PKG_VERSION"),
        first.used_percent(),
        format_threshold(rules.threshold_percent),
        format_setting(rules.sustain),
        format_setting(settings.interval),
        format_setting(rules.repeat),
        escape_path(&settings.log_dir),
        scope.as_ref().map_or_else(
            || "host (the machine's RAM)".to_string(),
            |cgroup| format!("cgroup ({})", cgroup.describe())
        ),
    );
    if let Some(hook) = &settings.hook {
        say!(
            Info,
            "memory-monitor: runs {} for every entry of incidents.log, one at a time (killed after {})",
            escape_path(&hook.program),
            format_setting(hook.timeout)
        );
    }
    let sources = Sources::of_this_system(
        settings.tools.clone(),
        settings.proc_root.clone(),
        settings.details,
    );
    let (mut keeper, previous_boot) = StateKeeper::start(
        &settings.log_dir,
        &settings.proc_root,
        &settings.sys_root,
        Local::now().fixed_offset(),
    );
    if let Some(previous) = previous_boot {
        outputs.write(&Entry::PreviousBoot(previous));
    }
    let (mut kills, caught_up) = KillWatch::start(
        started,
        settings.kernel_log.as_deref(),
        &settings.proc_root,
        keeper.kills(),
        &SystemUsers,
    );
    for entry in &caught_up.entries {
        outputs.write(entry);
    }
    if let Some(recorded) = kills.entries_written() {
        keeper.kills_written(recorded);
    }
    systemd.ready(first.used_percent());
    let mut loop_state = Loop {
        settings,
        rules,
        sources,
        signals: &signals,
        systemd: &systemd,
        keeper,
        since: None,
        // A kill after the start line but before the kernel's log was opened is caught up,
        // and is owed its report like any other.
        kill_report_owed: caught_up.report,
    };

    let mut next_tick = Instant::now();
    loop {
        if loop_state
            .tick(&mut watch, &mut kills, &mut outputs)
            .is_err()
        {
            break;
        }
        outputs.retry_if_due();
        // A slow capture must not be followed by a burst of catch-up ticks.
        next_tick = (next_tick + settings.interval).max(Instant::now());
        if sleep_until(&signals, &systemd, next_tick, &mut outputs) == Some(Received::Stop) {
            break;
        }
    }
    systemd.stopping();
    loop_state.keeper.stopped();
    outputs.last_try();
    say!(Notice, "memory-monitor: stopping on signal");
    Ok(())
}

/// Every output of the daemon, in the order an entry goes to them. A bad log directory or hook
/// stops the program at start rather than at its first incident.
fn outputs(settings: &Settings) -> Result<Outputs, String> {
    let mut outputs =
        Outputs::for_daemon(&settings.log_dir).map_err(|e| e.explain(running_user))?;
    if settings.json {
        let jsonl = IncidentsJsonl::of_this_process(json_settings(settings));
        outputs.add(Box::new(
            LogFile::prepare(&settings.log_dir, jsonl).map_err(|e| e.explain(running_user))?,
        ));
    }
    if let Some(path) = &settings.metrics_file {
        outputs.add(Box::new(MetricsFile::start(path)));
    }
    if journal::stream::stderr_is_journal() {
        match Journal::open(&settings.journal_socket) {
            Ok(journal) => outputs.add(Box::new(journal)),
            Err(e) => say!(
                Warning,
                "memory-monitor: cannot open the journal's socket {}: {e}; entries go to the logs only",
                escape_path(&settings.journal_socket)
            ),
        }
    }
    if let Some(hook) = &settings.hook {
        outputs.add(Box::new(Hook::start(&hook.program, hook.timeout)?));
    }
    Ok(outputs)
}

/// The settings incidents.jsonl's start objects carry, as the daemon runs with them.
fn json_settings(settings: &Settings) -> StartSettings {
    let rules = &settings.rules;
    let seconds = jsonl::seconds;
    StartSettings {
        threshold_percent: rules.threshold_percent,
        sustain_seconds: seconds(rules.sustain),
        interval_seconds: seconds(settings.interval),
        repeat_seconds: seconds(rules.repeat),
        // An urgent level not above the threshold is dropped at start (see `run`).
        urgent_percent: rules
            .urgent_percent
            .filter(|urgent| *urgent > rules.threshold_percent),
        log_dir: escape_path(&settings.log_dir),
        on_event: settings.hook.as_ref().map(|h| escape_path(&h.program)),
        hook_timeout_seconds: settings.hook.as_ref().map(|h| seconds(h.timeout)),
        metrics_file: settings.metrics_file.as_deref().map(escape_path),
        details: settings.details,
        capture_timeout_seconds: seconds(settings.tools.timeout),
        kernel_log: settings.kernel_log.as_deref().map(escape_path),
        memory_scope: match settings.memory_scope {
            MemoryScope::Auto => "auto",
            MemoryScope::Host => "host",
            MemoryScope::Cgroup => "cgroup",
        },
        proc_root: escape_path(&settings.proc_root),
        sys_root: escape_path(&settings.sys_root),
        ps_bin: escape(settings.tools.ps_bin.as_encoded_bytes()),
        top_bin: escape(settings.tools.top_bin.as_encoded_bytes()),
    }
}

/// Stopped while capturing; nothing of that report was written.
struct Stopped;

struct Loop<'a> {
    settings: &'a Settings,
    rules: Rules,
    sources: Sources<'static>,
    signals: &'a Signals,
    systemd: &'a Systemd,
    keeper: StateKeeper,
    since: Option<Since>,
    /// A kill asked for a report that no sample has allowed yet.
    kill_report_owed: bool,
}

impl Loop<'_> {
    /// One tick: the kills since the last (and a report after the first of a minute), then the
    /// sample and what it decides.
    fn tick(
        &mut self,
        watch: &mut Watch,
        kills: &mut KillWatch,
        outputs: &mut Outputs,
    ) -> Result<(), Stopped> {
        self.systemd.keep_alive();
        let sample = watch.sample();
        let news = kills.tick(&SystemUsers);
        for entry in &news.entries {
            outputs.write(entry);
        }
        if let Some(recorded) = kills.entries_written() {
            self.keeper.kills_written(recorded);
        }
        self.kill_report_owed |= news.report;
        let mut reported = false;
        if self.kill_report_owed
            && let Some(memory) = sample
        {
            self.kill_report_owed = false;
            let due = watch.oom_kill();
            self.report(watch, outputs, due, memory)?;
            reported = true;
        }
        let Some(memory) = sample else {
            return Ok(());
        };
        let was_high = watch.is_high();
        match watch.decide(&memory) {
            // One report a tick: one after a kill stands for the one due.
            Some(Event::Report(due)) if !reported => self.report(watch, outputs, due, memory)?,
            Some(Event::Report(_)) => {}
            Some(Event::Recovered { incident, high_for }) => {
                self.systemd.incident(None);
                outputs.write(&Entry::Recovered(Recovered {
                    time: Local::now().fixed_offset(),
                    incident,
                    memory,
                    high_for,
                }));
                self.keeper.recovered(memory.used_percent());
            }
            None => {}
        }
        self.systemd
            .sampled(memory.used_percent(), was_high != watch.is_high());
        if !watch.is_high() {
            self.since = None;
        } else if !was_high {
            self.since = Some(self.baseline(watch));
        }
        Ok(())
    }

    fn baseline(&self, watch: &Watch) -> Since {
        Since {
            baseline: Baseline::read(&self.settings.proc_root),
            at: watch.now(),
            wall: Local::now().fixed_offset(),
        }
    }

    /// The one place a report of the daemon is assembled: capture, context, entry.
    fn report(
        &mut self,
        watch: &mut Watch,
        outputs: &mut Outputs,
        due: ReportDue,
        memory: MemSample,
    ) -> Result<(), Stopped> {
        let time = Local::now().fixed_offset();
        // The trend and the breakdown are of the header's sample, not of after the capture.
        let trend = watch.trend_line();
        let breakdown = watch.breakdown();
        if due.starts_episode() {
            self.systemd
                .incident(Some((due.incident, format_time_of_day(&time))));
        }
        let awake = Awake {
            signals: self.signals,
            systemd: self.systemd,
        };
        let evidence = self.sources.gather(Some(&awake)).map_err(|_| Stopped)?;
        let now = watch.now();
        let mut growth = None;
        if let Some(since) = self.since.take() {
            let current = self.baseline(watch);
            growth = Some(Growth {
                since: since.wall,
                ago: now.saturating_sub(since.at),
                grew: since
                    .baseline
                    .growers(&current.baseline, &self.settings.proc_root),
            });
            // The next report looks back to this one.
            self.since = Some(current);
        }
        let occasion = Occasion::Incident {
            due,
            threshold_percent: self.rules.threshold_percent,
            urgent_percent: self.rules.urgent_percent,
        };
        let places = read_places(&self.settings.proc_root, &self.settings.sys_root, &evidence);
        let entry = Entry::Report(Box::new(Report {
            time,
            occasion,
            memory,
            context: Context {
                trend,
                growth,
                breakdown,
                pressure: places.pressure,
                tmpfs: places.tmpfs,
                units: places.units,
            },
            evidence,
        }));
        outputs.write(&entry);
        if due.while_high() {
            let high_for = chrono::Duration::from_std(due.high_for).unwrap_or_default();
            self.keeper
                .reported(due.incident, time - high_for, time, memory.used_percent());
        }
        // Freed before the trim, or the trim has nothing to give back.
        drop(entry);
        release_freed_memory();
        Ok(())
    }
}

/// What a capture watches: the stop signals, and the watchdog to feed while ps and top run.
struct Awake<'a> {
    signals: &'a Signals,
    systemd: &'a Systemd,
}

impl StopRequest for Awake<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.signals.as_fd()
    }

    fn take_stop(&self) -> bool {
        self.signals.take_stop()
    }

    fn keep_alive(&self) -> Option<Duration> {
        self.systemd.keep_alive();
        self.systemd.alive_within()
    }
}

fn sleep_until(
    signals: &Signals,
    systemd: &Systemd,
    deadline: Instant,
    outputs: &mut Outputs,
) -> Option<Received> {
    loop {
        systemd.keep_alive();
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        // Woken to feed the watchdog when an interval is longer than half its time.
        let nap = systemd.alive_within().map_or(left, |alive| left.min(alive));
        match signals.wait(nap) {
            Some(Received::Hangup) => outputs.reopen(),
            Some(Received::Stop) => return Some(Received::Stop),
            None => {}
        }
    }
}

/// Who the program runs as, for a message about a directory it may not write.
fn running_user() -> String {
    let uid = rustix::process::geteuid().as_raw();
    SystemUsers
        .name_of(uid)
        .map_or_else(|| format!("uid {uid}"), |name| escape(&name))
}

/// Keeps the daemon's pages in RAM, so that a machine swapping hard does not stall the one
/// program watching it. Only what is mapped now: the buffers of a capture are allocated later,
/// unlocked, so no lock limit can make them fail. And each page from its first use on, as
/// earlyoom does: locking all at once would also read in the 128 KiB of stack and the heap it
/// never touches, doubling the resident memory it idles in.
fn keep_in_memory() {
    use rustix::mm::MlockAllFlags;
    if let Err(e) = rustix::mm::mlockall(MlockAllFlags::CURRENT | MlockAllFlags::ONFAULT) {
        say!(
            Warning,
            "memory-monitor: cannot lock its memory in RAM ({e}); it may be paged out under pressure (the service's LimitMEMLOCK= allows it)"
        );
    }
}

/// Lets the kernel wake us up to 1% of an interval late (at most 50 ms), so the sleep's timer
/// can fire with others already due instead of waking a core on its own; the default slack
/// is 50 µs. Decisions are made on the monotonic clock, so a late tick only shifts the grid.
fn allow_late_wakeups(interval: Duration) {
    let slack = (interval / 100).min(Duration::from_millis(50));
    let nanos = u64::try_from(slack.as_nanos())
        .ok()
        .and_then(std::num::NonZeroU64::new);
    // Without it the daemon only wakes a little more often.
    let _ = rustix::thread::set_current_timer_slack(nanos);
}

/// A capture of thousands of processes leaves megabytes freed but held by malloc; give them back
/// so the daemon is small again while idle.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel; no crate wraps it.
    unsafe {
        libc::malloc_trim(0);
    }
}
