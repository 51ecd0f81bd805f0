//! Soak. A million samples flapping around the threshold go through the decision rules and are
//! checked against an oracle that works out the same answer another way; then the real daemon
//! runs a day's worth of ticks, accelerated, while its resident memory is watched.

mod common;

use std::cmp::Ordering;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{self, AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use common::{FakeProc, FakeProcess, corpus_dir, fake_program};
use memory_monitor::episode::{Episodes, Event, Report, Rules};
use regex::Regex;

/// SplitMix64: a fixed seed gives the same trace on every machine, with no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `lo..=hi`. The modulo bias is far below anything these tests could notice.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn percent(&mut self) -> u64 {
        self.range(0, 99)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SECOND: u64 = 1_000_000_000;
const INTERVAL: u64 = 3 * SECOND;
const THRESHOLD: f64 = 80.0;

fn default_rules() -> Rules {
    Rules {
        threshold_percent: THRESHOLD,
        sustain: Duration::from_secs(15),
        repeat: Duration::from_secs(600),
    }
}

/// A sample: monotonic nanoseconds and used%.
type Sample = (u64, f64);

fn high_value(rng: &mut Rng) -> f64 {
    match rng.percent() {
        // The smallest step above the threshold is high.
        0..=19 => THRESHOLD.next_up(),
        20..=29 => 100.0,
        _ => (THRESHOLD + 20.0 * rng.unit()).max(THRESHOLD.next_up()),
    }
}

fn low_value(rng: &mut Rng) -> f64 {
    match rng.percent() {
        // Exactly the threshold is not high: the boundary the rule is about.
        0..=34 => THRESHOLD,
        35..=44 => THRESHOLD.next_down(),
        45..=49 => 0.0,
        _ => THRESHOLD - 30.0 * rng.unit(),
    }
}

/// The time from one sample to the next: in a regular stretch exactly the interval, so that
/// reports land exactly on `sustain` and on the repeat grid; otherwise mostly the interval, often
/// jittered, sometimes a short hop, now and then a stall of up to three hours, and runs where the
/// clock stands still.
fn step(rng: &mut Rng, frozen: &mut u64, regular: bool) -> u64 {
    if regular {
        return INTERVAL;
    }
    if *frozen > 0 {
        *frozen -= 1;
        return 0;
    }
    match rng.range(0, 999) {
        0..=9 => {
            *frozen = rng.range(0, 8);
            0
        }
        10..=12 => rng.range(30 * SECOND, 3 * 3600 * SECOND),
        13..=299 => rng.range(INTERVAL - SECOND / 2, INTERVAL + SECOND / 2),
        300..=329 => rng.range(1, INTERVAL),
        _ => INTERVAL,
    }
}

/// `count` samples flapping around the threshold in runs of varied kinds and lengths; every high
/// run is closed by a low sample so that its length is the one chosen.
fn flapping(seed: u64, count: usize) -> Vec<Sample> {
    let mut rng = Rng(seed);
    let mut samples = Vec::with_capacity(count + 7000);
    let mut t = 0;
    let mut frozen = 0;
    while samples.len() < count {
        let kind = rng.percent();
        let regular = rng.percent() < 40;
        let (length, high) = match kind {
            // Blips far too short to be sustained.
            0..=24 => (rng.range(1, 4), true),
            // 5 to 7 samples: 12 s, 15 s or 18 s at the plain interval, around `sustain`.
            25..=44 => (rng.range(5, 7), true),
            // Some repeats at most.
            45..=52 => (rng.range(8, 600), true),
            // Hours: many repeats, several stalls among them.
            53..=55 => (rng.range(600, 6000), true),
            56..=79 => (rng.range(1, 40), false),
            // Flapping sample by sample, mostly high.
            _ => (rng.range(10, 300), false),
        };
        for _ in 0..length {
            t += step(&mut rng, &mut frozen, regular);
            let value = if high || (kind >= 80 && rng.percent() < 75) {
                high_value(&mut rng)
            } else {
                low_value(&mut rng)
            };
            samples.push((t, value));
        }
        if high {
            t += step(&mut rng, &mut frozen, regular);
            samples.push((t, low_value(&mut rng)));
        }
    }
    samples.truncate(count);
    samples
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap()
}

/// What the machine says, with the index of the sample that produced each event.
fn actual(rules: Rules, samples: &[Sample]) -> Vec<(usize, Event)> {
    let mut machine = Episodes::new(rules);
    samples
        .iter()
        .enumerate()
        .filter_map(|(i, &(t, used))| {
            machine
                .observe(Duration::from_nanos(t), used)
                .map(|e| (i, e))
        })
        .collect()
}

fn report(incident: u32, high_for: u64, since_first_report: Option<u64>) -> Event {
    Event::Report(Report {
        incident,
        high_for: Duration::from_nanos(high_for),
        since_first_report: since_first_report.map(Duration::from_nanos),
    })
}

/// What the rules say, worked out run by run rather than sample by sample: split the samples
/// into maximal runs of high ones; in each, the first report is the first sample `sustain` after
/// the run began, and each grid point `first + k·repeat` is answered by the first sample at or
/// after it, several grid points answered by one sample making one report. Assumes a clock that
/// never goes back.
fn expected(rules: Rules, samples: &[Sample]) -> Vec<(usize, Event)> {
    let (sustain, repeat) = (nanos(rules.sustain), nanos(rules.repeat));
    let times: Vec<u64> = samples.iter().map(|&(t, _)| t).collect();
    let high: Vec<bool> = samples
        .iter()
        .map(|&(_, used)| used.partial_cmp(&rules.threshold_percent) == Some(Ordering::Greater))
        .collect();
    let mut events = Vec::new();
    let mut incident = 0;
    let mut start = 0;
    while start < samples.len() {
        if !high[start] {
            start += 1;
            continue;
        }
        let end = high[start..]
            .iter()
            .position(|h| !h)
            .map_or(samples.len(), |n| start + n);
        let run = &times[start..end];
        let began = run[0];
        if let Some(first) = run.iter().position(|&t| t - began >= sustain) {
            incident += 1;
            let first_at = run[first];
            events.push((start + first, report(incident, first_at - began, None)));
            let last_time = run[run.len() - 1];
            let mut answered = first;
            for k in 1.. {
                let due = first_at + k * repeat;
                if due > last_time {
                    break;
                }
                let at = run.partition_point(|&t| t < due);
                if at != answered {
                    answered = at;
                    let t = run[at];
                    events.push((start + at, report(incident, t - began, Some(t - first_at))));
                }
            }
            if end < samples.len() {
                let high_for = Duration::from_nanos(times[end] - began);
                events.push((end, Event::Recovered { incident, high_for }));
            }
        }
        start = end;
    }
    events
}

/// Asserts two event lists are equal, showing the first difference rather than a million lines.
fn assert_same(what: &str, samples: &[Sample], got: &[(usize, Event)], want: &[(usize, Event)]) {
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        let near = |i: Option<&(usize, Event)>| {
            i.map(|&(at, _)| &samples[at.saturating_sub(3)..(at + 2).min(samples.len())])
        };
        panic!(
            "{what}: event {i} differs\n machine: {:?}\n  oracle: {:?}\nsamples around the machine's: {:?}\nsamples around the oracle's: {:?}",
            got.get(i),
            want.get(i),
            near(got.get(i)),
            near(want.get(i)),
        );
    }
}

