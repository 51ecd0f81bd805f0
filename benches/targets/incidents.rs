//! `memory-monitor incidents` over a year of logs: 50,000 entries (reports with their ten
//! biggest processes, recovered lines, OOM kills) in 52 rotated .gz files and the current one,
//! as logrotate leaves them. The real binary is run on them; its CPU time and peak memory come
//! from wait4's rusage, and the peak is compared with the same binary's on an empty directory.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Local, TimeDelta};

use super::{Verdict, median};

const ENTRIES: usize = 50_000;
const ROTATED: usize = 52;
const RUNS: usize = 5;

/// A report as the daemon writes it (snapshots/jsonl_report.snap): 4 KB, ten processes.
fn report_template() -> String {
    let snap = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/jsonl_report.snap"),
    )
    .unwrap();
    snap.lines()
        .find(|l| l.starts_with('{'))
        .unwrap()
        .to_string()
}

fn time(t: DateTime<chrono::FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Writes the year into `dir`; returns how many entries (start objects aside) it holds.
fn write_year(dir: &Path) -> usize {
    let template = report_template();
    let now = Local::now().fixed_offset();
    let mut t = now - TimeDelta::days(365);
    let step = TimeDelta::seconds(365 * 86_400 / ENTRIES as i64);
    let programs = ["firewalld", "java", "node", "postgres", "chromium"];
    let per_file = ENTRIES / (ROTATED + 1) + 1;
    let (mut entries, mut episode, mut incident, mut pid) = (0usize, 0u64, 0u64, 1000u64);
    let mut started = time(t);
    for file in 0..=ROTATED {
        let mut text = String::new();
        // A new run every fourth file: the numbers restart.
        if file % 4 == 0 {
            pid += 1;
            incident = 0;
            started = time(t);
        }
        text.push_str(&format!(
            r#"{{"time":"{}","host":"pi4","event":"start","schema":1,"version":"0.1.0","pid":{pid},"started":"{started}","settings":{{}}}}"#,
            time(t)
        ));
        text.push('\n');
        let mut in_file = 0;
        while in_file < per_file && entries < ENTRIES {
            episode += 1;
            incident += 1;
            let reports = 1 + episode % 7;
            let program = programs[(episode % 11 % 5) as usize];
            if episode % 8 == 0 {
                text.push_str(&format!(
                    r#"{{"time":"{}","host":"pi4","event":"oom-kill","schema":1,"kills":1,"before_start":false,"victim":{{"pid":4242,"name":"{program}","uid":1001,"user":"alice","anon_rss_bytes":1632087040,"file_rss_bytes":6815744,"shmem_rss_bytes":0,"constraint":"system-wide","cgroup":null,"before_start":false}},"names":null,"names_unknown":null}}"#,
                    time(t)
                ));
                text.push('\n');
                entries += 1;
                in_file += 1;
            }
            for r in 0..reports {
                let line = template
                    .replacen("2026-11-22T14:03:15+01:00", &time(t), 1)
                    .replacen("\"incident\":3", &format!("\"incident\":{incident}"), 1)
                    .replacen(
                        "\"ram_percent\":83.2",
                        &format!("\"ram_percent\":{}.{}", 81 + (episode + r) % 18, r),
                        1,
                    )
                    .replacen(
                        "\"high_for_seconds\":618.25",
                        &format!("\"high_for_seconds\":{}", 15 + 600 * r),
                        1,
                    )
                    .replacen("firewalld --nofork", &format!("{program} --nofork"), 1);
                text.push_str(&line);
                text.push('\n');
                t += step;
                entries += 1;
                in_file += 1;
            }
            text.push_str(&format!(
                r#"{{"time":"{}","host":"pi4","event":"recovered","schema":1,"incident":{incident},"high_for_seconds":{},"ram_percent":40.0,"ram_used_bytes":1,"ram_total_bytes":2,"memory_scope":"host"}}"#,
                time(t),
                600 * reports
            ));
            text.push('\n');
            t += step;
            entries += 1;
            in_file += 1;
        }
        let age = ROTATED - file;
        if age == 0 {
            std::fs::write(dir.join("incidents.jsonl"), text).unwrap();
        } else {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(text.as_bytes()).unwrap();
            std::fs::write(
                dir.join(format!("incidents.jsonl.{age}.gz")),
                gz.finish().unwrap(),
            )
            .unwrap();
        }
    }
    entries
}

/// GNU time, which reports its child's own peak: a child of this process would inherit the
/// benchmark's own high-water mark in ru_maxrss (Linux keeps it across exec), so the figure
/// must come from a process that forked from something small.
const TIME: &str = "/usr/bin/time";

/// CPU time (user and system, from wait4, GNU time's own included) and peak resident memory
/// (KiB, GNU time's %M: the command's ru_maxrss) of one run.
// The child is reaped by wait4, which clippy does not see: std's wait would give no rusage.
#[allow(clippy::zombie_processes)]
fn run_once(dir: &Path, report: &Path) -> (Duration, u64) {
    let child = Command::new(TIME)
        .args(["-f", "%M", "-o"])
        .arg(report)
        .arg(env!("CARGO_BIN_EXE_memory-monitor"))
        .args(["incidents", "--since", "400d", "--log-dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: wait4 fills the status and the rusage we pass, for the child we started.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut usage), pid);
        usage
    };
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let peak = std::fs::read_to_string(report).unwrap();
    (
        tv(usage.ru_utime) + tv(usage.ru_stime),
        peak.trim().parse().unwrap(),
    )
}

pub fn year_of_logs(verdict: &mut Verdict) {
    if !Path::new(TIME).exists() {
        println!("incidents: skipped, {TIME} is missing (sudo apt-get install time)");
        return;
    }
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let year = root.path().join("year");
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&year).unwrap();
    std::fs::create_dir_all(&empty).unwrap();
    let entries = write_year(&year);
    let bytes: u64 = std::fs::read_dir(&year)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "incidents: {entries} entries in {} files, {:.1} MiB on disk",
        ROTATED + 1,
        bytes as f64 / (1 << 20) as f64
    );
    let (mut cpu, mut peak, mut base) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let report = root.path().join("time");
        let (c, p) = run_once(&year, &report);
        cpu.push(c.as_secs_f64());
        peak.push(p as f64);
        base.push(run_once(&empty, &report).1 as f64);
    }
    let (peak, base) = (median(peak), median(base));
    println!(
        "incidents: peak {:.2} MiB, on an empty directory {:.2} MiB",
        peak / 1024.0,
        base / 1024.0
    );
    verdict.check("incidents over a year: CPU", median(cpu), "s", 1.0);
    verdict.check(
        "incidents over a year: peak memory over an empty dir",
        (peak - base) / 1024.0,
        "MiB",
        entries as f64 / 10_000.0,
    );
}
