//! The performance targets, measured: `cargo bench --bench targets`.
//!
//! - the idle loop's work per tick (CPU time, heap allocations) over 100,000 ticks;
//! - parse and render of a 5,000-process `ps aux` output;
//! - what incidents.jsonl and the metrics file add to a 1,000-process report, written to a
//!   directory on disk, beside that report's parse and render;
//! - the daemon's resident memory while idle, before and after an incident;
//! - the time between samples while a hook runs, beside the same daemon without one;
//! - `memory-monitor incidents` over a year of rotated, compressed logs (targets/incidents.rs).
//!
//! Whole captures (against earlyoom and the raw ps and top, peak memory) are measured by
//! `bench/run.sh` (benches/compare).
//!
//! Medians of repeated runs; exits non-zero when a target is missed. Not a test: timings on a
//! shared machine vary, so this is run by hand and its figures quoted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use memory_monitor::capture::{OUTPUT_LIMIT, Outputs, Sources, Tools};
use memory_monitor::daemon::{KillWatch, Systemd, Watch};
use memory_monitor::decide::Rules;
use memory_monitor::proc::SystemUsers;
use memory_monitor::render::{details, incident};
use memory_monitor::report::{Occasion, Report};
use memory_monitor::sample::MemSample;
use rustix::process::{Pid, Signal, kill_process};

#[path = "targets/incidents.rs"]
mod incidents;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Verdict {
    missed: bool,
}

impl Verdict {
    fn check(&mut self, what: &str, value: f64, unit: &str, limit: f64) {
        let ok = value <= limit;
        self.missed |= !ok;
        println!(
            "{what:<52} {value:>10.2} {unit:<4} (target <= {limit} {unit}) {}",
            if ok { "ok" } else { "MISSED" }
        );
    }
}

