//! Running ps and top for an incident, side by side, through duct: C locale, stdin closed,
//! stderr captured, a time limit, and their own process group so a hung ps (or a script posing
//! as one) is killed whole and cannot hang the daemon.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::escape::escape;

/// The programs to run; paths or names looked up in PATH.
#[derive(Clone, Debug)]
pub struct Tools {
    pub ps_bin: OsString,
    pub top_bin: OsString,
    pub timeout: Duration,
}

/// `ww`: never cut COMMAND, whatever COLUMNS says. `-n 2 -d 0.5`: the first frame's CPU figure
/// covers only top's own start-up (milliseconds: it reads 0% or 100%), the second a real half
/// second.
pub const PS_ARGS: [&str; 2] = ["auxww", "--sort=-%mem"];
pub const TOP_ARGS: [&str; 5] = ["-b", "-n", "2", "-d", "0.5"];

#[derive(Debug)]
pub struct Outputs {
    pub ps: Result<Vec<u8>, String>,
    pub top: Result<Vec<u8>, String>,
    /// The PIDs of the ps and top we ran: they are in the table, as every process is, but
    /// have ended by the time details are read.
    pub own_pids: Vec<u32>,
}

/// A stop was requested while the programs ran; they were killed.
#[derive(Debug, PartialEq, Eq)]
pub struct Interrupted;

/// How long to sleep between checks on the children. `pause` sleeps up to the given time and
/// says whether a stop was requested meanwhile.
const POLL: Duration = Duration::from_millis(10);

pub fn run_ps_and_top(
    tools: &Tools,
    pause: &mut dyn FnMut(Duration) -> bool,
) -> Result<Outputs, Interrupted> {
    let deadline = Instant::now() + tools.timeout;
    let mut ps = Child::start("ps", &tools.ps_bin, &PS_ARGS);
    let mut top = Child::start("top", &tools.top_bin, &TOP_ARGS);
    let own_pids: Vec<u32> = [&ps, &top]
        .iter()
        .filter_map(|c| c.handle.as_ref())
        .flat_map(|h| h.pids())
        .collect();
    loop {
        ps.poll(deadline, tools.timeout);
        top.poll(deadline, tools.timeout);
        if ps.result.is_some() && top.result.is_some() {
            let take = |child: Child| {
                child
                    .result
                    .unwrap_or_else(|| Err(format!("{} gave no result", child.name)))
            };
            return Ok(Outputs {
                ps: take(ps),
                top: take(top),
                own_pids,
            });
        }
        if pause(POLL) {
            ps.kill();
            top.kill();
            return Err(Interrupted);
        }
    }
}

struct Child {
    name: &'static str,
    handle: Option<duct::Handle>,
    result: Option<Result<Vec<u8>, String>>,
}

impl Child {
    fn start(name: &'static str, program: &OsString, args: &[&str]) -> Child {
        let expression = duct::cmd(program, args)
            .env("LC_ALL", "C")
            // A user's toprc could hide the summary or change its units; batch output should be
            // top's defaults (a site-wide /etc/topdefaultrc still applies).
            .env("HOME", "/nonexistent")
            .env_remove("XDG_CONFIG_HOME")
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .before_spawn(|command| {
                command.process_group(0);
                Ok(())
            });
        let (handle, result) = match expression.start() {
            Ok(handle) => (Some(handle), None),
            Err(e) => (
                None,
                Some(Err(format!(
                    "could not run {name} ({}): {e}",
                    escape(program.as_encoded_bytes())
                ))),
            ),
        };
        Child {
            name,
            handle,
            result,
        }
    }

    fn poll(&mut self, deadline: Instant, limit: Duration) {
        if self.result.is_some() {
            return;
        }
        let Some(handle) = &self.handle else { return };
        match handle.try_wait() {
            Ok(Some(output)) if output.status.success() => {
                // Finished: the handle gives its output up without copying it.
                self.result = self
                    .handle
                    .take()
                    .map(|h| h.into_output().map(|o| o.stdout).map_err(|e| e.to_string()));
            }
            Ok(Some(output)) => {
                let stderr = output
                    .stderr
                    .split(|&b| b == b'\n')
                    .find(|l| !l.is_empty())
                    .unwrap_or_default();
                let why = if stderr.is_empty() {
                    String::new()
                } else {
                    format!(": {}", escape(stderr))
                };
                self.result = Some(Err(format!(
                    "{} failed ({}){why}",
                    self.name, output.status
                )));
            }
            Ok(None) if Instant::now() >= deadline => {
                self.kill();
                self.result = Some(Err(format!(
                    "{} did not finish within {} and was killed",
                    self.name,
                    crate::duration::format_duration(limit)
                )));
            }
            Ok(None) => {}
            Err(e) => {
                self.result = Some(Err(format!("{} could not be waited for: {e}", self.name)))
            }
        }
    }

    /// Kills the child's whole process group, then reaps it briefly so no zombie is left.
    fn kill(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        for pid in handle.pids() {
            if let Ok(pgid) = libc::pid_t::try_from(pid) {
                // SAFETY: kill has no memory-safety preconditions; the group is the child's own.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
        }
        let _ = handle.kill();
        let reap_until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < reap_until {
            if !matches!(handle.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(POLL);
        }
    }
}
