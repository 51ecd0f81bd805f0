//! A fake machine: a proc root, the processes in it, a passwd database, and ps and top as
//! shell scripts.

use std::cell::Cell;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::{log, program_without_env};
/// A procfs stand-in: meminfo, uptime and per-process files, written as a test needs them.
pub struct FakeProc {
    pub dir: tempfile::TempDir,
}

/// One process as the kernel shows it under `/proc/PID`.
#[derive(Clone, Debug)]
pub struct FakeProcess {
    pub pid: u32,
    /// `comm`, and the name in `stat` and `status`.
    pub name: Vec<u8>,
    pub uid: u32,
    /// The arguments, each ended by a NUL, as `cmdline` holds them; empty for a kernel thread.
    pub cmdline: Vec<u8>,
    pub cwd: Option<Vec<u8>>,
    /// When it started, in clock ticks of 100 Hz after boot, as `stat` says.
    pub start_ticks: u64,
    pub rss_kib: u64,
    pub ppid: u32,
    /// Write status's `Name:` raw instead of escaped as the kernel does: a newline in it then
    /// adds lines of its own to status.
    pub raw_status_name: bool,
}

impl Default for FakeProcess {
    fn default() -> FakeProcess {
        FakeProcess {
            pid: 1,
            name: b"x".to_vec(),
            uid: 0,
            cmdline: b"x\0".to_vec(),
            cwd: Some(b"/".to_vec()),
            start_ticks: 0,
            rss_kib: 1000,
            ppid: 0,
            raw_status_name: false,
        }
    }
}

/// `cmdline` for these arguments.
pub fn cmdline_of<A: AsRef<[u8]>>(argv: &[A]) -> Vec<u8> {
    argv.iter()
        .flat_map(|a| a.as_ref().iter().copied().chain([0]))
        .collect()
}

impl FakeProc {
    pub fn new() -> FakeProc {
        let fake = FakeProc {
            dir: tempfile::tempdir().unwrap(),
        };
        fake.set_meminfo(1_000_000, 500_000);
        std::fs::write(fake.path().join("uptime"), "100000.50 150000.00\n").unwrap();
        fake
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrites meminfo in place with fixed-width figures, as the kernel's file changes under an
    /// open descriptor.
    pub fn set_meminfo(&self, total_kib: u64, available_kib: u64) {
        let text = format!(
            "MemTotal:       {total_kib:>12} kB\nMemFree:        {available_kib:>12} kB\nMemAvailable:   {available_kib:>12} kB\nBuffers:        {:>12} kB\n",
            0
        );
        self.write_meminfo(text.as_bytes());
    }

    /// Rewrites meminfo in place with `text`, a whole file (a fixture, say). The daemon keeps
    /// meminfo open, so the file must stay the same one; it is written over, not truncated first,
    /// so a sample taken meanwhile never sees it empty, and then cut to its new length.
    pub fn write_meminfo(&self, text: &[u8]) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(self.path().join("meminfo"))
            .unwrap();
        f.write_all(text).unwrap();
        f.set_len(u64::try_from(text.len()).unwrap()).unwrap();
    }

    /// `pressure/memory`, as a kernel with PSI on has it.
    pub fn set_pressure(&self, text: &str) {
        std::fs::create_dir_all(self.path().join("pressure")).unwrap();
        std::fs::write(self.path().join("pressure/memory"), text).unwrap();
    }

    /// `self/cgroup`: the cgroups of the program that reads this procfs.
    pub fn set_own_cgroup(&self, text: &str) {
        std::fs::create_dir_all(self.path().join("self")).unwrap();
        std::fs::write(self.path().join("self/cgroup"), text).unwrap();
    }

    /// `PID/cgroup`: which cgroups a process is in.
    pub fn set_cgroup(&self, pid: u32, text: &[u8]) {
        std::fs::write(self.path().join(pid.to_string()).join("cgroup"), text).unwrap();
    }

