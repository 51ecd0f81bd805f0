//! `snapshot`'s output: the report as incidents.log would hold it, then the details, then the
//! OOM kills of the last minutes as incidents.log has them.

use std::io::{self, Write};

use super::{Delivery, NotWritten, Output, Written};
use crate::render::{details, incident, oom};
use crate::report::Entry;

pub struct Stdout;

impl Output for Stdout {
    fn name(&self) -> String {
        "stdout".into()
    }

    fn write(&mut self, entry: &Entry) -> Delivery {
        let text = match entry {
            Entry::Report(report) => {
                let mut text = String::new();
                incident::render(report, &mut text);
                if let Some(processes) = &report.evidence.details {
                    details::render(processes, &report.time, &mut text);
                    text.push('\n');
                }
                text
            }
            Entry::OomKill(kill) => oom::kill_entry(kill),
            _ => return Delivery::Nothing,
        };
        match io::stdout().lock().write_all(text.as_bytes()) {
            // `snapshot | head` closes the pipe early; that is the reader's choice, not a failure.
            Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                Delivery::NotWritten(NotWritten { error, waiting: 0 })
            }
            _ => Delivery::Written(Written::default()),
        }
    }
}
