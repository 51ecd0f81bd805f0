//! What the daemon remembers across its restarts, in `<log-dir>/state`: the boot it last ran in
//! and the last OOM kill it recorded, so that a restart never writes a kill twice. Written only
//! when something to remember happens, never on a timer, and atomically (a new file, then a
//! rename), so a torn write leaves the old state or none.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::text::number::parse_u64;

pub const FILE_NAME: &str = "state";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// `<proc-root>/sys/kernel/random/boot_id` when it was written.
    pub boot_id: Option<String>,
    /// The kernel's sequence number of the last kill recorded from its log.
    pub last_kill_seq: Option<u64>,
    /// The kernel's count of OOM kills (`/proc/vmstat`) that the kills recorded add up to.
    pub oom_kills_counted: Option<u64>,
}

impl State {
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
}

/// `key=value` lines; unknown keys and bad values are left out, so an older or damaged file
/// reads as what can be read of it.
pub fn parse(text: &[u8]) -> State {
    let mut state = State::default();
    for line in text.split(|&b| b == b'\n') {
        let Some(at) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, value) = (
            line.get(..at).unwrap_or_default(),
            line.get(at + 1..).unwrap_or_default(),
        );
        match key {
            b"boot_id" => {
                state.boot_id = std::str::from_utf8(value)
                    .ok()
                    .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic()))
                    .map(str::to_string);
            }
            b"last_kill_seq" => state.last_kill_seq = parse_u64(value),
            b"oom_kills_counted" => state.oom_kills_counted = parse_u64(value),
            _ => {}
        }
    }
    state
}

pub fn format(state: &State) -> String {
    let mut text = String::new();
    if let Some(id) = &state.boot_id {
        text.push_str(&format!("boot_id={id}\n"));
    }
    if let Some(seq) = state.last_kill_seq {
        text.push_str(&format!("last_kill_seq={seq}\n"));
    }
    if let Some(count) = state.oom_kills_counted {
        text.push_str(&format!("oom_kills_counted={count}\n"));
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
    pub fn load(&self) -> io::Result<State> {
        match fs::read(&self.path) {
            Ok(text) => Ok(parse(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(e),
        }
    }

    /// Replaces the file whole: a reader sees the old state or the new, never half of one.
    pub fn save(&self, state: &State) -> io::Result<()> {
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
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_as_written() {
        let state = State {
            boot_id: Some("5c2a0f4e-84c6-4c47-9d6b-7b1e5d8a3f10".into()),
            last_kill_seq: Some(123_456_789_012),
            oom_kills_counted: Some(17),
        };
        assert_eq!(parse(format(&state).as_bytes()), state);
        assert_eq!(parse(b""), State::default());
    }

    #[test]
    fn a_damaged_file_reads_as_what_can_be_read_of_it() {
        let state =
            parse(b"boot_id=abc\nlast_kill_seq=12x\nfuture=1\noom_kills_counted=4\ngarbage");
        assert_eq!(
            state,
            State {
                boot_id: Some("abc".into()),
                last_kill_seq: None,
                oom_kills_counted: Some(4),
            }
        );
        assert_eq!(parse(b"boot_id=a b\n").boot_id, None, "one word");
    }

    #[test]
    fn a_state_of_another_boot_is_forgotten() {
        let state = State {
            boot_id: Some("old".into()),
            last_kill_seq: Some(5),
            oom_kills_counted: Some(2),
        };
        assert_eq!(state.clone().of_boot(Some("old")), state);
        assert_eq!(
            state.of_boot(Some("new")),
            State {
                boot_id: Some("new".into()),
                ..State::default()
            }
        );
    }

    #[test]
    fn saving_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(dir.path());
        assert_eq!(file.load().unwrap(), State::default(), "no file yet");
        let state = State {
            boot_id: Some("b".into()),
            last_kill_seq: Some(1),
            oom_kills_counted: None,
        };
        file.save(&state).unwrap();
        assert_eq!(file.load().unwrap(), state);
        assert!(!dir.path().join("state.new").exists());
    }
}
