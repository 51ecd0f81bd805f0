//! Escaping untrusted bytes: the result never holds a control character, a line separator or a
//! bidi control; text without them is left as it is; and, for input without backslashes (which
//! stay literal), the escapes decode back to exactly the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memory_monitor::text::escape::escape;

fuzz_target!(|data: &[u8]| {
    let escaped = escape(data);
    assert!(!escaped.contains(disguises), "{escaped:?}");
    if let Ok(text) = std::str::from_utf8(data)
        && !text.contains(disguises)
    {
        assert_eq!(escaped, text);
    }
    if !data.contains(&b'\\') {
        assert_eq!(unescape(&escaped), data, "{escaped:?}");
    }
});

/// What the log must never show as it is.
fn disguises(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            let hex = bytes
                .get(i + 2..i + 4)
                .expect("\\x is followed by two digits");
            let hex = std::str::from_utf8(hex).expect("hex digits are ASCII");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
            i += 4;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}
