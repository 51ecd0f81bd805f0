//! What to write for the kernel's OOM kills, a minute at a time: at most [`ENTRIES_A_MINUTE`]
//! entries, then one entry that counts the rest; and which kill asks for a report of the machine
//! after it (the first of each minute). Pure: kills come with the time the kernel gives them.
//!
//! Kills from before the daemon started (read from the kernel's log at start) are capped in
//! minutes of their own: a past storm must not use up the entries of a kill that happens now.

use std::time::Duration;

/// Kill entries written in a minute, at most; the rest are counted in one entry.
pub const ENTRIES_A_MINUTE: u32 = 10;

const MINUTE: Duration = Duration::from_secs(60);

/// The kills of one minute, from its first.
#[derive(Debug)]
struct Minute {
    start: Duration,
    /// Its kills happened before the daemon started.
    before_start: bool,
    written: u32,
    reported: bool,
    /// Kills beyond the cap, by name, in the order first seen.
    more: Vec<(Vec<u8>, u64)>,
    last_more_at: Duration,
}

impl Minute {
    fn starting(at: Duration, before_start: bool) -> Minute {
        Minute {
            start: at,
            before_start,
            written: 0,
            reported: false,
            more: Vec::new(),
            last_more_at: at,
        }
    }
}

/// The kills beyond the cap of a minute that has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoreKills {
    /// When the last of them happened.
    pub at: Duration,
    pub count: u64,
    /// How many of each name, most first.
    pub names: Vec<(Vec<u8>, u64)>,
    pub before_start: bool,
}

/// What to do with one kill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillDecision {
    /// Write its entry; and a report after it when `report`.
    Write { report: bool },
    /// Past the cap: counted in the minute's [`MoreKills`].
    Counted,
}

#[derive(Debug, Default)]
pub struct Kills {
    minute: Option<Minute>,
}

impl Kills {
    pub fn new() -> Kills {
        Kills::default()
    }

    /// A kill at `at` on the kernel's clock. First ends the minute if `at` is past it, with what
    /// it counted beyond the cap; then decides this kill. A kill from before the daemon
    /// started gets no report: the machine as it is now says nothing about it.
    pub fn kill(
        &mut self,
        at: Duration,
        name: &[u8],
        before_start: bool,
    ) -> (Option<MoreKills>, KillDecision) {
        let ended = self.end_minute_unless_it_holds(at, before_start);
        let minute = self
            .minute
            .get_or_insert_with(|| Minute::starting(at, before_start));
        let decision = if minute.written < ENTRIES_A_MINUTE {
            minute.written += 1;
            let report = !before_start && !minute.reported;
            minute.reported |= report;
            KillDecision::Write { report }
        } else {
            match minute
                .more
                .iter_mut()
                .find(|(known, _)| known.as_slice() == name)
            {
                Some((_, count)) => *count += 1,
                None => minute.more.push((name.to_vec(), 1)),
            }
            minute.last_more_at = minute.last_more_at.max(at);
            KillDecision::Counted
        };
        (ended, decision)
    }

    /// Kills counted without names (the kernel's log unreadable), `count` of them seen at `at`:
    /// whether a report follows them, as for the first kill of a minute.
    /// Their entry already holds their number, so they are never counted again in a
    /// [`MoreKills`], nor do they use up the minute's entries.
    pub fn counted(&mut self, at: Duration, before_start: bool) -> (Option<MoreKills>, bool) {
        let ended = self.end_minute_unless_it_holds(at, before_start);
        let minute = self
            .minute
            .get_or_insert_with(|| Minute::starting(at, before_start));
        let report = !before_start && !minute.reported;
        minute.reported |= report;
        (ended, report)
    }

    /// At a tick at `now` on the kernel's clock: ends a minute that has passed.
    pub fn tick(&mut self, now: Duration) -> Option<MoreKills> {
        let minute = self.minute.as_ref()?;
        if now < minute.start.saturating_add(MINUTE) {
            return None;
        }
        self.end_minute()
    }

    /// Once the kernel's log has been read at start: the kills from before the start are all
    /// in, so their last minute ends now rather than a minute after it began.
    pub fn end_catch_up(&mut self) -> Option<MoreKills> {
        if self.minute.as_ref()?.before_start {
            self.end_minute()
        } else {
            None
        }
    }

    /// Ends the running minute unless a kill at `at`, from before the start or not, belongs in it.
    fn end_minute_unless_it_holds(
        &mut self,
        at: Duration,
        before_start: bool,
    ) -> Option<MoreKills> {
        let minute = self.minute.as_ref()?;
        if minute.before_start == before_start && at < minute.start.saturating_add(MINUTE) {
            return None;
        }
        self.end_minute()
    }

