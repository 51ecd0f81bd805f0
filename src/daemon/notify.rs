//! Telling systemd how the daemon is (sd_notify(3)): ready after its first sample, what it is
//! doing (STATUS), alive (the watchdog, at half of WatchdogSec=), stopping. A daemon that stops
//! saying it is alive is killed and restarted by systemd. Outside systemd (no NOTIFY_SOCKET)
//! nothing is sent and nothing is said.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

use crate::say;

/// Without a watchdog, how often the status's RAM figure is brought up to date.
const STATUS_EVERY: Duration = Duration::from_secs(30);

pub struct Systemd {
    on: bool,
    /// How often to say we are alive: half of WatchdogSec=, or [`STATUS_EVERY`] without one.
    alive_every: Duration,
    watchdog: bool,
    last_alive: Cell<Instant>,
    /// The last STATUS= sent, and the one to send with the next ping.
    sent: RefCell<String>,
    status: RefCell<String>,
    /// A send failed and that was said.
    failed: Cell<bool>,
}

impl Systemd {
    pub fn from_env() -> Systemd {
        let watchdog = sd_notify::watchdog_enabled();
        Systemd {
            on: std::env::var_os("NOTIFY_SOCKET").is_some(),
            alive_every: watchdog.map_or(STATUS_EVERY, |timeout| timeout / 2),
            watchdog: watchdog.is_some(),
            last_alive: Cell::new(Instant::now()),
            sent: RefCell::new(String::new()),
            status: RefCell::new(String::new()),
            failed: Cell::new(false),
        }
    }

    /// After the first sample: the daemon is up.
    pub fn ready(&self, status: String) {
        self.send(&[NotifyState::Ready, NotifyState::Status(&status)]);
        *self.sent.borrow_mut() = status.clone();
        *self.status.borrow_mut() = status;
        self.last_alive.set(Instant::now());
    }

    /// What the daemon is doing now. A new state (an incident, a recovery) is sent at once;
    /// a new RAM figure waits for the next ping.
    pub fn status(&self, status: String, now: bool) {
        if !self.on || *self.status.borrow() == status {
            return;
        }
        *self.status.borrow_mut() = status;
        if now {
            self.alive_now();
        }
    }

    /// Pings the watchdog if half its time has passed, with the status of now.
    pub fn keep_alive(&self) {
        if self.on && self.last_alive.get().elapsed() >= self.alive_every {
            self.alive_now();
        }
    }

    /// How soon [`Systemd::keep_alive`] must be called again; `None` outside systemd.
    pub fn alive_within(&self) -> Option<Duration> {
        self.on.then(|| {
            self.alive_every
                .saturating_sub(self.last_alive.get().elapsed())
        })
    }

    fn alive_now(&self) {
        let status = self.status.borrow().clone();
        let changed = *self.sent.borrow() != status;
        match (self.watchdog, changed) {
            (true, true) => self.send(&[NotifyState::Watchdog, NotifyState::Status(&status)]),
            (true, false) => self.send(&[NotifyState::Watchdog]),
            (false, true) => self.send(&[NotifyState::Status(&status)]),
            (false, false) => {}
        }
        *self.sent.borrow_mut() = status;
        self.last_alive.set(Instant::now());
    }

    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }

    fn send(&self, states: &[NotifyState]) {
        if !self.on {
            return;
        }
        match sd_notify::notify(states) {
            Ok(()) => self.failed.set(false),
            Err(e) if !self.failed.replace(true) => say!(
                Warning,
                "memory-monitor: cannot tell systemd how it is ({e}); with WatchdogSec= set, systemd may restart it"
            ),
            Err(_) => {}
        }
    }
}
