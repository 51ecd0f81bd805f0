//! The lines that start entries: new-log markers, report headers and recovered lines. Pure: the
//! time comes with the entry, so snapshots of the output are exact.

use chrono::{DateTime, FixedOffset};

use crate::decide::Reason;
use crate::report::{BootEnding, Occasion, PreviousBoot, Recovered, Report};
use crate::sample::MemSample;
use crate::text::duration::format_duration;
use crate::text::size::{format_kib, format_kib_of};

/// `2026-11-22 14:03:15 +01:00`: the local time and its offset, as every entry begins.
pub fn format_time(time: &DateTime<FixedOffset>) -> String {
    time.format("%Y-%m-%d %H:%M:%S %:z").to_string()
}

/// `14:03:15`: the time of day, for a line that names an earlier moment of the same report.
pub fn format_time_of_day(time: &DateTime<FixedOffset>) -> String {
    time.format("%H:%M:%S").to_string()
}

/// A threshold as the user wrote it: `80`, `85.5`.
pub fn format_threshold(threshold_percent: f64) -> String {
    format!("{threshold_percent}%")
}

/// The header line of `report`.
pub fn header_of(report: &Report) -> String {
    header_line(
        &report.time,
        &report.occasion,
        &report.memory,
        report.cpu_busy(),
    )
}

/// `2026-11-22 14:03:15 +01:00 | incident 3 | RAM 83.2% (3.08 of 3.70 GiB) | CPU 12.5% | above
/// 80% for 15s`; for a repeat `…, 10m03s since first report`; for an urgent report `| above 95%
/// (urgent)`; after a kill `| after an OOM kill`.
pub fn header_line(
    time: &DateTime<FixedOffset>,
    occasion: &Occasion,
    mem: &MemSample,
    cpu_busy: Option<f64>,
) -> String {
    let label = match occasion {
        Occasion::Incident { due, .. } => format!("incident {}", due.incident),
        Occasion::Snapshot => "snapshot".into(),
    };
    let cpu = cpu_busy.map_or_else(
        || "n/a".into(),
        |busy| format!("{:.1}%", busy.clamp(0.0, 100.0)),
    );
    let of_limit = if mem.cgroup_limit {
        format!(" of the {} cgroup limit", format_kib(mem.total_kib))
    } else {
        String::new()
    };
    let mut line = format!(
        "{} | {label} | RAM {:.1}%{of_limit} ({}) | CPU {cpu}",
        format_time(time),
        mem.used_percent(),
        format_kib_of(mem.used_kib(), mem.total_kib),
    );
    let Occasion::Incident {
        due,
        threshold_percent,
        urgent_percent,
    } = occasion
    else {
        return line;
    };
    match (due.reason, urgent_percent) {
        (Reason::OomKill, _) => line.push_str(" | after an OOM kill"),
        (Reason::Urgent, Some(urgent)) => {
            line.push_str(&format!(" | above {} (urgent)", format_threshold(*urgent)));
        }
        _ => {
            line.push_str(&format!(
                " | above {} for {}",
                format_threshold(*threshold_percent),
                format_duration(due.high_for)
            ));
            if let Some(since) = due.since_first_report {
                line.push_str(&format!(", {} since first report", format_duration(since)));
            }
        }
    }
    line
}

/// Starts each episode's section in the logs.
pub fn new_log_marker(time: &DateTime<FixedOffset>, incident: u32) -> String {
    format!(
        "===== new log {} | incident {incident} | memory-monitor {} =====\n",
        format_time(time),
        env!("CARGO_PKG_VERSION")
    )
}

/// The marker a report's entries start with, if it begins an episode.
pub fn marker_of(report: &Report) -> Option<String> {
    let incident = report.incident().filter(|_| report.starts_episode())?;
    Some(new_log_marker(&report.time, incident))
}

/// `<time> <offset> | recovered | RAM <n.n>% | high for <duration>`, then a blank line.
/// `<time> | previous boot | ended abruptly during incident 3: high since <time>, last report
/// 14:13:15, RAM 97.2% when last written[; evidence]`, and a blank line.
pub fn previous_boot_line(previous: &PreviousBoot) -> String {
    let ending = match previous.ending {
        BootEnding::Abrupt => "ended abruptly",
        BootEnding::ShutDown => "was shut down",
    };
    let mut line = format!(
        "{} | previous boot | {ending} during incident {}: high since {}, last report {}",
        format_time(&previous.time),
        previous.incident,
        format_time(&previous.high_since),
        format_time_of_day(&previous.last_report),
    );
    if let Some(used) = previous.used_percent {
        line.push_str(&format!(", RAM {used:.1}% when last written"));
    }
    for evidence in &previous.evidence {
        line.push_str("; ");
        line.push_str(evidence);
    }
    line.push_str("\n\n");
    line
}

pub fn recovered_line(recovered: &Recovered) -> String {
    format!(
        "{} | recovered | RAM {:.1}% | high for {}\n\n",
        format_time(&recovered.time),
        recovered.memory.used_percent(),
        format_duration(recovered.high_for)
    )
}
