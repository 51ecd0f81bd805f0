//! Reports built as the daemon builds them, from recorded outputs and a fake machine.

use std::time::Duration;

use super::fake::FakeProc;
/// The time of the reports the tests build: 2026-11-22 14:03:15 +01:00.
pub fn report_time() -> chrono::DateTime<chrono::FixedOffset> {
    use chrono::TimeZone;
    chrono::FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 22, 14, 3, 15)
        .unwrap()
}

/// 83.2% of 3.70 GiB in use.
pub fn busy_memory() -> memory_monitor::sample::MemSample {
    memory_monitor::sample::MemSample {
        total_kib: 3_879_731,
        available_kib: 650_117,
        cgroup_limit: false,
    }
}

/// The first report of incident 1, 15 s above 80%.
pub fn first_report() -> memory_monitor::report::Occasion {
    memory_monitor::report::Occasion::Incident {
        due: memory_monitor::decide::ReportDue {
            incident: 1,
            high_for: Duration::from_secs(15),
            since_first_report: None,
            reason: memory_monitor::decide::Reason::Sustained,
        },
        threshold_percent: 80.0,
        urgent_percent: Some(95.0),
    }
}

/// Where a report's evidence comes from: recorded outputs (ps and top are never run), `fake`
/// for /proc, `users` for passwd.
pub fn sources<'a>(
    fake: &FakeProc,
    details: usize,
    users: &'a dyn memory_monitor::proc::UserNames,
) -> memory_monitor::capture::Sources<'a> {
    memory_monitor::capture::Sources {
        tools: memory_monitor::capture::Tools {
            ps_bin: "unused".into(),
            top_bin: "unused".into(),
            timeout: Duration::from_secs(1),
            output_limit: memory_monitor::capture::OUTPUT_LIMIT,
        },
        proc_root: fake.path().to_path_buf(),
        details,
        users,
        clock_ticks: 100,
    }
}

/// A report of `occasion` at [`report_time`] with [`busy_memory`], from what ps and top printed
/// (or how they failed) and the machine `sources` describe.
pub fn report_from(
    ps: Result<Vec<u8>, memory_monitor::report::ProgramFailure>,
    top: Result<Vec<u8>, memory_monitor::report::ProgramFailure>,
    sources: &memory_monitor::capture::Sources,
    occasion: memory_monitor::report::Occasion,
) -> memory_monitor::report::Report {
    let outputs = memory_monitor::capture::Outputs::recorded(ps, top);
    memory_monitor::report::Report {
        time: report_time(),
        occasion,
        memory: busy_memory(),
        context: Default::default(),
        evidence: sources.evidence_from(outputs),
    }
}

/// What incidents.log holds for `report`, and details.log, as the daemon's outputs render them.
pub fn logged(report: memory_monitor::report::Report) -> (String, String) {
    use memory_monitor::output::{DetailsLog, IncidentsLog, TextLog};
    let entry = memory_monitor::report::Entry::Report(Box::new(report));
    (
        IncidentsLog.render(&entry).unwrap_or_default(),
        DetailsLog.render(&entry).unwrap_or_default(),
    )
}
