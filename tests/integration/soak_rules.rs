//! Soak of the decision rules: a million samples flapping around the threshold, on a fake clock,
//! go through `Episodes` and are checked against an oracle that works out the same answer another
//! way. The daemon's own soak is in tests/soak_daemon.rs.

use crate::util;

use std::time::Duration;

use memory_monitor::decide::{Event, Reason, ReportDue, Rules};
use util::episodes::*;

/// A high sample. Only in an urgent run can it be above the urgent level, so that most runs
/// still reach `sustain` the slow way.
fn high_value(rng: &mut Rng, urgent_run: bool) -> f64 {
    match (rng.percent(), urgent_run) {
        // The smallest step above the threshold is high.
        (0..=19, _) => THRESHOLD.next_up(),
        // Exactly the urgent level is not urgent.
        (20..=24, _) => URGENT,
        (25..=29, false) => URGENT.next_down(),
        (25..=29, true) => URGENT.next_up(),
        (30..=34, true) => 100.0,
        (35..=49, true) => URGENT + (100.0 - URGENT) * rng.unit(),
        _ => (THRESHOLD + (URGENT - THRESHOLD) * rng.unit()).max(THRESHOLD.next_up()),
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
        let urgent_run = rng.percent() < 15;
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
                high_value(&mut rng, urgent_run)
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
    let reports: Vec<&ReportDue> = want
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
    let urgent_before_sustain = reports
        .iter()
        .filter(|r| r.reason == Reason::Urgent && r.high_for < rules.sustain)
        .count();
    let urgent_at_once = reports
        .iter()
        .filter(|r| r.reason == Reason::Urgent && r.high_for.is_zero())
        .count();
    let at_the_urgent_level = samples.iter().filter(|&&(_, used)| used == URGENT).count();
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
            let since = |r: &ReportDue| r.since_first_report.map_or(0, nanos) / repeat;
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
        (
            "urgent first reports before sustain",
            urgent_before_sustain,
            2000,
        ),
        (
            "urgent first reports at the first high sample",
            urgent_at_once,
            300,
        ),
        (
            "samples exactly at the urgent level",
            at_the_urgent_level,
            10_000,
        ),
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
            urgent_percent: Some(97.5),
        },
        Rules {
            threshold_percent: 0.0,
            sustain: s(3600),
            repeat: s(5400),
            urgent_percent: None,
        },
        // Urgent reports only, for a sustain no episode reaches.
        Rules {
            sustain: s(100_000),
            urgent_percent: Some(99.0),
            ..default_rules()
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
        Rules {
            urgent_percent: Some(URGENT.next_down()),
            ..rules
        },
        Rules {
            urgent_percent: Some(URGENT.next_up()),
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
    // 90% is high but not urgent.
    let samples: Vec<Sample> = (0..1000).map(|i| (i * 3600 * SECOND, 90.0)).collect();
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
    // 90% is high but not urgent: only time could make it a report.
    let mut samples: Vec<Sample> = vec![(0, 90.0); 10_000];
    assert_eq!(expected(default_rules(), &samples), []);
    assert_eq!(actual(default_rules(), &samples), []);
    samples.extend(std::iter::repeat_n((15 * SECOND, 90.0), 10_000));
    let want = expected(default_rules(), &samples);
    assert_eq!(want, [(10_000, report(1, 15 * SECOND, None))]);
    assert_eq!(actual(default_rules(), &samples), want);
}

#[test]
fn an_urgent_sample_reports_at_once_with_a_long_sustain() {
    let rules = Rules {
        sustain: Duration::from_secs(60),
        ..default_rules()
    };
    // 85% for 9 s, then 97%: the report comes at that sample, 12 s into the episode, and its
    // repeats keep the grid from it.
    let mut samples: Vec<Sample> = (0..4).map(|i| (i * INTERVAL, 85.0)).collect();
    samples.extend((4..300).map(|i| (i * INTERVAL, 97.0)));
    let want = expected(rules, &samples);
    assert_eq!(want[0], (4, urgent_report(1, 12 * SECOND)));
    assert_eq!(want[1], (204, report(1, 612 * SECOND, Some(600 * SECOND))));
    assert_same("urgent", &samples, &actual(rules, &samples), &want);
    // From a calm machine straight to 97%: at the first high sample.
    let samples: Vec<Sample> = vec![(0, 40.0), (INTERVAL, 97.0)];
    assert_eq!(actual(rules, &samples), [(1, urgent_report(1, 0))]);
    // With urgent reports off, the same trace waits for the sustain.
    let off = Rules {
        urgent_percent: None,
        ..rules
    };
    let samples: Vec<Sample> = (0..30).map(|i| (i * INTERVAL, 97.0)).collect();
    assert_eq!(actual(off, &samples)[0], (20, report(1, 60 * SECOND, None)));
}