fn idle_ticks(verdict: &mut Verdict) {
    // A threshold no machine reaches, so every tick is the idle path.
    let rules = Rules {
        threshold_percent: 100.0,
        sustain: Duration::from_secs(15),
        repeat: Duration::from_secs(600),
        urgent_percent: None,
    };
    let (mut watch, _) =
        Watch::start(Path::new("/proc"), None, rules, Duration::from_secs(3)).unwrap();
    // The kernel's log as the daemon reads it (or, without CAP_SYSLOG, /proc/vmstat).
    let (mut kills, _) = KillWatch::start(
        memory_monitor::capture::kernel_now(),
        Some(Path::new("/dev/kmsg")),
        Path::new("/proc"),
        Default::default(),
        &SystemUsers,
    );
    // What the loop tells systemd each tick: nothing here, outside systemd, as on a terminal.
    // Under systemd (NOTIFY_SOCKET and WATCHDOG_USEC set) a tick only compares a time; the
    // ping at half of WatchdogSec= formats the status, a few allocations every 10 s.
    let systemd = Systemd::from_env();
    let mut tick_once = || {
        systemd.keep_alive();
        let sample = watch.sample().unwrap();
        assert!(watch.decide(&sample).is_none());
        assert!(kills.tick(&SystemUsers).entries.is_empty());
        systemd.sampled(sample.used_percent(), false);
    };
    for _ in 0..1000 {
        tick_once();
    }
    // Room made before counting, so the measurement's own pushes allocate nothing. Batches of
    // the whole tick alternate with batches of the bare read and of the parse alone, so the
    // machine's drift affects all three alike.
    let file = std::fs::File::open("/proc/meminfo").unwrap();
    let mut buf = vec![0u8; 16 * 1024];
    let text_len = std::os::unix::fs::FileExt::read_at(&file, &mut buf, 0).unwrap();
    let (mut tick, mut read, mut parse, mut wall) = (
        Vec::with_capacity(9),
        Vec::with_capacity(9),
        Vec::with_capacity(9),
        Vec::with_capacity(9),
    );
    let (allocations, live) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        LIVE_BYTES.load(Ordering::Relaxed),
    );
    const BATCH: u32 = 20_000;
    let per_tick = |start: Duration| (cpu_time() - start).as_secs_f64() * 1e6 / f64::from(BATCH);
    for _ in 0..9 {
        let (cpu0, wall0) = (cpu_time(), Instant::now());
        for _ in 0..BATCH {
            tick_once();
        }
        tick.push(per_tick(cpu0));
        wall.push(wall0.elapsed().as_secs_f64() * 1e6 / f64::from(BATCH));
        let cpu0 = cpu_time();
        for _ in 0..BATCH {
            std::hint::black_box(std::os::unix::fs::FileExt::read_at(&file, &mut buf, 0).unwrap());
        }
        read.push(per_tick(cpu0));
        let cpu0 = cpu_time();
        for _ in 0..BATCH {
            std::hint::black_box(
                memory_monitor::sample::parse_meminfo(std::hint::black_box(&buf[..text_len]))
                    .unwrap(),
            );
        }
        parse.push(per_tick(cpu0));
    }
    let new_allocations = ALLOCATIONS.load(Ordering::Relaxed) - allocations;
    let growth = LIVE_BYTES.load(Ordering::Relaxed) as f64 - live as f64;
    println!("idle tick, 9 batches of {BATCH} (CPU µs/tick): {tick:.2?}");
    verdict.check(
        "idle tick: CPU per tick (median)",
        median(tick.clone()),
        "µs",
        10.0,
    );
    println!(
        "{:<52} {:>10.2} µs",
        "  the kernel making /proc/meminfo for one read",
        median(read.clone())
    );
    println!("{:<52} {:>10.2} µs", "  our parse of it", median(parse));
    let ours: Vec<f64> = tick.iter().zip(&read).map(|(t, r)| t - r).collect();
    verdict.check(
        "idle tick: CPU per tick beyond the kernel's read",
        median(ours),
        "µs",
        10.0,
    );
    println!(
        "{:<52} {:>10.2} µs",
        "idle tick: wall time per tick (median)",
        median(wall)
    );
    verdict.check(
        "idle tick: heap allocations in 180,000 ticks",
        new_allocations as f64,
        "",
        0.0,
    );
    verdict.check(
        "idle tick: heap growth over 180,000 ticks",
        growth,
        "B",
        0.0,
    );
}

/// 5,000 rows made from the 448-row Arch sample, with distinct PIDs and varied %MEM.
fn big_ps_output() -> Vec<u8> {
    ps_output_of(5000)
}

/// `n` rows made from the 448-row Arch sample, with distinct PIDs and varied %MEM.
fn ps_output_of(n: usize) -> Vec<u8> {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/psaux_crush-synaps-arch_1.txt"
    ))
    .unwrap();
    let mut lines = sample.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let rows: Vec<&str> = lines.collect();
    for i in 0..n {
        let row = rows[i % rows.len()];
        // USER and PID new, %CPU and %MEM varied, the rest (VSZ to COMMAND) as sampled.
        let rest = row.split_whitespace().skip(4).collect::<Vec<_>>();
        out.push_str(&format!(
            "{:<8} {:>7} {:>4} {:>4}.{} {}\n",
            row.split_whitespace().next().unwrap(),
            10_000 + i,
            "0.0",
            (i * 7) % 40,
            i % 10,
            rest.join(" ")
        ));
    }
    out.into_bytes()
}

