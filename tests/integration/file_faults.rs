//! The daemon when its files let it down: the log directory deleted, full or read-only,
//! /proc/meminfo bad at start or while running, a SIGHUP after rotation, start-up errors, and a
//! stderr that has gone away. Reports are never half written, and wait in memory until they can
//! be written.

use crate::util;

use rustix::process::Signal;

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use util::daemon::{Daemon, Launch, count, report_count, set_used};
use util::{FakeProc, fake_program};

#[test]
fn a_log_directory_deleted_while_running_is_created_again() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_reports(1);
    // details.log is written after incidents.log: deleted before it, the first report's
    // details would land in the new directory too.
    daemon.wait_for("the first report's details", |d| {
        report_count(&d.read("details.log")) == 1
    });
    std::fs::remove_dir_all(&daemon.logs).unwrap();
    daemon.wait_for("the repeat in a new directory", |d| {
        d.read("incidents.log").contains("since first report")
    });
    // details.log is written after incidents.log.
    daemon.wait_for("the repeat's details in the new directory", |d| {
        report_count(&d.read("details.log")) == 1
    });
    assert!(!daemon.stderr_text().contains("cannot write"));
}

/// Runs the daemon in a mount namespace of its own with its log directory on a tmpfs of `size`,
/// so the test can fill it or make it read-only without touching the machine.
fn on_small_tmpfs(fake: &FakeProc, size: &str) -> Daemon {
    launch_on_small_tmpfs(Launch::ordinary(fake).args(&["--details", "1"]), size)
}

/// [`on_small_tmpfs`] for a daemon launched as `launch` says.
pub(crate) fn launch_on_small_tmpfs(mut launch: Launch, size: &str) -> Daemon {
    let mount_point = tempfile::tempdir().unwrap().keep();
    let mut wrapper: Vec<OsString> = vec!["unshare".into(), "--mount".into()];
    if !rustix::process::geteuid().is_root() {
        wrapper.push("--map-root-user".into());
    }
    wrapper.extend(
        [
            "--propagation",
            "private",
            "sh",
            "-c",
            &format!("mount -t tmpfs -o size={size},mode=0755 tmpfs \"$0\" && exec \"$@\""),
        ]
        .map(OsString::from),
    );
    wrapper.push(mount_point.clone().into());
    launch.wrapper = wrapper;
    launch.log_dir = Some(mount_point);
    launch.start()
}

pub(crate) fn in_namespace_of(daemon: &Daemon, command: &[&str]) {
    let pid = daemon.pid().to_string();
    let mut args = vec!["--target", &pid, "--mount"];
    if !rustix::process::geteuid().is_root() {
        args.extend(["--user", "--preserve-credentials"]);
    }
    let status = Command::new("nsenter")
        .args(args)
        .args(command)
        .status()
        .unwrap();
    assert!(status.success(), "nsenter {command:?}");
}

/// "since first report" figures of the repeats, in seconds, in log order.
fn repeats(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.split(", ").nth(1)?.strip_suffix(" since first report"))
        .map(|d| {
            memory_monitor::text::duration::parse_duration(d)
                .unwrap()
                .as_secs()
        })
        .collect()
}

