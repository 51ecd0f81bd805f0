//! `memory-monitor snapshot` with fake ps and top: what reaches stdout, stderr and the exit code.

use crate::util;

use util::FakeProc;
use util::daemon::cat;
use util::snapshot;

#[test]
fn prints_header_summary_table_and_details() {
    let fake = FakeProc::new();
    fake.set_meminfo(2_000_000, 500_000);
    let out = snapshot(
        &fake,
        &cat("psaux_insights-core-auxww_2.txt"),
        &cat("top_moler-debian-kib-batch_1.txt"),
        &["--details", "2"],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].ends_with(" | snapshot | RAM 75.0% (1.43 of 1.91 GiB) | CPU 8.5%"),
        "{}",
        lines[0]
    );
    // The two samples it took, before and after ps and top, at the first and last cell.
    let trend =
        regex::Regex::new(r"^  RAM over the last \d+ms: ▇ {28}▇ \(low 75\.0%, high 75\.0%\)$")
            .unwrap();
    assert!(trend.is_match(lines[1]), "{}", lines[1]);
    // The fake meminfo has MemFree and MemAvailable alone: all but free is other.
    assert_eq!(
        lines[2],
        "  memory: processes 0 KiB, page cache 0 KiB, shared/tmpfs 0 KiB, kernel 0 KiB, free 488.28 MiB, other 1.43 GiB"
    );
    assert_eq!(
        lines[3],
        "  top - 13:57:54 up 3 days,  7:59,  1 user,  load average: 0.14, 0.13, 0.14"
    );
    assert!(lines[8].starts_with("USER "));
    util::check_table(&lines[8..16].join("\n"));
    assert_eq!(lines[16], "", "a blank line after the table");
    assert_eq!(lines[17], "  #1 PID 2713 unavailable (process ended)");
    assert_eq!(stdout.matches("\n  #").count(), 2);
    assert!(stdout.ends_with("\n\n"));
}

#[test]
fn details_zero_prints_none() {
    let fake = FakeProc::new();
    let out = snapshot(
        &fake,
        &cat("psaux_jc-centos77_1.txt"),
        &cat("top_jc-ubuntu2010_1.txt"),
        &["--details", "0"],
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("  #1 PID"));
    let table_start = stdout.find("\nUSER ").unwrap() + 1;
    let table = stdout[table_start..]
        .strip_suffix("\n\n")
        .expect("the table, then one blank line");
    assert_eq!(
        util::check_table(table).len(),
        110,
        "the table is all that follows the summary"
    );
}

#[test]
fn a_failing_ps_or_a_foreign_ps_is_an_error() {
    let fake = FakeProc::new();
    for (ps_body, expected) in [
        (
            "echo 'ps: fatal: bad things' >&2; exit 1",
            "ps exited with status 1: ps: fatal: bad things",
        ),
        (&cat("psaux_jc-macos1014-bsd_1.txt") as &str, "BSD or macOS"),
        (
            "printf 'PID   USER     TIME  COMMAND\\n    1 root      0:01 init\\n'",
            "busybox",
        ),
        ("exit 0", "ps printed nothing"),
    ] {
        let out = snapshot(&fake, ps_body, &cat("top_jc-ubuntu2010_1.txt"), &[]);
        assert_eq!(out.status.code(), Some(1), "{ps_body}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("memory-monitor: ")
                && stderr.contains(expected)
                && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
    let missing = util::program_without_env()
        .args(["snapshot", "--ps-bin", "/nonexistent/ps", "--proc-root"])
        .arg(fake.path())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8(missing.stderr).unwrap().starts_with(
        "memory-monitor: --ps-bin /nonexistent/ps: no such file; give the path of procps's ps"
    ));
}

#[test]
fn an_odd_top_only_makes_the_cpu_unknown() {
    let fake = FakeProc::new();
    for top_body in [
        "exit 1",
        "echo 'CPU:  0% usr  0% sys'",
        "printf 'top - x\\n%%Cpu(s): garbage\\n'",
        "exec /nonexistent",
    ] {
        let out = snapshot(
            &fake,
            &cat("psaux_jc-centos77_1.txt"),
            top_body,
            &["--details", "0"],
        );
        assert!(out.status.success(), "{top_body}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.lines().next().unwrap().ends_with("| CPU n/a"),
            "{top_body}: {stdout}"
        );
        assert!(
            stdout.lines().nth(1).unwrap().starts_with("  "),
            "one indented line says why"
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("memory-monitor: CPU n/a: ") && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
}

/// procps reads variables that change its output (`PS_PERSONALITY=aix` renames ps's columns,
/// `COLUMNS` cuts top's summary lines); ps and top get an environment of our making instead.
#[test]
fn ps_and_top_see_only_the_environment_memory_monitor_gives_them() {
    let fake = FakeProc::new();
    let bin = tempfile::tempdir().unwrap();
    let seen = |name: &str| bin.path().join(format!("{name}.env"));
    // Prints a corpus file as the real program would, after noting its environment.
    let recording = |name: &str, corpus: &str| {
        let body = format!("env > '{}'\n{}", seen(name).display(), cat(corpus));
        util::fake_program(bin.path(), name, &body)
    };
    let ps = recording("ps", "psaux_jc-centos77_1.txt");
    let top = recording("top", "top_jc-ubuntu2010_1.txt");
    let out = util::program_without_env()
        .args([
            "snapshot",
            "--details",
            "0",
            "--kernel-log",
            "off",
            "--proc-root",
        ])
        .arg(fake.path())
        .arg("--ps-bin")
        .arg(&ps)
        .arg("--top-bin")
        .arg(&top)
        .env("TZ", "Europe/Paris")
        .env("PATH", "/usr/bin:/bin")
        .env("PS_PERSONALITY", "aix")
        .env("CMD_ENV", "aix")
        .env("PROCPS_USERLEN", "3")
        .env("COLUMNS", "30")
        .env("LANG", "de_DE.UTF-8")
        .env("LC_NUMERIC", "de_DE.UTF-8")
        .env("HOME", "/root")
        .env("XDG_CONFIG_HOME", "/root/.config")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for program in ["ps", "top"] {
        let env = std::fs::read_to_string(seen(program)).unwrap();
        let mut vars: Vec<&str> = env
            .lines()
            // The shell running the fake program adds PWD.
            .filter(|v| !v.starts_with("PWD="))
            .collect();
        vars.sort_unstable();
        assert_eq!(
            vars,
            [
                "HOME=/nonexistent",
                "LC_ALL=C",
                "PATH=/usr/bin:/bin",
                "TZ=Europe/Paris"
            ],
            "{program}"
        );
    }
}

/// The real procps, given the variables that used to break a report.
#[test]
fn a_hostile_environment_does_not_change_the_real_ps_and_top() {
    if !util::require_procps() {
        return;
    }
    let out = util::program_without_env()
        .args(["snapshot", "--details", "0", "--kernel-log", "off"])
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("PS_PERSONALITY", "aix")
        .env("COLUMNS", "30")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr, "", "no CPU n/a: top's summary lines are whole");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let header = stdout.lines().find(|l| l.starts_with("USER ")).unwrap();
    assert!(
        header.contains(" TTY ") && header.contains(" START "),
        "{header}"
    );
}
