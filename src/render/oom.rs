//! The OOM-kill entries of incidents.log: one line each, then a blank line, as every entry ends.

use super::header::format_time;
use crate::report::{KillUser, Limit, MoreOomKills, OomKill, OomKillsCounted};
use crate::text::escape::escape;
use crate::text::size::format_kib;

const BEFORE_START: &str = " | before memory-monitor started";

/// `<time> | oom-kill | PID 4242 (python3) of alice | anon-rss 1.52 GiB, file-rss 6.50 MiB,
/// shmem-rss 0 KiB | system-wide`, or `| limit of cgroup <path>`.
pub fn kill_entry(kill: &OomKill) -> String {
    let user = match &kill.user {
        KillUser::Named { name, .. } => format!(" of {}", escape(name)),
        KillUser::Uid(uid) => format!(" of {uid}"),
        KillUser::Unknown => String::new(),
    };
    let limit = match &kill.limit {
        Limit::SystemWide => "system-wide".to_string(),
        Limit::Cgroup(Some(path)) => format!("limit of cgroup {}", escape(path)),
        Limit::Cgroup(None) => "limit of a cgroup".to_string(),
    };
    format!(
        "{} | oom-kill | PID {} ({}){user} | anon-rss {}, file-rss {}, shmem-rss {} | {limit}{}\n\n",
        format_time(&kill.time),
        kill.pid,
        escape(&kill.name),
        format_kib(kill.anon_rss_kib),
        format_kib(kill.file_rss_kib),
        format_kib(kill.shmem_rss_kib),
        if kill.before_start { BEFORE_START } else { "" },
    )
}

/// `<time> | oom-kill | 15 more processes killed in the last minute: stress ×10, tail ×5`.
pub fn more_entry(more: &MoreOomKills) -> String {
    let names: Vec<String> = more
        .names
        .iter()
        .map(|(name, count)| format!("{} ×{count}", escape(name)))
        .collect();
    format!(
        "{} | oom-kill | {} more processes killed in the last minute: {}{}\n\n",
        format_time(&more.time),
        more.count,
        names.join(", "),
        if more.before_start { BEFORE_START } else { "" },
    )
}

/// `<time> | oom-kill | 3 processes killed by the kernel; names unknown: <why>`.
pub fn counted_entry(counted: &OomKillsCounted) -> String {
    format!(
        "{} | oom-kill | {} processes killed by the kernel; names unknown: {}{}\n\n",
        format_time(&counted.time),
        counted.count,
        escape(counted.why.as_bytes()),
        if counted.before_start {
            BEFORE_START
        } else {
            ""
        },
    )
}
