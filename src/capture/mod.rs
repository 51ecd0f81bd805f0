//! Running ps and top for an incident, side by side, through duct: C locale, stdin closed, their
//! own process group so a hung ps (or a script posing as one) is killed whole, and their output
//! read here through pipes we own. One `poll` loop reads both programs and the stop signal, so
//! the output can be capped, a stop is seen at once, and no reader thread outlives a capture.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod gather;
mod program;
pub mod top_lines;

use program::{Child, Keep, reap_all};

use crate::capture::top_lines::TopLines;
use crate::daemon::signals::Signals;
use crate::text::escape::escape;
use crate::text::size::format_kib;

/// The programs to run; paths or names looked up in PATH.
#[derive(Clone, Debug)]
pub struct Tools {
    pub ps_bin: OsString,
    pub top_bin: OsString,
    pub timeout: Duration,
    /// How much of each program's output is kept; the rest is cut off (see [`OUTPUT_LIMIT`]).
    pub output_limit: usize,
}

impl Tools {
    /// At start: both programs can be found and run, or one line says what is wrong and how
    /// to put it right. A name without a slash is looked up in PATH, as it will be when run.
    pub fn check(&self) -> Result<(), String> {
        check_program("ps", "--ps-bin", &self.ps_bin)?;
        check_program("top", "--top-bin", &self.top_bin).map(drop)
    }

    /// Checked as [`Tools::check`] does, and with names found on PATH replaced by their paths:
    /// for one capture run at once (`snapshot`), so PATH is searched once, not twice. The
    /// daemon keeps the names and looks them up at each capture, as a shell would.
    pub fn resolved(mut self) -> Result<Tools, String> {
        self.ps_bin = check_program("ps", "--ps-bin", &self.ps_bin)?;
        self.top_bin = check_program("top", "--top-bin", &self.top_bin)?;
        Ok(self)
    }
}

/// The program to run: its path as given, or where PATH has it.
fn check_program(name: &str, option: &str, program: &OsStr) -> Result<OsString, String> {
    let shown = escape(program.as_encoded_bytes());
    if program.as_encoded_bytes().contains(&b'/') {
        return match executable(Path::new(program)) {
            Ok(()) => Ok(program.to_os_string()),
            Err(why) => Err(format!(
                "{option} {shown}: {why}; give the path of procps's {name} (or leave {option} out to use the one on PATH)"
            )),
        };
    }
    if let Some(path) = find_in_path(program) {
        Ok(path.into_os_string())
    } else {
        Err(format!(
            "{shown} not found on PATH ({}); install procps (sudo apt-get install procps) or give its path with {option}",
            escape(search_path().as_encoded_bytes())
        ))
    }
}

/// As execvp does when PATH is unset.
fn search_path() -> OsString {
    std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into())
}

/// Where a program named without a slash is, as execvp would find it.
pub(crate) fn find_in_path(program: &OsStr) -> Option<PathBuf> {
    if program.as_encoded_bytes().contains(&b'/') {
        return None;
    }
    std::env::split_paths(&search_path())
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate).is_ok())
}

fn executable(path: &Path) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        _ => e.to_string(),
    })?;
    if !metadata.is_file() {
        Err("not a file".into())
    } else if metadata.permissions().mode() & 0o111 == 0 {
        Err("not executable".into())
    } else {
        Ok(())
    }
}

/// A ps of tens of thousands of processes prints a few MiB. Past this, a program is broken or
/// hostile, and reading on would only take memory from a machine that is already short of it.
pub const OUTPUT_LIMIT: usize = 16 * 1024 * 1024;

/// Enough for the first lines of an error message.
const STDERR_KEPT: usize = 4096;

/// `ww`: never cut COMMAND, whatever COLUMNS says. `-n 2 -d 0.5`: the first frame's CPU figure
/// covers only top's own start-up (milliseconds: it reads 0% or 100%), the second a real half
/// second.
pub const PS_ARGS: [&str; 2] = ["auxww", "--sort=-%mem"];
pub const TOP_ARGS: [&str; 5] = ["-b", "-n", "2", "-d", "0.5"];

