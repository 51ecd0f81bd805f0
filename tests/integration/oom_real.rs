//! Real OOM kills by the real kernel, in a memory cgroup, read by the daemon from the real
//! `/dev/kmsg` and counted against the real `/proc/vmstat`. Root only (CI runs them); one at a
//! time, since the kernel counts kills machine-wide.

use crate::util;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::process::Signal;

use util::FakeProc;
use util::cgroup::{MemCgroup, may_lower_oom_score_adj, memory_cgroup, oom_kills, wait_ended};
use util::daemon::{Daemon, Launch};
use util::log::{OOM_KILL, check_log};

/// A daemon on the machine's own /proc and /dev/kmsg (ps and top still the fake ones), its
/// logs in `logs` when given.
fn daemon_on_this_machine(fake: &FakeProc, logs: Option<&Path>) -> Daemon {
    let mut launch = Launch::ordinary(fake).args(&["--kernel-log", "/dev/kmsg"]);
    launch.proc_root = Some("/proc".into());
    launch.log_dir = logs.map(Path::to_path_buf);
    let mut daemon = launch.start();
    daemon.wait_for_start();
    daemon
}

/// The entries of kills in `cgroup`.
fn entries_of(log: &str, cgroup: &MemCgroup) -> Vec<String> {
    let limit = format!(" | limit of cgroup {}", cgroup.path);
    log.lines()
        .filter(|l| OOM_KILL.is_match(l) && l.contains(&limit))
        .map(str::to_string)
        .collect()
}

/// The entries, one per kill, of kills since the start.
fn storm_entries(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            OOM_KILL.captures(l).is_some_and(|caps| {
                caps.name("before").is_none()
                    && caps.name("more").is_none()
                    && caps.name("counted").is_none()
            })
        })
        .map(str::to_string)
        .collect()
}

/// How many kills the entries of a log count, leaving out those from before the start.
fn kills_written(log: &str) -> u64 {
    log.lines()
        .filter_map(|l| OOM_KILL.captures(l))
        .filter(|caps| caps.name("before").is_none())
        .map(|caps| {
            caps.name("more")
                .or(caps.name("counted"))
                .map_or(1, |n| n.as_str().parse().unwrap())
        })
        .sum()
}

#[test]
fn a_real_kill_gets_its_entry_and_a_report_after_it() {
    let Some(cgroup) = memory_cgroup(64) else {
        return;
    };
    let fake = FakeProc::new();
    let mut daemon = daemon_on_this_machine(&fake, None);
    let before = oom_kills();
    let mut hogs = cgroup.hogs(1);
    wait_ended(&mut hogs);
    let killed = oom_kills() - before;
    assert!(killed >= 1, "the kernel killed nothing");
    daemon.wait_for("the kill's entry and the report", |d| {
        let log = d.read("incidents.log");
        entries_of(&log, &cgroup).len() as u64 == killed && log.contains("| after an OOM kill")
    });
    let log = daemon.read("incidents.log");
    let entry = &entries_of(&log, &cgroup)[0];
    let pattern = regex::Regex::new(&format!(
        r"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| oom-kill \| PID \d+ \(tail\) of root \| anon-rss \d+\.\d\d MiB, file-rss \S+ [KM]iB, shmem-rss 0 KiB \| limit of cgroup {}$",
        regex::escape(&cgroup.path)
    ))
    .unwrap();
    assert!(pattern.is_match(entry), "{entry}");
    assert_eq!(kills_written(&log), killed, "{log}");
    check_log(&log);
}

