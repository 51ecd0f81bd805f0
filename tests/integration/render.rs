//! The report's text, end to end from recorded outputs and a fake proc root, pinned by
//! snapshots: header lines, the incident section, the details section.

use crate::util;

use std::time::Duration;

use memory_monitor::decide::{Reason, ReportDue};
use memory_monitor::parse::ps;
use memory_monitor::render::{details, header, incident};
use memory_monitor::report::{Ending, Occasion, ProgramFailure, Recovered, Report};
use memory_monitor::sample::MemSample;
use util::{FakeProc, FakeProcess, FakeUsers, busy_memory, cmdline_of, corpus, report_time};

/// A snapshot's report from recorded outputs on `fake`, with the standard users.
fn report_from(
    ps_output: Result<Vec<u8>, ProgramFailure>,
    top_output: Result<Vec<u8>, ProgramFailure>,
    fake: &FakeProc,
    details: usize,
) -> Report {
    let users = FakeUsers::standard();
    let sources = util::sources(fake, details, &users);
    util::report_from(ps_output, top_output, &sources, Occasion::Snapshot)
}

fn incident_text(report: &Report) -> String {
    let mut text = String::new();
    incident::render(report, &mut text);
    text
}

fn details_text(report: &Report) -> String {
    let mut text = String::new();
    details::render(
        report.evidence.details.as_deref().unwrap_or_default(),
        &report_time(),
        &mut text,
    );
    text
}

#[test]
fn header_lines() {
    let first = ReportDue {
        incident: 3,
        high_for: Duration::from_secs(15),
        since_first_report: None,
        reason: Reason::Sustained,
    };
    let repeat = ReportDue {
        incident: 3,
        high_for: Duration::from_secs(618),
        since_first_report: Some(Duration::from_secs(603)),
        reason: Reason::Repeat,
    };
    let urgent = ReportDue {
        high_for: Duration::from_secs(3),
        reason: Reason::Urgent,
        ..first
    };
    let after_kill = ReportDue {
        reason: Reason::OomKill,
        ..repeat
    };
    let incident = |due: ReportDue, threshold_percent: f64| Occasion::Incident {
        due,
        threshold_percent,
        urgent_percent: Some(95.0),
    };
    let lines = [
        header::header_line(
            &report_time(),
            &incident(first, 80.0),
            &busy_memory(),
            Some(12.5),
        ),
        header::header_line(
            &report_time(),
            &incident(repeat, 80.0),
            &busy_memory(),
            Some(12.46),
        ),
        header::header_line(&report_time(), &incident(first, 85.5), &busy_memory(), None),
        header::header_line(
            &report_time(),
            &Occasion::Snapshot,
            &MemSample {
                total_kib: 500_000,
                available_kib: 100_000,
                cgroup_limit: false,
            },
            Some(100.0),
        ),
        header::new_log_marker(&report_time(), 3)
            .trim_end()
            .to_string(),
        header::recovered_line(&Recovered {
            time: report_time(),
            incident: 3,
            memory: MemSample {
                total_kib: 1000,
                available_kib: 600,
                cgroup_limit: false,
            },
            high_for: Duration::from_secs(3725),
        })
        .trim_end()
        .to_string(),
        header::header_line(
            &report_time(),
            &incident(urgent, 80.0),
            &busy_memory(),
            Some(12.5),
        ),
        header::header_line(
            &report_time(),
            &incident(after_kill, 80.0),
            &busy_memory(),
            Some(12.5),
        ),
    ];
    assert_eq!(
        lines[0],
        "2026-11-22 14:03:15 +01:00 | incident 3 | RAM 83.2% (3.08 of 3.70 GiB) | CPU 12.5% | above 80% for 15s"
    );
    snapshot!(
        "header_lines",
        lines
            .join("\n")
            .replace(env!("CARGO_PKG_VERSION"), "VERSION")
    );
}

fn busy_machine() -> FakeProc {
    let fake = FakeProc::new();
    // PIDs from psaux_insights-core-auxww_2.txt, so the table and the details agree.
    fake.add(&FakeProcess {
        pid: 2713,
        name: b"firefox".to_vec(),
        uid: 1000,
        cmdline: cmdline_of::<&[u8]>(&[
            b"/usr/lib64/firefox/firefox",
            b"-contentproc",
            b"--fake\x1b]0;pwned\x07",
            b"line\nbreak",
        ]),
        cwd: Some(b"/home/verylongusername".to_vec()),
        start_ticks: 1000 * 100,
        rss_kib: 3_077_224,
        ppid: 1,
        raw_status_name: false,
    });
    fake.add(&FakeProcess {
        pid: 1,
        name: b"systemd".to_vec(),
        uid: 0,
        cmdline: cmdline_of::<&[u8]>(&[b"/usr/lib/systemd/systemd", b"--switched-root"]),
        cwd: Some(b"/".to_vec()),
        start_ticks: 0,
        rss_kib: 5000,
        ppid: 0,
        raw_status_name: false,
    });
    fake.add(&FakeProcess {
        pid: 1112,
        name: b"polkitd".to_vec(),
        uid: 1001,
        cmdline: Vec::new(),
        cwd: None,
        start_ticks: 99_000 * 100,
        rss_kib: 14_536,
        ppid: 1,
        raw_status_name: false,
    });
    // 781 (journald) and 8257 (dhclient) are in the table but have ended.
    fake.set_cgroup(2713, b"0::/user.slice/user-1000.slice/session-2.scope\n");
    fake.set_cgroup(1, b"0::/init.scope\n");
    // A name systemd would refuse, with an escape in it: shown as its escaped path.
    fake.set_cgroup(
        1112,
        b"12:memory:/system.slice/pol\x1b]0;kit.service\n0::/system.slice/pol\x1b]0;kit.service\n",
    );
    fake
}