/// The whole environment ps and top run with; none of ours is passed on. procps reads
/// variables that change what it prints: `PS_PERSONALITY` or `CMD_ENV` set to `aix` renames
/// ps's columns, `PROCPS_USERLEN` changes their widths, and `COLUMNS` cuts top's summary lines
/// short. A daemon started from a shell, or a machine-wide /etc/environment, must not turn an
/// incident into "not ps aux output".
///
/// - `LC_ALL=C`: the numbers and dates the parsers read.
/// - `HOME` that does not exist: a user's toprc could hide the summary or change its units;
///   batch output should be top's defaults (a site-wide /etc/topdefaultrc still applies).
/// - `TZ`, when we have one: top's clock then reads as the report's header does.
/// - `PATH`, ours: ps and top run nothing, but a wrapper script given as `--ps-bin` may.
pub fn program_env() -> Vec<(&'static str, OsString)> {
    let mut env = vec![
        ("LC_ALL", OsString::from("C")),
        ("HOME", OsString::from("/nonexistent")),
        ("PATH", search_path()),
    ];
    if let Some(tz) = std::env::var_os("TZ") {
        env.push(("TZ", tz));
    }
    env
}

/// What one program printed on stdout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// Whole lines only: when the output was cut, the partial last line is dropped. Of top's,
    /// only the lines `top::parse` reads (see [`TopLines`]).
    pub bytes: Vec<u8>,
    /// The output went past the limit; the program was killed and only this much is kept.
    pub cut: Option<Cut>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub limit: usize,
}

impl Captured {
    pub fn whole(bytes: Vec<u8>) -> Captured {
        Captured { bytes, cut: None }
    }
}

/// Says in the report that a program's output was cut, so nobody takes the table for complete.
pub fn cut_note(program: &str, cut: Cut) -> String {
    format!(
        "{program} printed more than {}; only the lines before that were read",
        format_kib(u64::try_from(cut.limit / 1024).unwrap_or(u64::MAX))
    )
}

#[derive(Debug)]
pub struct Outputs {
    pub ps: Result<Captured, String>,
    pub top: Result<Captured, String>,
    /// The PIDs of the ps and top we ran: they are in the table, as every process is, but
    /// have ended by the time details are read.
    pub own_pids: Vec<u32>,
}

impl Outputs {
    /// Outputs recorded elsewhere, whole, as tests and benchmarks feed them.
    pub fn recorded(ps: Result<Vec<u8>, String>, top: Result<Vec<u8>, String>) -> Outputs {
        Outputs {
            ps: ps.map(Captured::whole),
            top: top.map(Captured::whole),
            own_pids: Vec::new(),
        }
    }
}

/// A stop was requested while the programs ran; they were killed.
#[derive(Debug, PartialEq, Eq)]
pub struct Interrupted;

/// Room for a typical machine's ps output (about 75 bytes a process) from the start: grown from
/// empty, the buffer would pass through every small size on the way, each a fresh allocation.
const PS_START_ROOM: usize = 64 * 1024;

/// Runs ps and top side by side. `stop` is polled with them: a stop signal kills both at once.
pub fn run_ps_and_top(tools: &Tools, stop: Option<&Signals>) -> Result<Outputs, Interrupted> {
    let deadline = Instant::now() + tools.timeout;
    let mut children = [
        Child::start(
            "ps",
            &tools.ps_bin,
            &PS_ARGS,
            Keep::All(Vec::with_capacity(PS_START_ROOM)),
        ),
        Child::start(
            "top",
            &tools.top_bin,
            &TOP_ARGS,
            Keep::TopSummary(TopLines::default()),
        ),
    ];
    let own_pids: Vec<u32> = children
        .iter()
        .filter_map(|c| c.handle.as_ref())
        .flat_map(|h| h.pids())
        .collect();
    // A pipe's default capacity: one read drains it.
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // Read before settling, so a program's last output is in before its pipes are dropped.
        for child in &mut children {
            child.read_available(&mut chunk, tools.output_limit);
            child.settle(deadline, tools.timeout);
        }
        if children.iter().all(|c| c.result.is_some()) {
            let [ps, top] = children.map(Child::into_result);
            return Ok(Outputs { ps, top, own_pids });
        }
        if stop_requested(&children, stop, deadline) {
            for child in &mut children {
                child.signal_group();
            }
            reap_all(&mut children);
            return Err(Interrupted);
        }
    }
}

