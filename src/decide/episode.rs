//! When to report: a pure state machine fed one sample at a time with a monotonic instant (a Pi
//! has no RTC and its wall clock jumps when NTP syncs). No I/O, so every rule is tested here.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    /// Memory is high when used% is strictly above this.
    pub threshold_percent: f64,
    /// How long every sample must have been high before the first report.
    pub sustain: Duration,
    /// How often to report again while memory stays high.
    pub repeat: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Report(Report),
    /// The episode `incident` ended; memory was high for `high_for`, from its first high sample
    /// to the sample that ended it. Only episodes that produced a report recover.
    Recovered {
        incident: u32,
        high_for: Duration,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// Numbers the reported episodes since start, from 1; all reports of one episode share it.
    pub incident: u32,
    /// Since the episode's first high sample.
    pub high_for: Duration,
    /// `None` for the first report of an episode (which starts a new log section), else the time
    /// since that first report.
    pub since_first_report: Option<Duration>,
}

impl Report {
    pub fn starts_episode(&self) -> bool {
        self.since_first_report.is_none()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Calm,
    High {
        since: Duration,
        reported: Option<Reported>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Reported {
    incident: u32,
    first_at: Duration,
    /// `None` when the next report would lie beyond any representable time.
    next_due: Option<Duration>,
}

#[derive(Debug)]
pub struct Episodes {
    rules: Rules,
    state: State,
    incidents: u32,
}

impl Episodes {
    pub fn new(rules: Rules) -> Episodes {
        Episodes {
            rules,
            state: State::Calm,
            incidents: 0,
        }
    }

    /// Feeds one sample taken at `now` (monotonic, from any fixed origin) and says what to write.
    pub fn observe(&mut self, now: Duration, used_percent: f64) -> Option<Event> {
        // NaN is not high: an unreadable figure must not start an episode.
        let high = used_percent > self.rules.threshold_percent;
        match (self.state, high) {
            (State::Calm, false) => None,
            (State::High { since, reported }, false) => {
                self.state = State::Calm;
                reported.map(|r| Event::Recovered {
                    incident: r.incident,
                    high_for: now.saturating_sub(since),
                })
            }
            (State::Calm, true) => {
                self.state = State::High {
                    since: now,
                    reported: None,
                };
                self.report_if_due(now)
            }
            (State::High { .. }, true) => self.report_if_due(now),
        }
    }

    fn report_if_due(&mut self, now: Duration) -> Option<Event> {
        let State::High { since, reported } = self.state else {
            return None;
        };
        let high_for = now.saturating_sub(since);
        match reported {
            None if high_for >= self.rules.sustain => {
                self.incidents = self.incidents.saturating_add(1);
                let reported = Reported {
                    incident: self.incidents,
                    first_at: now,
                    next_due: now.checked_add(self.rules.repeat),
                };
                self.state = State::High {
                    since,
                    reported: Some(reported),
                };
                Some(Event::Report(Report {
                    incident: reported.incident,
                    high_for,
                    since_first_report: None,
                }))
            }
            Some(r) if r.next_due.is_some_and(|due| now >= due) => {
                let since_first = now.saturating_sub(r.first_at);
                // Due times stay on the grid first + k·repeat, so a late sample does not push
                // every later report back, and a long stall yields one report, not a burst.
                let periods = since_first.as_nanos() / self.rules.repeat.as_nanos().max(1) + 1;
                let next_due = u32::try_from(periods)
                    .ok()
                    .and_then(|k| self.rules.repeat.checked_mul(k))
                    .and_then(|offset| r.first_at.checked_add(offset));
                self.state = State::High {
                    since,
                    reported: Some(Reported { next_due, ..r }),
                };
                Some(Event::Report(Report {
                    incident: r.incident,
                    high_for,
                    since_first_report: Some(since_first),
                }))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn rules() -> Rules {
        Rules {
            threshold_percent: 80.0,
            sustain: s(15),
            repeat: s(600),
        }
    }

    /// Drives the machine with (seconds, used%) samples and returns the events with their times.
    fn run(rules: Rules, samples: &[(u64, f64)]) -> Vec<(u64, Event)> {
        let mut m = Episodes::new(rules);
        samples
            .iter()
            .filter_map(|&(t, p)| m.observe(s(t), p).map(|e| (t, e)))
            .collect()
    }

    fn first(incident: u32, high_for: u64) -> Event {
        Event::Report(Report {
            incident,
            high_for: s(high_for),
            since_first_report: None,
        })
    }

    fn repeat(incident: u32, high_for: u64, since_first: u64) -> Event {
        Event::Report(Report {
            incident,
            high_for: s(high_for),
            since_first_report: Some(s(since_first)),
        })
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
}
