//! The real binary run as the daemon against a fake proc root, with fake ps and top, for the
//! end-to-end tests.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use super::{FakeProc, corpus_dir, fake_program};

/// The pid of a child we started, as the kernel takes it.
pub fn pid_of(child: &Child) -> Pid {
    Pid::from_child(child)
}

pub const MIB: u64 = 1024;

/// Stands for an empty kernel log of the test's own, `kmsg` in the daemon's directory.
const FAKE_KERNEL_LOG: &str = "<the test's kmsg>";
const FAKE_SYS_ROOT: &str = "<the test's sysfs>";

/// How a daemon is started; `Launch::new(...).start()`.
pub struct Launch<'a> {
    pub fake: &'a FakeProc,
    pub ps_body: String,
    pub top_body: String,
    /// Options with a value; [`Launch::args`] replaces these rather than repeating them.
    pub options: Vec<(String, OsString)>,
    pub args: Vec<OsString>,
    /// A command the daemon runs under (`unshare ...`, `env LD_PRELOAD=...`); its own last
    /// argument is followed by the daemon's command line.
    pub wrapper: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub log_dir: Option<PathBuf>,
    /// The procfs to read instead of the fake one: `/proc`, for the machine's own kills.
    pub proc_root: Option<PathBuf>,
    /// stderr a pipe whose reading end is closed at once, as when the journal's stream is lost.
    pub stderr_closed: bool,
    /// As under systemd: stderr named by JOURNAL_STREAM, and native entries sent to this
    /// socket.
    pub journal: Option<PathBuf>,
}

impl<'a> Launch<'a> {
    pub fn new(fake: &'a FakeProc, ps_body: &str, top_body: &str) -> Launch<'a> {
        Launch {
            fake,
            ps_body: ps_body.into(),
            top_body: top_body.into(),
            options: [
                ("--interval", "50ms"),
                ("--sustain", "300ms"),
                ("--repeat", "1s"),
                ("--details", "3"),
                // Never the machine's own kills: an empty file in the test's directory.
                ("--kernel-log", FAKE_KERNEL_LOG),
                // Never the machine's own cgroups: an empty directory in the test's.
                ("--sys-root", FAKE_SYS_ROOT),
            ]
            .map(|(option, value)| (option.to_string(), value.into()))
            .to_vec(),
            args: Vec::new(),
            wrapper: Vec::new(),
            env: Vec::new(),
            log_dir: None,
            proc_root: None,
            stderr_closed: false,
            journal: None,
        }
    }

    /// The sample outputs most tests need: 109 processes and a readable CPU line.
    pub fn ordinary(fake: &'a FakeProc) -> Launch<'a> {
        Launch::new(
            fake,
            &cat("psaux_jc-centos77_1.txt"),
            &cat("top_jc-ubuntu2010_1.txt"),
        )
    }

    /// Adds arguments; an option the launch already sets gets the new value instead.
    pub fn args(mut self, args: &[&str]) -> Launch<'a> {
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            match self.options.iter_mut().find(|(option, _)| option == arg) {
                Some((_, value)) => *value = rest.next().expect("a value").into(),
                None => self.args.push(arg.into()),
            }
        }
        self
    }

    /// Sets a variable in the daemon's environment.
    pub fn env(mut self, key: &str, value: &str) -> Launch<'a> {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn start(self) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let logs = self.log_dir.unwrap_or_else(|| dir.path().join("logs"));
        let ps = fake_program(dir.path(), "ps", &self.ps_body);
        let top = fake_program(dir.path(), "top", &self.top_body);
        let stderr = dir.path().join("stderr");
        let kernel_log = dir.path().join("kmsg");
        std::fs::write(&kernel_log, "").unwrap();
        let mut command = match self.wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(env!("CARGO_BIN_EXE_memory-monitor"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_memory-monitor")),
        };
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("MEMORY_MONITOR_") {
                command.env_remove(key);
            }
        }
        command.arg("run");
        for (option, value) in &self.options {
            if value == FAKE_KERNEL_LOG {
                command.arg(option).arg(&kernel_log);
            } else if value == FAKE_SYS_ROOT {
                let sys = dir.path().join("sys");
                std::fs::create_dir_all(&sys).unwrap();
                command.arg(option).arg(sys);
            } else {
                command.arg(option).arg(value);
            }
        }
        command
            .arg("--log-dir")
            .arg(&logs)
            .arg("--proc-root")
            .arg(self.proc_root.as_deref().unwrap_or(self.fake.path()))
            .arg("--ps-bin")
            .arg(&ps)
            .arg("--top-bin")
            .arg(&top)
            .args(&self.args)
            .env("TZ", "UTC")
            .envs(self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if self.stderr_closed {
            command.stderr(Stdio::piped());
        } else {
            let file = std::fs::File::create(&stderr).unwrap();
            if let Some(socket) = &self.journal {
                use std::os::unix::fs::MetadataExt;
                let meta = file.metadata().unwrap();
                command
                    .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
                    .arg("--journal-socket")
                    .arg(socket);
            }
            command.stderr(file);
        }
        let mut child = command.spawn().unwrap();
        drop(child.stderr.take());
        Daemon {
            kernel_log,
            own_mounts: self.wrapper.iter().any(|w| w == "unshare"),
            child,
            logs,
            stderr,
            ps,
            top,
            dir,
        }
    }
}