/// Sleeps until a pipe has something (or closed), the stop signal came, or it is time to check
/// on the children; says whether a stop was requested.
fn stop_requested(children: &[Child; 2], stop: Option<&Signals>, deadline: Instant) -> bool {
    let mut fds: Vec<libc::pollfd> = children
        .iter()
        .flat_map(Child::pipes_to_watch)
        .map(|pipe| pollfd(pipe.as_fd().as_raw_fd()))
        .collect();
    // A pidfd wakes us when its program exits, so nothing needs checking on a timer. Only while
    // the exit is news: afterwards it would stay readable and spin the loop.
    fds.extend(
        children
            .iter()
            .filter(|c| c.result.is_none() && c.exited.is_none())
            .filter_map(|c| c.pidfd.as_ref())
            .map(|pidfd| pollfd(pidfd.as_raw_fd())),
    );
    let stop_index = stop.map(|signals| {
        fds.push(pollfd(signals.as_fd().as_raw_fd()));
        fds.len() - 1
    });
    let timeout = children.iter().filter_map(Child::next_check).fold(
        deadline.saturating_duration_since(Instant::now()),
        Duration::min,
    );
    let millis = libc::c_int::try_from(timeout.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
    let count = libc::nfds_t::try_from(fds.len()).unwrap_or(0);
    // SAFETY: `fds` is a valid array of `count` pollfd structures.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), count, millis) };
    let stop_ready = ready > 0
        && stop_index
            .and_then(|i| fds.get(i))
            .is_some_and(|fd| fd.revents != 0);
    stop_ready && stop.is_some_and(Signals::take_stop)
}

fn pollfd(fd: libc::c_int) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) -> OsString {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.into_os_string()
    }

    fn tools(dir: &Path, ps: &str, top: &str, output_limit: usize) -> Tools {
        Tools {
            ps_bin: script(dir, "ps", ps),
            top_bin: script(dir, "top", top),
            timeout: Duration::from_secs(5),
            output_limit,
        }
    }

    /// Whether a process with this command line still runs a moment later (SIGKILL takes
    /// effect asynchronously; a killed process has no command line).
    fn alive(cmdline: &[u8]) -> bool {
        let running = || {
            std::fs::read_dir("/proc")
                .unwrap()
                .flatten()
                .any(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == cmdline))
        };
        let until = Instant::now() + Duration::from_secs(1);
        while running() {
            if Instant::now() > until {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn output_before_an_exit_is_kept_when_a_grandchild_holds_the_pipe() {
        let dir = tempfile::tempdir().unwrap();
        let tools = tools(
            dir.path(),
            "echo from-ps; sleep 68.5 & exit 0",
            "echo from-top >&2; printf 'top - 1\\n'",
            OUTPUT_LIMIT,
        );
        let started = Instant::now();
        let outputs = run_ps_and_top(&tools, None).unwrap();
        assert_eq!(outputs.ps.unwrap(), Captured::whole(b"from-ps\n".to_vec()));
        assert_eq!(outputs.top.unwrap(), Captured::whole(b"top - 1\n".to_vec()));
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "not the timeout"
        );
        assert!(
            !alive(b"sleep\x0068.5\x00"),
            "the grandchild went with its group"
        );
    }

    #[test]
    fn output_past_the_limit_is_cut_at_a_line_and_the_program_killed() {
        let dir = tempfile::tempdir().unwrap();
        let tools = tools(dir.path(), "exec yes 123456789", "exit 3", 1000);
        let outputs = run_ps_and_top(&tools, None).unwrap();
        let ps = outputs.ps.unwrap();
        assert_eq!(ps.cut, Some(Cut { limit: 1000 }));
        assert_eq!(ps.bytes, b"123456789\n".repeat(100));
        assert_eq!(outputs.top, Err("top exited with status 3".into()));
        assert!(!alive(b"yes\x00123456789\x00"));
        assert_eq!(
            cut_note("ps", Cut { limit: 16 << 20 }),
            "ps printed more than 16.00 MiB; only the lines before that were read"
        );
    }

    #[test]
    fn a_program_that_cannot_start_is_said_so() {
        let tools = Tools {
            ps_bin: "/nonexistent/ps".into(),
            top_bin: "/dev/null".into(),
            timeout: Duration::from_secs(1),
            output_limit: OUTPUT_LIMIT,
        };
        let outputs = run_ps_and_top(&tools, None).unwrap();
        assert_eq!(outputs.ps, Err("ps not found (/nonexistent/ps)".into()));
        let top = outputs.top.unwrap_err();
        assert!(
            top.starts_with("top could not be started (/dev/null): "),
            "{top}"
        );
        assert!(tools.check().is_err());
        assert!(tools.resolved().is_err());
    }

    /// Starts `body`, waits until its stdout pipe holds `bytes`, then reads what it has.
    fn started_and_read(body: &str, dir: &Path, bytes: libc::c_int) -> Child {
        let program = script(dir, "p", body);
        let mut child = Child::start("p", &program, &[], Keep::All(Vec::new()));
        let fd = child.stdout.as_ref().unwrap().as_fd().as_raw_fd();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let mut queued: libc::c_int = 0;
            // SAFETY: FIONREAD writes one int, the bytes waiting in the pipe.
            assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &mut queued) }, 0);
            if queued >= bytes {
                break;
            }
            assert!(
                Instant::now() < until,
                "the program never printed {bytes} bytes"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child.read_available(&mut vec![0; 64 * 1024], OUTPUT_LIMIT);
        child
    }

    #[test]
    fn a_running_program_s_pipes_rest_after_a_small_read_but_not_while_it_streams() {
        let dir = tempfile::tempdir().unwrap();
        let trickle = started_and_read("printf abc; exec sleep 5", dir.path(), 3);
        assert!(trickle.pidfd.is_some(), "this kernel has pidfds");
        assert_eq!(trickle.printed, 3);
        assert_eq!(trickle.pipes_to_watch().count(), 0, "paused");
        let next = trickle.next_check().unwrap();
        assert!(
            next > Duration::ZERO && next <= program::READ_PAUSE,
            "{next:?}"
        );

        // A full pipe: the program is waiting for us.
        let stream = started_and_read("head -c 1000000 /dev/zero; exec sleep 5", dir.path(), 65536);
        assert!(stream.printed >= 64 * 1024, "{}", stream.printed);
        assert_eq!(
            stream.pipes_to_watch().count(),
            2,
            "stdout and stderr, watched"
        );
        assert_eq!(stream.next_check(), None, "the pidfd wakes us");

        let mut both = [trickle, stream];
        for child in &mut both {
            child.signal_group();
        }
        reap_all(&mut both);
    }

    #[test]
    fn names_resolve_to_their_paths_on_path_and_paths_stay() {
        let dir = tempfile::tempdir().unwrap();
        let top = script(dir.path(), "top", "exit 0");
        let tools = Tools {
            ps_bin: "sh".into(),
            top_bin: top.clone(),
            timeout: Duration::from_secs(1),
            output_limit: OUTPUT_LIMIT,
        }
        .resolved()
        .unwrap();
        assert_eq!(
            Some(PathBuf::from(&tools.ps_bin)),
            find_in_path(OsStr::new("sh"))
        );
        assert!(Path::new(&tools.ps_bin).is_absolute(), "{:?}", tools.ps_bin);
        assert_eq!(tools.top_bin, top);
    }
}