#[test]
fn a_storm_of_50_kills_is_capped_and_adds_up_to_the_kernels_count() {
    let Some(cgroup) = memory_cgroup(64) else {
        return;
    };
    let fake = FakeProc::new();
    let before = oom_kills();
    let mut daemon = daemon_on_this_machine(&fake, None);
    let started = Instant::now();
    let mut hogs = cgroup.hogs(50);
    wait_ended(&mut hogs);
    let killed = oom_kills() - before;
    assert!(killed >= 50, "only {killed} kills");
    assert!(started.elapsed() < Duration::from_secs(30), "not a storm");
    // Ten entries, and once the minute is over, one that counts the rest. (Earlier storms
    // still in the kernel's log have their summaries too, marked as before the start.)
    let storm_summary = |log: &str| {
        log.lines()
            .find(|l| {
                l.contains(" more processes killed in the last minute: ")
                    && !l.ends_with(" | before memory-monitor started")
            })
            .map(str::to_string)
    };
    daemon.wait_for_within("the storm's summary", Duration::from_secs(90), |d| {
        storm_summary(&d.read("incidents.log")).is_some()
    });
    let log = daemon.read("incidents.log");
    // The kernel names the cgroup in at most 10 kills per 5 s, so a kill of the storm may say
    // "limit of a cgroup"; any other label is not from this storm.
    let named = storm_entries(&log);
    assert_eq!(named.len(), 10, "{log}");
    let limit = format!(" | limit of cgroup {}", cgroup.path);
    for entry in &named {
        assert!(
            entry.ends_with(&limit) || entry.ends_with(" | limit of a cgroup"),
            "{entry}"
        );
    }
    let more = storm_summary(&log).unwrap();
    assert!(more.contains(": tail ×"), "{more}");
    assert_eq!(kills_written(&log), killed, "{log}");
    assert_eq!(
        util::daemon::report_count(&log),
        1,
        "one report for the minute: {log}"
    );
    check_log(&log);
}

#[test]
fn a_kill_while_stopped_is_written_once_at_the_next_start() {
    let Some(cgroup) = memory_cgroup(64) else {
        return;
    };
    let fake = FakeProc::new();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let daemon = daemon_on_this_machine(&fake, Some(&logs));
    let (status, _, daemon) = daemon.stop(Signal::TERM);
    assert!(status.success());
    drop(daemon);

    let mut hogs = cgroup.hogs(1);
    wait_ended(&mut hogs);
    let mut daemon = daemon_on_this_machine(&fake, Some(&logs));
    daemon.wait_for("the kill while stopped", |d| {
        !entries_of(&d.read("incidents.log"), &cgroup).is_empty()
    });
    let log = daemon.read("incidents.log");
    let entries = entries_of(&log, &cgroup);
    assert_eq!(entries.len(), 1, "{log}");
    assert!(
        entries[0].ends_with(" | before memory-monitor started"),
        "{}",
        entries[0]
    );
    assert_eq!(
        util::daemon::report_count(&log),
        0,
        "no report for a past kill"
    );
    let (_, _, daemon) = daemon.stop(Signal::TERM);
    drop(daemon);

    // A restart writes nothing again, though the kernel's log still holds every record.
    let daemon = daemon_on_this_machine(&fake, Some(&logs));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(daemon.read("incidents.log"), log);
    let state = std::fs::read_to_string(logs.join("state")).unwrap();
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert!(state.starts_with(&format!("boot_id={boot_id}")), "{state}");
}

