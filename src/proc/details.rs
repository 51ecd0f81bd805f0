//! Details of one process from `<proc-root>/PID/{status,stat,cmdline,comm,cwd}`. Every value is
//! read on its own, so one that cannot be read says why instead of hiding the others.

use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::proc::users::{UserNames, status_field};
use crate::text::escape::escape;

/// Reads a /proc file whole. Their size shows as 0, so `std::fs::read` would start small and
/// grow its buffer read by read, a reallocation each time; musl's malloc serves a page-sized
/// buffer from a fresh mapping. Read on the stack first, the result is one allocation of its
/// own size, and nearly always one read.
pub fn read_proc_file(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut first = [0u8; 4096];
    let mut filled = 0;
    while let Some(room) = first.get_mut(filled..).filter(|room| !room.is_empty()) {
        match file.read(room) {
            Ok(0) => return Ok(first.get(..filled).unwrap_or_default().to_vec()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut bytes = first.to_vec();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    Ended,
    PermissionDenied,
    /// The file was read but holds no such value (kernel threads have no VmRSS or cmdline).
    NotReported(&'static str),
    Other(String),
}

impl Unavailable {
    fn from_io(e: &io::Error) -> Unavailable {
        match e.kind() {
            io::ErrorKind::NotFound => Unavailable::Ended,
            io::ErrorKind::PermissionDenied => Unavailable::PermissionDenied,
            // Reading a /proc/PID file after the process died gives ESRCH.
            _ if e.raw_os_error() == Some(libc::ESRCH) => Unavailable::Ended,
            _ => Unavailable::Other(escape(e.to_string().as_bytes())),
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::Ended => write!(f, "process ended"),
            Unavailable::PermissionDenied => write!(f, "permission denied"),
            Unavailable::NotReported(what) => write!(f, "{what}"),
            Unavailable::Other(text) => write!(f, "{text}"),
        }
    }
}

pub type Value<T> = Result<T, Unavailable>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    /// Escaped; `None` when the passwd database has no entry.
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    pub pid: u32,
    pub name: Value<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcDetails {
    pub pid: u32,
    pub name: Value<String>,
    pub user: Value<User>,
    pub command: Value<String>,
    /// Since the process started, by the kernel's boot clock (immune to wall-clock jumps).
    pub running_for: Value<Duration>,
    pub rss_kib: Value<u64>,
    pub peak_rss_kib: Value<u64>,
    pub vsz_kib: Value<u64>,
    pub swap_kib: Value<u64>,
    pub threads: Value<u64>,
    pub state: Value<String>,
    pub parent: Value<Parent>,
    pub cwd: Value<String>,
}

/// Where to read, and the few facts about the machine the readings need.
pub struct ProcSource<'a> {
    proc_root: &'a Path,
    users: &'a dyn UserNames,
    /// Clock ticks per second, the unit of `stat`'s start time.
    clock_ticks: u64,
    /// `/proc/uptime`, read once for all the processes of one report.
    uptime: OnceCell<Result<Vec<u8>, Unavailable>>,
    /// Names already looked up in this report, escaped: the biggest processes often share a
    /// user, and each lookup reads the passwd database anew.
    user_names: RefCell<Vec<(u32, Option<String>)>>,
    /// Process names already read in this report: services share a parent (init, say).
    process_names: RefCell<Vec<(u32, Value<String>)>>,
}

impl<'a> ProcSource<'a> {
    pub fn new(proc_root: &'a Path, users: &'a dyn UserNames, clock_ticks: u64) -> ProcSource<'a> {
        ProcSource {
            proc_root,
            users,
            clock_ticks,
            uptime: OnceCell::new(),
            user_names: RefCell::new(Vec::new()),
            process_names: RefCell::new(Vec::new()),
        }
    }

    pub fn read(&self, pid: u32) -> ProcDetails {
        let dir = self.proc_root.join(pid.to_string());
        let status = match read_proc_file(&dir.join("status")) {
            Ok(status) => parse_status(&status),
            Err(e) => StatusFields::unavailable(Unavailable::from_io(&e)),
        };
        // From `comm`, raw, not status's `Name:`, which the kernel writes with its own escapes
        // (`\n`, backslashes doubled): the name then reads as the parent's does, escaped once.
        let name = self.name_of(pid);
        ProcDetails {
            pid,
            user: status.uid.map(|uid| User {
                uid,
                name: self.user_name(uid),
            }),
            command: self.command(&dir, &name),
            name,
            running_for: self.running_for(&dir),
            rss_kib: status.rss_kib,
            peak_rss_kib: status.peak_rss_kib,
            vsz_kib: status.vsz_kib,
            swap_kib: status.swap_kib,
            threads: status.threads,
            state: status.state,
            parent: status.ppid.map(|ppid| Parent {
                pid: ppid,
                name: self.name_of(ppid),
            }),
            cwd: std::fs::read_link(dir.join("cwd"))
                .map(|p| crate::text::escape::escape_path(&p))
                .map_err(|e| Unavailable::from_io(&e)),
        }
    }

    /// The arguments joined by blanks, as ps shows them. Kernel threads and zombies have none;
    /// like ps, show their name in brackets then.
    fn command(&self, dir: &Path, name: &Value<String>) -> Value<String> {
        let raw = read_proc_file(&dir.join("cmdline")).map_err(|e| Unavailable::from_io(&e))?;
        let args = raw.strip_suffix(b"\0").unwrap_or(&raw);
        if args.is_empty() {
            return match name {
                Ok(name) => Ok(format!("[{name}]")),
                Err(_) => Err(Unavailable::NotReported("empty (kernel thread or zombie)")),
            };
        }
        let joined: Vec<u8> = args
            .iter()
            .map(|&b| if b == 0 { b' ' } else { b })
            .collect();
        Ok(escape(&joined))
    }

    fn running_for(&self, dir: &Path) -> Value<Duration> {
        let stat = read_proc_file(&dir.join("stat")).map_err(|e| Unavailable::from_io(&e))?;
        let uptime = self
            .uptime
            .get_or_init(|| {
                read_proc_file(&self.proc_root.join("uptime")).map_err(|e| Unavailable::from_io(&e))
            })
            .as_ref()
            .map_err(Unavailable::clone)?;
        running_time(&stat, uptime, self.clock_ticks)
    }

    fn user_name(&self, uid: u32) -> Option<String> {
        remembered(&self.user_names, uid, || {
            self.users.name_of(uid).map(|n| escape(&n))
        })
    }

    fn name_of(&self, pid: u32) -> Value<String> {
        remembered(&self.process_names, pid, || self.read_name(pid))
    }

    fn read_name(&self, pid: u32) -> Value<String> {
        let path: PathBuf = self.proc_root.join(pid.to_string()).join("comm");
        match read_proc_file(&path) {
            Ok(comm) => Ok(escape(comm.strip_suffix(b"\n").unwrap_or(&comm))),
            // PID 0 is the kernel's idle task, parent of init and kthreadd; it has no directory.
            Err(_) if pid == 0 => Ok("kernel".into()),
            Err(e) => Err(Unavailable::from_io(&e)),
        }
    }
}

/// What `look_up` gave for `id` the first time it was asked in this report.
fn remembered<T: Clone>(known: &RefCell<Vec<(u32, T)>>, id: u32, look_up: impl FnOnce() -> T) -> T {
    if let Some((_, value)) = known.borrow().iter().find(|(known_id, _)| *known_id == id) {
        return value.clone();
    }
    let value = look_up();
    known.borrow_mut().push((id, value.clone()));
    value
}

/// The values of `/proc/PID/status` the details show, each read on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusFields {
    /// The real uid, first of the four on the `Uid:` line.
    pub uid: Value<u32>,
    pub rss_kib: Value<u64>,
    pub peak_rss_kib: Value<u64>,
    pub vsz_kib: Value<u64>,
    pub swap_kib: Value<u64>,
    pub threads: Value<u64>,
    /// Escaped.
    pub state: Value<String>,
    pub ppid: Value<u32>,
}

impl StatusFields {
    /// Every value unavailable for the one reason that the file could not be read.
    fn unavailable(why: Unavailable) -> StatusFields {
        StatusFields {
            uid: Err(why.clone()),
            rss_kib: Err(why.clone()),
            peak_rss_kib: Err(why.clone()),
            vsz_kib: Err(why.clone()),
            swap_kib: Err(why.clone()),
            threads: Err(why.clone()),
            state: Err(why.clone()),
            ppid: Err(why),
        }
    }
}

/// Parses the bytes of a `/proc/PID/status` file; separate from reading it so that the parser
/// the daemon runs is the one the tests and the fuzzer feed hostile bytes.
pub fn parse_status(status: &[u8]) -> StatusFields {
    let field = |name: &'static str, missing: &'static str| -> Value<&[u8]> {
        status_field(status, name.as_bytes()).ok_or(Unavailable::NotReported(missing))
    };
    let kib = |name: &'static str, missing| field(name, missing).and_then(|v| parse_kib(v, name));
    const NO_VM: &str = "not reported (kernel thread or zombie)";
    StatusFields {
        uid: status_uid(status),
        rss_kib: kib("VmRSS", NO_VM),
        peak_rss_kib: kib("VmHWM", NO_VM),
        vsz_kib: kib("VmSize", NO_VM),
        swap_kib: kib(
            "VmSwap",
            "not reported (kernel thread, zombie, or kernel without VmSwap)",
        ),
        threads: field("Threads", "no Threads in status").and_then(|v| parse_number(v, "Threads")),
        state: field("State", "no State in status").map(escape),
        ppid: field("PPid", "no PPid in status")
            .and_then(|v| parse_number(v, "PPid"))
            .and_then(|ppid| {
                u32::try_from(ppid).map_err(|_| Unavailable::Other("PPid out of range".into()))
            }),
    }
}

/// The real uid from the bytes of a `/proc/PID/status` file.
pub fn status_uid(status: &[u8]) -> Value<u32> {
    let line = status_field(status, b"Uid").ok_or(Unavailable::NotReported("no Uid in status"))?;
    first_word(line)
        .and_then(|w| std::str::from_utf8(w).ok()?.parse().ok())
        .ok_or_else(|| Unavailable::Other(format!("unreadable Uid line `{}`", escape(line))))
}

/// How long a process has run, from the bytes of its `/proc/PID/stat` and of `/proc/uptime`
/// (both on the boot clock, so wall-clock jumps do not matter) and the clock ticks per second
/// `stat` counts in. Pure, so that the parser the daemon runs is the one that is fuzzed.
pub fn running_time(stat: &[u8], uptime: &[u8], clock_ticks: u64) -> Value<Duration> {
    let start_ticks =
        start_ticks(stat).ok_or_else(|| Unavailable::Other("unreadable stat".into()))?;
    let uptime =
        uptime_seconds(uptime).ok_or_else(|| Unavailable::Other("unreadable uptime".into()))?;
    Ok(uptime.saturating_sub(ticks_to_duration(start_ticks, clock_ticks)))
}

/// The clock ticks per second `stat` counts in.
pub fn system_clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
}

