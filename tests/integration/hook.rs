//! The hook (`--on-event`): what it is given, how it is run, and that nothing it does can stop
//! or slow the watch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::util::daemon::{Daemon, Launch, set_used};
use crate::util::hostile::{PS_HEADER, raw_ps_line};
use crate::util::{FakeProc, fake_program, patience};

/// A hook that records each run in `<dir>/runN/`: its argument count, environment, stdin,
/// working directory, process ids and capabilities, then `done`. Runs one at a time, so the
/// numbering is their order. `before` runs first, `after` last.
fn recording_hook(dir: &Path, before: &str, after: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("runs")).unwrap();
    fake_program(
        dir,
        "hook",
        &format!(
            r#"{before}
D='{runs}'
i=1; while ! mkdir "$D/run$i" 2>/dev/null; do i=$((i+1)); done
R="$D/run$i"
echo "$#" > "$R/argc"
env > "$R/env"
cat > "$R/stdin"
pwd > "$R/cwd"
echo $$ > "$R/pid"
cut -d' ' -f5 /proc/$$/stat > "$R/pgid"
grep '^Cap' /proc/$$/status > "$R/caps"
{after}
touch "$R/done""#,
            runs = dir.join("runs").display()
        ),
    )
}

struct Run {
    dir: PathBuf,
}

