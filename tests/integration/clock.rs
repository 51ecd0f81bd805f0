//! Wall-clock jumps (NTP on a Pi without an RTC, an admin setting the date) change no decision:
//! the daemon decides on the monotonic clock, and only the times it writes follow the wall
//! clock. Proven on the real binary under libfaketime, whose offset a file sets while it runs.

use crate::util;

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta};
use memory_monitor::text::duration::parse_duration;
use util::FakeProc;
use util::daemon::{Daemon, Launch, report_count, set_used};

/// libfaketime from Debian's `faketime` package, for the architecture the program is built for:
/// under qemu-user (scripts/test-emulated.sh) that is an ARM one, named by
/// MEMORY_MONITOR_TEST_LIBFAKETIME.
fn libfaketime() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MEMORY_MONITOR_TEST_LIBFAKETIME") {
        return Some(path.into());
    }
    // Multiarch directories start with the architecture: x86_64-linux-gnu, aarch64-linux-gnu,
    // arm-linux-gnueabihf.
    let multiarch = format!("{}-", std::env::consts::ARCH);
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|dir| {
            dir.file_name()
                .as_encoded_bytes()
                .starts_with(multiarch.as_bytes())
        })
        .map(|dir| dir.path().join("faketime/libfaketime.so.1"))
        .find(|path| path.exists());
    if found.is_none() {
        util::skip("libfaketime", "sudo apt-get install faketime");
    }
    found
}

/// (wall time, high for, since first report) of each report header.
fn reports(daemon: &Daemon) -> Vec<(DateTime<chrono::FixedOffset>, u64, Option<u64>)> {
    daemon
        .read("incidents.log")
        .lines()
        .filter(|l| l.starts_with("20") && l.contains(" | incident "))
        .map(|l| {
            let time = DateTime::parse_from_str(&l[..26], "%Y-%m-%d %H:%M:%S %:z").unwrap();
            let above = l.split(" | above 80% for ").nth(1).unwrap();
            let (high_for, since) = match above.split_once(", ") {
                Some((high, since)) => (high, since.strip_suffix(" since first report")),
                None => (above, None),
            };
            let secs = |d: &str| parse_duration(d).unwrap().as_secs();
            (time, secs(high_for), since.map(secs))
        })
        .collect()
}

#[test]
#[cfg_attr(
    all(target_arch = "arm", target_pointer_width = "32"),
    ignore = "Debian 12's libfaketime (0.9.10) does not interpose __clock_gettime64, which std calls on 32-bit glibc"
)]
fn wall_clock_jumps_change_no_decision_and_show_in_the_log_times() {
    let Some(libfaketime) = libfaketime() else {
        return;
    };
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let offset = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(offset.path(), "+0\n").unwrap();
    let mut launch = Launch::ordinary(&fake).args(&["--sustain", "1s", "--repeat", "2s"]);
    launch.env = [
        ("LD_PRELOAD", libfaketime.into_os_string()),
        ("FAKETIME_TIMESTAMP_FILE", offset.path().into()),
        // Read the file at every call, so a change takes effect at once.
        ("FAKETIME_NO_CACHE", "1".into()),
        // What the daemon decides on must stay the real, steady clock.
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
    ]
    .map(|(k, v)| (k.into(), v))
    .to_vec();
    let mut daemon = launch.start();

    daemon.wait_for_reports(1);
    std::fs::write(offset.path(), "-1d\n").unwrap();
    daemon.wait_for_reports(2);
    std::fs::write(offset.path(), "+3h\n").unwrap();
    daemon.wait_for_reports(3);
    std::fs::write(offset.path(), "+0\n").unwrap();
    daemon.wait_for_reports(4);
    set_used(&fake, 50);
    daemon.wait_for("recovery", |d| {
        d.read("incidents.log").contains("| recovered |")
    });

    let seen = reports(&daemon);
    assert_eq!(report_count(&daemon.read("incidents.log")), 4);
    // The decisions: first report after 1 s high, then every 2 s on the monotonic grid, as
    // if the wall clock had never moved. A decision on wall time would have stalled for a day
    // after the jump back, and repeated at once after the jump forward.
    let decided: Vec<(u64, Option<u64>)> = seen.iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(
        decided,
        vec![(1, None), (3, Some(2)), (5, Some(4)), (7, Some(6))],
        "{seen:?}"
    );
    // The log times: the wall clock, jumps and all.
    let gap = |a: usize, b: usize| seen[b].0.signed_duration_since(seen[a].0);
    let about = |d: TimeDelta, expected: TimeDelta| (d - expected).num_seconds().abs() <= 1;
    assert!(
        about(gap(0, 1), TimeDelta::seconds(2) - TimeDelta::days(1)),
        "{seen:?}"
    );
    assert!(about(
        gap(1, 2),
        TimeDelta::seconds(2) + TimeDelta::days(1) + TimeDelta::hours(3)
    ));
    assert!(about(
        gap(2, 3),
        TimeDelta::seconds(2) - TimeDelta::hours(3)
    ));
    let recovered = daemon
        .read("incidents.log")
        .lines()
        .find_map(|l| l.split(" | high for ").nth(1).map(str::to_string))
        .unwrap();
    let high_for = parse_duration(&recovered).unwrap().as_secs();
    assert!((7..60).contains(&high_for), "high for {recovered}");
}