pub struct Daemon {
    /// The kernel log the daemon reads, unless the test gave another: a test appends records.
    pub kernel_log: PathBuf,
    /// Runs in a mount namespace of its own: its files are reached through /proc/PID/root.
    pub own_mounts: bool,
    pub child: Child,
    pub logs: PathBuf,
    pub stderr: PathBuf,
    pub ps: PathBuf,
    pub top: PathBuf,
    pub dir: tempfile::TempDir,
}

/// A test that fails still stops its daemon the gentle way first, so the daemon kills what it
/// started (SIGKILL would leave its ps and top behind).
impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill_process(pid_of(&self.child), Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the daemon sees `path`: through its root, so a log directory in a mount namespace
    /// of its own is reachable from the test.
    pub fn seen(&self, path: &Path) -> PathBuf {
        if !self.own_mounts {
            return path.to_path_buf();
        }
        Path::new(&format!("/proc/{}/root", self.pid())).join(path.strip_prefix("/").unwrap())
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.seen(&self.logs.join(name))).unwrap_or_default()
    }

    pub fn wait_for(&mut self, what: &str, done: impl Fn(&Daemon) -> bool) {
        self.wait_for_within(what, Duration::from_secs(20), done);
    }

    /// [`Daemon::wait_for`], for what takes longer than its 20 seconds.
    pub fn wait_for_within(&mut self, what: &str, time: Duration, done: impl Fn(&Daemon) -> bool) {
        let deadline = Instant::now() + super::patience(time);
        while !done(self) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "daemon exited ({status}) while waiting for {what}; stderr: {}",
                    self.stderr_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; stderr:\n{}\nincidents.log:\n{}",
                self.stderr_text(),
                self.read("incidents.log")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until incidents.log holds `n` report headers.
    pub fn wait_for_reports(&mut self, n: usize) {
        self.wait_for(&format!("{n} reports"), |d| {
            report_count(&d.read("incidents.log")) >= n
        });
    }

    /// Until the start line and the line after it, which says where kills come from: only
    /// then has the daemon opened everything it reads.
    pub fn wait_for_start(&mut self) {
        self.wait_for("start-up", |d| {
            let stderr = d.stderr_text();
            stderr.contains("reporting when above")
                && stderr.contains("memory-monitor: OOM kills are")
        });
    }

    pub fn signal(&self, signal: Signal) {
        kill_process(pid_of(&self.child), signal).unwrap();
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn stop(mut self, signal: Signal) -> (ExitStatus, Duration, Daemon) {
        let sent = Instant::now();
        self.signal(signal);
        let status = self.child.wait().unwrap();
        (status, sent.elapsed(), self)
    }

    /// Waits for a daemon that is to exit by itself, as at a bad start.
    pub fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + super::patience(Duration::from_secs(20));
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running: {}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The daemon's children, as (pid, state) from their stat files.
    pub fn children(&self) -> Vec<(u32, char)> {
        children_of(self.pid())
    }

    /// Reads `VmHWM`/`VmRSS` and friends from the daemon's status, in KiB.
    pub fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

/// Processes whose parent is `pid`, as (pid, state).
pub fn children_of(pid: u32) -> Vec<(u32, char)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(after_name) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = after_name.split(' ');
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid: u32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == pid {
            let child = entry.file_name().to_string_lossy().parse().unwrap_or(0);
            found.push((child, state));
        }
    }
    found
}

/// Whether a process with exactly this command line exists.
pub fn running(cmdline: &[u8]) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .any(|entry| std::fs::read(entry.path().join("cmdline")).is_ok_and(|c| c == cmdline))
}

pub fn cat(file: &str) -> String {
    format!("exec cat '{}'", corpus_dir().join(file).display())
}

pub fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

/// How many report headers a log holds.
pub fn report_count(text: &str) -> usize {
    super::log::headers(text)
        .iter()
        .filter(|h| h.incident.is_some())
        .count()
}

pub fn set_used(fake: &FakeProc, percent: u64) {
    fake.set_meminfo(1000 * MIB, (100 - percent) * 10 * MIB);
}
