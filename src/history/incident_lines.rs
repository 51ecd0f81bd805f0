//! Which lines of incidents.log and details.log belong to one incident, told from the text
//! alone (docs/log-format.md): each episode opens with a new-log marker that carries its number,
//! report headers repeat that number, a recovered line closes the episode without naming it,
//! and an OOM-kill entry belongs to the episode it falls in, or to the one it opens: the report
//! after a kill comes under a new marker when memory was not high.
//!
//! Numbers restart at 1 with every run of the daemon, so a number alone does not name one
//! incident. Its marker does: the time, the number and the version, the same line in both logs.
//! Pure: lines in, lines out, nothing read or written here.

use std::collections::VecDeque;

/// What one line of a log is, as far as telling incidents apart goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `===== new log <time> | incident <n> | memory-monitor <version> =====`
    Marker(u64),
    /// `<time> | incident <n> | …`: a report's header.
    Report(u64),
    /// `<time> | recovered | …`: ends the open episode.
    Recovered,
    /// `<time> | oom-kill | …`; `true` when it ends `| before memory-monitor started`.
    Kill { before_start: bool },
    /// `<time> | previous boot | …`: written as a new run starts.
    PreviousBoot,
    /// Another entry that starts with a time: kept with the episode it falls in.
    OtherEntry,
    /// Anything else: part of the entry above it (context lines, the table, blank lines).
    Body,
}

const MARKER_START: &[u8] = b"===== new log ";
const MARKER_END: &[u8] = b" =====";
const BEFORE_START: &[u8] = b" | before memory-monitor started";

/// The most bytes of kill entries held before they are placed.
pub const PENDING_LIMIT: usize = 1 << 20;

/// Tells what `line` is. A process table's line cannot pass for an entry: every cell but
/// COMMAND is one word, and the first is a user name, never a time followed by ` | `.
pub fn kind_of(line: &[u8]) -> Kind {
    if let Some(rest) = line.strip_prefix(MARKER_START) {
        return match marker_number(rest) {
            Some(n) => Kind::Marker(n),
            None => Kind::Body,
        };
    }
    let Some(rest) = after_time(line).and_then(|r| r.strip_prefix(b" | ")) else {
        return Kind::Body;
    };
    if let Some(number) = incident_number(rest) {
        return Kind::Report(number);
    }
    if rest.starts_with(b"recovered |") {
        Kind::Recovered
    } else if rest.starts_with(b"oom-kill |") {
        Kind::Kill {
            before_start: line.ends_with(BEFORE_START),
        }
    } else if rest.starts_with(b"previous boot |") {
        Kind::PreviousBoot
    } else {
        Kind::OtherEntry
    }
}

/// The number of `<time> | incident <n> | memory-monitor <version> =====`.
fn marker_number(rest: &[u8]) -> Option<u64> {
    let rest = after_time(rest)?.strip_prefix(b" | ")?;
    if !rest.ends_with(MARKER_END) {
        return None;
    }
    incident_number(rest)
}

/// `<n>` of `incident <n> | …`.
fn incident_number(rest: &[u8]) -> Option<u64> {
    let rest = rest.strip_prefix(b"incident ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (number, after) = rest.split_at(digits);
    if !after.starts_with(b" | ") || number.is_empty() {
        return None;
    }
    std::str::from_utf8(number).ok()?.parse().ok()
}

/// What follows a leading `2026-11-22 14:03:15 +01:00`, the logs' time with its offset.
fn after_time(line: &[u8]) -> Option<&[u8]> {
    const PATTERN: &[u8; 26] = b"dddd-dd-dd dd:dd:dd sdd:dd";
    let (time, rest) = line.split_at_checked(PATTERN.len())?;
    let fits = time.iter().zip(PATTERN).all(|(&b, &p)| match p {
        b'd' => b.is_ascii_digit(),
        b's' => b == b'+' || b == b'-',
        _ => b == p,
    });
    fits.then_some(rest)
}

/// Where the lines being read go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    Chosen,
    Pending,
    Nowhere,
}

/// The episode that the lines being read fall in.
#[derive(Debug, Clone, Copy)]
struct Open {
    number: u64,
    chosen: bool,
}

/// Gathers the lines of one episode, the one under a given marker line, from a log's lines fed
/// oldest first across its files: an episode may begin in a rotated file and go on in the next.
/// Each line comes with the index of its file, and leaves with it.
#[derive(Debug)]
pub struct Gather {
    marker: Vec<u8>,
    /// Which of the markers equal to `marker` is the episode's, from 0: two runs can start an
    /// incident of the same number in the same second (a daemon restarted at once, memory above
    /// --urgent at its first sample), and their markers are then the same line.
    occurrence: usize,
    seen: usize,
    open: Option<Open>,
    to: To,
    /// OOM-kill entries (each with its blank line) not yet placed: the next entry says whether
    /// they open an episode (a marker follows) or fall in the open one.
    pending: VecDeque<(usize, Vec<u8>)>,
    pending_bytes: usize,
    found: bool,
}