#[derive(Debug, Default, PartialEq)]
struct Counts {
    first_reports: usize,
    repeats: usize,
    recoveries: usize,
}

fn counts(events: &[(usize, Event)]) -> Counts {
    let mut c = Counts::default();
    for (_, e) in events {
        match e {
            Event::Report(r) if r.starts_episode() => c.first_reports += 1,
            Event::Report(_) => c.repeats += 1,
            Event::Recovered { .. } => c.recoveries += 1,
        }
    }
    c
}

#[test]
fn a_million_flapping_samples_give_exactly_the_reports_the_rules_predict() {
    let samples = flapping(0x5EED_2026, 1_000_000);
    let rules = default_rules();
    let want = expected(rules, &samples);
    let got = actual(rules, &samples);
    assert_same("default rules", &samples, &got, &want);

    // The trace must really go through every case the rules distinguish; these are properties
    // of the seed, checked so that a change to the generator cannot quietly hollow the test out.
    let c = counts(&want);
    let span = Duration::from_nanos(samples.last().unwrap().0);
    println!(
        "{} samples over {:.0} simulated hours: {c:?}",
        samples.len(),
        span.as_secs_f64() / 3600.0
    );
    let sustain = nanos(rules.sustain);
    let repeat = nanos(rules.repeat);
    let reports: Vec<&Report> = want
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Report(r) => Some(r),
            Event::Recovered { .. } => None,
        })
        .collect();
    let exactly_sustained = reports
        .iter()
        .filter(|r| r.starts_episode() && r.high_for == rules.sustain)
        .count();
    let exactly_on_the_grid = reports
        .iter()
        .filter(|r| {
            r.since_first_report
                .is_some_and(|s| nanos(s).is_multiple_of(repeat))
        })
        .count();
    let after_a_skipped_grid_point = reports
        .windows(2)
        .filter(|w| {
            let since = |r: &Report| r.since_first_report.map_or(0, nanos) / repeat;
            w[0].incident == w[1].incident && since(w[1]) > since(w[0]) + 1
        })
        .count();
    let episodes_ended_at_the_threshold = want
        .iter()
        .filter(|&&(at, e)| matches!(e, Event::Recovered { .. }) && samples[at].1 == THRESHOLD)
        .count();
    // High runs that came within one interval of `sustain` and were cut by a low sample.
    let mut near_misses = 0;
    let mut run_began = None;
    for &(t, used) in &samples {
        match (used > THRESHOLD, run_began) {
            (true, None) => run_began = Some(t),
            (false, Some(began)) => {
                let lasted = t - began;
                near_misses += usize::from(lasted < sustain && lasted + INTERVAL > sustain);
                run_began = None;
            }
            _ => {}
        }
    }
    // A report followed by a high sample at the same instant, which must not report again.
    let standing_after_a_report = want
        .iter()
        .filter(|&&(at, e)| {
            matches!(e, Event::Report(_))
                && samples
                    .get(at + 1)
                    .is_some_and(|&(t, used)| t == samples[at].0 && used > THRESHOLD)
        })
        .count();
    let figures = [
        ("first reports", c.first_reports, 4000),
        ("repeats", c.repeats, 2000),
        ("recoveries", c.recoveries, 4000),
        ("first reports at exactly sustain", exactly_sustained, 2000),
        ("repeats exactly on a grid point", exactly_on_the_grid, 500),
        (
            "repeats after a stall over a grid point",
            after_a_skipped_grid_point,
            500,
        ),
        (
            "episodes ended by a sample at the threshold",
            episodes_ended_at_the_threshold,
            1000,
        ),
        (
            "high runs cut within an interval of sustain",
            near_misses,
            500,
        ),
        (
            "reports followed by a clock standing still",
            standing_after_a_report,
            10,
        ),
    ];
    for (what, n, at_least) in figures {
        println!("  {what}: {n}");
        assert!(n >= at_least, "only {n} {what} (want {at_least})");
    }
    let last_incident = want.iter().rev().find_map(|(_, e)| match e {
        Event::Report(r) => Some(r.incident),
        Event::Recovered { .. } => None,
    });
    assert_eq!(last_incident, Some(u32::try_from(c.first_reports).unwrap()));
}

