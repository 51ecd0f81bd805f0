//! The OOM killer's lines in the kernel log, from 4.19 to 6.x, read from the text of a
//! [`kmsg`](super::kmsg) record (still escaped as `/dev/kmsg` gives it). The formats, from
//! mm/oom_kill.c and mm/memcontrol.c of each version:
//!
//! ```text
//! 4.19, 5.0  pr_err("%s: Kill process %d (%s) score %u or sacrifice child\n", message, ...)
//!            pr_err("Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\n", ...)
//! 5.1-5.3    pr_err("%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\n", message, ...)
//! 5.4-6.x    pr_err("%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB, UID:%u pgtables:%lukB oom_score_adj:%hd\n", ...)
//! 5.0-6.x    pr_info("oom-kill:constraint=%s,nodemask=%*pbl", ...) then pr_cont:
//!            ",cpuset=%s,mems_allowed=%*pbl" (CONFIG_CPUSETS), ",oom_memcg=PATH" or ",global_oom",
//!            ",task_memcg=PATH" (CONFIG_MEMCG), ",task=%s,pid=%d,uid=%d\n"
//! 4.19-6.x   pr_info("oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\n", ...)
//! ```
//!
//! `message` is "Out of memory", "Memory cgroup out of memory" or "Out of memory
//! (oom_kill_allocating_task)". 4.19 has no `oom-kill:` summary; its memcg kills say "Task in
//! PATH killed as a result of limit of PATH" instead, and its "Killed process" line has no
//! prefix, so [`Killed::memcg`] is false there: only the "Kill process ... or sacrifice child"
//! line before it (which names the chosen task, not always the one killed, and is not parsed
//! here) tells a memcg kill. Early 5.4 releases printed pgtables in bytes with a `kB` suffix
//! (fixed in 5.5 and 5.4.x stable, "mm/oom: fix pgtables units mismatch"); nothing in the line
//! tells which.
//!
//! What is counted: each "Killed process" line is printed right after `count_vm_event(OOM_KILL)`
//! in `__oom_kill_process`, so one line is one increment of `/proc/vmstat`'s `oom_kill` (and of
//! the memcg's). It is never rate-limited. The `oom-kill:` summary is printed with the report
//! (`dump_header`) under a ratelimit of 10 per 5 s, so in a storm of kills it is missing for most
//! of them, and it can be split over two records when another CPU prints in between its pr_cont
//! pieces. A victim that is already exiting is not killed and not counted: when the chosen task
//! will free its memory anyway (`task_will_free_mem`), every version returns silently, before
//! the report; when it has no mm left, 4.19 returns silently, and later kernels (5.10 and 6.x do)
//! print "MESSAGE: OOM victim PID (NAME) is already exiting. Skip killing the task" at info
//! level, which is not a kill and is not parsed here. Killing a memory.oom.group cgroup prints one "Killed process"
//! line, and counts one kill, per member.
//!
//! Names are hostile: a comm is up to 15 bytes (more is proposed), set by any process to any
//! bytes, and the kernel prints it raw between `(` and `)` (escaped only by /dev/kmsg). A Killed
//! line is therefore read from both ends: the pid from the left, then the name up to the *last*
//! `) total-vm:`, after which only numbers the kernel formatted can follow. A summary's pid and
//! uid are read from the right (after the last `,pid=` only digits and `,uid=` follow), and its
//! task name from the first `,task=`: right for any comm, but wrong if a cgroup or cpuset name
//! holds `,task=` (cgroup names are chosen by root or a delegated manager, not by any process).
//!
//! Callers should take lines only from records that
//! [`from_kernel`](super::kmsg::KmsgRecord::from_kernel) accepts: user space can write these
//! words to /dev/kmsg too.

use super::kmsg::unescape;
use crate::text::number::parse_u64;

