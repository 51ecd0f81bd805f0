//! The kernel's OOM kills, as the logs record them.

use chrono::{DateTime, FixedOffset};

/// A process the kernel's OOM killer killed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomKill {
    /// When the kernel killed it, by the wall clock.
    pub time: DateTime<FixedOffset>,
    pub pid: u32,
    /// Its name (`comm`), raw.
    pub name: Vec<u8>,
    pub user: KillUser,
    pub anon_rss_kib: u64,
    pub file_rss_kib: u64,
    pub shmem_rss_kib: u64,
    pub limit: Limit,
    /// Still in the kernel's log from before this daemon started.
    pub before_start: bool,
}

/// Whose process it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillUser {
    Named {
        uid: u32,
        name: Vec<u8>,
    },
    /// A uid without a passwd entry.
    Uid(u32),
    /// The kernel did not say (before Linux 5.4, with no summary line).
    Unknown,
}

/// What ran out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Limit {
    SystemWide,
    /// A cgroup's memory limit, with its path when the kernel gave it.
    Cgroup(Option<Vec<u8>>),
}

/// The kills of one minute beyond the ones written one by one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoreOomKills {
    /// When the last of them happened.
    pub time: DateTime<FixedOffset>,
    pub count: u64,
    /// How many of each name, most first.
    pub names: Vec<(Vec<u8>, u64)>,
    /// They happened before the daemon started.
    pub before_start: bool,
}

/// Kills counted from `/proc/vmstat` when their names could not be known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomKillsCounted {
    /// When they were counted.
    pub time: DateTime<FixedOffset>,
    pub count: u64,
    /// Why the kernel's log did not name them.
    pub why: String,
    /// Counted at start: they happened while the daemon was not running.
    pub before_start: bool,
}