#[test]
fn the_soak_agrees_under_other_rules_too() {
    let samples = flapping(0xF1A9_9E12, 300_000);
    let s = Duration::from_secs;
    for rules in [
        // Every high sample is a report at once.
        Rules {
            sustain: Duration::ZERO,
            ..default_rules()
        },
        // A repeat shorter than the interval: a report at every sample after the first.
        Rules {
            repeat: s(1),
            ..default_rules()
        },
        // Neither a multiple of the interval.
        Rules {
            threshold_percent: 90.5,
            sustain: Duration::from_millis(7_500),
            repeat: s(47),
        },
        Rules {
            threshold_percent: 0.0,
            sustain: s(3600),
            repeat: s(5400),
        },
    ] {
        let want = expected(rules, &samples);
        assert!(!want.is_empty(), "{rules:?} gives no events");
        assert_same(
            &format!("{rules:?}"),
            &samples,
            &actual(rules, &samples),
            &want,
        );
    }
}

#[test]
fn the_soak_sits_on_every_boundary() {
    // Moving any rule by its smallest step changes the answer: the trace holds samples exactly
    // at the threshold, runs that reach `sustain` exactly and repeats exactly on the grid, so a
    // machine off by one comparison anywhere would be caught by the million-sample test.
    let samples = flapping(0x5EED_2026, 200_000);
    let rules = default_rules();
    let base = expected(rules, &samples);
    let nudged = [
        Rules {
            threshold_percent: THRESHOLD.next_down(),
            ..rules
        },
        Rules {
            threshold_percent: THRESHOLD.next_up(),
            ..rules
        },
        Rules {
            sustain: rules.sustain + Duration::from_nanos(1),
            ..rules
        },
        Rules {
            repeat: rules.repeat + Duration::from_nanos(1),
            ..rules
        },
    ];
    for n in nudged {
        let want = expected(n, &samples);
        assert!(want != base, "{n:?} changes nothing on this trace");
        assert_same(&format!("{n:?}"), &samples, &actual(n, &samples), &want);
    }
}

