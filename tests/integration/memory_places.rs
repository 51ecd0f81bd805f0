//! Where the RAM is, through `snapshot` and the daemon on a procfs and a sysfs of the test's
//! making: the units and containers that hold it (cgroup v2, v1 and hybrid), the memory scope
//! of a process inside a cgroup with a limit, and memory pressure. Real cgroups and a real
//! tmpfs, as root, are in `memory_places_real.rs`.

use crate::util;

use std::path::{Path, PathBuf};

use util::daemon::{Launch, cat, set_used};
use util::log::check_log;
use util::{FakeProc, FakeProcess, snapshot};

const MIB: u64 = 1024 * 1024;

/// A sysfs with cgroup v2 alone, its memory controller on.
struct FakeSys {
    dir: tempfile::TempDir,
}

impl FakeSys {
    fn v2() -> FakeSys {
        let sys = FakeSys {
            dir: tempfile::tempdir().unwrap(),
        };
        sys.write(
            "fs/cgroup/cgroup.controllers",
            "cpuset cpu io memory pids\n",
        );
        sys
    }

    /// v1's memory controller beside a v2 hierarchy without it: the hybrid layout.
    fn hybrid() -> FakeSys {
        let sys = FakeSys {
            dir: tempfile::tempdir().unwrap(),
        };
        sys.write("fs/cgroup/unified/cgroup.controllers", "");
        sys.write("fs/cgroup/memory/memory.usage_in_bytes", "9000000000\n");
        sys.write(
            "fs/cgroup/memory/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        sys
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn arg(&self) -> &str {
        self.path().to_str().unwrap()
    }

    fn write(&self, file: &str, text: &str) {
        let path: PathBuf = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A v2 cgroup's usage and limit (`None`: `max`).
    fn v2_cgroup(&self, cgroup: &str, used: u64, limit: Option<u64>) {
        self.write(
            &format!("fs/cgroup{cgroup}/memory.current"),
            &format!("{used}\n"),
        );
        let limit = limit.map_or("max".to_string(), |l| l.to_string());
        self.write(
            &format!("fs/cgroup{cgroup}/memory.max"),
            &format!("{limit}\n"),
        );
    }
}

fn process(pid: u32, name: &str, rss_mib: u64) -> FakeProcess {
    FakeProcess {
        pid,
        name: name.as_bytes().to_vec(),
        rss_kib: rss_mib * 1024,
        ..util::firewalld()
    }
}

fn snapshot_lines(fake: &FakeProc, extra: &[&str]) -> Vec<String> {
    let out = snapshot(
        fake,
        &cat("psaux_jc-centos77_1.txt"),
        &cat("top_jc-ubuntu2010_1.txt"),
        extra,
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr, "");
    let stdout = String::from_utf8(out.stdout).unwrap();
    check_log(&stdout);
    stdout.lines().map(str::to_string).collect()
}

fn starting(lines: &[String], words: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with(words))
        .cloned()
        .collect()
}

#[test]
fn units_and_containers_on_cgroup_v2_with_their_figures_limits_and_counts() {
    let fake = FakeProc::new();
    let sys = FakeSys::v2();
    let docker = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708";
    let cgroups: [(u32, &str, u64, String); 7] = [
        (101, "nginx", 30, "0::/system.slice/nginx.service\n".into()),
        (102, "nginx", 30, "0::/system.slice/nginx.service\n".into()),
        (
            201,
            "postgres",
            300,
            format!("0::/system.slice/docker-{docker}.scope\n"),
        ),
        (
            301,
            "bash",
            5,
            "0::/user.slice/user-1000.slice/session-2.scope\n".into(),
        ),
        // A unit whose cgroup has no figures to read: the sum of its processes' RSS.
        (
            401,
            "hog",
            40,
            "0::/system.slice/demo\\x2dx.service\n".into(),
        ),
        // systemd would refuse this name: the process is shown under its cgroup's path.
        (501, "evil", 2, "0::/system.slice/ev\x1b]0;il\n".into()),
        (601, "init", 10, "0::/init.scope\n".into()),
    ];
    for (pid, name, rss, cgroup) in &cgroups {
        fake.add(&process(*pid, name, *rss));
        fake.set_cgroup(*pid, cgroup.as_bytes());
    }
    // And invalid UTF-8 at its end.
    fake.set_cgroup(501, b"0::/system.slice/ev\x1b]0;il\xff\n");
    sys.v2_cgroup("/system.slice/nginx.service", 48 * MIB, Some(64 * MIB));
    sys.v2_cgroup(
        &format!("/system.slice/docker-{docker}.scope"),
        512 * MIB,
        None,
    );
    sys.v2_cgroup(
        "/user.slice/user-1000.slice/session-2.scope",
        20 * MIB,
        None,
    );
    sys.v2_cgroup("/init.scope", 11 * MIB, None);
    let lines = snapshot_lines(&fake, &["--sys-root", sys.arg(), "--details", "0"]);
    assert_eq!(
        starting(&lines, "  unit "),
        [
            "  unit docker 3f2a1b4c5d6e: 512.00 MiB, 1 processes",
            "  unit nginx.service: 48.00 MiB of its 64.00 MiB limit, 2 processes",
            "  unit demo-x.service: 40.00 MiB, 1 processes (sum of their RSS)",
            "  unit session-2.scope: 20.00 MiB, 1 processes",
            "  unit init.scope: 11.00 MiB, 1 processes",
        ]
    );
    // Fewer units: the sixth, the path systemd would refuse, escaped like a COMMAND.
    for pid in [301, 601] {
        std::fs::remove_file(fake.path().join(format!("{pid}/cgroup"))).unwrap();
    }
    let lines = snapshot_lines(&fake, &["--sys-root", sys.arg(), "--details", "0"]);
    let units = starting(&lines, "  unit ");
    assert_eq!(
        units.last().unwrap(),
        "  unit /system.slice/ev\\x1b]0;il\\xff: 2.00 MiB, 1 processes (sum of their RSS)"
    );
}

#[test]
fn on_a_hybrid_machine_memory_comes_from_v1_and_a_v1_container_wins() {
    let fake = FakeProc::new();
    let sys = FakeSys::hybrid();
    let id = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
    // docker's cgroupfs driver on a hybrid host: v2 says containerd, v1 names the container.
    // PIDs 823 and 1205 are the biggest in the ps sample, so details.log describes them.
    fake.add(&process(823, "java", 100));
    fake.set_cgroup(
        823,
        format!("12:memory:/docker/{id}\n1:name=systemd:/docker/{id}\n0::/system.slice/containerd.service\n").as_bytes(),
    );
    sys.write(
        &format!("fs/cgroup/memory/docker/{id}/memory.usage_in_bytes"),
        "209715200\n",
    );
    sys.write(
        &format!("fs/cgroup/memory/docker/{id}/memory.limit_in_bytes"),
        "268435456\n",
    );
    // A systemd service: its v1 memory cgroup mirrors its unit, with no limit.
    fake.add(&process(1205, "sshd", 8));
    fake.set_cgroup(
        1205,
        b"12:memory:/system.slice/ssh.service\n1:name=systemd:/system.slice/ssh.service\n0::/system.slice/ssh.service\n",
    );
    sys.write(
        "fs/cgroup/memory/system.slice/ssh.service/memory.usage_in_bytes",
        "12582912\n",
    );
    sys.write(
        "fs/cgroup/memory/system.slice/ssh.service/memory.limit_in_bytes",
        "9223372036854771712\n",
    );
    let lines = snapshot_lines(&fake, &["--sys-root", sys.arg(), "--details", "2"]);
    assert_eq!(
        starting(&lines, "  unit "),
        [
            "  unit docker 9f8e7d6c5b4a: 200.00 MiB of its 256.00 MiB limit, 1 processes",
            "  unit ssh.service: 12.00 MiB, 1 processes",
        ]
    );
    assert_eq!(
        starting(&lines, "    unit:"),
        [
            format!("    unit:     docker 9f8e7d6c5b4a (cgroup /docker/{id})"),
            "    unit:     ssh.service (cgroup /system.slice/ssh.service)".to_string(),
        ]
    );
}

/// A procfs and sysfs as inside a container: its own cgroup is `/docker/abc` with a 512 MiB
/// limit, holding `used` bytes.
fn container(used: u64) -> (FakeProc, FakeSys) {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    fake.set_own_cgroup("0::/docker/abc\n");
    let sys = FakeSys::v2();
    sys.v2_cgroup("/docker", 1000 * MIB, Some(2048 * MIB));
    sys.v2_cgroup("/docker/abc", used, Some(512 * MIB));
    (fake, sys)
}

#[test]
fn inside_a_container_with_a_limit_used_is_of_the_limit() {
    let (fake, sys) = container(446_693_376);
    let lines = snapshot_lines(&fake, &["--sys-root", sys.arg(), "--details", "0"]);
    assert!(
        lines[0].ends_with(
            " | snapshot | RAM 83.2% of the 512.00 MiB cgroup limit (426.00 of 512.00 MiB) | CPU 6.2%"
        ),
        "{}",
        lines[0]
    );
    // host: the machine's figure, whatever the cgroup.
    let lines = snapshot_lines(
        &fake,
        &[
            "--sys-root",
            sys.arg(),
            "--details",
            "0",
            "--memory-scope",
            "host",
        ],
    );
    assert!(
        lines[0].contains(" | RAM 50.0% (500.00 of 1000.00 MiB) | "),
        "{}",
        lines[0]
    );
    // auto, with a limit above MemTotal: the host too; cgroup insists on the limit.
    sys.v2_cgroup("/docker/abc", 100 * MIB, Some(4096 * MIB));
    sys.v2_cgroup("/docker", 100 * MIB, None);
    let lines = snapshot_lines(&fake, &["--sys-root", sys.arg(), "--details", "0"]);
    assert!(
        lines[0].contains(" | RAM 50.0% (500.00 of 1000.00 MiB) | "),
        "{}",
        lines[0]
    );
    let lines = snapshot_lines(
        &fake,
        &[
            "--sys-root",
            sys.arg(),
            "--details",
            "0",
            "--memory-scope",
            "cgroup",
        ],
    );
    assert!(
        lines[0].contains(" | RAM 2.4% of the 4.00 GiB cgroup limit (0.10 of 4.00 GiB) | "),
        "{}",
        lines[0]
    );
    // cgroup, with no limit anywhere: a clear error at start.
    sys.v2_cgroup("/docker/abc", 100 * MIB, None);
    let out = snapshot(
        &fake,
        &cat("psaux_jc-centos77_1.txt"),
        &cat("top_jc-ubuntu2010_1.txt"),
        &["--sys-root", sys.arg(), "--memory-scope", "cgroup"],
    );
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "memory-monitor: --memory-scope cgroup: no cgroup of memory-monitor has a memory limit it can read under {}/fs/cgroup; use --memory-scope host or auto\n",
            sys.arg()
        )
    );
}

