//! incidents.log: every report and recovered line, each episode under a new-log marker.

use super::TextLog;
use crate::render::{header, incident};
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
        })
    }
}
