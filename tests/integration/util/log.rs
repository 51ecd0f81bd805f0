//! What the logs must look like, checked without the renderer's code: the patterns of their
//! lines, a whole log taken apart and checked line by line, and the table's layout rules.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use super::check_table;

/// What a reader takes for a blank: whitespace, and characters most fonts draw as one.
pub const BLANK: &str = r"[\s\p{Z}\x{2800}\x{3164}\x{ffa0}\x{115f}\x{1160}\x{180e}]";
/// A line that imitates a report header: at its start (after any blanks, since a reader's eye
/// skips them) a date and a time, as header lines and recovered lines begin.
pub static HEADER_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^{BLANK}*\d{{4}}-\d\d-\d\d{BLANK}+\d\d:\d\d")).unwrap());
/// A line that imitates a new-log marker.
pub static MARKER_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^{BLANK}*=+{BLANK}*new{BLANK}+log")).unwrap());
/// A real header line, exactly as docs/log-format.md writes it; [`header`] reads its parts.
pub static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d) \| (?:snapshot|incident (?P<incident>\d+)) \| RAM (?P<ram>\d+\.\d)%(?: of the (?P<limit>\S+ [KMG]iB) cgroup limit)? \((?P<sizes>\S+ of \S+ [KMG]iB)\) \| CPU (?:(?P<cpu>\d+\.\d)%|n/a)(?: \| (?:above (?P<threshold>\S+) for (?P<high_for>\S+?)(?:, (?P<since>\S+) since first report)?|above (?P<urgent>\S+) \(urgent\)|(?P<oom>after an OOM kill)))?$",
    )
    .unwrap()
});

/// The parts of a header line.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub time: String,
    /// `None` for a snapshot.
    pub incident: Option<u32>,
    pub ram_percent: f64,
    /// `512.00 MiB` in `RAM 83.2% of the 512.00 MiB cgroup limit`.
    pub limit: Option<String>,
    /// `3.08 of 3.70 GiB`.
    pub sizes: String,
    /// `None` for `CPU n/a`.
    pub cpu_percent: Option<f64>,
    /// `80%`.
    pub threshold: Option<String>,
    pub high_for: Option<String>,
    pub since_first_report: Option<String>,
    /// `95%` in an urgent report's `above 95% (urgent)`.
    pub urgent: Option<String>,
    /// Whether the header ends `after an OOM kill`.
    pub after_oom_kill: bool,
}

/// The parts of `line` if it is a header line.
pub fn header(line: &str) -> Option<Header> {
    let caps = HEADER.captures(line)?;
    let text = |name: &str| caps.name(name).map(|m| m.as_str().to_string());
    Some(Header {
        time: text("time")?,
        incident: text("incident").map(|n| n.parse().unwrap()),
        ram_percent: text("ram")?.parse().unwrap(),
        limit: text("limit"),
        sizes: text("sizes")?,
        cpu_percent: text("cpu").map(|c| c.parse().unwrap()),
        threshold: text("threshold"),
        high_for: text("high_for"),
        since_first_report: text("since"),
        urgent: text("urgent"),
        after_oom_kill: caps.name("oom").is_some(),
    })
}

/// The header lines of a log, in order.
pub fn headers(text: &str) -> Vec<Header> {
    text.lines().filter_map(header).collect()
}

/// A recovered line; the captures are the RAM figure and how long memory was high.
pub static RECOVERED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| recovered \| RAM (?P<ram>\d+\.\d)% \| high for (?P<high_for>\S+)$",
    )
    .unwrap()
});

/// An OOM-kill entry, one of the three kinds docs/log-format.md lists; `what` is the text
/// between `oom-kill | ` and the end.
pub static OOM_KILL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| oom-kill \| (?P<what>(?:PID (?P<pid>\d+) \(.*\)(?: of \S+)? \| anon-rss \S+ [KMG]iB, file-rss \S+ [KMG]iB, shmem-rss \S+ [KMG]iB \| (?:system-wide|limit of cgroup .+?|limit of a cgroup)|(?P<more>\d+) more processes killed in the last minute: .+?|(?P<counted>\d+) processes killed by the kernel; names unknown: .+?)(?P<before> \| before memory-monitor started)?)$",
    )
    .unwrap()
});

/// The first words of the context lines, in the order a report holds them.
pub const CONTEXT_WORDS: [&str; 6] = [
    "  RAM over the last ",
    "  grew most since ",
    "  memory: ",
    "  pressure: ",
    "  tmpfs: ",
    "  unit ",
];

/// The one context line a report may hold several of.
const REPEATED_CONTEXT: &str = "  unit ";

