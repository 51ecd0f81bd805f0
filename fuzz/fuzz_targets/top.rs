//! `top -b` output from a hostile or broken top: parsing never panics, the summary lines kept for
//! the log are single lines without trailing blanks that show with no control character, and a
//! CPU figure, when one is read, is a percentage.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memory_monitor::parse::top;
use memory_monitor::text::escape::escape;

fuzz_target!(|data: &[u8]| {
    let summary = match top::parse(data) {
        Ok(summary) => summary,
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains(char::is_control), "{message:?}");
            return;
        }
    };
    assert!(!summary.lines.is_empty());
    for line in &summary.lines {
        assert!(!line.contains(&b'\n'), "{line:?}");
        assert!(!line.ends_with(b" ") && !line.ends_with(b"\t"), "{line:?}");
        let shown = escape(line);
        assert!(!shown.contains(char::is_control), "{shown:?}");
    }
    match summary.cpu_busy {
        Ok(busy) => assert!((0.0..=100.0).contains(&busy), "{busy}"),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains(char::is_control), "{message:?}");
        }
    }
});