#[test]
fn the_daemon_in_a_container_reports_when_the_cgroup_nears_its_limit() {
    let (fake, sys) = container(100 * MIB);
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--sys-root", sys.arg()])
        .start();
    daemon.wait_for_start();
    let stderr = daemon.stderr_text();
    assert!(
        stderr.contains(
            "memory-monitor 0.1.0: RAM 19.5% in use; reporting when above 80% for 300ms (sampled every 50ms, repeated every 1s) to "
        ) && stderr.contains("; memory scope: cgroup (the 512.00 MiB limit of cgroup /docker/abc)\n"),
        "{stderr}"
    );
    // The machine stays at 50%: only the cgroup's figure can make a report.
    sys.v2_cgroup("/docker/abc", 460 * MIB, Some(512 * MIB));
    daemon.wait_for_reports(1);
    let log = daemon.read("incidents.log");
    let header = log
        .lines()
        .find(|l| l.contains(" | incident 1 | RAM "))
        .unwrap();
    assert!(
        header.contains(" | RAM 89.8% of the 512.00 MiB cgroup limit (460.00 of 512.00 MiB) | "),
        "{header}"
    );
    check_log(&log);
    // And the start line on the machine itself says so.
    let host = FakeProc::new();
    let mut daemon = Launch::ordinary(&host).start();
    daemon.wait_for_start();
    assert!(
        daemon
            .stderr_text()
            .contains("; memory scope: host (the machine's RAM)\n"),
        "{}",
        daemon.stderr_text()
    );
}

