//! An entry as the outputs beside the logs take it: its text as incidents.log holds it, and
//! the few facts a hook's environment and a journal entry's fields carry, as text escaped as in
//! the log, so that no newline, NUL or escape sequence from a process name reaches them.

use chrono::SecondsFormat;

use super::{header, incident, oom};
use crate::decide::Reason;
use crate::report::{Entry, KillUser, Occasion};
use crate::text::escape::escape;

/// What an entry is, in a word: `report`, `recovered`, `oom-kill` or `previous-boot`.
pub fn event_of(entry: &Entry) -> &'static str {
    match entry {
        Entry::Report(_) => "report",
        Entry::Recovered(_) => "recovered",
        Entry::OomKill(_) | Entry::MoreOomKills(_) | Entry::OomKillsCounted(_) => "oom-kill",
        Entry::PreviousBoot(_) => "previous-boot",
    }
}

/// The entry as incidents.log holds it, without the new-log marker before a report and without
/// the blank line after it: the text itself, ending in one newline.
pub fn entry_text(entry: &Entry) -> String {
    let mut text = match entry {
        Entry::Report(report) => {
            let mut text = String::new();
            incident::render(report, &mut text);
            text
        }
        Entry::Recovered(recovered) => header::recovered_line(recovered),
        Entry::OomKill(kill) => oom::kill_entry(kill),
        Entry::MoreOomKills(more) => oom::more_entry(more),
        Entry::OomKillsCounted(counted) => oom::counted_entry(counted),
        Entry::PreviousBoot(previous) => header::previous_boot_line(previous),
    };
    let end = text.trim_end_matches('\n').len();
    text.truncate(end);
    text.push('\n');
    text
}

/// The biggest process of a report's table: its first row, by %MEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopProcess {
    pub pid: u32,
    pub user: String,
    pub command: String,
    pub rss_kib: u64,
}

/// The process an OOM kill entry names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Victim {
    pub pid: u32,
    pub name: String,
    pub user: Option<String>,
}

/// What an entry says, field by field; `None` where a field does not apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub event: &'static str,
    pub incident: Option<u32>,
    /// Why a report was written: `sustained`, `urgent`, `repeat` or `oom-kill`.
    pub reason: Option<&'static str>,
    /// RFC 3339, with the offset.
    pub time: String,
    /// One decimal, as the header shows it.
    pub ram_percent: Option<String>,
    pub cpu_percent: Option<String>,
    pub top: Option<TopProcess>,
    pub victim: Option<Victim>,
    /// How many kills a summary entry stands for.
    pub kills: Option<u64>,
}

impl Facts {
    pub fn of(entry: &Entry) -> Facts {
        let mut facts = Facts {
            event: event_of(entry),
            incident: None,
            reason: None,
            time: String::new(),
            ram_percent: None,
            cpu_percent: None,
            top: None,
            victim: None,
            kills: None,
        };
        let time = match entry {
            Entry::Report(report) => {
                if let Occasion::Incident { due, .. } = report.occasion {
                    facts.incident = Some(due.incident);
                    facts.reason = Some(reason_word(due.reason));
                }
                facts.ram_percent = Some(format!("{:.1}", report.memory.used_percent()));
                facts.cpu_percent = report
                    .cpu_busy()
                    .map(|busy| format!("{:.1}", busy.clamp(0.0, 100.0)));
                facts.top = report.evidence.ps.as_ref().ok().and_then(|table| {
                    let row = super::table::sorted(table).first()?.row();
                    Some(TopProcess {
                        pid: row.pid?,
                        user: escape(row.user),
                        command: escape(row.command),
                        rss_kib: row.rss_kib.unwrap_or(0),
                    })
                });
                report.time
            }
            Entry::Recovered(recovered) => {
                facts.incident = Some(recovered.incident);
                facts.ram_percent = Some(format!("{:.1}", recovered.memory.used_percent()));
                recovered.time
            }
            Entry::OomKill(kill) => {
                facts.victim = Some(Victim {
                    pid: kill.pid,
                    name: escape(&kill.name),
                    user: match &kill.user {
                        KillUser::Named { name, .. } => Some(escape(name)),
                        KillUser::Uid(uid) => Some(uid.to_string()),
                        KillUser::Unknown => None,
                    },
                });
                facts.kills = Some(1);
                kill.time
            }
            Entry::MoreOomKills(more) => {
                facts.kills = Some(more.count);
                more.time
            }
            Entry::OomKillsCounted(counted) => {
                facts.kills = Some(counted.count);
                counted.time
            }
            Entry::PreviousBoot(previous) => {
                facts.incident = Some(previous.incident);
                facts.ram_percent = previous.used_percent.map(|used| format!("{used:.1}"));
                previous.time
            }
        };
        facts.time = time.to_rfc3339_opts(SecondsFormat::Secs, false);
        facts
    }
}

pub fn reason_word(reason: Reason) -> &'static str {
    match reason {
        Reason::Sustained => "sustained",
        Reason::Urgent => "urgent",
        Reason::Repeat => "repeat",
        Reason::OomKill => "oom-kill",
    }
}
