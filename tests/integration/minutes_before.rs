//! The daemon's reports say how memory got there: an urgent report that does not wait for the
//! sustain, the trend of the last minutes, and the real process that grew while memory was high.

use crate::util;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use util::FakeProc;
use util::daemon::{Launch, set_used};
use util::log::{check_log, header};

#[test]
fn an_urgent_report_at_97_percent_does_not_wait_for_a_60_s_sustain() {
    let fake = FakeProc::new();
    set_used(&fake, 40);
    let mut launch = Launch::ordinary(&fake).args(&["--sustain", "60s", "--urgent", "95"]);
    // A capture that takes longer than the daemon has run: the trend must still end at the
    // report's own sample, not at the end of the capture.
    launch.top_body = format!("sleep 1\n{}", launch.top_body);
    let mut daemon = launch.start();
    daemon.wait_for_start();
    std::thread::sleep(Duration::from_millis(200));
    set_used(&fake, 97);
    // Well before the sustain: the first high sample is the report.
    daemon.wait_for_reports(1);
    let log = daemon.read("incidents.log");
    let lines: Vec<&str> = log.lines().collect();
    let first = header(lines[1]).unwrap();
    assert_eq!(first.urgent.as_deref(), Some("95%"), "{}", lines[1]);
    assert!(
        lines[1].ends_with(" | RAM 97.0% (970.00 of 1000.00 MiB) | CPU 6.2% | above 95% (urgent)"),
        "{}",
        lines[1]
    );
    // The trend: calm at 40%, then the one high sample in the last cell.
    let trend = lines[2];
    assert!(trend.starts_with("  RAM over the last "), "{trend}");
    assert!(trend.ends_with("█ (low 40.0%, high 97.0%)"), "{trend}");
    assert!(trend.contains('▄'), "{trend}");
    // Reported at the first high sample: no baseline yet, so no growth line; the breakdown
    // follows the trend.
    assert!(lines[3].starts_with("  memory: "), "{}", lines[3]);
    assert!(lines[4].starts_with("  top - "), "{}", lines[4]);
    let checked = check_log(&log);
    assert_eq!(checked.context.len(), 2);
}

#[test]
fn urgent_at_or_below_the_threshold_is_said_and_left_off() {
    let fake = FakeProc::new();
    set_used(&fake, 40);
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--sustain", "60s", "--threshold", "90", "--urgent", "90"])
        .start();
    daemon.wait_for_start();
    assert!(
        daemon.stderr_text().starts_with(
            "memory-monitor: --urgent 90% is not above --threshold 90%; running without urgent reports\n"
        ),
        "{}",
        daemon.stderr_text()
    );
    set_used(&fake, 99);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(daemon.read("incidents.log"), "", "no urgent report");
}

/// A fake proc root whose meminfo the test sets, holding real processes: each `/proc/PID` of
/// `pids` linked in, so the baseline and the growth are the kernel's own figures.
fn proc_root_with(pids: &[u32]) -> FakeProc {
    let fake = FakeProc::new();
    for pid in pids {
        std::os::unix::fs::symlink(format!("/proc/{pid}"), fake.path().join(pid.to_string()))
            .unwrap();
    }
    fake
}

#[test]
fn the_process_that_grew_during_the_sustain_is_named_first() {
    // A shell that, when told, takes about 100 MiB into a variable and keeps it.
    let mut grower = Command::new("sh")
        .args([
            "-c",
            "read go; v=$(head -c 100000000 /dev/zero | tr '\\0' a); echo grown; read stop",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Not this test's own process: the other tests in it allocate as they please.
    let fake = proc_root_with(&[1, grower.id()]);
    set_used(&fake, 40);
    let mut daemon = Launch::ordinary(&fake).args(&["--sustain", "3s"]).start();
    daemon.wait_for_start();
    set_used(&fake, 90);
    // The baseline is read at the first high sample, one interval (50 ms) from now.
    std::thread::sleep(Duration::from_millis(500));
    let mut stdin = grower.stdin.take().unwrap();
    writeln!(stdin, "go").unwrap();
    let mut said = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(grower.stdout.as_mut().unwrap()),
        &mut said,
    )
    .unwrap();
    assert_eq!(said, "grown\n");
    daemon.wait_for_reports(1);
    drop(stdin);
    let _ = grower.wait();

    let log = daemon.read("incidents.log");
    let growth = log
        .lines()
        .find(|l| l.starts_with("  grew most since "))
        .unwrap_or_else(|| panic!("no growth line in:\n{log}"));
    let first = growth
        .split_once(" ago): ")
        .unwrap()
        .1
        .split(", ")
        .next()
        .unwrap();
    let pattern =
        regex::Regex::new(&format!(r"^sh \({}\) \+(\d+\.\d\d) MiB$", grower.id())).unwrap();
    let caps = pattern
        .captures(first)
        .unwrap_or_else(|| panic!("the grower first: {growth}"));
    let mib: f64 = caps[1].parse().unwrap();
    assert!(mib > 90.0, "{growth}");
    // Taken at the first high sample: about the sustain before the report.
    let ago = growth
        .split_once(" (")
        .unwrap()
        .1
        .split_once(" ago)")
        .unwrap()
        .0;
    assert!(["3s", "4s"].contains(&ago), "{growth}");
    check_log(&log);
}
