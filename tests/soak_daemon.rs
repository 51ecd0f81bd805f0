//! Soak of the real daemon: a day's worth of ticks, accelerated, with memory flapping around the
//! threshold, while its resident memory is watched (`bench/soak.sh` runs the whole day). The
//! decision rules' own soak, a million samples against an oracle, is in tests/soak_rules.rs.

#[path = "integration/util/mod.rs"]
mod util;

use util::episodes::{Counts, INTERVAL, Rng, actual, counts, default_rules};

use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{self, AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::inotify;
use rustix::process::{Signal, kill_process};
use util::{FakeProc, corpus_dir, fake_program};
// The daemon, accelerated: the defaults (3 s, 15 s, 10 min) divided by 1500, so that a tick
// stands for 3 s and a day is 28,800 ticks, about a minute.
const SPEEDUP: u32 = 1500;
const FAST_INTERVAL: &str = "2ms";
const FAST_SUSTAIN: &str = "10ms";
const FAST_REPEAT: &str = "400ms";

fn fast_interval() -> Duration {
    memory_monitor::text::duration::parse_duration(FAST_INTERVAL).unwrap()
}

/// Resident memory may end at most this far above where it stood in the second quarter. The
/// daemon gives freed heap back after every report (malloc_trim), so what is left to vary is a
/// few pages: the top of the heap, stack and code pages first touched late, the kernel's
/// per-page accounting. 256 KiB is 64 pages, well above that noise (a day grows by about
/// 10 KiB); with over a hundred reports in the second half of a day, a leak of a few KiB per
/// report, or of anything per tick, crosses it (the four-hour run, with a tenth of the reports,
/// only catches leaks ten times bigger).
const RSS_MARGIN_KIB: u64 = 256;

/// Used% at each tick: calm stretches (some exactly at the threshold, which is not high),
/// blips too short to report, episodes of one report and episodes of hours with repeats.
fn tick_schedule(seed: u64, ticks: usize) -> Vec<u64> {
    let mut rng = Rng(seed);
    let mut schedule = Vec::with_capacity(ticks + 1300);
    while schedule.len() <= ticks {
        for _ in 0..rng.range(3, 30) {
            schedule.push(if rng.percent() < 30 { 80 } else { 50 });
        }
        let high = match rng.percent() {
            0..=34 => rng.range(1, 3),
            35..=84 => rng.range(8, 30),
            _ => rng.range(250, 1200),
        };
        schedule.extend(std::iter::repeat_n(90, usize::try_from(high).unwrap()));
    }
    schedule
}

fn set_used(fake: &FakeProc, percent: u64) {
    fake.set_meminfo(1000 * 1024, (100 - percent) * 10 * 1024);
}

/// Counts reads of one file through inotify: the daemon reads meminfo once per tick, so this
/// counts its ticks from outside. Two reads that land before the first is collected count as
/// one, so the count is a lower bound.
struct Reads(OwnedFd);

impl Reads {
    fn watch(path: &Path) -> Reads {
        let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)
            .expect("inotify_init1");
        inotify::add_watch(&fd, path, inotify::WatchFlags::ACCESS).expect("inotify_add_watch");
        Reads(fd)
    }

    /// Waits up to 100 ms for reads and says how many there were.
    fn wait(&mut self) -> u64 {
        let mut fds = [PollFd::new(&self.0, PollFlags::IN)];
        let timeout = Timespec::try_from(Duration::from_millis(100)).unwrap();
        if rustix::event::poll(&mut fds, Some(&timeout)).unwrap_or(0) == 0 {
            return 0;
        }
        let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
        let mut events = inotify::Reader::new(&self.0, &mut buf);
        let mut reads = 0;
        loop {
            match events.next() {
                Ok(event) => {
                    let flags = event.events();
                    assert!(
                        !flags.contains(inotify::ReadFlags::QUEUE_OVERFLOW),
                        "inotify queue overflowed"
                    );
                    reads += u64::from(flags.contains(inotify::ReadFlags::ACCESS));
                }
                Err(rustix::io::Errno::AGAIN) => return reads,
                Err(e) => panic!("reading inotify events: {e}"),
            }
            if events.is_buffer_empty() {
                return reads;
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Resident {
    tick: u64,
    rss_kib: u64,
    hwm_kib: u64,
    anon_kib: u64,
}

fn resident(pid: u32, tick: u64) -> Option<Resident> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim()
            .strip_suffix(" kB")?
            .trim()
            .parse()
            .ok()
    };
    Some(Resident {
        tick,
        rss_kib: kib("VmRSS:")?,
        hwm_kib: kib("VmHWM:")?,
        anon_kib: kib("RssAnon:")?,
    })
}

/// What the kernel counts of a process's writes (`/proc/PID/io`): `write` calls and the bytes
/// they passed (to files, pipes and sockets alike), and the bytes it sent towards the disk. The
/// counts include those of the children it has reaped: ps and top writing to their pipes.
#[derive(Clone, Copy, Debug, Default)]
struct Writes {
    syscalls: u64,
    bytes: u64,
    to_disk: u64,
}

fn writes(pid: u32) -> Option<Writes> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |key: &str| -> Option<u64> {
        io.lines()
            .find_map(|l| l.strip_prefix(key))?
            .trim()
            .parse()
            .ok()
    };
    Some(Writes {
        syscalls: field("syscw:")?,
        bytes: field("wchar:")?,
        to_disk: field("write_bytes:")?,
    })
}

/// Counts the times a file in a directory is written and closed, through inotify. Renames and
/// deletions are watched too, though not counted: inotify merges an event into the one before
/// it when the two are the same, so two writes of the file need an event between them to be
/// counted as two.
struct Closes(OwnedFd);

impl Closes {
    fn watch(dir: &Path) -> Closes {
        let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)
            .expect("inotify_init1");
        let flags = inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::MOVED_FROM
            | inotify::WatchFlags::MOVED_TO
            | inotify::WatchFlags::DELETE;
        inotify::add_watch(&fd, dir, flags).expect("inotify_add_watch");
        Closes(fd)
    }

    /// How many times `name` was closed after writing since the last call.
    fn of(&mut self, name: &str) -> u64 {
        let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
        let mut events = inotify::Reader::new(&self.0, &mut buf);
        let mut closes = 0;
        loop {
            match events.next() {
                Ok(event) => {
                    assert!(
                        !event.events().contains(inotify::ReadFlags::QUEUE_OVERFLOW),
                        "inotify queue overflowed"
                    );
                    closes += u64::from(
                        event.events().contains(inotify::ReadFlags::CLOSE_WRITE)
                            && event
                                .file_name()
                                .is_some_and(|n| n.to_bytes() == name.as_bytes()),
                    );
                }
                Err(rustix::io::Errno::AGAIN) => return closes,
                Err(e) => panic!("reading inotify events: {e}"),
            }
        }
    }
}

