//! `/proc/PID/status` as any bytes: parsing never panics, the `Uid` reading `users` uses agrees
//! with the details' one, and the details.log entry built from it is 12 lines with no control
//! character.
#![no_main]

mod common;

use common::{assert_one_clean_entry, not_read};
use libfuzzer_sys::fuzz_target;
use memory_monitor::proc::{Parent, ProcDetails, User, parse_status, status_uid};

fuzz_target!(|data: &[u8]| {
    let status = parse_status(data);
    assert_eq!(status_uid(data), status.uid);
    let process = ProcDetails {
        pid: 42,
        user: status.uid.map(|uid| User { uid, name: None }),
        command: not_read(),
        // The name comes from comm, not status.
        name: Ok(b"fuzzed".to_vec()),
        running_for: not_read(),
        rss_kib: status.rss_kib,
        peak_rss_kib: status.peak_rss_kib,
        vsz_kib: status.vsz_kib,
        swap_kib: status.swap_kib,
        threads: status.threads,
        state: status.state,
        parent: status.ppid.map(|pid| Parent {
            pid,
            name: Ok(b"init".to_vec()),
        }),
        cwd: not_read(),
        unit: not_read(),
    };
    assert_one_clean_entry(process);
});
