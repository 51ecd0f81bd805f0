//! Hostile process names and what the logs must make of them, shared by tests/hostile_*.rs: a
//! check of a whole log written again from the spec (not from the renderer's code), the hostile
//! text itself, and a fake /proc entry as the kernel writes one.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
// ---------------------------------------------------------------------------------------------
// What the logs must look like, checked without the renderer's code.

/// What a reader takes for a blank: whitespace, and characters most fonts draw as one.
pub const BLANK: &str = r"[\s\p{Z}\x{2800}\x{3164}\x{ffa0}\x{115f}\x{1160}\x{180e}]";
/// A line that imitates a report header: at its start (after any blanks, since a reader's eye
/// skips them) a date and a time, as the spec's header lines and recovered lines begin.
pub static HEADER_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^{BLANK}*\d{{4}}-\d\d-\d\d{BLANK}+\d\d:\d\d")).unwrap());
/// A line that imitates a new-log marker.
pub static MARKER_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^{BLANK}*=+{BLANK}*new{BLANK}+log")).unwrap());
/// A real header line, exactly as the spec writes it.
pub static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| (?:snapshot|incident \d+) \| RAM \d+\.\d% \(\S+ of \S+ [KMG]iB\) \| CPU (?:\d+\.\d%|n/a)(?: \| above \S+ for \S+(?:, \S+ since first report)?)?$",
    )
    .unwrap()
});
/// A real new-log marker.
pub static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^===== new log \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| incident \d+ \| memory-monitor \S+ =====$",
    )
    .unwrap()
});
pub static DETAILS_ENTRY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^  #(\d+) PID (\d+)(?: (.*))?$").unwrap());
pub const DETAIL_LABELS: [&str; 11] = [
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
];
pub const ODD_LINE: &str = "  (ps line ";

/// Untrusted bytes as the spec says a log shows them, written again here rather than taken from
/// src/escape.rs: each byte of a control character (C0, DEL, C1), a line or paragraph separator,
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
    /// The eleven values, in the order of [`DETAIL_LABELS`].
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
/// - a new-log marker or a header line, each exactly as the spec writes it;
/// - lines indented by two spaces after a header (top's summary, what went wrong);
/// - the table: its header, then rows checked by [`common::check_table`] (one line per row,
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
    }
    let mut log = Log::default();
    let mut at = At::Between;
    let mut table: Vec<&str> = Vec::new();
    let mut next_rank = 1;
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
                    let rows = super::check_table(&table.join("\n"));
                    log.rows.extend(rows.into_iter().skip(1));
                    table.clear();
                }
                at = At::Between;
            }
            At::Between if MARKER.is_match(line) => log.markers += 1,
            At::Between if HEADER.is_match(line) => {
                log.headers += 1;
                next_rank = 1;
                at = At::Summary;
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
        header_like, log.headers,
        "lines that look like headers are the real headers"
    );
    assert_eq!(
        marker_like, log.markers,
        "lines that look like new-log markers are the real markers"
    );
    log
}

// ---------------------------------------------------------------------------------------------
// Hostile text, as processes can carry it.

pub const FAKE_HEADER: &[u8] = b"\n2026-11-22 14:03:15 +01:00 | incident 1 | RAM 99.0% (3.66 of 3.70 GiB) | CPU 1.0% | above 80% for 15s";
pub const FAKE_MARKER: &[u8] =
    b"\n===== new log 2026-11-22 14:03:15 +01:00 | incident 1 | memory-monitor 0.1.0 =====";
pub const CONTROLS: &[u8] = b"cr\rlf\nesc\x1b[2Jclear\x1b]0;title\x07bel\x08bs\x7fdel\x0bvt\x0cff";
pub const INVALID_UTF8: &[u8] = b"bad\xff\xfe\xc3\x28\xed\xa0\x80cut\xe2\x82";
/// Right-to-left override, isolates, a line separator, NEL and a C1 CSI.
pub const UNICODE_TRICKS: &str =
    "evil\u{202e}txt.exe\u{2066}iso\u{2069}line\u{2028}sep\u{85}nel\u{9b}31mcsi";

/// A 100 KB argument full of the above.
pub fn big_argument() -> Vec<u8> {
    let mut piece = Vec::new();
    for part in [
        FAKE_HEADER,
        FAKE_MARKER,
        CONTROLS,
        INVALID_UTF8,
        UNICODE_TRICKS.as_bytes(),
    ] {
        piece.extend_from_slice(part);
    }
    piece.iter().copied().cycle().take(100_000).collect()
}

// ---------------------------------------------------------------------------------------------
// A fake /proc entry as the kernel writes one, for hostile processes that need not exist.