/// Kills the daemon if the test fails half way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug, Default)]
struct Logged {
    /// Header lines, in order.
    headers: Vec<String>,
    first_reports: usize,
    repeats: usize,
    recoveries: usize,
}

/// Checks that a log is made of whole entries, each ended by a blank line: reports (a marker
/// before the first of an episode, the header, then the body, every body as long as the others
/// since ps and top print the same every time) and, in incidents.log, recovered lines. Incident
/// numbers count up from 1, one per episode, shared by its repeats.
fn check_log(name: &str, text: &str) -> Logged {
    use util::log::{MARKER as marker, RECOVERED as recovered, header};
    if text.is_empty() {
        return Logged::default();
    }
    assert!(
        text.ends_with("\n\n"),
        "{name} does not end with a blank line"
    );
    let mut logged = Logged::default();
    let mut body_length = None;
    let mut incident = 0;
    let mut open_episode = false;
    for (i, entry) in text[..text.len() - 2].split("\n\n").enumerate() {
        let lines: Vec<&str> = entry.split('\n').collect();
        let broken = || format!("{name}: entry {i} is not whole:\n{entry}");
        if lines.len() == 1 && recovered.is_match(lines[0]) {
            assert!(open_episode, "{}", broken());
            open_episode = false;
            logged.recoveries += 1;
            continue;
        }
        let mut rest = &lines[..];
        if let Some(m) = marker.captures(rest[0]) {
            incident += 1;
            assert_eq!(m[1].parse::<u32>().unwrap(), incident, "{}", broken());
            open_episode = true;
            rest = &rest[1..];
        }
        let h = header(rest[0]).unwrap_or_else(|| panic!("{}", broken()));
        assert_eq!(h.incident, Some(incident), "{}", broken());
        assert_eq!(h.threshold.as_deref(), Some("80%"), "{}", broken());
        assert!(h.time.ends_with(" +00:00"), "{}", broken());
        assert!(open_episode, "{}", broken());
        let first = rest.len() < lines.len();
        assert_eq!(first, h.since_first_report.is_none(), "{}", broken());
        if first {
            logged.first_reports += 1;
        } else {
            logged.repeats += 1;
        }
        logged.headers.push(rest[0].to_string());
        let body = &rest[1..];
        assert!(
            body.iter()
                .all(|l| !l.is_empty() && header(l).is_none() && !marker.is_match(l)),
            "{}",
            broken()
        );
        assert_eq!(
            *body_length.get_or_insert(body.len()),
            body.len(),
            "{}",
            broken()
        );
    }
    logged
}

