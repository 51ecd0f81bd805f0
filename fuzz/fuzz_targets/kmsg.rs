//! /dev/kmsg records from a hostile or broken source, and any text as an OOM-killer line:
//! parsing never panics, a parsed record's text is printable ASCII as the kernel escapes it,
//! and a parsed name or cgroup path, escaped for a log, holds no control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memory_monitor::parse::kmsg::parse_record;
use memory_monitor::parse::oom::{OomLine, parse_oom_line};
use memory_monitor::text::escape::escape;

fuzz_target!(|data: &[u8]| {
    // The bytes as a line too, so that the OOM parser also meets bytes no record holds.
    check_line(data);
    let Some(record) = parse_record(data) else {
        return;
    };
    assert!(
        record.text.iter().all(|b| (b' '..0x7f).contains(b)),
        "{:?}",
        record.text
    );
    assert!(record.level <= 7);
    check_line(record.text);
});

fn check_line(text: &[u8]) {
    match parse_oom_line(text) {
        Some(OomLine::Killed(killed)) => shown_on_one_line(&killed.name),
        Some(OomLine::Summary(summary)) => {
            shown_on_one_line(&summary.task);
            shown_on_one_line(&summary.constraint);
            for path in [&summary.oom_memcg, &summary.task_memcg]
                .into_iter()
                .flatten()
            {
                shown_on_one_line(path);
            }
        }
        Some(OomLine::Reaped { .. }) | None => {}
    }
}

fn shown_on_one_line(raw: &[u8]) {
    let shown = escape(raw);
    assert!(!shown.contains(char::is_control), "{shown:?}");
}
