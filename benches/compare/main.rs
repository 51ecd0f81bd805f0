//! memory-monitor against earlyoom and against the raw ps and top it runs. `bench/run.sh` runs
//! this and writes its tables into BENCHMARKS.md; the targets are checked here.
//!
//! `cargo bench --bench compare -- [--monitor PATH] [--earlyoom PATH] [--runs N] [--idle-seconds S] [--sizes
//! 100,1000] [--quick]`. Prints Markdown on stdout, progress on stderr; exits 1 when a target is
//! missed. Needs earlyoom, ps, top and root-free room for 10,000 idle `sleep`s.

mod capture;
mod idle;
mod latency;
mod measure;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use measure::{IdleProcesses, median, ms, process_count};

struct Options {
    monitor: PathBuf,
    earlyoom: PathBuf,
    runs: usize,
    /// Captures are short and ps's cost varies run to run by ±15 % here: more runs than idle.
    capture_runs: usize,
    idle_window: Duration,
    /// The side-by-side window at the defaults, for CPU per hour.
    hour_window: Duration,
    /// Real OOM kills timed from the kernel to the entry on disk.
    kills: usize,
    sizes: Vec<usize>,
}

fn options() -> Options {
    let mut options = Options {
        monitor: PathBuf::from(env!("CARGO_BIN_EXE_memory-monitor")),
        earlyoom: PathBuf::from("earlyoom"),
        runs: 7,
        capture_runs: 15,
        idle_window: Duration::from_secs(60),
        hour_window: Duration::from_secs(600),
        kills: 20,
        sizes: vec![100, 1000, 2000, 5000, 10_000],
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--monitor" => options.monitor = PathBuf::from(value()),
            "--earlyoom" => options.earlyoom = PathBuf::from(value()),
            "--runs" => {
                options.runs = value().parse().expect("--runs N");
                options.capture_runs = 2 * options.runs + 1;
            }
            "--idle-seconds" => {
                options.idle_window =
                    Duration::from_secs(value().parse().expect("--idle-seconds S"))
            }
            "--hour-seconds" => {
                options.hour_window =
                    Duration::from_secs(value().parse().expect("--hour-seconds S"))
            }
            "--kills" => options.kills = value().parse().expect("--kills N"),
            "--sizes" => {
                options.sizes = value()
                    .split(',')
                    .map(|s| s.parse().expect("--sizes 100,1000"))
                    .collect()
            }
            // A smoke run that proves the harness works, not a measurement.
            "--quick" => {
                options.runs = 1;
                options.capture_runs = 1;
                options.idle_window = Duration::from_secs(3);
                options.hour_window = Duration::from_secs(5);
                options.kills = 2;
                options.sizes = vec![100, 1000, 5000];
            }
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    options
}

struct Targets {
    rows: String,
    missed: usize,
}

impl Targets {
    fn check(&mut self, what: &str, measured: f64, limit: f64, unit: &str) {
        let met = measured <= limit;
        self.missed += usize::from(!met);
        let _ = writeln!(
            self.rows,
            "| {what} | ≤ {limit:.2}{unit} | {measured:.2}{unit} | {} |",
            if met { "met" } else { "**missed**" }
        );
    }
}

fn main() {
    let options = options();
    let runs = options.runs;
    let mut out = String::new();
    let mut targets = Targets {
        rows: String::new(),
        missed: 0,
    };

    // 1. Idle, beside earlyoom.
    let mut pairs = Vec::new();
    for run in 1..=runs {
        eprintln!(
            "idle run {run}/{runs}: {:?} beside earlyoom",
            options.idle_window
        );
        pairs.push(idle::measure(
            &options.monitor,
            &options.earlyoom,
            options.idle_window,
        ));
    }
    let idle_median =
        |pick: &dyn Fn(&idle::IdlePair) -> f64| median(pairs.iter().map(pick).collect());
    let e_cpu = idle_median(&|p| p.earlyoom.cpu_per_wakeup_us);
    let m_cpu = idle_median(&|p| p.monitor.cpu_per_wakeup_us);
    let e_wake = idle_median(&|p| p.earlyoom.wakeups as f64);
    let m_wake = idle_median(&|p| p.monitor.wakeups as f64);
    let e_rss = idle_median(&|p| p.earlyoom.vm_rss_kib as f64);
    let m_rss = idle_median(&|p| p.monitor.vm_rss_kib as f64);
    let e_anon = idle_median(&|p| p.earlyoom.rss_anon_kib as f64);
    let m_anon = idle_median(&|p| p.monitor.rss_anon_kib as f64);
    let kill_source = &pairs[0].kill_source;
    let _ = writeln!(
        out,
        "### Idle, side by side ({} s windows, median of {runs})\n\n\
         memory-monitor's OOM kills: {kill_source}; each wake-up includes that read and the trend \
         ring's sample.\n\n\
         | | CPU per wake-up | wake-ups | VmRSS | RssAnon |\n|---|---:|---:|---:|---:|\n\
         | {} (`earlyoom -r 3600`) | {e_cpu:.1} µs | {e_wake:.0} | {e_rss:.0} KiB | {e_anon:.0} KiB |\n\
         | memory-monitor (`run --interval 1s`) | {m_cpu:.1} µs | {m_wake:.0} | {m_rss:.0} KiB | {m_anon:.0} KiB |\n\
         | memory-monitor ÷ earlyoom | {:.2}× | | {:.2}× | {:.2}× |\n",
        options.idle_window.as_secs(),
        idle::earlyoom_version(&options.earlyoom),
        m_cpu / e_cpu,
        m_rss / e_rss,
        m_anon / e_anon,
    );
    targets.check(
        "idle: CPU per wake-up ÷ earlyoom's",
        m_cpu / e_cpu,
        1.1,
        "×",
    );
    targets.check("idle: VmRSS ÷ earlyoom's", m_rss / e_rss, 2.0, "×");
    targets.check("idle: RssAnon ÷ earlyoom's", m_anon / e_anon, 2.0, "×");

    // 1b. CPU per hour at the defaults.
    eprintln!(
        "idle at the defaults: {:?} beside earlyoom",
        options.hour_window
    );
    let (e_hour, m_hour, hour_source) =
        idle::per_hour(&options.monitor, &options.earlyoom, options.hour_window);
    let _ = writeln!(
        out,
        "### Idle at the defaults, side by side ({} s, CPU per hour)\n\n\
         memory-monitor's OOM kills: {hour_source}.\n\n\
         | | CPU per hour |\n|---|---:|\n\
         | {} (`earlyoom -r 3600`: adaptive polling, 1 s at most while memory is plentiful) | {:.2} s |\n\
         | memory-monitor (`run`: a sample every 3 s) | {:.2} s |\n\
         | memory-monitor ÷ earlyoom | {:.2}× |\n",
        options.hour_window.as_secs(),
        idle::earlyoom_version(&options.earlyoom),
        e_hour,
        m_hour,
        m_hour / e_hour,
    );
    targets.check(
        "idle at the defaults: CPU per hour ÷ earlyoom's",
        m_hour / e_hour,
        0.4,
        "×",
    );

    // 2 and 6. Capture cost as the process count grows.
    let mut peak_section = String::new();
    let _ = writeln!(
        out,
        "### One capture: `memory-monitor snapshot` against raw `ps` and `top` (CPU ms, medians)\n\n\
         \"ours\" is the snapshot process alone, without the ps and top it ran. Below 1,000 processes a \
         run is short and our fixed cost a larger share, so those sizes get three times the runs.\n\n\
         | processes | runs | ps output | ps | top | ps + top | snapshot | ÷ raw | ours | ours ÷ raw | parse + render | ÷ ps | wall: ps / top / snapshot |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut ps_kib_at_5000 = None;
    let mut baselines = String::new();
    let mut places = String::new();
    for &size in &options.sizes {
        let extra = size.saturating_sub(process_count());
        eprintln!("capture at {size} processes ({extra} idle sleeps added)");
        let _idle = IdleProcesses::spawn(extra);
        let capture_runs = if size < 1000 {
            3 * options.capture_runs
        } else {
            options.capture_runs
        };
        let cost = capture::measure(&options.monitor, capture_runs);
        if [100, 1000, 5000].contains(&size) {
            let (cpu, wall, units) = capture::places_cost(capture_runs);
            let _ = writeln!(
                places,
                "| {} | {capture_runs} | {units} | {cpu:.2} ms | {wall:.2} ms |",
                process_count()
            );
        }
        if [1000, 5000].contains(&size) {
            let (cpu, wall, processes) = capture::baseline_cost(capture_runs);
            let _ = writeln!(
                baselines,
                "| {processes} | {capture_runs} | {cpu:.2} ms | {wall:.2} ms |"
            );
        }
        let _ = writeln!(
            out,
            "| {} | {capture_runs} | {:.0} KiB | {:.1} | {:.1} | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1}% | {:.2} | {:.1}% | {:.0} / {:.0} / {:.0} ms |",
            cost.processes,
            cost.ps_output_kib,
            cost.ps_cpu_ms,
            cost.top_cpu_ms,
            cost.raw_cpu_ms(),
            cost.snapshot_cpu_ms,
            cost.snapshot_cpu_ms / cost.raw_cpu_ms(),
            cost.ours_cpu_ms,
            100.0 * cost.ours_cpu_ms / cost.raw_cpu_ms(),
            cost.parse_render_cpu_ms,
            100.0 * cost.parse_render_cpu_ms / cost.ps_cpu_ms,
            cost.ps_wall_ms,
            cost.top_wall_ms,
            cost.snapshot_wall_ms,
        );
        // Below 1,000 processes a capture is short and our fixed cost a larger share of it;
        // at most once every 10 minutes, a quarter more than ps and top is no one's loss.
        let ratio_limit = if size < 1000 { 1.25 } else { 1.1 };
        targets.check(
            &format!("capture at {size}: snapshot CPU ÷ raw ps + top"),
            cost.snapshot_cpu_ms / cost.raw_cpu_ms(),
            ratio_limit,
            "×",
        );
        if [100, 1000, 5000].contains(&size) {
            targets.check(
                &format!("capture at {size}: parse + render ÷ ps's CPU"),
                100.0 * cost.parse_render_cpu_ms / cost.ps_cpu_ms,
                5.0,
                "%",
            );
        }
        if size == 5000 {
            ps_kib_at_5000 = Some(cost.ps_output_kib);
            // 3. Peak memory, with the same 5,000 processes still there.
            let peaks: Vec<capture::Peak> = (0..runs)
                .map(|run| {
                    eprintln!("peak memory run {}/{runs}", run + 1);
                    capture::peak_memory(&options.monitor)
                })
                .collect();
            let hwm = median(peaks.iter().map(|p| p.hwm_kib as f64).collect());
            let after = median(peaks.iter().map(|p| p.rss_after_kib as f64).collect());
            let anon_after = median(peaks.iter().map(|p| p.anon_after_kib as f64).collect());
            let limit = 2.0 * cost.ps_output_kib + 2048.0;
            let _ = writeln!(
                peak_section,
                "\n### Peak memory of the daemon over a capture of {} processes (median of {runs})\n\n\
                 | ps output | limit (2 × ps output + 2 MiB) | peak (VmHWM) | VmRSS after | RssAnon after |\n\
                 |---:|---:|---:|---:|---:|\n\
                 | {:.0} KiB | {limit:.0} KiB | {hwm:.0} KiB | {after:.0} KiB | {anon_after:.0} KiB |\n",
                cost.processes, cost.ps_output_kib,
            );
            targets.check("peak memory at 5,000 processes (KiB)", hwm, limit, "");
        }
    }
    if ps_kib_at_5000.is_none() {
        eprintln!("(no 5,000-process size asked for: peak memory not measured)");
    }
    out.push_str(&peak_section);
    if !baselines.is_empty() {
        let _ = writeln!(
            out,
            "\n### The growth line's baseline: every process's resident memory (medians)\n\n\
             Read at an episode's first high sample and after each report: `stat` of every \
             process, in-process.\n\n\
             | processes | runs | CPU | wall |\n|---:|---:|---:|---:|\n{baselines}"
        );
    }

    if !places.is_empty() {
        let _ = writeln!(
            out,
            "\n### Where the RAM is: units, tmpfs and PSI (medians)\n\n\
             Read at each report, after ps and top, in-process: the `cgroup.procs` of every cgroup \
             under /sys/fs/cgroup, each unit's cgroup figures, the tmpfs mounts of PID 1, and \
             `/proc/pressure/memory`; RSS comes from ps's table. The snapshot above pays for it \
             too.\n\n\
             | processes | runs | units | CPU | wall |\n|---:|---:|---:|---:|---:|\n{places}"
        );
    }

    // 7. From the kernel's kill to the entry on disk.
    match latency::unavailable() {
        Some(why) => {
            eprintln!("OOM-kill latency not measured: {why}");
            let _ = writeln!(
                out,
                "\n### From an OOM kill to its entry\n\nNot measured: {why}.\n"
            );
        }
        None => {
            eprintln!("OOM-kill latency: {} real kills", options.kills);
            let latencies = latency::measure(&options.monitor, options.kills);
            let n = latencies.len();
            let median_ms = if n > 0 {
                median(latencies.clone())
            } else {
                f64::INFINITY
            };
            let fastest = latencies.iter().copied().fold(f64::INFINITY, f64::min);
            let slowest = latencies.iter().copied().fold(0.0, f64::max);
            let _ = writeln!(
                out,
                "\n### From an OOM kill to its entry (the daemon at its defaults: 3 s interval)\n\n\
                 | kills | median | fastest | slowest | limit (interval + 100 ms) |\n|---:|---:|---:|---:|---:|\n\
                 | {n} of {} | {median_ms:.0} ms | {fastest:.0} ms | {slowest:.0} ms | 3100 ms |\n",
                options.kills
            );
            targets.check(
                "OOM kill to entry on disk, median (ms)",
                median_ms,
                3100.0,
                "",
            );
        }
    }

    // 4. Size, 5. start-up.
    let starts: Vec<f64> = (0..21.max(runs))
        .map(|_| ms(capture::start_up(&options.monitor)))
        .collect();
    let start_median = median(starts.clone());
    let size_kib = measure::file_size(&options.monitor) as f64 / 1024.0;
    let _ = writeln!(
        out,
        "\n### Binary and start-up\n\n\
         | binary size | exec to first sample (median of {}) | fastest | slowest |\n|---:|---:|---:|---:|\n\
         | {size_kib:.0} KiB | {start_median:.2} ms | {:.2} ms | {:.2} ms |\n",
        starts.len(),
        starts.iter().copied().fold(f64::INFINITY, f64::min),
        starts.iter().copied().fold(0.0, f64::max),
    );
    targets.check("start-up: exec to first sample (ms)", start_median, 5.0, "");

    println!(
        "### Targets\n\n| target | limit | measured | |\n|---|---:|---:|---|\n{}\n{out}",
        targets.rows
    );
    if targets.missed > 0 {
        eprintln!("{} target(s) missed", targets.missed);
        std::process::exit(1);
    }
}