struct Soak {
    ticks: u64,
    took: Duration,
    figures: Vec<Resident>,
    incidents: Logged,
    nominal: Counts,
    /// Once start-up is behind (the second tick), and at the end.
    writes_after_start: Writes,
    writes_at_end: Writes,
    /// Times the metrics file was written, its start included.
    metrics_writes: u64,
    /// Times the state file was written.
    state_writes: u64,
    metrics_bytes: u64,
    /// What the log directory holds at the end: the logs' bytes.
    log_bytes: u64,
}

const METRICS_FILE: &str = "memory_monitor.prom";

/// The daemon's last line at start: where the kills come from.
const STARTED: &str = "memory-monitor: OOM kills are";

/// Runs the daemon for `hours` of ticks at the default settings, accelerated, with meminfo
/// following [`tick_schedule`], and checks it stays up, keeps its logs whole and stays small.
fn soak(hours: u64) -> Soak {
    let wanted = hours * 3600 / 3;
    soak_through(
        hours,
        tick_schedule(0xDA7_50A6, usize::try_from(wanted).unwrap()),
    )
}

/// As [`soak`], with meminfo following `schedule`, a used% for each tick.
fn soak_through(hours: u64, schedule: Vec<u64>) -> Soak {
    let wanted = hours * 3600 / 3;
    let nominal = counts(&actual(
        default_rules(),
        &schedule
            .iter()
            .enumerate()
            .map(|(i, &used)| (i as u64 * INTERVAL, used as f64))
            .collect::<Vec<_>>()[..=usize::try_from(wanted).unwrap()],
    ));

    let fake = FakeProc::new();
    fake.add(&util::firewalld());
    set_used(&fake, schedule[0]);
    let mut reads = Reads::watch(&fake.path().join("meminfo"));
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let cat = |file: &str| format!("exec cat '{}'", corpus_dir().join(file).display());
    let ps = fake_program(dir.path(), "ps", &cat("psaux_jc-centos77_1.txt"));
    let top = fake_program(dir.path(), "top", &cat("top_jc-ubuntu2010_1.txt"));
    let stderr = dir.path().join("stderr");
    let metrics = dir.path().join("metrics");
    std::fs::create_dir(&metrics).unwrap();
    let mut metrics_closes = Closes::watch(&metrics);
    std::fs::create_dir(&logs).unwrap();
    let mut log_closes = Closes::watch(&logs);
    let mut command = Command::new(env!("CARGO_BIN_EXE_memory-monitor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MEMORY_MONITOR_") {
            command.env_remove(key);
        }
    }
    command
        .arg("run")
        .args(["--interval", FAST_INTERVAL, "--sustain", FAST_SUSTAIN])
        .args([
            "--repeat",
            FAST_REPEAT,
            "--threshold",
            "80",
            "--details",
            "3",
        ])
        // Never the machine's own kills: an empty kernel log of the test's own.
        .arg("--kernel-log")
        .arg({
            let kmsg = dir.path().join("kmsg");
            std::fs::write(&kmsg, "").unwrap();
            kmsg
        })
        .arg("--log-dir")
        .arg(&logs)
        .arg("--metrics-file")
        .arg(metrics.join(METRICS_FILE))
        .arg("--proc-root")
        .arg(fake.path())
        .arg("--ps-bin")
        .arg(&ps)
        .arg("--top-bin")
        .arg(&top)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap());
    let started = Instant::now();
    let mut daemon = Running(command.spawn().unwrap());
    let pid = daemon.0.id();
    let stderr_text = || std::fs::read_to_string(&stderr).unwrap_or_default();

    let ticks = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    // Far beyond what even a debug build on a busy machine needs; only a stuck daemon meets it.
    let deadline =
        started + fast_interval() * u32::try_from(wanted * 5).unwrap() + Duration::from_secs(60);
    let sampled = std::thread::scope(|scope| {
        // After the n-th read, meminfo is set to the n-th value of the schedule, ready for the
        // next tick.
        scope.spawn(|| {
            let mut used = schedule[0];
            while !stop.load(atomic::Ordering::Relaxed) {
                let n = ticks.fetch_add(reads.wait(), atomic::Ordering::Relaxed);
                let next = schedule[usize::try_from(n).unwrap().min(schedule.len() - 1)];
                if next != used {
                    set_used(&fake, next);
                    used = next;
                }
            }
        });
        let mut figures = Vec::new();
        let mut writes_after_start = None;
        let outcome = loop {
            let tick = ticks.load(atomic::Ordering::Relaxed);
            if let Some(status) = daemon.0.try_wait().unwrap() {
                break Err(format!("the daemon exited ({status}) at tick {tick}"));
            }
            // From the second tick on: the loop is running, start-up is behind.
            if tick >= 2 {
                figures.extend(resident(pid, tick));
                // Its start lines come after the first samples; under qemu, ticks later.
                if writes_after_start.is_none() && stderr_text().contains(STARTED) {
                    writes_after_start = writes(pid);
                }
            }
            if tick >= wanted {
                break match (writes_after_start, writes(pid)) {
                    (Some(after_start), Some(at_end)) => Ok((figures, after_start, at_end)),
                    _ => Err(format!("no start line seen, or /proc/{pid}/io unreadable")),
                };
            }
            if tick == 0 && started.elapsed() > Duration::from_secs(10) {
                break Err("no read of meminfo seen in 10 s: does inotify work in TMPDIR?".into());
            }
            if Instant::now() > deadline {
                break Err(format!("only {tick} of {wanted} ticks by the deadline"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        stop.store(true, atomic::Ordering::Relaxed);
        outcome
    });
    let (figures, writes_after_start, writes_at_end) =
        sampled.unwrap_or_else(|e| panic!("{e}; stderr:\n{}", stderr_text()));
    let took = started.elapsed();
    let ticks = ticks.into_inner();

    kill_process(util::daemon::pid_of(&daemon.0), Signal::TERM).unwrap();
    let status = daemon.0.wait().unwrap();
    assert!(status.success(), "{status}; stderr:\n{}", stderr_text());
    let metrics_writes = metrics_closes.of(&format!(".{METRICS_FILE}.tmp"));
    // Closed after its rename: the close is seen under the final name.
    let state_writes = log_closes.of("state");
    let metrics_bytes = std::fs::metadata(metrics.join(METRICS_FILE)).unwrap().len();
    let log_bytes = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();

    // A quiet run writes no log: nothing to read is nothing logged.
    let read = |name: &str| std::fs::read_to_string(logs.join(name)).unwrap_or_default();
    let incidents = check_log("incidents.log", &read("incidents.log"));
    let details = check_log("details.log", &read("details.log"));
    assert_eq!(
        details.headers, incidents.headers,
        "the same header in both logs"
    );
    assert_eq!(
        details.recoveries, 0,
        "recovered lines go to incidents.log only"
    );
    assert!(
        incidents.recoveries + 1 >= incidents.first_reports,
        "every episode but the last recovered: {incidents:?}"
    );
    // Ticks come late when a report runs or the machine is busy, so the daemon sees somewhat
    // different episodes than a perfect clock would; it must still see most of them.
    let reports = incidents.headers.len();
    let nominal_reports = nominal.first_reports + nominal.repeats;
    assert!(
        reports * 2 >= nominal_reports && incidents.repeats * 2 >= nominal.repeats,
        "{incidents:?}, with perfect ticks {nominal:?}"
    );
    Soak {
        ticks,
        took,
        figures,
        incidents,
        nominal,
        writes_after_start,
        writes_at_end,
        metrics_writes,
        state_writes,
        metrics_bytes,
        log_bytes,
    }
}

/// Prints the figures and asserts that resident memory stays flat after the warm-up.
fn report_and_check(hours: u64, soak: &Soak) {
    let wanted = hours * 3600 / 3;
    let f = &soak.figures;
    let in_part = |from: u64, to: u64| {
        f.iter()
            .filter(move |r| r.tick >= wanted * from / 100 && r.tick < wanted * to / 100)
    };
    let max_rss = |from, to| in_part(from, to).map(|r| r.rss_kib).max().unwrap();
    let warm = in_part(10, 101).next().unwrap();
    let (first, last) = (f[0], f[f.len() - 1]);
    let (second_quarter, last_quarter) = (max_rss(25, 50), max_rss(75, 101));
    let logged = &soak.incidents;
    println!(
        "soak: {hours} h at the defaults = {wanted} ticks of 3s, run {SPEEDUP}x faster \
         (--interval {FAST_INTERVAL} --sustain {FAST_SUSTAIN} --repeat {FAST_REPEAT})"
    );
    println!(
        "  {} ticks counted = {:.1} h, in {:.1} s ({:.1} s of it ticking, the rest reporting or late)",
        soak.ticks,
        soak.ticks as f64 * 3.0 / 3600.0,
        soak.took.as_secs_f64(),
        soak.ticks as f64 * fast_interval().as_secs_f64(),
    );
    println!(
        "  reports: {} ({} first, {} repeats), {} recovered; a perfect clock would give {} first, {} repeats",
        logged.headers.len(),
        logged.first_reports,
        logged.repeats,
        logged.recoveries,
        soak.nominal.first_reports,
        soak.nominal.repeats,
    );
    println!(
        "  VmRSS KiB: start {} (tick {}), after warm-up {} (tick {}), end {} (tick {}); \
         max in 2nd quarter {second_quarter}, in last quarter {last_quarter}, overall {}; \
         VmHWM at end {}",
        first.rss_kib,
        first.tick,
        warm.rss_kib,
        warm.tick,
        last.rss_kib,
        last.tick,
        f.iter().map(|r| r.rss_kib).max().unwrap(),
        last.hwm_kib,
    );
    println!(
        "  RssAnon KiB: start {}, after warm-up {}, end {}; {} samples of /proc/PID/status",
        first.anon_kib,
        warm.anon_kib,
        last.anon_kib,
        f.len()
    );
    let tenths: Vec<String> = (0..10)
        .map(|t| {
            let r = in_part(t * 10, t * 10 + 10).next_back().unwrap();
            format!("{}/{}", r.rss_kib, r.anon_kib)
        })
        .collect();
    println!(
        "  VmRSS/RssAnon KiB at the end of each tenth: {}",
        tenths.join(" ")
    );
    report_and_check_writes(hours, soak);
    assert!(
        last_quarter <= second_quarter + RSS_MARGIN_KIB,
        "resident memory grew: {last_quarter} KiB at most in the last quarter, {second_quarter} KiB in the second"
    );
}

/// Prints what the daemon wrote to files after start-up, and as a day's worth at the same rate,
/// and asserts that the metrics file was written once at start and once per entry, never more.
fn report_and_check_writes(hours: u64, soak: &Soak) {
    let (start, end) = (soak.writes_after_start, soak.writes_at_end);
    let logged = &soak.incidents;
    let entries = logged.headers.len() + logged.recoveries;
    // The logs are only appended to, and the metrics file is rewritten whole.
    let files = soak.log_bytes + soak.metrics_writes.saturating_sub(1) * soak.metrics_bytes;
    println!(
        "  written to files after start-up: {} bytes (logs {}, the metrics file {} times {} \
         bytes); a day at this rate: {:.2} MiB in {:.0} entries. The kernel's counts: {} bytes \
         towards the disk, {} write calls (with ps's and top's to their pipes)",
        files,
        soak.log_bytes,
        soak.metrics_writes.saturating_sub(1),
        soak.metrics_bytes,
        (files * 24 / hours) as f64 / 1048576.0,
        (entries as f64) * 24.0 / hours as f64,
        end.to_disk - start.to_disk,
        end.syscalls - start.syscalls,
    );
    println!(
        "  the metrics file: written {} times ({} entries + the start); the state file {} times",
        soak.metrics_writes, entries, soak.state_writes,
    );
    // The state: at each report and recovered line, and at the stop if an episode was open.
    let open_at_stop = logged.first_reports > logged.recoveries;
    assert_eq!(
        soak.state_writes,
        u64::try_from(entries).unwrap() + u64::from(open_at_stop),
        "the state file is written on entries and at a stop during an episode, and only then"
    );
    assert_eq!(
        soak.metrics_writes,
        u64::try_from(entries).unwrap() + 1,
        "the metrics file is written at start and after each entry, and only then"
    );
}

/// Four hours below the threshold: after start-up the daemon writes nothing at all, not one
/// `write` call, anywhere (the metrics file was written once, at start). No ps or top runs, so
/// the kernel's counts are the daemon's own.
#[test]
fn four_quiet_hours_write_nothing() {
    let hours = 4;
    let soak = soak_through(
        hours,
        vec![50; usize::try_from(hours * 3600 / 3 + 1).unwrap()],
    );
    report_and_check_writes(hours, &soak);
    assert_eq!(soak.incidents.headers.len(), 0);
    assert!(soak.ticks >= hours * 3600 / 3);
    assert_eq!(
        soak.writes_at_end.syscalls, soak.writes_after_start.syscalls,
        "write calls on quiet ticks"
    );
    assert_eq!(soak.writes_at_end.bytes, soak.writes_after_start.bytes);
    assert_eq!(soak.log_bytes, 0, "no log is written before an incident");
}

#[test]
fn four_hours_of_ticks_keep_resident_memory_flat() {
    let soak = soak(4);
    report_and_check(4, &soak);
}

/// A day of ticks, or `SOAK_HOURS` of them.
#[test]
#[ignore = "a day of ticks takes over a minute; bench/soak.sh runs it in a release build"]
fn a_day_of_ticks_keeps_resident_memory_flat() {
    let hours = std::env::var("SOAK_HOURS").map_or(24, |h| h.parse().expect("SOAK_HOURS"));
    let soak = soak(hours);
    report_and_check(hours, &soak);
}
