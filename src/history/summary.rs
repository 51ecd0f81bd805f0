//! What `memory-monitor incidents` prints, from the episodes found: aligned text for people, or
//! the same as one JSON object. Pure, so that snapshots pin it. Every string from the files is
//! escaped again here: the daemon escaped it when it wrote it, but a file can be tampered with,
//! and nothing raw may reach a terminal.

use std::io::{self, Write};

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use super::episodes::{End, Episode, Found, biggest_most_often};
use crate::render::header::format_time;
use crate::text::duration::format_duration;
use crate::text::escape::{escape, escape_word};
use crate::text::size::format_kib;

/// The most days the strip shows; `--since` is capped to it, so a strip is at most this long.
pub const MAX_DAYS: i64 = 3660;
/// How many names the "biggest most often" line gives.
const MOST_OFTEN: usize = 3;

/// What was read, and for which period.
pub struct Summary<'a> {
    pub since: DateTime<FixedOffset>,
    pub now: DateTime<FixedOffset>,
    /// `--since` as given when it is a time back (`7d`), shown after the period's start; empty
    /// for a day, which the start says already.
    pub since_text: &'a str,
    pub log_dir: &'a str,
    /// The files read, oldest first, by name.
    pub files: &'a [String],
    pub found: &'a Found,
}

/// [`write_text`] into a string.
pub fn text(s: &Summary) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_text(s, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

const HEADINGS: [&str; 6] = [
    "began",
    "lasted",
    "RAM max",
    "reports",
    "OOM kills",
    "biggest at the worst report",
];

/// The text output: a header, one line per episode, the names biggest most often and the strip.
/// Written line by line: a year of episodes is never held as text.
pub fn write_text(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let episodes = &s.found.episodes;
    let mut head = if episodes.is_empty() {
        format!(
            "No episodes since {}{} in {}",
            format_time(&s.since),
            given(s),
            files_read(s)
        )
    } else {
        format!(
            "{} since {}{} in {}",
            plural(episodes.len() as u64, "episode"),
            format_time(&s.since),
            given(s),
            files_read(s),
        )
    };
    if s.found.kills_outside > 0 {
        head.push_str(&format!(
            "; {} outside them",
            plural(s.found.kills_outside, "OOM kill")
        ));
    }
    writeln!(out, "{head}")?;
    if episodes.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    // Two passes, the first for the columns' widths, so that no row is kept.
    let mut widths = HEADINGS.map(|h| h.len());
    for e in episodes {
        for (w, cell) in widths.iter_mut().zip(cells(e)) {
            *w = (*w).max(cell.chars().count());
        }
    }
    write_row(out, &widths, &HEADINGS.map(String::from))?;
    for e in episodes {
        write_row(out, &widths, &cells(e))?;
    }
    if episodes.iter().any(|e| e.end != End::Recovered) {
        writeln!(
            out,
            "(+: no recovered line: open when the logs end, or the daemon stopped first)"
        )?;
    }
    writeln!(out)?;
    let ranked = biggest_most_often(episodes);
    if !ranked.is_empty() {
        let named: Vec<String> = ranked
            .iter()
            .take(MOST_OFTEN)
            .enumerate()
            .map(|(i, (name, n))| {
                let name = escape_word(name.as_bytes());
                if i == 0 {
                    format!("{name} ({n} of {} episodes)", episodes.len())
                } else {
                    format!("{name} ({n})")
                }
            })
            .collect();
        writeln!(out, "Biggest most often: {}", named.join(", "))?;
    }
    let (first, last, counts) = days(s);
    let strip: String = counts.iter().map(|&n| cell(n)).collect();
    writeln!(
        out,
        "{first} {strip} {last}  (a day a cell: . none, 1-9 episodes, + more)"
    )
}

fn cells(e: &Episode) -> [String; 6] {
    let lasted = duration(e.lasted_seconds);
    [
        format_time(&e.began),
        if e.end == End::Recovered {
            lasted
        } else {
            format!("{lasted}+")
        },
        format!("{:.1}%", e.ram_max_percent),
        e.reports.to_string(),
        e.oom_kills.to_string(),
        biggest(e),
    ]
}

fn write_row(out: &mut dyn Write, widths: &[usize; 6], row: &[String; 6]) -> io::Result<()> {
    let mut line = String::new();
    for (column, (cell, w)) in row.iter().zip(widths).enumerate().take(5) {
        // Text left, numbers right, as a table of figures reads.
        let pad = " ".repeat(w.saturating_sub(cell.chars().count()));
        if column < 2 {
            line.push_str(cell);
            line.push_str(&pad);
        } else {
            line.push_str(&pad);
            line.push_str(cell);
        }
        line.push_str("  ");
    }
    line.push_str(&row[5]);
    writeln!(out, "{}", line.trim_end())
}

fn given(s: &Summary) -> String {
    if s.since_text.is_empty() {
        String::new()
    } else {
        format!(" ({})", escape(s.since_text.as_bytes()))
    }
}

fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn files_read(s: &Summary) -> String {
    let dir = escape(s.log_dir.as_bytes());
    match (s.files.first(), s.files.last()) {
        (None, _) | (_, None) => format!("{dir} (no incidents.jsonl there)"),
        (Some(only), _) if s.files.len() == 1 => {
            format!("{dir}/{}", escape(only.as_bytes()))
        }
        (Some(first), Some(last)) => format!(
            "{} files of {dir} ({} to {})",
            s.files.len(),
            escape(first.as_bytes()),
            escape(last.as_bytes())
        ),
    }
}

fn duration(seconds: f64) -> String {
    format_duration(std::time::Duration::try_from_secs_f64(seconds).unwrap_or_default())
}

fn size(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "?".into(), |b| format_kib(b / 1024))
}