    fn end_minute(&mut self) -> Option<MoreKills> {
        let minute = self.minute.take()?;
        if minute.more.is_empty() {
            return None;
        }
        let mut names = minute.more;
        names.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        Some(MoreKills {
            at: minute.last_more_at,
            count: names.iter().map(|(_, n)| n).sum(),
            names,
            before_start: minute.before_start,
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
    fn ten_kills_a_minute_then_one_entry_for_the_rest() {
        let mut kills = Kills::new();
        let mut decisions = Vec::new();
        for i in 0..25 {
            let name: &[u8] = if i % 3 == 0 { b"tail" } else { b"stress" };
            let (ended, decision) =
                kills.kill(s(100) + Duration::from_millis(i * 100), name, false);
            assert_eq!(ended, None);
            decisions.push(decision);
        }
        assert_eq!(decisions[0], KillDecision::Write { report: true });
        assert!(
            decisions[1..10]
                .iter()
                .all(|d| *d == KillDecision::Write { report: false })
        );
        assert!(decisions[10..].iter().all(|d| *d == KillDecision::Counted));
        assert_eq!(kills.tick(s(159)), None, "the minute is not over");
        let more = kills.tick(s(160)).unwrap();
        assert_eq!(more.count, 15);
        assert_eq!(
            more.names,
            [(b"stress".to_vec(), 10), (b"tail".to_vec(), 5)]
        );
        assert_eq!(more.at, s(100) + Duration::from_millis(2400));
        assert_eq!(kills.tick(s(500)), None, "said once");
    }

    #[test]
    fn a_kill_after_the_minute_ends_it_and_starts_the_next() {
        let mut kills = Kills::new();
        for i in 0..11 {
            kills.kill(s(i), b"a", false);
        }
        let (ended, decision) = kills.kill(s(61), b"b", false);
        assert_eq!(ended.map(|m| m.count), Some(1));
        assert_eq!(
            decision,
            KillDecision::Write { report: true },
            "a new minute"
        );
    }

    #[test]
    fn kills_from_before_the_start_get_entries_but_no_report() {
        let mut kills = Kills::new();
        assert_eq!(
            kills.kill(s(5), b"a", true).1,
            KillDecision::Write { report: false }
        );
        assert_eq!(
            kills.kill(s(6), b"b", false).1,
            KillDecision::Write { report: true },
            "the first kill since the start"
        );
        assert_eq!(
            kills.kill(s(7), b"c", false).1,
            KillDecision::Write { report: false }
        );
    }

    #[test]
    fn counted_kills_ask_for_one_report_a_minute() {
        let mut kills = Kills::new();
        assert_eq!(kills.counted(s(10), false), (None, true));
        assert_eq!(kills.counted(s(13), false), (None, false));
        assert_eq!(kills.counted(s(71), false), (None, true));
        assert_eq!(kills.counted(s(200), true), (None, false));
    }

    /// Their entries carry their number: counting them again would write them twice.
    #[test]
    fn counted_kills_are_never_summed_up_again() {
        let mut kills = Kills::new();
        for i in 0..30 {
            assert_eq!(
                kills.counted(s(10) + Duration::from_millis(i), false).0,
                None
            );
        }
        assert_eq!(kills.tick(s(100)), None);
        assert_eq!(kills.tick(s(1000)), None);
    }

    /// A minute capped by named kills still ends with its summary when a counted kill comes.
    #[test]
    fn a_counted_kill_ends_a_capped_minute() {
        let mut kills = Kills::new();
        for i in 0..12 {
            kills.kill(s(10) + Duration::from_millis(i), b"stress", false);
        }
        let (ended, report) = kills.counted(s(75), false);
        assert_eq!(ended.map(|m| m.count), Some(2));
        assert!(report);
    }

    /// A storm just before the start fills its minute; a kill now still gets its entry and
    /// its report, and the storm's summary says it was before the start.
    #[test]
    fn kills_before_the_start_have_minutes_of_their_own() {
        let mut kills = Kills::new();
        for i in 0..15 {
            kills.kill(s(100) + Duration::from_millis(i), b"tail", true);
        }
        let (ended, decision) = kills.kill(s(110), b"java", false);
        assert_eq!(decision, KillDecision::Write { report: true });
        let ended = ended.unwrap();
        assert_eq!((ended.count, ended.before_start), (5, true));
        assert_eq!(
            kills.tick(s(200)),
            None,
            "nothing beyond the cap after the start"
        );
    }

    #[test]
    fn the_catch_up_ends_its_minute_when_the_log_is_read() {
        let mut kills = Kills::new();
        for i in 0..12 {
            kills.kill(s(100) + Duration::from_millis(i), b"tail", true);
        }
        assert_eq!(kills.end_catch_up().map(|m| m.count), Some(2));
        assert_eq!(kills.end_catch_up(), None);
        kills.kill(s(101), b"java", false);
        assert_eq!(
            kills.end_catch_up(),
            None,
            "a minute of kills after the start goes on"
        );
    }
}
