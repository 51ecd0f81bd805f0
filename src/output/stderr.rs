//! The program's own messages, on stderr (the journal under systemd), and the output that says
//! there what went wrong in a report.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Delivery, Output};
use crate::report::{Entry, Occasion};

/// How much a message matters, as syslog numbers it: journald reads a `<N>` at the start of a
/// line of a service's stderr as its priority, so `journalctl -p warning` shows what matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
}

/// Whether stderr is the journal, so lines carry their level; on a terminal `<4>` is noise.
static LEVEL_PREFIXES: AtomicBool = AtomicBool::new(false);

/// Prefixes every later line with its level, or stops doing so.
pub fn prefix_levels(on: bool) {
    LEVEL_PREFIXES.store(on, Ordering::Relaxed);
}

/// Writes one line to stderr. A stderr that has gone away (a closed pipe, a journal stream
/// lost) must not stop the watch, as `eprintln!` would by panicking: the message is then lost,
/// the logs are not. Under the lock, so a hook's output never lands inside one of our lines.
pub fn say(level: Level, message: fmt::Arguments) {
    // Formatted first, then written in one call: stderr is unbuffered, and writing the pieces
    // as they come costs a system call each (twenty for the start line).
    let line = if LEVEL_PREFIXES.load(Ordering::Relaxed) {
        format!("<{}>{message}\n", level as u8)
    } else {
        format!("{message}\n")
    };
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// [`say`] with a [`Level`]'s name and `format!`'s arguments: `say!(Warning, "…", …)`.
#[macro_export]
macro_rules! say {
    ($level:ident, $($arg:tt)*) => {
        $crate::output::stderr::say(
            $crate::output::stderr::Level::$level,
            format_args!($($arg)*),
        )
    };
}

/// Says on stderr what a report could not hold: why the CPU figure or the table is missing, and
/// its notes.
pub struct Problems {
    /// `snapshot` says only why the CPU is unknown: it stops on a missing table, and its notes
    /// are on the screen already.
    all: bool,
}

impl Problems {
    pub fn of_the_daemon() -> Problems {
        Problems { all: true }
    }

    pub fn of_a_snapshot() -> Problems {
        Problems { all: false }
    }
}

impl Output for Problems {
    fn name(&self) -> String {
        "stderr".into()
    }

    fn write(&mut self, entry: &Entry) -> Delivery {
        let Entry::Report(report) = entry else {
            return Delivery::Nothing;
        };
        let prefix = match report.occasion {
            Occasion::Incident { due, .. } => format!("incident {}: ", due.incident),
            Occasion::Snapshot => String::new(),
        };
        if let Some(why) = report.cpu_problem() {
            say!(Warning, "memory-monitor: {prefix}CPU n/a: {why}");
        }
        if !self.all {
            return Delivery::Nothing;
        }
        if let Err(why) = &report.evidence.ps {
            say!(Error, "memory-monitor: {prefix}no process table: {why}");
        }
        for note in &report.evidence.notes {
            say!(Warning, "memory-monitor: {prefix}{note}");
        }
        Delivery::Nothing
    }
}
