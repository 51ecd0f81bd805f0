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
    /// A sample strictly above this (and above the threshold) reports at once, without waiting
    /// for `sustain`; `None` turns it off.
    pub urgent_percent: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Report(ReportDue),
    /// The episode `incident` ended; memory was high for `high_for`, from its first high sample
    /// to the sample that ended it. Only episodes that produced a report recover.
    Recovered {
        incident: u32,
        high_for: Duration,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportDue {
    /// Numbers the reported episodes since start, from 1; all reports of one episode share it.
    pub incident: u32,
    /// Since the episode's first high sample; zero for a report after a kill while memory was
    /// not high.
    pub high_for: Duration,
    /// `None` for the first report of an episode (which starts a new log section), else the time
    /// since that first report.
    pub since_first_report: Option<Duration>,
    pub reason: Reason,
}

/// Why a report is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Memory stayed high for `sustain`.
    Sustained,
    /// One sample was above the urgent level.
    Urgent,
    /// Another `repeat` has passed since the episode's first report.
    Repeat,
    /// The kernel's OOM killer killed a process.
    OomKill,
}

impl ReportDue {
    pub fn starts_episode(&self) -> bool {
        self.since_first_report.is_none()
    }

    /// Whether the report is of an episode of high memory, which a recovered entry ends: every
    /// report but the one after a kill while memory was not high, an incident of its own. That
    /// one alone has a zero `high_for` with its reason: a kill's report in a high episode comes
    /// at least a tick after the episode's first high sample.
    pub fn while_high(&self) -> bool {
        !(self.reason == Reason::OomKill && self.starts_episode() && self.high_for.is_zero())
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

    /// Whether the last sample was high.
    pub fn is_high(&self) -> bool {
        matches!(self.state, State::High { .. })
    }

    /// The kernel killed a process at `now`: a report of the machine after it. It belongs to the
    /// running episode once that has been reported; otherwise it is the episode's first report.
    /// While memory is not high, it is an incident of its own, which no recovered line ends.
    pub fn oom_kill(&mut self, now: Duration) -> ReportDue {
        match self.state {
            State::High {
                since,
                reported: Some(r),
            } => ReportDue {
                incident: r.incident,
                high_for: now.saturating_sub(since),
                since_first_report: Some(now.saturating_sub(r.first_at)),
                reason: Reason::OomKill,
            },
            State::High {
                since,
                reported: None,
            } => self.first_report(now, since, Reason::OomKill),
            State::Calm => {
                self.incidents = self.incidents.saturating_add(1);
                ReportDue {
                    incident: self.incidents,
                    high_for: Duration::ZERO,
                    since_first_report: None,
                    reason: Reason::OomKill,
                }
            }
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
                self.report_if_due(now, used_percent)
            }
            (State::High { .. }, true) => self.report_if_due(now, used_percent),
        }
    }

    fn report_if_due(&mut self, now: Duration, used_percent: f64) -> Option<Event> {
        let State::High { since, reported } = self.state else {
            return None;
        };
        let high_for = now.saturating_sub(since);
        let urgent = self
            .rules
            .urgent_percent
            .is_some_and(|urgent| used_percent > urgent);
        match reported {
            None if high_for >= self.rules.sustain => Some(Event::Report(self.first_report(
                now,
                since,
                Reason::Sustained,
            ))),
            None if urgent => Some(Event::Report(self.first_report(now, since, Reason::Urgent))),
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
                Some(Event::Report(ReportDue {
                    incident: r.incident,
                    high_for,
                    since_first_report: Some(since_first),
                    reason: Reason::Repeat,
                }))
            }
            _ => None,
        }
    }

    /// The first report of the episode high since `since`, at `now`: it takes the next number
    /// and starts the grid of repeats.
    fn first_report(&mut self, now: Duration, since: Duration, reason: Reason) -> ReportDue {
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
        ReportDue {
            incident: reported.incident,
            high_for: now.saturating_sub(since),
            since_first_report: None,
            reason,
        }
    }
}