fn parse_and_render(verdict: &mut Verdict) {
    let ps = big_ps_output();
    let top = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/top_local-debian12-procps402_1.txt"
    ))
    .unwrap();
    let empty_proc = tempfile::tempdir().unwrap();
    let sources = Sources {
        tools: Tools {
            ps_bin: "unused".into(),
            top_bin: "unused".into(),
            timeout: Duration::from_secs(1),
            output_limit: OUTPUT_LIMIT,
        },
        proc_root: empty_proc.path().to_path_buf(),
        details: 5,
        users: &SystemUsers,
        clock_ticks: 100,
    };
    let now = chrono::Local::now().fixed_offset();
    let memory = MemSample {
        total_kib: 1_000_000,
        available_kib: 100_000,
        cgroup_limit: false,
    };
    let mut times = Vec::new();
    let mut cpu_times = Vec::new();
    let mut rows = 0;
    for _ in 0..101 {
        let outputs = Outputs::recorded(Ok(ps.clone()), Ok(top.clone()));
        let (start, cpu_start) = (Instant::now(), cpu_time());
        let report = Report {
            time: now,
            occasion: Occasion::Snapshot,
            memory,
            context: Default::default(),
            evidence: sources.evidence_from(outputs),
        };
        let mut text = String::new();
        incident::render(&report, &mut text);
        let mut details = String::new();
        details::render(
            report.evidence.details.as_deref().unwrap_or_default(),
            &now,
            &mut details,
        );
        times.push(start.elapsed().as_secs_f64() * 1e3);
        cpu_times.push((cpu_time() - cpu_start).as_secs_f64() * 1e3);
        rows = text.lines().filter(|l| !l.starts_with("  ")).count() - 3;
        std::hint::black_box((text, details));
    }
    assert_eq!(rows, 5000, "the table has every row");
    // What the parsed table holds on the heap while the report is rendered, beside the output
    // it came from: the table must not cost much more than the text it holds.
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let table = memory_monitor::parse::ps::parse(&ps).unwrap();
    let held = LIVE_BYTES.load(Ordering::Relaxed) as f64 - before as f64;
    std::hint::black_box(&table);
    drop(table);
    println!(
        "parsed table of 5,000 processes: {held:.0} B held on the heap for {} B of ps output \
         ({:.1} B per row beyond the output)",
        ps.len(),
        (held - ps.len() as f64) / 5000.0
    );
    verdict.check(
        "parsed table: heap beyond the ps output, per row",
        (held - ps.len() as f64) / 5000.0,
        "B",
        40.0,
    );
    let spread = |values: &[f64]| {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: usize| v[(v.len() - 1) * q / 4];
        format!(
            "min {:.2}, quartiles {:.2} / {:.2} / {:.2}, max {:.2}",
            at(0),
            at(1),
            at(2),
            at(3),
            at(4)
        )
    };
    println!(
        "parse+render of 5,000 processes, 101 runs, wall ms: {}",
        spread(&times)
    );
    println!(
        "parse+render of 5,000 processes, 101 runs, CPU ms:  {}",
        spread(&cpu_times)
    );
    verdict.check(
        "parse+render of 5,000 processes (median wall time)",
        median(times),
        "ms",
        10.0,
    );
}

