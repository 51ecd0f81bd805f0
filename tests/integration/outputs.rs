//! The outputs behind one trait: a toy output, written here as a new one would be in
//! `src/output/`, gets every entry beside the real logs, each rendered its own way.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use memory_monitor::output::{Delivery, IncidentsLog, LogFile, Output, Outputs};
use memory_monitor::render::header;
use memory_monitor::report::{Entry, Recovered};

use crate::util::{self, FakeProc, FakeUsers, corpus};

/// A new output: one line per entry, the report's first process or how long memory was high.
struct OneLinePerEntry {
    lines: Rc<RefCell<Vec<String>>>,
}

impl Output for OneLinePerEntry {
    fn name(&self) -> String {
        "one line per entry".into()
    }

    fn write(&mut self, entry: &Entry) -> Delivery {
        let line = match entry {
            Entry::Report(report) => {
                let table = report.evidence.ps.as_ref().ok();
                let biggest = table.and_then(|t| t.biggest_by_rss(1, &[]).first().copied());
                format!("incident {:?}: PID {biggest:?}", report.incident())
            }
            Entry::Recovered(recovered) => format!("recovered after {:?}", recovered.high_for),
            Entry::OomKill(kill) => format!("PID {} killed", kill.pid),
            Entry::MoreOomKills(more) => format!("{} more killed", more.count),
            Entry::OomKillsCounted(counted) => format!("{} killed", counted.count),
            Entry::PreviousBoot(previous) => format!("boot ended in {}", previous.incident),
        };
        self.lines.borrow_mut().push(line);
        Delivery::Nothing
    }
}

#[test]
fn a_new_output_gets_every_entry_beside_the_logs() {
    let fake = FakeProc::new();
    let logs = tempfile::tempdir().unwrap();
    let lines = Rc::new(RefCell::new(Vec::new()));
    let mut outputs = Outputs::new(vec![
        Box::new(LogFile::prepare(logs.path(), IncidentsLog).unwrap()),
        Box::new(OneLinePerEntry {
            lines: Rc::clone(&lines),
        }),
    ]);

    let users = FakeUsers::standard();
    let sources = util::sources(&fake, 0, &users);
    let report = util::report_from(
        Ok(corpus("psaux_jc-centos77_1.txt")),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &sources,
        util::first_report(),
    );
    let header = header::header_of(&report);
    outputs.write(&Entry::Report(Box::new(report)));
    outputs.write(&Entry::Recovered(Recovered {
        time: util::report_time(),
        incident: 1,
        memory: util::busy_memory(),
        high_for: Duration::from_secs(75),
    }));

    assert_eq!(
        *lines.borrow(),
        ["incident Some(1): PID Some(823)", "recovered after 75s"]
    );
    let incidents = std::fs::read_to_string(logs.path().join("incidents.log")).unwrap();
    assert!(incidents.starts_with("===== new log "), "{incidents}");
    assert!(incidents.contains(&format!("\n{header}\n")), "{incidents}");
    assert!(incidents.ends_with(" | recovered | RAM 83.2% | high for 1m15s\n\n"));
}
