//! `memory-monitor show N` against logs the real daemon wrote in two runs (so incident 1 is in
//! both), rotated by the real logrotate with the shipped settings, then damaged: a torn last
//! line and a .gz cut short. And against a tampered log holding raw escapes and invalid UTF-8.

use crate::util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rustix::process::Signal;
use util::FakeProc;
use util::daemon::{Daemon, Launch, cat, count, set_used};
use util::kernel::{append, kernel_usec_now, kill_records};

const LOGROTATE: &str = "/usr/sbin/logrotate";

/// Whether the real logrotate is there; says it skips when not.
fn have_logrotate() -> bool {
    let found = Path::new(LOGROTATE).is_file();
    if !found {
        util::skip("logrotate", "sudo apt-get install logrotate");
    }
    found
}

/// `memory-monitor show ARGS…` with the logs of `dir`.
fn show(dir: &Path, args: &[&str]) -> Output {
    util::program_without_env()
        .arg("show")
        .args(args)
        .arg("--log-dir")
        .arg(dir)
        .output()
        .unwrap()
}

/// logrotate, forced, with dist/memory-monitor.logrotate aimed at `dir` (its `su` line left
/// out: the test runs as whoever runs it) and a state file of its own.
fn rotate(dir: &Path, work: &Path) {
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/dist/memory-monitor.logrotate"
    ))
    .unwrap();
    let config: String = shipped
        .lines()
        .filter(|l| !l.trim_start().starts_with("su "))
        .map(|l| l.replace("/var/log/memory-monitor", dir.to_str().unwrap()) + "\n")
        .collect();
    assert!(config.contains("compress"), "{config}");
    let conf = work.join("logrotate.conf");
    std::fs::write(&conf, config).unwrap();
    let out = Command::new(LOGROTATE)
        .arg("-f")
        .arg("-s")
        .arg(work.join("logrotate.state"))
        .arg(&conf)
        .output()
        .unwrap();
    assert!(out.status.success(), "logrotate: {out:?}");
}

fn recovered(daemon: &Daemon) -> usize {
    count(&daemon.read("incidents.log"), "| recovered |")
}

/// One episode: high until its report, then low until it recovers; `between` runs between the
/// two, and may move the logs away.
fn episode(daemon: &mut Daemon, fake: &FakeProc, between: impl FnOnce()) {
    let before = util::daemon::report_count(&daemon.read("incidents.log"));
    set_used(fake, 90);
    daemon.wait_for_reports(before + 1);
    between();
    let recoveries = recovered(daemon);
    set_used(fake, 40);
    daemon.wait_for("recovered", |d| recovered(d) > recoveries);
}

fn start(fake: &FakeProc, logs: &Path) -> Daemon {
    set_used(fake, 40);
    // A short table keeps the snapshots short.
    let mut launch = Launch::new(
        fake,
        &cat("psaux_insights-core-auxww_2.txt"),
        &cat("top_jc-ubuntu2010_1.txt"),
    )
    .args(&["--details", "2", "--repeat", "1h"]);
    launch.log_dir = Some(logs.to_path_buf());
    let mut daemon = launch.start();
    daemon.wait_for_start();
    daemon
}