fn first_word(v: &[u8]) -> Option<&[u8]> {
    v.split(|b| b.is_ascii_whitespace()).find(|w| !w.is_empty())
}

fn parse_number(v: &[u8], what: &str) -> Value<u64> {
    first_word(v)
        .and_then(|w| std::str::from_utf8(w).ok()?.parse().ok())
        .ok_or_else(|| Unavailable::Other(format!("unreadable {what} `{}`", escape(v))))
}

/// `12345 kB` → 12345.
fn parse_kib(v: &[u8], what: &str) -> Value<u64> {
    let mut words = v
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    match (words.next(), words.next()) {
        (Some(n), Some(b"kB")) => parse_number(n, what),
        _ => Err(Unavailable::Other(format!(
            "unreadable {what} `{}`",
            escape(v)
        ))),
    }
}

/// Field 22 of `stat`, counted after the last `)` because the name in parentheses may itself hold
/// blanks and parentheses.
fn start_ticks(stat: &[u8]) -> Option<u64> {
    let after_name = stat.get(stat.iter().rposition(|&b| b == b')')? + 1..)?;
    let field = after_name
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .nth(22 - 3)?;
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// Clock ticks as a duration, in integers: a float conversion panics on absurd values, and
/// `stat` is read from outside.
fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    let per_second = per_second.max(1);
    let sub_second =
        (u128::from(ticks % per_second) * 1_000_000_000 / u128::from(per_second)) as u32;
    Duration::new(ticks / per_second, sub_second)
}

