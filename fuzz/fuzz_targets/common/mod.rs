//! Shared by the targets that fuzz a /proc file: what a details.log entry must look like.

use chrono::DateTime;
use memory_monitor::render::details;
use memory_monitor::proc::{ProcDetails, Unavailable, Value};

/// A value the target does not feed.
pub fn not_read<T>() -> Value<T> {
    Err(Unavailable::NotReported("not read by this fuzz target"))
}

/// The process's details.log entry is its thirteen lines (the PID line and twelve values),
/// none with a control character.
pub fn assert_one_clean_entry(process: ProcDetails) {
    let now = DateTime::from_timestamp(1_795_000_000, 0)
        .expect("a valid time")
        .fixed_offset();
    let mut out = String::new();
    details::render(&[process], &now, &mut out);
    let body = out
        .strip_suffix('\n')
        .expect("the entry ends with a newline");
    let lines: Vec<&str> = body.split('\n').collect();
    assert_eq!(lines.len(), 13, "{out:?}");
    for line in lines {
        assert!(!line.contains(char::is_control), "{line:?}");
    }
}
