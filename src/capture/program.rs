//! One program of a capture: started in its own process group with its output on pipes we own,
//! read without blocking, capped, and settled as finished, cut, or timed out.

use std::ffi::OsString;
use std::io::{self, PipeReader, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use rustix::process::{Pid, PidfdFlags, Signal};

use super::top_lines::TopLines;
use super::{Captured, Cut, STDERR_KEPT};
use crate::report::{Ending, ProgramFailure};

/// Without a pidfd (Linux before 5.3), the longest sleep between checks on the children: a
/// child that exits while a grandchild still holds its pipes gives no wake-up of its own.
pub(super) const CHECK_EVERY: Duration = Duration::from_millis(20);

/// Without a pidfd, how soon to look again for the status of a program that closed its pipes.
pub(super) const EXIT_CHECK: Duration = Duration::from_millis(2);

/// After a read of a running program's output, how long before its pipes may wake us again.
/// ps writes 4 KiB at a time, and each wake-up (a context switch and a poll) cost more than
/// the read: at 100 processes a snapshot woke 13 times, with the pause 9. The program's exit
/// (its pidfd) and a stop signal still wake us at once.
pub(super) const READ_PAUSE: Duration = Duration::from_millis(20);

/// A pass that read this much is a program printing fast: no pause, or a pipe of 64 KiB would
/// hold it back. At 10,000 processes ps prints about 35 KiB in a pause.
const STREAMING: usize = 48 * 1024;

/// How long the pipes may stay open after a program exited: longer means a descendant that
/// escaped nothing but holds them, and it is killed with the program's group.
const GRACE_AFTER_EXIT: Duration = Duration::from_millis(200);

/// How long to wait for killed children to be reaped (a process stuck in the kernel, on a dead
/// NFS mount say, cannot die at once; duct reaps it at the next capture).
const REAP_FOR: Duration = Duration::from_millis(500);

pub(super) fn reap_all(children: &mut [Child]) {
    let until = Instant::now() + REAP_FOR;
    for child in children {
        child.reap(until);
    }
}

/// What is held of a program's stdout while it runs.
pub(super) enum Keep {
    All(Vec<u8>),
    /// top prints a row per task in each frame, none of which is read: only its summary is held.
    TopSummary(TopLines),
}

impl Keep {
    fn push(&mut self, data: &[u8]) {
        match self {
            Keep::All(bytes) => bytes.extend_from_slice(data),
            Keep::TopSummary(lines) => lines.push(data),
        }
    }

    /// What was held, with the partial last line dropped when the output was `cut` short.
    fn take(&mut self, cut: bool) -> Vec<u8> {
        match std::mem::replace(self, Keep::All(Vec::new())) {
            Keep::All(mut bytes) => {
                if cut {
                    let whole_lines = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    bytes.truncate(whole_lines);
                }
                bytes
            }
            Keep::TopSummary(lines) if cut => lines.finish_cut(),
            Keep::TopSummary(lines) => lines.finish(),
        }
    }
}

pub(super) struct Child {
    pub(super) name: &'static str,
    pub(super) handle: Option<duct::Handle>,
    pub(super) stdout: Option<PipeReader>,
    pub(super) stderr: Option<PipeReader>,
    /// Readable once the program has exited; `None` where the kernel has no pidfds.
    pub(super) pidfd: Option<OwnedFd>,
    pub(super) out: Keep,
    /// Every byte read from stdout, held or not, as the output limit counts them.
    pub(super) printed: usize,
    pub(super) err: Vec<u8>,
    pub(super) cut: Option<Cut>,
    pub(super) exited: Option<(ExitStatus, Instant)>,
    /// Until when the pipes are left out of the poll (see [`READ_PAUSE`]).
    pub(super) paused_until: Option<Instant>,
    pub(super) result: Option<Result<Captured, ProgramFailure>>,
}

impl Child {
    pub(super) fn start(
        name: &'static str,
        program: &OsString,
        args: &[&str],
        keep: Keep,
    ) -> Child {
        let mut child = Child {
            name,
            handle: None,
            stdout: None,
            stderr: None,
            pidfd: None,
            out: keep,
            printed: 0,
            err: Vec::new(),
            cut: None,
            exited: None,
            paused_until: None,
            result: None,
        };
        match spawn(program, args) {
            Ok((handle, stdout, stderr)) => {
                child.pidfd = handle.pids().first().and_then(|&pid| pidfd_open(pid));
                child.handle = Some(handle);
                child.stdout = Some(stdout);
                child.stderr = Some(stderr);
            }
            Err(e) => {
                let path = program.as_encoded_bytes().to_vec();
                child.result = Some(Err(if e.kind() == io::ErrorKind::NotFound {
                    ProgramFailure::NotFound {
                        program: name,
                        path,
                    }
                } else {
                    ProgramFailure::CannotStart {
                        program: name,
                        path,
                        error: e.to_string(),
                    }
                }));
            }
        }
        child
    }

    /// Reads what the pipes hold now, without blocking. Past the limit the output is cut: the
    /// program is killed, its pipes closed, and only whole lines are kept.
    pub(super) fn read_available(&mut self, chunk: &mut [u8], limit: usize) {
        if self.result.is_some() {
            return;
        }
        let printed_before = self.printed;
        while let Some(n) = read_some(&mut self.stdout, chunk) {
            let data = chunk.get(..n).unwrap_or_default();
            let room = limit.saturating_sub(self.printed);
            if data.len() > room {
                self.out.push(data.get(..room).unwrap_or_default());
                self.printed = limit;
                // settle() kills the program, closes its pipes and drops the partial line next.
                self.cut = Some(Cut { limit });
                return;
            }
            self.out.push(data);
            self.printed += data.len();
        }
        let read = self.printed - printed_before;
        let running = self.exited.is_none() && self.pidfd.is_some();
        self.paused_until =
            (running && read > 0 && read < STREAMING).then(|| Instant::now() + READ_PAUSE);
        while let Some(n) = read_some(&mut self.stderr, chunk) {
            let room = STDERR_KEPT.saturating_sub(self.err.len());
            self.err
                .extend_from_slice(chunk.get(..n.min(room)).unwrap_or_default());
        }
    }

    /// The pipes the loop should wake for now: none while paused after a read.
    pub(super) fn pipes_to_watch(&self) -> impl Iterator<Item = &PipeReader> {
        let paused = self
            .paused_until
            .is_some_and(|until| Instant::now() < until);
        [self.stdout.as_ref(), self.stderr.as_ref()]
            .into_iter()
            .flatten()
            .filter(move |_| !paused)
    }

    /// How soon the loop must look at this program again if nothing wakes it first.
    pub(super) fn next_check(&self) -> Option<Duration> {
        if self.result.is_some() {
            return None;
        }
        if let Some(left) = self
            .paused_until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())
        {
            return Some(left);
        }
        let pipes_open = self.stdout.is_some() || self.stderr.is_some();
        match self.exited {
            Some((_, at)) => Some(GRACE_AFTER_EXIT.saturating_sub(at.elapsed())),
            None if self.pidfd.is_some() => None,
            // A program whose pipes closed is exiting: look again for its status soon.
            None if !pipes_open => Some(EXIT_CHECK),
            None => Some(CHECK_EVERY),
        }
    }

    /// Decides whether the program is done: finished and its pipes drained, cut, or out of time.
    pub(super) fn settle(&mut self, deadline: Instant, limit: Duration) {
        if self.result.is_some() {
            return;
        }
        if let Some(cut) = self.cut {
            self.signal_group();
            self.reap(Instant::now() + REAP_FOR);
            self.result = Some(Ok(Captured {
                bytes: self.out.take(true),
                cut: Some(cut),
            }));
            return;
        }
        if self.exited.is_none() {
            match self.handle.as_ref().map(duct::Handle::try_wait) {
                Some(Ok(Some(output))) => {
                    self.exited = Some((output.status, Instant::now()));
                    self.pidfd = None;
                    // What is left in the pipes is read as it comes, to see their end soon.
                    self.paused_until = None;
                }
                Some(Ok(None)) | None => {}
                Some(Err(e)) => {
                    self.result = Some(Err(ProgramFailure::CannotWait {
                        program: self.name,
                        error: e.to_string(),
                    }));
                    return;
                }
            }
        }
        let pipes_open = self.stdout.is_some() || self.stderr.is_some();
        match self.exited {
            Some((status, at)) => {
                if pipes_open && at.elapsed() < GRACE_AFTER_EXIT {
                    return;
                }
                if pipes_open {
                    // A descendant holds the pipes; it belongs to the program's group, which
                    // lives on with it, so its id is still ours to signal.
                    self.signal_group();
                }
                // Reaped already: from now on its group id may belong to a stranger.
                self.handle = None;
                self.result = Some(self.finished(status));
            }
            None if Instant::now() >= deadline => {
                self.signal_group();
                self.reap(Instant::now() + REAP_FOR);
                self.result = Some(Err(ProgramFailure::TimedOut {
                    program: self.name,
                    after: limit,
                }));
            }
            None => {}
        }
    }

    fn finished(&mut self, status: ExitStatus) -> Result<Captured, ProgramFailure> {
        if status.success() {
            return Ok(Captured::whole(self.out.take(false)));
        }
        let how = match (status.code(), status.signal()) {
            (Some(code), _) => Ending::Status(code),
            (None, Some(signal)) => Ending::Signal(signal),
            (None, None) => Ending::Other(status.to_string()),
        };
        let first_error_line = self
            .err
            .split(|&b| b == b'\n')
            .find(|line| !line.is_empty())
            .unwrap_or_default();
        Err(ProgramFailure::Failed {
            program: self.name,
            how,
            stderr: first_error_line.to_vec(),
        })
    }

    /// SIGKILL to the program's whole process group, and its pipes closed. Only while the handle
    /// is kept: until the program is reaped (or while a member of its group lives) the group's id
    /// cannot be reused, so this never hits a stranger.
    pub(super) fn signal_group(&mut self) {
        if let Some(handle) = &self.handle {
            for pgid in handle.pids().into_iter().filter_map(pid) {
                // Nothing to do if it fails: the group is gone already.
                let _ = rustix::process::kill_process_group(pgid, Signal::KILL);
            }
        }
        self.stdout = None;
        self.stderr = None;
    }

    /// Waits briefly for a killed program to be reaped, so no zombie is left behind.
    fn reap(&mut self, until: Instant) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        while matches!(handle.try_wait(), Ok(None)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub(super) fn into_result(self) -> Result<Captured, ProgramFailure> {
        self.result
            .unwrap_or(Err(ProgramFailure::NoResult { program: self.name }))
    }
}

fn spawn(program: &OsString, args: &[&str]) -> io::Result<(duct::Handle, PipeReader, PipeReader)> {
    let (stdout, stdout_writer) = io::pipe()?;
    let (stderr, stderr_writer) = io::pipe()?;
    for reader in [&stdout, &stderr] {
        rustix::io::ioctl_fionbio(reader, true)?;
    }
    let program = resolve(program)?;
    // The expression owns our copies of the write ends; dropping it when this function returns
    // closes them, so the pipes end when the program (and its descendants) close theirs.
    let handle = duct::cmd(program, args)
        .full_env(super::program_env())
        .stdin_null()
        .stdout_file(stdout_writer)
        .stderr_file(stderr_writer)
        .unchecked()
        .before_spawn(|command| {
            command.process_group(0);
            Ok(())
        })
        .start()?;
    Ok((handle, stdout, stderr))
}

/// The file to execute, or the error execve would give, found before spawning. Not only to say
/// "not found" early: where posix_spawn cannot report a failed exec (under qemu-user, which
/// emulates its vfork with fork), the child would only exit with status 127.
///
/// By its path: duct gives the program an environment of its own, and std spawns a name to look
/// up in that environment's PATH by fork and exec, copying our page tables, where a path goes
/// through posix_spawn (vfork).
fn resolve(program: &OsString) -> io::Result<OsString> {
    if !program.as_encoded_bytes().contains(&b'/') {
        return super::find_in_path(program)
            .map(PathBuf::into_os_string)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound));
    }
    let metadata = std::fs::metadata(program)?;
    if metadata.is_file() && metadata.permissions().mode() & 0o111 != 0 {
        Ok(program.clone())
    } else {
        Err(io::Error::from(rustix::io::Errno::ACCESS))
    }
}

/// A descriptor that becomes readable when `pid`, our unreaped child, exits (Linux 5.3).
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    rustix::process::pidfd_open(self::pid(pid)?, PidfdFlags::empty()).ok()
}

/// A pid as the kernel takes it; `None` for 0 or one past its range.
fn pid(pid: u32) -> Option<Pid> {
    Pid::from_raw(i32::try_from(pid).ok()?)
}

/// One non-blocking read: `Some(n)` with data, `None` when there is nothing now. End of file and
/// errors close the pipe.
fn read_some(pipe: &mut Option<PipeReader>, chunk: &mut [u8]) -> Option<usize> {
    let reader = pipe.as_mut()?;
    loop {
        match reader.read(chunk) {
            Ok(0) => {
                *pipe = None;
                return None;
            }
            Ok(n) => return Some(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
            Err(_) => {
                *pipe = None;
                return None;
            }
        }
    }
}
