//! Following the kernel's OOM kills: every record of one in the kernel's log becomes an entry
//! (at most ten a minute, then one that counts the rest), the first of each minute asks for a
//! report, and a restart never writes a kill twice. Without the kernel's log the kills are
//! counted from `/proc/vmstat`, without names.

use std::io;
use std::path::Path;
use std::time::Duration;

use chrono::Local;

use super::state::KillsRecorded;
use crate::capture::{entry_of, kernel_now, wall_time_of};
use crate::decide::{KillDecision, Kills, MoreKills};
use crate::parse::kills::{KillRecord, KillRecords};
use crate::proc::UserNames;
use crate::report::{Entry, MoreOomKills, OomKillsCounted};
use crate::sample::{KernelLog, VmstatReader};
use crate::say;
use crate::text::escape::escape_path;

/// Why the kills are only counted.
enum Source {
    Log(KernelLog),
    Counted { why: String },
}

/// What a tick found: entries to write, in order, and whether a report should follow them.
#[derive(Debug, Default)]
pub struct KillNews {
    pub entries: Vec<Entry>,
    pub report: bool,
}

pub struct KillWatch {
    source: Source,
    vmstat: Option<VmstatReader>,
    records: KillRecords,
    kills: Kills,
    /// What the state file remembers of the kills written.
    recorded: KillsRecorded,
    /// The kernel's clock when the daemon started: kills before it are from before the start.
    started: Duration,
    /// The kernel's count when the daemon started, and the kills since then that entries
    /// account for: they must add up to the count.
    counted_at_start: Option<u64>,
    accounted: u64,
    /// The kernel's log lost records: compare with the count once the kills have stopped.
    check_count: bool,
    /// The state holds kills not yet saved.
    unsaved: bool,
}

impl KillWatch {
    /// Opens the kernel's log (or falls back to the count) and writes down the kills it holds
    /// that no earlier run recorded. Says on stderr, once, where the kills come from. `started`
    /// is the kernel's clock when the daemon said it started: a kill after that is no longer
    /// "before memory-monitor started".
    pub fn start(
        started: Duration,
        kernel_log: Option<&Path>,
        proc_root: &Path,
        recorded: KillsRecorded,
        users: &dyn UserNames,
    ) -> (KillWatch, KillNews) {
        let mut vmstat = VmstatReader::open(proc_root).ok();
        let counted_at_start = vmstat.as_mut().and_then(|v| v.oom_kills().ok().flatten());
        let source = match kernel_log {
            None => Source::Counted {
                why: "the kernel's log is not read (--kernel-log off)".into(),
            },
            Some(path) => match KernelLog::open(path) {
                Ok(log) => Source::Log(log),
                Err(e) => Source::Counted {
                    why: cannot_read(path, &e),
                },
            },
        };
        match (&source, counted_at_start) {
            (Source::Log(log), _) => say!(
                Info,
                "memory-monitor: OOM kills are read from {}",
                escape_path(log.path())
            ),
            (Source::Counted { why }, Some(_)) => say!(
                Warning,
                "memory-monitor: OOM kills are counted from {} without their names: {why}",
                escape_path(&proc_root.join("vmstat"))
            ),
            (Source::Counted { why }, None) => say!(
                Warning,
                "memory-monitor: OOM kills are not followed: {why}, and {} has no oom_kill count (Linux 4.13 and later have one)",
                escape_path(&proc_root.join("vmstat"))
            ),
        }
        let mut watch = KillWatch {
            source,
            vmstat,
            records: KillRecords::new(),
            kills: Kills::new(),
            recorded,
            started,
            counted_at_start,
            accounted: 0,
            check_count: false,
            unsaved: false,
        };
        let news = watch.catch_up(users);
        (watch, news)
    }

