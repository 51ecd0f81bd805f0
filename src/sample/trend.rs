//! The minutes before a report: the used% of recent samples in a ring allocated once, so that a
//! tick adds one sample and allocates nothing, and nothing reaches the disk until a report.

use std::time::Duration;

/// How far back a report looks.
pub const WINDOW: Duration = Duration::from_secs(600);

/// How many cells the line shows.
pub const CELLS: usize = 30;

/// The most samples kept: ten minutes of them at any interval from 37 ms up; below that, the
/// window shrinks to what this many samples cover.
const MOST_SAMPLES: usize = 16_384;

/// Recent samples, oldest first.
pub struct Trend {
    /// (when, used%), on the monotonic clock of the samples.
    ring: Box<[(Duration, f32)]>,
    /// Where the oldest sample is.
    start: usize,
    len: usize,
}

/// What a report's trend line says: the highest used% in each slice of the window, oldest
/// first (`None` for a slice with no sample), and the lowest and highest of all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrendLine {
    pub window: Duration,
    pub cells: [Option<f64>; CELLS],
    pub low: f64,
    pub high: f64,
}

impl Trend {
    /// Room for [`WINDOW`] of samples taken every `interval`, and one more.
    pub fn new(interval: Duration) -> Trend {
        let per_window = WINDOW.as_nanos() / interval.as_nanos().max(1) + 2;
        let capacity = usize::try_from(per_window).map_or(MOST_SAMPLES, |n| n.min(MOST_SAMPLES));
        Trend {
            ring: vec![(Duration::ZERO, 0.0); capacity].into_boxed_slice(),
            start: 0,
            len: 0,
        }
    }

    /// Adds a sample, dropping the oldest when the ring is full.
    pub fn push(&mut self, at: Duration, used_percent: f64) {
        let capacity = self.ring.len();
        if capacity == 0 {
            return;
        }
        let end = (self.start + self.len) % capacity;
        if let Some(slot) = self.ring.get_mut(end) {
            *slot = (at, used_percent as f32);
        }
        if self.len < capacity {
            self.len += 1;
        } else {
            self.start = (self.start + 1) % capacity;
        }
    }

    fn samples(&self) -> impl Iterator<Item = (Duration, f64)> + '_ {
        let capacity = self.ring.len().max(1);
        (0..self.len).filter_map(move |i| {
            let (at, used) = *self.ring.get((self.start + i) % capacity)?;
            Some((at, f64::from(used)))
        })
    }

    /// The line for a report at `now`, `since_start` after the first sample could have been
    /// taken: the window is [`WINDOW`], or that when shorter. `None` without any sample in it.
    pub fn line(&self, now: Duration, since_start: Duration) -> Option<TrendLine> {
        let window = WINDOW.min(since_start);
        let from = now.saturating_sub(window);
        let mut cells = [None; CELLS];
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        let span = window.as_nanos().max(1);
        for (at, used) in self.samples().filter(|&(at, _)| at >= from && at <= now) {
            let into = (at - from).as_nanos();
            let cell = usize::try_from(into * CELLS as u128 / span)
                .unwrap_or(CELLS)
                .min(CELLS - 1);
            if let Some(slot) = cells.get_mut(cell) {
                *slot = Some(slot.map_or(used, |highest: f64| highest.max(used)));
            }
            low = low.min(used);
            high = high.max(used);
        }
        (low <= high).then_some(TrendLine {
            window,
            cells,
            low,
            high,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn ten_minutes_of_samples_fill_thirty_cells_with_their_highest() {
        let mut trend = Trend::new(s(3));
        for i in 0..=300 {
            trend.push(s(3 * i), (i % 100) as f64);
        }
        // At 900 s: the window is 300..=900 s, 20 s a cell.
        let line = trend.line(s(900), s(900)).unwrap();
        assert_eq!(line.window, s(600));
        assert!(line.cells.iter().all(Option::is_some), "{line:?}");
        // Cell 0 holds the samples at 300..320 s: i = 100..106, used 0..6.
        assert_eq!(line.cells[0], Some(6.0));
        assert_eq!((line.low, line.high), (0.0, 99.0));
    }

    #[test]
    fn a_young_daemon_looks_back_only_as_far_as_it_has_run() {
        let mut trend = Trend::new(s(3));
        trend.push(s(0), 40.0);
        trend.push(s(30), 90.0);
        let line = trend.line(s(30), s(30)).unwrap();
        assert_eq!(line.window, s(30));
        assert_eq!(line.cells[0], Some(40.0));
        assert_eq!(line.cells[29], Some(90.0));
        assert_eq!(line.cells[1..29], [None; 28]);
        assert_eq!((line.low, line.high), (40.0, 90.0));
    }

    #[test]
    fn the_ring_keeps_the_newest_and_never_grows() {
        let mut trend = Trend::new(s(300));
        let capacity = trend.ring.len();
        assert_eq!(capacity, 4);
        for i in 0..10 {
            trend.push(s(300 * i), i as f64);
        }
        assert_eq!(trend.ring.len(), capacity);
        let kept: Vec<f64> = trend.samples().map(|(_, used)| used).collect();
        assert_eq!(kept, [6.0, 7.0, 8.0, 9.0]);
        // Tiny intervals are bounded.
        assert_eq!(Trend::new(Duration::from_nanos(1)).ring.len(), MOST_SAMPLES);
    }

    #[test]
    fn no_sample_in_the_window_is_no_line() {
        let mut trend = Trend::new(s(3));
        assert_eq!(trend.line(s(10), s(10)), None);
        trend.push(s(0), 50.0);
        assert_eq!(trend.line(s(1000), s(1000)), None, "too old");
        assert!(trend.line(s(0), s(0)).is_some(), "one sample, no time");
    }
}
