//! The daemon and the kernel's OOM kills, with a kernel log and a vmstat of the test's making:
//! an entry for each kill, the report after the first of a minute, the per-minute cap, kills
//! from before the start, restarts that repeat nothing, and the count when the log cannot be
//! read. Real kills by the real kernel are in `oom_real.rs`.

use crate::util;

use std::path::Path;
use std::time::Duration;

use rustix::process::Signal;

use util::FakeProc;
use util::daemon::{Daemon, Launch, set_used};
use util::kernel::{append, kernel_usec_now, kill_records};
use util::log::{OOM_KILL, check_log, headers};

const BOOT: &str = "5f1c0e1c-7d0a-4a53-9c39-6d3c5e0b8f7a";

fn calm_machine(kills_so_far: u64) -> FakeProc {
    let fake = FakeProc::new();
    set_used(&fake, 40);
    fake.set_oom_kills(kills_so_far);
    fake.set_boot_id(BOOT);
    fake
}

fn oom_entries(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| OOM_KILL.is_match(l))
        .map(str::to_string)
        .collect()
}

/// The entry without its time, which is the kernel's and checked apart.
fn without_time(entry: &str) -> &str {
    entry.split_once(" | ").map_or(entry, |(_, rest)| rest)
}

fn state(daemon: &Daemon) -> String {
    std::fs::read_to_string(daemon.logs.join("state")).unwrap_or_default()
}

#[test]
fn a_kill_gets_its_entry_then_a_report_of_the_machine() {
    let fake = calm_machine(5);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_start();
    assert!(
        daemon.stderr_text().contains(&format!(
            "memory-monitor: OOM kills are read from {}\n",
            daemon.kernel_log.display()
        )),
        "{}",
        daemon.stderr_text()
    );
    let killed_at = chrono::Local::now();
    append(
        &daemon.kernel_log,
        &kill_records(1000, kernel_usec_now(), 4242, "python3", 0, None),
    );
    fake.set_oom_kills(6);
    daemon.wait_for("the report after the kill", |d| {
        d.read("incidents.log").contains("| after an OOM kill")
    });
    let log = daemon.read("incidents.log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        without_time(lines[0]),
        "oom-kill | PID 4242 (python3) of root | anon-rss 1.52 GiB, file-rss 6.50 MiB, shmem-rss 0 KiB | system-wide"
    );
    // The kernel's time of the kill, not the time it was read.
    let time = chrono::DateTime::parse_from_str(&lines[0][..26], "%Y-%m-%d %H:%M:%S %:z").unwrap();
    let off = (time.timestamp() - killed_at.timestamp()).abs();
    assert!(off <= 1, "{} vs {killed_at}", lines[0]);
    assert_eq!(lines[1], "");
    // Then the machine as it is now, in an episode of its own.
    assert!(lines[2].starts_with("===== new log "), "{log}");
    let header = util::log::header(lines[3]).unwrap();
    assert!(header.after_oom_kill, "{}", lines[3]);
    assert_eq!(header.incident, Some(1));
    let checked = check_log(&log);
    assert_eq!(checked.oom_kills.len(), 1);
    assert!(checked.rows.len() > 100, "the whole table");
    // Memory was never high: it does not recover, and nothing else is reported.
    std::thread::sleep(Duration::from_millis(500));
    let later = daemon.read("incidents.log");
    assert_eq!(later, log, "nothing after the report");
    assert_eq!(
        state(&daemon),
        format!("boot_id={BOOT}\nlast_kill_seq=1001\noom_kills_counted=6\n")
    );
    let details = daemon.read("details.log");
    assert_eq!(headers(&details).len(), 1, "{details}");
}

