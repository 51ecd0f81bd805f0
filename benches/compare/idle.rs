//! memory-monitor and earlyoom side by side, both idle, both waking every second.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::measure::{Running, schedstat, start_daemon, status_kib};

/// One program's idle cost over one window.
pub struct Idle {
    pub cpu_per_wakeup_us: f64,
    pub wakeups: u64,
    pub vm_rss_kib: u64,
    pub rss_anon_kib: u64,
}

pub struct IdlePair {
    pub earlyoom: Idle,
    pub monitor: Idle,
    /// What the daemon said about the OOM kills' source: whether each tick read /dev/kmsg.
    pub kill_source: String,
}

/// Starts earlyoom, then memory-monitor half a second later so their wake-ups never coincide,
/// lets both settle past start-up, and measures `window` of their sleeping and waking.
pub fn measure(monitor_bin: &Path, earlyoom_bin: &Path, window: Duration) -> IdlePair {
    let pair = start_both(
        monitor_bin,
        earlyoom_bin,
        &[
            "--interval",
            "1s",
            "--threshold",
            "99.9",
            "--urgent",
            "off",
            "--kernel-log",
            "/dev/kmsg",
        ],
    );
    let (earlyoom, monitor) = (&pair.earlyoom, &pair.monitor);
    std::thread::sleep(Duration::from_secs(3));
    let before = [schedstat(earlyoom.pid()), schedstat(monitor.pid())];
    std::thread::sleep(window);
    let after = [schedstat(earlyoom.pid()), schedstat(monitor.pid())];
    let idle = |running: &Running, (cpu0, runs0): (u64, u64), (cpu1, runs1): (u64, u64)| {
        let wakeups = runs1 - runs0;
        Idle {
            cpu_per_wakeup_us: (cpu1 - cpu0) as f64 / 1e3 / wakeups.max(1) as f64,
            wakeups,
            vm_rss_kib: status_kib(running.pid(), "VmRSS"),
            rss_anon_kib: status_kib(running.pid(), "RssAnon"),
        }
    };
    IdlePair {
        earlyoom: idle(earlyoom, before[0], after[0]),
        monitor: idle(monitor, before[1], after[1]),
        kill_source: kill_source(&pair.stderr),
    }
}

/// earlyoom and memory-monitor running, and where the daemon's stderr goes.
struct Both {
    earlyoom: Running,
    monitor: Running,
    stderr: std::path::PathBuf,
    _logs: tempfile::TempDir,
}

/// Starts earlyoom, then memory-monitor with `monitor_args` half a second later, so that
/// their wake-ups never coincide.
fn start_both(monitor_bin: &Path, earlyoom_bin: &Path, monitor_args: &[&str]) -> Both {
    let logs = tempfile::tempdir().expect("temp dir");
    let earlyoom = Running(
        Command::new(earlyoom_bin)
            // A memory report once an hour: its checks go on, its printing does not.
            .args(["-r", "3600"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("earlyoom (apt-get install earlyoom)"),
    );
    std::thread::sleep(Duration::from_millis(500));
    let stderr = logs.path().join("stderr");
    let monitor = start_daemon(
        monitor_bin,
        monitor_args,
        logs.path(),
        std::fs::File::create(&stderr).expect("stderr file").into(),
    );
    Both {
        earlyoom,
        monitor,
        stderr,
        _logs: logs,
    }
}

/// The daemon's start-up line about the OOM kills, without its prefix.
fn kill_source(stderr: &Path) -> String {
    std::fs::read_to_string(stderr)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("memory-monitor: OOM kills are "))
        .map_or_else(|| "?".into(), str::to_string)
}

/// CPU seconds per hour of both programs at their defaults, side by side over `window`:
/// earlyoom polls adaptively (every second or more often as memory fills) with its hourly
/// report, memory-monitor samples every 3 s. Returns (earlyoom, memory-monitor, kill source).
pub fn per_hour(monitor_bin: &Path, earlyoom_bin: &Path, window: Duration) -> (f64, f64, String) {
    let pair = start_both(monitor_bin, earlyoom_bin, &["--kernel-log", "/dev/kmsg"]);
    let (earlyoom, monitor) = (&pair.earlyoom, &pair.monitor);
    std::thread::sleep(Duration::from_secs(4));
    let before = [schedstat(earlyoom.pid()).0, schedstat(monitor.pid()).0];
    std::thread::sleep(window);
    let after = [schedstat(earlyoom.pid()).0, schedstat(monitor.pid()).0];
    let per_hour = |ns: u64| ns as f64 / 1e9 * 3600.0 / window.as_secs_f64();
    (
        per_hour(after[0] - before[0]),
        per_hour(after[1] - before[1]),
        kill_source(&pair.stderr),
    )
}

pub fn earlyoom_version(earlyoom_bin: &Path) -> String {
    Command::new(earlyoom_bin)
        .arg("-v")
        .output()
        .ok()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).to_string()
                + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().unwrap_or("earlyoom").trim().to_string()
        })
        .unwrap_or_else(|| "earlyoom".into())
}
