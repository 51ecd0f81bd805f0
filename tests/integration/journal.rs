//! Under systemd: each entry also goes to the journal as a structured entry over journald's
//! native protocol, and the daemon's own lines carry their level. Here journald is a socket of
//! the test's own, and "under systemd" is JOURNAL_STREAM naming the daemon's stderr.

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::util::FakeProc;
use crate::util::daemon::{Daemon, Launch, set_used};
use crate::util::kernel::{append, kernel_usec_now, kill_records};

/// The ids the README documents: they never change, or `journalctl MESSAGE_ID=` finds nothing.
const REPORT_ID: &str = "46a909d96b8d4abe978b9cbe02624363";
const RECOVERED_ID: &str = "a47ef3aaa8e94b09b74a715aca7729a3";
const OOM_KILL_ID: &str = "2a645694a19042ffbfdd8f3b6887a211";

type JournalEntry = BTreeMap<String, String>;

/// One native-protocol datagram's fields: `NAME=value` lines, or `NAME`, a little-endian u64
/// length, the value and a newline.
fn parse_entry(mut data: &[u8]) -> JournalEntry {
    let mut fields = BTreeMap::new();
    while !data.is_empty() {
        let end = data.iter().position(|&b| b == b'\n' || b == b'=').unwrap();
        let name = String::from_utf8(data[..end].to_vec()).unwrap();
        let value;
        if data[end] == b'=' {
            let line_end = end + data[end..].iter().position(|&b| b == b'\n').unwrap();
            value = data[end + 1..line_end].to_vec();
            data = &data[line_end + 1..];
        } else {
            let len = u64::from_le_bytes(data[end + 1..end + 9].try_into().unwrap()) as usize;
            value = data[end + 9..end + 9 + len].to_vec();
            assert_eq!(data[end + 9 + len], b'\n');
            data = &data[end + 10 + len..];
        }
        assert!(
            fields
                .insert(name, String::from_utf8(value).unwrap())
                .is_none()
        );
    }
    fields
}

struct FakeJournal {
    socket: UnixDatagram,
    entries: Vec<JournalEntry>,
}

