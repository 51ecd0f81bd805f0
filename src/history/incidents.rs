//! `memory-monitor incidents`: the episodes of the last days, read from incidents.jsonl and its
//! rotated files (compressed ones too), printed as text or JSON ([`super::summary`]). Files
//! that are cut or damaged give what they hold before the damage, and one line on stderr each.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, Local, NaiveDate, TimeDelta, TimeZone};

use super::episodes::{Episodes, Line};
use super::files::{files_of, for_each_line};
use super::summary::{self, MAX_DAYS, Summary};
use crate::say;
use crate::text::escape::escape_path;

/// The log read.
pub const JSONL: &str = "incidents.jsonl";

/// What the command line asked for (`cli` reads it).
#[derive(Clone, Debug)]
pub struct Options {
    pub since: Since,
    pub json: bool,
    pub log_dir: PathBuf,
    /// The time taken as now; `None` for the clock's.
    pub now: Option<DateTime<FixedOffset>>,
}

/// `--since`: a time back from now, or a day.
#[derive(Clone, Debug, PartialEq)]
pub enum Since {
    Ago { seconds: i64, text: String },
    Day(NaiveDate),
}

/// `12h`, `7d`, `4w`, `30m`, or a day `2026-11-01`.
pub fn parse_since(text: &str) -> Result<Since, String> {
    let t = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(Since::Day(day));
    }
    let wrong = || {
        format!(
            "'{text}' is neither a time back from now nor a day; use e.g. 12h, 7d, 4w or 2026-11-01"
        )
    };
    let unit_at = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(wrong)?;
    let (number, unit) = t.split_at(unit_at);
    let number: i64 = number.parse().map_err(|_| wrong())?;
    let per = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(wrong()),
    };
    let seconds = number
        .checked_mul(per)
        .filter(|s| *s > 0 && *s <= MAX_DAYS * 86_400)
        .ok_or_else(|| format!("'{text}' must be more than 0 and at most {MAX_DAYS}d"))?;
    Ok(Since::Ago {
        seconds,
        text: t.to_string(),
    })
}

/// `--now`, hidden, for tests: an RFC 3339 time.
pub fn parse_now(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text).map_err(|e| format!("'{text}': {e}"))
}

impl Since {
    /// The period's first moment, for a period that ends at `now`.
    pub fn start(&self, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        match self {
            Since::Ago { seconds, .. } => TimeDelta::try_seconds(*seconds)
                .and_then(|d| now.checked_sub_signed(d))
                .unwrap_or(now),
            // Midnight where the machine is; at a change of clocks that skips it, the first
            // moment of the day that exists.
            Since::Day(day) => {
                let midnight = day.and_time(chrono::NaiveTime::MIN);
                Local
                    .from_local_datetime(&midnight)
                    .earliest()
                    .map(|t| t.fixed_offset())
                    .or_else(|| {
                        (1..=3).find_map(|h| {
                            Local
                                .from_local_datetime(&(midnight + TimeDelta::hours(h)))
                                .earliest()
                                .map(|t| t.fixed_offset())
                        })
                    })
                    .unwrap_or_else(|| midnight.and_utc().fixed_offset())
            }
        }
    }

    fn text(&self) -> String {
        match self {
            Since::Ago { text, .. } => text.clone(),
            Since::Day(_) => String::new(),
        }
    }
}

/// Runs the command: reads every file, says what was skipped on stderr, prints the summary.
pub fn run(args: &Options) -> Result<(), String> {
    let now = args.now.unwrap_or_else(|| Local::now().fixed_offset());
    let since = args.since.start(now);
    let paths = files_of(&args.log_dir, JSONL)
        .map_err(|e| format!("cannot read {}: {e}", escape_path(&args.log_dir)))?;
    let mut episodes = Episodes::new(Some(since));
    for path in &paths {
        let mut bad = 0u64;
        let mut said: Vec<String> = for_each_line(path, |line| {
            if episodes.push(line) == Line::Bad {
                bad += 1;
            }
        })
        .into_iter()
        .map(|p| p.what)
        .collect();
        if bad > 0 {
            said.push(format!(
                "{bad} {} not memory-monitor's JSON, skipped",
                if bad == 1 { "line is" } else { "lines are" }
            ));
        }
        // One line per file, whatever was wrong with it.
        if !said.is_empty() {
            say!(
                Warning,
                "memory-monitor: {}: {}",
                escape_path(path),
                said.join("; ")
            );
        }
    }
    let found = episodes.finish();
    let files: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let log_dir = args.log_dir.to_string_lossy();
    let since_text = args.since.text();
    let summary = Summary {
        since,
        now,
        since_text: &since_text,
        log_dir: &log_dir,
        files: &files,
        found: &found,
    };
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = if args.json {
        summary::write_json(&summary, &mut stdout)
    } else {
        summary::write_text(&summary, &mut stdout)
    };
    match written.and_then(|()| stdout.flush()) {
        // `incidents | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write the output: {e}")),
        Ok(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_back_and_days() {
        let ago = |s: &str| match parse_since(s) {
            Ok(Since::Ago { seconds, .. }) => seconds,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(ago("7d"), 7 * 86_400);
        assert_eq!(ago("12h"), 12 * 3600);
        assert_eq!(ago("4w"), 28 * 86_400);
        assert_eq!(ago("90m"), 5400);
        assert_eq!(ago("400d"), 400 * 86_400);
        assert_eq!(
            parse_since("2026-11-01"),
            Ok(Since::Day(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()))
        );
        for bad in [
            "",
            "7",
            "d",
            "7x",
            "-7d",
            "0d",
            "7d2h",
            "2026-13-01",
            "99999999999999999999d",
            "3661d",
        ] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_period_starts_that_long_before_now() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T14:00:00+01:00").unwrap();
        let since = parse_since("7d").unwrap().start(now);
        assert_eq!(since.to_rfc3339(), "2026-11-25T14:00:00+01:00");
    }
}