impl Run {
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }

    /// The environment, without what the shell adds of its own.
    fn env(&self) -> BTreeMap<String, String> {
        self.read("env")
            .lines()
            .filter_map(|line| line.split_once('='))
            .filter(|(key, _)| !["PWD", "SHLVL", "_", "OLDPWD"].contains(key))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// The runs recorded so far, finished ones only, in order.
fn runs(dir: &Path) -> Vec<Run> {
    (1..)
        .map(|i| dir.join("runs").join(format!("run{i}")))
        .take_while(|d| d.join("done").exists())
        .map(|dir| Run { dir })
        .collect()
}

fn wait_for_runs(daemon: &mut Daemon, dir: &Path, n: usize) {
    daemon.wait_for(&format!("{n} runs of the hook"), |_| runs(dir).len() >= n);
}

/// The first table row's PID and COMMAND cell, as the log shows them.
fn top_row(report: &str) -> (String, String) {
    let mut lines = report.lines().skip_while(|l| !l.starts_with("USER "));
    let header = lines.next().unwrap();
    let command_at = header.find("COMMAND").unwrap();
    let row = lines.next().unwrap();
    let pid = row.split_whitespace().nth(1).unwrap().to_string();
    (pid, row.get(command_at..).unwrap().to_string())
}

/// `2026-11-22 14:03:15 +01:00 | …` → `2026-11-22T14:03:15+01:00`.
fn rfc3339_of_header(line: &str) -> String {
    let mut words = line.split(' ');
    let (date, time, offset) = (
        words.next().unwrap(),
        words.next().unwrap(),
        words.next().unwrap(),
    );
    format!("{date}T{time}{offset}")
}

#[test]
fn a_hook_gets_each_entry_on_stdin_and_its_facts_in_a_clean_environment() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let hook = recording_hook(dir.path(), "", "");
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--on-event", hook.to_str().unwrap()])
        .env("SECRET_OF_THE_DAEMON", "not for hooks")
        .env("LANG", "C.UTF-8")
        .start();
    daemon.wait_for_start();
    assert!(
        daemon.stderr_text().contains(&format!(
            "memory-monitor: runs {} for every entry of incidents.log, one at a time (killed after 30s)",
            hook.display()
        )),
        "{}",
        daemon.stderr_text()
    );
    set_used(&fake, 90);
    wait_for_runs(&mut daemon, dir.path(), 1);
    set_used(&fake, 50);
    wait_for_runs(&mut daemon, dir.path(), 2);
    let log = daemon.read("incidents.log");
    let runs = runs(dir.path());

    let report = &runs[0];
    let stdin = report.read("stdin");
    let header = stdin.lines().next().unwrap();
    assert!(header.contains(" | incident 1 | RAM 90.0% "), "{stdin}");
    assert!(
        log.contains(&format!("{stdin}\n")),
        "the entry as the log has it, then the log's blank line:\n{stdin}"
    );
    assert!(!stdin.contains("===== new log"), "no marker: {stdin}");
    assert!(stdin.ends_with('\n') && !stdin.ends_with("\n\n"));
    let (top_pid, top_command) = top_row(&stdin);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let env = report.env();
    let expected: BTreeMap<String, String> = [
        ("PATH", std::env::var("PATH").unwrap()),
        ("LANG", "C.UTF-8".into()),
        ("TZ", "UTC".into()),
        ("MEMORY_MONITOR_EVENT", "report".into()),
        ("MEMORY_MONITOR_INCIDENT", "1".into()),
        ("MEMORY_MONITOR_REASON", "sustained".into()),
        ("MEMORY_MONITOR_TIME", rfc3339_of_header(header)),
        ("MEMORY_MONITOR_HOST", host.trim().into()),
        ("MEMORY_MONITOR_RAM_PERCENT", "90.0".into()),
        (
            "MEMORY_MONITOR_CPU_PERCENT",
            header
                .split("CPU ")
                .nth(1)
                .unwrap()
                .split('%')
                .next()
                .unwrap()
                .into(),
        ),
        ("MEMORY_MONITOR_TOP_PID", top_pid.clone()),
        ("MEMORY_MONITOR_TOP_USER", top_row_user(&stdin)),
        ("MEMORY_MONITOR_TOP_COMMAND", top_command),
        ("MEMORY_MONITOR_TOP_RSS_KIB", top_row_rss(&stdin)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(env, expected);
    assert_eq!(report.read("argc"), "0\n", "no arguments");
    assert_eq!(report.read("cwd"), "/\n");
    assert_eq!(
        report.read("pid"),
        report.read("pgid"),
        "a process group of its own"
    );

    let recovered = &runs[1];
    let stdin = recovered.read("stdin");
    assert!(
        stdin.contains(" | recovered | RAM 50.0% | high for "),
        "{stdin}"
    );
    assert_eq!(stdin.lines().count(), 1);
    assert!(log.contains(&stdin));
    let env = recovered.env();
    assert_eq!(env["MEMORY_MONITOR_EVENT"], "recovered");
    assert_eq!(env["MEMORY_MONITOR_INCIDENT"], "1");
    assert_eq!(env["MEMORY_MONITOR_RAM_PERCENT"], "50.0");
    for absent in [
        "MEMORY_MONITOR_REASON",
        "MEMORY_MONITOR_TOP_PID",
        "MEMORY_MONITOR_CPU_PERCENT",
        "MEMORY_MONITOR_OOM_PID",
    ] {
        assert!(
            !env.contains_key(absent),
            "{absent} does not apply: {env:?}"
        );
    }
    assert!(
        !daemon.stderr_text().contains("failed"),
        "{}",
        daemon.stderr_text()
    );
}

fn top_row_user(report: &str) -> String {
    let row = report
        .lines()
        .skip_while(|l| !l.starts_with("USER "))
        .nth(1)
        .unwrap();
    row.split_whitespace().next().unwrap().to_string()
}

fn top_row_rss(report: &str) -> String {
    let row = report
        .lines()
        .skip_while(|l| !l.starts_with("USER "))
        .nth(1)
        .unwrap();
    row.split_whitespace().nth(5).unwrap().to_string()
}

#[test]
fn an_oom_kill_entry_names_its_victim_to_the_hook() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let hook = recording_hook(dir.path(), "", "");
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--on-event", hook.to_str().unwrap()])
        .start();
    daemon.wait_for_start();
    let usec = crate::util::kernel::kernel_usec_now();
    crate::util::kernel::append(
        &daemon.kernel_log,
        &crate::util::kernel::kill_records(1, usec, 4242, "py\"th$(on)", 0, None),
    );
    // The kill, then the report after it.
    wait_for_runs(&mut daemon, dir.path(), 2);
    let runs = runs(dir.path());
    let kill = &runs[0];
    let env = kill.env();
    assert_eq!(env["MEMORY_MONITOR_EVENT"], "oom-kill");
    assert_eq!(env["MEMORY_MONITOR_OOM_PID"], "4242");
    assert_eq!(env["MEMORY_MONITOR_OOM_NAME"], "py\"th$(on)");
    assert_eq!(env["MEMORY_MONITOR_OOM_KILLS"], "1");
    assert!(
        kill.read("stdin")
            .contains("| oom-kill | PID 4242 (py\"th$(on)) of root |")
    );
    let report = runs[1].env();
    assert_eq!(report["MEMORY_MONITOR_EVENT"], "report");
    assert_eq!(report["MEMORY_MONITOR_REASON"], "oom-kill");
}

#[test]
fn process_names_reach_the_hook_escaped_as_in_the_log() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let mut ps = PS_HEADER.to_vec();
    // A newline would end ps's line; everything else a name can hold, it holds.
    let hostile = b"evil cr\resc\x1b[2Jclear\x1b]0;title\x07bel\xff\x00 MEMORY_MONITOR_EVENT=fake";
    ps.extend(raw_ps_line(b"ro\x1bot", 77, 900_000, hostile));
    ps.extend(raw_ps_line(b"root", 1, 1000, b"/sbin/init"));
    let ps_file = dir.path().join("ps-output");
    std::fs::write(&ps_file, &ps).unwrap();
    let hook = recording_hook(dir.path(), "", "");
    let mut daemon = Launch::new(
        &fake,
        &format!("exec cat '{}'", ps_file.display()),
        &crate::util::daemon::cat("top_jc-ubuntu2010_1.txt"),
    )
    .args(&["--on-event", hook.to_str().unwrap()])
    .start();
    daemon.wait_for_start();
    set_used(&fake, 90);
    wait_for_runs(&mut daemon, dir.path(), 1);
    let run = &runs(dir.path())[0];
    let raw_env = std::fs::read(run.dir.join("env")).unwrap();
    let env = run.env();
    assert_eq!(env["MEMORY_MONITOR_TOP_PID"], "77");
    let command = &env["MEMORY_MONITOR_TOP_COMMAND"];
    assert_eq!(
        command,
        "evil cr\\x0desc\\x1b[2Jclear\\x1b]0;title\\x07bel\\xff\\x00 MEMORY_MONITOR_EVENT=fake"
    );
    assert_eq!(env["MEMORY_MONITOR_TOP_USER"], "ro\\x1bot");
    assert_eq!(env["MEMORY_MONITOR_EVENT"], "report", "no variable faked");
    assert_eq!(
        raw_env.iter().filter(|&&b| b == b'\n').count(),
        env.len() + raw_env_shell_lines(&raw_env)
    );
    for &b in &raw_env {
        assert!(
            b == b'\n' || b >= 0x20 && b != 0x7f,
            "a control byte {b:#x} reached the hook"
        );
    }
    let (_, logged) = top_row(&run.read("stdin"));
    assert_eq!(command, &logged, "as the log shows it");
}

