//! A report as incidents.log holds it (and `snapshot` prints it): the header, the context lines,
//! top's summary indented, what the reader must know, the table, a blank line.

use super::header::header_of;
use super::{context, table};
use crate::report::Report;
use crate::text::escape::escape_into;

/// Appends the report to `out` (after a new-log marker, say): joining them afterwards would hold
/// a second copy of a table that can be megabytes long.
pub fn render(report: &Report, out: &mut String) {
    let header = header_of(report);
    // The table reserves its own room; this is for the header and top's lines.
    out.reserve(header.len() + 1024);
    out.push_str(&header);
    out.push('\n');
    context::render(&report.context, out);
    let evidence = &report.evidence;
    match &evidence.top {
        Ok(summary) => {
            for line in &summary.lines {
                out.push_str("  ");
                escape_into(out, line);
                out.push('\n');
            }
            if let Err(why) = &summary.cpu_busy {
                out.push_str(&format!("  (CPU n/a: {why})\n"));
            }
        }
        Err(why) => out.push_str(&format!("  (no top summary, CPU n/a: {why})\n")),
    }
    for note in &evidence.notes {
        out.push_str(&format!("  ({note})\n"));
    }
    match &evidence.ps {
        Ok(ps_table) => table::render(ps_table, out),
        Err(why) => out.push_str(&format!("  (no process table: {why})\n")),
    }
    out.push('\n');
}
