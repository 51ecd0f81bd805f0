//! Running the hook: one run at a time, on a thread of its own, so that a slow or hung hook
//! never delays a sample or a report. Each run gets the entry on stdin (a sealed-off file in
//! memory, so a hook that never reads it cannot block anyone), a clean environment, its own
//! process group, and no capabilities; its output is shown, capped, on our stderr.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, PipeReader, Read, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::MemfdFlags;
use rustix::process::{Pid, PidfdFlags, Signal, WaitId, WaitIdOptions};
use rustix::thread::CapabilitySet;

use super::env::dropped_note;
use super::queue::{Job, Queue};
use crate::say;
use crate::text::duration::format_setting;
use crate::text::escape::escape;

/// How much of one run's output is shown; the rest is read and counted, so that a hook that
/// prints without end still runs to its end.
pub const SHOWN_AT_MOST: usize = 4096;

/// After the hook exits, how long its output may stay open: held longer, by a process it
/// started and that left its group, and the run is over without it.
const GRACE_AFTER_EXIT: Duration = Duration::from_millis(200);

/// Without a pidfd (Linux before 5.3), how often to look whether the hook has exited.
const CHECK_EVERY: Duration = Duration::from_millis(20);

/// What the daemon and the hook's thread share.
#[derive(Default)]
pub struct Shared {
    pub state: Mutex<State>,
    pub wake: Condvar,
}

