//! The outputs: each takes every entry (a report, a recovered line) and writes it its own way.
//! An entry is assembled once (`report`); an output only renders and delivers it.
//!
//! To add an output, write one file here with a type that implements [`Output`], or [`TextLog`]
//! for a log appended in the log directory with the backlog and whole-entry rules of
//! [`append`], and add one line for it in [`Outputs::for_daemon`] (or, for an output that
//! needs settings, as the hook and the journal do, in `daemon::outputs`).

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

pub mod append;
mod details_log;
mod hook;
mod incidents_log;
pub mod journal;
pub mod jsonl;
pub mod metrics;
pub mod stderr;
mod stdout;

pub use append::{AppendFile, NotWritten, Unusable, Written};
pub use details_log::DetailsLog;
pub use hook::Hook;
pub use incidents_log::IncidentsLog;
pub use journal::Journal;
pub use jsonl::IncidentsJsonl;
pub use metrics::MetricsFile;
pub use stderr::Problems;
pub use stdout::Stdout;

use crate::report::Entry;
use crate::say;
use crate::text::escape::escape_path;

/// Somewhere the entries go.
pub trait Output {
    /// What the daemon's messages call it: a file's path.
    fn name(&self) -> String;

    /// The name alone, for the message at exit: a file's name.
    fn short_name(&self) -> String {
        self.name()
    }

    /// Renders and writes one entry; an output that has nothing to say for it does nothing.
    fn write(&mut self, entry: &Entry) -> Delivery;

    /// Writes what earlier writes left waiting (a full disk), if anything.
    fn retry(&mut self) -> Delivery {
        Delivery::Nothing
    }

    /// Opens its files again now, as after log rotation.
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Entries that could not be written yet.
    fn waiting(&self) -> usize {
        0
    }
}

/// How a write went.
#[derive(Debug)]
pub enum Delivery {
    /// Nothing was written, and nothing waits.
    Nothing,
    Written(Written),
    NotWritten(NotWritten),
}

impl From<Result<Written, NotWritten>> for Delivery {
    fn from(result: Result<Written, NotWritten>) -> Delivery {
        match result {
            Ok(written) => Delivery::Written(written),
            Err(not_written) => Delivery::NotWritten(not_written),
        }
    }
}

/// A log appended in the log directory: only how an entry reads in it.
pub trait TextLog {
    const FILE_NAME: &'static str;

    /// This log's text for `entry`, or `None` when the log holds nothing for it.
    fn render(&self, entry: &Entry) -> Option<String>;

    /// The line each file of this log begins with, asked for at the write that needs it: one
    /// into a new or empty file, and the first write of this run of the program. `None` (the
    /// default) for none.
    fn file_start(&self) -> Option<String> {
        None
    }

    /// The line that says `dropped` earlier entries were dropped, before those written after
    /// them (see [`append`]).
    fn dropped(&self, dropped: usize) -> String {
        append::dropped_note(dropped)
    }
}

/// A [`TextLog`] and its file.
pub struct LogFile<L> {
    log: L,
    file: AppendFile,
}

impl<L: TextLog> LogFile<L> {
    pub fn prepare(dir: &Path, log: L) -> Result<LogFile<L>, Unusable> {
        Ok(LogFile {
            file: AppendFile::prepare(dir, L::FILE_NAME)?,
            log,
        })
    }
}

impl<L: TextLog> Output for LogFile<L> {
    fn name(&self) -> String {
        escape_path(&self.file.path())
    }

    fn write(&mut self, entry: &Entry) -> Delivery {
        match self.log.render(entry) {
            Some(text) => self.file.append(text, &self.log).into(),
            None => Delivery::Nothing,
        }
    }

    fn short_name(&self) -> String {
        self.file.name().into()
    }

    fn retry(&mut self) -> Delivery {
        if self.file.waiting() == 0 {
            return Delivery::Nothing;
        }
        self.file.flush(&self.log).into()
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file.reopen()
    }