#[test]
fn a_cgroup_kill_names_the_cgroup_and_a_second_kill_in_the_minute_no_report() {
    let fake = calm_machine(0);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_start();
    let now = kernel_usec_now();
    let mut records = kill_records(10, now, 700, "hog", 1000, Some("/system.slice/hog.service"));
    records += &kill_records(
        12,
        now + 1000,
        701,
        "hog",
        1000,
        Some("/system.slice/hog.service"),
    );
    append(&daemon.kernel_log, &records);
    fake.set_oom_kills(2);
    daemon.wait_for_reports(1);
    std::thread::sleep(Duration::from_millis(300));
    let log = daemon.read("incidents.log");
    let entries = oom_entries(&log);
    assert_eq!(entries.len(), 2, "{log}");
    assert!(
        entries[0].ends_with(" | limit of cgroup /system.slice/hog.service"),
        "{}",
        entries[0]
    );
    assert!(entries[1].contains("PID 701 (hog)"));
    assert_eq!(
        util::daemon::report_count(&log),
        1,
        "one report a minute: {log}"
    );
}

#[test]
fn a_kill_between_the_start_line_and_the_first_read_still_gets_its_report() {
    let fake = calm_machine(0);
    let dir = tempfile::tempdir().unwrap();
    let (logs, kmsg) = (dir.path().join("logs"), dir.path().join("kmsg"));
    // Already in the log when the daemon opens it, yet stamped after the daemon's start: the
    // daemon reads it at start, as it would read a kill from just after its start line.
    append(
        &kmsg,
        &kill_records(10, kernel_usec_now() + 5_000_000, 700, "hog", 0, None),
    );
    fake.set_oom_kills(1);
    let mut daemon = start_with(&fake, &logs, &kmsg);
    daemon.wait_for_reports(1);
    let log = daemon.read("incidents.log");
    let entries = oom_entries(&log);
    assert_eq!(entries.len(), 1, "{log}");
    assert!(entries[0].ends_with(" | system-wide"), "{}", entries[0]);
    let header = util::log::header(log.lines().nth(3).unwrap()).unwrap();
    assert!(header.after_oom_kill, "{log}");
}

