//! details.log: under the same markers and header lines as incidents.log, the details of the
//! biggest processes of each report.

use super::TextLog;
use crate::render::{details, header};
use crate::report::Entry;

pub struct DetailsLog;

impl TextLog for DetailsLog {
    const FILE_NAME: &'static str = "details.log";

    fn render(&self, entry: &Entry) -> Option<String> {
        let Entry::Report(report) = entry else {
            return None;
        };
        let processes = report.evidence.details.as_ref()?;
        let mut text = header::marker_of(report).unwrap_or_default();
        text.push_str(&header::header_of(report));
        text.push('\n');
        details::render(processes, &report.time, &mut text);
        text.push('\n');
        Some(text)
    }
}
