//! Hostile process names and what the logs must make of them, shared by the hostile_* tests:
//! the hostile text itself, and how docs/log-format.md says a log shows it, written again here
//! rather than taken from the renderer's code.
#![allow(dead_code)]

use std::fmt::Write as _;

use super::FakeProcess;
use super::log::{Log, shown, shown_at_end};
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

/// The arguments of a fake process joined by blanks, as ps prints its COMMAND.
pub fn command_of(p: &FakeProcess) -> Vec<u8> {
    let args = p.cmdline.strip_suffix(b"\0").unwrap_or(&p.cmdline);
    args.iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect()
}

/// What details.log says a fake process's command is: the arguments joined by blanks, or the
/// name in brackets when there are none.
pub fn command_shown(p: &FakeProcess) -> String {
    let command = command_of(p);
    if command.is_empty() {
        format!("[{}]", shown(&p.name))
    } else {
        shown_at_end(&command)
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

/// `e` has exactly one details entry, with its name, command, cwd and parent's name each shown
/// as docs/log-format.md says; `all` are the fake processes, among which its parent may be.
pub fn assert_one_details_entry(log: &Log, e: &FakeProcess, all: &[FakeProcess]) {
    let found = log.details_of(e.pid);
    assert_eq!(found.len(), 1, "PID {}: one details entry", e.pid);
    let d = found[0];
    assert_eq!(d.name.as_deref().unwrap_or_default(), shown_at_end(&e.name));
    assert_eq!(d.value("command:"), command_shown(e), "PID {}", e.pid);
    let cwd = e
        .cwd
        .as_deref()
        .map_or("unavailable (process ended)".into(), shown_at_end);
    assert_eq!(d.value("cwd:"), cwd, "PID {}", e.pid);
    if let Some(parent) = all.iter().find(|p| p.pid == e.ppid) {
        assert_eq!(
            d.value("parent:"),
            format!("{} ({})", parent.pid, shown(&parent.name))
        );
    }
}
