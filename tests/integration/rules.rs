//! The decision rules, sample by sample: sustain, repeats on a fixed grid, recovery, and clocks
//! that stall, jump back or reach the end of time. The state machine is pure, so each rule is
//! driven here with samples at chosen instants.

use std::time::Duration;

use memory_monitor::decide::{Episodes, Event, Rules};

use crate::util::episodes::{SECOND, Sample, actual, report};

const fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

fn rules() -> Rules {
    Rules {
        threshold_percent: 80.0,
        sustain: s(15),
        repeat: s(600),
        urgent_percent: None,
    }
}

/// Drives the machine with (seconds, used%) samples and returns the events with their times.
fn run(rules: Rules, samples: &[(u64, f64)]) -> Vec<(u64, Event)> {
    let in_nanos: Vec<Sample> = samples.iter().map(|&(t, p)| (t * SECOND, p)).collect();
    actual(rules, &in_nanos)
        .into_iter()
        .map(|(i, e)| (samples[i].0, e))
        .collect()
}

fn first(incident: u32, high_for: u64) -> Event {
    report(incident, high_for * SECOND, None)
}

fn repeat(incident: u32, high_for: u64, since_first: u64) -> Event {
    report(incident, high_for * SECOND, Some(since_first * SECOND))
}

fn every_3s(from: u64, to: u64, p: f64) -> Vec<(u64, f64)> {
    (from..=to).step_by(3).map(|t| (t, p)).collect()
}

#[test]
fn reports_once_sustained_then_recovers() {
    let mut samples = every_3s(0, 9, 50.0);
    samples.extend(every_3s(12, 30, 90.0));
    samples.push((33, 50.0));
    assert_eq!(
        run(rules(), &samples),
        vec![
            (27, first(1, 15)),
            (
                33,
                Event::Recovered {
                    incident: 1,
                    high_for: s(21)
                }
            ),
        ]
    );
}

#[test]
fn exactly_at_threshold_is_not_high() {
    assert_eq!(run(rules(), &every_3s(0, 60, 80.0)), vec![]);
    assert_eq!(
        run(rules(), &every_3s(0, 15, 80.000_001)),
        vec![(15, first(1, 15))]
    );
}

#[test]
fn flapping_never_reports() {
    let samples: Vec<_> = (0..200)
        .map(|i| (i * 3, if i % 5 == 4 { 79.9 } else { 95.0 }))
        .collect();
    assert_eq!(run(rules(), &samples), vec![]);
}

#[test]
fn a_single_low_sample_restarts_the_sustain_count() {
    let samples = [
        (0, 90.0),
        (12, 90.0),
        (13, 80.0),
        (14, 90.0),
        (28, 90.0),
        (29, 90.0),
    ];
    assert_eq!(run(rules(), &samples), vec![(29, first(1, 15))]);
}

#[test]
fn episodes_without_a_report_do_not_recover_or_count() {
    let samples = [(0, 90.0), (3, 50.0), (6, 90.0), (21, 90.0), (24, 10.0)];
    assert_eq!(
        run(rules(), &samples),
        vec![
            (21, first(1, 15)),
            (
                24,
                Event::Recovered {
                    incident: 1,
                    high_for: s(18)
                }
            ),
        ]
    );
}

#[test]
fn each_episode_gets_the_next_number() {
    let samples = [
        (0, 90.0),
        (15, 90.0),
        (16, 1.0),
        (20, 90.0),
        (35, 90.0),
        (40, 50.0),
    ];
    assert_eq!(
        run(rules(), &samples),
        vec![
            (15, first(1, 15)),
            (
                16,
                Event::Recovered {
                    incident: 1,
                    high_for: s(16)
                }
            ),
            (35, first(2, 15)),
            (
                40,
                Event::Recovered {
                    incident: 2,
                    high_for: s(20)
                }
            ),
        ]
    );
}

#[test]
fn long_episode_repeats_on_a_fixed_grid() {
    let events = run(rules(), &every_3s(0, 3 * 3600, 99.0));
    let times: Vec<u64> = events.iter().map(|(t, _)| *t).collect();
    // First at 15 s, then every 10 min after it: 615, 1215, … (all multiples of 3 here).
    let expected: Vec<u64> = (0..18).map(|k| 15 + 600 * k).collect();
    assert_eq!(times, expected);
    assert_eq!(events[1].1, repeat(1, 615, 600));
    assert_eq!(events[17].1, repeat(1, 10_215, 10_200));
    assert!(
        events
            .iter()
            .all(|(_, e)| matches!(e, Event::Report(r) if r.incident == 1))
    );
}