    /// At start: the kills of this boot that happened while no daemon recorded them.
    fn catch_up(&mut self, users: &dyn UserNames) -> KillNews {
        match &self.source {
            Source::Log(_) => {
                let mut news = self.tick(users);
                if let Some(more) = self.kills.end_catch_up() {
                    news.entries.push(more_entry(more));
                }
                news
            }
            Source::Counted { why } => {
                let mut news = KillNews::default();
                let (Some(now), previous) =
                    (self.counted_at_start, self.recorded.oom_kills_counted)
                else {
                    return news;
                };
                let missed = now.saturating_sub(previous.unwrap_or(0));
                if missed > 0 {
                    news.entries.push(Entry::OomKillsCounted(OomKillsCounted {
                        time: Local::now().fixed_offset(),
                        count: missed,
                        why: why.clone(),
                        before_start: true,
                    }));
                    self.recorded.oom_kills_counted = Some(now);
                    self.unsaved = true;
                }
                news
            }
        }
    }

    /// One tick: the kills since the last. Allocates nothing when there were none.
    pub fn tick(&mut self, users: &dyn UserNames) -> KillNews {
        let now = kernel_now();
        let mut news = KillNews::default();
        match &mut self.source {
            Source::Log(log) => {
                let mut found: Vec<KillRecord> = Vec::new();
                let last_seq = self.recorded.last_kill_seq;
                let records = &mut self.records;
                let read = log.read(|line| {
                    if let Some(kill) = records.feed(line)
                        && last_seq.is_none_or(|last| kill.seq > last)
                    {
                        found.push(kill);
                    }
                });
                match read {
                    Ok(read) => self.check_count |= read.lost,
                    Err(e) => say!(
                        Warning,
                        "memory-monitor: cannot read {}: {e}; OOM kills may be missed",
                        escape_path(log.path())
                    ),
                }
                let quiet = found.is_empty();
                for kill in found {
                    self.record(kill, users, &mut news);
                }
                if let Some(more) = self.kills.tick(now) {
                    news.entries.push(more_entry(more));
                }
                if quiet && self.check_count {
                    self.check_count = false;
                    self.account_for_lost(now, &mut news);
                }
            }
            Source::Counted { why } => {
                let why = why.clone();
                let count = self
                    .vmstat
                    .as_mut()
                    .and_then(|v| v.oom_kills().ok().flatten());
                let before = self.recorded.oom_kills_counted.or(self.counted_at_start);
                if let (Some(count), Some(before)) = (count, before)
                    && count > before
                {
                    let (ended, report) = self.kills.counted(now, false);
                    news.report |= report;
                    news.entries.extend(ended.map(more_entry));
                    news.entries.push(Entry::OomKillsCounted(OomKillsCounted {
                        time: Local::now().fixed_offset(),
                        count: count - before,
                        why,
                        before_start: false,
                    }));
                    self.recorded.oom_kills_counted = Some(count);
                }
            }
        }
        if !news.entries.is_empty() {
            if let Source::Log(_) = self.source {
                self.recorded.oom_kills_counted = self
                    .vmstat
                    .as_mut()
                    .and_then(|v| v.oom_kills().ok().flatten());
            }
            self.unsaved = true;
        }
        news
    }

    fn record(&mut self, kill: KillRecord, users: &dyn UserNames, news: &mut KillNews) {
        let at = Duration::from_micros(kill.usec);
        let before_start = at < self.started;
        self.recorded.last_kill_seq = Some(kill.seq);
        if !before_start {
            self.accounted += 1;
        }
        let (ended, decision) = self.kills.kill(at, &kill.killed.name, before_start);
        if let Some(more) = ended {
            news.entries.push(more_entry(more));
        }
        if let KillDecision::Write { report } = decision {
            news.report |= report;
            news.entries
                .push(Entry::OomKill(entry_of(kill, before_start, users)));
        }
    }

