//! Reading what the kernel knows about a process, and running one with its cost measured.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// CPU time and the number of times scheduled, summed over every thread of `pid`, from
/// `/proc/PID/task/TID/schedstat` (nanoseconds on the CPU, time waiting, times run).
pub fn schedstat(pid: u32) -> (u64, u64) {
    let mut cpu_ns = 0;
    let mut runs = 0;
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return (0, 0);
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        let fields: Vec<u64> = text
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if let [on_cpu, _, times_run] = fields[..] {
            cpu_ns += on_cpu;
            runs += times_run;
        }
    }
    (cpu_ns, runs)
}

/// A `/proc/PID/status` field in KiB (`VmRSS`, `RssAnon`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// What one run of a command cost.
pub struct Usage {
    pub wall: Duration,
    /// The process and every descendant it waited for (ps and top, for `snapshot`).
    pub cpu: Duration,
    /// The process alone, read from its schedstat before it was reaped.
    pub own_cpu: Duration,
    pub stdout: Vec<u8>,
}

/// Runs `command` to its end, its output read through a pipe as memory-monitor reads ps's.
// Reaped by wait4, which gives its rusage; std's wait would not.
#[allow(clippy::zombie_processes)]
pub fn run_measured(command: &mut Command) -> Usage {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut stdout)
        .expect("read stdout");
    let pid = child.id();
    // Exited but not reaped: its own schedstat can still be read.
    // SAFETY: waitid on our own child fills the siginfo we pass.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let rc = libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT);
        assert_eq!(rc, 0, "waitid");
    }
    let wall = start.elapsed();
    let own_cpu = Duration::from_nanos(schedstat(pid).0);
    // SAFETY: reaps our own child; rusage then holds it and the descendants it waited for.
    let (status, usage) = unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        let rc = libc::wait4(pid as i32, &mut status, 0, &mut usage);
        assert_eq!(rc, pid as i32, "wait4");
        (status, usage)
    };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed: status {status}"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Usage {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        own_cpu,
        stdout,
    }
}

pub fn median(mut values: Vec<f64>) -> f64 {
    assert!(!values.is_empty(), "a median of nothing");
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// How many processes the machine has now.
pub fn process_count() -> usize {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .count()
        })
        .unwrap_or(0)
}

/// Idle processes for a capture to list, killed when dropped.
pub struct IdleProcesses(Vec<Child>);

impl IdleProcesses {
    pub fn spawn(count: usize) -> IdleProcesses {
        let children = (0..count)
            .map(|_| {
                Command::new("sleep")
                    .arg("3600")
                    .stdin(Stdio::null())
                    .spawn()
                    .expect("spawn sleep")
            })
            .collect();
        IdleProcesses(children)
    }
}

impl Drop for IdleProcesses {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

/// A long-running program under test, stopped with SIGTERM when dropped.
pub struct Running(pub Child);

impl Running {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_child(&self.0),
            rustix::process::Signal::TERM,
        );
        let _ = self.0.wait();
    }
}

/// The daemon, `memory-monitor run ARGS --log-dir LOG_DIR`, its stdout discarded.
pub fn start_daemon(bin: &Path, args: &[&str], log_dir: &Path, stderr: Stdio) -> Running {
    Running(
        Command::new(bin)
            .arg("run")
            .args(args)
            .arg("--log-dir")
            .arg(log_dir)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("memory-monitor"),
    )
}

pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
