//! The real binary, run as the daemon against a fake proc root whose meminfo the test rewrites,
//! with fake ps and top that print corpus files.

use crate::util;

use rustix::process::{Signal, kill_process};
use util::daemon::pid_of;

use std::process::Stdio;
use std::time::{Duration, Instant};

use memory_monitor::text::duration::parse_duration;
use util::daemon::{Launch, cat, count, set_used};
use util::log::{Header, RECOVERED, header};
use util::{FakeProc, fake_program};

#[test]
fn episodes_repeats_recovery_and_both_logs() {
    let fake = FakeProc::new();
    fake.add(&util::firewalld());
    set_used(&fake, 50);
    let mut daemon = Launch::new(
        &fake,
        &cat("psaux_jc-centos77_1.txt"),
        &cat("top_jc-centos77-kib-n3_2.txt"),
    )
    .start();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        daemon.read("incidents.log"),
        "",
        "no report while memory is at 50%"
    );

    set_used(&fake, 90);
    daemon.wait_for("a repeat report", |d| {
        d.read("incidents.log").contains("since first report")
    });
    set_used(&fake, 50);
    daemon.wait_for("recovery", |d| {
        d.read("incidents.log").contains("| recovered |")
    });
    std::thread::sleep(Duration::from_millis(400));
    set_used(&fake, 90);
    daemon.wait_for("the second episode", |d| {
        d.read("details.log").contains("| incident 2 |")
    });
    let (status, took, daemon) = daemon.stop(Signal::TERM);
    assert!(
        status.success(),
        "{status}; stderr: {}",
        daemon.stderr_text()
    );
    assert!(took < Duration::from_secs(2), "stopped after {took:?}");

    let incidents = daemon.read("incidents.log");
    let details = daemon.read("details.log");
    let lines: Vec<&str> = incidents.lines().collect();

    // Every report: marker (first of an episode), header, top's summary, table, blank line.
    let headers: Vec<(usize, Header)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| header(l).map(|h| (i, h)))
        .collect();
    for (_, h) in &headers {
        assert!(h.time.ends_with(" +00:00"), "{h:?}");
        assert_eq!(
            (h.ram_percent, h.sizes.as_str(), h.cpu_percent),
            (90.0, "900.00 of 1000.00 MiB", Some(0.7)),
            "{h:?}"
        );
        assert_eq!(h.threshold.as_deref(), Some("80%"), "{h:?}");
    }
    let reports_of = |n: u32| {
        headers
            .iter()
            .filter(|(_, h)| h.incident == Some(n))
            .count()
    };
    assert!(
        reports_of(1) >= 2,
        "a first report and a repeat in episode 1:\n{incidents}"
    );
    assert!(reports_of(2) >= 1);
    let header_like = lines
        .iter()
        .filter(|l| l.contains("| incident ") && !l.starts_with("====="))
        .count();
    assert_eq!(
        headers.len(),
        header_like,
        "every header line matched the format"
    );

    for (i, h) in &headers {
        let first_of_episode = h.since_first_report.is_none();
        assert_eq!(
            lines[i - 1].starts_with("===== new log"),
            first_of_episode,
            "marker before line {i}"
        );
        if first_of_episode {
            assert!(lines[i - 1].contains(&format!("| incident {} |", h.incident.unwrap())));
            let high_for = h.high_for.as_deref().unwrap();
            assert!(
                parse_duration(high_for).unwrap() >= Duration::from_millis(300),
                "reported before sustain: {high_for}"
            );
        } else {
            let since = h.since_first_report.as_deref().unwrap();
            assert!(
                parse_duration(since).unwrap() >= Duration::from_secs(1),
                "repeated before --repeat: {since}"
            );
        }
        // The minutes before: the trend since the daemon started, who grew since the episode
        // began (fake ps and top: nothing did), where the RAM is; then top's last frame,
        // indented, the table of all 109 processes, and a blank line.
        assert!(
            lines[i + 1].starts_with("  RAM over the last "),
            "{}",
            lines[i + 1]
        );
        assert!(lines[i + 1].ends_with(", high 90.0%)"), "{}", lines[i + 1]);
        assert!(
            lines[i + 2].starts_with("  grew most since ")
                && lines[i + 2].ends_with(" ago): nothing grew"),
            "{}",
            lines[i + 2]
        );
        // Where the RAM is, from the fake meminfo: MemFree and MemAvailable alone.
        assert!(
            lines[i + 3].starts_with("  memory: processes 0 KiB, page cache 0 KiB, ")
                && lines[i + 3].ends_with(" MiB"),
            "{}",
            lines[i + 3]
        );
        assert_eq!(
            lines[i + 4],
            "  top - 11:24:56 up 2 min,  2 users,  load average: 0.21, 0.21, 0.09"
        );
        assert_eq!(
            lines[i + 9].split_whitespace().collect::<Vec<_>>()[..3],
            ["USER", "PID", "%CPU"]
        );
        util::check_table(&lines[i + 9..i + 9 + 110].join("\n"));
        assert_eq!(lines[i + 119], "", "blank line after the table");
    }
    assert_eq!(count(&incidents, "===== new log"), 2);
    let recovered_lines: Vec<&&str> = lines.iter().filter(|l| RECOVERED.is_match(l)).collect();
    assert_eq!(recovered_lines.len(), 1, "{incidents}");
    assert!(recovered_lines[0].contains(" +00:00 | recovered | RAM 50.0% | high for "));
    assert_eq!(count(&incidents, "| recovered |"), 1);
    let recovered_at = lines
        .iter()
        .position(|l| l.contains("| recovered |"))
        .unwrap();
    let second_marker = lines
        .iter()
        .rposition(|l| l.starts_with("===== new log"))
        .unwrap();
    assert!(
        recovered_at < second_marker
            && headers
                .iter()
                .all(|(i, h)| (h.incident == Some(1)) == (*i < recovered_at))
    );

    // details.log: the same markers and header lines, three entries per report, a blank line.
    let detail_headers: Vec<&str> = details.lines().filter(|l| header(l).is_some()).collect();
    let incident_headers: Vec<&str> = headers.iter().map(|(i, _)| lines[*i]).collect();
    assert_eq!(detail_headers, incident_headers);
    assert_eq!(count(&details, "===== new log"), 2);
    assert_eq!(count(&details, "  #1 PID "), headers.len());
    assert_eq!(count(&details, "  #3 PID "), headers.len());
    assert_eq!(count(&details, "  #4 PID "), 0, "--details 3");
    assert!(details.contains("  #1 PID 823 firewalld\n    user:     root (uid 0)\n    command:  /usr/bin/python2 -Es /usr/sbin/firewalld --nofork --nopid\n"), "{details}");
    assert_eq!(
        count(&details, "  #2 PID 1205 unavailable (process ended)"),
        headers.len()
    );
    assert!(details.ends_with("\n\n"));
    assert!(
        !incidents.contains("| recovered |") || !details.contains("recovered"),
        "recovered lines go to incidents.log only"
    );
}