#[test]
fn a_v1_container_limit_is_found_by_climbing_its_cgroups() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    fake.set_own_cgroup("4:memory:/lxc/web/init.scope\n1:name=systemd:/lxc/web/init.scope\n0::/\n");
    let sys = FakeSys::hybrid();
    for (cgroup, used, limit) in [
        ("lxc", "300000000", "9223372036854771712"),
        ("lxc/web", "268435456", "402653184"),
        ("lxc/web/init.scope", "1048576", "9223372036854771712"),
    ] {
        sys.write(
            &format!("fs/cgroup/memory/{cgroup}/memory.usage_in_bytes"),
            used,
        );
        sys.write(
            &format!("fs/cgroup/memory/{cgroup}/memory.limit_in_bytes"),
            limit,
        );
    }
    let lines = snapshot_lines(&fake, &["--sys-root", sys.arg(), "--details", "0"]);
    assert!(
        lines[0].contains(" | RAM 66.7% of the 384.00 MiB cgroup limit (256.00 of 384.00 MiB) | "),
        "{}",
        lines[0]
    );
}

#[test]
fn pressure_is_shown_where_the_kernel_has_psi() {
    let fake = FakeProc::new();
    let lines = snapshot_lines(&fake, &["--details", "0"]);
    assert_eq!(starting(&lines, "  pressure:"), Vec::<String>::new());
    fake.set_pressure(
        "some avg10=12.34 avg60=1.20 avg300=0.30 total=123456\nfull avg10=4.00 avg60=0.45 avg300=0.10 total=65432\n",
    );
    let lines = snapshot_lines(&fake, &["--details", "0"]);
    assert_eq!(
        starting(&lines, "  pressure:"),
        ["  pressure: some 12.3% full 4.0% over 10s, some 1.2% full 0.5% over 60s"]
    );
    // Right after the breakdown, before top's lines.
    let at = lines
        .iter()
        .position(|l| l.starts_with("  pressure:"))
        .unwrap();
    assert!(lines[at - 1].starts_with("  memory: "));
    assert!(lines[at + 1].starts_with("  top - "));
}

