//! The monitoring loop: sample and decide every tick ([`watch`]); on a report, capture, build the
//! entry and hand it to the outputs. The idle path (one meminfo read, one state-machine step, one
//! poll of the signals) allocates nothing.

mod watch;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Local;

use crate::capture::{Sources, Tools};
use crate::decide::{Event, Rules};
use crate::output::Outputs;
use crate::proc::{SystemUsers, UserNames};
use crate::render::header::format_threshold;
use crate::report::{Entry, Occasion, Recovered, Report};
use crate::say;
use crate::signals::{Received, Signals};
use crate::text::duration::format_setting;
use crate::text::escape::{escape, escape_path};
pub use watch::Watch;

#[derive(Clone, Debug)]
pub struct Settings {
    pub rules: Rules,
    pub interval: Duration,
    pub log_dir: PathBuf,
    pub details: usize,
    pub proc_root: PathBuf,
    pub tools: Tools,
}

/// Runs until SIGTERM or SIGINT. Errors only for what makes running pointless at start.
pub fn run(settings: &Settings) -> Result<(), String> {
    // Before anything starts a thread, so every thread inherits the blocked mask.
    let signals = Signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    settings.tools.check()?;
    let mut outputs =
        Outputs::for_daemon(&settings.log_dir).map_err(|e| e.explain(running_user))?;
    let (mut watch, first) = Watch::start(&settings.proc_root, settings.rules)?;
    allow_late_wakeups(settings.interval);
    say!(
        "memory-monitor {}: RAM {:.1}% in use; reporting when above {} for {} (sampled every {}, repeated every {}) to {}",
        env!("CARGO_PKG_VERSION"),
        first.used_percent(),
        format_threshold(settings.rules.threshold_percent),
        format_setting(settings.rules.sustain),
        format_setting(settings.interval),
        format_setting(settings.rules.repeat),
        escape_path(&settings.log_dir),
    );
    let sources = Sources::of_this_system(
        settings.tools.clone(),
        settings.proc_root.clone(),
        settings.details,
    );

    let mut next_tick = Instant::now();
    loop {
        if let Some((event, memory)) = watch.tick() {
            let time = Local::now().fixed_offset();
            let entry = match event {
                Event::Report(due) => {
                    let Ok(evidence) = sources.gather(Some(&signals)) else {
                        // Stopped while capturing; nothing was written.
                        break;
                    };
                    let occasion = Occasion::Incident {
                        due,
                        threshold_percent: settings.rules.threshold_percent,
                    };
                    Entry::Report(Box::new(Report {
                        time,
                        occasion,
                        memory,
                        evidence,
                    }))
                }
                Event::Recovered { incident, high_for } => Entry::Recovered(Recovered {
                    time,
                    incident,
                    memory,
                    high_for,
                }),
            };
            outputs.write(&entry);
            if matches!(entry, Entry::Report(_)) {
                // Freed before the trim, or the trim has nothing to give back.
                drop(entry);
                release_freed_memory();
            }
        }
        outputs.retry_if_due();
        // A slow capture must not be followed by a burst of catch-up ticks.
        next_tick = (next_tick + settings.interval).max(Instant::now());
        if sleep_until(&signals, next_tick, &mut outputs) == Some(Received::Stop) {
            break;
        }
    }
    outputs.last_try();
    say!("memory-monitor: stopping on signal");
    Ok(())
}

fn sleep_until(signals: &Signals, deadline: Instant, outputs: &mut Outputs) -> Option<Received> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match signals.wait(left) {
            Some(Received::Hangup) => outputs.reopen(),
            Some(Received::Stop) => return Some(Received::Stop),
            None => return None,
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
