//! The text of incidents.log: markers, header lines, top's summary, the table, recovered lines.
//! Pure: the caller passes the wall-clock time, so snapshots of the output are exact.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};

use crate::capture::gather::Incident;
use crate::decide::episode::Report;
use crate::render::table;
use crate::sample::meminfo::MemSample;
use crate::text::duration::format_duration;
use crate::text::size::format_kib_of;

/// What a header line is for.
#[derive(Clone, Copy, Debug)]
pub enum Occasion {
    Incident {
        report: Report,
        threshold_percent: f64,
    },
    Snapshot,
}

pub fn format_time(time: &DateTime<FixedOffset>) -> String {
    time.format("%Y-%m-%d %H:%M:%S %:z").to_string()
}

/// A threshold as the user wrote it: `80`, `85.5`.
pub fn format_threshold(threshold_percent: f64) -> String {
    format!("{threshold_percent}%")
}

/// `2026-11-22 14:03:15 +01:00 | incident 3 | RAM 83.2% (3.08 of 3.70 GiB) | CPU 12.5% | above
/// 80% for 15s`, and for a repeat `…, 10m03s since first report`.
pub fn header_line(
    time: &DateTime<FixedOffset>,
    occasion: &Occasion,
    mem: &MemSample,
    cpu_busy: Option<f64>,
) -> String {
    let label = match occasion {
        Occasion::Incident { report, .. } => format!("incident {}", report.incident),
        Occasion::Snapshot => "snapshot".into(),
    };
    let cpu = cpu_busy.map_or_else(
        || "n/a".into(),
        |busy| format!("{:.1}%", busy.clamp(0.0, 100.0)),
    );
    let mut line = format!(
        "{} | {label} | RAM {:.1}% ({}) | CPU {cpu}",
        format_time(time),
        mem.used_percent(),
        format_kib_of(mem.used_kib(), mem.total_kib),
    );
    if let Occasion::Incident {
        report,
        threshold_percent,
    } = occasion
    {
        line.push_str(&format!(
            " | above {} for {}",
            format_threshold(*threshold_percent),
            format_duration(report.high_for)
        ));
        if let Some(since) = report.since_first_report {
            line.push_str(&format!(", {} since first report", format_duration(since)));
        }
    }
    line
}

/// Starts each episode's section in both logs.
pub fn new_log_marker(time: &DateTime<FixedOffset>, incident: u32) -> String {
    format!(
        "===== new log {} | incident {incident} | memory-monitor {} =====\n",
        format_time(time),
        env!("CARGO_PKG_VERSION")
    )
}

/// `<time> <offset> | recovered | RAM <n.n>% | high for <duration>`, then a blank line.
pub fn recovered_line(time: &DateTime<FixedOffset>, mem: &MemSample, high_for: Duration) -> String {
    format!(
        "{} | recovered | RAM {:.1}% | high for {}\n\n",
        format_time(time),
        mem.used_percent(),
        format_duration(high_for)
    )
}

/// One report of incidents.log (or the first part of a snapshot): header, top's summary
/// indented, the table, a blank line.
pub fn render_incident(header: &str, incident: &Incident) -> String {
    render_incident_after(String::new(), header, incident)
}

/// The same, appended to `out` (a new-log marker, say): joining them afterwards would hold a
/// second copy of a table that can be megabytes long.
pub fn render_incident_after(mut out: String, header: &str, incident: &Incident) -> String {
    // The table reserves its own room; this is for the header and top's lines.
    out.reserve(header.len() + 1024);
    out.push_str(header);
    out.push('\n');
    match &incident.top {
        Ok(summary) => {
            for line in &summary.lines {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
            if let Err(why) = &summary.cpu_busy {
                out.push_str(&format!("  (CPU n/a: {why})\n"));
            }
        }
        Err(why) => out.push_str(&format!("  (no top summary, CPU n/a: {why})\n")),
    }
    for note in &incident.notes {
        out.push_str(&format!("  ({note})\n"));
    }
    match &incident.ps {
        Ok(ps_table) => table::render(ps_table, &mut out),
        Err(why) => out.push_str(&format!("  (no process table: {why})\n")),
    }
    out.push('\n');
    out
}
