//! Stop and hang-up signals, received synchronously: they are blocked, the idle sleep is a
//! `sigtimedwait`, and a capture polls a signalfd beside the pipes of ps and top. So a signal
//! wakes the daemon at once, needs no handler, and can never land in the middle of writing a
//! report.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// SIGTERM or SIGINT: finish without writing anything half done.
    Stop,
    /// SIGHUP: reopen the log files.
    Hangup,
}

pub struct Signals {
    set: libc::sigset_t,
    /// Readable while one of the blocked signals is pending; a capture polls it.
    fd: OwnedFd,
    /// A SIGHUP that arrived while the caller was busy (in a capture), not yet acted on.
    hangup_seen: Cell<bool>,
}

impl Signals {
    /// Blocks SIGTERM, SIGINT and SIGHUP for this thread and the threads it starts later; call it
    /// before any thread exists. Children get an empty mask from std's spawn.
    pub fn block() -> io::Result<Signals> {
        // A log on a filesystem with a file-size limit (LimitFSIZE=, ulimit -f) would otherwise
        // kill the daemon with SIGXFSZ; ignored, the write fails with EFBIG and is reported.
        // SAFETY: setting a signal's disposition to SIG_IGN has no memory-safety preconditions.
        unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
        // SAFETY: the set is initialised by sigemptyset before use; the calls only read/write it.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
                libc::sigaddset(&mut set, signal);
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            set
        };
        // SAFETY: `set` is a valid signal set; -1 asks for a new descriptor.
        let raw = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: signalfd returned a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Signals {
            set,
            fd,
            hangup_seen: Cell::new(false),
        })
    }

    /// Sleeps up to `timeout`, returning early with the first signal that arrives.
    pub fn wait(&self, timeout: Duration) -> Option<Received> {
        if self.hangup_seen.take() {
            return Some(Received::Hangup);
        }
        let deadline = Instant::now() + timeout.min(Duration::from_secs(3600));
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Zeroed first: on some 32-bit targets timespec has padding fields.
            // SAFETY: timespec is plain integers, for which all-zero is valid.
            let mut spec: libc::timespec = unsafe { std::mem::zeroed() };
            // At most an hour, so it fits whatever integer tv_sec is (32 bits on armhf, and
            // musl's libc::time_t alias is deprecated); c_long is 32 bits on armhf too, where
            // these conversions are not no-ops.
            #[allow(clippy::unnecessary_fallible_conversions, clippy::useless_conversion)]
            {
                spec.tv_sec = left.as_secs().min(3600).try_into().unwrap_or_default();
                spec.tv_nsec = left.subsec_nanos().try_into().unwrap_or_default();
            }
            // SAFETY: `set` is a valid signal set; a null siginfo pointer is allowed.
            let signal = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &spec) };
            match received(signal) {
                Some(r) => return Some(r),
                // EAGAIN: the time is up. EINTR (a stop/continue, a debugger): sleep what is left.
                None if left.is_zero()
                    || io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) =>
                {
                    return None;
                }
                None => {}
            }
        }
    }

    /// The descriptor to poll for readability beside other work.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Takes the pending signals after a poll said the descriptor is readable. A stop wins; a
    /// hang-up is remembered for the next [`Signals::wait`], since a capture cannot act on it.
    pub fn take_stop(&self) -> bool {
        let mut stop = false;
        loop {
            // SAFETY: signalfd_siginfo is plain integers, for which all-zero is valid.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reads at most `size` bytes into `info`, which is that large.
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&raw mut info).cast::<libc::c_void>(),
                    size,
                )
            };
            if usize::try_from(n).ok() != Some(size) {
                return stop;
            }
            match received(i32::try_from(info.ssi_signo).unwrap_or(0)) {
                Some(Received::Stop) => stop = true,
                Some(Received::Hangup) => self.hangup_seen.set(true),
                None => {}
            }
        }
    }
}

fn received(signal: i32) -> Option<Received> {
    match signal {
        libc::SIGTERM | libc::SIGINT => Some(Received::Stop),
        libc::SIGHUP => Some(Received::Hangup),
        _ => None,
    }
}