/// What varies from run to run, replaced: times, durations, the trend and who grew.
fn redacted(text: &str) -> String {
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d").unwrap();
    let duration = regex::Regex::new(r"\b(for|running for) (\d+[hms]?)+(ms)?\b").unwrap();
    let text = time.replace_all(text, "<time>");
    let text = duration.replace_all(&text, "$1 <duration>");
    text.lines()
        .map(|l| {
            if l.starts_with("  RAM over the last ") {
                "  RAM over the last <trend>"
            } else if l.starts_with("  grew most since ") {
                "  grew most since <growth>"
            } else if l.starts_with("  top - ") {
                "  top - <top's clock>"
            } else {
                l
            }
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The logs of two runs, rotated twice: run 1's incidents 1 to 3 in the `.2.gz` files; run 2's
/// incident 1 begun in the `.1` files and recovered in the current ones, then its incident 2,
/// opened by an OOM kill while memory was low: the kill's entry comes before the marker.
fn logs_of_two_runs(work: &Path) -> PathBuf {
    let logs = work.join("logs");
    let fake = FakeProc::new();
    fake.set_boot_id("5f1c0e1c-7d0a-4a53-9c39-6d3c5e0b8f7a");
    fake.set_oom_kills(0);
    let mut daemon = start(&fake, &logs);
    for _ in 0..3 {
        episode(&mut daemon, &fake, || {});
    }
    drop(daemon.stop(Signal::TERM));
    rotate(&logs, work);

    let mut daemon = start(&fake, &logs);
    episode(&mut daemon, &fake, || rotate(&logs, work));
    append(
        &daemon.kernel_log,
        &kill_records(1000, kernel_usec_now(), 4242, "python3", 0, None),
    );
    fake.set_oom_kills(1);
    daemon.wait_for("the report after the kill", |d| {
        d.read("incidents.log").contains("| after an OOM kill")
    });
    drop(daemon.stop(Signal::TERM));
    logs
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Lines of `stderr` that name `file` (a path ending in it), and say what was skipped.
fn said_of(stderr: &str, file: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with("memory-monitor: /") && l.contains(&format!("/{file}: ")))
        .count()
}

#[test]
fn show_an_incident_of_two_runs_rotated_compressed_and_damaged() {
    if !have_logrotate() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let logs = logs_of_two_runs(work.path());
    let has = |name: &str| logs.join(name).is_file();
    assert!(
        has("incidents.log.2.gz") && has("incidents.log.1") && has("incidents.log"),
        "logrotate made other files: {:?}",
        std::fs::read_dir(&logs).unwrap().collect::<Vec<_>>()
    );
    assert!(has("details.log.2.gz") && has("details.log.1"));

    // Incident 1 of the second run: its report in the .1 files, its recovery after them.
    let latest = show(&logs, &["1"]);
    assert!(latest.status.success(), "{latest:?}");
    let note = regex::Regex::new(
        r"^memory-monitor: incident 1 is in 2 runs of the daemon; showing the latest, which began \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00 \(the others began \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00\)\n$",
    )
    .unwrap();
    assert!(note.is_match(&stderr(&latest)), "{}", stderr(&latest));
    crate::snapshot!(
        "show_latest_run_across_rotated_files",
        redacted(&stdout(&latest))
    );

    // Incident 2 of the second run, opened by a kill.
    let after_kill = show(&logs, &["2"]);
    assert!(after_kill.status.success(), "{after_kill:?}");
    assert!(
        stderr(&after_kill).contains("incident 2 is in 2 runs of the daemon"),
        "{}",
        stderr(&after_kill)
    );
    let text = stdout(&after_kill);
    let kill = text
        .find("| oom-kill | PID 4242 (python3)")
        .expect("the kill");
    let marker = text.find("===== new log").unwrap();
    assert!(kill < marker, "{text}");
    crate::snapshot!("show_an_incident_opened_by_a_kill", redacted(&text));

    // Incident 3 of the first run, from the compressed files alone.
    let compressed = show(&logs, &["3"]);
    assert!(compressed.status.success(), "{compressed:?}");
    assert_eq!(stderr(&compressed), "");
    crate::snapshot!("show_from_compressed_files", redacted(&stdout(&compressed)));

    let missing = show(&logs, &["4"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(stdout(&missing), "");
    assert_eq!(
        stderr(&missing),
        format!(
            "memory-monitor: no incident 4 in {}/incidents.log or details.log, rotated files included; the highest incident number there is 3\n",
            logs.display()
        )
    );

    // A write torn by a crash, and a compressed file cut short.
    let current = logs.join("incidents.log");
    let mut torn = std::fs::read(&current).unwrap();
    torn.extend_from_slice(b"2026-12-02 14:13:09 +00:00 | incident 1 | RAM 9");
    std::fs::write(&current, torn).unwrap();
    let packed = logs.join("incidents.log.2.gz");
    let gz = std::fs::read(&packed).unwrap();
    std::fs::write(&packed, &gz[..gz.len() - 30]).unwrap();

    // Incident 1 of the second run is whole: nothing of it was damaged. The first run's
    // incident 1 is still counted, its marker being before the cut.
    let damaged = show(&logs, &["1"]);
    assert!(damaged.status.success(), "{damaged:?}");
    assert_eq!(stdout(&damaged), stdout(&latest));
    let said = stderr(&damaged);
    assert_eq!(said_of(&said, "incidents.log.2.gz"), 1, "{said}");
    assert_eq!(said_of(&said, "incidents.log"), 1, "{said}");
    assert!(
        said.contains("/incidents.log: its last line is cut short"),
        "{said}"
    );
    assert_eq!(
        said.lines().count(),
        3,
        "the two damaged files and the runs: {said}"
    );

    // Incident 3 of the first run: what came before the cut.
    let cut = show(&logs, &["3"]);
    assert!(cut.status.success(), "{cut:?}");
    let (whole, cut_short) = (stdout(&compressed), stdout(&cut));
    let split = |text: &str| {
        let at = text.find("==> details.log.2.gz <==").expect("the details");
        (text[..at].trim_end().to_string(), text[at..].to_string())
    };
    let ((whole_entries, whole_details), (cut_entries, cut_details)) =
        (split(&whole), split(&cut_short));
    assert!(
        whole_entries.starts_with(&cut_entries) && cut_entries.len() < whole_entries.len(),
        "not the part before the cut:\n{cut_short}"
    );
    assert!(cut_entries.contains("| incident 3 |"), "{cut_short}");
    assert_eq!(cut_details, whole_details);
    assert_eq!(
        said_of(&stderr(&cut), "incidents.log.2.gz"),
        1,
        "{}",
        stderr(&cut)
    );
}

/// A log that someone wrote into: raw escape sequences, invalid UTF-8, a carriage return and a
/// C1 control print as `\xNN`, and what the daemon escaped prints as it stands.
#[test]
fn a_tampered_log_prints_nothing_raw() {
    let dir = tempfile::tempdir().unwrap();
    let marker =
        b"===== new log 2026-11-22 14:03:15 +01:00 | incident 1 | memory-monitor 0.1.0 =====\n";
    let mut log = marker.to_vec();
    log.extend_from_slice(
        b"2026-11-22 14:03:15 +01:00 | incident 1 | RAM 83.2% (3.08 of 3.70 GiB) | CPU 12.5% | above 80% for 15s\n",
    );
    log.extend_from_slice(
        b"root 1 0.0 0.0 1 1 ? S 10:00 0:00 evil \x1b]0;pwned\x07\x1b[2J title\r\n",
    );
    log.extend_from_slice(
        b"root 2 0.0 0.0 1 1 ? S 10:00 0:00 bad \xff\xfe utf-8 \xc2\x9b c1 \xe2\x80\xae rlo\n",
    );
    log.extend_from_slice(b"root 3 0.0 0.0 1 1 ? S 10:00 0:00 escaped by the daemon \\x1b[31m\n\n");
    std::fs::write(dir.path().join("incidents.log"), &log).unwrap();
    let mut details = marker.to_vec();
    details.extend_from_slice(b"  #1 PID 1 \x1b[31mred\x1b[0m\n\n");
    std::fs::write(dir.path().join("details.log"), &details).unwrap();

    let out = show(dir.path(), &["1"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout
            .iter()
            .all(|&b| b == b'\n' || (b >= 0x20 && b != 0x7f)),
        "a raw control byte: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = stdout(&out);
    assert!(
        text.contains(r"evil \x1b]0;pwned\x07\x1b[2J title\x0d"),
        "{text}"
    );
    assert!(
        text.contains(r"bad \xff\xfe utf-8 \xc2\x9b c1 \xe2\x80\xae rlo"),
        "{text}"
    );
    assert!(text.contains(r"escaped by the daemon \x1b[31m"), "{text}");
    crate::snapshot!("show_tampered_log", text);
}

/// A missing or bad N is one line that says what to give, and exit status 2.
#[test]
fn a_bad_incident_number_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    for (args, said) in [
        (
            &[][..],
            "memory-monitor: the following required arguments were not provided: <N>; memory-monitor show --help says what it takes\n",
        ),
        (
            &["0"][..],
            "memory-monitor: invalid value '0' for '<N>': must be an incident's number, 1 or more, such as 3\n",
        ),
        (
            &["three"][..],
            "memory-monitor: invalid value 'three' for '<N>': must be an incident's number, 1 or more, such as 3\n",
        ),
    ] {
        let out = show(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out), said);
        assert_eq!(stdout(&out), "");
    }
    // The example is in its help.
    let help = util::program_without_env()
        .args(["show", "--help"])
        .output()
        .unwrap();
    assert!(
        stdout(&help).contains("\nExample:\n  memory-monitor show 3 "),
        "{}",
        stdout(&help)
    );
}