#[test]
fn a_storm_gets_ten_entries_a_minute_and_one_for_the_rest() {
    let fake = calm_machine(100);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_start();
    let start = kernel_usec_now();
    let mut records = String::new();
    let names = ["stress", "stress", "tail"];
    for i in 0..25u64 {
        let name = names[usize::try_from(i).unwrap() % 3];
        records += &kill_records(100 + 2 * i, start + i * 1000, 900 + i as u32, name, 0, None);
    }
    append(&daemon.kernel_log, &records);
    fake.set_oom_kills(125);
    daemon.wait_for("the ten entries", |d| {
        oom_entries(&d.read("incidents.log")).len() >= 10
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(oom_entries(&daemon.read("incidents.log")).len(), 10);
    // A kill a minute later ends the storm's minute: the 15 beyond the cap are summed up first.
    append(
        &daemon.kernel_log,
        &kill_records(200, start + 61_000_000, 999, "late", 0, None),
    );
    fake.set_oom_kills(126);
    // The late kill's report comes after the entries, once ps and top have run.
    daemon.wait_for_reports(2);
    daemon.wait_for("the summary", |d| {
        oom_entries(&d.read("incidents.log")).len() >= 12
    });
    let log = daemon.read("incidents.log");
    let entries = oom_entries(&log);
    assert_eq!(entries.len(), 12, "{log}");
    assert_eq!(
        without_time(&entries[10]),
        "oom-kill | 15 more processes killed in the last minute: stress ×10, tail ×5"
    );
    assert!(entries[11].contains("PID 999 (late)"));
    // 10 one by one, 15 counted, 1 more: the kernel's 26.
    let written: u64 = entries
        .iter()
        .map(|e| {
            let caps = OOM_KILL.captures(e).unwrap();
            caps.name("more").map_or(1, |n| n.as_str().parse().unwrap())
        })
        .sum();
    assert_eq!(written, 126 - 100);
    assert_eq!(
        util::daemon::report_count(&log),
        2,
        "one for each minute: {log}"
    );
    check_log(&log);
}

/// Starts a daemon on `fake` that keeps its logs in `logs` and reads `kmsg`.
fn start_with(fake: &FakeProc, logs: &Path, kmsg: &Path) -> Daemon {
    let mut launch = Launch::ordinary(fake).args(&["--kernel-log", kmsg.to_str().unwrap()]);
    launch.log_dir = Some(logs.to_path_buf());
    let mut daemon = launch.start();
    daemon.wait_for_start();
    daemon
}

#[test]
fn kills_from_before_the_start_are_written_once_and_never_again() {
    let fake = calm_machine(3);
    let dir = tempfile::tempdir().unwrap();
    let (logs, kmsg) = (dir.path().join("logs"), dir.path().join("kmsg"));
    // Two kills a second after boot, long before any daemon ran, one of them of the daemon.
    let mut records = kill_records(5, 1_000_000, 300, "memory-monitor", 0, None);
    records += "6,7,1500000,-;a record that is no kill\n";
    records += &kill_records(8, 2_000_000, 301, "java", 0, None);
    append(&kmsg, &records);

    let mut daemon = start_with(&fake, &logs, &kmsg);
    daemon.wait_for("the kills before the start", |d| {
        oom_entries(&d.read("incidents.log")).len() >= 2
    });
    std::thread::sleep(Duration::from_millis(400));
    let log = daemon.read("incidents.log");
    let entries = oom_entries(&log);
    assert_eq!(entries.len(), 2, "{log}");
    for entry in &entries {
        assert!(
            entry.ends_with(" | system-wide | before memory-monitor started"),
            "{entry}"
        );
    }
    assert!(entries[0].contains("PID 300 (memory-monitor)"));
    assert_eq!(
        util::daemon::report_count(&log),
        0,
        "no report for a past kill: {log}"
    );
    let (status, _, daemon) = daemon.stop(Signal::TERM);
    assert!(status.success());
    drop(daemon);

    // A restart in the same boot writes nothing again; a kill while it was stopped, once.
    append(
        &kmsg,
        &kill_records(20, kernel_usec_now(), 302, "node", 0, None),
    );
    fake.set_oom_kills(4);
    let mut daemon = start_with(&fake, &logs, &kmsg);
    daemon.wait_for("the kill while stopped", |d| {
        oom_entries(&d.read("incidents.log")).len() >= 3
    });
    let (_, _, daemon) = daemon.stop(Signal::TERM);
    drop(daemon);
    let mut daemon = start_with(&fake, &logs, &kmsg);
    std::thread::sleep(Duration::from_millis(400));
    // Now one while it runs: written, with a report.
    append(
        &kmsg,
        &kill_records(30, kernel_usec_now(), 303, "rustc", 0, None),
    );
    fake.set_oom_kills(5);
    daemon.wait_for_reports(1);
    let log = daemon.read("incidents.log");
    let entries = oom_entries(&log);
    let pids: Vec<&str> = entries
        .iter()
        .map(|e| OOM_KILL.captures(e).unwrap().name("pid").unwrap().as_str())
        .collect();
    assert_eq!(pids, ["300", "301", "302", "303"], "{log}");
    assert!(entries[2].ends_with(" | before memory-monitor started"));
    assert!(entries[3].ends_with(" | system-wide"));
    assert_eq!(
        std::fs::read_to_string(logs.join("state")).unwrap(),
        format!("boot_id={BOOT}\nlast_kill_seq=31\noom_kills_counted=5\n")
    );

    // A new boot starts a new kernel log: what the state remembers is of the old one.
    let (_, _, daemon) = daemon.stop(Signal::TERM);
    drop(daemon);
    std::fs::write(
        &kmsg,
        kill_records(3, 1_000_000, 400, "after-reboot", 0, None),
    )
    .unwrap();
    fake.set_boot_id("0f2b7a9e-0000-4000-8000-000000000001");
    fake.set_oom_kills(1);
    let mut daemon = start_with(&fake, &logs, &kmsg);
    daemon.wait_for("the kill of the new boot", |d| {
        d.read("incidents.log").contains("(after-reboot)")
    });
    check_log(&daemon.read("incidents.log"));
}

#[test]
fn without_the_kernel_log_kills_are_counted_from_vmstat() {
    let fake = calm_machine(7);
    let dir = tempfile::tempdir().unwrap();
    let (logs, kmsg) = (dir.path().join("logs"), dir.path().join("no-such-kmsg"));
    let mut daemon = start_with(&fake, &logs, &kmsg);
    let why = format!(
        "cannot read {}: No such file or directory (os error 2)",
        kmsg.display()
    );
    let stderr = daemon.stderr_text();
    assert!(
        stderr.contains(&format!(
            "memory-monitor: OOM kills are counted from {}/vmstat without their names: {why}\n",
            fake.path().display()
        )),
        "{stderr}"
    );
    // The kills of this boot before any daemon ran, in one entry.
    daemon.wait_for("the count at start", |d| {
        !oom_entries(&d.read("incidents.log")).is_empty()
    });
    fake.set_oom_kills(9);
    daemon.wait_for_reports(1);
    let log = daemon.read("incidents.log");
    let entries: Vec<String> = oom_entries(&log);
    assert_eq!(
        entries.iter().map(|e| without_time(e)).collect::<Vec<_>>(),
        [
            format!(
                "oom-kill | 7 processes killed by the kernel; names unknown: {why} | before memory-monitor started"
            ),
            format!("oom-kill | 2 processes killed by the kernel; names unknown: {why}"),
        ]
    );
    assert!(headers(&log)[0].after_oom_kill);
    let (_, _, daemon) = daemon.stop(Signal::TERM);
    drop(daemon);
    // A restart counts nothing twice.
    let daemon = start_with(&fake, &logs, &kmsg);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(oom_entries(&daemon.read("incidents.log")).len(), 2);
}

#[test]
fn kernel_log_off_counts_and_a_kernel_without_a_count_is_said() {
    let fake = calm_machine(0);
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--kernel-log", "off"])
        .start();
    daemon.wait_for_start();
    assert!(
        daemon
            .stderr_text()
            .contains("without their names: the kernel's log is not read (--kernel-log off)\n")
    );
    std::fs::remove_file(fake.path().join("vmstat")).unwrap();
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--kernel-log", "off"])
        .start();
    daemon.wait_for_start();
    assert!(
        daemon.stderr_text().contains(&format!(
            "memory-monitor: OOM kills are not followed: the kernel's log is not read (--kernel-log off), and {}/vmstat has no oom_kill count (Linux 4.13 and later have one)\n",
            fake.path().display()
        )),
        "{}",
        daemon.stderr_text()
    );
}

#[test]
fn a_snapshot_prints_the_kills_of_the_last_ten_minutes() {
    let fake = calm_machine(3);
    let dir = tempfile::tempdir().unwrap();
    let kmsg = dir.path().join("kmsg");
    let now = kernel_usec_now();
    let mut records = kill_records(
        1,
        now.saturating_sub(11 * 60 * 1_000_000),
        10,
        "old",
        0,
        None,
    );
    records += &kill_records(
        3,
        now.saturating_sub(5 * 60 * 1_000_000),
        11,
        "recent",
        0,
        None,
    );
    records += &kill_records(5, now, 12, "now", 0, Some("/hog"));
    append(&kmsg, &records);
    let out = util::snapshot(
        &fake,
        &util::daemon::cat("psaux_jc-centos77_1.txt"),
        &util::daemon::cat("top_jc-ubuntu2010_1.txt"),
        &["--kernel-log", kmsg.to_str().unwrap(), "--details", "1"],
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let entries = oom_entries(&stdout);
    assert_eq!(entries.len(), 2, "{stdout}");
    assert!(entries[0].contains("PID 11 (recent) of root"));
    assert!(entries[1].ends_with("PID 12 (now) of root | anon-rss 1.52 GiB, file-rss 6.50 MiB, shmem-rss 0 KiB | limit of cgroup /hog"));
    assert!(stdout.ends_with(&format!("{}\n\n", entries[1])), "{stdout}");
    check_log(&stdout);
}
