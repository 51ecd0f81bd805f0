//! `/proc/PID/stat` and `/proc/uptime` as any bytes: the running time never panics, is never
//! more than the uptime allows, and its details.log line holds no control character.
//!
//! Input: 8 bytes of clock ticks per second (little-endian), then the uptime file up to its
//! first newline, then the stat file.
#![no_main]

mod common;

use common::{assert_one_clean_entry, not_read};
use libfuzzer_sys::fuzz_target;
use memory_monitor::proc::{ProcDetails, running_time};

fuzz_target!(|data: &[u8]| {
    let Some((ticks, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let clock_ticks = u64::from_le_bytes(*ticks);
    let (uptime, stat) = match rest.iter().position(|&b| b == b'\n') {
        Some(newline) => (&rest[..newline], &rest[newline + 1..]),
        None => (rest, &[][..]),
    };
    let running_for = running_time(stat, uptime, clock_ticks);
    if let Ok(running) = running_for {
        // uptime_seconds caps the uptime at 1e12 s.
        assert!(running.as_secs() <= 1_000_000_000_000, "{running:?}");
    }

    let process = ProcDetails {
        pid: 42,
        name: not_read(),
        user: not_read(),
        command: not_read(),
        running_for,
        rss_kib: not_read(),
        peak_rss_kib: not_read(),
        vsz_kib: not_read(),
        swap_kib: not_read(),
        threads: not_read(),
        state: not_read(),
        parent: not_read(),
        cwd: not_read(),
        unit: not_read(),
    };
    assert_one_clean_entry(process);
});
