//! incidents.jsonl as `memory-monitor incidents` reads it back, from a file that is damaged or
//! was tampered with: any bytes, split into lines, never make the reader panic, and what the
//! command prints from them (text and JSON) holds no control character but its newlines and
//! is one JSON object that parses.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use memory_monitor::history::episodes::Episodes;
use memory_monitor::history::summary::{self, Summary};

fuzz_target!(|data: &[u8]| {
    let mut episodes = Episodes::new(None);
    for line in data.split(|&b| b == b'\n') {
        episodes.push(line);
    }
    let found = episodes.finish();
    let since = DateTime::from_timestamp(1_795_000_000, 0)
        .expect("a valid time")
        .fixed_offset();
    let now = DateTime::from_timestamp(1_795_600_000, 0)
        .expect("a valid time")
        .fixed_offset();
    let files = ["incidents.jsonl".to_string()];
    let s = Summary {
        since,
        now,
        since_text: "7d",
        log_dir: "/var/log/memory-monitor",
        files: &files,
        found: &found,
    };
    let text = summary::text(&s);
    assert!(
        !text.contains(|c: char| c != '\n' && c.is_control()),
        "{text:?}"
    );
    let json = summary::json(&s);
    let value: serde_json::Value = serde_json::from_str(&json).expect("the output is JSON");
    assert!(value.is_object());
    assert!(!json.trim_end().contains('\n'), "one line");
    strings_are_clean(&value);
});

/// Every string a program parsing the output gets: no control character.
fn strings_are_clean(value: &serde_json::Value) {
    match value {
        serde_json::Value::String(s) => assert!(!s.contains(char::is_control), "{s:?}"),
        serde_json::Value::Array(a) => a.iter().for_each(strings_are_clean),
        serde_json::Value::Object(o) => o.values().for_each(strings_are_clean),
        _ => {}
    }
}
