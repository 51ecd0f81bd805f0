//! The kills in the stream of the kernel's records: each `Killed process` record, with what the
//! records before it add: the `oom-kill:` summary of the same victim (its constraint and
//! cgroup) and, on Linux 4.19, whether the `Kill process … or sacrifice child` line before it
//! was a cgroup's.

use super::kmsg::parse_record;
use super::oom::{Killed, OomLine, Summary, parse_oom_line};

/// One kill, as the kernel's log tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KillRecord {
    pub seq: u64,
    /// On the kernel's clock: microseconds since boot.
    pub usec: u64,
    pub killed: Killed,
    /// The summary line of the same victim, when the kernel printed one (it is rate-limited).
    pub summary: Option<Summary>,
    /// A cgroup's limit was hit, as far as the records say.
    pub memcg: bool,
}

/// Follows the records one by one.
#[derive(Debug, Default)]
pub struct KillRecords {
    summary: Option<Summary>,
    /// Linux 4.19's `Memory cgroup out of memory: Kill process …` (or its system-wide twin)
    /// says which kind of kill the next `Killed process` record is.
    memcg_next: Option<bool>,
}

const MEMCG_KILL_LINE: &[u8] = b"Memory cgroup out of memory: Kill process ";
const GLOBAL_KILL_LINE: &[u8] = b"Out of memory: Kill process ";

impl KillRecords {
    pub fn new() -> KillRecords {
        KillRecords::default()
    }

    /// One record's first line, as `/dev/kmsg` gives it: the kill it reports, if it reports one.
    pub fn feed(&mut self, record: &[u8]) -> Option<KillRecord> {
        let record = parse_record(record).filter(|r| r.from_kernel())?;
        let text = record.text;
        if text.starts_with(MEMCG_KILL_LINE) {
            self.memcg_next = Some(true);
            return None;
        }
        if text.starts_with(GLOBAL_KILL_LINE) {
            self.memcg_next = Some(false);
            return None;
        }
        match parse_oom_line(text)? {
            OomLine::Summary(summary) => {
                self.summary = Some(summary);
                None
            }
            OomLine::Killed(killed) => {
                let summary = self.summary.take().filter(|s| s.pid == killed.pid);
                let memcg = match &summary {
                    Some(summary) => summary.constraint.as_slice() == b"CONSTRAINT_MEMCG",
                    None => killed.memcg || self.memcg_next.unwrap_or(false),
                };
                self.memcg_next = None;
                Some(KillRecord {
                    seq: record.seq,
                    usec: record.usec,
                    killed,
                    summary,
                    memcg,
                })
            }
            OomLine::Reaped { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kills(records: &[&str]) -> Vec<KillRecord> {
        let mut follow = KillRecords::new();
        records
            .iter()
            .filter_map(|r| follow.feed(r.as_bytes()))
            .collect()
    }

    #[test]
    fn a_summary_gives_its_victim_the_cgroup_and_user() {
        let found = kills(&[
            "6,1201,8182036000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/hog,task_memcg=/hog,task=tail,pid=18872,uid=0",
            "3,1202,8182036810,-;Memory cgroup out of memory: Killed process 18872 (tail) total-vm:68744kB, anon-rss:64000kB, file-rss:1000kB, shmem-rss:0kB, UID:0 pgtables:172kB oom_score_adj:0",
        ]);
        assert_eq!(found.len(), 1);
        let kill = &found[0];
        assert_eq!(
            (kill.seq, kill.usec, kill.memcg),
            (1202, 8_182_036_810, true)
        );
        assert_eq!(kill.killed.name, b"tail");
        let summary = kill.summary.as_ref().unwrap();
        assert_eq!(summary.oom_memcg.as_deref(), Some(&b"/hog"[..]));
    }

    /// The summary is rate-limited: one left over from an earlier kill names another victim.
    #[test]
    fn a_summary_of_another_victim_is_not_used() {
        let found = kills(&[
            "6,10,1000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a,task=x,pid=1,uid=0",
            "3,11,2000,-;Out of memory: Killed process 2 (y) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0",
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].summary, None);
        assert!(!found[0].memcg, "the Out of memory prefix says system-wide");
    }

    /// Linux 4.19: no prefix on the Killed line; the line before says which kind of kill.
    #[test]
    fn the_line_before_tells_a_4_19_cgroup_kill() {
        let found = kills(&[
            "3,500,100,-;Memory cgroup out of memory: Kill process 7 (hog) score 990 or sacrifice child",
            "3,501,101,-;Killed process 7 (hog) total-vm:70000kB, anon-rss:65000kB, file-rss:10kB, shmem-rss:0kB",
            "3,502,200,-;Out of memory: Kill process 8 (big) score 900 or sacrifice child",
            "3,503,201,-;Killed process 8 (big) total-vm:70000kB, anon-rss:65000kB, file-rss:10kB, shmem-rss:0kB",
        ]);
        let memcg: Vec<bool> = found.iter().map(|k| k.memcg).collect();
        assert_eq!(memcg, [true, false]);
    }

    /// User space may write to /dev/kmsg, but never as the kernel (facility 0).
    #[test]
    fn a_line_user_space_wrote_is_not_a_kill() {
        let found = kills(&[
            "11,600,300,-;Out of memory: Killed process 9 (fake) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0",
        ]);
        assert!(found.is_empty());
    }
}
