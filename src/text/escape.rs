//! Bytes from outside (process names, command lines, top's lines) made safe for a log that a
//! person reads: one entry per line, nothing that moves the cursor or fakes another entry.

/// Appends `bytes` to `out`, showing every byte that could break a line or disguise text as
/// `\xNN`: C0 and C1 controls, DEL, invalid UTF-8, and the Unicode line separators and bidi
/// overrides that make a viewer show text other than what is there. Backslashes stay as they
/// are: a literal `\x1b` in a command line is harmless text to a human reader.
pub fn escape_into(out: &mut String, bytes: &[u8]) {
    escape_where(out, bytes, is_unsafe);
}

/// Escapes every character `shown_escaped` picks, and invalid UTF-8.
fn escape_where(out: &mut String, bytes: &[u8], shown_escaped: fn(char) -> bool) {
    // Nearly every cell of a process table is printable ASCII: copy it whole. (A word shows
    // even a plain space escaped, so the space is asked about.)
    let plain = |b: u8| (0x21..0x7f).contains(&b) || b == b' ';
    if bytes.iter().all(|&b| plain(b))
        && !(bytes.contains(&b' ') && shown_escaped(' '))
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        out.push_str(text);
        return;
    }
    for chunk in bytes.utf8_chunks() {
        let mut rest = chunk.valid();
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| shown_escaped(c)) {
            let (safe, tail) = rest.split_at(at);
            out.push_str(safe);
            let mut utf8 = [0u8; 4];
            for b in c.encode_utf8(&mut utf8).bytes() {
                push_hex(out, b);
            }
            rest = tail.get(c.len_utf8()..).unwrap_or_default();
        }
        out.push_str(rest);
        for &b in chunk.invalid() {
            push_hex(out, b);
        }
    }
}

/// [`escape_into`] a new string.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(&mut out, bytes);
    out
}

/// [`escape`] for text that must read as one word, like a table cell other than COMMAND: a
/// character that draws as a blank is shown as `\xNN` too, so that no cell can pass for several
/// (`2026-11-22<NBSP>14:03:15` at the start of a line passes for a report header).
pub fn escape_word(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_word_into(&mut out, bytes);
    out
}

/// [`escape_word`] appended to `out`.
pub fn escape_word_into(out: &mut String, bytes: &[u8]) {
    escape_where(out, bytes, |c| is_unsafe(c) || looks_blank(c));
}

/// A path for a message (the daemon's own lines on stderr): one line whatever it holds.
pub fn escape_path(path: &std::path::Path) -> String {
    escape(path.as_os_str().as_encoded_bytes())
}

/// Whitespace, and the characters most fonts draw as a blank although Unicode does not call them
/// whitespace.
pub fn looks_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{180e}' // Mongolian vowel separator, whitespace before Unicode 6.3
            | '\u{2800}' // braille pattern blank
            | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers
        )
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{200e}' | '\u{200f}' | '\u{061c}' // direction marks
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' // bidi embeddings and isolates
        )
}

fn push_hex(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push('x');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

/// Trailing blanks are invisible in a log and docs/log-format.md rules them out; tabs and carriage returns at
/// the end of a line are dropped with them rather than shown escaped.
pub fn trim_trailing_blanks(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    line.get(..end).unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_utf8_pass_through() {
        assert_eq!(
            escape(b"/usr/bin/python3 -m http.server"),
            "/usr/bin/python3 -m http.server"
        );
        assert_eq!(escape("café ☕ 日本".as_bytes()), "café ☕ 日本");
    }

    #[test]
    fn controls_are_hex_escaped() {
        assert_eq!(
            escape(b"a\nb\rc\td\x1b[31m\x7f\x00"),
            "a\\x0ab\\x0dc\\x09d\\x1b[31m\\x7f\\x00"
        );
    }

    #[test]
    fn c1_controls_show_each_byte() {
        assert_eq!(escape("x\u{9b}y".as_bytes()), "x\\xc2\\x9by");
    }

    #[test]
    fn invalid_utf8_shows_each_bad_byte() {
        assert_eq!(escape(b"d\xff\xfe!"), "d\\xff\\xfe!");
        assert_eq!(escape(b"\x9b"), "\\x9b");
        // A truncated multi-byte sequence at the end.
        assert_eq!(escape(b"ok\xe2\x82"), "ok\\xe2\\x82");
    }

    #[test]
    fn line_separators_and_bidi_overrides_are_escaped() {
        assert_eq!(escape("a\u{2028}b".as_bytes()), "a\\xe2\\x80\\xa8b");
        assert_eq!(
            escape("evil\u{202e}txt.exe".as_bytes()),
            "evil\\xe2\\x80\\xaetxt.exe"
        );
    }

    #[test]
    fn a_word_shows_its_blanks() {
        assert_eq!(
            escape_word("2026-11-22\u{a0}14:03\u{2800}x\u{3000}".as_bytes()),
            "2026-11-22\\xc2\\xa014:03\\xe2\\xa0\\x80x\\xe3\\x80\\x80"
        );
        assert_eq!(escape_word("rené\x1b".as_bytes()), "rené\\x1b");
        assert_eq!(escape_word(b"a b"), "a\\x20b");
        assert_eq!(escape_word(b"plain"), "plain");
        assert_eq!(escape("a\u{a0}b".as_bytes()), "a\u{a0}b", "text keeps them");
    }

    #[test]
    fn backslashes_are_left_alone() {
        assert_eq!(escape(br"echo \x1b"), r"echo \x1b");
    }

    #[test]
    fn trailing_blanks_are_trimmed_inner_ones_kept() {
        assert_eq!(trim_trailing_blanks(b"a  b \t\r"), b"a  b");
        assert_eq!(trim_trailing_blanks(b"   "), b"");
        assert_eq!(trim_trailing_blanks(b""), b"");
    }
}