/// What incidents.jsonl and the metrics file add to a report, beside the parse and render of
/// the same report (both parsers, the incidents and details texts), at 1,000 processes: the
/// line alone, and each output's whole write (render, then the append, or the temporary file
/// and its rename) into a directory beside the build, on the same disk as the logs would be.
fn json_line(verdict: &mut Verdict) {
    use memory_monitor::output::jsonl::{IncidentsJsonl, StartSettings};
    use memory_monitor::output::{LogFile, MetricsFile, Output};
    use memory_monitor::report::Entry;

    let ps = ps_output_of(1000);
    let top = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/top_local-debian12-procps402_1.txt"
    ))
    .unwrap();
    let empty_proc = tempfile::tempdir().unwrap();
    let sources = Sources {
        tools: Tools {
            ps_bin: "unused".into(),
            top_bin: "unused".into(),
            timeout: Duration::from_secs(1),
            output_limit: OUTPUT_LIMIT,
        },
        proc_root: empty_proc.path().to_path_buf(),
        details: 5,
        users: &SystemUsers,
        clock_ticks: 100,
    };
    let now = chrono::Local::now().fixed_offset();
    let settings = StartSettings {
        threshold_percent: 80.0,
        sustain_seconds: 15.0,
        interval_seconds: 3.0,
        repeat_seconds: 600.0,
        urgent_percent: Some(95.0),
        log_dir: "/var/log/memory-monitor".into(),
        on_event: None,
        hook_timeout_seconds: None,
        metrics_file: None,
        details: 5,
        capture_timeout_seconds: 10.0,
        kernel_log: Some("/dev/kmsg".into()),
        memory_scope: "auto",
        proc_root: "/proc".into(),
        sys_root: "/sys".into(),
        ps_bin: "ps".into(),
        top_bin: "top".into(),
    };
    let jsonl = IncidentsJsonl::new("pi4".into(), 1, now, settings);
    // Not /tmp, which may be a tmpfs: the target directory is on the disk being built on.
    let disk = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut jsonl_file = LogFile::prepare(disk.path(), jsonl.clone()).unwrap();
    let mut metrics_file = MetricsFile::start(&disk.path().join("memory_monitor.prom"));
    let (mut ours, mut json) = (Vec::new(), Vec::new());
    let (mut json_written, mut metrics_written) = (Vec::new(), Vec::new());
    for _ in 0..101 {
        let outputs = Outputs::recorded(Ok(ps.clone()), Ok(top.clone()));
        let start = thread_cpu();
        let report = Report {
            time: now,
            occasion: Occasion::Snapshot,
            memory: MemSample {
                total_kib: 1_000_000,
                available_kib: 100_000,
                cgroup_limit: false,
            },
            context: Default::default(),
            evidence: sources.evidence_from(outputs),
        };
        let mut text = String::new();
        incident::render(&report, &mut text);
        let mut details = String::new();
        details::render(
            report.evidence.details.as_deref().unwrap_or_default(),
            &now,
            &mut details,
        );
        ours.push((thread_cpu() - start).as_secs_f64() * 1e3);
        let entry = Entry::Report(Box::new(report));
        let start = thread_cpu();
        let line = jsonl.line(&entry);
        json.push((thread_cpu() - start).as_secs_f64() * 1e3);
        let start = thread_cpu();
        let delivery = jsonl_file.write(&entry);
        json_written.push((thread_cpu() - start).as_secs_f64() * 1e3);
        assert!(
            matches!(delivery, memory_monitor::output::Delivery::Written(_)),
            "{delivery:?}"
        );
        let start = thread_cpu();
        metrics_file.write(&entry);
        metrics_written.push((thread_cpu() - start).as_secs_f64() * 1e3);
        std::hint::black_box((text, details, line));
    }
    let (ours, json) = (median(ours), median(json));
    let (json_written, metrics_written) = (median(json_written), median(metrics_written));
    println!(
        "1,000 processes, medians of 101, CPU ms: parse+render {ours:.3}, incidents.jsonl's line \
         {json:.3}, written {json_written:.3}; the metrics file written {metrics_written:.3}"
    );
    verdict.check(
        "incidents.jsonl's line / parse+render, 1,000 processes",
        json / ours * 100.0,
        "%",
        10.0,
    );
    verdict.check(
        "incidents.jsonl and the metrics file, written / parse+render, 1,000 processes",
        (json_written + metrics_written) / ours * 100.0,
        "%",
        10.0,
    );
}

/// This thread's CPU time, to the nanosecond (getrusage's figures move in scheduler ticks).
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn resident_memory(verdict: &mut Verdict) {
    let logs = tempfile::tempdir().unwrap();
    let run = |args: &[&str], settle: &dyn Fn() -> bool| -> f64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_memory-monitor"))
            .arg("run")
            .args(args)
            .arg("--log-dir")
            .arg(logs.path())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !settle() {
            assert!(Instant::now() < deadline, "the daemon did not settle");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_secs(2));
        let rss = status_kib(child.id(), "VmRSS");
        let _ = kill_process(Pid::from_child(&child), Signal::TERM);
        child.wait().unwrap();
        rss / 1024.0
    };
    let idle = run(&["--threshold", "99.99"], &|| true);
    verdict.check("resident memory while idle", idle, "MiB", 4.0);
    let incidents = logs.path().join("incidents.log");
    let after = run(
        &["--threshold", "0.01", "--sustain", "0", "--repeat", "1h"],
        &|| {
            std::fs::read_to_string(&incidents)
                .unwrap_or_default()
                .ends_with("\n\n")
        },
    );
    verdict.check(
        "resident memory while idle after an incident",
        after,
        "MiB",
        4.0,
    );
}