    /// After records were lost: the kills the kernel counted since the start that no entry
    /// accounts for, in one entry.
    fn account_for_lost(&mut self, now: Duration, news: &mut KillNews) {
        let count = self
            .vmstat
            .as_mut()
            .and_then(|v| v.oom_kills().ok().flatten());
        let (Some(count), Some(at_start)) = (count, self.counted_at_start) else {
            return;
        };
        let missing = count
            .saturating_sub(at_start)
            .saturating_sub(self.accounted);
        if missing == 0 {
            return;
        }
        self.accounted += missing;
        let (ended, report) = self.kills.counted(now, false);
        news.report |= report;
        news.entries.extend(ended.map(more_entry));
        news.entries.push(Entry::OomKillsCounted(OomKillsCounted {
            time: Local::now().fixed_offset(),
            count: missing,
            why: "the kernel's log overwrote their records before they could be read".into(),
            before_start: false,
        }));
    }

    /// Once the entries of the last tick are written: what to remember of the kills they
    /// recorded, if anything changed. Not before, so that a daemon that dies in between writes
    /// them again rather than never.
    pub fn entries_written(&mut self) -> Option<KillsRecorded> {
        std::mem::take(&mut self.unsaved).then_some(self.recorded)
    }
}

fn cannot_read(path: &Path, e: &io::Error) -> String {
    let why = format!("cannot read {}: {e}", escape_path(path));
    if e.kind() == io::ErrorKind::PermissionDenied {
        format!("{why} (it needs CAP_SYSLOG while kernel.dmesg_restrict is 1)")
    } else {
        why
    }
}

fn more_entry(more: MoreKills) -> Entry {
    Entry::MoreOomKills(MoreOomKills {
        time: wall_time_of(more.at),
        count: more.count,
        names: more.names,
        before_start: more.before_start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    struct NoNames;
    impl UserNames for NoNames {
        fn name_of(&self, _uid: u32) -> Option<Vec<u8>> {
            None
        }
    }

    fn kill_record(seq: u64, usec: u64, pid: u32) -> String {
        format!(
            "3,{seq},{usec},-;Out of memory: Killed process {pid} (hog) total-vm:1000kB, anon-rss:900kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:64kB oom_score_adj:0\n"
        )
    }

    /// Records the kernel overwrote before they were read (a read that got `EPIPE`): the kills
    /// its count holds beyond the entries are written as one counted entry once the kills have
    /// stopped, and never again.
    #[test]
    fn kills_whose_records_were_lost_are_made_up_from_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let proc_root = dir.path().join("proc");
        std::fs::create_dir(&proc_root).unwrap();
        let vmstat = proc_root.join("vmstat");
        std::fs::write(&vmstat, "oom_kill 10\n").unwrap();
        let kmsg = dir.path().join("kmsg");
        std::fs::write(&kmsg, "").unwrap();
        let started = kernel_now();
        let (mut watch, news) = KillWatch::start(
            started,
            Some(&kmsg),
            &proc_root,
            KillsRecorded::default(),
            &NoNames,
        );
        assert!(news.entries.is_empty());

        // Two kills read; the kernel counted seven.
        let usec = u64::try_from(started.as_micros()).unwrap() + 1;
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .open(&kmsg)
            .unwrap();
        log.write_all((kill_record(1, usec, 41) + &kill_record(2, usec + 1, 42)).as_bytes())
            .unwrap();
        std::fs::write(&vmstat, "oom_kill 17\n").unwrap();
        watch.check_count = true;
        let news = watch.tick(&NoNames);
        assert_eq!(news.entries.len(), 2, "the kills first: {:?}", news.entries);
        assert!(news.report);

        let news = watch.tick(&NoNames);
        match news.entries.as_slice() {
            [Entry::OomKillsCounted(counted)] => {
                assert_eq!(counted.count, 5);
                assert_eq!(
                    counted.why,
                    "the kernel's log overwrote their records before they could be read"
                );
                assert!(!counted.before_start);
            }
            other => panic!("{other:?}"),
        }
        assert!(!news.report, "the minute already had its report");
        assert!(watch.tick(&NoNames).entries.is_empty());
        // Records lost again, but no kill the count holds is missing now.
        watch.check_count = true;
        assert!(watch.tick(&NoNames).entries.is_empty(), "never twice");
    }
}
