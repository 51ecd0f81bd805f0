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
    /// What the status says: the last sample's used%, and the incident reported now with
    /// when it began (HH:MM:SS). Kept as data, so that a tick allocates nothing.
    used_percent: Cell<f64>,
    incident: RefCell<Option<(u32, String)>>,
    /// The last STATUS= sent.
    sent: RefCell<String>,
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
            used_percent: Cell::new(0.0),
            incident: RefCell::new(None),
            sent: RefCell::new(String::new()),
            failed: Cell::new(false),
        }
    }

    /// After the first sample: the daemon is up.
    pub fn ready(&self, used_percent: f64) {
        if !self.on {
            return;
        }
        self.used_percent.set(used_percent);
        let status = self.status_text();
        self.send(&[NotifyState::Ready, NotifyState::Status(&status)]);
        *self.sent.borrow_mut() = status;
        self.last_alive.set(Instant::now());
    }

    /// The used% of a sample: said with the next ping, or at once with `news` (memory just
    /// went high or low).
    pub fn sampled(&self, used_percent: f64, news: bool) {
        self.used_percent.set(used_percent);
        if self.on && news {
            self.alive_now();
        }
    }

    /// An incident was reported, or ended (`None`): said at once.
    pub fn incident(&self, incident: Option<(u32, String)>) {
        if !self.on || *self.incident.borrow() == incident {
            return;
        }
        *self.incident.borrow_mut() = incident;
        self.alive_now();
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

    /// `RAM 41.2%, no incident`, or `incident 3 since 14:03:15, RAM 91.0%`.
    fn status_text(&self) -> String {
        let used = self.used_percent.get();
        match &*self.incident.borrow() {
            Some((n, since)) => format!("incident {n} since {since}, RAM {used:.1}%"),
            None => format!("RAM {used:.1}%, no incident"),
        }
    }

    fn alive_now(&self) {
        let status = self.status_text();
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
