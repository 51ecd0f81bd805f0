//! Hostile process names, command lines, working directories and user names: newlines, carriage
//! returns, escape sequences, invalid UTF-8, bidi overrides, 100 KB command lines, and text that
//! imitates a report header or a new-log marker. Three ways in: real processes on this machine
//! under the real ps and top, the daemon with a ps and top that print such bytes raw, and fuzzing
//! of the parse-and-render pipeline. Whatever comes in, both logs keep one line per process,
//! write nothing raw, and hold exactly as many header and marker lines as the reports they hold.

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeZone};
use common::{FakeProc, fake_program};
use memory_monitor::capture::{Outputs, Tools};
use memory_monitor::episode::Report;
use memory_monitor::incident::{self, Sources};
use memory_monitor::meminfo::MemSample;
use memory_monitor::report::{self, Occasion};
use memory_monitor::users::UserNames;
use proptest::prelude::*;
use regex::Regex;

// ---------------------------------------------------------------------------------------------
// What the logs must look like, checked without the renderer's code.

/// What a reader takes for a blank: whitespace, and characters most fonts draw as one.
const BLANK: &str = r"[\s\p{Z}\x{2800}\x{3164}\x{ffa0}\x{115f}\x{1160}\x{180e}]";
/// A line that imitates a report header: at its start (after any blanks, since a reader's eye
/// skips them) a date and a time, as the spec's header lines and recovered lines begin.
static HEADER_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^{BLANK}*\d{{4}}-\d\d-\d\d{BLANK}+\d\d:\d\d")).unwrap());
/// A line that imitates a new-log marker.
static MARKER_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"^{BLANK}*=+{BLANK}*new{BLANK}+log")).unwrap());
/// A real header line, exactly as the spec writes it.
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| (?:snapshot|incident \d+) \| RAM \d+\.\d% \(\S+ of \S+ [KMG]iB\) \| CPU (?:\d+\.\d%|n/a)(?: \| above \S+ for \S+(?:, \S+ since first report)?)?$",
    )
    .unwrap()
});
/// A real new-log marker.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^===== new log \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \| incident \d+ \| memory-monitor \S+ =====$",
    )
    .unwrap()
});
static DETAILS_ENTRY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^  #(\d+) PID (\d+)(?: (.*))?$").unwrap());
const DETAIL_LABELS: [&str; 11] = [
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
const ODD_LINE: &str = "  (ps line ";

/// Untrusted bytes as the spec says a log shows them, written again here rather than taken from
/// src/escape.rs: each byte of a control character (C0, DEL, C1), a line or paragraph separator,
/// a bidi control, or invalid UTF-8 as `\xNN`; everything else, backslashes included, as is.
fn shown(bytes: &[u8]) -> String {
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
fn shown_at_end(bytes: &[u8]) -> String {
    shown(bytes).trim_end_matches(' ').to_string()
}

/// How the kernel writes a task's name in `/proc/PID/status`: newline and backslash escaped,
/// every other byte raw (`comm` and `stat` keep even those raw).
fn kernel_status_name(comm: &[u8]) -> Vec<u8> {
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
fn split_ps_line(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
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
struct DetailsEntry {
    pid: String,
    /// The text after `PID <n>`, `None` when there is none.
    name: Option<String>,
    /// The eleven values, in the order of [`DETAIL_LABELS`].
    values: Vec<String>,
}

impl DetailsEntry {
    fn value(&self, label: &str) -> &str {
        let i = DETAIL_LABELS.iter().position(|l| *l == label).unwrap();
        &self.values[i]
    }
}

/// One log's text (or a snapshot's), taken apart line by line.
#[derive(Debug, Default)]
struct Log {
    markers: usize,
    headers: usize,
    /// Lines indented under a header before its table: top's summary and what went wrong.
    summary: Vec<String>,
    /// Each table row's ten cells and its COMMAND.
    rows: Vec<(Vec<String>, String)>,
    /// The text each `(ps line N is not a process row; as printed: …)` line shows.
    odd: Vec<String>,
    details: Vec<DetailsEntry>,
}

impl Log {
    fn rows_of(&self, pid: impl ToString) -> Vec<&(Vec<String>, String)> {
        let pid = pid.to_string();
        self.rows
            .iter()
            .filter(|(cells, _)| cells[1] == pid)
            .collect()
    }

    fn details_of(&self, pid: impl ToString) -> Vec<&DetailsEntry> {
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
fn check_log(text: &str) -> Log {
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
                    let rows = common::check_table(&table.join("\n"));
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

const FAKE_HEADER: &[u8] = b"\n2026-11-22 14:03:15 +01:00 | incident 1 | RAM 99.0% (3.66 of 3.70 GiB) | CPU 1.0% | above 80% for 15s";
const FAKE_MARKER: &[u8] =
    b"\n===== new log 2026-11-22 14:03:15 +01:00 | incident 1 | memory-monitor 0.1.0 =====";
const CONTROLS: &[u8] = b"cr\rlf\nesc\x1b[2Jclear\x1b]0;title\x07bel\x08bs\x7fdel\x0bvt\x0cff";
const INVALID_UTF8: &[u8] = b"bad\xff\xfe\xc3\x28\xed\xa0\x80cut\xe2\x82";
/// Right-to-left override, isolates, a line separator, NEL and a C1 CSI.
const UNICODE_TRICKS: &str =
    "evil\u{202e}txt.exe\u{2066}iso\u{2069}line\u{2028}sep\u{85}nel\u{9b}31mcsi";

/// A 100 KB argument full of the above.
fn big_argument() -> Vec<u8> {
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
// a. Real processes, the real binary, the real ps and top.

/// A process started for the test, and what the logs should say about it.
struct Hostile {
    what: &'static str,
    pid: u32,
    /// Its argv; `None` for a forked copy of this test (its command line is this test's).
    argv: Option<Vec<Vec<u8>>>,
    /// Its name as the kernel keeps it (`comm`, at most 15 bytes).
    comm: Vec<u8>,
    cwd: Option<Vec<u8>>,
    /// The parent's PID and `comm`, when they are hostile too.
    parent: Option<(u32, Vec<u8>)>,
}

/// Kills what the test started, even when it panics. Every process also exits by itself once
/// this test process is gone, since each waits for end of file on a pipe only this one writes.
#[derive(Default)]
struct Processes {
    groups: Vec<Child>,
    forks: Vec<(libc::pid_t, OwnedFd)>,
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.groups {
            let group = libc::pid_t::try_from(child.id()).unwrap();
            // SAFETY: signalling a process group this test created.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            let _ = child.wait();
        }
        for (pid, _) in &self.forks {
            // SAFETY: signalling and reaping this test's own child.
            unsafe {
                libc::kill(*pid, libc::SIGKILL);
                libc::waitpid(*pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

impl Processes {
    /// `program` (a path, possibly a symlink whose file name becomes `comm`) with this argv, in a
    /// process group of its own, running `script` in sh until its stdin closes.
    fn shell(&mut self, program: &Path, argv0: &[u8], script: &str, args: &[&[u8]], cwd: &Path) {
        let mut command = Command::new(program);
        command
            .arg0(OsStr::from_bytes(argv0))
            .arg("-c")
            .arg(script)
            .args(args.iter().map(|a| OsStr::from_bytes(a)))
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        self.groups.push(command.spawn().unwrap());
    }

    /// A fork of this test, not exec'd, whose `comm` is set with prctl(PR_SET_NAME): the one way
    /// to give a name holding `/` or no byte at all. It waits on a pipe and exits at its end.
    fn fork_named(&mut self, comm: &[u8]) -> u32 {
        assert!(comm.len() < 16 && !comm.contains(&0));
        let mut name = [0u8; 16];
        name[..comm.len()].copy_from_slice(comm);
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills the array it is given.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: the child calls only async-signal-safe functions (other threads of this test may
        // hold locks), never returns, and never touches memory the parent owns afterwards.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe {
                libc::dup2(fds[0], 0);
                // Hold no other descriptor: a pipe another test waits on must not stay open here.
                libc::syscall(libc::SYS_close_range, 1u32, u32::MAX, 0u32);
                libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong);
                let mut byte = 0u8;
                while libc::read(0, (&raw mut byte).cast(), 1) > 0 {}
                libc::_exit(0);
            }
        }
        assert!(pid > 0, "fork failed");
        // SAFETY: closing our copy of the read end; the write end is owned from here on.
        unsafe { libc::close(fds[0]) };
        self.forks
            .push((pid, unsafe { OwnedFd::from_raw_fd(fds[1]) }));
        u32::try_from(pid).unwrap()
    }
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn proc_file(pid: u32, name: &str) -> Vec<u8> {
    std::fs::read(format!("/proc/{pid}/{name}")).unwrap_or_default()
}

fn cmdline_of(argv: &[Vec<u8>]) -> Vec<u8> {
    argv.iter()
        .flat_map(|a| a.iter().copied().chain([0]))
        .collect()
}

/// Starts the hostile processes and waits until each has its argv and name.
fn start_hostile_processes(dir: &Path, processes: &mut Processes) -> Vec<Hostile> {
    let token = |n: u32| format!("mm-hostile-{}-{n}", std::process::id()).into_bytes();
    let sh = Path::new("/bin/sh");
    let mut hostile = Vec::new();

    // Every kind of hostile byte in argv, and in the working directory, whose name also ends in
    // a blank.
    let cwd = dir.join(OsStr::from_bytes(
        b"cwd\n2026-11-22 14:03:15 +01:00 | incident 1\x1b[2J\xff\xe2\x80\xae ",
    ));
    std::fs::create_dir(&cwd).unwrap();
    let args: Vec<&[u8]> = vec![
        FAKE_MARKER,
        CONTROLS,
        INVALID_UTF8,
        UNICODE_TRICKS.as_bytes(),
        b"\\x1b is harmless text",
        &[],
        b"trailing ",
    ];
    let argv0 = [FAKE_HEADER, &token(1)].concat();
    processes.shell(sh, &argv0, "read x", &args, &cwd);
    let mut argv = vec![argv0, b"-c".to_vec(), b"read x".to_vec()];
    argv.extend(args.iter().map(|a| a.to_vec()));
    hostile.push(Hostile {
        what: "argv and cwd",
        pid: processes.groups.last().unwrap().id(),
        argv: Some(argv),
        comm: b"sh".to_vec(),
        cwd: Some(cwd.as_os_str().as_bytes().to_vec()),
        parent: None,
    });

    // A 100 KB command line.
    let big = big_argument();
    processes.shell(sh, &token(2), "read x", &[b"sh", &big], dir);
    hostile.push(Hostile {
        what: "100 KB command line",
        pid: processes.groups.last().unwrap().id(),
        argv: Some(vec![
            token(2),
            b"-c".to_vec(),
            b"read x".to_vec(),
            b"sh".to_vec(),
            big,
        ]),
        comm: b"sh".to_vec(),
        cwd: None,
        parent: None,
    });

    // Names set by exec through a symlink: the kernel takes `comm` from the file name. The first
    // starts a child, whose parent's name is then hostile too.
    for (n, file_name) in [
        (3, &b"\n===== new log\x1b[2J\xff"[..]),
        (4, &b"\n2026-11-22 14:03:15\r"[..]),
    ] {
        let link = dir.join(OsStr::from_bytes(file_name));
        std::os::unix::fs::symlink(sh, &link).unwrap();
        let script = if n == 3 {
            "sleep 1000 & echo $!; read x; kill $!"
        } else {
            "read x"
        };
        processes.shell(&link, &token(n), script, &[], dir);
        let child = processes.groups.last_mut().unwrap();
        let comm = file_name[..file_name.len().min(15)].to_vec();
        let pid = child.id();
        hostile.push(Hostile {
            what: "comm from a symlink's name",
            pid,
            argv: Some(vec![token(n), b"-c".to_vec(), script.as_bytes().to_vec()]),
            comm: comm.clone(),
            cwd: None,
            parent: None,
        });
        if n == 3 {
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            hostile.push(Hostile {
                what: "child of a hostile name",
                pid: line.trim().parse().unwrap(),
                argv: Some(vec![b"sleep".to_vec(), b"1000".to_vec()]),
                comm: b"sleep".to_vec(),
                cwd: None,
                parent: Some((pid, comm)),
            });
        }
    }

    // Names set with prctl, including `/` and the empty name.
    for comm in [&b"\r\x1b]0;t\x07\xff/\xe2\x80\xae\n=="[..], b""] {
        let pid = processes.fork_named(comm);
        hostile.push(Hostile {
            what: "comm set with prctl",
            pid,
            argv: None,
            comm: comm.to_vec(),
            cwd: None,
            parent: None,
        });
    }

    for h in &hostile {
        wait_until(&format!("{} (PID {})", h.what, h.pid), || {
            let mut comm = h.comm.clone();
            comm.push(b'\n');
            proc_file(h.pid, "comm") == comm
                && h.argv
                    .as_ref()
                    .is_none_or(|argv| proc_file(h.pid, "cmdline") == cmdline_of(argv))
        });
    }
    hostile
}

#[test]
fn real_processes_with_hostile_names_under_the_real_ps_and_top() {
    let dir = tempfile::tempdir().unwrap();
    let mut processes = Processes::default();
    let hostile = start_hostile_processes(dir.path(), &mut processes);

    // The real ps, run through a wrapper that keeps a copy of what it printed.
    let ps_output = dir.path().join("ps-output");
    let ps = fake_program(
        dir.path(),
        "ps-tee",
        &format!(
            "ps \"$@\" > '{0}' && cat '{0}'",
            ps_output.to_str().unwrap()
        ),
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_memory-monitor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MEMORY_MONITOR_") {
            command.env_remove(key);
        }
    }
    let out = command
        .args(["snapshot", "--details", "1000000", "--ps-bin"])
        .arg(&ps)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(!stderr.chars().any(|c| c.is_control() && c != '\n'));
    let stdout = String::from_utf8(out.stdout).expect("the report is valid UTF-8");
    let log = check_log(&stdout);
    assert_eq!((log.headers, log.markers), (1, 0), "one snapshot header");
    assert!(log.summary[0].starts_with("  top - "), "{:?}", log.summary);

    // One table line for each process line ps printed: a row, or (for a line that does not split
    // into ps's columns, like a user name with a blank) a line kept aside.
    let printed = std::fs::read(&ps_output).unwrap();
    let ps_lines: Vec<&[u8]> = printed
        .split(|&b| b == b'\n')
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    let ps_rows: HashMap<Vec<u8>, Vec<u8>> =
        ps_lines.iter().filter_map(|l| split_ps_line(l)).collect();
    assert_eq!(log.rows.len() + log.odd.len(), ps_lines.len());
    for (cells, command) in &log.rows {
        let printed_command = ps_rows
            .get(cells[1].as_bytes())
            .unwrap_or_else(|| panic!("PID {} is not in ps's output", cells[1]));
        assert_eq!(*command, shown(printed_command));
    }

    // Every process but the ps and top the snapshot ran gets details, once.
    assert!(
        log.details.len() + 2 >= log.rows.len() && log.details.len() <= log.rows.len(),
        "{} details for {} rows",
        log.details.len(),
        log.rows.len()
    );
    for entry in &log.details {
        assert_eq!(log.details_of(&entry.pid).len(), 1, "PID {}", entry.pid);
        assert_eq!(log.rows_of(&entry.pid).len(), 1, "PID {}", entry.pid);
    }

    let token = format!("mm-hostile-{}-", std::process::id());
    // SAFETY: getuid has no preconditions.
    let uid = format!("(uid {})", unsafe { libc::getuid() });
    for h in &hostile {
        let what = format!("{} (PID {})", h.what, h.pid);
        let rows = log.rows_of(h.pid);
        assert_eq!(rows.len(), 1, "{what}: one row");
        if h.argv.as_ref().is_some_and(|argv| argv[0] != b"sleep") {
            assert!(rows[0].1.contains(&token), "{what}: {:?}", rows[0].1);
        }
        let details = log.details_of(h.pid);
        assert_eq!(details.len(), 1, "{what}: one details entry");
        let d = details[0];
        assert_eq!(
            d.name.as_deref().unwrap_or_default(),
            shown_at_end(&h.comm),
            "{what}: name"
        );
        assert!(d.value("user:").ends_with(&uid), "{what}: {:?}", d.values);
        if let Some(argv) = &h.argv {
            assert_eq!(
                d.value("command:"),
                shown_at_end(&argv.join(&b' ')),
                "{what}: command"
            );
        }
        if let Some(cwd) = &h.cwd {
            assert_eq!(d.value("cwd:"), shown_at_end(cwd), "{what}: cwd");
        }
        if let Some((ppid, comm)) = &h.parent {
            assert_eq!(
                d.value("parent:"),
                format!("{ppid} ({})", shown(comm)),
                "{what}: parent"
            );
        }
    }
    let big = hostile
        .iter()
        .find(|h| h.what == "100 KB command line")
        .unwrap();
    assert!(log.rows_of(big.pid)[0].1.len() > 100_000);
    assert!(log.details_of(big.pid)[0].value("command:").len() > 100_000);
    drop(processes);
}

// ---------------------------------------------------------------------------------------------
// A fake /proc entry as the kernel writes one, for hostile processes that need not exist.

struct FakeEntry {
    pid: u32,
    uid: u32,
    argv: Vec<Vec<u8>>,
    comm: Vec<u8>,
    cwd: Option<Vec<u8>>,
    ppid: u32,
    rss_kib: u64,
    start_ticks: u64,
    /// Write status's `Name:` raw instead of escaped as the kernel does: a newline in it then
    /// adds lines of its own to status.
    raw_status_name: bool,
}

impl FakeEntry {
    fn write(&self, proc_root: &Path) {
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
    fn command_shown(&self) -> String {
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
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// One `ps aux` line as a ps that does not sanitise prints it: every byte of the command raw.
fn raw_ps_line(user: &[u8], pid: u32, rss_kib: u64, command: &[u8]) -> Vec<u8> {
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

const PS_HEADER: &[u8] =
    b"USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n";

// ---------------------------------------------------------------------------------------------
// b. The daemon, with a ps and a top that print hostile bytes raw.

#[test]
fn the_daemon_with_a_ps_and_top_that_print_raw_bytes() {
    let fake = FakeProc::new();
    fake.set_meminfo(1_000_000, 50_000);
    let dir = tempfile::tempdir().unwrap();
    let entry = |pid, argv: Vec<&[u8]>, comm: &[u8], cwd: Option<&[u8]>, ppid| FakeEntry {
        pid,
        uid: 0,
        argv: argv.into_iter().map(<[u8]>::to_vec).collect(),
        comm: comm.to_vec(),
        cwd: cwd.map(<[u8]>::to_vec),
        ppid,
        rss_kib: 1000 + u64::from(pid % 100),
        start_ticks: 100,
        raw_status_name: false,
    };
    // One row of 100 KB: its newlines made carriage returns, which do not end a ps line.
    let big: Vec<u8> = big_argument()
        .into_iter()
        .map(|b| if b == b'\n' { b'\r' } else { b })
        .collect();
    let entries = [
        entry(
            5_000_001,
            vec![FAKE_HEADER, FAKE_MARKER, CONTROLS, b"trailing "],
            b"\n2026-11-22 1\x1b",
            Some(b"/tmp/cwd\n===== new log\r\x1b[2J\xff "),
            1,
        ),
        entry(
            5_000_002,
            vec![b"big", &big],
            b"\r\x1b]0;t\x07\xff/\xe2\x80\xae",
            None,
            5_000_001,
        ),
        entry(
            5_000_003,
            vec![INVALID_UTF8, UNICODE_TRICKS.as_bytes()],
            b"",
            Some(b"/"),
            5_000_002,
        ),
        entry(5_000_004, vec![], b"kworker/0:1\n", None, 2),
    ];
    let mut ps = PS_HEADER.to_vec();
    for e in &entries {
        e.write(fake.path());
        ps.extend(raw_ps_line(b"root", e.pid, e.rss_kib, &e.argv.join(&b' ')));
    }
    let top = [
        &b"top - 10:00:00 up 1 day,  2:03,  1 user,  load average: 0.00, 0.01, 0.05\x1b[2J\n"[..],
        b"Tasks:   4 total,\r   1 running,   3 sleeping\x1b]0;pwned\x07\n",
        b"%Cpu(s):  2.0 us,  1.0 sy,  0.0 ni, 97.0 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n",
        b"MiB Mem :   1000.0 total,\xff\xfe  50.0 free,  950.0 used,   0.0 buff/cache\xe2\x80\xae\n",
        b"MiB Swap:      0.0 total,      0.0 free,      0.0 used.     50.0 avail Mem \r\n",
        b"\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
        b"5000001 root      20   0       1       1       1 S   0.0   0.0   0:00.00 x",
        FAKE_HEADER,
        FAKE_MARKER,
        b"\n",
    ]
    .concat();
    let ps_file = dir.path().join("ps-output");
    let top_file = dir.path().join("top-output");
    std::fs::write(&ps_file, &ps).unwrap();
    std::fs::write(&top_file, &top).unwrap();
    let ps_bin = fake_program(
        dir.path(),
        "ps",
        &format!("exec cat '{}'", ps_file.display()),
    );
    let top_bin = fake_program(
        dir.path(),
        "top",
        &format!("exec cat '{}'", top_file.display()),
    );

    let logs = dir.path().join("logs");
    let mut command = Command::new(env!("CARGO_BIN_EXE_memory-monitor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MEMORY_MONITOR_") {
            command.env_remove(key);
        }
    }
    let mut daemon = command
        .args([
            "run",
            "--sustain",
            "0",
            "--interval",
            "50ms",
            "--details",
            "100",
        ])
        .arg("--log-dir")
        .arg(&logs)
        .arg("--proc-root")
        .arg(fake.path())
        .arg("--ps-bin")
        .arg(&ps_bin)
        .arg("--top-bin")
        .arg(&top_bin)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let read = |name: &str| std::fs::read(logs.join(name)).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !read("details.log").ends_with(b"\n\n") {
        assert!(
            daemon.try_wait().unwrap().is_none(),
            "the daemon exited early"
        );
        assert!(Instant::now() < deadline, "no report within 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(i32::try_from(daemon.id()).unwrap(), libc::SIGTERM) };
    assert!(daemon.wait().unwrap().success());

    let incidents = String::from_utf8(read("incidents.log")).expect("incidents.log is UTF-8");
    let details = String::from_utf8(read("details.log")).expect("details.log is UTF-8");
    let incidents_log = check_log(&incidents);
    let details_log = check_log(&details);
    for log in [&incidents_log, &details_log] {
        assert_eq!((log.markers, log.headers), (1, 1), "one report, one marker");
    }
    assert!(incidents.lines().nth(1).unwrap().contains("| CPU 3.0% |"));

    // top's summary, escaped; nothing of its task lines.
    let summary: Vec<String> = top
        .split(|&b| b == b'\n')
        .take(5)
        .map(|l| format!("  {}", shown(l.strip_suffix(b" \r").unwrap_or(l))))
        .collect();
    assert_eq!(incidents_log.summary, summary);

    // One row per process, its command as ps printed it up to the raw newline; what ps printed
    // after one is a line of its own, kept aside, indented.
    assert_eq!(incidents_log.rows.len(), entries.len());
    let mut expected_odd = Vec::new();
    for e in &entries {
        let joined = e.argv.join(&b' ');
        let mut parts = joined.split(|&b| b == b'\n');
        let rows = incidents_log.rows_of(e.pid);
        assert_eq!(rows.len(), 1, "PID {}", e.pid);
        assert_eq!(
            rows[0].1,
            shown_at_end(parts.next().unwrap()),
            "PID {}",
            e.pid
        );
        expected_odd.extend(parts.filter(|p| !p.is_empty()).map(shown_at_end));
    }
    assert_eq!(incidents_log.odd, expected_odd);
    assert!(incidents_log.rows_of(5_000_002)[0].1.len() > 100_000);
    assert!(incidents_log.details.is_empty() && details_log.rows.is_empty());

    // Details of each, every value escaped once.
    assert_eq!(details_log.details.len(), entries.len());
    for e in &entries {
        let found = details_log.details_of(e.pid);
        assert_eq!(found.len(), 1, "PID {}", e.pid);
        let d = found[0];
        assert_eq!(d.name.as_deref().unwrap_or_default(), shown_at_end(&e.comm));
        assert_eq!(d.value("command:"), e.command_shown(), "PID {}", e.pid);
        let cwd = e
            .cwd
            .as_deref()
            .map_or("unavailable (process ended)".into(), shown_at_end);
        assert_eq!(d.value("cwd:"), cwd, "PID {}", e.pid);
        let parent = entries.iter().find(|p| p.pid == e.ppid);
        if let Some(p) = parent {
            assert_eq!(
                d.value("parent:"),
                format!("{} ({})", p.pid, shown(&p.comm))
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// c. Fuzzing: arbitrary bytes for every field ps, top, /proc and passwd give, through the same
// parse and render the daemon runs.

/// One process of a fuzzed machine.
#[derive(Clone, Debug)]
struct FuzzProcess {
    /// The name passwd gives its uid.
    user: Vec<u8>,
    /// Whether ps cuts the name to seven characters and `+`, as it does past eight.
    cut: bool,
    /// TTY, STAT, START and TIME as ps prints them.
    fields: [Vec<u8>; 4],
    cpu_mem: (String, String),
    rss_kib: u32,
    argv: Vec<Vec<u8>>,
    comm: Vec<u8>,
    cwd: Option<Vec<u8>>,
    raw_status_name: bool,
    start_ticks: u64,
    /// Index of its parent among the machine's processes.
    parent: Option<usize>,
}

#[derive(Clone, Debug)]
struct FuzzMachine {
    processes: Vec<FuzzProcess>,
    /// Lines ps prints between rows that are not rows, with their position.
    junk: Vec<(usize, Vec<u8>)>,
    /// Bytes at the end of each of top's five summary lines, then names in its task lines.
    top_junk: [Vec<u8>; 5],
    top_tasks: Vec<Vec<u8>>,
}

const FRAGMENTS: &[&[u8]] = &[
    b"\n",
    b"\r",
    b"\r\n",
    b"\t",
    b" ",
    b"   ",
    b"\x1b[2J",
    b"\x1b]0;title\x07",
    b"\x07",
    b"\x7f",
    b"\x00",
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xe2\x82",
    "\u{202e}".as_bytes(),
    "\u{2066}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{9b}".as_bytes(),
    "\u{a0}".as_bytes(),
    "\u{2800}".as_bytes(),
    "é".as_bytes(),
    "日本".as_bytes(),
    b"\\x1b",
    FAKE_HEADER,
    FAKE_MARKER,
    b"2026-11-22 14:03:15 +01:00 | ",
    b"===== new log ",
    // A ps row of its own, after a raw newline.
    b"\nroot 4242 0.0 0.0 1 1 ? S 10:00 0:00 forged",
];

/// Text that passwd might give as a user name (NSS and LDAP accept nearly anything).
const FAKE_USERS: &[&str] = &[
    "2026-11-22 14:03:15 +01:00 | incident 7 | RAM 99.0% (3.66 of 3.70 GiB) | CPU 1.0%",
    "===== new log 2026-11-22 14:03:15 +01:00 | incident 7 | memory-monitor 0.1.0 =====",
    "2026-11-22\u{a0}14:03:15\u{a0}+01:00\u{a0}|\u{a0}incident\u{a0}7",
    "=====\u{2800}new\u{2800}log\u{2800}2026-11-22",
    "verylongusername",
];

fn hostile_bytes(max_pieces: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<u8>().prop_map(|b| vec![b]),
            3 => prop::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec),
            2 => "[a-z0-9/._=+-]{1,6}".prop_map(String::into_bytes),
        ],
        0..max_pieces,
    )
    .prop_map(|pieces| pieces.concat())
}

fn without(bytes: Vec<u8>, unwanted: &[u8], or_else: &[u8]) -> Vec<u8> {
    let kept: Vec<u8> = bytes
        .into_iter()
        .filter(|b| !unwanted.contains(b))
        .collect();
    if kept.is_empty() {
        or_else.to_vec()
    } else {
        kept
    }
}

/// One argument, sometimes of 100 KB.
fn argument() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Rare, as each costs a few tens of milliseconds in a debug build; the fixed case below
        // always has two.
        30 => hostile_bytes(8),
        1 => hostile_bytes(6).prop_map(|seed| {
            let seed = if seed.is_empty() { b"x".to_vec() } else { seed };
            seed.iter().copied().cycle().take(100_000).collect()
        }),
    ]
    .prop_map(|a| without(a, b"\0", b""))
}

fn fuzz_process() -> impl Strategy<Value = FuzzProcess> {
    // Blank-free, and not all carriage returns, which end a line as blanks do.
    let field = || {
        hostile_bytes(3).prop_map(|f| {
            let f = without(f, b" \t\n", b"?");
            if f.iter().all(|&b| b == b'\r') {
                b"?".to_vec()
            } else {
                f
            }
        })
    };
    let percent = || "[0-9]{1,3}(\\.[0-9])?";
    (
        prop_oneof![
            3 => hostile_bytes(4),
            1 => prop::sample::select(FAKE_USERS).prop_map(|u| u.as_bytes().to_vec()),
        ],
        any::<bool>(),
        [field(), field(), field(), field()],
        (percent(), percent()),
        any::<u32>(),
        prop::collection::vec(argument(), 0..4),
        hostile_bytes(4).prop_map(|c| without(c, b"\0", b"").into_iter().take(15).collect()),
        prop::option::of(hostile_bytes(6).prop_map(|c| without(c, b"\0", b"/"))),
        any::<bool>(),
        any::<u64>(),
        prop::option::of(0..8usize),
    )
        .prop_map(
            |(user, cut, fields, cpu_mem, rss_kib, argv, comm, cwd, raw, start, parent)| {
                FuzzProcess {
                    user,
                    cut,
                    fields,
                    cpu_mem,
                    rss_kib,
                    argv,
                    comm,
                    cwd,
                    raw_status_name: raw,
                    start_ticks: start,
                    parent,
                }
            },
        )
}

fn fuzz_machine() -> impl Strategy<Value = FuzzMachine> {
    let summary_junk = || hostile_bytes(4).prop_map(|j| without(j, b"\n", b""));
    (
        prop::collection::vec(fuzz_process(), 1..8),
        prop::collection::vec((0..8usize, hostile_bytes(10)), 0..3),
        [
            summary_junk(),
            summary_junk(),
            summary_junk(),
            summary_junk(),
            summary_junk(),
        ],
        prop::collection::vec(hostile_bytes(6), 0..4),
    )
        .prop_map(|(processes, junk, top_junk, top_tasks)| FuzzMachine {
            processes,
            junk,
            top_junk,
            top_tasks,
        })
}

/// passwd for the fuzzed machine: uid 1000 + i is process i's user.
struct Passwd(Vec<Vec<u8>>);

impl UserNames for Passwd {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
        let i = usize::try_from(uid.checked_sub(1000)?).ok()?;
        self.0.get(i).cloned()
    }
}

fn fuzz_pid(i: usize) -> u32 {
    10_000 + 7 * u32::try_from(i).unwrap()
}

fn trim_trailing_blanks(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Renders the machine's incident into both logs, as the daemon writes them for the first report
/// of an episode, and checks them.
fn check_fuzz_machine(machine: &FuzzMachine) {
    let fake = FakeProc::new();
    let n = machine.processes.len();
    let entries: Vec<FakeEntry> = machine
        .processes
        .iter()
        .enumerate()
        .map(|(i, p)| FakeEntry {
            pid: fuzz_pid(i),
            uid: 1000 + u32::try_from(i).unwrap(),
            argv: p.argv.clone(),
            comm: p.comm.clone(),
            cwd: p.cwd.clone(),
            ppid: p.parent.filter(|&j| j < n).map_or(1, fuzz_pid),
            rss_kib: u64::from(p.rss_kib),
            start_ticks: p.start_ticks,
            raw_status_name: p.raw_status_name,
        })
        .collect();
    let mut ps_lines: Vec<Vec<u8>> = Vec::new();
    for (p, e) in machine.processes.iter().zip(&entries) {
        e.write(fake.path());
        let cell = if p.cut && p.user.len() > 8 {
            [&p.user[..7], b"+"].concat()
        } else {
            p.user.clone()
        };
        let mut line = without(cell, b" \t\n", b"u");
        write!(
            Bytes(&mut line),
            " {} {} {}",
            e.pid,
            p.cpu_mem.0,
            p.cpu_mem.1
        )
        .unwrap();
        write!(Bytes(&mut line), " {} {}", e.rss_kib * 3, e.rss_kib).unwrap();
        for field in &p.fields {
            line.push(b' ');
            line.extend_from_slice(field);
        }
        line.push(b' ');
        line.extend_from_slice(&e.argv.join(&b' '));
        line.push(b'\n');
        ps_lines.push(line);
    }
    for (at, junk) in &machine.junk {
        let mut line = junk.clone();
        line.push(b'\n');
        ps_lines.insert((*at).min(ps_lines.len()), line);
    }
    let ps = [PS_HEADER.to_vec(), ps_lines.concat()].concat();

    let summary = [
        &b"top - 14:03:15 up 3 days,  7:59,  1 user,  load average: 2.14, 1.13, 0.94"[..],
        b"Tasks: 222 total,   1 running, 157 sleeping,   0 stopped,   0 zombie",
        b"%Cpu(s):  9.9 us,  2.1 sy,  0.0 ni, 87.5 id,  0.5 wa,  0.0 hi,  0.0 si,  0.0 st",
        b"MiB Mem :   3788.8 total,    180.3 free,   3150.1 used,    458.4 buff/cache",
        b"MiB Swap:   2047.0 total,   1946.8 free,    100.2 used.    646.1 avail Mem",
    ];
    let mut top = Vec::new();
    for (line, junk) in summary.iter().zip(&machine.top_junk) {
        top.extend_from_slice(line);
        top.extend_from_slice(junk);
        top.push(b'\n');
    }
    top.extend_from_slice(
        b"\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
    );
    for name in &machine.top_tasks {
        top.extend_from_slice(
            b"      1 root      20   0  167780  11600   8472 S   0.0   0.3   0:02.33 ",
        );
        top.extend_from_slice(name);
        top.push(b'\n');
    }

    let passwd = Passwd(machine.processes.iter().map(|p| p.user.clone()).collect());
    let sources = Sources {
        tools: Tools {
            ps_bin: "unused".into(),
            top_bin: "unused".into(),
            timeout: Duration::from_secs(1),
        },
        proc_root: fake.path().to_path_buf(),
        details: n,
        users: &passwd,
        clock_ticks: 100,
    };
    let incident = incident::from_outputs(
        Outputs {
            ps: Ok(ps),
            top: Ok(top),
            own_pids: vec![],
        },
        &sources,
    );
    let time: DateTime<FixedOffset> = FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 22, 14, 3, 15)
        .unwrap();
    let occasion = Occasion::Incident {
        report: Report {
            incident: 1,
            high_for: Duration::from_secs(15),
            since_first_report: None,
        },
        threshold_percent: 80.0,
    };
    let sample = MemSample {
        total_kib: 3_879_731,
        available_kib: 650_117,
    };
    let header = report::header_line(&time, &occasion, &sample, incident.cpu_busy());
    let marker = report::new_log_marker(&time, 1);
    let incidents = marker.clone() + &report::render_incident(&header, &incident);
    let mut details = marker + &header + "\n";
    memory_monitor::details::render(&incident.details, &time, &mut details);
    details.push('\n');

    let incidents_log = check_log(&incidents);
    let details_log = check_log(&details);
    for log in [&incidents_log, &details_log] {
        assert_eq!((log.markers, log.headers), (1, 1), "one report, one marker");
    }

    let mut summary_shown: Vec<String> = summary
        .iter()
        .zip(&machine.top_junk)
        .map(|(line, junk)| {
            format!(
                "  {}",
                shown(trim_trailing_blanks(&[line, &junk[..]].concat()))
            )
        })
        .collect();
    if incident.cpu_busy().is_none() {
        // Junk that makes the CPU line unreadable: the report says so under the summary.
        let why = incidents_log.summary.last().unwrap();
        assert!(why.starts_with("  (CPU n/a: "), "{why}");
        summary_shown.push(why.clone());
    }
    assert_eq!(incidents_log.summary, summary_shown);

    for (p, e) in machine.processes.iter().zip(&entries) {
        let command = e.argv.join(&b' ');
        let rows = incidents_log.rows_of(e.pid);
        assert_eq!(rows.len(), 1, "PID {}: one row", e.pid);
        if !command.contains(&b'\n') {
            assert_eq!(
                rows[0].1,
                shown(trim_trailing_blanks(&command)),
                "PID {}",
                e.pid
            );
        }
        let found = details_log.details_of(e.pid);
        assert_eq!(found.len(), 1, "PID {}: one details entry", e.pid);
        let d = found[0];
        assert_eq!(d.name.as_deref().unwrap_or_default(), shown_at_end(&p.comm));
        assert_eq!(d.value("command:"), e.command_shown(), "PID {}", e.pid);
        let cwd = e
            .cwd
            .as_deref()
            .map_or("unavailable (process ended)".into(), shown_at_end);
        assert_eq!(d.value("cwd:"), cwd, "PID {}", e.pid);
        if let Some(parent) = entries.iter().find(|q| q.pid == e.ppid) {
            assert_eq!(
                d.value("parent:"),
                format!("{} ({})", parent.pid, shown(&parent.comm))
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fuzzed_names_never_break_a_line_nor_fake_one(machine in fuzz_machine()) {
        check_fuzz_machine(&machine);
    }
}

/// The holes fuzzing should find, every time rather than by chance: passwd names that would
/// start a table line with a header or a marker, and names that start or end with blanks.
#[test]
fn the_known_holes_stay_closed() {
    let process = |user: &str, cut: bool, argv: Vec<&[u8]>, comm: &[u8]| FuzzProcess {
        user: user.as_bytes().to_vec(),
        cut,
        fields: [
            b"?".to_vec(),
            b"S".to_vec(),
            b"10:00".to_vec(),
            b"0:00".to_vec(),
        ],
        cpu_mem: ("0.0".into(), "1.0".into()),
        rss_kib: 1000,
        argv: argv.into_iter().map(<[u8]>::to_vec).collect(),
        comm: comm.to_vec(),
        cwd: Some(b"/tmp/dir ".to_vec()),
        raw_status_name: false,
        start_ticks: 100,
        parent: Some(0),
    };
    let mut processes: Vec<FuzzProcess> = FAKE_USERS
        .iter()
        .map(|user| process(user, true, vec![b"x"], b"x"))
        .collect();
    processes.push(process(
        "root",
        false,
        vec![b"grep", b"-v", b"^   "],
        b"\r lead",
    ));
    processes.push(process("root", false, vec![b"", b""], b""));
    let big = big_argument();
    let one_line_big: Vec<u8> = big
        .iter()
        .map(|&b| if b == b'\n' { b'\r' } else { b })
        .collect();
    processes.push(process("root", false, vec![&big], b"big"));
    processes.push(process("root", false, vec![&one_line_big], b"big"));
    // Not cut: a ps that prints names raw puts it at the start of the line itself.
    processes.push(process(FAKE_USERS[2], false, vec![b"y"], b"y"));
    processes.push(process(FAKE_USERS[3], false, vec![b"z"], b"z"));
    processes.push(process(
        "root",
        false,
        vec![FAKE_HEADER, FAKE_MARKER],
        b"\n2026-11-22 1",
    ));
    check_fuzz_machine(&FuzzMachine {
        processes,
        junk: vec![
            (0, FAKE_HEADER[1..].to_vec()),
            (3, FAKE_MARKER[1..].to_vec()),
        ],
        top_junk: Default::default(),
        top_tasks: vec![FAKE_HEADER.to_vec(), FAKE_MARKER.to_vec()],
    });
}