/// Lines of `env`'s output that the shell added (PWD and the like), besides ours.
fn raw_env_shell_lines(raw: &[u8]) -> usize {
    String::from_utf8_lossy(raw)
        .lines()
        .filter(|l| {
            ["PWD=", "SHLVL=", "_=", "OLDPWD="]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count()
}

#[test]
fn a_hung_hook_is_killed_with_its_children_at_the_timeout_and_never_holds_up_the_watch() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let hook = fake_program(
        dir.path(),
        "hang",
        &format!(
            "sleep 1000 & echo $! >> '{p}'; echo $$ >> '{p}'; echo started; exec sleep 1000",
            p = pids.display()
        ),
    );
    let timeout = patience(Duration::from_secs(3));
    let mut daemon = Launch::ordinary(&fake)
        .args(&[
            "--on-event",
            hook.to_str().unwrap(),
            "--hook-timeout",
            &format!("{}ms", timeout.as_millis()),
        ])
        .start();
    daemon.wait_for_start();
    set_used(&fake, 90);
    daemon.wait_for("the hook to start", |_| {
        std::fs::read_to_string(&pids).is_ok_and(|p| p.lines().count() == 2)
    });
    let started = Instant::now();
    // While it hangs, the watch goes on: the recovery is written at once.
    set_used(&fake, 50);
    daemon.wait_for("the recovered line", |d| {
        d.read("incidents.log").contains(" | recovered | ")
    });
    assert!(
        started.elapsed() < timeout,
        "the recovery waited for the hook"
    );
    daemon.wait_for("the timeout", |d| {
        d.stderr_text().contains("still running after")
    });
    let stderr = daemon.stderr_text();
    assert!(
        stderr.contains(&format!(
            "memory-monitor: hook hang: failed on the report of incident 1: still running after {}ms (--hook-timeout), so killed with every process of its group",
            timeout.as_millis()
        )) || stderr.contains("failed on the report of incident 1: still running after "),
        "{stderr}"
    );
    assert!(
        stderr.contains("memory-monitor: hook hang: started"),
        "{stderr}"
    );
    let pids: Vec<u32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    daemon.wait_for("the hook and its child to be gone", |_| {
        pids.iter()
            .all(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    });
    assert!(
        daemon.children().iter().all(|&(_, state)| state != 'Z'),
        "no zombie: {:?}",
        daemon.children()
    );
    // The recovery's run comes next, and the daemon lives on.
    daemon.wait_for("the second run", |d| {
        d.stderr_text().matches("hook hang: started").count() == 2
    });
    assert!(daemon.is_running());
}

#[test]
fn a_failing_hook_is_said_once_per_run_and_the_next_entry_still_runs_it() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let hook = fake_program(
        dir.path(),
        "fails",
        "cat >/dev/null; echo 'no route to ntfy.sh' >&2; exit 3",
    );
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--on-event", hook.to_str().unwrap()])
        .start();
    daemon.wait_for_start();
    set_used(&fake, 90);
    daemon.wait_for("the failure", |d| {
        d.stderr_text().contains("failed on the report")
    });
    set_used(&fake, 50);
    daemon.wait_for("the second failure", |d| {
        d.stderr_text().contains("failed on the recovery")
    });
    let stderr = daemon.stderr_text();
    assert_eq!(
        stderr
            .matches(
                "memory-monitor: hook fails: failed on the report of incident 1: exit status 3\n"
            )
            .count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("memory-monitor: hook fails: no route to ntfy.sh\n")
            .count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains(
        "memory-monitor: hook fails: failed on the recovery of incident 1: exit status 3\n"
    ));
    assert!(daemon.is_running());
}

#[test]
fn a_hook_that_prints_10_mb_shows_4_kib_and_runs_to_its_end() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let done = dir.path().join("done");
    let hook = fake_program(
        dir.path(),
        "loud",
        &format!(
            "yes 0123456789abcdef | head -c 10000000; touch '{}'",
            done.display()
        ),
    );
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--on-event", hook.to_str().unwrap()])
        .start();
    daemon.wait_for_start();
    set_used(&fake, 90);
    daemon.wait_for("the hook's end", |d| {
        d.stderr_text()
            .contains("more bytes of its output not shown")
    });
    assert!(done.exists(), "it ran to its end");
    let stderr = daemon.stderr_text();
    let shown: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("memory-monitor: hook loud: "))
        .filter(|l| !l.contains("not shown"))
        .collect();
    assert!(
        shown.iter().all(|l| "0123456789abcdef".starts_with(l)),
        "{shown:?}"
    );
    let shown_bytes: usize = shown.iter().map(|l| l.len() + 1).sum();
    assert_eq!(
        shown_bytes,
        4096 + 1,
        "4096 bytes, the last line cut short and ended"
    );
    assert!(
        stderr.contains(&format!(
            "memory-monitor: hook loud: {} more bytes of its output not shown (at most 4096 are, each run)",
            10_000_000 - 4096
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("failed"), "{stderr}");
}

#[test]
fn what_a_hook_leaves_running_dies_with_it_and_what_left_its_group_cannot_hold_up_the_next_run() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let grouped = dir.path().join("grouped");
    let escaped = dir.path().join("escaped");
    let hook = recording_hook(
        dir.path(),
        &format!(
            "sleep 1000 & echo $! > '{}'; setsid sleep 1001 & echo $! > '{}'",
            grouped.display(),
            escaped.display()
        ),
        "",
    );
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--on-event", hook.to_str().unwrap()])
        .start();
    daemon.wait_for_start();
    set_used(&fake, 90);
    wait_for_runs(&mut daemon, dir.path(), 1);
    let grouped_pid = std::fs::read_to_string(&grouped)
        .unwrap()
        .trim()
        .to_string();
    daemon.wait_for("the grouped child to die", |_| {
        !Path::new(&format!("/proc/{grouped_pid}")).exists()
    });
    // The escaped one holds the hook's output open; the next run starts anyway.
    let recovered_at = Instant::now();
    set_used(&fake, 50);
    wait_for_runs(&mut daemon, dir.path(), 2);
    assert!(
        recovered_at.elapsed() < patience(Duration::from_secs(5)),
        "{:?}",
        recovered_at.elapsed()
    );
    for pid in std::fs::read_to_string(&escaped)
        .unwrap()
        .split_whitespace()
    {
        let _ = std::process::Command::new("kill").arg(pid).status();
    }
    assert!(
        !daemon.stderr_text().contains("failed"),
        "{}",
        daemon.stderr_text()
    );
}

