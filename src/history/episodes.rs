//! incidents.jsonl's lines, read back into episodes: pure, one line at a time, so that a year of
//! logs costs the memory of its episodes and not of its lines.
//!
//! A run of the daemon begins with a `start` object; every new file begins with one too, so a
//! run is known by the start's `pid` and `started`, not by the object alone. Incident numbers
//! restart at 1 in each run. An episode is the reports with one number in one run, up to its
//! `recovered` line; `oom-kill` lines count toward the episode open at the time, and a kill
//! just before the report that follows it (reason `oom-kill`) toward the episode that report
//! opens. Events this reader does not know (`dropped`, `previous-boot`, later ones) are
//! skipped. Nothing in a line can make it panic: a line that is not one of the daemon's objects
//! is counted and skipped.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde::Deserialize;

/// How many processes an episode keeps from its worst report.
pub const BIGGEST: usize = 3;
/// A process's name is kept to this many bytes: enough for any program's name, and a
/// tampered file cannot make each episode hold a megabyte.
pub const NAME_LIMIT: usize = 32;
/// The longest duration believed: a tampered `high_for_seconds` of 1e300 must not overflow.
const MAX_SECONDS: f64 = 3660.0 * 24.0 * 3600.0;

/// How an episode ended, as far as the logs tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Its `recovered` line is there.
    Recovered,
    /// Still open at the end of the logs: memory may still be high.
    Open,
    /// No recovered line, but the run went on or ended without it (the daemon stopped while
    /// memory was high, or the lines were lost).
    Unended,
}

impl End {
    pub fn word(self) -> &'static str {
        match self {
            End::Recovered => "recovered",
            End::Open => "open",
            End::Unended => "unended",
        }
    }
}

/// A process at an episode's worst report: its name (the first word of its command, without
/// the directory, at most [`NAME_LIMIT`] bytes, as the file has it) and its RSS.
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    pub name: String,
    pub rss_bytes: Option<u64>,
}

/// One episode: what the output says of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    pub incident: u64,
    /// The first high sample: the first report's time less its `high_for_seconds`.
    pub began: DateTime<FixedOffset>,
    /// The time of its last line, to tell whether it reaches into the period.
    pub last: DateTime<FixedOffset>,
    /// From its first high sample to the sample that ended it, or, without a recovered line,
    /// to its last report.
    pub lasted_seconds: f64,
    pub end: End,
    pub ram_max_percent: f64,
    pub reports: u64,
    pub oom_kills: u64,
    /// The biggest processes at the report with the highest RAM, biggest first.
    pub biggest: Vec<Process>,
}

/// What a line was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// One of the daemon's objects, used.
    Read,
    /// An event this reader does not know, or a report of a snapshot: skipped.
    Skipped,
    /// Not JSON, or not one of the daemon's objects.
    Bad,
}

/// The fields of every object this reader uses; serde skips the rest.
#[derive(Deserialize)]
struct Object<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default)]
    incident: Option<u64>,
    #[serde(default)]
    pid: Option<u64>,
    #[serde(default, borrow)]
    started: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(default)]
    ram_percent: Option<f64>,
    #[serde(default)]
    high_for_seconds: Option<f64>,
    #[serde(default)]
    kills: Option<u64>,
    #[serde(default)]
    before_start: Option<bool>,
    #[serde(default, borrow)]
    top: Option<Vec<Row<'a>>>,
}

#[derive(Deserialize)]
struct Row<'a> {
    #[serde(borrow)]
    command: Cow<'a, str>,
    #[serde(default)]
    rss_bytes: Option<u64>,
}

/// Just the event, to tell an unknown kind of object from a damaged one.
#[derive(Deserialize)]
struct EventOnly<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
}

/// Lines in, episodes out. Feed it every line of every file, oldest first, then [`finish`].
///
/// [`finish`]: Episodes::finish
#[derive(Debug, Default)]
pub struct Episodes {
    /// Episodes whose last line is before this are dropped as soon as they close.
    since: Option<DateTime<FixedOffset>>,
    /// The run the lines belong to: the last start's pid and start time.
    run: Option<(Option<u64>, String)>,
    open: Option<Episode>,
    /// Kills since the last episode closed, and the time of the last: taken by the report that
    /// follows them if it is the one after a kill.
    waiting: Option<(u64, DateTime<FixedOffset>)>,
    done: Vec<Episode>,
    /// OOM kills in the period that no episode took.
    kills_outside: u64,
}