/// `cycles` times: `high` samples at 90% then `low` samples at `low_value`, every 3 s.
fn square_wave(high: usize, low: usize, low_value: f64, cycles: usize) -> Vec<Sample> {
    let pattern = std::iter::repeat_n(90.0, high).chain(std::iter::repeat_n(low_value, low));
    pattern
        .cycle()
        .take((high + low) * cycles)
        .enumerate()
        .map(|(i, used)| (i as u64 * INTERVAL, used))
        .collect()
}

#[test]
fn a_square_wave_gives_the_count_worked_out_by_hand() {
    // H high samples 3 s apart last 3(H − 1) s: sustained (15 s) from the 6th on, then repeated
    // at 15 s + 600 s·k, which is sample 6 + 200k, as long as that is within the run. The low
    // sample after them ends the episode, H·3 s after it began.
    let cycles = 500;
    for high in [1, 5, 6, 7, 205, 206, 406, 1000] {
        for (low, low_value) in [(1, THRESHOLD), (4, 12.0)] {
            let samples = square_wave(high, low, low_value, cycles);
            let reported = high >= 6;
            let repeats_per_cycle = if reported { (high - 6) / 200 } else { 0 };
            let by_hand = Counts {
                first_reports: if reported { cycles } else { 0 },
                repeats: repeats_per_cycle * cycles,
                recoveries: if reported { cycles } else { 0 },
            };
            let want = expected(default_rules(), &samples);
            assert_eq!(counts(&want), by_hand, "oracle, H={high} L={low}");
            let got = actual(default_rules(), &samples);
            assert_same(&format!("H={high} L={low}"), &samples, &got, &want);
            if reported {
                let s = |secs: u64| Duration::from_secs(secs);
                let h = high as u64;
                let per_cycle = 2 + repeats_per_cycle;
                let last_cycle = &got[got.len() - per_cycle..];
                let n = u32::try_from(cycles).unwrap();
                assert_eq!(last_cycle[0].1, report(n, nanos(s(15)), None));
                if repeats_per_cycle > 0 {
                    let k = repeats_per_cycle as u64;
                    assert_eq!(
                        last_cycle[per_cycle - 2].1,
                        report(n, nanos(s(15 + 600 * k)), Some(nanos(s(600 * k))))
                    );
                }
                assert_eq!(
                    last_cycle[per_cycle - 1].1,
                    Event::Recovered {
                        incident: n,
                        high_for: s(3 * h)
                    }
                );
            }
        }
    }
}