#[test]
fn where_the_cgroups_list_their_processes_no_process_file_is_read() {
    // A hybrid machine whose cgroups say who is in them: the processes' own files are not
    // needed, and the RSS of a unit without figures is ps's (PID 1205 has 27244 KiB in the
    // ps sample, PID 1 6680 KiB).
    let fake = FakeProc::new();
    let sys = FakeSys::hybrid();
    let id = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
    sys.write("fs/cgroup/memory/cgroup.procs", "1\n1205\n");
    sys.write(
        &format!("fs/cgroup/memory/docker/{id}/cgroup.procs"),
        "823\n",
    );
    sys.write(
        &format!("fs/cgroup/memory/docker/{id}/memory.usage_in_bytes"),
        "209715200\n",
    );
    sys.write(
        &format!("fs/cgroup/memory/docker/{id}/memory.limit_in_bytes"),
        "268435456\n",
    );
    sys.write("fs/cgroup/unified/cgroup.procs", "");
    sys.write("fs/cgroup/unified/init.scope/cgroup.procs", "1\n");
    sys.write(
        "fs/cgroup/unified/system.slice/containerd.service/cgroup.procs",
        "823\n",
    );
    sys.write(
        "fs/cgroup/unified/system.slice/demo\\x2dx.service/cgroup.procs",
        "1205\n",
    );
    let lines = snapshot_lines(&fake, &["--sys-root", sys.arg(), "--details", "0"]);
    assert_eq!(
        starting(&lines, "  unit "),
        [
            "  unit docker 9f8e7d6c5b4a: 200.00 MiB of its 256.00 MiB limit, 1 processes",
            "  unit demo-x.service: 26.61 MiB, 1 processes (sum of their RSS)",
            "  unit init.scope: 6.52 MiB, 1 processes (sum of their RSS)",
        ]
    );
}
