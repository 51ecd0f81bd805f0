//! The hook (`--on-event PROGRAM`): a program of the user's, run for every entry of
//! incidents.log, to tell someone: a phone, a mailbox, a chat. SPEC.md, "The hook".
//!
//! The daemon only queues the entry ([`queue`]); a thread of the hook's own runs it ([`run`]),
//! so a hook never delays a sample or a report.

mod env;
mod queue;
mod run;

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use super::{Delivery, Output};
use crate::render::facts::{Facts, entry_text};
use crate::report::Entry;
use crate::text::escape::escape_path;
use queue::Job;
use run::{Runner, Shared};

/// The hook's thread does little (a poll, a few lines of text); a small stack is plenty.
const THREAD_STACK: usize = 128 * 1024;

/// As execvp searches when PATH is unset, for the hook's own use.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub struct Hook {
    program: PathBuf,
    host: String,
    shared: Arc<Shared>,
}

impl Hook {
    /// Checks `program` and starts the hook's thread. Errors say what to do, for the line that
    /// stops the daemon at start.
    pub fn start(program: &Path, timeout: Duration) -> Result<Hook, String> {
        let program = checked(program)?;
        let prefix = format!(
            "memory-monitor: hook {}: ",
            escape_path(Path::new(
                program.file_name().unwrap_or(program.as_os_str())
            ))
        );
        let mut base_env: Vec<(&'static str, OsString)> = vec![(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into()),
        )];
        for name in ["LANG", "TZ"] {
            if let Some(value) = std::env::var_os(name) {
                base_env.push((name, value));
            }
        }
        let runner = Runner {
            program: program.clone(),
            prefix,
            timeout,
            base_env,
        };
        let shared = Arc::new(Shared::default());
        let (started, result) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("hook".into())
            .stack_size(THREAD_STACK)
            .spawn(move || {
                run::worker(&runner, &thread_shared, |dropped| {
                    let _ = started.send(dropped);
                });
            })
            .map_err(|e| format!("--on-event: cannot start the hook's thread: {e}"))?;
        match result.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(format!(
                    "--on-event: cannot give up capabilities before running a hook: {e}; run it with NoNewPrivileges=yes, or allow capset"
                ));
            }
            Err(_) => return Err("--on-event: the hook's thread ended at start".into()),
        }
        Ok(Hook {
            program,
            host: host_name(),
            shared,
        })
    }
}

/// The program, as an absolute path, if it is an executable file; else what to do.
fn checked(program: &Path) -> Result<PathBuf, String> {
    let shown = escape_path(program);
    if !program.as_os_str().as_encoded_bytes().contains(&b'/') {
        return Err(format!(
            "--on-event {shown}: give the program's path (it is run without a shell), such as /usr/share/memory-monitor/hooks/ntfy"
        ));
    }
    let metadata = std::fs::metadata(program).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "--on-event {shown}: no such file; give the path of the program to run on each entry (the hooks shipped are in /usr/share/memory-monitor/hooks/)"
        ),
        _ => format!("--on-event {shown}: {e}"),
    })?;
    if !metadata.is_file() {
        return Err(format!("--on-event {shown}: not a file"));
    }
    let executable = metadata.permissions().mode() & 0o111 != 0
        && rustix::fs::access(program, rustix::fs::Access::EXEC_OK).is_ok();
    if !executable {
        return Err(format!(
            "--on-event {shown}: not executable by this user (chmod 755 {shown})"
        ));
    }
    // File capabilities would give back to the hook what its thread gave up.
    if rustix::fs::getxattr(program, "security.capability", &mut [0u8; 64]).is_ok() {
        return Err(format!(
            "--on-event {shown}: it has file capabilities, which a hook must not have (setcap -r {shown})"
        ));
    }
    std::path::absolute(program).map_err(|e| format!("--on-event {shown}: {e}"))
}

fn host_name() -> String {
    let uname = rustix::system::uname();
    String::from_utf8_lossy(uname.nodename().to_bytes()).into_owned()
}

impl Output for Hook {
    fn name(&self) -> String {
        format!("hook {}", escape_path(&self.program))
    }

    /// Queues the entry for the hook's thread; never waits for a run.
    fn write(&mut self, entry: &Entry) -> Delivery {
        let facts = Facts::of(entry);
        let job = Job {
            text: entry_text(entry),
            env: env::variables(&facts, &self.host),
            what: env::describe(&facts),
        };
        self.shared.lock().queue.push(job);
        self.shared.wake.notify_one();
        Delivery::Nothing
    }

    fn waiting(&self) -> usize {
        self.shared.lock().queue.len()
    }
}

impl Drop for Hook {
    /// At exit: no more runs, and the one under way is killed with its group rather than
    /// left to run on after the daemon.
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.stopping = true;
        if let Some(group) = state.running {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        drop(state);
        self.shared.wake.notify_all();
    }
}