#[test]
fn in_a_storm_at_most_16_entries_wait_and_the_next_run_says_how_many_were_dropped() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let hook = recording_hook(dir.path(), "sleep 0.3", "");
    let mut daemon = Launch::ordinary(&fake)
        .args(&[
            "--on-event",
            hook.to_str().unwrap(),
            "--sustain",
            "0",
            "--details",
            "0",
        ])
        .start();
    daemon.wait_for_start();
    // Each high sample opens an episode (a report), each low one closes it (recovered).
    let entries_in = |d: &Daemon| {
        let log = d.read("incidents.log");
        crate::util::daemon::report_count(&log) + log.matches(" | recovered | ").count()
    };
    let mut high = true;
    while entries_in(&daemon) < 100 {
        set_used(&fake, if high { 90 } else { 50 });
        high = !high;
        std::thread::sleep(Duration::from_millis(60));
    }
    set_used(&fake, 50);
    std::thread::sleep(Duration::from_millis(300));
    let written = entries_in(&daemon);
    let started_by_then = std::fs::read_dir(dir.path().join("runs")).unwrap().count();
    daemon.wait_for_within(
        "every entry run or counted as dropped",
        patience(Duration::from_secs(30)),
        |d| {
            let runs = runs(dir.path());
            let dropped: usize = runs
                .iter()
                .filter_map(|r| {
                    r.env()
                        .get("MEMORY_MONITOR_DROPPED")
                        .map(|n| n.parse::<usize>().unwrap())
                })
                .sum();
            runs.len() + dropped == entries_in(d)
        },
    );
    let runs = runs(dir.path());
    assert_eq!(entries_in(&daemon), written, "the storm was over");
    assert!(
        runs.len() - started_by_then <= 16,
        "{} runs after the storm, {started_by_then} during it",
        runs.len()
    );
    let dropping: Vec<&Run> = runs
        .iter()
        .filter(|r| r.env().contains_key("MEMORY_MONITOR_DROPPED"))
        .collect();
    assert!(
        !dropping.is_empty(),
        "a storm of {written} entries dropped none"
    );
    for run in dropping {
        let n = &run.env()["MEMORY_MONITOR_DROPPED"];
        assert!(
            run.read("stdin").ends_with(&format!(
                "(memory-monitor: {n} earlier entries were dropped, not given to this hook: it was still running, and at most 16 entries wait)\n"
            )),
            "{}",
            run.read("stdin")
        );
    }
}

