//! The program's own messages, on stderr (the journal under systemd), and the output that says
//! there what went wrong in a report.

use std::fmt;
use std::io::Write;

use super::{Delivery, Output};
use crate::report::{Entry, Occasion};

/// Writes one line to stderr. A stderr that has gone away (a closed pipe, a journal stream
/// lost) must not stop the watch, as `eprintln!` would by panicking: the message is then lost,
/// the logs are not.
pub fn say(message: fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// [`say`] with `format!`'s arguments.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::stderr::say(format_args!($($arg)*))
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
            say!("memory-monitor: {prefix}CPU n/a: {why}");
        }
        if !self.all {
            return Delivery::Nothing;
        }
        if let Err(why) = &report.evidence.ps {
            say!("memory-monitor: {prefix}no process table: {why}");
        }
        for note in &report.evidence.notes {
            say!("memory-monitor: {prefix}{note}");
        }
        Delivery::Nothing
    }
}
