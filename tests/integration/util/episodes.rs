//! The decision rules driven by recorded samples, and an oracle that works out what they must
//! say another way: shared by the rules' soak and the daemon's.

use std::cmp::Ordering;
use std::time::Duration;

use memory_monitor::decide::{Episodes, Event, Reason, ReportDue, Rules};

/// SplitMix64: a fixed seed gives the same trace on every machine, with no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `lo..=hi`. The modulo bias is far below anything these tests could notice.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn percent(&mut self) -> u64 {
        self.range(0, 99)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub const SECOND: u64 = 1_000_000_000;
/// The default interval and threshold, as constants for the arithmetic of the soaks; checked
/// against `memory_monitor::defaults` by the packaging tests.
pub const INTERVAL: u64 = 3 * SECOND;
pub const THRESHOLD: f64 = 80.0;
pub const URGENT: f64 = 95.0;

pub fn default_rules() -> Rules {
    memory_monitor::defaults::rules()
}

/// A sample: monotonic nanoseconds and used%.
pub type Sample = (u64, f64);

pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap()
}

/// What the machine says, with the index of the sample that produced each event.
pub fn actual(rules: Rules, samples: &[Sample]) -> Vec<(usize, Event)> {
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

/// A first report (sustained) or a repeat, by whether it has a time since the first.
pub fn report(incident: u32, high_for: u64, since_first_report: Option<u64>) -> Event {
    let reason = match since_first_report {
        None => Reason::Sustained,
        Some(_) => Reason::Repeat,
    };
    with_reason(incident, high_for, since_first_report, reason)
}

/// A first report made at once, above the urgent level.
pub fn urgent_report(incident: u32, high_for: u64) -> Event {
    with_reason(incident, high_for, None, Reason::Urgent)
}

fn with_reason(
    incident: u32,
    high_for: u64,
    since_first_report: Option<u64>,
    reason: Reason,
) -> Event {
    Event::Report(ReportDue {
        incident,
        high_for: Duration::from_nanos(high_for),
        since_first_report: since_first_report.map(Duration::from_nanos),
        reason,
    })
}

/// What the rules say, worked out run by run rather than sample by sample: split the samples
/// into maximal runs of high ones; in each, the first report is the first sample `sustain` after
/// the run began or above the urgent level, whichever comes first, and each grid point `first + k·repeat` is answered by the first sample at or
/// after it, several grid points answered by one sample making one report. Assumes a clock that
/// never goes back.
pub fn expected(rules: Rules, samples: &[Sample]) -> Vec<(usize, Event)> {
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
        let urgent = |i: usize| {
            rules
                .urgent_percent
                .is_some_and(|u| samples[start + i].1.partial_cmp(&u) == Some(Ordering::Greater))
        };
        if let Some(first) = (0..run.len()).find(|&i| run[i] - began >= sustain || urgent(i)) {
            incident += 1;
            let first_at = run[first];
            let event = if first_at - began >= sustain {
                report(incident, first_at - began, None)
            } else {
                urgent_report(incident, first_at - began)
            };
            events.push((start + first, event));
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
pub fn assert_same(
    what: &str,
    samples: &[Sample],
    got: &[(usize, Event)],
    want: &[(usize, Event)],
) {
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
pub struct Counts {
    pub first_reports: usize,
    pub repeats: usize,
    pub recoveries: usize,
}

pub fn counts(events: &[(usize, Event)]) -> Counts {
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
