//! One record of `/dev/kmsg`, as one `read()` returns it (Documentation/ABI/testing/dev-kmsg):
//!
//! ```text
//! PRIO,SEQ,USEC,FLAGS[,MORE...];MESSAGE\n
//!  KEY=VALUE\n            (zero or more dictionary lines, each starting with a space)
//! ```
//!
//! PRIO is `facility * 8 + level`. FLAGS is `-`, or `c` for a fragment of a continued line;
//! kernels before the 4.9 rework of continuation lines also printed `+`. Kernels with
//! CONFIG_PRINTK_CALLER add `,caller=T123` after FLAGS, and the ABI promises only that
//! fields may be added before the `;`, so any further field is accepted and ignored.
//!
//! The kernel escapes the message and the dictionary byte by byte (`msg_add_ext_text` in
//! kernel/printk/printk.c, `msg_print_ext_body` before 5.10): every byte below `' '`, every byte
//! from 127 up, and the backslash itself become `\xNN` with two lowercase hex digits. So the text
//! of a genuine record is printable ASCII, a newline inside a message arrives as `\x0a`, and every
//! backslash starts an escape: [`unescape`] gives back exactly the bytes the kernel was given.
//! A record holding any other byte did not come from the kernel and is refused.
//!
//! User space can write to `/dev/kmsg` too, but `devkmsg_write` never lets it claim facility 0:
//! a `<N>` prefix with facility 0, or none, is stored as LOG_USER (facility 1). Only
//! [`KmsgRecord::from_kernel`] records can be trusted to be the kernel's own words.

use crate::text::number::parse_u64;

/// One `/dev/kmsg` record: its header typed, its message still escaped as the kernel wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KmsgRecord<'a> {
    /// `PRIO & 7`: 0 (emergency) to 7 (debug); the OOM killer's kills are 3 (error).
    pub level: u8,
    /// `PRIO >> 3`: 0 for the kernel, 1 (LOG_USER) and up for what user space wrote.
    pub facility: u32,
    /// The record's sequence number; a gap means records were overwritten before being read.
    pub seq: u64,
    /// Microseconds since boot on the kernel's printk clock.
    pub usec: u64,
    /// The message as the kernel wrote it to /dev/kmsg: non-printable bytes escaped as \xNN.
    pub text: &'a [u8],
}

impl KmsgRecord<'_> {
    /// Whether the kernel wrote this record itself: facility 0, which user space writing to
    /// `/dev/kmsg` is never given. A forged "Killed process" line from user space fails this.
    pub fn from_kernel(&self) -> bool {
        self.facility == 0
    }
}

/// Parses one record, as one `read()` of `/dev/kmsg` returned it (its final newline may be
/// missing). `None` for anything malformed: a header that is not four numbers and flags, a
/// dictionary line that does not start with a space, or a byte the kernel would have escaped.
pub fn parse_record(record: &[u8]) -> Option<KmsgRecord<'_>> {
    let semicolon = record.iter().position(|&b| b == b';')?;
    let header = record.get(..semicolon)?;
    let body = record.get(semicolon + 1..)?;

    let mut fields = header.split(|&b| b == b',');
    let prio = u32::try_from(parse_u64(fields.next()?)?).ok()?;
    let seq = parse_u64(fields.next()?)?;
    let usec = parse_u64(fields.next()?)?;
    if !matches!(fields.next()?, b"-" | b"c" | b"+") {
        return None;
    }
    // Fields added by later kernels (`caller=T123`) are skipped, but a field is never empty.
    if fields.any(|field| field.is_empty()) {
        return None;
    }

    let (text, dictionary) = match body.iter().position(|&b| b == b'\n') {
        Some(end) => (body.get(..end)?, body.get(end + 1..)?),
        None => (body, &[][..]),
    };
    if !is_escaped(text) || !is_dictionary(dictionary) {
        return None;
    }
    Some(KmsgRecord {
        level: u8::try_from(prio & 7).ok()?,
        facility: prio >> 3,
        seq,
        usec,
        text,
    })
}

/// Undoes the kernel's \xNN escaping of a /dev/kmsg message part: the raw bytes.
///
/// A backslash not followed by `x` and two hex digits cannot come from the kernel, which escapes
/// every backslash; it is kept as it is rather than lost.
pub fn unescape(text: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'\\'
            && let Some(escaped) = escaped_byte(after)
        {
            raw.push(escaped);
            rest = after.get(3..).unwrap_or_default();
        } else {
            raw.push(byte);
            rest = after;
        }
    }
    raw
}

/// The byte that `x` and two hex digits at the start of `after_backslash` stand for.
fn escaped_byte(after_backslash: &[u8]) -> Option<u8> {
    let [b'x', high, low, ..] = *after_backslash else {
        return None;
    };
    Some(hex_digit(high)? << 4 | hex_digit(low)?)
}

fn hex_digit(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Whether every byte is one the kernel leaves as it is: printable ASCII.
fn is_escaped(text: &[u8]) -> bool {
    text.iter().all(|&b| (b' '..0x7f).contains(&b))
}

/// Whether `lines` is what follows the message line: nothing, or lines each starting with a
/// space, each ended by a newline (the last one's may be missing).
fn is_dictionary(lines: &[u8]) -> bool {
    let mut lines = lines.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        let well_formed = if line.is_empty() {
            last
        } else {
            line.first() == Some(&b' ') && is_escaped(line)
        };
        if !well_formed {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests;
