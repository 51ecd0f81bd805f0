//! The daemon with a ps and a top that print hostile bytes raw, as a foreign or broken one
//! might: both logs keep one line per process, write nothing raw, and hold exactly as many header
//! and marker lines as the reports they hold.

use crate::util;

use rustix::process::{Signal, kill_process};

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::hostile::*;
use util::log::*;
use util::{FakeProc, FakeProcess, fake_program};

// ---------------------------------------------------------------------------------------------
// b. The daemon, with a ps and a top that print hostile bytes raw.

#[test]
fn the_daemon_with_a_ps_and_top_that_print_raw_bytes() {
    let fake = FakeProc::new();
    fake.set_meminfo(1_000_000, 50_000);
    let dir = tempfile::tempdir().unwrap();
    let entry = |pid, argv: Vec<&[u8]>, name: &[u8], cwd: Option<&[u8]>, ppid| FakeProcess {
        pid,
        uid: 0,
        cmdline: util::cmdline_of(&argv),
        name: name.to_vec(),
        cwd: cwd.map(<[u8]>::to_vec),
        ppid,
        rss_kib: 1000 + u64::from(pid % 100),
        start_ticks: 100,
        raw_status_name: false,
    };
    // One row of 100 KB: its newlines made carriage returns, which do not end a ps line.
    let big: Vec<u8> = big_argument()
        .into_iter()
        .map(|b| if b == b'\n' { b'\r' } else { b })
        .collect();
    let entries = [
        entry(
            5_000_001,
            vec![FAKE_HEADER, FAKE_MARKER, CONTROLS, b"trailing "],
            b"\n2026-11-22 1\x1b",
            Some(b"/tmp/cwd\n===== new log\r\x1b[2J\xff "),
            1,
        ),
        entry(
            5_000_002,
            vec![b"big", &big],
            b"\r\x1b]0;t\x07\xff/\xe2\x80\xae",
            None,
            5_000_001,
        ),
        entry(
            5_000_003,
            vec![INVALID_UTF8, UNICODE_TRICKS.as_bytes()],
            b"",
            Some(b"/"),
            5_000_002,
        ),
        entry(5_000_004, vec![], b"kworker/0:1\n", None, 2),
    ];
    let mut ps = PS_HEADER.to_vec();
    for e in &entries {
        fake.add(e);
        ps.extend(raw_ps_line(b"root", e.pid, e.rss_kib, &command_of(e)));
    }
    let top = [
        &b"top - 10:00:00 up 1 day,  2:03,  1 user,  load average: 0.00, 0.01, 0.05\x1b[2J\n"[..],
        b"Tasks:   4 total,\r   1 running,   3 sleeping\x1b]0;pwned\x07\n",
        b"%Cpu(s):  2.0 us,  1.0 sy,  0.0 ni, 97.0 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n",
        b"MiB Mem :   1000.0 total,\xff\xfe  50.0 free,  950.0 used,   0.0 buff/cache\xe2\x80\xae\n",
        b"MiB Swap:      0.0 total,      0.0 free,      0.0 used.     50.0 avail Mem \r\n",
        b"\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
        b"5000001 root      20   0       1       1       1 S   0.0   0.0   0:00.00 x",
        FAKE_HEADER,
        FAKE_MARKER,
        b"\n",
    ]
    .concat();
    let ps_file = dir.path().join("ps-output");
    let top_file = dir.path().join("top-output");
    std::fs::write(&ps_file, &ps).unwrap();
    std::fs::write(&top_file, &top).unwrap();
    let ps_bin = fake_program(
        dir.path(),
        "ps",
        &format!("exec cat '{}'", ps_file.display()),
    );
    let top_bin = fake_program(
        dir.path(),
        "top",
        &format!("exec cat '{}'", top_file.display()),
    );

    let logs = dir.path().join("logs");
    let mut command = Command::new(env!("CARGO_BIN_EXE_memory-monitor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MEMORY_MONITOR_") {
            command.env_remove(key);
        }
    }
    let mut daemon = command
        .args([
            "run",
            "--sustain",
            "0",
            "--interval",
            "50ms",
            "--details",
            "100",
            "--kernel-log",
            "off",
        ])
        .arg("--log-dir")
        .arg(&logs)
        .arg("--proc-root")
        .arg(fake.path())
        .arg("--ps-bin")
        .arg(&ps_bin)
        .arg("--top-bin")
        .arg(&top_bin)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let read = |name: &str| std::fs::read(logs.join(name)).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !read("details.log").ends_with(b"\n\n") {
        assert!(
            daemon.try_wait().unwrap().is_none(),
            "the daemon exited early"
        );
        assert!(Instant::now() < deadline, "no report within 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_process(util::daemon::pid_of(&daemon), Signal::TERM).unwrap();
    assert!(daemon.wait().unwrap().success());

    let incidents = String::from_utf8(read("incidents.log")).expect("incidents.log is UTF-8");
    let details = String::from_utf8(read("details.log")).expect("details.log is UTF-8");
    let incidents_log = check_log(&incidents);
    let details_log = check_log(&details);
    for log in [&incidents_log, &details_log] {
        assert_eq!((log.markers, log.headers), (1, 1), "one report, one marker");
    }
    assert!(incidents.lines().nth(1).unwrap().contains("| CPU 3.0% |"));

    // top's summary, escaped; nothing of its task lines.
    let summary: Vec<String> = top
        .split(|&b| b == b'\n')
        .take(5)
        .map(|l| format!("  {}", shown(l.strip_suffix(b" \r").unwrap_or(l))))
        .collect();
    assert_eq!(incidents_log.summary, summary);

    // One row per process, its command as ps printed it up to the raw newline; what ps printed
    // after one is a line of its own, kept aside, indented.
    assert_eq!(incidents_log.rows.len(), entries.len());
    let mut expected_odd = Vec::new();
    for e in &entries {
        let joined = command_of(e);
        let mut parts = joined.split(|&b| b == b'\n');
        let rows = incidents_log.rows_of(e.pid);
        assert_eq!(rows.len(), 1, "PID {}", e.pid);
        assert_eq!(
            rows[0].1,
            shown_at_end(parts.next().unwrap()),
            "PID {}",
            e.pid
        );
        expected_odd.extend(parts.filter(|p| !p.is_empty()).map(shown_at_end));
    }
    assert_eq!(incidents_log.odd, expected_odd);
    assert!(incidents_log.rows_of(5_000_002)[0].1.len() > 100_000);
    assert!(incidents_log.details.is_empty() && details_log.rows.is_empty());

    // Details of each, every value escaped once.
    assert_eq!(details_log.details.len(), entries.len());
    for e in &entries {
        assert_one_details_entry(&details_log, e, &entries);
    }
}