#[test]
fn a_missing_or_non_executable_hook_stops_the_daemon_at_start() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("plain");
    std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    let missing = dir.path().join("missing");
    for (program, says) in [
        (
            missing.clone(),
            format!(
                "memory-monitor: --on-event {}: no such file; give the path of the program to run on each entry",
                missing.display()
            ),
        ),
        (
            not_executable.clone(),
            format!(
                "memory-monitor: --on-event {}: not executable by this user (chmod 755 {})",
                not_executable.display(),
                not_executable.display()
            ),
        ),
        (
            PathBuf::from("ntfy"),
            "memory-monitor: --on-event ntfy: give the program's path (it is run without a shell)"
                .to_string(),
        ),
    ] {
        let mut daemon = Launch::ordinary(&fake)
            .args(&["--on-event", program.to_str().unwrap()])
            .start();
        let status = daemon.exit_status();
        assert_eq!(status.code(), Some(1), "{program:?}");
        let stderr = daemon.stderr_text();
        assert!(stderr.starts_with(&says), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

/// Under the service, the daemon holds CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH as ambient
/// capabilities, for ps and top. The hook gets none of them.
#[test]
fn the_hook_runs_without_the_daemon_s_capabilities() {
    if !rustix::process::geteuid().is_root() || !crate::util::on_path("setpriv") {
        crate::util::skip(
            "root and setpriv (util-linux)",
            "run the tests as root (CI does)",
        );
        return;
    }
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let hook = recording_hook(dir.path(), "", "");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let nobody = "65534";
    std::process::Command::new("chown")
        .args([nobody, logs.to_str().unwrap()])
        .status()
        .unwrap();
    for path in [dir.path(), &dir.path().join("runs")] {
        std::process::Command::new("chmod")
            .args(["777", path.to_str().unwrap()])
            .status()
            .unwrap();
    }
    let mut launch = Launch::ordinary(&fake).args(&["--on-event", hook.to_str().unwrap()]);
    launch.log_dir = Some(logs);
    launch.wrapper = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=+sys_ptrace,+dac_read_search",
        "--ambient-caps=+sys_ptrace,+dac_read_search",
        "--",
    ]
    .map(Into::into)
    .to_vec();
    let mut daemon = launch.start();
    daemon.wait_for_start();
    let own_caps = std::fs::read_to_string(format!("/proc/{}/status", daemon.pid())).unwrap();
    assert!(
        own_caps.contains("CapAmb:\t0000000000080004"),
        "the daemon holds them: {own_caps}"
    );
    set_used(&fake, 90);
    wait_for_runs(&mut daemon, dir.path(), 1);
    let caps = runs(dir.path())[0].read("caps");
    for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert!(
            caps.contains(&format!("{set}:\t0000000000000000")),
            "{set} is not empty: {caps}"
        );
    }
}

/// A hook with file capabilities would get back what its thread gave up.
#[test]
fn a_hook_with_file_capabilities_stops_the_daemon_at_start() {
    if !rustix::process::geteuid().is_root() || !crate::util::on_path("setcap") {
        crate::util::skip(
            "root and setcap (libcap2-bin)",
            "run the tests as root (CI does); sudo apt-get install libcap2-bin",
        );
        return;
    }
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let hook = fake_program(dir.path(), "capable", "cat >/dev/null");
    let set = std::process::Command::new("setcap")
        .args(["cap_net_raw+p", hook.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(set.success());
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--on-event", hook.to_str().unwrap()])
        .start();
    assert_eq!(daemon.exit_status().code(), Some(1));
    let stderr = daemon.stderr_text();
    assert_eq!(
        stderr,
        format!(
            "memory-monitor: --on-event {p}: it has file capabilities, which a hook must not have (setcap -r {p})\n",
            p = hook.display()
        )
    );
}
