//! From the kernel's OOM kill to its entry on disk: the daemon at its defaults (a 3 s
//! interval) reads the kills from /dev/kmsg; processes are killed one by one in a memory cgroup
//! of 64 MiB. The kill's time is its record's timestamp (CLOCK_MONOTONIC, as /dev/kmsg's);
//! the entry's is when this harness, polling incidents.log every millisecond, first sees it.
//! Needs root and a v1 or v2 memory cgroup.

use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::start_daemon;

/// Kills are spaced so that no minute holds more than the ten entries written one by one.
const SPACING: Duration = Duration::from_millis(6500);

/// Why the latency cannot be measured here, if it cannot.
pub fn unavailable() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not root (it needs a memory cgroup and /dev/kmsg)".into());
    }
    if memory_controller().is_none() {
        return Some("no memory cgroup controller".into());
    }
    None
}

fn memory_controller() -> Option<(PathBuf, &'static str)> {
    if Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() {
        return Some(("/sys/fs/cgroup/memory".into(), "memory.limit_in_bytes"));
    }
    std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .ok()
        .filter(|c| c.split_whitespace().any(|c| c == "memory"))
        .map(|_| ("/sys/fs/cgroup".into(), "memory.max"))
}

fn monotonic() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The latency of each of `kills` kills, in ms.
pub fn measure(monitor_bin: &Path, kills: usize) -> Vec<f64> {
    let (root, limit_file) = memory_controller().expect("a memory controller");
    let cgroup = root.join(format!("memory-monitor-bench-{}", std::process::id()));
    std::fs::create_dir(&cgroup).expect("make a memory cgroup");
    std::fs::write(cgroup.join(limit_file), (64u64 << 20).to_string()).expect("its limit");
    let _ = std::fs::write(cgroup.join("memory.swappiness"), "0");
    let logs = tempfile::tempdir().expect("temp dir");
    let log = logs.path().join("incidents.log");
    let daemon = start_daemon(
        monitor_bin,
        &["--kernel-log", "/dev/kmsg"],
        logs.path(),
        Stdio::null(),
    );
    // Past start-up and the catch-up of the kills already in the kernel's log.
    std::thread::sleep(Duration::from_secs(4));
    let mut kmsg = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .expect("/dev/kmsg");
    // Only records from now on.
    rustix::fs::seek(&kmsg, rustix::fs::SeekFrom::End(0)).expect("seek /dev/kmsg");
    let mut latencies = Vec::new();
    for n in 1..=kills {
        let began = Instant::now();
        let mut hog = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo $$ > '{}/cgroup.procs' && head -c 200000000 /dev/zero | tail -c 200000000 >/dev/null",
                cgroup.display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh");
        let _ = hog.wait();
        let Some((pid, killed_at)) = killed(&mut kmsg) else {
            eprintln!("kill {n}: no kill record; not counted");
            continue;
        };
        let needle = format!("| oom-kill | PID {pid} (");
        let deadline = Instant::now() + Duration::from_secs(30);
        let seen_at = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(&needle) {
                break Some(monotonic());
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        match seen_at {
            Some(at) => {
                let ms = crate::measure::ms(at.saturating_sub(killed_at));
                eprintln!("kill {n}/{kills}: PID {pid}, entry after {ms:.0} ms");
                latencies.push(ms);
            }
            None => eprintln!("kill {n}: PID {pid} never got an entry"),
        }
        std::thread::sleep(SPACING.saturating_sub(began.elapsed()));
    }
    drop(daemon);
    let _ = std::fs::remove_dir(&cgroup);
    latencies
}

/// The PID and time of the first `Killed process` record now in the kernel's log.
fn killed(kmsg: &mut std::fs::File) -> Option<(u32, Duration)> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut found = None;
    loop {
        let n = match kmsg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => continue,
            Err(_) => break,
        };
        let record = &buf[..n];
        let Some(kill) = memory_monitor::parse::kmsg::parse_record(record)
            .filter(|r| r.from_kernel())
            .and_then(
                |r| match memory_monitor::parse::oom::parse_oom_line(r.text)? {
                    memory_monitor::parse::oom::OomLine::Killed(k) => Some((k.pid, r.usec)),
                    _ => None,
                },
            )
        else {
            continue;
        };
        found.get_or_insert((kill.0, Duration::from_micros(kill.1)));
    }
    found
}