#[test]
fn a_wave_exactly_at_the_threshold_never_reports() {
    let samples: Vec<Sample> = square_wave(1000, 3, 12.0, 100)
        .into_iter()
        .map(|(t, used)| (t, used.min(THRESHOLD)))
        .collect();
    assert_eq!(expected(default_rules(), &samples), []);
    assert_eq!(actual(default_rules(), &samples), []);
}

#[test]
fn a_stall_at_every_sample_gives_one_report_per_sample() {
    // An hour between samples is six grid points each time, answered by one report, not six.
    let samples: Vec<Sample> = (0..1000).map(|i| (i * 3600 * SECOND, 99.0)).collect();
    let want = expected(default_rules(), &samples);
    assert_eq!(
        counts(&want),
        Counts {
            first_reports: 1,
            repeats: 998,
            recoveries: 0
        }
    );
    assert_eq!(
        want[998].1,
        report(1, 999 * 3600 * SECOND, Some(998 * 3600 * SECOND))
    );
    assert_same(
        "hourly",
        &samples,
        &actual(default_rules(), &samples),
        &want,
    );
}

#[test]
fn a_clock_standing_still_never_reaches_sustain_nor_the_next_repeat() {
    let mut samples: Vec<Sample> = vec![(0, 99.0); 10_000];
    assert_eq!(expected(default_rules(), &samples), []);
    assert_eq!(actual(default_rules(), &samples), []);
    samples.extend(std::iter::repeat_n((15 * SECOND, 99.0), 10_000));
    let want = expected(default_rules(), &samples);
    assert_eq!(want, [(10_000, report(1, 15 * SECOND, None))]);
    assert_eq!(actual(default_rules(), &samples), want);
}

// The daemon, accelerated: the defaults (3 s, 15 s, 10 min) divided by 1500, so that a tick
// stands for 3 s and a day is 28,800 ticks, about a minute.
const SPEEDUP: u32 = 1500;
const FAST_INTERVAL: &str = "2ms";
const FAST_SUSTAIN: &str = "10ms";
const FAST_REPEAT: &str = "400ms";

fn fast_interval() -> Duration {
    memory_monitor::duration::parse_duration(FAST_INTERVAL).unwrap()
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
struct Reads(std::fs::File);

impl Reads {
    fn watch(path: &Path) -> Reads {
        // SAFETY: plain system calls; the descriptor is checked and then owned by the File.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
            assert!(
                fd >= 0,
                "inotify_init1: {}",
                std::io::Error::last_os_error()
            );
            let file = std::fs::File::from_raw_fd(fd);
            let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
            let wd = libc::inotify_add_watch(fd, c_path.as_ptr(), libc::IN_ACCESS);
            assert!(
                wd >= 0,
                "inotify_add_watch: {}",
                std::io::Error::last_os_error()
            );
            Reads(file)
        }
    }

    /// Waits up to 100 ms for reads and says how many there were.
    fn wait(&mut self) -> u64 {
        let mut poll = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut poll, 1, 100) } <= 0 {
            return 0;
        }
        let mut buf = [0u8; 4096];
        let n = match self.0.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return 0,
            Err(e) => panic!("reading inotify events: {e}"),
        };
        let field = |at: usize| u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap());
        let mut reads = 0;
        let mut at = 0;
        while at < n {
            let mask = field(at + 4);
            assert_eq!(mask & libc::IN_Q_OVERFLOW, 0, "inotify queue overflowed");
            reads += u64::from(mask & libc::IN_ACCESS != 0);
            at += std::mem::size_of::<libc::inotify_event>() + field(at + 12) as usize;
        }
        reads
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
    let header = Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00 \| incident (\d+) \| RAM \d+\.\d% \(.+ of .+\) \| CPU (\d+\.\d%|n/a) \| above 80% for \S+?(, \S+ since first report)?$",
    )
    .unwrap();
    let marker =
        Regex::new(r"^===== new log \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00 \| incident (\d+) \| memory-monitor \S+ =====$")
            .unwrap();
    let recovered = Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+00:00 \| recovered \| RAM \d+\.\d% \| high for \S+$",
    )
    .unwrap();
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
        let h = header
            .captures(rest[0])
            .unwrap_or_else(|| panic!("{}", broken()));
        assert_eq!(h[1].parse::<u32>().unwrap(), incident, "{}", broken());
        assert!(open_episode, "{}", broken());
        let first = rest.len() < lines.len();
        assert_eq!(first, h.get(3).is_none(), "{}", broken());
        if first {
            logged.first_reports += 1;
        } else {
            logged.repeats += 1;
        }
        logged.headers.push(rest[0].to_string());
        let body = &rest[1..];
        assert!(
            body.iter()
                .all(|l| !l.is_empty() && !header.is_match(l) && !marker.is_match(l)),
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
}