/// Whether `line` is one of a report's context lines.
pub fn is_context_line(line: &str) -> bool {
    CONTEXT_WORDS.iter().any(|w| line.starts_with(w))
}

/// A real new-log marker; the capture is its incident number.
pub static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^===== new log \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| incident (\d+) \| memory-monitor \S+ =====$",
    )
    .unwrap()
});
pub static DETAILS_ENTRY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^  #(\d+) PID (\d+)(?: (.*))?$").unwrap());
pub const DETAIL_LABELS: [&str; 12] = [
    "user:",
    "command:",
    "started:",
    "RSS:",
    "peak RSS:",
    "VSZ:",
    "swap:",
    "threads:",
    "state:",
    "parent:",
    "cwd:",
    "unit:",
];
pub const ODD_LINE: &str = "  (ps line ";

/// Untrusted bytes as docs/log-format.md says a log shows them, written again here rather than
/// taken from src/text/escape.rs: each byte of a control character (C0, DEL, C1), a line or paragraph separator,
/// a bidi control, or invalid UTF-8 as `\xNN`; everything else, backslashes included, as is.
pub fn shown(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let hidden = c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
                )
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c);
            if hidden {
                for b in c.to_string().bytes() {
                    write!(out, "\\x{b:02x}").unwrap();
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            write!(out, "\\x{b:02x}").unwrap();
        }
    }
    out
}

/// A value at the end of a line, whose trailing blanks a log drops.
pub fn shown_at_end(bytes: &[u8]) -> String {
    shown(bytes).trim_end_matches(' ').to_string()
}

/// How the kernel writes a task's name in `/proc/PID/status`: newline and backslash escaped,
/// every other byte raw (`comm` and `stat` keep even those raw).
pub fn kernel_status_name(comm: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in comm {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            _ => out.push(b),
        }
    }
    out
}

/// How ps splits a line: ten fields separated by blanks, then COMMAND after one blank, trailing
/// blanks dropped. Returns (PID field, COMMAND) or `None` for a line that is not a row.
pub fn split_ps_line(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let end = line
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    let mut rest = &line[..end];
    let mut fields = Vec::new();
    for _ in 0..10 {
        let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
        rest = &rest[start..];
        let len = rest
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(rest.len());
        fields.push(&rest[..len]);
        rest = &rest[len..];
    }
    Some((
        fields[1].to_vec(),
        rest.get(1..).unwrap_or_default().to_vec(),
    ))
}

#[derive(Debug)]
pub struct DetailsEntry {
    pub pid: String,
    /// The text after `PID <n>`, `None` when there is none.
    pub name: Option<String>,
    /// The twelve values, in the order of [`DETAIL_LABELS`].
    pub values: Vec<String>,
}

impl DetailsEntry {
    pub fn value(&self, label: &str) -> &str {
        let i = DETAIL_LABELS.iter().position(|l| *l == label).unwrap();
        &self.values[i]
    }
}

/// One log's text (or a snapshot's), taken apart line by line.
#[derive(Debug, Default)]
pub struct Log {
    pub markers: usize,
    pub headers: usize,
    /// Recovered lines.
    pub recovered: usize,
    /// OOM-kill entries, each line whole.
    pub oom_kills: Vec<String>,
    /// The context lines under each header (trend, growth), in order.
    pub context: Vec<String>,
    /// Lines indented under a header before its table: top's summary and what went wrong.
    pub summary: Vec<String>,
    /// Each table row's ten cells and its COMMAND.
    pub rows: Vec<(Vec<String>, String)>,
    /// The text each `(ps line N is not a process row; as printed: …)` line shows.
    pub odd: Vec<String>,
    pub details: Vec<DetailsEntry>,
}

impl Log {
    pub fn rows_of(&self, pid: impl ToString) -> Vec<&(Vec<String>, String)> {
        let pid = pid.to_string();
        self.rows
            .iter()
            .filter(|(cells, _)| cells[1] == pid)
            .collect()
    }

    pub fn details_of(&self, pid: impl ToString) -> Vec<&DetailsEntry> {
        let pid = pid.to_string();
        self.details.iter().filter(|d| d.pid == pid).collect()
    }
}

