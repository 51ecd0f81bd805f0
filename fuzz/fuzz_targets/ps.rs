//! `ps aux` output from a hostile or broken ps: parsing and rendering never panic, and the
//! rendered table keeps the spec's promises for any input: one line per process row, thread row
//! and odd line plus the header, and no control character anywhere.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memory_monitor::parse::ps;
use memory_monitor::render::table;

fuzz_target!(|data: &[u8]| {
    let parsed = match ps::parse(data) {
        Ok(parsed) => parsed,
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains(char::is_control), "{message:?}");
            return;
        }
    };
    let mut out = String::new();
    table::render(&parsed, &mut out);

    let rows: usize = parsed.processes().map(|p| 1 + p.thread_count()).sum();
    let body = out
        .strip_suffix('\n')
        .expect("the table ends with a newline");
    let lines: Vec<&str> = body.split('\n').collect();
    assert_eq!(lines.len(), 1 + rows + parsed.odd_lines().len(), "{out:?}");
    for line in lines {
        assert!(!line.contains(char::is_control), "{line:?}");
        assert!(!line.is_empty() && !line.ends_with(' '), "{line:?}");
    }
});
