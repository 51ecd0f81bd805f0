//! A kernel of the test's making: records of OOM kills, written as `/dev/kmsg` gives them, into
//! the file the daemon reads as its kernel log, and the kernel's count of them in a fake
//! `vmstat`.

use std::io::Write as _;
use std::path::Path;

use super::FakeProc;

/// The kernel's clock now (CLOCK_MONOTONIC, which `/dev/kmsg` timestamps follow), in µs.
pub fn kernel_usec_now() -> u64 {
    u64::try_from(memory_monitor::capture::kernel_now().as_micros()).unwrap()
}

/// The two records of a 5.4-and-later kill at `usec`, as sequence numbers `seq` and `seq + 1`:
/// the `oom-kill:` summary, then the `Killed process` line. `cgroup` is the memory cgroup whose
/// limit was hit, or `None` for a system-wide kill.
pub fn kill_records(
    seq: u64,
    usec: u64,
    pid: u32,
    name: &str,
    uid: u32,
    cgroup: Option<&str>,
) -> String {
    let (constraint, memcg, prefix) = match cgroup {
        Some(path) => (
            "CONSTRAINT_MEMCG",
            format!("oom_memcg={path},task_memcg={path}"),
            "Memory cgroup out of memory",
        ),
        None => (
            "CONSTRAINT_NONE",
            "global_oom,task_memcg=/user.slice".to_string(),
            "Out of memory",
        ),
    };
    format!(
        "6,{seq},{usec},-;oom-kill:constraint={constraint},nodemask=(null),cpuset=/,mems_allowed=0,{memcg},task={name},pid={pid},uid={uid}\n\
         3,{},{usec},-;{prefix}: Killed process {pid} ({name}) total-vm:1700000kB, anon-rss:1593835kB, file-rss:6656kB, shmem-rss:0kB, UID:{uid} pgtables:3200kB oom_score_adj:0\n",
        seq + 1
    )
}

/// Appends `records` to the kernel log at `path`, as the kernel adds them.
pub fn append(path: &Path, records: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    file.write_all(records.as_bytes()).unwrap();
}

impl FakeProc {
    /// `vmstat` with the kernel's count of OOM kills. Written over in place, as the daemon
    /// keeps the file open.
    pub fn set_oom_kills(&self, count: u64) {
        let text = format!("nr_free_pages 250000\npgfault 123456\noom_kill {count:>12}\n");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(self.path().join("vmstat"))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// `sys/kernel/random/boot_id`: which boot the fake machine is in.
    pub fn set_boot_id(&self, id: &str) {
        let dir = self.path().join("sys/kernel/random");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("boot_id"), format!("{id}\n")).unwrap();
    }
}
