//! What is particular to a Raspberry Pi: its kernels have PSI off (no `/proc/pressure`), they
//! reserve CMA inside MemTotal, and its meminfo (`tests/fixtures/meminfo/`, a Zero 2 W on
//! 32-bit and a Pi 4 on 64-bit Raspberry Pi OS, each idle and under pressure) goes through the
//! parser, the decision rules, `snapshot` and the daemon as docs/log-format.md says.

use crate::util;

use rustix::process::Signal;

use std::time::Duration;

use memory_monitor::decide::Event;
use memory_monitor::sample::{MemSample, parse_meminfo};
use util::daemon::{Launch, cat, report_count};
use util::episodes::{INTERVAL, SECOND, Sample, actual, default_rules, report};
use util::{FakeProc, FakeProcess, meminfo_fixture, snapshot};

/// One machine's pair of fixtures and what docs/log-format.md makes of them, worked out by hand.
struct Pi {
    idle: &'static str,
    high: &'static str,
    total_kib: u64,
    /// MemAvailable of the idle file, then of the high one.
    available_kib: [u64; 2],
    /// MemFree + Buffers + Cached + SReclaimable − Shmem: the documented stand-in for MemAvailable.
    estimate_kib: [u64; 2],
    /// used% as the logs show it.
    shown: [&'static str; 2],
    /// The header's `(used of total)`.
    sizes: [&'static str; 2],
}

const ZERO_2_W: Pi = Pi {
    idle: "raspberrypi-zero-2-w_armv7_6.6_idle.txt",
    high: "raspberrypi-zero-2-w_armv7_6.6_high.txt",
    total_kib: 443_596,
    available_kib: [356_372, 55_236],
    estimate_kib: [367_048, 65_688],
    shown: ["19.7", "87.5"],
    sizes: ["85.18 of 433.20 MiB", "379.26 of 433.20 MiB"],
};

const PI_4: Pi = Pi {
    idle: "raspberrypi-4-4gb_arm64_6.6_idle.txt",
    high: "raspberrypi-4-4gb_arm64_6.6_high.txt",
    total_kib: 3_884_132,
    available_kib: [3_392_624, 348_800],
    estimate_kib: [3_436_176, 392_352],
    shown: ["12.7", "91.0"],
    sizes: ["0.47 of 3.70 GiB", "3.37 of 3.70 GiB"],
};

const PIS: [&Pi; 2] = [&ZERO_2_W, &PI_4];

impl Pi {
    fn files(&self) -> [&'static str; 2] {
        [self.idle, self.high]
    }
}

fn text(name: &str) -> String {
    String::from_utf8(meminfo_fixture(name)).unwrap()
}

/// The documented used%, worked out from the file's lines without the parser under test.
fn spec_used_percent(text: &str) -> f64 {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (label, value) = line.split_once(':')?;
            (label == name).then(|| value.split_whitespace().next().unwrap().parse::<f64>())
        })
    };
    let kib = |name: &str| field(name).unwrap().unwrap();
    let total = kib("MemTotal");
    let available = field("MemAvailable").map_or_else(
        || kib("MemFree") + kib("Buffers") + kib("Cached") + kib("SReclaimable") - kib("Shmem"),
        Result::unwrap,
    );
    (total - available) / total * 100.0
}

