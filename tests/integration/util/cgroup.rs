//! Real OOM kills by the real kernel: a memory cgroup with a small limit, and processes that
//! allocate past it. Needs root and a memory cgroup controller (v1 `memory.limit_in_bytes` or
//! v2 `memory.max`); the tests that use it skip without, except in CI.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Real kills are counted machine-wide (`/proc/vmstat`, `/dev/kmsg`): one test at a time makes
/// them, so that each can account for every kill it sees. Holds when the last one ended.
static REAL_KILLS: Mutex<Option<Instant>> = Mutex::new(None);

/// The kernel prints a kill's `oom-kill:` summary line, which names the cgroup, at most 10 times
/// in 5 s: a test waits this long after the one before, so its kills have their summaries.
const QUIET: Duration = Duration::from_secs(6);

/// What a hog takes: far past any limit here.
const HOG_BYTES: u64 = 200_000_000;

pub struct MemCgroup {
    pub dir: PathBuf,
    /// The path the kernel prints for it (`oom_memcg=`), from its hierarchy's root.
    pub path: String,
    one_at_a_time: MutexGuard<'static, Option<Instant>>,
}

/// A memory cgroup of `limit_mib`, or a skip line saying what is missing.
pub fn memory_cgroup(limit_mib: u64) -> Option<MemCgroup> {
    if !rustix::process::geteuid().is_root() {
        super::skip(
            "root (to make a memory cgroup and real OOM kills)",
            "run the tests as root, as CI does",
        );
        return None;
    }
    let guard = REAL_KILLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ended) = *guard {
        std::thread::sleep(QUIET.saturating_sub(ended.elapsed()));
    }
    let (root, limit_file) = if Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() {
        ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
    } else if std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
    {
        ("/sys/fs/cgroup", "memory.max")
    } else {
        super::skip(
            "a memory cgroup controller (/sys/fs/cgroup/memory or cgroup v2's memory)",
            "boot with the memory controller enabled (cgroup_enable=memory)",
        );
        return None;
    };
    let name = format!("memory-monitor-test-{}-{}", std::process::id(), unique());
    let dir = Path::new(root).join(&name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(limit_file), format!("{}", limit_mib * 1024 * 1024)).unwrap();
    // No swap for it, where the machine has some: the hog must be killed, not swapped out.
    let _ = std::fs::write(dir.join("memory.swappiness"), "0");
    let _ = std::fs::write(dir.join("memory.swap.max"), "0");
    Some(MemCgroup {
        dir,
        path: format!("/{name}"),
        one_at_a_time: guard,
    })
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl MemCgroup {
    /// A shell script run inside the cgroup: it moves itself in, then runs `script`.
    pub fn run(&self, script: &str) -> Child {
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo $$ > '{}/cgroup.procs' && {script}",
                self.dir.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// `count` processes that each take more than the limit: `tail` keeps the last bytes it
    /// read in memory. Each is killed by the kernel; the script ends when all have ended.
    pub fn hogs(&self, count: u32) -> Child {
        self.run(&format!(
            "i=0; while [ $i -lt {count} ]; do head -c {HOG_BYTES} /dev/zero | tail -c {HOG_BYTES} >/dev/null & i=$((i+1)); done; wait"
        ))
    }

    /// The wrapper that starts a daemon in this cgroup (for `Launch::wrapper`), with
    /// `oom_score_adj` set to `adjust` (the service's OOMScoreAdjust=) when given.
    pub fn wrapper(&self, adjust: Option<i32>) -> Vec<std::ffi::OsString> {
        let choom = adjust.map_or(String::new(), |n| format!("choom -n {n} -- "));
        [
            "sh",
            "-c",
            &format!(
                "echo $$ > '{}/cgroup.procs' && exec {choom}\"$@\"",
                self.dir.display()
            ),
            "sh",
        ]
        .map(Into::into)
        .to_vec()
    }
}

/// Waits for `child` to end; it must, within a minute.
pub fn wait_ended(child: &mut Child) {
    let deadline = Instant::now() + super::patience(Duration::from_secs(60));
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the hogs did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The kernel's count of OOM kills since boot.
pub fn oom_kills() -> u64 {
    let vmstat = std::fs::read_to_string("/proc/vmstat").unwrap();
    vmstat
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .expect("a kernel with oom_kill in /proc/vmstat (4.13 and later)")
        .parse()
        .unwrap()
}

/// Ends what is left in the cgroup and removes it.
impl Drop for MemCgroup {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|p| p.parse::<i32>().ok()) {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
            if std::fs::remove_dir(&self.dir).is_ok() || Instant::now() > deadline {
                *self.one_at_a_time = Some(Instant::now());
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether this process may lower an `oom_score_adj` (CAP_SYS_RESOURCE), as systemd does for
/// OOMScoreAdjust=. Some containers and VMs withhold it even from root.
pub fn may_lower_oom_score_adj() -> bool {
    const CAP_SYS_RESOURCE: u32 = 24;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << CAP_SYS_RESOURCE) != 0)
}

/// A cgroup of the test's own, for where processes are accounted rather than for kills: no
/// limit is hit, so tests with it need not wait for each other. Removed, with what it holds,
/// when dropped.
pub struct TestCgroup {
    pub dir: PathBuf,
    /// As `/proc/PID/cgroup` shows it.
    pub path: String,
}

impl TestCgroup {
    /// `name` in the v2 hierarchy (`/sys/fs/cgroup/unified` on a hybrid machine), or a skip.
    pub fn unified(name: &str) -> Option<TestCgroup> {
        let root = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
            .into_iter()
            .find(|root| Path::new(root).join("cgroup.controllers").exists());
        TestCgroup::make(root, name)
    }

    /// `name` where memory is accounted (v1's memory controller, else v2 with its memory
    /// controller), with `limit` bytes as its memory limit; or a skip.
    pub fn memory(name: &str, limit: u64) -> Option<TestCgroup> {
        let root = if Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() {
            Some(("/sys/fs/cgroup/memory", "memory.limit_in_bytes"))
        } else if std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
        {
            Some(("/sys/fs/cgroup", "memory.max"))
        } else {
            None
        };
        let cgroup = TestCgroup::make(root.map(|(root, _)| root), name)?;
        let (_, limit_file) = root?;
        std::fs::write(cgroup.dir.join(limit_file), limit.to_string()).unwrap();
        Some(cgroup)
    }

    fn make(root: Option<&str>, name: &str) -> Option<TestCgroup> {
        if !rustix::process::geteuid().is_root() {
            super::skip(
                "root (to make a cgroup)",
                "run the tests as root, as CI does",
            );
            return None;
        }
        let Some(root) = root else {
            super::skip(
                "a cgroup hierarchy (/sys/fs/cgroup)",
                "run on a Linux machine with cgroups mounted",
            );
            return None;
        };
        let dir = Path::new(root).join(name);
        // What a run that was killed left behind.
        if dir.exists() {
            drop(TestCgroup {
                dir: dir.clone(),
                path: String::new(),
            });
        }
        std::fs::create_dir(&dir).unwrap();
        Some(TestCgroup {
            dir,
            path: format!("/{name}"),
        })
    }

    /// A shell script run inside the cgroup: it moves itself in, then runs `script`.
    pub fn run(&self, script: &str) -> Child {
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo $$ > '{}/cgroup.procs' && {script}",
                self.dir.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// A process in the cgroup that holds about `mib` MiB until it is killed; returns once it
    /// holds it.
    pub fn holding(&self, mib: u64) -> Child {
        let flag = tempfile::tempdir().unwrap();
        let ready = flag.path().join("ready");
        let child = self.run(&format!(
            "x=$(head -c {} /dev/zero | tr '\\0' a); : > '{}'; sleep 600; echo ${{#x}}",
            mib * 1024 * 1024,
            ready.display()
        ));
        let deadline = Instant::now() + super::patience(Duration::from_secs(30));
        while !ready.exists() {
            assert!(
                Instant::now() < deadline,
                "the process did not fill its memory"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// The wrapper that starts a program in this cgroup.
    pub fn wrapper(&self) -> Vec<std::ffi::OsString> {
        [
            "sh",
            "-c",
            &format!(
                "echo $$ > '{}/cgroup.procs' && exec \"$@\"",
                self.dir.display()
            ),
            "sh",
        ]
        .map(Into::into)
        .to_vec()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|p| p.parse::<i32>().ok()) {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
            if std::fs::remove_dir(&self.dir).is_ok() || Instant::now() > deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