#[test]
fn without_cap_syslog_the_kills_are_counted() {
    let Some(cgroup) = memory_cgroup(64) else {
        return;
    };
    if std::fs::read_to_string("/proc/sys/kernel/dmesg_restrict").is_ok_and(|v| v.trim() != "1") {
        util::skip(
            "kernel.dmesg_restrict=1 (Debian's default), which keeps /dev/kmsg from other users",
            "sysctl kernel.dmesg_restrict=1",
        );
        return;
    }
    // Everything the unprivileged daemon needs, where it can reach it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let program = dir.path().join("memory-monitor");
    std::fs::copy(env!("CARGO_BIN_EXE_memory-monitor"), &program).unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let nobody = rustix::process::Uid::from_raw(65534);
    let nogroup = rustix::process::Gid::from_raw(65534);
    rustix::fs::chown(&logs, Some(nobody), Some(nogroup)).unwrap();
    let stderr = dir.path().join("stderr");

    let before = oom_kills();
    let mut child = util::command_without_env("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&program)
        .args(["run", "--interval", "100ms", "--log-dir"])
        .arg(&logs)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let read = |name: &str| std::fs::read_to_string(logs.join(name)).unwrap_or_default();
    let stderr_text = || std::fs::read_to_string(&stderr).unwrap_or_default();
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + util::patience(Duration::from_secs(20));
        while !done() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {}",
                stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait("start-up", &|| stderr_text().contains("OOM kills are"));
    let why = "cannot read /dev/kmsg: Operation not permitted (os error 1) (it needs CAP_SYSLOG while kernel.dmesg_restrict is 1)";
    assert!(
        stderr_text().contains(&format!(
            "memory-monitor: OOM kills are counted from /proc/vmstat without their names: {why}\n"
        )),
        "{}",
        stderr_text()
    );
    let mut hogs = cgroup.hogs(3);
    wait_ended(&mut hogs);
    let killed = oom_kills() - before;
    wait("the count", &|| {
        kills_written(&read("incidents.log")) >= killed
    });
    std::thread::sleep(Duration::from_millis(300));
    let log = read("incidents.log");
    assert_eq!(kills_written(&log), killed, "{log}");
    assert!(
        log.contains(&format!(
            " processes killed by the kernel; names unknown: {why}\n"
        )),
        "{log}"
    );
    let _ = rustix::process::kill_process(rustix::process::Pid::from_child(&child), Signal::TERM);
    assert!(child.wait().unwrap().success(), "{}", stderr_text());
}

#[test]
fn in_a_cgroup_with_a_hog_the_hog_dies_and_the_daemon_lives() {
    let Some(cgroup) = memory_cgroup(64) else {
        return;
    };
    // The service's OOMScoreAdjust=-900, where this machine lets root lower it; where it does
    // not (systemd then runs the service without it), the daemon must live all the same: the
    // kernel kills the task that holds the most.
    let adjust = may_lower_oom_score_adj().then_some(-900);
    if adjust.is_none() {
        eprintln!(
            "\nnote: oom_score_adj -900 not applied: this machine withholds CAP_SYS_RESOURCE from root"
        );
    } else if !util::on_path("choom") {
        util::skip("choom", "sudo apt-get install util-linux");
        return;
    }
    let fake = FakeProc::new();
    let mut launch = Launch::ordinary(&fake).args(&["--kernel-log", "/dev/kmsg"]);
    launch.proc_root = Some("/proc".into());
    launch.wrapper = cgroup.wrapper(adjust);
    let mut daemon = launch.start();
    daemon.wait_for_start();
    let procs = std::fs::read_to_string(cgroup.dir.join("cgroup.procs")).unwrap();
    assert!(
        procs.lines().any(|p| p == daemon.pid().to_string()),
        "the daemon is in the cgroup: {procs}"
    );
    let adj = std::fs::read_to_string(format!("/proc/{}/oom_score_adj", daemon.pid())).unwrap();
    assert_eq!(adj.trim(), adjust.unwrap_or(0).to_string());

    let mut hogs = cgroup.hogs(2);
    wait_ended(&mut hogs);
    daemon.wait_for("the hogs' entries", |d| {
        entries_of(&d.read("incidents.log"), &cgroup).len() >= 2
    });
    assert!(
        daemon.is_running(),
        "the daemon lives: {}",
        daemon.stderr_text()
    );
    let log = daemon.read("incidents.log");
    assert!(
        entries_of(&log, &cgroup)
            .iter()
            .all(|e| e.contains(" (tail) ")),
        "only the hogs were killed: {log}"
    );
    let (status, _, _) = daemon.stop(Signal::TERM);
    assert!(status.success());
}
