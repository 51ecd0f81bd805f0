//! What one capture costs: `memory-monitor snapshot` against the ps and top it runs, run by
//! themselves; the daemon's peak memory during one; and how long it takes to start.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use memory_monitor::capture::{self, OUTPUT_LIMIT, Outputs, PS_ARGS, Sources, TOP_ARGS, Tools};
use memory_monitor::render::{details, incident};
use memory_monitor::report::{Occasion, Report};
use memory_monitor::sample::MemSample;
use rustix::time::{ClockId, clock_gettime};

use crate::measure::{median, ms, process_count, run_measured, start_daemon, status_kib};

/// Medians over the runs at one process count.
pub struct CaptureCost {
    pub processes: usize,
    pub ps_output_kib: f64,
    pub ps_cpu_ms: f64,
    pub top_cpu_ms: f64,
    pub snapshot_cpu_ms: f64,
    /// The snapshot process alone, without ps and top.
    pub ours_cpu_ms: f64,
    /// Parsing both outputs, reading the details and rendering both logs' text, in-process.
    pub parse_render_cpu_ms: f64,
    pub ps_wall_ms: f64,
    pub top_wall_ms: f64,
    pub snapshot_wall_ms: f64,
}

impl CaptureCost {
    pub fn raw_cpu_ms(&self) -> f64 {
        self.ps_cpu_ms + self.top_cpu_ms
    }
}

/// With the machine's processes as they are (the caller adds idle ones), `runs` of each.
pub fn measure(monitor_bin: &Path, runs: usize) -> CaptureCost {
    let processes = process_count();
    let mut samples: [Vec<f64>; 10] = Default::default();
    let (mut last_ps, mut last_top) = (Vec::new(), Vec::new());
    // Untimed, so the first timed run does not pay for the kernel's first look at new processes.
    run_measured(&mut raw("ps", &PS_ARGS));
    // Without the kernel's log: the daemon's captures do not read it (its loop does, and the
    // idle figures count that), and the raw ps and top do nothing like it.
    let snapshot = || {
        let mut command = Command::new(monitor_bin);
        command.args(["snapshot", "--kernel-log", "off"]);
        command
    };
    run_measured(&mut snapshot());
    for _ in 0..runs {
        let ps = run_measured(&mut raw("ps", &PS_ARGS));
        let top = run_measured(&mut raw("top", &TOP_ARGS));
        let snapshot = run_measured(&mut snapshot());
        let parse_render = parse_and_render(&ps.stdout, &top.stdout);
        for (sample, value) in samples.iter_mut().zip([
            ps.stdout.len() as f64 / 1024.0,
            ms(ps.cpu),
            ms(top.cpu),
            ms(snapshot.cpu),
            ms(snapshot.own_cpu),
            ms(parse_render),
            ms(ps.wall),
            ms(top.wall),
            ms(snapshot.wall),
            0.0,
        ]) {
            sample.push(value);
        }
        (last_ps, last_top) = (ps.stdout, top.stdout);
    }
    drop((last_ps, last_top));
    let [
        kib,
        ps_cpu,
        top_cpu,
        snap_cpu,
        ours,
        pr,
        ps_wall,
        top_wall,
        snap_wall,
        _,
    ] = samples.map(median);
    CaptureCost {
        processes,
        ps_output_kib: kib,
        ps_cpu_ms: ps_cpu,
        top_cpu_ms: top_cpu,
        snapshot_cpu_ms: snap_cpu,
        ours_cpu_ms: ours,
        parse_render_cpu_ms: pr,
        ps_wall_ms: ps_wall,
        top_wall_ms: top_wall,
        snapshot_wall_ms: snap_wall,
    }
}

/// ps or top as memory-monitor runs them: with `capture::program_env` and nothing else.
fn raw(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).env_clear().envs(capture::program_env());
    command
}

fn thread_cpu() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Parsing both outputs and rendering both logs' text, as `snapshot` does, in-process. Reading
/// the biggest processes' details from /proc is capture, not parsing, and is left out.
fn parse_and_render(ps: &[u8], top: &[u8]) -> Duration {
    let tools = Tools {
        ps_bin: "unused".into(),
        top_bin: "unused".into(),
        timeout: Duration::from_secs(1),
        output_limit: OUTPUT_LIMIT,
    };
    let no_details = Sources::of_this_system(tools.clone(), PathBuf::from("/proc"), 0);
    let with_details = Sources::of_this_system(tools, PathBuf::from("/proc"), 5);
    let memory = MemSample {
        total_kib: 1_000_000,
        available_kib: 100_000,
        cgroup_limit: false,
    };
    let time = chrono::Local::now().fixed_offset();
    let (ps, top) = (ps.to_vec(), top.to_vec());
    let start = thread_cpu();
    let report = Report {
        time,
        occasion: Occasion::Snapshot,
        memory,
        context: Default::default(),
        evidence: no_details.evidence_from(Outputs::recorded(Ok(ps.clone()), Ok(top.clone()))),
    };
    let mut text = String::new();
    incident::render(&report, &mut text);
    let parsed_and_rendered = thread_cpu() - start;
    assert!(report.evidence.ps.is_ok(), "ps output parsed");

    let details_read = with_details.evidence_from(Outputs::recorded(Ok(ps), Ok(top)));
    let start = thread_cpu();
    let mut details_text = String::new();
    details::render(
        details_read.details.as_deref().unwrap_or_default(),
        &time,
        &mut details_text,
    );
    let details_rendered = thread_cpu() - start;
    std::hint::black_box((text, details_text));
    parsed_and_rendered + details_rendered
}