/// Runs the daemon for `hours` of ticks at the default settings, accelerated, with meminfo
/// following [`tick_schedule`], and checks it stays up, keeps its logs whole and stays small.
fn soak(hours: u64) -> Soak {
    let wanted = hours * 3600 / 3;
    let schedule = tick_schedule(0xDA7_50A6, usize::try_from(wanted).unwrap());
    let nominal = counts(&actual(
        default_rules(),
        &schedule
            .iter()
            .enumerate()
            .map(|(i, &used)| (i as u64 * INTERVAL, used as f64))
            .collect::<Vec<_>>()[..=usize::try_from(wanted).unwrap()],
    ));

    let fake = FakeProc::new();
    fake.add(&FakeProcess {
        pid: 823,
        name: b"firewalld",
        uid: 0,
        cmdline: b"/usr/bin/python2\0-Es\0/usr/sbin/firewalld\0--nofork\0--nopid\0",
        cwd: Some("/"),
        started_after_boot: 30,
        rss_kib: 29528,
        ppid: 1,
    });
    set_used(&fake, schedule[0]);
    let mut reads = Reads::watch(&fake.path().join("meminfo"));
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let cat = |file: &str| format!("exec cat '{}'", corpus_dir().join(file).display());
    let ps = fake_program(dir.path(), "ps", &cat("psaux_jc-centos77_1.txt"));
    let top = fake_program(dir.path(), "top", &cat("top_jc-ubuntu2010_1.txt"));
    let stderr = dir.path().join("stderr");
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
        .arg("--log-dir")
        .arg(&logs)
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
        let outcome = loop {
            let tick = ticks.load(atomic::Ordering::Relaxed);
            if let Some(status) = daemon.0.try_wait().unwrap() {
                break Err(format!("the daemon exited ({status}) at tick {tick}"));
            }
            // From the second tick on: the loop is running, start-up is behind.
            if tick >= 2 {
                figures.extend(resident(pid, tick));
            }
            if tick >= wanted {
                break Ok(figures);
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
    let figures = sampled.unwrap_or_else(|e| panic!("{e}; stderr:\n{}", stderr_text()));
    let took = started.elapsed();
    let ticks = ticks.into_inner();

    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    let status = daemon.0.wait().unwrap();
    assert!(status.success(), "{status}; stderr:\n{}", stderr_text());

    let read = |name: &str| std::fs::read_to_string(logs.join(name)).unwrap();
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
    assert!(
        last_quarter <= second_quarter + RSS_MARGIN_KIB,
        "resident memory grew: {last_quarter} KiB at most in the last quarter, {second_quarter} KiB in the second"
    );
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
