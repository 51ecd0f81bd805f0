//! What a hook is told in its environment: `MEMORY_MONITOR_*`, from the entry's facts. Every
//! value from a process is escaped as in the log (`render::facts`), so no newline, NUL or escape
//! sequence reaches a hook through a variable.

use crate::render::facts::Facts;

/// The variables for one entry; those that do not apply to it are left out (unset). A run after
/// dropped entries adds `MEMORY_MONITOR_DROPPED`.
pub fn variables(facts: &Facts, host: &str) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("MEMORY_MONITOR_EVENT", facts.event.to_string()),
        ("MEMORY_MONITOR_TIME", facts.time.clone()),
        ("MEMORY_MONITOR_HOST", host.to_string()),
    ];
    let mut set = |name: &'static str, value: Option<String>| {
        if let Some(value) = value {
            env.push((name, value));
        }
    };
    set(
        "MEMORY_MONITOR_INCIDENT",
        facts.incident.map(|n| n.to_string()),
    );
    set("MEMORY_MONITOR_REASON", facts.reason.map(str::to_string));
    set("MEMORY_MONITOR_RAM_PERCENT", facts.ram_percent.clone());
    set("MEMORY_MONITOR_CPU_PERCENT", facts.cpu_percent.clone());
    if let Some(top) = &facts.top {
        set("MEMORY_MONITOR_TOP_PID", Some(top.pid.to_string()));
        set("MEMORY_MONITOR_TOP_USER", Some(top.user.clone()));
        set("MEMORY_MONITOR_TOP_COMMAND", Some(top.command.clone()));
        set("MEMORY_MONITOR_TOP_RSS_KIB", Some(top.rss_kib.to_string()));
    }
    if let Some(victim) = &facts.victim {
        set("MEMORY_MONITOR_OOM_PID", Some(victim.pid.to_string()));
        set("MEMORY_MONITOR_OOM_NAME", Some(victim.name.clone()));
        set("MEMORY_MONITOR_OOM_USER", victim.user.clone());
    }
    set(
        "MEMORY_MONITOR_OOM_KILLS",
        facts.kills.map(|n| n.to_string()),
    );
    env
}

/// The line a run's stdin ends with when entries were dropped before it.
pub fn dropped_note(dropped: u64) -> String {
    format!(
        "(memory-monitor: {dropped} earlier entries were dropped, not given to this hook: it was still running, and at most {} entries wait)\n",
        super::queue::WAITING_AT_MOST
    )
}

/// What the daemon's messages call an entry: `the report of incident 3`, `an OOM kill`.
pub fn describe(facts: &Facts) -> String {
    match (facts.event, facts.incident, &facts.victim) {
        ("report", Some(n), _) => format!("the report of incident {n}"),
        ("report", None, _) => "a report".into(),
        ("recovered", Some(n), _) => format!("the recovery of incident {n}"),
        (_, _, Some(victim)) => format!("the OOM kill of PID {} ({})", victim.pid, victim.name),
        _ => "an OOM kill count".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Entry, KillUser, Limit, MoreOomKills, OomKill, OomKillsCounted};
    use chrono::DateTime;

    fn time() -> chrono::DateTime<chrono::FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-22T14:03:15+01:00").unwrap()
    }

    fn env_of(entry: &Entry) -> Vec<(&'static str, String)> {
        variables(&Facts::of(entry), "pi")
    }

    #[test]
    fn a_kill_names_its_victim_escaped_and_a_count_says_how_many() {
        let kill = Entry::OomKill(OomKill {
            time: time(),
            pid: 4242,
            name: b"py\x1b[2J\nthon".to_vec(),
            user: KillUser::Uid(1000),
            anon_rss_kib: 1,
            file_rss_kib: 2,
            shmem_rss_kib: 0,
            limit: Limit::SystemWide,
            before_start: false,
        });
        assert_eq!(
            env_of(&kill),
            [
                ("MEMORY_MONITOR_EVENT", "oom-kill"),
                ("MEMORY_MONITOR_TIME", "2026-11-22T14:03:15+01:00"),
                ("MEMORY_MONITOR_HOST", "pi"),
                ("MEMORY_MONITOR_OOM_PID", "4242"),
                ("MEMORY_MONITOR_OOM_NAME", "py\\x1b[2J\\x0athon"),
                ("MEMORY_MONITOR_OOM_USER", "1000"),
                ("MEMORY_MONITOR_OOM_KILLS", "1"),
            ]
            .map(|(k, v)| (k, v.to_string()))
        );
        assert_eq!(
            describe(&Facts::of(&kill)),
            "the OOM kill of PID 4242 (py\\x1b[2J\\x0athon)"
        );

        let more = Entry::MoreOomKills(MoreOomKills {
            time: time(),
            count: 90,
            names: vec![(b"stress".to_vec(), 90)],
            before_start: false,
        });
        let counted = Entry::OomKillsCounted(OomKillsCounted {
            time: time(),
            count: 3,
            why: "no CAP_SYSLOG".into(),
            before_start: false,
        });
        for (entry, n) in [(more, "90"), (counted, "3")] {
            let env = env_of(&entry);
            assert!(env.contains(&("MEMORY_MONITOR_EVENT", "oom-kill".into())));
            assert!(env.contains(&("MEMORY_MONITOR_OOM_KILLS", n.into())));
            assert!(!env.iter().any(|(k, _)| *k == "MEMORY_MONITOR_OOM_PID"));
            assert_eq!(describe(&Facts::of(&entry)), "an OOM kill count");
        }
    }
}