/// What the lines held: the episodes that reach into the period, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Found {
    pub episodes: Vec<Episode>,
    /// OOM kills in the period outside any episode (before the daemon started, or with no
    /// report after them).
    pub kills_outside: u64,
}

impl Episodes {
    pub fn new(since: Option<DateTime<FixedOffset>>) -> Episodes {
        Episodes {
            since,
            ..Episodes::default()
        }
    }

    /// Reads one line (without its newline).
    pub fn push(&mut self, line: &[u8]) -> Line {
        let object: Object = match serde_json::from_slice(line) {
            Ok(object) => object,
            // A future kind of object may use one of these names for something else.
            Err(_) => {
                return match serde_json::from_slice::<EventOnly>(line) {
                    Ok(e) if !is_known(&e.event) => Line::Skipped,
                    _ => Line::Bad,
                };
            }
        };
        if !is_known(&object.event) {
            return Line::Skipped;
        }
        let Ok(time) = DateTime::parse_from_rfc3339(&object.time) else {
            return Line::Bad;
        };
        match &*object.event {
            "start" => self.start(object.pid, object.started.as_deref().unwrap_or("")),
            "report" => return self.report(time, &object),
            "recovered" => self.recovered(time, &object),
            "oom-kill" => self.kill(time, &object),
            _ => return Line::Skipped,
        }
        Line::Read
    }

    /// The episodes, once every line is read: the one still open is [`End::Open`].
    pub fn finish(mut self) -> Found {
        self.close(End::Open);
        self.flush_waiting();
        Found {
            episodes: self.done,
            kills_outside: self.kills_outside,
        }
    }

    fn start(&mut self, pid: Option<u64>, started: &str) {
        // The start at the top of a rotated file: the same run goes on.
        if pid.is_some()
            && !started.is_empty()
            && self
                .run
                .as_ref()
                .is_some_and(|(p, s)| *p == pid && s == started)
        {
            return;
        }
        self.close(End::Unended);
        self.flush_waiting();
        self.run = Some((pid, started.to_string()));
    }

    fn report(&mut self, time: DateTime<FixedOffset>, object: &Object) -> Line {
        // A snapshot's report has no number; it is no episode's.
        let Some(incident) = object.incident else {
            return Line::Skipped;
        };
        let Some(ram) = object.ram_percent.filter(|r| r.is_finite()) else {
            return Line::Bad;
        };
        let high_for = seconds(object.high_for_seconds);
        if self.open.as_ref().is_some_and(|e| e.incident != incident) {
            self.close(End::Unended);
        }
        if self.open.is_none() {
            let mut episode = Episode {
                incident,
                began: minus(time, high_for),
                last: time,
                lasted_seconds: high_for,
                end: End::Open,
                ram_max_percent: f64::NEG_INFINITY,
                reports: 0,
                oom_kills: 0,
                biggest: Vec::new(),
            };
            if object.reason.as_deref() == Some("oom-kill")
                && let Some((kills, _)) = self.waiting.take()
            {
                episode.oom_kills = kills;
            }
            self.open = Some(episode);
        }
        self.flush_waiting();
        let Some(episode) = self.open.as_mut() else {
            return Line::Read;
        };
        episode.reports += 1;
        episode.last = episode.last.max(time);
        episode.lasted_seconds = episode.lasted_seconds.max(high_for);
        if ram > episode.ram_max_percent {
            episode.ram_max_percent = ram;
            episode.biggest = object
                .top
                .iter()
                .flatten()
                .take(BIGGEST)
                .map(|row| Process {
                    name: name_of(&row.command),
                    rss_bytes: row.rss_bytes,
                })
                .collect();
        }
        Line::Read
    }