/// The first figure of `/proc/uptime`.
fn uptime_seconds(text: &[u8]) -> Option<Duration> {
    let seconds: f64 = std::str::from_utf8(first_word(text)?).ok()?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e12)))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoUsers;
    impl UserNames for NoUsers {
        fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
            (uid == 0).then(|| b"root".to_vec())
        }
    }

    #[test]
    fn start_ticks_survive_hostile_names() {
        let stat =
            b"42 (a) b) S (c) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 123456 1000 50";
        assert_eq!(start_ticks(stat), Some(123_456));
        assert_eq!(start_ticks(b"42 (x"), None);
        assert_eq!(start_ticks(b""), None);
    }

    #[test]
    fn status_values_are_read_each_on_its_own() {
        let s = parse_status(
            b"Name:\tevil\x1bname\nState:\tS (sleeping)\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\n\
              VmHWM:\t  9000 kB\nVmRSS:\t  5120 kB\nVmSwap:\t12 MB\nThreads:\t3\n",
        );
        assert_eq!(s.state, Ok("S (sleeping)".into()));
        assert_eq!((s.uid, s.ppid), (Ok(1000), Ok(1)));
        assert_eq!((s.rss_kib, s.peak_rss_kib), (Ok(5120), Ok(9000)));
        assert_eq!(s.threads, Ok(3));
        assert!(matches!(s.vsz_kib, Err(Unavailable::NotReported(_))));
        assert_eq!(
            s.swap_kib,
            Err(Unavailable::Other("unreadable VmSwap `12 MB`".into()))
        );
        let s = parse_status(b"PPid:\t4294967296\nUid:\tx\n");
        assert_eq!(s.ppid, Err(Unavailable::Other("PPid out of range".into())));
        assert_eq!(
            s.uid,
            Err(Unavailable::Other("unreadable Uid line `x`".into()))
        );
    }

    #[test]
    fn running_time_is_uptime_less_the_start() {
        let stat = b"42 (a) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 12345 1000 50";
        assert_eq!(
            running_time(stat, b"200.50 10.00\n", 100),
            Ok(Duration::from_millis(200_500 - 123_450))
        );
        // A start after the uptime (a clock_ticks mismatch) is no time, not a panic.
        assert_eq!(running_time(stat, b"1.0 1.0", 100), Ok(Duration::ZERO));
        assert!(running_time(b"42 (a)", b"1.0 1.0", 100).is_err());
        assert!(running_time(stat, b"soon", 100).is_err());
    }

    #[test]
    fn start_times_uptimes_and_sizes_past_32_bits() {
        // A 32-bit Pi up 600 days; a process started 500 days after boot is 4.32e9 ticks of
        // 100 Hz into it, past u32::MAX, and has nearly 4 GiB of address space.
        let stat = b"4242 (chromium) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 \
                     4320000000 4294963200 349525";
        assert_eq!(start_ticks(stat), Some(4_320_000_000));
        assert_eq!(
            running_time(stat, b"51840000.50 203450000.25\n", 100),
            Ok(Duration::from_millis(8_640_000_500))
        );
        assert_eq!(
            running_time(stat, b"51840000.50 0", 1000),
            Ok(Duration::from_millis(51_840_000_500 - 4_320_000_000))
        );
        let s = parse_status(
            b"State:\tS (sleeping)\nVmPeak:\t 5592400 kB\nVmSize:\t 4194300 kB\n\
              VmHWM:\t 2796200 kB\nVmRSS:\t 1398100 kB\nVmSwap:\t4294967296 kB\nThreads:\t4294967296\n",
        );
        assert_eq!((s.vsz_kib, s.peak_rss_kib), (Ok(4_194_300), Ok(2_796_200)));
        assert_eq!(s.rss_kib, Ok(1_398_100));
        assert_eq!(s.swap_kib, Ok(4_294_967_296));
        assert_eq!(s.threads, Ok(4_294_967_296));
    }

    #[test]
    fn ticks_convert_exactly_and_never_overflow() {
        assert_eq!(
            ticks_to_duration(12_345, 100),
            Duration::from_millis(123_450)
        );
        assert_eq!(
            ticks_to_duration(u64::MAX, 1),
            Duration::from_secs(u64::MAX)
        );
        assert_eq!(ticks_to_duration(7, 0), Duration::from_secs(7));
    }

    #[test]
    fn uptime_is_read_and_checked() {
        assert_eq!(
            uptime_seconds(b"350735.47 234388.90\n"),
            Some(Duration::from_secs_f64(350_735.47))
        );
        assert_eq!(uptime_seconds(b"-1 0"), None);
        assert_eq!(uptime_seconds(b"NaN 0"), None);
        assert_eq!(uptime_seconds(b""), None);
    }

    #[test]
    fn a_missing_process_is_ended_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        let source = ProcSource::new(dir.path(), &NoUsers, 100);
        let d = source.read(12345);
        assert_eq!(d.name, Err(Unavailable::Ended));
        assert_eq!(d.cwd, Err(Unavailable::Ended));
        assert_eq!(d.running_for, Err(Unavailable::Ended));
        assert_eq!(d.rss_kib, Err(Unavailable::Ended));
        assert_eq!(d.command, Err(Unavailable::Ended));
    }

    #[test]
    fn the_name_is_escaped_once_whatever_status_says() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("42");
        std::fs::create_dir(&p).unwrap();
        // The kernel escapes newline and backslash in status's Name, and writes comm raw.
        std::fs::write(
            p.join("status"),
            b"Name:\t\r a\\\\b\\nc\nUid:\t0\t0\t0\t0\n",
        )
        .unwrap();
        std::fs::write(p.join("comm"), b"\r a\\b\nc\n").unwrap();
        let source = ProcSource::new(dir.path(), &NoUsers, 100);
        assert_eq!(source.read(42).name, Ok("\\x0d a\\b\\x0ac".into()));
    }

    #[test]
    fn uptime_is_read_once_for_all_the_processes_of_a_report() {
        let dir = tempfile::tempdir().unwrap();
        for pid in ["1", "2"] {
            std::fs::create_dir(dir.path().join(pid)).unwrap();
            let stat = format!("{pid} (x) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1000 0 0");
            std::fs::write(dir.path().join(pid).join("stat"), stat).unwrap();
        }
        std::fs::write(dir.path().join("uptime"), "30.00 0\n").unwrap();
        let source = ProcSource::new(dir.path(), &NoUsers, 100);
        assert_eq!(source.read(1).running_for, Ok(Duration::from_secs(20)));
        std::fs::write(dir.path().join("uptime"), "90.00 0\n").unwrap();
        assert_eq!(source.read(2).running_for, Ok(Duration::from_secs(20)));
        let next_report = ProcSource::new(dir.path(), &NoUsers, 100);
        assert_eq!(next_report.read(2).running_for, Ok(Duration::from_secs(80)));
    }

    #[test]
    fn each_user_is_looked_up_once_in_a_report() {
        struct CountingUsers(std::cell::Cell<usize>);
        impl UserNames for CountingUsers {
            fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
                self.0.set(self.0.get() + 1);
                (uid == 0).then(|| b"ro\not".to_vec())
            }
        }
        let dir = crate::proc::users::tests::fake_proc(&[(1, 0), (2, 0), (3, 1000), (4, 1000)]);
        let users = CountingUsers(std::cell::Cell::new(0));
        let source = ProcSource::new(dir.path(), &users, 100);
        let names: Vec<_> = (1..=4)
            .map(|pid| source.read(pid).user.unwrap().name)
            .collect();
        let root = Some("ro\\x0aot".to_string());
        assert_eq!(names, [root.clone(), root, None, None]);
        assert_eq!(
            users.0.get(),
            2,
            "once for uid 0, once for uid 1000 (not found)"
        );
    }

    #[test]
    fn a_parent_shared_by_processes_is_read_once_in_a_report() {
        let dir = tempfile::tempdir().unwrap();
        for (pid, ppid) in [(1, 0), (10, 1), (11, 1)] {
            let p = dir.path().join(pid.to_string());
            std::fs::create_dir(&p).unwrap();
            std::fs::write(p.join("status"), format!("PPid:\t{ppid}\n")).unwrap();
            std::fs::write(p.join("comm"), format!("p{pid}\n")).unwrap();
        }
        let source = ProcSource::new(dir.path(), &NoUsers, 100);
        let parent_of = |pid| source.read(pid).parent.unwrap().name;
        assert_eq!(parent_of(10), Ok("p1".into()));
        std::fs::write(dir.path().join("1/comm"), "renamed\n").unwrap();
        assert_eq!(parent_of(11), Ok("p1".into()), "read once per report");
        assert_eq!(source.read(1).name, Ok("p1".into()));
        assert_eq!(parent_of(1), Ok("kernel".into()));
        let next_report = ProcSource::new(dir.path(), &NoUsers, 100);
        assert_eq!(
            next_report.read(10).parent.unwrap().name,
            Ok("renamed".into())
        );
    }

    #[test]
    fn the_real_init_process_reads() {
        let source = ProcSource::new(Path::new("/proc"), &NoUsers, system_clock_ticks());
        let d = source.read(std::process::id());
        assert!(
            d.name.is_ok() && d.command.is_ok() && d.rss_kib.is_ok() && d.cwd.is_ok(),
            "{d:?}"
        );
        assert!(d.running_for.unwrap() < Duration::from_secs(3600));
        assert!(d.threads.unwrap() >= 1);
    }
}
