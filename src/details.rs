//! The text of details.log: for each of the processes with the most resident memory, what
//! `/proc` says about it, one value per line, `unavailable (<reason>)` where it could not say.

use std::fmt::Display;

use chrono::{DateTime, FixedOffset, TimeDelta};

use crate::duration::format_duration;
use crate::human::format_kib;
use crate::procinfo::{ProcDetails, Value};
use crate::report::format_time;

/// Appends one entry per process, ranked from 1, in the order given.
pub fn render(processes: &[ProcDetails], now: &DateTime<FixedOffset>, out: &mut String) {
    for (rank, d) in processes.iter().enumerate() {
        out.push_str(&format!(
            "  #{} PID {} {}\n",
            rank + 1,
            d.pid,
            shown(&d.name, |n| n.clone())
        ));
        let user = shown(&d.user, |u| match &u.name {
            Some(name) => format!("{name} (uid {})", u.uid),
            None => format!("uid {} (no passwd entry)", u.uid),
        });
        let started = shown(&d.running_for, |running| {
            let start = TimeDelta::from_std(*running)
                .ok()
                .and_then(|ago| now.checked_sub_signed(ago));
            match start {
                Some(start) => format!(
                    "{} (running for {})",
                    format_time(&start),
                    format_duration(*running)
                ),
                None => format!("running for {}", format_duration(*running)),
            }
        });
        let parent = shown(&d.parent, |p| {
            format!("{} ({})", p.pid, shown(&p.name, |n| n.clone()))
        });
        let memory = |v: &Value<u64>| shown(v, |&kib| memory_text(kib));
        let fields: [(&str, String); 11] = [
            ("user", user),
            ("command", shown(&d.command, |c| c.clone())),
            ("started", started),
            ("RSS", memory(&d.rss_kib)),
            ("peak RSS", memory(&d.peak_rss_kib)),
            ("VSZ", memory(&d.vsz_kib)),
            ("swap", memory(&d.swap_kib)),
            ("threads", shown(&d.threads, u64::to_string)),
            ("state", shown(&d.state, |s| s.clone())),
            ("parent", parent),
            ("cwd", shown(&d.cwd, |c| c.clone())),
        ];
        for (label, value) in fields {
            out.push_str(&format!("    {:<10}{value}\n", format!("{label}:")));
        }
    }
}

/// `2.93 GiB (3077224 KiB)`: the human figure and the exact one the table uses.
fn memory_text(kib: u64) -> String {
    if kib < 1024 {
        format!("{kib} KiB")
    } else {
        format!("{} ({kib} KiB)", format_kib(kib))
    }
}

fn shown<T, S: Display>(value: &Value<T>, show: impl FnOnce(&T) -> S) -> String {
    match value {
        Ok(v) => show(v).to_string(),
        Err(why) => format!("unavailable ({why})"),
    }
}