#[test]
fn late_samples_do_not_drift_the_repeats() {
    // Samples every 7 s: each repeat lands on the first sample at or after the grid point.
    let samples: Vec<_> = (0..400).map(|i| (i * 7, 99.0)).collect();
    let times: Vec<u64> = run(rules(), &samples).iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![21, 623, 1225, 1827, 2422]);
}

#[test]
fn a_long_stall_gives_one_report_not_a_burst() {
    let samples = [
        (0, 90.0),
        (15, 90.0),
        (3615, 90.0),
        (3616, 90.0),
        (4215, 90.0),
    ];
    assert_eq!(
        run(rules(), &samples),
        vec![
            (15, first(1, 15)),
            (3615, repeat(1, 3615, 3600)),
            (4215, repeat(1, 4215, 4200)),
        ]
    );
}

#[test]
fn a_clock_that_stands_still_never_reaches_sustain() {
    let samples: Vec<_> = (0..1000).map(|_| (42, 99.0)).collect();
    assert_eq!(run(rules(), &samples), vec![]);
}

#[test]
fn a_clock_that_stands_still_after_a_report_does_not_repeat() {
    let mut samples = vec![(0, 99.0), (15, 99.0)];
    samples.extend((0..1000).map(|_| (15, 99.0)));
    assert_eq!(run(rules(), &samples), vec![(15, first(1, 15))]);
}

#[test]
fn a_clock_going_backwards_does_not_panic_or_report_early() {
    let samples = [
        (100, 99.0),
        (50, 99.0),
        (10, 99.0),
        (114, 99.0),
        (115, 99.0),
        (3, 10.0),
    ];
    assert_eq!(
        run(rules(), &samples),
        vec![
            (115, first(1, 15)),
            (
                3,
                Event::Recovered {
                    incident: 1,
                    high_for: Duration::ZERO
                }
            ),
        ]
    );
}

#[test]
fn zero_sustain_reports_on_the_first_high_sample() {
    let r = Rules {
        sustain: Duration::ZERO,
        ..rules()
    };
    assert_eq!(run(r, &[(0, 50.0), (3, 81.0)]), vec![(3, first(1, 0))]);
}

#[test]
fn nan_is_not_high() {
    assert_eq!(run(rules(), &[(0, f64::NAN), (100, f64::NAN)]), vec![]);
}

#[test]
fn huge_times_and_repeats_saturate_instead_of_overflowing() {
    let r = Rules {
        repeat: Duration::MAX,
        ..rules()
    };
    let far = Duration::MAX - s(1);
    let mut m = Episodes::new(r);
    assert_eq!(m.observe(far - s(20), 99.0), None);
    assert!(matches!(m.observe(far, 99.0), Some(Event::Report(_))));
    assert_eq!(m.observe(Duration::MAX, 99.0), None);
}

/// The report after an OOM kill, in each state an episode can be in.
#[test]
fn a_kill_report_joins_the_episode_or_opens_its_own() {
    use memory_monitor::decide::{Reason, ReportDue};
    let mut machine = Episodes::new(rules());
    // Calm: an episode of its own, numbered, which never recovers, as memory never was high.
    assert_eq!(machine.observe(s(0), 50.0), None);
    let calm = machine.oom_kill(s(1));
    assert_eq!(
        calm,
        ReportDue {
            incident: 1,
            high_for: s(0),
            since_first_report: None,
            reason: Reason::OomKill,
        }
    );
    assert_eq!(machine.observe(s(3), 50.0), None, "no recovered line");
    // High, not yet reported: the kill's report is the episode's first, and the sustain that
    // follows reports nothing more; the repeats keep the grid from it.
    assert_eq!(machine.observe(s(6), 90.0), None);
    let first = machine.oom_kill(s(9));
    assert_eq!((first.incident, first.high_for), (2, s(3)));
    assert!(first.starts_episode());
    for t in (12..=600).step_by(3) {
        assert_eq!(machine.observe(s(t), 90.0), None, "at {t} s");
    }
    assert_eq!(
        machine.observe(s(609), 90.0),
        Some(repeat(2, 603, 600)),
        "ten minutes after the kill's report"
    );
    // High and reported: the episode's number, and the time since its first report.
    let joined = machine.oom_kill(s(700));
    assert_eq!(
        (joined.incident, joined.since_first_report, joined.reason),
        (2, Some(s(691)), Reason::OomKill)
    );
    assert_eq!(
        machine.observe(s(703), 50.0),
        Some(Event::Recovered {
            incident: 2,
            high_for: s(697),
        })
    );
}