#[test]
fn a_full_or_read_only_disk_keeps_reports_whole_and_writes_them_later() {
    if !util::require_mount_namespace() {
        return;
    }
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let mut daemon = on_small_tmpfs(&fake, "256k");
    daemon.wait_for_reports(1);
    daemon.wait_for("details of the first", |d| {
        report_count(&d.read("details.log")) == 1
    });

    // Fill the tmpfs, then free one page: the next report (about 9.5 KiB) fits only in part.
    let filler = daemon.seen(&daemon.logs.join("filler"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![b'x'; 4096];
        while f.write_all(&block).is_ok() {}
        let size = f.metadata().unwrap().len();
        f.set_len(size.saturating_sub(4096)).unwrap();
    }
    let before = daemon.read("incidents.log");
    daemon.wait_for("the write error", |d| {
        d.stderr_text().contains("incidents.log: only ")
    });
    let during = daemon.read("incidents.log");
    assert!(
        during == before,
        "a report is whole or absent: {} bytes, {} headers before; {} bytes, {} headers during",
        before.len(),
        report_count(&before),
        during.len(),
        report_count(&during)
    );
    let stderr = daemon.stderr_text();
    assert!(
        stderr.contains("(disk full?); 1 entries kept in memory, retried at the next report"),
        "{stderr}"
    );
    daemon.wait_for("a second failure, the first report still waiting", |d| {
        d.stderr_text().contains("; 2 entries kept in memory")
    });
    assert_eq!(daemon.read("incidents.log"), before);
    assert!(daemon.is_running());

    std::fs::remove_file(&filler).unwrap();
    daemon.wait_for("the delayed reports", |d| {
        d.stderr_text()
            .contains("incidents.log can be written again; ")
    });
    let mut seen = repeats(&daemon.read("incidents.log"));
    assert!(seen.len() >= 3, "{seen:?}");
    assert_eq!(
        seen,
        (1..=seen.len() as u64).collect::<Vec<_>>(),
        "every repeat is there, in order"
    );

    // Read-only: the same, by another error.
    in_namespace_of(
        &daemon,
        &["mount", "-o", "remount,ro", daemon.logs.to_str().unwrap()],
    );
    let before = daemon.read("incidents.log");
    daemon.wait_for("the read-only error", |d| {
        d.stderr_text().contains("Read-only file system")
    });
    assert_eq!(daemon.read("incidents.log"), before);
    in_namespace_of(
        &daemon,
        &["mount", "-o", "remount,rw", daemon.logs.to_str().unwrap()],
    );
    let writable_again = count(&daemon.stderr_text(), "incidents.log can be written again");
    daemon.wait_for("the delayed reports again", |d| {
        count(&d.stderr_text(), "incidents.log can be written again") > writable_again
    });
    // Frozen while both logs are read, so they show the same moment; its namespace, and the
    // tmpfs with it, end when it does. Not between a report's two writes: details.log is
    // written after incidents.log.
    let until = std::time::Instant::now() + util::patience(Duration::from_secs(10));
    let (incidents, details) = loop {
        daemon.signal(Signal::STOP);
        let incidents = daemon.read("incidents.log");
        let details = daemon.read("details.log");
        daemon.signal(Signal::CONT);
        if report_count(&incidents) == report_count(&details) || std::time::Instant::now() > until {
            break (incidents, details);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    seen = repeats(&incidents);
    assert_eq!(seen, (1..=seen.len() as u64).collect::<Vec<_>>());
    assert_eq!(report_count(&details), seen.len() + 1, "details.log too");
    assert_eq!(report_count(&incidents), seen.len() + 1);
    assert!(details.ends_with("\n\n") && incidents.ends_with("\n\n"));
    let (status, _, _) = daemon.stop(Signal::TERM);
    assert!(status.success());
}

#[test]
fn meminfo_that_is_bad_at_start_stops_the_program_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (meminfo, says) in [
        (None, "cannot open"),
        (Some(""), "no MemTotal line"),
        (
            Some("MemFree: 100 kB\nMemAvailable: 50 kB\n"),
            "no MemTotal line",
        ),
        (
            Some("MemTotal: 1000 kB\n"),
            "no MemAvailable or MemFree line",
        ),
        (
            Some("MemTotal: 0 kB\nMemAvailable: 0 kB\n"),
            "MemTotal is 0",
        ),
        (
            Some("MemTotal: lots kB\n"),
            "the MemTotal line is not a number of kB",
        ),
        (Some("\u{1b}[2J\u{ff}garbage\n\0\0\0"), "no MemTotal line"),
    ] {
        let proc_root = tempfile::tempdir().unwrap();
        if let Some(text) = meminfo {
            std::fs::write(proc_root.path().join("meminfo"), text).unwrap();
        }
        let out = util::program_without_env()
            .arg("--log-dir")
            .arg(dir.path())
            .arg("--proc-root")
            .arg(proc_root.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{meminfo:?}: {stderr}");
        let file = proc_root.path().join("meminfo");
        assert!(
            stderr.starts_with(&format!("memory-monitor: {says}"))
                || stderr.contains(&format!("{}: {says}", file.display())),
            "{meminfo:?}: {stderr}"
        );
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains("(see --proc-root)") && stderr.lines().count() == 1);
    }
}

#[test]
fn a_meminfo_read_error_while_running_is_said_once_and_the_loop_goes_on() {
    let fake = FakeProc::new();
    set_used(&fake, 10);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_start();
    std::fs::write(fake.path().join("meminfo"), "MemTotal: garbage\n").unwrap();
    daemon.wait_for("the error", |d| d.stderr_text().contains("cannot read"));
    // Twenty ticks later, still one message.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(count(&daemon.stderr_text(), "cannot read"), 1);
    set_used(&fake, 95);
    daemon.wait_for("a report once meminfo reads again", |d| {
        report_count(&d.read("incidents.log")) >= 1
    });
    let stderr = daemon.stderr_text();
    assert_eq!(count(&stderr, "cannot read"), 1, "{stderr}");
    assert_eq!(count(&stderr, "works again"), 1, "{stderr}");
}

#[test]
fn sighup_reopens_the_log_files() {
    let fake = FakeProc::new();
    set_used(&fake, 10);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_start();
    for name in ["incidents.log", "details.log"] {
        std::fs::rename(
            daemon.logs.join(name),
            daemon.logs.join(format!("{name}.1")),
        )
        .unwrap();
    }
    daemon.signal(Signal::HUP);
    daemon.wait_for("the files to be created again", |d| {
        d.logs.join("incidents.log").exists() && d.logs.join("details.log").exists()
    });
    // Said after the files are opened, so it may come a moment after they show.
    daemon.wait_for("the reopening said on stderr", |d| {
        d.stderr_text().contains("SIGHUP: log files reopened")
    });
    assert!(daemon.is_running());
    set_used(&fake, 95);
    daemon.wait_for_reports(1);
    assert_eq!(
        std::fs::read_to_string(daemon.logs.join("incidents.log.1")).unwrap(),
        ""
    );
}

#[test]
fn start_up_errors_name_the_problem_and_the_fix() {
    let fake = FakeProc::new();
    let logs = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let run = |path: &Path, args: &[&str]| {
        let mut command = util::program_without_env();
        if !args.contains(&"--log-dir") {
            command.arg("--log-dir").arg(logs.path());
        }
        let out = command
            .arg("--proc-root")
            .arg(fake.path())
            .args(args)
            .env("PATH", path)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        (out.status.code(), stderr)
    };
    let (code, err) = run(bin.path(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        format!(
            "memory-monitor: ps not found on PATH ({}); install procps (sudo apt-get install procps) or give its path with --ps-bin\n",
            bin.path().display()
        )
    );
    fake_program(bin.path(), "ps", "exit 0");
    let (_, err) = run(bin.path(), &[]);
    assert!(
        err.starts_with("memory-monitor: top not found on PATH"),
        "{err}"
    );
    assert!(err.ends_with("or give its path with --top-bin\n"), "{err}");
    let (_, err) = run(bin.path(), &["--top-bin", "/nonexistent/top"]);
    assert_eq!(
        err,
        "memory-monitor: --top-bin /nonexistent/top: no such file; give the path of procps's top (or leave --top-bin out to use the one on PATH)\n"
    );
    let not_executable = bin.path().join("top");
    std::fs::write(&not_executable, "").unwrap();
    let (_, err) = run(bin.path(), &["--top-bin", not_executable.to_str().unwrap()]);
    assert!(err.contains(": not executable; give the path"), "{err}");

    let (code, err) = run(bin.path(), &["--sustian", "5s"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "memory-monitor: unexpected argument '--sustian' found; did you mean '--sustain'?\n"
    );
    let (_, err) = run(bin.path(), &["--threshold", "120"]);
    assert!(err.ends_with("must be a percentage above 0 and below 100, such as 80\n"));
    let (_, err) = run(bin.path(), &["--frobnicate"]);
    assert!(
        err.ends_with("; memory-monitor --help lists the options\n"),
        "{err}"
    );

    for (args, option) in [
        (&["--threshold", "0"][..], "--threshold"),
        (&["--threshold", "100"], "--threshold"),
        (&["--threshold", "NaN"], "--threshold"),
        (&["--interval", "0"], "--interval"),
        (&["--sustain=-1s"], "--sustain"),
        (&["--repeat", "soon"], "--repeat"),
        (&["--details", "-1"], "--details"),
        (&["--details", "x"], "--details"),
    ] {
        let (code, err) = run(bin.path(), args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(
            err.contains(option) && err.contains("such as") || err.contains("use e.g."),
            "the problem and an example of a good value: {args:?}: {err}"
        );
    }

    let out = util::program_without_env()
        .args(["--log-dir", "/tmp", "--threshold", "90", "snapshot"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "memory-monitor: the subcommand 'snapshot' cannot be used with: --log-dir <DIR>, --threshold <PERCENT>; memory-monitor --help lists the options\n"
    );

    let file = logs.path().join("file");
    std::fs::write(&file, "").unwrap();
    let (code, err) = run(
        Path::new("/usr/bin:/bin"),
        &["--log-dir", file.to_str().unwrap()],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(&format!(
            "memory-monitor: cannot use log directory {}",
            file.display()
        )) && err.ends_with(
            "a file stands where a directory should be; remove it or choose another --log-dir\n"
        ),
        "{err}"
    );
}

#[test]
fn a_stderr_that_has_gone_away_does_not_stop_the_watch() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let mut launch = Launch::ordinary(&fake);
    launch.stderr_closed = true;
    let mut daemon = launch.start();
    // Every report and SIGHUP says something on stderr; each write fails with EPIPE.
    daemon.wait_for_reports(2);
    daemon.signal(Signal::HUP);
    daemon.wait_for_reports(3);
    assert!(daemon.is_running());
    let (status, _, _) = daemon.stop(Signal::TERM);
    assert_eq!(status.code(), Some(0), "{status:?}");
}
