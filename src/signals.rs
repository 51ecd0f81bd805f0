//! Stop and hang-up signals, received synchronously: they are blocked and the loop's sleep is a
//! `sigtimedwait`, so a signal wakes the loop at once, needs no handler, and can never land in
//! the middle of writing a report.

use std::io;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// SIGTERM or SIGINT: finish without writing anything half done.
    Stop,
    /// SIGHUP, as sent after log rotation. Log files are reopened for every report anyway.
    Hangup,
}

pub struct Signals {
    set: libc::sigset_t,
}

impl Signals {
    /// Blocks SIGTERM, SIGINT and SIGHUP for this thread and the threads it starts later; call it
    /// before any thread exists. Children get an empty mask from std's spawn.
    pub fn block() -> io::Result<Signals> {
        // SAFETY: the set is initialised by sigemptyset before use; the calls only read/write it.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
                libc::sigaddset(&mut set, signal);
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            Ok(Signals { set })
        }
    }

    /// Sleeps up to `timeout`, returning early with the first signal that arrives.
    pub fn wait(&self, timeout: Duration) -> Option<Received> {
        let deadline = Instant::now() + timeout.min(Duration::from_secs(3600));
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Zeroed first: on some 32-bit targets timespec has padding fields.
            // SAFETY: timespec is plain integers, for which all-zero is valid.
            let mut spec: libc::timespec = unsafe { std::mem::zeroed() };
            spec.tv_sec = libc::time_t::try_from(left.as_secs()).unwrap_or(libc::time_t::MAX);
            // c_long is 32 bits on armhf (Raspberry Pi OS), where this conversion is not a no-op.
            #[allow(clippy::unnecessary_fallible_conversions)]
            {
                spec.tv_nsec = libc::c_long::try_from(left.subsec_nanos()).unwrap_or(0);
            }
            // SAFETY: `set` is a valid signal set; a null siginfo pointer is allowed.
            let signal = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &spec) };
            match signal {
                libc::SIGTERM | libc::SIGINT => return Some(Received::Stop),
                libc::SIGHUP => return Some(Received::Hangup),
                // EAGAIN: the time is up. EINTR (a stop/continue, a debugger): sleep what is left.
                _ if left.is_zero()
                    || io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) =>
                {
                    return None;
                }
                _ => {}
            }
        }
    }
}