    fn waiting(&self) -> usize {
        self.file.waiting()
    }
}

/// How often unwritten entries are retried while nothing else is written (besides at every
/// entry and on SIGHUP).
const RETRY_EVERY: Duration = Duration::from_secs(60);

/// The daemon's outputs, in the order each entry goes to them, and what it says of how the
/// writes went.
pub struct Outputs {
    outputs: Vec<Box<dyn Output>>,
    /// When to retry unwritten entries, while there are any.
    retry_at: Option<Instant>,
}

impl Outputs {
    pub fn new(outputs: Vec<Box<dyn Output>>) -> Outputs {
        Outputs {
            outputs,
            retry_at: None,
        }
    }

    /// The daemon's outputs. Each log is opened now, so a bad directory stops the program at
    /// start rather than at its first incident.
    pub fn for_daemon(log_dir: &Path) -> Result<Outputs, Unusable> {
        Ok(Outputs::new(vec![
            Box::new(LogFile::prepare(log_dir, IncidentsLog)?),
            Box::new(LogFile::prepare(log_dir, DetailsLog)?),
            Box::new(Problems::of_the_daemon()),
        ]))
    }

    /// One more output, after the others.
    pub fn add(&mut self, output: Box<dyn Output>) {
        self.outputs.push(output);
    }

    /// Hands `entry` to every output, and says how it went when that is news.
    pub fn write(&mut self, entry: &Entry) {
        for index in 0..self.outputs.len() {
            if let Some(output) = self.outputs.get_mut(index) {
                let delivery = output.write(entry);
                self.said(index, delivery);
            }
        }
    }

    /// Tells stderr how a write went when it is news: a failure, or delayed entries landing.
    fn said(&mut self, index: usize, delivery: Delivery) {
        let Some(output) = self.outputs.get(index) else {
            return;
        };
        match delivery {
            Delivery::Nothing | Delivery::Written(Written { delayed: 0 }) => {}
            Delivery::Written(Written { delayed }) => {
                say!(
                    Notice,
                    "memory-monitor: {} can be written again; {delayed} delayed entries written",
                    output.name()
                );
            }
            Delivery::NotWritten(NotWritten { error, waiting }) => {
                say!(
                    Error,
                    "memory-monitor: cannot write {}: {error}; {waiting} entries kept in memory, retried at the next report",
                    output.name()
                );
            }
        }
        self.retry_at = if self.outputs.iter().any(|o| o.waiting() > 0) {
            Some(Instant::now() + RETRY_EVERY)
        } else {
            None
        };
    }

    pub fn retry(&mut self) {
        for index in 0..self.outputs.len() {
            if let Some(output) = self.outputs.get_mut(index)
                && output.waiting() > 0
            {
                let delivery = output.retry();
                self.said(index, delivery);
            }
        }
    }

    pub fn retry_if_due(&mut self) {
        if self.retry_at.is_some_and(|at| Instant::now() >= at) {
            self.retry();
        }
    }

    /// SIGHUP, as after log rotation: open every file again now (creating it), and retry.
    pub fn reopen(&mut self) {
        let mut failed = false;
        for output in &mut self.outputs {
            if let Err(e) = output.reopen() {
                say!(
                    Error,
                    "memory-monitor: SIGHUP: cannot open {}: {e}",
                    output.name()
                );
                failed = true;
            }
        }
        if !failed {
            say!(Info, "memory-monitor: SIGHUP: log files reopened");
        }
        self.retry();
    }

    /// At exit: one more try for what waits, and a word on what is lost.
    pub fn last_try(&mut self) {
        self.retry();
        for output in &self.outputs {
            let lost = output.waiting();
            if lost > 0 {
                say!(
                    Error,
                    "memory-monitor: {lost} entries for {} could not be written and are lost",
                    output.short_name()
                );
            }
        }
    }
}