/// One OOM-killer line, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OomLine {
    /// A process the OOM killer killed: one per increment of /proc/vmstat's oom_kill.
    Killed(Killed),
    /// The `oom-kill:` summary that precedes it (rate-limited by the kernel, so it may be missing).
    Summary(Summary),
    /// `oom_reaper: reaped process …`: memory given back after a kill; not a kill.
    Reaped { pid: u32 },
}

/// A "Killed process" line. Sizes are in KiB, as the kernel printed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Killed {
    pub pid: u32,
    /// The raw comm, \xNN undone; may hold `)`, spaces, any byte.
    pub name: Vec<u8>,
    /// "Memory cgroup out of memory" prefix (5.1+); false for 4.19's bare line.
    pub memcg: bool,
    pub total_vm_kib: u64,
    pub anon_rss_kib: u64,
    pub file_rss_kib: u64,
    pub shmem_rss_kib: u64,
    /// 5.4 and later.
    pub uid: Option<u32>,
    /// 5.4 and later (in bytes, not KiB, on early 5.4 releases).
    pub pgtables_kib: Option<u64>,
    /// 5.4 and later.
    pub oom_score_adj: Option<i16>,
}

/// The `oom-kill:` summary of one kill (5.0 and later). Text is raw, \xNN undone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// e.g. b"CONSTRAINT_NONE", b"CONSTRAINT_MEMCG".
    pub constraint: Vec<u8>,
    /// The cgroup whose limit was hit; `None` for a global OOM (`global_oom`).
    pub oom_memcg: Option<Vec<u8>>,
    /// The victim's memory cgroup; `None` on a kernel without CONFIG_MEMCG.
    pub task_memcg: Option<Vec<u8>>,
    /// The victim's raw comm.
    pub task: Vec<u8>,
    pub pid: u32,
    pub uid: u32,
}

/// The prefixes of a "Killed process" line, and whether each is a memcg kill.
const KILLED: [(&[u8], bool); 4] = [
    (b"Killed process ", false),
    (b"Out of memory: Killed process ", false),
    (
        b"Out of memory (oom_kill_allocating_task): Killed process ",
        false,
    ),
    (b"Memory cgroup out of memory: Killed process ", true),
];

/// Reads one OOM-killer line from a record's text (`KmsgRecord::text`, still escaped); `None`
/// for any other line, and for one that starts like these but does not follow the format.
pub fn parse_oom_line(text: &[u8]) -> Option<OomLine> {
    if let Some(rest) = text.strip_prefix(b"oom-kill:") {
        return parse_summary(rest).map(OomLine::Summary);
    }
    if let Some(rest) = text.strip_prefix(b"oom_reaper: reaped process ") {
        let (pid, _name, _sizes) = pid_and_name(rest, b"), now anon-rss:")?;
        return Some(OomLine::Reaped { pid });
    }
    parse_killed(text).map(OomLine::Killed)
}

fn parse_killed(text: &[u8]) -> Option<Killed> {
    let (rest, memcg) = KILLED
        .iter()
        .find_map(|&(prefix, memcg)| Some((text.strip_prefix(prefix)?, memcg)))?;
    let (pid, name, tail) = pid_and_name(rest, b") total-vm:")?;

    let (total_vm_kib, t) = kib(tail)?;
    let (anon_rss_kib, t) = kib(t.strip_prefix(b", anon-rss:")?)?;
    let (file_rss_kib, t) = kib(t.strip_prefix(b", file-rss:")?)?;
    let (shmem_rss_kib, t) = kib(t.strip_prefix(b", shmem-rss:")?)?;
    let (uid, t) = match t.strip_prefix(b", UID:") {
        Some(t) => {
            let (uid, t) = number(t)?;
            (Some(u32::try_from(uid).ok()?), t)
        }
        None => (None, t),
    };
    let (pgtables_kib, oom_score_adj, t) = match t.strip_prefix(b" pgtables:") {
        Some(t) => {
            let (pgtables, t) = kib(t)?;
            let (adj, t) = signed(t.strip_prefix(b" oom_score_adj:")?)?;
            (Some(pgtables), Some(i16::try_from(adj).ok()?), t)
        }
        None => (None, None, t),
    };
    if !t.is_empty() {
        return None;
    }
    Some(Killed {
        pid,
        name,
        memcg,
        total_vm_kib,
        anon_rss_kib,
        file_rss_kib,
        shmem_rss_kib,
        uid,
        pgtables_kib,
        oom_score_adj,
    })
}

