//! The performance targets, measured: `cargo bench --bench targets`.
//!
//! - the idle loop's work per tick (CPU time, heap allocations) over 100,000 ticks;
//! - parse and render of a 5,000-process `ps aux` output;
//! - the daemon's resident memory while idle, before and after an incident.
//!
//! Whole captures (against earlyoom and the raw ps and top, peak memory) are measured by
//! `bench/run.sh` (benches/compare).
//!
//! Medians of repeated runs; exits non-zero when a target is missed. Not a test: timings on a
//! shared machine vary, so this is run by hand and its figures quoted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use memory_monitor::capture::{OUTPUT_LIMIT, Outputs, Sources, Tools};
use memory_monitor::daemon::{KillWatch, Watch};
use memory_monitor::decide::Rules;
use memory_monitor::proc::SystemUsers;
use memory_monitor::render::{details, incident};
use memory_monitor::report::{Occasion, Report};
use memory_monitor::sample::MemSample;
use rustix::process::{Pid, Signal, kill_process};

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
    let state_dir = tempfile::tempdir().unwrap();
    let (mut kills, _) = KillWatch::start(
        memory_monitor::capture::kernel_now(),
        Some(Path::new("/dev/kmsg")),
        Path::new("/proc"),
        state_dir.path(),
        &SystemUsers,
    );
    let mut tick_once = || {
        let sample = watch.sample().unwrap();
        assert!(watch.decide(&sample).is_none());
        assert!(kills.tick(&SystemUsers).entries.is_empty());
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
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/psaux_crush-synaps-arch_1.txt"
    ))
    .unwrap();
    let mut lines = sample.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let rows: Vec<&str> = lines.collect();
    for i in 0..5000 {
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
    if wanted("memory") {
        resident_memory(&mut verdict);
    }
    if verdict.missed {
        std::process::exit(1);
    }
}