fn status_kib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The loop's interval beside a hook, how long the hook sleeps, and how long the samples are
/// watched while it does: what is left of its sleep once both daemons have started and it has,
/// with seconds to spare.
const HOOK_INTERVAL: Duration = Duration::from_millis(100);
const HOOK_SLEEP: Duration = Duration::from_secs(20);
const HOOK_WINDOW: Duration = Duration::from_secs(15);
const HOOK_ROUNDS: usize = 3;

/// The daemon on a fake machine of its own, where memory is 90 % in use from the start: with
/// `--sustain 0 --repeat 1s` it reports at its first tick, then every second. With a hook, each
/// entry also goes to a program that reads it, then sleeps [`HOOK_SLEEP`], marking when it
/// started and when it ended.
struct HookRig {
    dir: tempfile::TempDir,
    child: Child,
    hook: bool,
}

impl HookRig {
    fn start(hook: bool) -> HookRig {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        // What the daemon reads of a procfs: meminfo at every tick, vmstat's kill count (the
        // kernel's log is off), the boot's id for its state file, uptime and pressure for a
        // report. No process directories: a report's details then find their processes gone.
        let pressure = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/corpus/pressure/local-6.18.txt"
        ))
        .unwrap();
        for (file, text) in [
            (
                "meminfo",
                "MemTotal:        1000000 kB\nMemFree:          100000 kB\nMemAvailable:     100000 kB\n",
            ),
            ("uptime", "100000.50 150000.00\n"),
            ("vmstat", "pgfault 1000\noom_kill 0\n"),
            ("pressure/memory", pressure.as_str()),
            (
                "sys/kernel/random/boot_id",
                "6c1f6c1e-0b1a-4a43-9f4e-7d2c2b0b9a11\n",
            ),
        ] {
            let path = at("proc").join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        // An empty sysfs: no cgroups of the machine's in the reports.
        std::fs::create_dir(at("sys")).unwrap();
        let script = |name: &str, body: &str| {
            use std::os::unix::fs::PermissionsExt;
            let path = at(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
        let ps = script(
            "ps",
            &format!("exec cat '{corpus}/psaux_jc-centos77_1.txt'"),
        );
        let top = script(
            "top",
            &format!("exec cat '{corpus}/top_jc-ubuntu2010_1.txt'"),
        );
        let mut command = Command::new(env!("CARGO_BIN_EXE_memory-monitor"));
        // A clean environment: no MEMORY_MONITOR_* settings, no systemd sockets of ours.
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TZ", "UTC")
            .arg("run")
            .arg("--interval")
            .arg(format!("{}ms", HOOK_INTERVAL.as_millis()))
            .args(["--sustain", "0", "--repeat", "1s"])
            .args([
                "--threshold",
                "80",
                "--urgent",
                "off",
                "--memory-scope",
                "host",
            ])
            .args(["--kernel-log", "off"])
            .arg("--proc-root")
            .arg(at("proc"))
            .arg("--sys-root")
            .arg(at("sys"))
            .arg("--log-dir")
            .arg(at("logs"))
            .arg("--ps-bin")
            .arg(ps)
            .arg("--top-bin")
            .arg(top);
        if hook {
            let marks = dir.path().display();
            let hook = script(
                "hook",
                &format!(
                    "cat >/dev/null\ntouch '{marks}/hook-started'\nsleep {}\ntouch '{marks}/hook-done'",
                    HOOK_SLEEP.as_secs()
                ),
            );
            command.arg("--on-event").arg(hook);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(at("stderr")).unwrap())
            .spawn()
            .unwrap();
        HookRig { dir, child, hook }
    }

    fn meminfo(&self) -> PathBuf {
        self.dir.path().join("proc/meminfo")
    }

    fn marked(&self, mark: &str) -> bool {
        self.dir.path().join(mark).exists()
    }

    /// The report headers in incidents.log so far.
    fn reports(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("logs/incidents.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.as_bytes().get(4) == Some(&b'-') && l.contains(" | incident "))
            .count()
    }

    /// Its first report is written and, with a hook, the hook has read it and is asleep.
    fn ready(&mut self) -> bool {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "the daemon exited ({status}): {}",
                std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
            );
        }
        self.reports() > 0 && (!self.hook || self.marked("hook-started"))
    }
}