    fn recovered(&mut self, time: DateTime<FixedOffset>, object: &Object) {
        let Some(episode) = self.open.as_mut() else {
            return;
        };
        if object.incident != Some(episode.incident) {
            return;
        }
        episode.last = episode.last.max(time);
        if object.high_for_seconds.is_some() {
            episode.lasted_seconds = seconds(object.high_for_seconds);
        }
        self.close(End::Recovered);
    }

    fn kill(&mut self, time: DateTime<FixedOffset>, object: &Object) {
        let kills = object.kills.unwrap_or(1);
        // A kill from before the daemon started is no episode's: no report follows it.
        if object.before_start == Some(true) {
            self.outside(time, kills);
            return;
        }
        match self.open.as_mut() {
            Some(episode) => {
                episode.oom_kills = episode.oom_kills.saturating_add(kills);
                episode.last = episode.last.max(time);
            }
            None => {
                let (count, last) = self.waiting.take().unwrap_or((0, time));
                self.waiting = Some((count.saturating_add(kills), last.max(time)));
            }
        }
    }

    fn outside(&mut self, time: DateTime<FixedOffset>, kills: u64) {
        if self.since.is_none_or(|since| time >= since) {
            self.kills_outside = self.kills_outside.saturating_add(kills);
        }
    }

    fn flush_waiting(&mut self) {
        if let Some((kills, time)) = self.waiting.take() {
            self.outside(time, kills);
        }
    }

    fn close(&mut self, end: End) {
        if let Some(mut episode) = self.open.take() {
            episode.end = end;
            if self.since.is_none_or(|since| episode.last >= since) {
                self.done.push(episode);
            }
        }
    }
}

fn is_known(event: &str) -> bool {
    matches!(event, "start" | "report" | "recovered" | "oom-kill")
}

/// Seconds as the file has them, within reason: a missing, negative or absurd figure is 0 or
/// the cap, never a panic in the arithmetic of times.
fn seconds(value: Option<f64>) -> f64 {
    match value {
        Some(s) if s.is_finite() => s.clamp(0.0, MAX_SECONDS),
        _ => 0.0,
    }
}

fn minus(time: DateTime<FixedOffset>, seconds: f64) -> DateTime<FixedOffset> {
    // Whole milliseconds: the logs' own precision. `seconds` is capped, so this fits.
    let millis = (seconds * 1000.0).round() as i64;
    TimeDelta::try_milliseconds(millis)
        .and_then(|d| time.checked_sub_signed(d))
        .unwrap_or(time)
}

/// What a process is called in the summary: its command's first word without the directory
/// (`/usr/bin/java -jar x` is `java`); for a script run by an interpreter, the script's name
/// (`/usr/bin/python2 -Es /usr/sbin/firewalld` is `firewalld`), as several scripts of one
/// interpreter must not pass for one program; a kernel thread's whole first word
/// (`[kworker/0:1]`). Cut to [`NAME_LIMIT`] bytes on a character boundary.
pub fn name_of(command: &str) -> String {
    let mut words = command.split(' ').filter(|w| !w.is_empty());
    let first = words.next().unwrap_or("");
    let mut name = if first.starts_with('[') {
        first
    } else {
        base(first)
    };
    if is_interpreter(name)
        && let Some(script) = words.find(|w| !w.starts_with('-'))
    {
        name = base(script);
    }
    let mut end = name.len().min(NAME_LIMIT);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or("").to_string()
}

fn base(word: &str) -> &str {
    word.rsplit('/').find(|w| !w.is_empty()).unwrap_or(word)
}

/// Interpreters whose first argument that is not an option is the script they run.
fn is_interpreter(name: &str) -> bool {
    let family = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    matches!(
        family,
        "python" | "perl" | "ruby" | "node" | "nodejs" | "sh" | "bash" | "dash" | "php"
    )
}

/// The names that were biggest at their episode's worst report most often, most first (ties:
/// by name), with how many episodes each.
pub fn biggest_most_often(episodes: &[Episode]) -> Vec<(String, u64)> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for episode in episodes {
        if let Some(first) = episode.biggest.first() {
            *counts.entry(&first.name).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(name, n)| (name.to_string(), n))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
}

#[cfg(test)]
#[path = "episodes_tests.rs"]
mod tests;
