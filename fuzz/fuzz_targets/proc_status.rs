//! `/proc/PID/status` as any bytes: parsing never panics, the `Uid` reading `users` uses agrees
//! with the details' one, and the details.log entry built from it is 12 lines with no control
//! character.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use memory_monitor::details;
use memory_monitor::procinfo::{
    Parent, ProcDetails, Unavailable, User, Value, parse_status, status_uid,
};

fuzz_target!(|data: &[u8]| {
    let status = parse_status(data);
    assert_eq!(status_uid(data), status.uid);
    let process = ProcDetails {
        pid: 42,
        user: status.uid.map(|uid| User { uid, name: None }),
        command: not_read(),
        // The name comes from comm, not status.
        name: Ok("fuzzed".into()),
        running_for: not_read(),
        rss_kib: status.rss_kib,
        peak_rss_kib: status.peak_rss_kib,
        vsz_kib: status.vsz_kib,
        swap_kib: status.swap_kib,
        threads: status.threads,
        state: status.state,
        parent: status.ppid.map(|pid| Parent {
            pid,
            name: Ok("init".into()),
        }),
        cwd: not_read(),
    };
    let now = DateTime::from_timestamp(1_795_000_000, 0)
        .expect("a valid time")
        .fixed_offset();
    let mut out = String::new();
    details::render(&[process], &now, &mut out);
    let body = out
        .strip_suffix('\n')
        .expect("the entry ends with a newline");
    let lines: Vec<&str> = body.split('\n').collect();
    assert_eq!(lines.len(), 12, "{out:?}");
    for line in lines {
        assert!(!line.contains(char::is_control), "{line:?}");
    }
});

fn not_read<T>() -> Value<T> {
    Err(Unavailable::NotReported("not read by this fuzz target"))
}
