//! Where the RAM is, on this machine's own cgroups and mounts: a process in a cgroup named like
//! a unit, a memory cgroup with a limit, the memory scope of a program inside one, and a real
//! tmpfs holding 50 MiB under a name with a newline in it. The cgroups need root (CI is); the
//! tmpfs needs a mount namespace.

use crate::util;

use std::process::{Command, Output};

use util::cgroup::TestCgroup;
use util::daemon::cat;
use util::{FakeProc, fake_program, program_without_env};

/// `snapshot` of this machine, with the machine's own ps and top, run under `wrapper`.
fn snapshot_of_this_machine(wrapper: &[std::ffi::OsString]) -> String {
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(env!("CARGO_BIN_EXE_memory-monitor"));
            c
        }
        None => program_without_env(),
    };
    let out = command
        .args(["snapshot", "--details", "0", "--kernel-log", "off"])
        .env_remove("MEMORY_MONITOR_MEMORY_SCOPE")
        .output()
        .unwrap();
    checked(out)
}

fn checked(out: Output) -> String {
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    util::log::check_log(&stdout);
    stdout
}

fn unit_lines(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter(|l| l.starts_with("  unit "))
        .collect()
}

#[test]
fn a_process_in_a_v2_cgroup_named_like_a_unit_is_reported_under_it() {
    if !util::require_procps() {
        return;
    }
    let Some(cgroup) = TestCgroup::unified("demo-x.service") else {
        return;
    };
    let mut holder = cgroup.holding(100);
    let report = snapshot_of_this_machine(&[]);
    let _ = holder.kill();
    let _ = holder.wait();
    let units = unit_lines(&report);
    let line = units
        .iter()
        .find(|l| l.starts_with("  unit demo-x.service: "))
        .unwrap_or_else(|| panic!("{report}"));
    // On a hybrid machine v2 counts no memory: the process's RSS stands in, and says so.
    let v2_counts_memory = cgroup.dir.join("memory.current").exists();
    let figure = line
        .strip_prefix("  unit demo-x.service: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap();
    assert!(line.contains(" MiB"), "{line}");
    assert!((90.0..250.0).contains(&figure), "{line}");
    if v2_counts_memory {
        assert!(line.ends_with(", 2 processes"), "{line}");
    } else {
        assert!(line.ends_with(", 2 processes (sum of their RSS)"), "{line}");
    }
}

#[test]
fn a_process_in_a_memory_cgroup_with_a_limit_shows_the_limit() {
    if !util::require_procps() {
        return;
    }
    let name = format!("memory-monitor-places-{}", std::process::id());
    let Some(cgroup) = TestCgroup::memory(&name, 512 * 1024 * 1024) else {
        return;
    };
    let mut holder = cgroup.holding(100);
    let report = snapshot_of_this_machine(&[]);
    let _ = holder.kill();
    let _ = holder.wait();
    let prefix = format!("  unit {}: ", cgroup.path);
    let line = unit_lines(&report)
        .into_iter()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{report}"));
    // The cgroup's own figure (its page cache included), against its limit.
    assert!(
        line.contains(" MiB of its 512.00 MiB limit, 2 processes")
            && !line.ends_with("(sum of their RSS)"),
        "{line}"
    );
}

#[test]
fn a_snapshot_inside_a_cgroup_with_a_limit_measures_against_it() {
    if !util::require_procps() {
        return;
    }
    let name = format!("memory-monitor-scope-{}", std::process::id());
    let Some(cgroup) = TestCgroup::memory(&name, 1024 * 1024 * 1024) else {
        return;
    };
    let mut holder = cgroup.holding(100);
    let report = snapshot_of_this_machine(&cgroup.wrapper());
    let _ = holder.kill();
    let _ = holder.wait();
    let header = util::log::header(report.lines().next().unwrap()).unwrap();
    assert_eq!(header.limit.as_deref(), Some("1.00 GiB"), "{report}");
    assert!(
        (9.0..30.0).contains(&header.ram_percent),
        "100 MiB and a snapshot of 1 GiB: {report}"
    );
}

#[test]
fn a_real_tmpfs_holding_50_mib_is_named_with_its_newline_escaped() {
    if !util::require_mount_namespace() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("ram\ndisk");
    std::fs::create_dir(&mount).unwrap();
    // A procfs whose init is the snapshot itself: its mounts are those of the namespace below.
    let fake = FakeProc::new();
    std::os::unix::fs::symlink("/proc/self", fake.path().join("1")).unwrap();
    let bin = tempfile::tempdir().unwrap();
    let mut command = Command::new("unshare");
    command.arg("--mount");
    if !rustix::process::geteuid().is_root() {
        command.arg("--map-root-user");
    }
    let out = command
        .args(["--propagation", "private", "sh", "-c"])
        .arg(
            "mount -t tmpfs tmpfs \"$1\" && head -c 52428800 /dev/zero > \"$1/file\" && shift && exec \"$@\"",
        )
        .arg("sh")
        .arg(&mount)
        .arg(env!("CARGO_BIN_EXE_memory-monitor"))
        .arg("snapshot")
        .arg("--proc-root")
        .arg(fake.path())
        .arg("--sys-root")
        .arg(bin.path())
        .arg("--ps-bin")
        .arg(fake_program(bin.path(), "ps", &cat("psaux_jc-centos77_1.txt")))
        .arg("--top-bin")
        .arg(fake_program(bin.path(), "top", &cat("top_jc-ubuntu2010_1.txt")))
        .args(["--kernel-log", "off", "--details", "0"])
        .output()
        .unwrap();
    let report = checked(out);
    let line = report
        .lines()
        .find(|l| l.starts_with("  tmpfs: "))
        .unwrap_or_else(|| panic!("{report}"));
    let shown = format!("{}/ram\\x0adisk 50.00 MiB", dir.path().display());
    assert!(line.contains(&shown), "{shown} in {line}");
}