fn biggest(e: &Episode) -> String {
    let named: Vec<String> = e
        .biggest
        .iter()
        .map(|p| format!("{} {}", escape_word(p.name.as_bytes()), size(p.rss_bytes)))
        .collect();
    if named.is_empty() {
        "(no process table)".into()
    } else {
        named.join(", ")
    }
}

/// The first and last day of the period, and how many episodes began on each day (an episode
/// that began before the period counts on its first day).
fn days(s: &Summary) -> (NaiveDate, NaiveDate, Vec<u64>) {
    let first = s.since.date_naive();
    let last = s.now.date_naive().max(first);
    let days = (last - first).num_days().clamp(0, MAX_DAYS - 1) + 1;
    let mut counts = vec![0u64; usize::try_from(days).unwrap_or(1)];
    for e in &s.found.episodes {
        let day = (e.began.date_naive() - first).num_days().clamp(0, days - 1);
        if let Some(count) = usize::try_from(day).ok().and_then(|d| counts.get_mut(d)) {
            *count += 1;
        }
    }
    (first, last, counts)
}

fn cell(episodes: u64) -> char {
    match u8::try_from(episodes) {
        Ok(0) => '.',
        Ok(n @ 1..=9) => char::from(b'0' + n),
        _ => '+',
    }
}

#[derive(Serialize)]
struct JsonOut<'a> {
    since: String,
    until: String,
    log_dir: String,
    files: Vec<String>,
    episodes: EachEpisode<'a>,
    oom_kills_outside_episodes: u64,
    biggest_most_often: Vec<JsonName>,
    days: Vec<JsonDay>,
}

/// The episodes, each made into its JSON form only as it is written.
struct EachEpisode<'a>(&'a [Episode]);

impl Serialize for EachEpisode<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(json_episode))
    }
}

fn json_episode(e: &Episode) -> JsonEpisode {
    JsonEpisode {
        began: rfc3339(&e.began),
        last_seen: rfc3339(&e.last),
        lasted_seconds: (e.lasted_seconds * 1000.0).round() / 1000.0,
        end: e.end.word(),
        incident: e.incident,
        ram_max_percent: e.ram_max_percent,
        reports: e.reports,
        oom_kills: e.oom_kills,
        biggest: e
            .biggest
            .iter()
            .map(|p| JsonProcess {
                name: escape_word(p.name.as_bytes()),
                rss_bytes: p.rss_bytes,
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct JsonEpisode {
    began: String,
    last_seen: String,
    lasted_seconds: f64,
    end: &'static str,
    incident: u64,
    ram_max_percent: f64,
    reports: u64,
    oom_kills: u64,
    biggest: Vec<JsonProcess>,
}

#[derive(Serialize)]
struct JsonProcess {
    name: String,
    rss_bytes: Option<u64>,
}

#[derive(Serialize)]
struct JsonName {
    name: String,
    episodes: u64,
}

#[derive(Serialize)]
struct JsonDay {
    date: String,
    episodes: u64,
}

fn rfc3339(time: &DateTime<FixedOffset>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// [`write_json`] into a string.
pub fn json(s: &Summary) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_json(s, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The same as [`write_text`], as one JSON object on one line (the README gives its shape).
pub fn write_json(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let (first, _, counts) = days(s);
    let value = JsonOut {
        since: rfc3339(&s.since),
        until: rfc3339(&s.now),
        log_dir: escape(s.log_dir.as_bytes()),
        files: s.files.iter().map(|f| escape(f.as_bytes())).collect(),
        episodes: EachEpisode(&s.found.episodes),
        oom_kills_outside_episodes: s.found.kills_outside,
        biggest_most_often: biggest_most_often(&s.found.episodes)
            .into_iter()
            .take(MOST_OFTEN)
            .map(|(name, episodes)| JsonName {
                name: escape_word(name.as_bytes()),
                episodes,
            })
            .collect(),
        days: (0u64..)
            .zip(counts)
            .map(|(i, episodes)| JsonDay {
                date: first
                    .checked_add_days(chrono::Days::new(i))
                    .unwrap_or(first)
                    .to_string(),
                episodes,
            })
            .collect(),
    };
    serde_json::to_writer(&mut *out, &value)?;
    writeln!(out)
}
