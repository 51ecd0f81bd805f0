//! The kills in the kernel's log as entries: the time the kernel killed each by the wall clock,
//! its user's name, what ran out. Shared by the daemon, which follows the log, and `snapshot`,
//! which shows the last minutes of it.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, TimeDelta};

use crate::parse::kills::KillRecord;
use crate::proc::UserNames;
use crate::report::{KillUser, Limit, OomKill};

/// The kernel's clock (CLOCK_MONOTONIC, on which its log's times are counted).
pub fn kernel_now() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// The wall-clock time of `at` on the kernel's clock.
pub fn wall_time_of(at: Duration) -> DateTime<FixedOffset> {
    let now = Local::now().fixed_offset();
    let ago = kernel_now().saturating_sub(at);
    TimeDelta::from_std(ago)
        .ok()
        .and_then(|ago| now.checked_sub_signed(ago))
        .unwrap_or(now)
}

/// When PID 1 started, in clock ticks since the kernel booted: with the kernel's boot id, it
/// tells one boot of a container from the next, where the kernel (and so its boot id, as a
/// service's sandbox sees it) stays the same.
pub fn init_start(proc_root: &Path) -> Option<u64> {
    crate::proc::start_ticks(&std::fs::read(proc_root.join("1/stat")).ok()?)
}

/// This boot's id, `<proc-root>/sys/kernel/random/boot_id`.
pub fn boot_id(proc_root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(proc_root.join("sys/kernel/random/boot_id")).ok()?;
    Some(text.trim().to_string()).filter(|id| !id.is_empty())
}

/// The entry of one kill: its time by the wall clock, its user's name, what ran out.
pub fn entry_of(kill: KillRecord, before_start: bool, users: &dyn UserNames) -> OomKill {
    let uid = kill
        .killed
        .uid
        .or_else(|| kill.summary.as_ref().map(|s| s.uid));
    let user = match uid {
        Some(uid) => match users.name_of(uid) {
            Some(name) => KillUser::Named { uid, name },
            None => KillUser::Uid(uid),
        },
        None => KillUser::Unknown,
    };
    let limit = if kill.memcg {
        Limit::Cgroup(kill.summary.and_then(|s| s.oom_memcg.or(s.task_memcg)))
    } else {
        Limit::SystemWide
    };
    OomKill {
        time: wall_time_of(Duration::from_micros(kill.usec)),
        pid: kill.killed.pid,
        name: kill.killed.name,
        user,
        anon_rss_kib: kill.killed.anon_rss_kib,
        file_rss_kib: kill.killed.file_rss_kib,
        shmem_rss_kib: kill.killed.shmem_rss_kib,
        limit,
        before_start,
    }
}