/// Checks that every line of `text` is one a report is made of, and returns what they hold:
/// - a new-log marker or a header line, each exactly as docs/log-format.md writes it;
/// - recovered lines and OOM-kill entries, each alone between blank lines;
/// - under a header, its context lines in their order, then lines indented by two spaces (top's
///   summary, what went wrong);
/// - the table: its header, then rows checked by [`check_table`] (one line per row,
///   aligned columns, no control characters, no trailing blanks), then the lines ps printed that
///   were not rows, indented, each behind a fixed text;
/// - details entries: `  #N PID <pid> <name>` and the eleven labelled values, in order;
/// - blank lines, which end a table, an entry list or a report.
///
/// And across the whole text: no control character but the newlines, no trailing blank, and no
/// line that looks like a header or a marker other than the real ones.
pub fn check_log(text: &str) -> Log {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the text ends with a newline"
    );
    #[derive(PartialEq, Debug)]
    enum At {
        Between,
        Summary,
        Table,
        OddLines,
        Details,
        /// After a one-line entry, which a blank line must end.
        Alone,
    }
    let mut log = Log::default();
    let mut at = At::Between;
    let mut table: Vec<&str> = Vec::new();
    let mut next_rank = 1;
    let mut next_context = 0;
    let mut summary_at_header = 0;
    let mut header_like = 0;
    let mut marker_like = 0;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let context = format!("line {}: {line:?}", i + 1);
        assert!(
            !line.chars().any(char::is_control),
            "control character in {context}"
        );
        assert!(!line.ends_with([' ', '\t']), "trailing blank in {context}");
        header_like += usize::from(HEADER_LIKE.is_match(line));
        marker_like += usize::from(MARKER_LIKE.is_match(line));
        let entry = DETAILS_ENTRY.captures(line);
        match at {
            _ if line.is_empty() => {
                if !table.is_empty() {
                    let rows = check_table(&table.join("\n"));
                    log.rows.extend(rows.into_iter().skip(1));
                    table.clear();
                }
                at = At::Between;
            }
            At::Between if MARKER.is_match(line) => log.markers += 1,
            At::Between if HEADER.is_match(line) => {
                log.headers += 1;
                next_rank = 1;
                next_context = 0;
                summary_at_header = log.summary.len();
                at = At::Summary;
            }
            At::Between if RECOVERED.is_match(line) => {
                log.recovered += 1;
                at = At::Alone;
            }
            At::Between if OOM_KILL.is_match(line) => {
                log.oom_kills.push(line.to_string());
                at = At::Alone;
            }
            At::Summary if is_context_line(line) => {
                let kind = CONTEXT_WORDS
                    .iter()
                    .position(|w| line.starts_with(w))
                    .unwrap();
                assert!(
                    kind >= next_context && summary_at_header == log.summary.len(),
                    "context line out of order at {context}"
                );
                next_context = kind + usize::from(CONTEXT_WORDS[kind] != REPEATED_CONTEXT);
                log.context.push(line.to_string());
            }
            At::Between | At::Summary | At::Details if entry.is_some() => {
                let caps = entry.unwrap();
                assert_eq!(caps[1], next_rank.to_string(), "rank at {context}");
                next_rank += 1;
                let mut values = Vec::new();
                for label in DETAIL_LABELS {
                    i += 1;
                    let value_line = lines.get(i).copied().unwrap_or_default();
                    let context = format!("line {}: {value_line:?}", i + 1);
                    let prefix = format!("    {label:<10}");
                    assert!(
                        value_line.starts_with(prefix.trim_end()),
                        "`{label}` expected at {context}"
                    );
                    assert!(
                        !value_line.chars().any(char::is_control),
                        "control character in {context}"
                    );
                    assert!(!value_line.ends_with(' '), "trailing blank in {context}");
                    header_like += usize::from(HEADER_LIKE.is_match(value_line));
                    marker_like += usize::from(MARKER_LIKE.is_match(value_line));
                    values.push(
                        value_line
                            .get(prefix.len()..)
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
                log.details.push(DetailsEntry {
                    pid: caps[2].to_string(),
                    name: caps.get(3).map(|m| m.as_str().to_string()),
                    values,
                });
                at = At::Details;
            }
            At::Summary if line.starts_with("USER ") => {
                table.push(line);
                at = At::Table;
            }
            At::Summary if line.starts_with("  ") => log.summary.push(line.to_string()),
            At::Table if !line.starts_with(' ') => table.push(line),
            At::Table | At::OddLines if line.starts_with(ODD_LINE) => {
                let odd = line
                    .split_once("; as printed: ")
                    .and_then(|(_, text)| text.strip_suffix(')'))
                    .unwrap_or_else(|| panic!("odd line at {context}"));
                log.odd.push(odd.to_string());
                at = At::OddLines;
            }
            _ => panic!("a line of no known kind ({at:?}) at {context}"),
        }
        i += 1;
    }
    assert!(table.is_empty(), "a blank line ends the table");
    assert_eq!(
        header_like,
        log.headers + log.recovered + log.oom_kills.len(),
        "lines that look like headers are the real headers, recovered lines and OOM-kill entries"
    );
    assert_eq!(
        marker_like, log.markers,
        "lines that look like new-log markers are the real markers"
    );
    log
}
