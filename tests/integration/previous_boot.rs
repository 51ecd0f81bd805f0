//! How the last boot ended, as the real daemon tells it: runs on one log directory with a fake
//! proc root whose boot ID the test changes between them. An episode open at a power cut
//! (SIGKILL) or at a shutdown (SIGTERM) is said once in the next boot, with what pstore holds;
//! a quiet stop, a recovered episode or a restart within a boot says nothing; a state file cut
//! in half is said once, replaced, and stops nothing.

use crate::util;

use std::path::{Path, PathBuf};

use regex::Regex;
use rustix::process::Signal;

use util::FakeProc;
use util::daemon::{Daemon, Launch, set_used};

const BOOT_A: &str = "0b5a8c1e-3c1f-4d5e-9f00-aaaaaaaaaaaa";
const BOOT_B: &str = "0b5a8c1e-3c1f-4d5e-9f00-bbbbbbbbbbbb";
const BOOT_C: &str = "0b5a8c1e-3c1f-4d5e-9f00-cccccccccccc";

/// One machine across boots: its fake /proc, and the log directory every run shares.
struct Machine {
    fake: FakeProc,
    dir: tempfile::TempDir,
}

impl Machine {
    fn new() -> Machine {
        let fake = FakeProc::new();
        fake.set_boot_id(BOOT_A);
        set_used(&fake, 40);
        Machine {
            fake,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    fn sys_root(&self) -> PathBuf {
        self.dir.path().join("sys")
    }

    /// A run of the daemon, started and ready. No repeats: each episode has one report.
    fn run(&self) -> Daemon {
        std::fs::create_dir_all(self.sys_root()).unwrap();
        let mut launch = Launch::ordinary(&self.fake).args(&[
            "--repeat",
            "1h",
            "--sys-root",
            self.sys_root().to_str().unwrap(),
        ]);
        launch.log_dir = Some(self.logs());
        let mut daemon = launch.start();
        daemon.wait_for_start();
        daemon
    }

    /// A run that reports an episode and is still in it.
    fn run_into_an_episode(&self) -> Daemon {
        let mut daemon = self.run();
        set_used(&self.fake, 90);
        daemon.wait_for_reports(1);
        daemon.wait_for("the state of the episode", |_| {
            self.state().contains("episode=1\n")
        });
        daemon
    }

    fn state(&self) -> String {
        std::fs::read_to_string(self.logs().join("state")).unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.logs().join("incidents.log")).unwrap_or_default()
    }

    fn entries(&self) -> Vec<String> {
        previous_boot_lines(&self.log())
    }

    /// Boots again: a new boot ID, memory calm, and a run started in it.
    fn reboot(&self, boot: &str) -> Daemon {
        self.fake.set_boot_id(boot);
        set_used(&self.fake, 40);
        self.run()
    }
}

fn previous_boot_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(" | previous boot | "))
        .map(str::to_string)
        .collect()
}

/// `<time> | previous boot | <ending> during incident 1: high since <time>, last report
/// <hh:mm:ss>, RAM 90.0% when last written[; evidence]`, as SPEC.md gives it.
fn entry_pattern(ending: &str, evidence: &str) -> Regex {
    let time = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d";
    Regex::new(&format!(
        r"^{time} \| previous boot \| {ending} during incident 1: high since {time}, last report \d\d:\d\d:\d\d, RAM 90\.0% when last written{evidence}$"
    ))
    .unwrap()
}

fn kill(daemon: Daemon) {
    let (status, _, _) = daemon.stop(Signal::KILL);
    assert!(!status.success());
}

fn terminate(daemon: Daemon) {
    let (status, _, daemon) = daemon.stop(Signal::TERM);
    assert!(status.success(), "{status}: {}", daemon.stderr_text());
}

