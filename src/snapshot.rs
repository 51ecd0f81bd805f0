//! `memory-monitor snapshot`: one report now, whatever the memory use, printed to stdout, with
//! the samples it took and the OOM kills of the last ten minutes.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::capture::{Sources, Tools, entry_of, kernel_now, read_places};
use crate::output::{Delivery, Output, Problems, Stdout};
use crate::parse::kills::KillRecords;
use crate::proc::{MemoryScope, SystemUsers, choose_scope};
use crate::report::{Context, Entry, Occasion, Report};
use crate::sample::{CgroupMemoryReader, KernelLog, MeminfoReader, Trend, WINDOW, parse_breakdown};
use crate::signals::Signals;
use crate::text::escape::escape_path;

pub fn take(
    tools: Tools,
    proc_root: &Path,
    sys_root: &Path,
    scope: MemoryScope,
    details: usize,
    kernel_log: Option<&Path>,
) -> Result<(), String> {
    // Ctrl-C during the capture then stops ps and top too, not only this program.
    let signals = Signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    let tools = tools.resolved()?;
    let started = Instant::now();
    let (mut meminfo, host) = MeminfoReader::open_sampled(proc_root)?;
    let scope = choose_scope(scope, proc_root, sys_root, host.total_kib)?;
    let mut cgroup = match &scope {
        Some(scope) => Some(
            CgroupMemoryReader::open(&scope.usage, &scope.limit)
                .map_err(|e| format!("cannot read {}: {e}", escape_path(&scope.usage)))?,
        ),
        None => None,
    };
    let mut sample = || match &mut cgroup {
        Some(cgroup) => cgroup.sample(),
        None => meminfo.sample(),
    };
    let first = sample().map_err(|e| format!("cannot read memory figures: {e}"))?;
    let mut trend = Trend::new(Duration::from_millis(100));
    trend.push(Duration::ZERO, first.used_percent());
    let sources = Sources::of_this_system(tools, proc_root.to_path_buf(), details);
    let evidence = sources
        .gather(Some(&signals))
        .map_err(|_| "interrupted; ps and top were stopped".to_string())?;
    if let Err(why) = &evidence.ps {
        return Err(why.to_string());
    }
    // A second sample, after the capture: the report's figure, and the trend's last.
    let memory = sample().unwrap_or(first);
    // Read with the figure in host scope; a read of its own in a cgroup's.
    if cgroup.is_some() {
        let _ = meminfo.sample();
    }
    let breakdown = parse_breakdown(meminfo.last_text()).ok();
    let places = read_places(proc_root, sys_root, &evidence);
    let taken = started.elapsed();
    trend.push(taken, memory.used_percent());
    let entry = Entry::Report(Box::new(Report {
        time: chrono::Local::now().fixed_offset(),
        occasion: Occasion::Snapshot,
        memory,
        context: Context {
            trend: trend.line(taken, taken),
            growth: None,
            breakdown,
            pressure: places.pressure,
            tmpfs: places.tmpfs,
            units: places.units,
        },
        evidence,
    }));
    Problems::of_a_snapshot().write(&entry);
    let mut stdout = Stdout;
    let mut entries = vec![entry];
    entries.extend(recent_kills(kernel_log).into_iter().map(Entry::OomKill));
    for entry in &entries {
        if let Delivery::NotWritten(failure) = stdout.write(entry) {
            return Err(format!("cannot write to stdout: {}", failure.error));
        }
    }
    Ok(())
}

/// The kills of the last ten minutes in the kernel's log; none when it cannot be read.
fn recent_kills(kernel_log: Option<&Path>) -> Vec<crate::report::OomKill> {
    let Some(mut log) = kernel_log.and_then(|path| KernelLog::open(path).ok()) else {
        return Vec::new();
    };
    let since = kernel_now().saturating_sub(WINDOW);
    let mut records = KillRecords::new();
    let mut found = Vec::new();
    let _ = log.read(|line| {
        if let Some(kill) = records.feed(line)
            && Duration::from_micros(kill.usec) >= since
        {
            found.push(kill);
        }
    });
    found
        .into_iter()
        .map(|kill| entry_of(kill, false, &SystemUsers))
        .collect()
}