#[test]
fn a_write_error_is_reported_and_the_loop_goes_on() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_start();
    // Make incidents.log impossible to open: a directory in its place.
    let incidents = daemon.logs.join("incidents.log");
    std::fs::remove_file(&incidents).unwrap();
    std::fs::create_dir(&incidents).unwrap();
    daemon.wait_for("the write error", |d| {
        d.stderr_text().contains("cannot write")
    });
    daemon.wait_for("details still written", |d| {
        d.read("details.log").contains("| incident 1 |")
    });
    std::fs::remove_dir(&incidents).unwrap();
    daemon.wait_for("the repeat lands once the file can be written", |d| {
        d.read("incidents.log").contains("since first report")
    });
    // The first report waited in memory and went out, in its place, with the repeat.
    let text = daemon.read("incidents.log");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("===== new log "), "{}", lines[0]);
    assert!(
        lines[1].contains("| incident 1 |") && !lines[1].contains("since first report"),
        "the first report: {}",
        lines[1]
    );
    // Said on stderr after the write, so it may come a moment after the file shows it.
    daemon.wait_for("the recovery said on stderr", |d| {
        d.stderr_text()
            .contains("incidents.log can be written again; 1 delayed entries written")
    });
    let (status, _, _) = daemon.stop(Signal::INT);
    assert!(status.success(), "SIGINT stops it too");
}