/// `PID (NAME` then `close`, NAME running to the last `close`: the pid, the raw name, and what
/// follows `close`.
fn pid_and_name<'a>(rest: &'a [u8], close: &[u8]) -> Option<(u32, Vec<u8>, &'a [u8])> {
    let open = find(rest, b" (")?;
    let pid = u32::try_from(parse_u64(rest.get(..open)?)?).ok()?;
    let end = rfind(rest, close)?;
    let name = rest.get(open + 2..end)?;
    Some((pid, unescape(name), rest.get(end + close.len()..)?))
}

fn parse_summary(rest: &[u8]) -> Option<Summary> {
    let rest = rest.strip_prefix(b"constraint=")?;
    let constraint = rest.get(..rest.iter().position(|&b| b == b',')?)?;
    if constraint.is_empty() {
        return None;
    }

    let uid_at = rfind(rest, b",uid=")?;
    let uid = parse_uid(rest.get(uid_at + b",uid=".len()..)?)?;
    let head = rest.get(..uid_at)?;
    let pid_at = rfind(head, b",pid=")?;
    let pid = u32::try_from(parse_u64(head.get(pid_at + b",pid=".len()..)?)?).ok()?;
    let head = head.get(..pid_at)?;

    let task_at = find(head, b",task=")?;
    let task = unescape(head.get(task_at + b",task=".len()..)?);
    let context = head.get(..task_at)?;

    let task_memcg_at = find(context, b",task_memcg=");
    let task_memcg = match task_memcg_at {
        Some(at) => Some(unescape(context.get(at + b",task_memcg=".len()..)?)),
        None => None,
    };
    let before_task_memcg = context.get(..task_memcg_at.unwrap_or(context.len()))?;
    let oom_memcg = match find(before_task_memcg, b",oom_memcg=") {
        Some(at) => Some(unescape(
            before_task_memcg.get(at + b",oom_memcg=".len()..)?,
        )),
        None => None,
    };
    Some(Summary {
        constraint: unescape(constraint),
        oom_memcg,
        task_memcg,
        task,
        pid,
        uid,
    })
}

/// The uid as `%d` printed it: a uid of 2^31 or more comes out negative.
fn parse_uid(digits: &[u8]) -> Option<u32> {
    match digits.strip_prefix(b"-") {
        Some(magnitude) => {
            let negative = i32::try_from(-i64::try_from(parse_u64(magnitude)?).ok()?).ok()?;
            Some(negative.cast_unsigned())
        }
        None => u32::try_from(parse_u64(digits)?).ok(),
    }
}

/// Leading digits and the rest.
fn number(text: &[u8]) -> Option<(u64, &[u8])> {
    let end = text
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    Some((parse_u64(text.get(..end)?)?, text.get(end..)?))
}

/// Leading digits followed by `kB`, and the rest.
fn kib(text: &[u8]) -> Option<(u64, &[u8])> {
    let (value, rest) = number(text)?;
    Some((value, rest.strip_prefix(b"kB")?))
}

/// A number that may start with `-`, and the rest.
fn signed(text: &[u8]) -> Option<(i64, &[u8])> {
    match text.strip_prefix(b"-") {
        Some(t) => {
            let (magnitude, rest) = number(t)?;
            Some((-i64::try_from(magnitude).ok()?, rest))
        }
        None => {
            let (value, rest) = number(text)?;
            Some((i64::try_from(value).ok()?, rest))
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests;