/// A power cut during an episode: the next boot says so, once, in every output that keeps
/// entries; a restart in that boot, and the boot after it, say nothing more.
#[test]
fn a_power_cut_during_an_episode_is_said_in_the_next_boot() {
    let machine = Machine::new();
    kill(machine.run_into_an_episode());
    let before = machine.log();

    let daemon = machine.reboot(BOOT_B);
    let entries = machine.entries();
    assert_eq!(entries.len(), 1, "{}", machine.log());
    assert!(
        entry_pattern("ended abruptly", "").is_match(&entries[0]),
        "{}",
        entries[0]
    );
    // Written at start, before anything else of the new boot, and followed by a blank line.
    assert_eq!(machine.log(), format!("{before}{}\n\n", entries[0]));
    // The episode's first high sample and its report, as the first boot's log has them.
    let header = util::log::headers(&before).remove(0);
    let report_time = header.time.clone();
    assert!(
        entries[0].contains(&format!("last report {}", &report_time[11..19])),
        "{} against {report_time}",
        entries[0]
    );
    let json = std::fs::read_to_string(machine.logs().join("incidents.jsonl")).unwrap();
    let line = json
        .lines()
        .find(|l| l.contains("\"event\":\"previous-boot\""))
        .expect("a previous-boot line in incidents.jsonl");
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(value["ended"], "abruptly");
    assert_eq!(value["incident"], 1);
    assert_eq!(value["ram_percent"], 90.0);
    assert_eq!(value["evidence"], serde_json::json!([]));
    crate::jsonl::valid(&json.lines().map(|l| format!("{l}\n")).collect::<Vec<_>>());
    assert!(
        !daemon.stderr_text().contains("state"),
        "{}",
        daemon.stderr_text()
    );

    // A restart in the same boot, then another boot: nothing more.
    terminate(daemon);
    terminate(machine.run());
    terminate(machine.reboot(BOOT_C));
    assert_eq!(machine.entries().len(), 1, "{}", machine.log());
}

/// A shutdown (SIGTERM) during an episode says `was shut down`; what pstore holds follows.
#[test]
fn a_shutdown_during_an_episode_says_so_with_pstore_s_record() {
    let machine = Machine::new();
    terminate(machine.run_into_an_episode());
    assert!(
        machine.state().contains("stopped=clean\n"),
        "{}",
        machine.state()
    );
    let pstore = machine.sys_root().join("fs/pstore");
    std::fs::create_dir_all(&pstore).unwrap();
    std::fs::write(pstore.join("dmesg-ramoops-0"), "Oops").unwrap();

    terminate(machine.reboot(BOOT_B));
    let entries = machine.entries();
    assert_eq!(entries.len(), 1, "{}", machine.log());
    let pattern = entry_pattern(
        "was shut down",
        "; pstore: dmesg-ramoops-0 holds a crash record",
    );
    assert!(pattern.is_match(&entries[0]), "{}", entries[0]);
}

/// Nothing for a boot that ended with no episode open: after a quiet stop, after a recovery
/// and a power cut, and before any episode at all.
#[test]
fn a_boot_that_ended_with_no_episode_open_says_nothing() {
    let machine = Machine::new();
    terminate(machine.run());
    terminate(machine.reboot(BOOT_B));

    let mut daemon = machine.run_into_an_episode();
    set_used(&machine.fake, 40);
    daemon.wait_for("the recovered line", |d| {
        d.read("incidents.log").contains(" | recovered | ")
    });
    daemon.wait_for("the state after the recovery", |_| {
        !machine.state().contains("episode=")
    });
    kill(daemon);
    terminate(machine.reboot(BOOT_C));
    assert_eq!(machine.entries(), Vec::<String>::new(), "{}", machine.log());
}

/// A crash and a restart within one boot: the restart says nothing, and forgets the episode of
/// the run before it, so the next boot does not take it for its own.
#[test]
fn a_restart_within_a_boot_says_nothing() {
    let machine = Machine::new();
    kill(machine.run_into_an_episode());
    let daemon = machine.run();
    assert!(!machine.state().contains("episode="), "{}", machine.state());
    kill(daemon);
    terminate(machine.reboot(BOOT_B));
    assert_eq!(machine.entries(), Vec::<String>::new(), "{}", machine.log());
}

/// A state file cut in half, as by a torn write: said once, replaced, and the daemon runs on.
#[test]
fn a_state_file_cut_in_half_is_said_once_and_replaced() {
    let machine = Machine::new();
    kill(machine.run_into_an_episode());
    let whole = machine.state();
    let path = machine.logs().join("state");
    std::fs::write(&path, &whole.as_bytes()[..whole.len() / 2]).unwrap();

    let mut daemon = machine.reboot(BOOT_B);
    let damaged = |d: &Daemon| {
        d.stderr_text()
            .lines()
            .filter(|l| l.contains("state is damaged"))
            .count()
    };
    assert_eq!(damaged(&daemon), 1, "{}", daemon.stderr_text());
    let replaced = machine.state();
    assert!(replaced.ends_with('\n'), "{replaced:?}");
    assert!(
        replaced.contains(&format!("boot_id={BOOT_B}\n")),
        "{replaced}"
    );
    // It runs on: an episode is reported, and its state written whole.
    set_used(&machine.fake, 90);
    daemon.wait_for_reports(2);
    assert!(daemon.is_running());
    terminate(daemon);
    let daemon = machine.run();
    assert_eq!(damaged(&daemon), 0, "said once: {}", daemon.stderr_text());
    terminate(daemon);
    assert!(is_whole(&path));
}

fn is_whole(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    text.ends_with('\n') && text.lines().all(|l| l.contains('='))
}