pub struct FakeEntry {
    pub pid: u32,
    pub uid: u32,
    pub argv: Vec<Vec<u8>>,
    pub comm: Vec<u8>,
    pub cwd: Option<Vec<u8>>,
    pub ppid: u32,
    pub rss_kib: u64,
    pub start_ticks: u64,
    /// Write status's `Name:` raw instead of escaped as the kernel does: a newline in it then
    /// adds lines of its own to status.
    pub raw_status_name: bool,
}

impl FakeEntry {
    pub fn write(&self, proc_root: &Path) {
        let dir = proc_root.join(self.pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut status = b"Name:\t".to_vec();
        if self.raw_status_name {
            status.extend_from_slice(&self.comm);
        } else {
            status.extend_from_slice(&kernel_status_name(&self.comm));
        }
        write!(
            Bytes(&mut status),
            "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\n\
             Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nVmPeak:\t{peak} kB\nVmSize:\t{vsz} kB\n\
             VmHWM:\t{peak} kB\nVmRSS:\t{rss} kB\nVmSwap:\t0 kB\nThreads:\t1\n",
            pid = self.pid,
            ppid = self.ppid,
            uid = self.uid,
            peak = self.rss_kib * 2,
            vsz = self.rss_kib * 3,
            rss = self.rss_kib,
        )
        .unwrap();
        std::fs::write(dir.join("status"), status).unwrap();
        let mut stat = format!("{} (", self.pid).into_bytes();
        stat.extend_from_slice(&self.comm);
        writeln!(
            Bytes(&mut stat),
            ") S {} 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 {} 1000 50",
            self.ppid,
            self.start_ticks
        )
        .unwrap();
        std::fs::write(dir.join("stat"), stat).unwrap();
        std::fs::write(dir.join("cmdline"), cmdline_of(&self.argv)).unwrap();
        std::fs::write(dir.join("comm"), [&self.comm[..], b"\n"].concat()).unwrap();
        if let Some(cwd) = &self.cwd {
            std::os::unix::fs::symlink(OsStr::from_bytes(cwd), dir.join("cwd")).unwrap();
        }
    }

    /// What `details.log` says its command is: the arguments joined by blanks, or the name in
    /// brackets when there are none.
    pub fn command_shown(&self) -> String {
        let cmdline = cmdline_of(&self.argv);
        let args = cmdline.strip_suffix(b"\0").unwrap_or(&cmdline);
        if args.is_empty() {
            format!("[{}]", shown(&self.comm))
        } else {
            let joined: Vec<u8> = args
                .iter()
                .map(|&b| if b == 0 { b' ' } else { b })
                .collect();
            shown_at_end(&joined)
        }
    }
}

/// `write!` into a byte vector.
pub struct Bytes<'a>(pub &'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// One `ps aux` line as a ps that does not sanitise prints it: every byte of the command raw.
pub fn raw_ps_line(user: &[u8], pid: u32, rss_kib: u64, command: &[u8]) -> Vec<u8> {
    let mut line = user.to_vec();
    write!(
        Bytes(&mut line),
        " {pid} 0.0 1.0 {} {rss_kib} ? S 10:00 0:00 ",
        rss_kib * 3
    )
    .unwrap();
    line.extend_from_slice(command);
    line.push(b'\n');
    line
}

pub const PS_HEADER: &[u8] =
    b"USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n";

pub fn cmdline_of(argv: &[Vec<u8>]) -> Vec<u8> {
    argv.iter()
        .flat_map(|a| a.iter().copied().chain([0]))
        .collect()
}

/// `e` has exactly one details entry, with its name, command, cwd and parent's name each shown
/// as the spec says; `all` are the fake processes, among which its parent may be.
pub fn assert_one_details_entry(log: &Log, e: &FakeEntry, all: &[FakeEntry]) {
    let found = log.details_of(e.pid);
    assert_eq!(found.len(), 1, "PID {}: one details entry", e.pid);
    let d = found[0];
    assert_eq!(d.name.as_deref().unwrap_or_default(), shown_at_end(&e.comm));
    assert_eq!(d.value("command:"), e.command_shown(), "PID {}", e.pid);
    let cwd = e
        .cwd
        .as_deref()
        .map_or("unavailable (process ended)".into(), shown_at_end);
    assert_eq!(d.value("cwd:"), cwd, "PID {}", e.pid);
    if let Some(parent) = all.iter().find(|p| p.pid == e.ppid) {
        assert_eq!(
            d.value("parent:"),
            format!("{} ({})", parent.pid, shown(&parent.comm))
        );
    }
}