#[test]
fn incident_section_from_corpus_outputs() {
    let fake = busy_machine();
    let report = report_from(
        Ok(corpus("psaux_insights-core-auxww_2.txt")),
        Ok(corpus("top_jc-centos77-kib-n3_2.txt")),
        &fake,
        5,
    );
    let header = header::header_of(&report);
    let text = incident_text(&report);
    assert!(header.contains("| CPU 0.7%"), "{header}");
    assert!(text.ends_with("\n\n"));
    snapshot!("incident_section", text);
}

#[test]
fn cut_user_names_are_completed_from_proc_and_passwd() {
    let fake = busy_machine();
    let ps_output = b"USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n\
verylon+  2713  2.4 19.2 12508144 3077224 ?    Sl   Nov21 533:33 /usr/lib64/firefox/firefox\n\
verylon+  4444  0.0  0.0   1000   100 ?        S    Nov21   0:00 gone\n";
    let report = report_from(
        Ok(ps_output.to_vec()),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        0,
    );
    let table = report.evidence.ps.unwrap();
    let users: Vec<&[u8]> = table.processes().map(|p| p.row().user).collect();
    assert_eq!(users, [&b"verylongusername"[..], b"verylon+"]);
}

#[test]
fn details_section() {
    let fake = busy_machine();
    let report = report_from(
        Ok(corpus("psaux_insights-core-auxww_2.txt")),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        5,
    );
    let pids: Vec<u32> = report
        .evidence
        .details
        .iter()
        .flatten()
        .map(|d| d.pid)
        .collect();
    assert_eq!(pids, [2713, 8257, 1112, 781, 1], "the five biggest by RSS");
    let text = details_text(&report);
    // The command line from /proc is attacker-controlled: escaped exactly like the table.
    assert!(text.contains("command:  /usr/lib64/firefox/firefox -contentproc --fake\\x1b]0;pwned\\x07 line\\x0abreak\n"), "{text}");
    // Kernel-thread-like process without a cmdline or cwd.
    assert!(text.contains("command:  [polkitd]"));
    assert!(text.contains("cwd:      unavailable (process ended)"));
    assert!(
        text.lines()
            .all(|l| !l.chars().any(char::is_control) && !l.ends_with(' '))
    );
    snapshot!("details_section", text);
}

#[test]
fn details_never_leave_a_field_out() {
    let fake = busy_machine();
    let report = report_from(
        Ok(corpus("psaux_insights-core-auxww_2.txt")),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        50,
    );
    let text = details_text(&report);
    let table_pids = ps::parse(&corpus("psaux_insights-core-auxww_2.txt"))
        .unwrap()
        .process_count();
    assert_eq!(report.evidence.details.unwrap().len(), table_pids);
    for label in util::log::DETAIL_LABELS {
        assert_eq!(
            text.lines()
                .filter(|l| l.trim_start().starts_with(label))
                .count(),
            table_pids,
            "{label}"
        );
    }
}

#[test]
fn a_failing_top_and_a_failing_ps_are_said_in_one_line_each() {
    let fake = FakeProc::new();
    let report = report_from(
        Err(ProgramFailure::Failed {
            program: "ps",
            how: Ending::Status(1),
            stderr: b"boom".to_vec(),
        }),
        Ok(b"busybox top\x1b[H\n".to_vec()),
        &fake,
        5,
    );
    assert_eq!(report.cpu_busy(), None);
    let text = incident_text(&report);
    assert_eq!(
        text,
        "2026-11-22 14:03:15 +01:00 | snapshot | RAM 83.2% (3.08 of 3.70 GiB) | CPU n/a\n\
         \x20 (no top summary, CPU n/a: top's output is not procps `top -b` output (no `top -` summary line; it starts with `busybox top\\x1b[H`))\n\
         \x20 (no process table: ps exited with status 1: boom)\n\n"
    );
    assert_eq!(report.evidence.details, Some(Vec::new()));
}

#[test]
fn busybox_ps_output_is_refused() {
    let fake = FakeProc::new();
    let busybox =
        b"PID   USER     TIME  COMMAND\n    1 root      0:02 init\n  123 root      0:00 -sh\n";
    let report = report_from(
        Ok(busybox.to_vec()),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        5,
    );
    let err = report.evidence.ps.unwrap_err().to_string();
    assert!(err.contains("busybox"), "{err}");
}
