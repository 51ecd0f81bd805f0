//! What the daemon remembers across its restarts and reboots, in `<log-dir>/state`: the boot it
//! last ran in, the last OOM kill it recorded (so that a restart never writes a kill twice), the
//! episode open when it last wrote, and whether it was stopped cleanly (so that the next boot can
//! say that the last one ended during an episode). Written only when something to remember
//! happens, never on a timer, and atomically (a new file, synced, then a rename), so a torn
//! write leaves the old state or none.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, SecondsFormat};

use crate::output::append::make_log_dir;
use crate::report::{BootEnding, PreviousBoot};
use crate::text::number::parse_u64;

pub const FILE_NAME: &str = "state";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// `<proc-root>/sys/kernel/random/boot_id` when it was written: the kernel's boot, which
    /// the kills belong to.
    pub boot_id: Option<String>,
    /// When PID 1 started, in clock ticks after the kernel's boot: with `boot_id`, the boot of
    /// the system, which a container's restart renews without a new kernel.
    pub init_start: Option<u64>,
    /// The kernel's sequence number of the last kill recorded from its log.
    pub last_kill_seq: Option<u64>,
    /// The kernel's count of OOM kills (`/proc/vmstat`) that the kills recorded add up to.
    pub oom_kills_counted: Option<u64>,
    /// The episode reported and not yet recovered.
    pub episode: Option<OpenEpisode>,
    /// Used% in the last report or recovered line written.
    pub last_used_percent: Option<f64>,
    /// The daemon was stopped by a signal after it last wrote.
    pub stopped_cleanly: bool,
}

/// What the state remembers of the kills written, for [`super::KillWatch`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KillsRecorded {
    pub last_kill_seq: Option<u64>,
    pub oom_kills_counted: Option<u64>,
}

/// An episode as the state remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenEpisode {
    pub incident: u32,
    /// Its first high sample.
    pub high_since: DateTime<FixedOffset>,
    pub last_report: DateTime<FixedOffset>,
}

impl State {
    pub fn kills(&self) -> KillsRecorded {
        KillsRecorded {
            last_kill_seq: self.last_kill_seq,
            oom_kills_counted: self.oom_kills_counted,
        }
    }

    pub fn set_kills(&mut self, kills: KillsRecorded) {
        self.last_kill_seq = kills.last_kill_seq;
        self.oom_kills_counted = kills.oom_kills_counted;
    }

    /// The state of `boot_id`: what was remembered in that boot, or nothing.
    pub fn of_boot(self, boot_id: Option<&str>) -> State {
        if boot_id.is_some() && self.boot_id.as_deref() == boot_id {
            self
        } else {
            State {
                boot_id: boot_id.map(str::to_string),
                ..State::default()
            }
        }
    }

    /// Whether this state was written in the system boot of kernel boot `boot_id` and PID 1
    /// started at `init_start`; `None` when the kernel's boot is unknown on either side. A
    /// PID 1 start unknown on either side is taken as the same.
    pub fn same_boot(&self, boot_id: Option<&str>, init_start: Option<u64>) -> Option<bool> {
        let (Some(then), Some(now)) = (self.boot_id.as_deref(), boot_id) else {
            return None;
        };
        let same_init = match (self.init_start, init_start) {
            (Some(then), Some(now)) => then == now,
            _ => true,
        };
        Some(then == now && same_init)
    }

    /// What to say at start in the boot [`State::same_boot`] takes, at `now`: the entry for a
    /// previous boot that ended while an episode was open. Nothing within the same boot (a
    /// restart), nothing when either boot is unknown, and nothing when no episode was open.
    pub fn previous_boot(
        &self,
        boot_id: Option<&str>,
        init_start: Option<u64>,
        now: DateTime<FixedOffset>,
        evidence: Vec<String>,
    ) -> Option<PreviousBoot> {
        if self.same_boot(boot_id, init_start)? {
            return None;
        }
        let episode = self.episode.as_ref()?;
        Some(PreviousBoot {
            time: now,
            ending: if self.stopped_cleanly {
                BootEnding::ShutDown
            } else {
                BootEnding::Abrupt
            },
            incident: episode.incident,
            high_since: episode.high_since,
            last_report: episode.last_report,
            used_percent: self.last_used_percent,
            evidence,
        })
    }
}

/// What was read of a state file, and whether it was damaged: a last line without its end (a
/// torn write), a line that is not `key=value`, or a known key with a bad value. What can be
/// read of a damaged file is kept; keys the program does not know are not damage.
#[derive(Debug, PartialEq)]
pub struct Read {
    pub state: State,
    pub damaged: bool,
}