fn without(text: &str, drop: impl Fn(&str) -> bool) -> String {
    text.lines()
        .filter(|l| !drop(l))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn is_cma(line: &str) -> bool {
    line.starts_with("Cma")
}

#[test]
fn pi_meminfo_reads_as_the_spec_says() {
    for pi in PIS {
        for (i, name) in pi.files().into_iter().enumerate() {
            let text = text(name);
            assert!(text.contains("\nCmaTotal:") && text.contains("\nCmaFree:"));
            let sample = parse_meminfo(text.as_bytes()).unwrap();
            assert_eq!(
                sample,
                MemSample {
                    total_kib: pi.total_kib,
                    available_kib: pi.available_kib[i],
                    cgroup_limit: false,
                },
                "{name}"
            );
            let used = sample.used_percent();
            assert!((used - spec_used_percent(&text)).abs() < 1e-9, "{name}");
            assert_eq!(format!("{used:.1}"), pi.shown[i], "{name}");
        }
    }
}

#[test]
fn cma_is_part_of_memtotal_and_counts_nowhere_else() {
    for pi in PIS {
        for (i, name) in pi.files().into_iter().enumerate() {
            let text = text(name);
            let sample = parse_meminfo(text.as_bytes()).unwrap();
            // The CMA lines, dropped or read first, change nothing: CMA is already inside
            // MemTotal, and its free pages inside MemFree and MemAvailable.
            let no_cma = without(&text, is_cma);
            assert_eq!(parse_meminfo(no_cma.as_bytes()).unwrap(), sample, "{name}");
            let cma_first = without(&text, |l| !is_cma(l)) + &no_cma;
            assert_eq!(
                parse_meminfo(cma_first.as_bytes()).unwrap(),
                sample,
                "{name}"
            );

            // Without MemAvailable, the documented estimate stands in, from MemFree, never CmaFree.
            let old_kernel = without(&text, |l| l.starts_with("MemAvailable:"));
            let estimated = parse_meminfo(old_kernel.as_bytes()).unwrap();
            assert_eq!(
                estimated,
                MemSample {
                    total_kib: pi.total_kib,
                    available_kib: pi.estimate_kib[i],
                    cgroup_limit: false,
                },
                "{name}"
            );
            assert!(
                (estimated.used_percent() - spec_used_percent(&old_kernel)).abs() < 1e-9,
                "{name}"
            );
            let no_mem_free = without(&old_kernel, |l| l.starts_with("MemFree:"));
            assert!(
                parse_meminfo(no_mem_free.as_bytes()).is_err(),
                "{name}: CmaFree was taken for MemFree"
            );
        }
    }
}

#[test]
fn the_default_rules_report_the_high_file_and_never_the_idle_one() {
    let used = |name: &str| {
        parse_meminfo(&meminfo_fixture(name))
            .unwrap()
            .used_percent()
    };
    for pi in PIS {
        let (idle, high) = (used(pi.idle), used(pi.high));
        // A minute idle, a minute high, idle again, sampled every 3 s as the daemon does.
        let samples: Vec<Sample> = (0..60)
            .map(|i| {
                (
                    i * INTERVAL,
                    if (20..40).contains(&i) { high } else { idle },
                )
            })
            .collect();
        assert_eq!(
            actual(default_rules(), &samples),
            vec![
                (25, report(1, 15 * SECOND, None)),
                (
                    40,
                    Event::Recovered {
                        incident: 1,
                        high_for: Duration::from_secs(60),
                    }
                ),
            ],
            "{}",
            pi.high
        );
    }
}

/// A procfs as a Raspberry Pi OS kernel has it: its `bcm2709` and `bcm2711` configs build PSI
/// disabled (`CONFIG_PSI_DEFAULT_DISABLED=y`), so there is no `/proc/pressure` unless `psi=1` is
/// on the kernel's command line. The tests on it fail if the program needs that directory, or
/// says anything on stderr for want of it.
fn pi_proc(meminfo: &str) -> FakeProc {
    let fake = FakeProc::new();
    fake.write_meminfo(&meminfo_fixture(meminfo));
    fake
}

#[test]
fn snapshot_works_without_psi() {
    for pi in PIS {
        for (i, name) in pi.files().into_iter().enumerate() {
            let fake = pi_proc(name);
            let out = snapshot(
                &fake,
                &cat("psaux_jc-centos77_1.txt"),
                &cat("top_jc-ubuntu2010_1.txt"),
                &["--details", "1"],
            );
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(
                out.status.success() && stderr.is_empty(),
                "{name}: {stderr}"
            );
            let stdout = String::from_utf8(out.stdout).unwrap();
            let header = stdout.lines().next().unwrap();
            assert!(
                header.contains(&format!(
                    " | snapshot | RAM {}% ({}) | CPU ",
                    pi.shown[i], pi.sizes[i]
                )),
                "{name}: {header}"
            );
            assert!(stdout.contains("\n  #1 PID "), "{name}: {stdout}");
            // No PSI, no pressure line; the breakdown of the Pi's own meminfo is there.
            assert!(!stdout.contains("\n  pressure:"), "{name}: {stdout}");
            assert!(
                stdout.contains("\n  memory: processes "),
                "{name}: {stdout}"
            );
            // With psi=1 on the kernel's command line, the line appears.
            fake.set_pressure("some avg10=0.50 avg60=0.10 avg300=0.02 total=1234\nfull avg10=0.25 avg60=0.05 avg300=0.01 total=567\n");
            let out = snapshot(
                &fake,
                &cat("psaux_jc-centos77_1.txt"),
                &cat("top_jc-ubuntu2010_1.txt"),
                &["--details", "1"],
            );
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert!(
                stdout.contains(
                    "\n  pressure: some 0.5% full 0.2% over 10s, some 0.1% full 0.1% over 60s\n"
                ),
                "{name}: {stdout}"
            );
        }
    }
}

/// The daemon at its default threshold on the Pi's idle file, then its high one, then idle again.
fn daemon_reports_the_high_file_and_not_the_idle_one(pi: &Pi) {
    let fake = pi_proc(pi.idle);
    let mut daemon = Launch::ordinary(&fake)
        .args(&[
            "--interval",
            "20ms",
            "--sustain",
            "100ms",
            "--repeat",
            "10m",
        ])
        .start();
    daemon.wait_for_start();
    let started = format!(
        "RAM {}% in use; reporting when above 80% for 100ms",
        pi.shown[0]
    );
    assert!(
        daemon.stderr_text().contains(&started),
        "{}",
        daemon.stderr_text()
    );
    // Three times the sustain, every sample idle.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(daemon.read("incidents.log"), "", "{}", pi.idle);

    fake.write_meminfo(&meminfo_fixture(pi.high));
    daemon.wait_for_reports(1);
    fake.write_meminfo(&meminfo_fixture(pi.idle));
    daemon.wait_for("recovery", |d| {
        d.read("incidents.log").contains("| recovered |")
    });
    let (status, _, daemon) = daemon.stop(Signal::TERM);
    let stderr = daemon.stderr_text();
    assert!(status.success(), "{status}: {stderr}");
    // The start-up line, where OOM kills come from, and the stop line: nothing about a file
    // it could not read.
    assert_eq!(stderr.lines().count(), 3, "{stderr}");

    let incidents = daemon.read("incidents.log");
    assert_eq!(report_count(&incidents), 1, "{incidents}");
    assert!(!incidents.contains("\n  pressure:"), "no PSI: {incidents}");
    let header = format!(
        " | incident 1 | RAM {}% ({}) | CPU ",
        pi.shown[1], pi.sizes[1]
    );
    assert!(incidents.contains(&header), "{header}\n{incidents}");
    let recovered = format!(" | recovered | RAM {}% | high for ", pi.shown[0]);
    assert!(incidents.contains(&recovered), "{incidents}");
    assert!(daemon.read("details.log").contains(&header));
}

#[test]
fn the_daemon_works_without_psi_on_a_zero_2_w() {
    daemon_reports_the_high_file_and_not_the_idle_one(&ZERO_2_W);
}

#[test]
fn the_daemon_works_without_psi_on_a_pi_4() {
    daemon_reports_the_high_file_and_not_the_idle_one(&PI_4);
}

/// Sizes and times a 32-bit Pi reaches, through `snapshot`: a Pi 4 8 GB on 32-bit Raspberry Pi
/// OS (more memory than a 32-bit address holds in bytes), up 600 days, with a process that
/// started 500 days after boot (4.32e9 clock ticks in its stat, past u32::MAX) and has nearly
/// 4 GiB of address space. Run under qemu for armv7, this is the 32-bit build at work.
#[test]
fn a_32_bit_pi_with_8_gib_up_600_days_and_a_4_gib_process() {
    let fake = FakeProc::new();
    fake.set_meminfo(7_997_584, 1_199_640);
    std::fs::write(fake.path().join("uptime"), "51840000.50 203450000.25\n").unwrap();
    fake.add(&FakeProcess {
        pid: 4242,
        name: b"chromium".to_vec(),
        uid: 1000,
        cmdline: b"/usr/lib/chromium/chromium\0--type=renderer\0".to_vec(),
        cwd: Some(b"/home/pi".to_vec()),
        start_ticks: 43_200_000 * 100,
        rss_kib: 1_398_100,
        ppid: 1,
        raw_status_name: false,
    });
    let ps = "printf '%s\\n' \
        'USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND' \
        'pi          4242  1.5 17.4 4194300 1398100 ?     Sl   Jan01 1080:00 /usr/lib/chromium/chromium --type=renderer' \
        'root           1  0.0  0.1  33352  9936 ?        Ss   Jan01   9:59 /sbin/init'";
    let out = snapshot(
        &fake,
        ps,
        &cat("top_jc-ubuntu2010_1.txt"),
        &["--details", "1"],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].contains(" | snapshot | RAM 85.0% (6.48 of 7.63 GiB) | CPU "),
        "{}",
        lines[0]
    );
    let at = lines
        .iter()
        .position(|l| l.starts_with("USER "))
        .expect(&stdout);
    let table = util::check_table(&lines[at..at + 3].join("\n"));
    assert_eq!(table[1].0[4..6], ["4194300", "1398100"]);
    let details = &stdout[stdout.find("  #1 PID 4242 chromium\n").expect(&stdout)..];
    for line in [
        "(running for 2400h)",
        "    RSS:      1.33 GiB (1398100 KiB)\n",
        "    peak RSS: 2.67 GiB (2796200 KiB)\n",
        "    VSZ:      4.00 GiB (4194300 KiB)\n",
    ] {
        assert!(details.contains(line), "{line:?} in\n{details}");
    }
}