    pub fn add(&self, p: &FakeProcess) {
        let dir = self.path().join(p.pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut status = b"Name:\t".to_vec();
        if p.raw_status_name {
            status.extend_from_slice(&p.name);
        } else {
            status.extend_from_slice(&log::kernel_status_name(&p.name));
        }
        status.extend_from_slice(
            format!(
                "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n\
                 VmPeak:\t{peak} kB\nVmSize:\t{vsz} kB\nVmHWM:\t{hwm} kB\nVmRSS:\t{rss} kB\nVmSwap:\t{swap} kB\nThreads:\t4\n",
                pid = p.pid,
                ppid = p.ppid,
                uid = p.uid,
                peak = p.rss_kib * 4,
                vsz = p.rss_kib * 3,
                hwm = p.rss_kib * 2,
                rss = p.rss_kib,
                swap = 512,
            )
            .as_bytes(),
        );
        std::fs::write(dir.join("status"), status).unwrap();
        let page_kib = rustix::param::page_size() as u64 / 1024;
        let statm = format!(
            "{} {} 100 10 0 {} 0\n",
            p.rss_kib * 3 / page_kib,
            p.rss_kib / page_kib,
            p.rss_kib / page_kib
        );
        std::fs::write(dir.join("statm"), statm).unwrap();
        let mut stat = format!("{} (", p.pid).into_bytes();
        stat.extend_from_slice(&p.name);
        stat.extend_from_slice(
            format!(
                ") S {} 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 {} 1000 50\n",
                p.ppid, p.start_ticks
            )
            .as_bytes(),
        );
        std::fs::write(dir.join("stat"), stat).unwrap();
        std::fs::write(dir.join("cmdline"), &p.cmdline).unwrap();
        std::fs::write(dir.join("comm"), [&p.name[..], b"\n"].concat()).unwrap();
        if let Some(cwd) = &p.cwd {
            std::os::unix::fs::symlink(OsStr::from_bytes(cwd), dir.join("cwd")).unwrap();
        }
    }
}

/// The biggest process by RSS in the `psaux_jc-centos77_1.txt` sample, PID 823, as /proc shows it.
pub fn firewalld() -> FakeProcess {
    FakeProcess {
        pid: 823,
        name: b"firewalld".to_vec(),
        uid: 0,
        cmdline: b"/usr/bin/python2\0-Es\0/usr/sbin/firewalld\0--nofork\0--nopid\0".to_vec(),
        cwd: Some(b"/".to_vec()),
        start_ticks: 30 * 100,
        rss_kib: 29528,
        ppid: 1,
        raw_status_name: false,
    }
}

/// A passwd database of the test's making, which counts its lookups.
pub struct FakeUsers {
    names: Vec<(u32, Vec<u8>)>,
    pub lookups: Cell<usize>,
}

impl FakeUsers {
    pub fn new(names: &[(u32, &[u8])]) -> FakeUsers {
        FakeUsers {
            names: names.iter().map(|(uid, n)| (*uid, n.to_vec())).collect(),
            lookups: Cell::new(0),
        }
    }

    /// root, a long name ps cuts, and alice: the users of the fake processes.
    pub fn standard() -> FakeUsers {
        FakeUsers::new(&[(0, b"root"), (1000, b"verylongusername"), (1001, b"alice")])
    }
}

impl memory_monitor::proc::UserNames for FakeUsers {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
        self.lookups.set(self.lookups.get() + 1);
        self.names
            .iter()
            .find(|(known, _)| *known == uid)
            .map(|(_, name)| name.clone())
    }
}

/// Runs `memory-monitor snapshot` on `fake` with fake ps and top running the given shell bodies,
/// in a clean environment, in UTC, reading no kernel log unless `extra` names one.
pub fn snapshot(fake: &FakeProc, ps_body: &str, top_body: &str, extra: &[&str]) -> Output {
    let bin = tempfile::tempdir().unwrap();
    let kernel_log: &[&str] = if extra.contains(&"--kernel-log") {
        &[]
    } else {
        &["--kernel-log", "off"]
    };
    // Never the machine's own cgroups, unless the test gives a sysfs.
    let sys_root = if extra.contains(&"--sys-root") {
        Vec::new()
    } else {
        vec![
            OsString::from("--sys-root"),
            bin.path().join("sys").into_os_string(),
        ]
    };
    program_without_env()
        .arg("snapshot")
        .args(sys_root)
        .arg("--proc-root")
        .arg(fake.path())
        .arg("--ps-bin")
        .arg(fake_program(bin.path(), "ps", ps_body))
        .arg("--top-bin")
        .arg(fake_program(bin.path(), "top", top_body))
        .args(kernel_log)
        .args(extra)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// Writes an executable shell script named `name` in `dir` that runs `body`.
pub fn fake_program(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// ps and top as shell scripts in `dir` running these bodies, their output cut at
/// `output_limit`. Their timeout is far above what they take, patient under emulation.
pub fn fake_tools(
    dir: &Path,
    ps_body: &str,
    top_body: &str,
    output_limit: usize,
) -> memory_monitor::capture::Tools {
    memory_monitor::capture::Tools {
        ps_bin: fake_program(dir, "ps", ps_body).into_os_string(),
        top_bin: fake_program(dir, "top", top_body).into_os_string(),
        timeout: super::patience(std::time::Duration::from_secs(10)),
        output_limit,
    }
}