impl Gather {
    pub fn new(marker: &[u8], occurrence: usize) -> Gather {
        Gather {
            marker: marker.to_vec(),
            occurrence,
            seen: 0,
            open: None,
            to: To::Nowhere,
            pending: VecDeque::new(),
            pending_bytes: 0,
            found: false,
        }
    }

    /// Whether the chosen episode's marker was seen.
    pub fn found(&self) -> bool {
        self.found
    }

    /// Takes the next line (of file `file`), and gives `emit` the lines now known to belong to
    /// the chosen episode, in order.
    pub fn line(&mut self, file: usize, line: &[u8], mut emit: impl FnMut(usize, &[u8])) {
        let in_chosen = self.open.is_some_and(|open| open.chosen);
        match kind_of(line) {
            Kind::Body => {}
            Kind::Kill {
                before_start: false,
            } => self.to = To::Pending,
            Kind::Marker(number) => {
                let chosen = self.marker == line && {
                    self.seen += 1;
                    self.seen == self.occurrence + 1
                };
                // Kills right before a marker are what opened the episode.
                self.place_pending(chosen, &mut emit);
                self.found |= chosen;
                self.open = Some(Open { number, chosen });
                self.to = if chosen { To::Chosen } else { To::Nowhere };
            }
            kind => {
                self.place_pending(in_chosen, &mut emit);
                let to_open = if in_chosen { To::Chosen } else { To::Nowhere };
                self.to = match kind {
                    // A new run writes these: the episode before ended with the old run.
                    Kind::Kill { before_start: true } | Kind::PreviousBoot => {
                        self.open = None;
                        To::Nowhere
                    }
                    Kind::Recovered => {
                        self.open = None;
                        to_open
                    }
                    Kind::Report(number) if self.open.is_some_and(|o| o.number == number) => {
                        to_open
                    }
                    // A header under another number: its marker was lost (a damaged file), so
                    // neither it nor what follows can be told to be the chosen episode's.
                    Kind::Report(_) => {
                        self.open = None;
                        To::Nowhere
                    }
                    _ => to_open,
                };
            }
        }
        match self.to {
            To::Chosen => emit(file, line),
            To::Pending => self.hold(file, line),
            To::Nowhere => {}
        }
    }

    /// The end of the log: kills still pending fell in the episode open at the end.
    pub fn finish(&mut self, mut emit: impl FnMut(usize, &[u8])) {
        let in_chosen = self.open.is_some_and(|open| open.chosen);
        self.place_pending(in_chosen, &mut emit);
    }

    /// Keeps a line of kill entries until the next entry places them. The daemon writes at most
    /// eleven kill entries a minute, and a report after the first: only a tampered log holds
    /// more in a row, and of those only the last [`PENDING_LIMIT`] bytes are kept.
    fn hold(&mut self, file: usize, line: &[u8]) {
        self.pending_bytes += line.len();
        self.pending.push_back((file, line.to_vec()));
        while self.pending_bytes > PENDING_LIMIT {
            let Some((_, dropped)) = self.pending.pop_front() else {
                break;
            };
            self.pending_bytes -= dropped.len();
        }
    }

    fn place_pending(&mut self, chosen: bool, emit: &mut impl FnMut(usize, &[u8])) {
        self.pending_bytes = 0;
        for (file, line) in self.pending.drain(..) {
            if chosen {
                emit(file, &line);
            }
        }
    }
}

/// The markers of incident `wanted` in a log, oldest first, and the highest number seen, for
/// the first pass: which run's incident to show.
#[derive(Debug, Default)]
pub struct Markers {
    pub wanted: u64,
    /// Each marker line of incident `wanted`, oldest first: one for each run that had it.
    pub found: Vec<Vec<u8>>,
    /// The highest incident number of any marker, for saying what the logs hold.
    pub highest: Option<u64>,
}

impl Markers {
    pub fn new(wanted: u64) -> Markers {
        Markers {
            wanted,
            ..Markers::default()
        }
    }

    pub fn line(&mut self, line: &[u8]) {
        if let Kind::Marker(n) = kind_of(line) {
            self.highest = self.highest.max(Some(n));
            if n == self.wanted {
                self.found.push(line.to_vec());
            }
        }
    }

    /// The latest of incident `wanted`'s markers, and which of the markers equal to it it is.
    pub fn latest(&self) -> Option<(&[u8], usize)> {
        let last = self.found.last()?;
        let same = self.found.iter().filter(|m| *m == last).count();
        Some((last, same.saturating_sub(1)))
    }

    /// Which of this log's markers equal to `marker` is the last, from 0; `None` when the log
    /// has none.
    pub fn last_occurrence(&self, marker: &[u8]) -> Option<usize> {
        self.found
            .iter()
            .filter(|m| m.as_slice() == marker)
            .count()
            .checked_sub(1)
    }
}

/// The time a marker line gives, as written: `2026-11-22 14:03:15 +01:00`.
pub fn marker_time(marker: &[u8]) -> &[u8] {
    marker
        .strip_prefix(MARKER_START)
        .and_then(|rest| rest.get(..26))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "incident_lines_tests.rs"]
mod tests;