/// Stopped the gentle way, so that the daemon kills its hook's process group.
impl Drop for HookRig {
    fn drop(&mut self) {
        let _ = kill_process(Pid::from_child(&self.child), Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file's reads over a window, in ms: the gaps between consecutive ones, and the wait under
/// way at the window's end (since the last read, or since the window's start if none). A loop
/// held up past the window's end shows only in the latter.
struct Reads {
    gaps: Vec<f64>,
    waiting: f64,
}

/// The reads of each file for `window`. Each `pread` of a watched file is one IN_ACCESS event;
/// it is timed when this thread wakes to it, so the figures include our own wake-up delay, the
/// same for every file.
fn reads_of(files: &[PathBuf], window: Duration) -> Vec<Reads> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::fs::inotify;
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).unwrap();
    let watches: Vec<i32> = files
        .iter()
        .map(|f| inotify::add_watch(&fd, f, inotify::WatchFlags::ACCESS).unwrap())
        .collect();
    let start = Instant::now();
    let end = start + window;
    let mut last = vec![start; files.len()];
    let mut gaps = vec![Vec::new(); files.len()];
    let mut seen = vec![false; files.len()];
    let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
    let mut events = inotify::Reader::new(&fd, &mut buf);
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut ready = [PollFd::new(&fd, PollFlags::IN)];
        if poll(&mut ready, Some(&Timespec::try_from(left).unwrap())).unwrap() == 0 {
            continue;
        }
        let now = Instant::now();
        loop {
            let event = match events.next() {
                Ok(event) => event,
                Err(rustix::io::Errno::WOULDBLOCK) => break,
                Err(e) => panic!("reading inotify events: {e}"),
            };
            assert!(
                !event.events().contains(inotify::ReadFlags::QUEUE_OVERFLOW),
                "inotify events were lost"
            );
            let Some(i) = watches.iter().position(|&w| w == event.wd()) else {
                continue;
            };
            // The first read only starts the count: the time before it is not a whole gap.
            if std::mem::replace(&mut seen[i], true) {
                gaps[i].push((now - last[i]).as_secs_f64() * 1e3);
            }
            last[i] = now;
        }
    }
    gaps.into_iter()
        .zip(last)
        .map(|(gaps, last)| Reads {
            gaps,
            waiting: (end - last).as_secs_f64() * 1e3,
        })
        .collect()
}

