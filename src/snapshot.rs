//! `memory-monitor snapshot`: one report now, whatever the memory use, printed to stdout.

use std::path::Path;

use crate::capture::{Sources, Tools};
use crate::output::{Delivery, Output, Problems, Stdout};
use crate::report::{Entry, Occasion, Report};
use crate::sample::MeminfoReader;
use crate::signals::Signals;

pub fn take(tools: Tools, proc_root: &Path, details: usize) -> Result<(), String> {
    // Ctrl-C during the capture then stops ps and top too, not only this program.
    let signals = Signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    let tools = tools.resolved()?;
    let (_, memory) = MeminfoReader::open_sampled(proc_root)?;
    let time = chrono::Local::now().fixed_offset();
    let sources = Sources::of_this_system(tools, proc_root.to_path_buf(), details);
    let evidence = sources
        .gather(Some(&signals))
        .map_err(|_| "interrupted; ps and top were stopped".to_string())?;
    if let Err(why) = &evidence.ps {
        return Err(why.to_string());
    }
    let entry = Entry::Report(Box::new(Report {
        time,
        occasion: Occasion::Snapshot,
        memory,
        evidence,
    }));
    Problems::of_a_snapshot().write(&entry);
    match Stdout.write(&entry) {
        Delivery::NotWritten(failure) => Err(format!("cannot write to stdout: {}", failure.error)),
        _ => Ok(()),
    }
}
