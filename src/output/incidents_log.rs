//! incidents.log: every report, recovered line and OOM kill, each episode under a new-log marker,
//! and the line that says how the previous boot ended when it ended during an episode.

use super::TextLog;
use crate::render::{header, incident, oom};
use crate::report::Entry;

pub struct IncidentsLog;

impl TextLog for IncidentsLog {
    const FILE_NAME: &'static str = "incidents.log";

    fn render(&self, entry: &Entry) -> Option<String> {
        Some(match entry {
            Entry::Report(report) => {
                let mut text = header::marker_of(report).unwrap_or_default();
                incident::render(report, &mut text);
                text
            }
            Entry::Recovered(recovered) => header::recovered_line(recovered),
            Entry::OomKill(kill) => oom::kill_entry(kill),
            Entry::MoreOomKills(more) => oom::more_entry(more),
            Entry::OomKillsCounted(counted) => oom::counted_entry(counted),
            Entry::PreviousBoot(previous) => header::previous_boot_line(previous),
        })
    }
}