/// Sampling while a hook runs: the hook has a thread of its own, so a hook that sleeps 20 s
/// must leave the loop's time to the next sample as it is without one. Two daemons side by
/// side, reporting alike (memory high, a report every second), one of them with such a hook;
/// the gaps between their reads of meminfo are compared while the hook sleeps.
fn hook_and_sampling(verdict: &mut Verdict) {
    // [without a hook, with one]: every gap, and the longest wait at a window's end.
    let mut gaps: [Vec<f64>; 2] = Default::default();
    let mut waiting = [0.0f64; 2];
    let mut reports = [0; 2];
    for round in 0..HOOK_ROUNDS {
        // Which starts first alternates; the second half an interval later, so that their
        // ticks never coincide.
        let first_hooked = round % 2 == 1;
        let first = HookRig::start(first_hooked);
        std::thread::sleep(HOOK_INTERVAL / 2);
        let second = HookRig::start(!first_hooked);
        let mut rigs = if first_hooked {
            [second, first]
        } else {
            [first, second]
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !rigs.iter_mut().all(|r| r.ready()) {
            assert!(Instant::now() < deadline, "the daemons did not report");
            std::thread::sleep(Duration::from_millis(20));
        }
        let before = rigs.each_ref().map(HookRig::reports);
        let reads = reads_of(&rigs.each_ref().map(HookRig::meminfo), HOOK_WINDOW);
        assert!(
            rigs[1].marked("hook-started") && !rigs[1].marked("hook-done"),
            "the hook slept throughout"
        );
        let mut round_medians = [f64::INFINITY; 2];
        for (i, r) in reads.into_iter().enumerate() {
            if !r.gaps.is_empty() {
                round_medians[i] = median(r.gaps.clone());
            }
            gaps[i].extend(r.gaps);
            waiting[i] = waiting[i].max(r.waiting);
            reports[i] += rigs[i].reports() - before[i];
        }
        println!(
            "hook: round {} ({} started first): median gap {:.2} ms without a hook, {:.2} ms with one",
            round + 1,
            if first_hooked { "hooked" } else { "plain" },
            round_medians[0],
            round_medians[1]
        );
    }
    // The median, p95 and longest gap of each. A loop that never read has no median, and its
    // longest gap is at least the wait under way at a window's end.
    let spread = |values: &[f64], waiting: f64| {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: usize| {
            v.get(v.len().saturating_sub(1) * q / 100)
                .copied()
                .unwrap_or(f64::INFINITY)
        };
        [
            at(50),
            at(95),
            v.last().copied().unwrap_or(0.0).max(waiting),
        ]
    };
    let [plain, hooked] = [0, 1].map(|i| spread(&gaps[i], waiting[i]));
    for (what, i, [mid, p95, max]) in [
        ("without a hook", 0, plain),
        ("a 20 s hook asleep", 1, hooked),
    ] {
        println!(
            "hook: {what:<18} {} gaps, {} reports: median {mid:.2} ms, p95 {p95:.2} ms, max {max:.2} ms",
            gaps[i].len(),
            reports[i]
        );
    }
    let ratio = [0, 1, 2].map(|k| hooked[k] / plain[k]);
    println!(
        "hook: with ÷ without: median {:.3} ×, p95 {:.3} ×, max {:.3} ×",
        ratio[0], ratio[1], ratio[2]
    );
    verdict.check(
        "hook: median gap, a 20 s hook asleep ÷ none",
        ratio[0],
        "×",
        1.1,
    );
    // Half an interval late at most: the loop keeps to its schedule whatever the hook does.
    verdict.check(
        "hook: longest gap while a 20 s hook sleeps",
        hooked[2],
        "ms",
        (HOOK_INTERVAL * 3 / 2).as_millis() as f64,
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and wants no work.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // `cargo bench --bench targets -- parse` runs only the parts named.
    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| chosen.is_empty() || chosen.iter().any(|c| name.contains(c.as_str()));
    let mut verdict = Verdict { missed: false };
    if wanted("idle") {
        idle_ticks(&mut verdict);
    }
    if wanted("parse") {
        parse_and_render(&mut verdict);
    }
    if wanted("json") {
        json_line(&mut verdict);
    }
    if wanted("memory") {
        resident_memory(&mut verdict);
    }
    if wanted("hook") {
        hook_and_sampling(&mut verdict);
    }
    if wanted("incidents") {
        incidents::year_of_logs(&mut verdict);
    }
    if verdict.missed {
        std::process::exit(1);
    }
}
