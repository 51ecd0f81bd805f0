//! The context lines of a report, between its header and top's summary: how memory got there.

use super::header::format_time_of_day;
use super::memory;
use crate::report::{Context, Growth};
use crate::sample::TrendLine;
use crate::text::duration::format_duration;
use crate::text::escape::escape;
use crate::text::size::format_kib;

/// The eight heights of a cell, lowest first, on a fixed 0–100% scale.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Appends the context lines, each indented by two spaces and ended by a newline.
pub fn render(context: &Context, out: &mut String) {
    if let Some(trend) = &context.trend {
        out.push_str(&trend_line(trend));
        out.push('\n');
    }
    if let Some(growth) = &context.growth {
        out.push_str(&growth_line(growth));
        out.push('\n');
    }
    let lines = context
        .breakdown
        .as_ref()
        .map(memory::breakdown_line)
        .into_iter()
        .chain(context.pressure.as_ref().map(memory::pressure_line))
        .chain(memory::tmpfs_line(&context.tmpfs))
        .chain(memory::unit_lines(&context.units));
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
}

/// `  RAM over the last 10m: ▁▂▃… (low 41.0%, high 97.2%)`: one cell per thirtieth of the
/// window, oldest first, each the highest used% in it; a blank where there was no sample.
pub fn trend_line(trend: &TrendLine) -> String {
    let spark: String = trend
        .cells
        .iter()
        .map(|cell| cell.map_or(' ', bar))
        .collect();
    format!(
        "  RAM over the last {}: {spark} (low {:.1}%, high {:.1}%)",
        format_duration(trend.window),
        trend.low,
        trend.high
    )
}

fn bar(percent: f64) -> char {
    let level = (percent.clamp(0.0, 100.0) / 12.5) as usize;
    BARS.get(level.min(BARS.len() - 1)).copied().unwrap_or(' ')
}

/// `  grew most since 14:03:00 (15s ago): firefox (2713) +1.50 GiB, stress (4242) +300.00 MiB
/// (new), …`, or `nothing grew`.
pub fn growth_line(growth: &Growth) -> String {
    let mut line = format!(
        "  grew most since {} ({} ago): ",
        format_time_of_day(&growth.since),
        format_duration(growth.ago)
    );
    if growth.grew.is_empty() {
        line.push_str("nothing grew");
        return line;
    }
    let growers: Vec<String> = growth
        .grew
        .iter()
        .map(|g| {
            let name = if g.name.is_empty() {
                "(ended)".to_string()
            } else {
                escape(&g.name)
            };
            let new = if g.new { " (new)" } else { "" };
            format!("{name} ({}) +{}{new}", g.pid, format_kib(g.kib))
        })
        .collect();
    line.push_str(&growers.join(", "));
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::Grew;
    use crate::sample::CELLS;
    use std::time::Duration;

    #[test]
    fn cells_climb_the_scale_and_missing_ones_are_blank() {
        let mut cells = [None; CELLS];
        for (i, cell) in cells.iter_mut().enumerate().take(9) {
            *cell = Some(i as f64 * 12.5);
        }
        let line = trend_line(&TrendLine {
            window: Duration::from_secs(600),
            cells,
            low: 0.0,
            high: 100.0,
        });
        assert_eq!(
            line,
            format!(
                "  RAM over the last 10m: ▁▂▃▄▅▆▇██{} (low 0.0%, high 100.0%)",
                " ".repeat(21)
            )
        );
    }

    #[test]
    fn growers_say_their_name_pid_and_growth_new_ones_marked() {
        use chrono::TimeZone;
        let since = chrono::FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 22, 14, 3, 0)
            .unwrap();
        let growth = Growth {
            since,
            ago: Duration::from_secs(15),
            grew: vec![
                Grew {
                    pid: 2713,
                    name: b"fire\x1bfox".to_vec(),
                    kib: 1_572_864,
                    new: false,
                },
                Grew {
                    pid: 4242,
                    name: Vec::new(),
                    kib: 512,
                    new: true,
                },
            ],
        };
        assert_eq!(
            growth_line(&growth),
            "  grew most since 14:03:00 (15s ago): fire\\x1bfox (2713) +1.50 GiB, (ended) (4242) +512 KiB (new)"
        );
        let nothing = Growth {
            grew: Vec::new(),
            ..growth
        };
        assert_eq!(
            growth_line(&nothing),
            "  grew most since 14:03:00 (15s ago): nothing grew"
        );
    }
}