pub fn parse(text: &[u8]) -> Read {
    let mut state = State::default();
    let mut damaged = !text.is_empty() && text.last() != Some(&b'\n');
    let mut since = None;
    let mut last_report = None;
    let mut incident = None;
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let Some(at) = line.iter().position(|&b| b == b'=') else {
            damaged = true;
            continue;
        };
        let (key, value) = (
            line.get(..at).unwrap_or_default(),
            line.get(at + 1..).unwrap_or_default(),
        );
        let text = std::str::from_utf8(value).ok();
        let time = || text.and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        let good = match key {
            b"boot_id" => {
                state.boot_id = text
                    .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic()))
                    .map(str::to_string);
                state.boot_id.is_some()
            }
            b"init_start" => {
                state.init_start = parse_u64(value);
                state.init_start.is_some()
            }
            b"last_kill_seq" => {
                state.last_kill_seq = parse_u64(value);
                state.last_kill_seq.is_some()
            }
            b"oom_kills_counted" => {
                state.oom_kills_counted = parse_u64(value);
                state.oom_kills_counted.is_some()
            }
            b"episode" => {
                incident = parse_u64(value).and_then(|n| u32::try_from(n).ok());
                incident.is_some()
            }
            b"episode_high_since" => {
                since = time();
                since.is_some()
            }
            b"episode_last_report" => {
                last_report = time();
                last_report.is_some()
            }
            b"last_used_percent" => {
                state.last_used_percent = text
                    .and_then(|t| t.parse::<f64>().ok())
                    .filter(|p| (0.0..=100.0).contains(p));
                state.last_used_percent.is_some()
            }
            b"stopped" => {
                state.stopped_cleanly = value == b"clean";
                state.stopped_cleanly
            }
            _ => true,
        };
        damaged |= !good;
    }
    match (incident, since, last_report) {
        (Some(incident), Some(high_since), Some(last_report)) => {
            state.episode = Some(OpenEpisode {
                incident,
                high_since,
                last_report,
            });
        }
        (None, None, None) => {}
        // Part of an episode: the rest was lost.
        _ => damaged = true,
    }
    Read { state, damaged }
}

pub fn format(state: &State) -> String {
    let mut text = String::new();
    let mut line = |key: &str, value: &dyn std::fmt::Display| {
        text.push_str(&std::format!("{key}={value}\n"));
    };
    if let Some(id) = &state.boot_id {
        line("boot_id", id);
    }
    if let Some(ticks) = state.init_start {
        line("init_start", &ticks);
    }
    if let Some(seq) = state.last_kill_seq {
        line("last_kill_seq", &seq);
    }
    if let Some(count) = state.oom_kills_counted {
        line("oom_kills_counted", &count);
    }
    if let Some(episode) = &state.episode {
        let rfc3339 = |t: &DateTime<FixedOffset>| t.to_rfc3339_opts(SecondsFormat::Secs, false);
        line("episode", &episode.incident);
        line("episode_high_since", &rfc3339(&episode.high_since));
        line("episode_last_report", &rfc3339(&episode.last_report));
    }
    if let Some(used) = state.last_used_percent {
        line("last_used_percent", &std::format!("{used:.1}"));
    }
    if state.stopped_cleanly {
        line("stopped", &"clean");
    }
    text
}

/// The state file of a log directory.
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn in_dir(dir: &Path) -> StateFile {
        StateFile {
            path: dir.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the file says; nothing when there is none.
    pub fn load(&self) -> io::Result<Read> {
        match fs::read(&self.path) {
            Ok(text) => Ok(parse(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Read {
                state: State::default(),
                damaged: false,
            }),
            Err(e) => Err(e),
        }
    }

    /// Replaces the file whole: a reader sees the old state or the new, never half of one.
    /// Synced before the rename: the state is there for the boot after a power cut. A log
    /// directory that was deleted is made again, as the logs make it.
    pub fn save(&self, state: &State) -> io::Result<()> {
        match self.replace(state) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(dir) = self.path.parent() {
                    make_log_dir(dir)?;
                }
                self.replace(state)
            }
            result => result,
        }
    }

    fn replace(&self, state: &State) -> io::Result<()> {
        let fresh = self.path.with_extension("new");
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o640)
            .open(&fresh)?;
        file.write_all(format(state).as_bytes())?;
        file.sync_data()?;
        fs::rename(&fresh, &self.path)
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
