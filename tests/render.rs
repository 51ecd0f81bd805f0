//! The report's text, end to end from recorded outputs and a fake proc root, pinned by
//! snapshots: header lines, the incident section, the details section.

mod common;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone};
use common::{FakeProc, FakeProcess, FakeUsers, corpus};
use memory_monitor::capture::gather::{self as incident, Incident, Sources};
use memory_monitor::capture::{OUTPUT_LIMIT, Outputs, Tools};
use memory_monitor::decide::episode::Report;
use memory_monitor::parse::ps;
use memory_monitor::render::details;
use memory_monitor::render::header::{self as report, Occasion};
use memory_monitor::sample::meminfo::MemSample;

fn time() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 22, 14, 3, 15)
        .unwrap()
}

fn sample() -> MemSample {
    MemSample {
        total_kib: 3_879_731,
        available_kib: 650_117,
    }
}

fn sources(proc_root: &std::path::Path, details: usize) -> Sources<'static> {
    Sources {
        tools: Tools {
            ps_bin: "unused".into(),
            top_bin: "unused".into(),
            timeout: Duration::from_secs(1),
            output_limit: OUTPUT_LIMIT,
        },
        proc_root: proc_root.to_path_buf(),
        details,
        users: &FakeUsers,
        clock_ticks: 100,
    }
}

fn incident_from(
    ps_output: Result<Vec<u8>, String>,
    top_output: Result<Vec<u8>, String>,
    fake: &FakeProc,
    details: usize,
) -> Incident {
    incident::from_outputs(
        Outputs::recorded(ps_output, top_output),
        &sources(fake.path(), details),
    )
}

#[test]
fn header_lines() {
    let first = Report {
        incident: 3,
        high_for: Duration::from_secs(15),
        since_first_report: None,
    };
    let repeat = Report {
        incident: 3,
        high_for: Duration::from_secs(618),
        since_first_report: Some(Duration::from_secs(603)),
    };
    let lines = [
        report::header_line(
            &time(),
            &Occasion::Incident {
                report: first,
                threshold_percent: 80.0,
            },
            &sample(),
            Some(12.5),
        ),
        report::header_line(
            &time(),
            &Occasion::Incident {
                report: repeat,
                threshold_percent: 80.0,
            },
            &sample(),
            Some(12.46),
        ),
        report::header_line(
            &time(),
            &Occasion::Incident {
                report: first,
                threshold_percent: 85.5,
            },
            &sample(),
            None,
        ),
        report::header_line(
            &time(),
            &Occasion::Snapshot,
            &MemSample {
                total_kib: 500_000,
                available_kib: 100_000,
            },
            Some(100.0),
        ),
        report::new_log_marker(&time(), 3).trim_end().to_string(),
        report::recovered_line(
            &time(),
            &MemSample {
                total_kib: 1000,
                available_kib: 600,
            },
            Duration::from_secs(3725),
        )
        .trim_end()
        .to_string(),
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
        name: b"firefox",
        uid: 1000,
        cmdline: b"/usr/lib64/firefox/firefox\0-contentproc\0--fake\x1b]0;pwned\x07\0line\nbreak\0",
        cwd: Some("/home/verylongusername"),
        started_after_boot: 1000,
        rss_kib: 3_077_224,
        ppid: 1,
    });
    fake.add(&FakeProcess {
        pid: 1,
        name: b"systemd",
        uid: 0,
        cmdline: b"/usr/lib/systemd/systemd\0--switched-root\0",
        cwd: Some("/"),
        started_after_boot: 0,
        rss_kib: 5000,
        ppid: 0,
    });
    fake.add(&FakeProcess {
        pid: 1112,
        name: b"polkitd",
        uid: 1001,
        cmdline: b"",
        cwd: None,
        started_after_boot: 99_000,
        rss_kib: 14_536,
        ppid: 1,
    });
    // 781 (journald) and 8257 (dhclient) are in the table but have ended.
    fake
}

#[test]
fn incident_section_from_corpus_outputs() {
    let fake = busy_machine();
    let incident = incident_from(
        Ok(corpus("psaux_insights-core-auxww_2.txt")),
        Ok(corpus("top_jc-centos77-kib-n3_2.txt")),
        &fake,
        5,
    );
    let header = report::header_line(&time(), &Occasion::Snapshot, &sample(), incident.cpu_busy());
    let text = report::render_incident(&header, &incident);
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
    let incident = incident_from(
        Ok(ps_output.to_vec()),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        0,
    );
    let table = incident.ps.unwrap();
    let users: Vec<&str> = table.processes().map(|p| p.row().user()).collect();
    assert_eq!(users, ["verylongusername", "verylon+"]);
}

#[test]
fn details_section() {
    let fake = busy_machine();
    let incident = incident_from(
        Ok(corpus("psaux_insights-core-auxww_2.txt")),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        5,
    );
    let pids: Vec<u32> = incident.details.iter().map(|d| d.pid).collect();
    assert_eq!(pids, [2713, 8257, 1112, 781, 1], "the five biggest by RSS");
    let mut text = String::new();
    details::render(&incident.details, &time(), &mut text);
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
    let incident = incident_from(
        Ok(corpus("psaux_insights-core-auxww_2.txt")),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        50,
    );
    let mut text = String::new();
    details::render(&incident.details, &time(), &mut text);
    let table_pids = ps::parse(&corpus("psaux_insights-core-auxww_2.txt"))
        .unwrap()
        .process_count();
    assert_eq!(incident.details.len(), table_pids);
    for label in common::hostile::DETAIL_LABELS {
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
    let incident = incident_from(
        Err("ps exited with status 1: boom".into()),
        Ok(b"busybox top\x1b[H\n".to_vec()),
        &fake,
        5,
    );
    assert_eq!(incident.cpu_busy(), None);
    let header = report::header_line(&time(), &Occasion::Snapshot, &sample(), incident.cpu_busy());
    let text = report::render_incident(&header, &incident);
    assert_eq!(
        text,
        "2026-11-22 14:03:15 +01:00 | snapshot | RAM 83.2% (3.08 of 3.70 GiB) | CPU n/a\n\
         \x20 (no top summary, CPU n/a: top's output is not procps `top -b` output (no `top -` summary line; it starts with `busybox top\\x1b[H`))\n\
         \x20 (no process table: ps exited with status 1: boom)\n\n"
    );
    assert!(incident.details.is_empty());
}

#[test]
fn busybox_ps_output_is_refused() {
    let fake = FakeProc::new();
    let busybox =
        b"PID   USER     TIME  COMMAND\n    1 root      0:02 init\n  123 root      0:00 -sh\n";
    let incident = incident_from(
        Ok(busybox.to_vec()),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &fake,
        5,
    );
    let err = incident.ps.unwrap_err();
    assert!(err.contains("busybox"), "{err}");
}
