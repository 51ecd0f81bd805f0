//! The systemd journal: each entry of incidents.log is also one structured journal entry, sent
//! over journald's native protocol ([`socket`]) when our stderr already goes to the journal
//! ([`stream`]), that is, under systemd. SPEC.md, "Under systemd".

pub mod socket;
pub mod stream;

use std::io;
use std::path::Path;

use super::{Delivery, Output};
use crate::render::facts::{Facts, entry_text};
use crate::report::Entry;
use crate::say;
use socket::JournalSocket;

/// One fixed id per kind of entry: `journalctl MESSAGE_ID=<id>` lists them all, on the machine
/// and wherever the journal is shipped. Never change them.
pub const REPORT_ID: &str = "46a909d96b8d4abe978b9cbe02624363";
pub const RECOVERED_ID: &str = "a47ef3aaa8e94b09b74a715aca7729a3";
pub const OOM_KILL_ID: &str = "2a645694a19042ffbfdd8f3b6887a211";
pub const PREVIOUS_BOOT_ID: &str = "8e3507836287493dbc8a5d00881a020d";

/// The fields of one entry: MESSAGE (its first line), MESSAGE_ID, PRIORITY (report 4, oom-kill 3,
/// recovered 5, previous-boot 4), SYSLOG_IDENTIFIER, `MEMORY_MONITOR_*` as the hook gets them, and the whole
/// entry in `MEMORY_MONITOR_ENTRY`.
pub fn fields(entry: &Entry) -> Vec<(&'static str, String)> {
    let facts = Facts::of(entry);
    let text = entry_text(entry);
    let (id, priority) = match facts.event {
        "report" => (REPORT_ID, "4"),
        "recovered" => (RECOVERED_ID, "5"),
        "previous-boot" => (PREVIOUS_BOOT_ID, "4"),
        _ => (OOM_KILL_ID, "3"),
    };
    let mut fields = vec![
        (
            "MESSAGE",
            text.lines().next().unwrap_or_default().to_string(),
        ),
        ("MESSAGE_ID", id.to_string()),
        ("PRIORITY", priority.to_string()),
        ("SYSLOG_IDENTIFIER", "memory-monitor".to_string()),
        ("MEMORY_MONITOR_EVENT", facts.event.to_string()),
        ("MEMORY_MONITOR_TIME", facts.time.clone()),
    ];
    let mut set = |name: &'static str, value: Option<String>| {
        if let Some(value) = value {
            fields.push((name, value));
        }
    };
    set(
        "MEMORY_MONITOR_INCIDENT",
        facts.incident.map(|n| n.to_string()),
    );
    set("MEMORY_MONITOR_REASON", facts.reason.map(str::to_string));
    set("MEMORY_MONITOR_RAM_PERCENT", facts.ram_percent);
    set("MEMORY_MONITOR_CPU_PERCENT", facts.cpu_percent);
    if let Some(top) = facts.top {
        set("MEMORY_MONITOR_TOP_PID", Some(top.pid.to_string()));
        set("MEMORY_MONITOR_TOP_USER", Some(top.user));
        set("MEMORY_MONITOR_TOP_COMMAND", Some(top.command));
        set("MEMORY_MONITOR_TOP_RSS_KIB", Some(top.rss_kib.to_string()));
    }
    if let Some(victim) = facts.victim {
        set("MEMORY_MONITOR_OOM_PID", Some(victim.pid.to_string()));
        set("MEMORY_MONITOR_OOM_NAME", Some(victim.name));
        set("MEMORY_MONITOR_OOM_USER", victim.user);
    }
    set(
        "MEMORY_MONITOR_OOM_KILLS",
        facts.kills.map(|n| n.to_string()),
    );
    set("MEMORY_MONITOR_ENTRY", Some(text));
    fields
}

/// Sends every entry to journald.
pub struct Journal {
    socket: JournalSocket,
    /// A send failed and that was said; the next success is said too.
    failing: bool,
}

impl Journal {
    pub fn open(path: &Path) -> io::Result<Journal> {
        Ok(Journal {
            socket: JournalSocket::open(path)?,
            failing: false,
        })
    }
}

impl Output for Journal {
    fn name(&self) -> String {
        "the journal".into()
    }

    /// A failure is said once, not queued: the entry is in incidents.log, and a journal that
    /// is not reading must not take our memory.
    fn write(&mut self, entry: &Entry) -> Delivery {
        let fields = fields(entry);
        let as_bytes: Vec<(&str, &[u8])> = fields
            .iter()
            .map(|(name, value)| (*name, value.as_bytes()))
            .collect();
        match self.socket.send(&as_bytes) {
            Ok(()) if self.failing => {
                self.failing = false;
                say!(Notice, "memory-monitor: entries reach the journal again");
            }
            Ok(()) => {}
            Err(e) if !self.failing => {
                self.failing = true;
                say!(
                    Warning,
                    "memory-monitor: cannot send an entry to the journal: {e}; incidents.log has it, and only the next success is said"
                );
            }
            Err(_) => {}
        }
        Delivery::Nothing
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::report::{BootEnding, PreviousBoot};

    /// The previous boot's entry: its own id, a warning, the episode and the last used%.
    #[test]
    fn a_previous_boot_has_its_own_id_and_priority() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap();
        let entry = Entry::PreviousBoot(PreviousBoot {
            time: at("2026-11-22T16:40:02+01:00"),
            ending: BootEnding::Abrupt,
            incident: 3,
            high_since: at("2026-11-22T14:03:15+01:00"),
            last_report: at("2026-11-22T14:13:15+01:00"),
            used_percent: Some(97.2),
            evidence: vec!["pstore: dmesg-ramoops-0 holds a crash record".into()],
        });
        let fields = fields(&entry);
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            field("MESSAGE"),
            Some(
                "2026-11-22 16:40:02 +01:00 | previous boot | ended abruptly during incident 3: high since 2026-11-22 14:03:15 +01:00, last report 14:13:15, RAM 97.2% when last written; pstore: dmesg-ramoops-0 holds a crash record"
            )
        );
        assert_eq!(field("MESSAGE_ID"), Some(PREVIOUS_BOOT_ID));
        assert_eq!(field("PRIORITY"), Some("4"));
        assert_eq!(field("MEMORY_MONITOR_EVENT"), Some("previous-boot"));
        assert_eq!(field("MEMORY_MONITOR_INCIDENT"), Some("3"));
        assert_eq!(field("MEMORY_MONITOR_RAM_PERCENT"), Some("97.2"));
        assert_eq!(field("MEMORY_MONITOR_REASON"), None);
    }
}