/// The daemon's memory over its first report, which it makes at once.
pub struct Peak {
    pub hwm_kib: u64,
    pub rss_after_kib: u64,
    pub anon_after_kib: u64,
}

pub fn peak_memory(monitor_bin: &Path) -> Peak {
    let logs = tempfile::tempdir().expect("temp dir");
    let daemon = start_daemon(
        monitor_bin,
        &["--threshold", "0.01", "--sustain", "0", "--repeat", "1h"],
        logs.path(),
        Stdio::null(),
    );
    let details = logs.path().join("details.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&details)
        .unwrap_or_default()
        .ends_with("\n\n")
    {
        assert!(Instant::now() < deadline, "no report within a minute");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The report is written before the freed memory is given back; let that happen too.
    std::thread::sleep(Duration::from_millis(300));
    Peak {
        hwm_kib: status_kib(daemon.pid(), "VmHWM"),
        rss_after_kib: status_kib(daemon.pid(), "VmRSS"),
        anon_after_kib: status_kib(daemon.pid(), "RssAnon"),
    }
}

/// From exec to the first sample: the daemon prints its start line right after taking it.
pub fn start_up(monitor_bin: &Path) -> Duration {
    let logs = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let mut daemon = start_daemon(
        monitor_bin,
        &["--threshold", "99.9", "--urgent", "off"],
        logs.path(),
        Stdio::piped(),
    );
    let mut stderr = BufReader::new(daemon.0.stderr.take().expect("piped"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("start line");
    let took = start.elapsed();
    assert!(line.contains("in use"), "unexpected start line: {line}");
    // Stopped while its stderr is still open, so its last words have somewhere to go.
    drop(daemon);
    took
}

/// What one baseline of the growth line costs: `stat` of every process read, in-process, as the
/// daemon reads it at an episode's first high sample and after each report. Median CPU and wall
/// time in ms over `runs`.
pub fn baseline_cost(runs: usize) -> (f64, f64, usize) {
    let proc_root = Path::new("/proc");
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    let mut processes = 0;
    for _ in 0..runs {
        let (start_cpu, start) = (thread_cpu(), std::time::Instant::now());
        let baseline = memory_monitor::proc::Baseline::read(proc_root);
        cpu.push(crate::measure::ms(thread_cpu() - start_cpu));
        wall.push(crate::measure::ms(start.elapsed()));
        processes = baseline.processes.len();
    }
    (
        crate::measure::median(cpu),
        crate::measure::median(wall),
        processes,
    )
}

/// What finding where the RAM is costs, in-process as a report reads it: the unit of every
/// process (its `cgroup` and `statm`) with each unit's cgroup figures, the tmpfs mounts, and
/// PSI. Median CPU and wall time in ms over `runs`, and how many units there were.
pub fn places_cost(runs: usize) -> (f64, f64, usize) {
    let (proc_root, sys_root) = (Path::new("/proc"), Path::new("/sys"));
    // The report's ps table, which gives the RSS of every process.
    let ps = run_measured(&mut raw("ps", &PS_ARGS)).stdout;
    let evidence = memory_monitor::report::Evidence {
        top: Err(memory_monitor::report::Missing::Program(
            memory_monitor::report::ProgramFailure::NotFound {
                program: "top",
                path: Vec::new(),
            },
        )),
        ps: memory_monitor::parse::ps::parse_owned(ps).map_err(memory_monitor::report::Missing::Ps),
        details: None,
        notes: Vec::new(),
    };
    let mut cpu = Vec::new();
    let mut wall = Vec::new();
    let mut units = 0;
    for _ in 0..runs {
        let (start_cpu, start) = (thread_cpu(), std::time::Instant::now());
        let places = capture::read_places(proc_root, sys_root, &evidence);
        cpu.push(crate::measure::ms(thread_cpu() - start_cpu));
        wall.push(crate::measure::ms(start.elapsed()));
        units = places.units.len();
    }
    (
        crate::measure::median(cpu),
        crate::measure::median(wall),
        units,
    )
}