#[test]
fn a_report_that_waited_is_written_on_sighup_and_said() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let mut daemon = Launch::ordinary(&fake).args(&["--repeat", "1h"]).start();
    daemon.wait_for_start();
    let incidents = daemon.logs.join("incidents.log");
    std::fs::remove_file(&incidents).unwrap();
    std::fs::create_dir(&incidents).unwrap();
    daemon.wait_for("the write error", |d| {
        d.stderr_text().contains("1 entries kept in memory")
    });
    std::fs::remove_dir(&incidents).unwrap();
    daemon.signal(Signal::HUP);
    daemon.wait_for("the report written by the retry", |d| {
        d.read("incidents.log").contains("| incident 1 |")
    });
    daemon.wait_for("the retry said on stderr", |d| {
        d.stderr_text()
            .contains("incidents.log can be written again; 1 delayed entries written")
    });
}

#[test]
fn options_come_from_the_environment() {
    let out = util::program_without_env()
        .env("MEMORY_MONITOR_THRESHOLD", "101")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("--threshold") && err.contains("(from MEMORY_MONITOR_THRESHOLD)"),
        "{err}"
    );

    let fake = FakeProc::new();
    set_used(&fake, 70);
    let logs = tempfile::tempdir().unwrap();
    let mut child = util::program_without_env()
        .env("MEMORY_MONITOR_THRESHOLD", "65.5")
        .env("MEMORY_MONITOR_SUSTAIN", "0")
        .env("MEMORY_MONITOR_INTERVAL", "50ms")
        .env("MEMORY_MONITOR_LOG_DIR", logs.path())
        .env("MEMORY_MONITOR_PROC_ROOT", fake.path())
        .env(
            "MEMORY_MONITOR_PS_BIN",
            fake_program(logs.path(), "ps", &cat("psaux_jc-centos77_1.txt")),
        )
        .env(
            "MEMORY_MONITOR_TOP_BIN",
            fake_program(logs.path(), "top", &cat("top_jc-ubuntu2010_1.txt")),
        )
        .env("MEMORY_MONITOR_DETAILS", "0")
        .env("MEMORY_MONITOR_KERNEL_LOG", "off")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let path = logs.path().join("incidents.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&path)
        .unwrap_or_default()
        .ends_with("\n\n")
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_process(pid_of(&child), Signal::TERM).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("| above 65.5% for 0s")
    );
    assert_eq!(
        std::fs::read_to_string(logs.path().join("details.log")).unwrap(),
        "",
        "--details 0 writes no details"
    );
}

#[test]
fn its_sleep_may_end_a_hundredth_of_an_interval_late() {
    let fake = FakeProc::new();
    set_used(&fake, 10);
    for (interval, slack_ns) in [("50ms", "500000"), ("3s", "30000000"), ("1h", "50000000")] {
        let mut daemon = Launch::ordinary(&fake)
            .args(&["--interval", interval])
            .start();
        daemon.wait_for_start();
        let slack = std::fs::read_to_string(format!("/proc/{}/timerslack_ns", daemon.pid()))
            .expect("timerslack_ns (Linux 4.6)");
        assert_eq!(slack.trim(), slack_ns, "--interval {interval}");
    }
}