impl FakeJournal {
    fn bind(path: &std::path::Path) -> FakeJournal {
        let socket = UnixDatagram::bind(path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        FakeJournal {
            socket,
            entries: Vec::new(),
        }
    }

    /// Receives until `n` entries have come.
    fn wait_for(&mut self, daemon: &mut Daemon, n: usize) -> &[JournalEntry] {
        let deadline = Instant::now() + crate::util::patience(Duration::from_secs(20));
        let mut buffer = vec![0u8; 4 * 1024 * 1024];
        while self.entries.len() < n {
            assert!(
                Instant::now() < deadline,
                "{} journal entries: {}",
                self.entries.len(),
                daemon.stderr_text()
            );
            assert!(daemon.is_running(), "{}", daemon.stderr_text());
            if let Ok(len) = self.socket.recv(&mut buffer) {
                self.entries.push(parse_entry(&buffer[..len]));
            }
        }
        &self.entries
    }
}

#[test]
fn under_systemd_every_entry_is_a_structured_journal_entry_and_every_line_has_its_level() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("journal.sock");
    let mut journal = FakeJournal::bind(&socket);
    let mut launch = Launch::ordinary(&fake).args(&["--urgent", "70"]);
    launch.journal = Some(socket);
    let mut daemon = launch.start();
    daemon.wait_for("start-up", |d| d.stderr_text().contains("OOM kills are"));
    let stderr = daemon.stderr_text();
    assert!(
        stderr.starts_with("<4>memory-monitor: --urgent 70% is not above --threshold 80%"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n<6>memory-monitor 0.1.0: RAM 50.0% in use"),
        "{stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.starts_with('<')),
        "every line has its level: {stderr}"
    );

    set_used(&fake, 90);
    let report = journal.wait_for(&mut daemon, 1)[0].clone();
    let log = daemon.read("incidents.log");
    let header = log
        .lines()
        .find(|l| l.contains(" | incident 1 | RAM "))
        .unwrap();
    assert_eq!(report["MESSAGE"], header);
    assert_eq!(report["MESSAGE_ID"], REPORT_ID);
    assert_eq!(report["PRIORITY"], "4");
    assert_eq!(report["SYSLOG_IDENTIFIER"], "memory-monitor");
    assert_eq!(report["MEMORY_MONITOR_EVENT"], "report");
    assert_eq!(report["MEMORY_MONITOR_INCIDENT"], "1");
    assert_eq!(report["MEMORY_MONITOR_REASON"], "sustained");
    assert_eq!(report["MEMORY_MONITOR_RAM_PERCENT"], "90.0");
    assert!(header.contains(&format!(
        "| CPU {}% |",
        report["MEMORY_MONITOR_CPU_PERCENT"]
    )));
    let entry = &report["MEMORY_MONITOR_ENTRY"];
    assert!(
        entry.starts_with(header) && log.contains(entry.as_str()),
        "{entry}"
    );
    let first_row = entry
        .lines()
        .skip_while(|l| !l.starts_with("USER "))
        .nth(1)
        .unwrap();
    assert_eq!(
        report["MEMORY_MONITOR_TOP_PID"],
        first_row.split_whitespace().nth(1).unwrap()
    );
    assert!(
        first_row.ends_with(&report["MEMORY_MONITOR_TOP_COMMAND"]),
        "{first_row}"
    );

    set_used(&fake, 50);
    let recovered = journal.wait_for(&mut daemon, 2)[1].clone();
    assert_eq!(recovered["MESSAGE_ID"], RECOVERED_ID);
    assert_eq!(recovered["PRIORITY"], "5");
    assert_eq!(recovered["MEMORY_MONITOR_INCIDENT"], "1");
    assert!(recovered["MESSAGE"].contains(" | recovered | RAM 50.0% | high for "));
    assert!(!recovered.contains_key("MEMORY_MONITOR_TOP_PID"));

    append(
        &daemon.kernel_log,
        &kill_records(1, kernel_usec_now(), 4242, "python3", 0, None),
    );
    let kill = journal.wait_for(&mut daemon, 3)[2].clone();
    assert_eq!(kill["MESSAGE_ID"], OOM_KILL_ID);
    assert_eq!(kill["PRIORITY"], "3");
    assert_eq!(kill["MEMORY_MONITOR_OOM_PID"], "4242");
    assert_eq!(kill["MEMORY_MONITOR_OOM_NAME"], "python3");
    assert!(kill["MESSAGE"].contains("| oom-kill | PID 4242 (python3) of root |"));
    // The report after the kill.
    let after = journal.wait_for(&mut daemon, 4)[3].clone();
    assert_eq!(after["MEMORY_MONITOR_REASON"], "oom-kill");
}

#[test]
fn a_journal_that_is_gone_is_said_once_and_the_logs_go_on() {
    let fake = FakeProc::new();
    set_used(&fake, 50);
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("journal.sock");
    let journal = FakeJournal::bind(&socket);
    let mut launch = Launch::ordinary(&fake);
    launch.journal = Some(socket);
    let mut daemon = launch.start();
    daemon.wait_for_start();
    drop(journal);
    set_used(&fake, 90);
    daemon.wait_for_reports(1);
    set_used(&fake, 50);
    daemon.wait_for("the recovery", |d| {
        d.read("incidents.log").contains(" | recovered | ")
    });
    set_used(&fake, 90);
    daemon.wait_for_reports(2);
    let stderr = daemon.stderr_text();
    assert_eq!(
        stderr
            .matches("cannot send an entry to the journal")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("<4>memory-monitor: cannot send an entry to the journal: "),
        "{stderr}"
    );
}
