//! Stop and hang-up signals, received synchronously: they are blocked, and a signalfd becomes
//! readable when one is pending. The idle sleep polls it, and so does a capture, beside the pipes
//! of ps and top. So a signal wakes the daemon at once, needs no handler, and can never land in
//! the middle of writing a report.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rustix::event::{PollFd, PollFlags, Timespec};

use crate::capture::StopRequest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// SIGTERM or SIGINT: finish without writing anything half done.
    Stop,
    /// SIGHUP: reopen the log files.
    Hangup,
}

pub struct Signals {
    fd: SignalFd,
    /// A SIGHUP that arrived while the caller was busy (in a capture), not yet acted on.
    hangup_seen: Cell<bool>,
}

impl Signals {
    /// Blocks SIGTERM, SIGINT and SIGHUP for this thread and the threads it starts later; call it
    /// before any thread exists. Children get an empty mask from std's spawn.
    ///
    /// SIGXFSZ is blocked too: a log on a filesystem with a file-size limit (LimitFSIZE=,
    /// ulimit -f) would otherwise kill the daemon. Blocked, the write fails with EFBIG, which is
    /// reported, and the signal is read and dropped here.
    pub fn block() -> io::Result<Signals> {
        let mut set = SigSet::empty();
        for signal in [
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
            Signal::SIGXFSZ,
        ] {
            set.add(signal);
        }
        set.thread_block()?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals {
            fd,
            hangup_seen: Cell::new(false),
        })
    }

    /// Sleeps up to `timeout`, returning early with the first signal that arrives.
    pub fn wait(&self, timeout: Duration) -> Option<Received> {
        if self.hangup_seen.take() {
            return Some(Received::Hangup);
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(received) = self.next() {
                return Some(received);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            // At most an hour at a time, which any timespec holds.
            let timeout = Timespec::try_from(left.min(Duration::from_secs(3600))).ok();
            // Time out, a signal, or EINTR (a stop and continue, a debugger): look again.
            let _ = rustix::event::poll(&mut fds, timeout.as_ref());
        }
    }

    /// The next pending signal that means something, without waiting.
    fn next(&self) -> Option<Received> {
        loop {
            let info = self.fd.read_signal().ok()??;
            let signal = i32::try_from(info.ssi_signo).ok()?;
            match Signal::try_from(signal) {
                Ok(Signal::SIGTERM | Signal::SIGINT) => return Some(Received::Stop),
                Ok(Signal::SIGHUP) => return Some(Received::Hangup),
                // SIGXFSZ: the write that caused it has failed and says so.
                _ => {}
            }
        }
    }
}

impl StopRequest for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Takes the pending signals. A stop wins; a hang-up is remembered for the next
    /// [`Signals::wait`], since a capture cannot act on it.
    fn take_stop(&self) -> bool {
        let mut stop = false;
        while let Some(received) = self.next() {
            match received {
                Received::Stop => stop = true,
                Received::Hangup => self.hangup_seen.set(true),
            }
        }
        stop
    }
}