#[derive(Default)]
pub struct State {
    pub queue: Queue,
    /// The process group of the run under way, while its leader is not yet reaped, so that the
    /// id cannot belong to a stranger.
    pub running: Option<Pid>,
    /// The daemon is stopping: no more runs.
    pub stopping: bool,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the queue half changed: every change is one call.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How the hook is run.
pub struct Runner {
    pub program: PathBuf,
    /// How its lines on our stderr are prefixed: `memory-monitor: hook ntfy: `.
    pub prefix: String,
    pub timeout: Duration,
    /// PATH, LANG and TZ, as the daemon has them.
    pub base_env: Vec<(&'static str, OsString)>,
}

/// The hook's thread: without capabilities first (they are per thread, and a process started
/// from here gets this thread's), then one run after another until the daemon stops.
pub fn worker(runner: &Runner, shared: &Shared, started: impl FnOnce(io::Result<()>)) {
    let dropped = without_capabilities();
    let failed = dropped.is_err();
    started(dropped);
    if failed {
        return;
    }
    loop {
        let (job, dropped) = {
            let mut state = shared.lock();
            loop {
                if state.stopping {
                    return;
                }
                if let Some(next) = state.queue.take() {
                    break next;
                }
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        runner.run(&job, dropped, shared);
    }
}

/// Clears this thread's ambient, inheritable, permitted and effective capabilities. ps and top
/// need the service's CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to see every process, and get
/// them as ambient capabilities; a hook is a script that talks to the network, and must not
/// read every file on the machine.
///
/// The ambient set is cleared with prctl, which is enough for a hook to start with none: a
/// program without file capabilities, run by a user other than root, then gets no permitted or
/// effective capability. The other sets need capset, which a seccomp filter may refuse (the
/// service's does: capset is in systemd's @privileged group). Refused while no_new_privs holds
/// (the service's NoNewPrivileges=yes), what is left in the inheritable set is of no use: the
/// hook starts with no permitted capability, and no program it runs can gain one.
fn without_capabilities() -> io::Result<()> {
    match rustix::thread::clear_ambient_capability_set() {
        // Before Linux 4.3 there is no ambient set, so nothing to clear.
        Ok(()) | Err(rustix::io::Errno::INVAL) => {}
        Err(e) => return Err(e.into()),
    }
    let mut sets = rustix::thread::capabilities(None)?;
    let none = CapabilitySet::empty();
    if sets.effective == none && sets.permitted == none && sets.inheritable == none {
        return Ok(());
    }
    sets.effective = none;
    sets.permitted = none;
    sets.inheritable = none;
    match rustix::thread::set_capabilities(None, sets) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::PERM) if rustix::thread::no_new_privs().unwrap_or(false) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// How a run ended.
enum Ended {
    Exited(ExitStatus),
    TimedOut,
}

impl Runner {
    fn run(&self, job: &Job, dropped: u64, shared: &Shared) {
        let what = &job.what;
        let (child, output) = match self.start(job, dropped) {
            Ok(started) => started,
            Err(e) => {
                say!(
                    Warning,
                    "{}not run for {what}: cannot start it: {e}",
                    self.prefix
                );
                return;
            }
        };
        let ended = self.follow(child, output, shared);
        match ended {
            Ok(Ended::Exited(status)) if status.success() => {}
            Ok(Ended::Exited(status)) => say!(
                Warning,
                "{}failed on {what}: {}",
                self.prefix,
                describe_status(status)
            ),
            Ok(Ended::TimedOut) => say!(
                Warning,
                "{}failed on {what}: still running after {} (--hook-timeout), so killed with every process of its group",
                self.prefix,
                format_setting(self.timeout)
            ),
            Err(e) => say!(Warning, "{}failed on {what}: {e}", self.prefix),
        }
    }

    fn start(&self, job: &Job, dropped: u64) -> io::Result<(Child, PipeReader)> {
        let mut text = job.text.clone();
        if dropped > 0 {
            text.push_str(&dropped_note(dropped));
        }
        let stdin = entry_file(&text)?;
        let (output, writer) = io::pipe()?;
        rustix::io::ioctl_fionbio(&output, true)?;
        let mut command = Command::new(&self.program);
        command
            .env_clear()
            .envs(self.base_env.iter().map(|(k, v)| (k, v)))
            .envs(job.env.iter().map(|(k, v)| (k, v)))
            .current_dir("/")
            .process_group(0)
            .stdin(Stdio::from(stdin))
            .stderr(writer.try_clone()?)
            .stdout(writer);
        if dropped > 0 {
            command.env("MEMORY_MONITOR_DROPPED", dropped.to_string());
        }
        let child = command.spawn()?;
        // Our copies of the write end close here, so the pipe ends when the hook's do.
        drop(command);
        Ok((child, output))
    }

    /// Shows the hook's output until it exits (and its output ends) or its time is up; kills
    /// what it left in its group, then reaps it.
    fn follow(&self, mut child: Child, output: PipeReader, shared: &Shared) -> io::Result<Ended> {
        let pid = Pid::from_child(&child);
        shared.lock().running = Some(pid);
        let pidfd = rustix::process::pidfd_open(pid, PidfdFlags::empty()).ok();
        let deadline = Instant::now() + self.timeout;
        let mut shown = Shown::new(&self.prefix);
        let mut output = Some(output);
        let mut chunk = vec![0u8; 16 * 1024];
        let mut exited_at: Option<Instant> = None;
        let ended = loop {
            drain(&mut output, &mut chunk, &mut shown);
            if exited_at.is_none() && has_exited(pid) {
                exited_at = Some(Instant::now());
                // What it started in its group dies with it. Not yet reaped, so the group's id
                // is still its own.
                let _ = rustix::process::kill_process_group(pid, Signal::KILL);
            }
            let now = Instant::now();
            if let Some(at) = exited_at {
                if output.is_none() || now >= at + GRACE_AFTER_EXIT {
                    break None;
                }
            } else if now >= deadline {
                let _ = rustix::process::kill_process_group(pid, Signal::KILL);
                break Some(Ended::TimedOut);
            }
            let wait_until = match exited_at {
                Some(at) => at + GRACE_AFTER_EXIT,
                None if pidfd.is_some() => deadline,
                None => deadline.min(now + CHECK_EVERY),
            };
            wait_for(
                output.as_ref(),
                pidfd.as_ref().filter(|_| exited_at.is_none()),
                wait_until,
            );
        };
        shared.lock().running = None;
        let status = child.wait()?;
        drain(&mut output, &mut chunk, &mut shown);
        shown.finish();
        Ok(ended.unwrap_or(Ended::Exited(status)))
    }
}

/// The entry in a file in memory, read from its start: the hook reads it at its own pace, and
/// one that never does cannot block us, as a full pipe would.
fn entry_file(text: &str) -> io::Result<File> {
    let fd: OwnedFd = rustix::fs::memfd_create("memory-monitor-entry", MemfdFlags::CLOEXEC)?;
    let mut file = File::from(fd);
    file.write_all(text.as_bytes())?;
    file.rewind()?;
    Ok(file)
}

/// Whether the hook has exited, without reaping it.
fn has_exited(pid: Pid) -> bool {
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    matches!(
        rustix::process::waitid(WaitId::Pid(pid), options),
        Ok(Some(_))
    )
}

/// Sleeps until the output has something, the hook exits, or `until`.
fn wait_for(output: Option<&PipeReader>, pidfd: Option<&OwnedFd>, until: Instant) {
    let mut fds: Vec<PollFd> = output
        .map(|pipe| pipe.as_fd())
        .into_iter()
        .chain(pidfd.map(|fd| fd.as_fd()))
        .map(|fd| PollFd::from_borrowed_fd(fd, PollFlags::IN))
        .collect();
    let left = until.saturating_duration_since(Instant::now());
    let timeout = Timespec::try_from(left.max(Duration::from_millis(1))).ok();
    // An error (EINTR) is a wake-up like any other.
    let _ = rustix::event::poll(&mut fds, timeout.as_ref());
}

/// Reads what the output holds now; its end, or an error, closes it.
fn drain(output: &mut Option<PipeReader>, chunk: &mut [u8], shown: &mut Shown) {
    while let Some(pipe) = output.as_mut() {
        match pipe.read(chunk) {
            Ok(0) => *output = None,
            Ok(n) => shown.push(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => *output = None,
        }
    }
}

fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// The hook's output on our stderr: each line prefixed and escaped, at most [`SHOWN_AT_MOST`]
/// bytes a run.
struct Shown<'a> {
    prefix: &'a str,
    line: Vec<u8>,
    taken: usize,
    hidden: u64,
}

impl<'a> Shown<'a> {
    fn new(prefix: &'a str) -> Shown<'a> {
        Shown {
            prefix,
            line: Vec::new(),
            taken: 0,
            hidden: 0,
        }
    }

    fn push(&mut self, data: &[u8]) {
        let room = SHOWN_AT_MOST.saturating_sub(self.taken).min(data.len());
        let (kept, rest) = data.split_at(room);
        self.taken += kept.len();
        self.hidden += rest.len() as u64;
        for (i, part) in kept.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                self.flush_line();
            }
            self.line.extend_from_slice(part);
        }
    }

    fn flush_line(&mut self) {
        if !self.line.is_empty() {
            say!(Notice, "{}{}", self.prefix, escape(&self.line));
            self.line.clear();
        }
    }

    fn finish(&mut self) {
        self.flush_line();
        if self.hidden > 0 {
            say!(
                Notice,
                "{}{} more bytes of its output not shown (at most {SHOWN_AT_MOST} are, each run)",
                self.prefix,
                self.hidden
            );
        }
    }
}
