//! Capturing the machine at the moment of a report: ps and top run side by side, then the
//! details of the biggest processes read from `/proc` ([`Sources::gather`]).
//!
//! ps and top run through duct: C locale, stdin closed, their own process group so a hung ps (or
//! a script posing as one) is killed whole, and their output read here through pipes we own. One
//! `poll` loop reads both programs and the stop signal, so the output can be capped, a stop is
//! seen at once, and no reader thread outlives a capture.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

mod gather;
mod kills;
mod places;
mod program;
pub mod pstore;
pub mod top_lines;

pub use gather::Sources;
pub use kills::{boot_id, entry_of, init_start, kernel_now, wall_time_of};
pub use places::{Places, read_places};

use program::{Child, Keep, reap_all};
use top_lines::TopLines;

use crate::report::ProgramFailure;
use crate::text::escape::escape;

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
        self.clone().resolved_on(&search_path()).map(drop)
    }

    /// Checked as [`Tools::check`] does, and with names found on PATH replaced by their paths:
    /// for one capture run at once (`snapshot`), so PATH is searched once, not twice. The
    /// daemon keeps the names and looks them up at each capture, as a shell would.
    pub fn resolved(self) -> Result<Tools, String> {
        self.resolved_on(&search_path())
    }

    /// [`Tools::resolved`] with `path` for PATH.
    pub fn resolved_on(mut self, path: &OsStr) -> Result<Tools, String> {
        self.ps_bin = check_program("ps", "--ps-bin", &self.ps_bin, path)?;
        self.top_bin = check_program("top", "--top-bin", &self.top_bin, path)?;
        Ok(self)
    }
}

/// The program to run: its path as given, or where `search_path` has it.
fn check_program(
    name: &str,
    option: &str,
    program: &OsStr,
    search_path: &OsStr,
) -> Result<OsString, String> {
    let shown = escape(program.as_encoded_bytes());
    if program.as_encoded_bytes().contains(&b'/') {
        return match executable(Path::new(program)) {
            Ok(()) => Ok(program.to_os_string()),
            Err(why) => Err(format!(
                "{option} {shown}: {why}; give the path of procps's {name} (or leave {option} out to use the one on PATH)"
            )),
        };
    }
    if let Some(path) = find_in(search_path, program) {
        Ok(path.into_os_string())
    } else {
        Err(format!(
            "{shown} not found on PATH ({}); install procps (sudo apt-get install procps) or give its path with {option}",
            escape(search_path.as_encoded_bytes())
        ))
    }
}

/// As execvp does when PATH is unset.
fn search_path() -> OsString {
    std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into())
}

/// Where a program named without a slash is, as execvp would find it.
fn find_in_path(program: &OsStr) -> Option<PathBuf> {
    find_in(&search_path(), program)
}

fn find_in(search_path: &OsStr, program: &OsStr) -> Option<PathBuf> {
    if program.as_encoded_bytes().contains(&b'/') {
        return None;
    }
    std::env::split_paths(search_path)
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

#[derive(Debug)]
pub struct Outputs {
    pub ps: Result<Captured, ProgramFailure>,
    pub top: Result<Captured, ProgramFailure>,
    /// The PIDs of the ps and top we ran: they are in the table, as every process is, but
    /// have ended by the time details are read.
    pub own_pids: Vec<u32>,
}

impl Outputs {
    /// Outputs recorded elsewhere, whole, as tests and benchmarks feed them.
    pub fn recorded(
        ps: Result<Vec<u8>, ProgramFailure>,
        top: Result<Vec<u8>, ProgramFailure>,
    ) -> Outputs {
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

/// What a capture watches, beside the programs, for a request to stop: the daemon's signals.
pub trait StopRequest {
    /// Readable when a request may be waiting.
    fn as_fd(&self) -> BorrowedFd<'_>;
    /// Takes what is waiting; whether it asks to stop.
    fn take_stop(&self) -> bool;
    /// Called at every wake of a capture, which may take its whole timeout: feeds a watchdog,
    /// and says how soon it must be called again (`None`: no need).
    fn keep_alive(&self) -> Option<Duration> {
        None
    }
}

/// Room for a typical machine's ps output (about 75 bytes a process) from the start: grown from
/// empty, the buffer would pass through every small size on the way, each a fresh allocation.
const PS_START_ROOM: usize = 64 * 1024;

/// Runs ps and top side by side. `stop` is polled with them: a stop signal kills both at once.
pub fn run_ps_and_top(
    tools: &Tools,
    stop: Option<&dyn StopRequest>,
) -> Result<Outputs, Interrupted> {
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
fn stop_requested(
    children: &[Child; 2],
    stop: Option<&dyn StopRequest>,
    deadline: Instant,
) -> bool {
    let readable = |fd| PollFd::from_borrowed_fd(fd, PollFlags::IN);
    let mut fds: Vec<PollFd> = children
        .iter()
        .flat_map(Child::pipes_to_watch)
        .map(|pipe| readable(pipe.as_fd()))
        .collect();
    // A pidfd wakes us when its program exits, so nothing needs checking on a timer. Only while
    // the exit is news: afterwards it would stay readable and spin the loop.
    fds.extend(
        children
            .iter()
            .filter(|c| c.result.is_none() && c.exited.is_none())
            .filter_map(|c| c.pidfd.as_ref())
            .map(|pidfd| readable(pidfd.as_fd())),
    );
    let stop_index = stop.map(|stop| {
        fds.push(readable(stop.as_fd()));
        fds.len() - 1
    });
    let timeout = children
        .iter()
        .filter_map(Child::next_check)
        .chain(stop.and_then(StopRequest::keep_alive))
        .fold(
            deadline.saturating_duration_since(Instant::now()),
            Duration::min,
        );
    // At least a millisecond, so a check due now does not spin.
    let timeout = Timespec::try_from(timeout.max(Duration::from_millis(1))).ok();
    // An error (EINTR) is a wake-up like any other: the loop looks at everything again.
    let ready = rustix::event::poll(&mut fds, timeout.as_ref()).unwrap_or(0);
    let stop_ready = ready > 0
        && stop_index
            .and_then(|i| fds.get(i))
            .is_some_and(|fd| !fd.revents().is_empty());
    stop_ready && stop.is_some_and(|stop| stop.take_stop())
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Starts `sh -c script`, waits until its stdout pipe holds `bytes`, then reads what it has.
    fn started_and_read(script: &str, bytes: u64) -> Child {
        let mut child = Child::start(
            "p",
            &"/bin/sh".into(),
            &["-c", script],
            Keep::All(Vec::new()),
        );
        let pipe = child.stdout.as_ref().unwrap();
        let until = Instant::now() + Duration::from_secs(30);
        while rustix::io::ioctl_fionread(pipe).unwrap() < bytes {
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
        let trickle = started_and_read("printf abc; exec sleep 5", 3);
        assert!(trickle.pidfd.is_some(), "this kernel has pidfds");
        assert_eq!(trickle.printed, 3);
        assert_eq!(trickle.pipes_to_watch().count(), 0, "paused");
        let next = trickle.next_check().unwrap();
        assert!(
            next > Duration::ZERO && next <= program::READ_PAUSE,
            "{next:?}"
        );

        // A full pipe: the program is waiting for us.
        let stream = started_and_read("head -c 1000000 /dev/zero; exec sleep 5", 65536);
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
}
