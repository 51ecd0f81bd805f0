//! The entries of details.log: for each of the processes with the most resident memory, what
//! `/proc` says about it, one value per line, `unavailable (<reason>)` where it could not say.

use std::fmt::Display;

use chrono::{DateTime, FixedOffset, TimeDelta};

use super::header::format_time;
use crate::proc::{ProcDetails, Value};
use crate::text::duration::format_duration;
use crate::text::escape::escape;
use crate::text::size::format_kib;

/// Appends one entry per process, ranked from 1, in the order given.
pub fn render(processes: &[ProcDetails], now: &DateTime<FixedOffset>, out: &mut String) {
    for (rank, d) in processes.iter().enumerate() {
        push_line(
            out,
            &format!(
                "  #{} PID {} {}",
                rank + 1,
                d.pid,
                shown(&d.name, |n| text(n))
            ),
        );
        let user = shown(&d.user, |u| match &u.name {
            Some(name) => format!("{} (uid {})", escape(name), u.uid),
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
            format!("{} ({})", p.pid, shown(&p.name, |n| text(n)))
        });
        let memory = |v: &Value<u64>| shown(v, |&kib| memory_text(kib));
        let unit = shown(&d.unit, |u| {
            if u.name == u.cgroup {
                format!("none (cgroup {})", escape(&u.cgroup))
            } else {
                format!("{} (cgroup {})", escape(&u.name), escape(&u.cgroup))
            }
        });
        let fields: [(&str, String); 12] = [
            ("user", user),
            ("command", shown(&d.command, |c| text(c))),
            ("started", started),
            ("RSS", memory(&d.rss_kib)),
            ("peak RSS", memory(&d.peak_rss_kib)),
            ("VSZ", memory(&d.vsz_kib)),
            ("swap", memory(&d.swap_kib)),
            ("threads", shown(&d.threads, u64::to_string)),
            ("state", shown(&d.state, |s| text(s))),
            ("parent", parent),
            ("cwd", shown(&d.cwd, |c| text(c))),
            ("unit", unit),
        ];
        for (label, value) in fields {
            push_line(out, &format!("    {:<10}{value}", format!("{label}:")));
        }
    }
}

/// Bytes from /proc, escaped like a COMMAND.
fn text(bytes: &[u8]) -> String {
    escape(bytes)
}

/// Values end their line, and one from /proc may end in blanks (an argument `"x "`, an empty
/// name set with prctl): dropped, as the table and top's lines drop theirs, so no line ends in
/// a blank.
fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end_matches(' '));
    out.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::{Hierarchy, Parent, Unavailable, UnitName, User};
    use chrono::TimeZone;

    #[test]
    fn values_that_end_in_blanks_leave_no_trailing_blank_and_text_is_escaped() {
        let now = FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 22, 14, 3, 15)
            .unwrap();
        let d = ProcDetails {
            pid: 7,
            name: Ok(Vec::new()),
            user: Ok(User {
                uid: 0,
                name: Some(b"ro\not".to_vec()),
            }),
            command: Ok(b"grep -v ^   ".to_vec()),
            running_for: Ok(std::time::Duration::from_secs(5)),
            rss_kib: Ok(1),
            peak_rss_kib: Ok(1),
            vsz_kib: Ok(1),
            swap_kib: Err(Unavailable::Ended),
            threads: Ok(1),
            state: Ok(Vec::new()),
            parent: Ok(Parent {
                pid: 1,
                name: Ok(b"in\x1bit".to_vec()),
            }),
            cwd: Ok(b"/tmp/dir ".to_vec()),
            unit: Ok(UnitName {
                name: b"a\nb.service".to_vec(),
                cgroup: b"/system.slice/a\nb.service".to_vec(),
                hierarchy: Hierarchy::V2,
            }),
        };
        let mut out = String::new();
        render(&[d], &now, &mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "  #1 PID 7");
        assert_eq!(lines[1], "    user:     ro\\x0aot (uid 0)");
        assert_eq!(lines[2], "    command:  grep -v ^");
        assert_eq!(lines[7], "    swap:     unavailable (process ended)");
        assert_eq!(lines[9], "    state:");
        assert_eq!(lines[10], "    parent:   1 (in\\x1bit)");
        assert_eq!(lines[11], "    cwd:      /tmp/dir");
        assert_eq!(
            lines[12],
            "    unit:     a\\x0ab.service (cgroup /system.slice/a\\x0ab.service)"
        );
        assert!(out.lines().all(|l| !l.ends_with(' ')), "{out}");
    }
}
