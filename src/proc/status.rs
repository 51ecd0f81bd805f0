//! `/proc/PID/status`: the values the details show, each read on its own.

use super::{Unavailable, Value};
use crate::text::number::{first_word, parse_u64};

/// The values of `/proc/PID/status` the details show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusFields {
    /// The real uid, first of the four on the `Uid:` line.
    pub uid: Value<u32>,
    pub rss_kib: Value<u64>,
    pub peak_rss_kib: Value<u64>,
    pub vsz_kib: Value<u64>,
    pub swap_kib: Value<u64>,
    pub threads: Value<u64>,
    /// As the kernel wrote it: `S (sleeping)`.
    pub state: Value<Vec<u8>>,
    pub ppid: Value<u32>,
}

impl StatusFields {
    /// Every value unavailable for the one reason that the file could not be read.
    pub fn unavailable(why: Unavailable) -> StatusFields {
        StatusFields {
            uid: Err(why.clone()),
            rss_kib: Err(why.clone()),
            peak_rss_kib: Err(why.clone()),
            vsz_kib: Err(why.clone()),
            swap_kib: Err(why.clone()),
            threads: Err(why.clone()),
            state: Err(why.clone()),
            ppid: Err(why),
        }
    }
}

/// Parses the bytes of a `/proc/PID/status` file; separate from reading it so that the parser
/// the daemon runs is the one the tests and the fuzzer feed hostile bytes.
pub fn parse_status(status: &[u8]) -> StatusFields {
    let field = |name: &'static str, missing: &'static str| -> Value<&[u8]> {
        status_field(status, name.as_bytes()).ok_or(Unavailable::NotReported(missing))
    };
    let kib = |name: &'static str, missing| field(name, missing).and_then(|v| parse_kib(v, name));
    const NO_VM: &str = "not reported (kernel thread or zombie)";
    StatusFields {
        uid: status_uid(status),
        rss_kib: kib("VmRSS", NO_VM),
        peak_rss_kib: kib("VmHWM", NO_VM),
        vsz_kib: kib("VmSize", NO_VM),
        swap_kib: kib(
            "VmSwap",
            "not reported (kernel thread, zombie, or kernel without VmSwap)",
        ),
        threads: field("Threads", "no Threads in status").and_then(|v| parse_number(v, "Threads")),
        state: field("State", "no State in status").map(<[u8]>::to_vec),
        ppid: field("PPid", "no PPid in status")
            .and_then(|v| parse_number(v, "PPid"))
            .and_then(|ppid| {
                u32::try_from(ppid).map_err(|_| Unavailable::Invalid("PPid out of range"))
            }),
    }
}

/// The real uid from the bytes of a `/proc/PID/status` file.
pub fn status_uid(status: &[u8]) -> Value<u32> {
    let line = status_field(status, b"Uid").ok_or(Unavailable::NotReported("no Uid in status"))?;
    first_word(line)
        .and_then(parse_u64)
        .and_then(|uid| u32::try_from(uid).ok())
        .ok_or_else(|| Unavailable::Unreadable {
            what: "Uid line",
            found: line.to_vec(),
        })
}

/// The value after `Name:` in a status-style file, without the one tab the kernel puts after the
/// colon. Only that tab: a process name may itself begin with blanks or a carriage return, and
/// numbers are read word by word anyway.
pub fn status_field<'a>(status: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    status.split(|&b| b == b'\n').find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(b":")?;
        Some(rest.strip_prefix(b"\t").unwrap_or(rest))
    })
}

fn parse_number(v: &[u8], what: &'static str) -> Value<u64> {
    first_word(v)
        .and_then(parse_u64)
        .ok_or_else(|| Unavailable::Unreadable {
            what,
            found: v.to_vec(),
        })
}

/// `12345 kB` → 12345.
fn parse_kib(v: &[u8], what: &'static str) -> Value<u64> {
    let mut words = v
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    match (words.next(), words.next()) {
        (Some(n), Some(b"kB")) => parse_number(n, what),
        _ => Err(Unavailable::Unreadable {
            what,
            found: v.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_values_are_read_each_on_its_own() {
        let s = parse_status(
            b"Name:\tevil\x1bname\nState:\tS (sleeping)\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\n\
              VmHWM:\t  9000 kB\nVmRSS:\t  5120 kB\nVmSwap:\t12 MB\nThreads:\t3\n",
        );
        assert_eq!(s.state, Ok(b"S (sleeping)".to_vec()));
        assert_eq!((s.uid, s.ppid), (Ok(1000), Ok(1)));
        assert_eq!((s.rss_kib, s.peak_rss_kib), (Ok(5120), Ok(9000)));
        assert_eq!(s.threads, Ok(3));
        assert!(matches!(s.vsz_kib, Err(Unavailable::NotReported(_))));
        assert_eq!(
            s.swap_kib.unwrap_err().to_string(),
            "unreadable VmSwap `12 MB`"
        );
        let s = parse_status(b"PPid:\t4294967296\nUid:\tx\n");
        assert_eq!(s.ppid.unwrap_err().to_string(), "PPid out of range");
        assert_eq!(s.uid.unwrap_err().to_string(), "unreadable Uid line `x`");
    }

    #[test]
    fn sizes_past_32_bits_are_read_whole() {
        let s = parse_status(
            b"State:\tS (sleeping)\nVmPeak:\t 5592400 kB\nVmSize:\t 4194300 kB\n\
              VmHWM:\t 2796200 kB\nVmRSS:\t 1398100 kB\nVmSwap:\t4294967296 kB\nThreads:\t4294967296\n",
        );
        assert_eq!((s.vsz_kib, s.peak_rss_kib), (Ok(4_194_300), Ok(2_796_200)));
        assert_eq!(s.rss_kib, Ok(1_398_100));
        assert_eq!(s.swap_kib, Ok(4_294_967_296));
        assert_eq!(s.threads, Ok(4_294_967_296));
    }

    #[test]
    fn status_field_reads_values() {
        let status = b"Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t    5120 kB\n";
        assert_eq!(status_field(status, b"Name"), Some(&b"bash"[..]));
        assert_eq!(status_field(status, b"VmRSS"), Some(&b"    5120 kB"[..]));
        assert_eq!(status_field(status, b"Vm"), None);
        let name = b"Name:\t\r ev il\nUid:\t0\n";
        assert_eq!(status_field(name, b"Name"), Some(&b"\r ev il"[..]));
    }

    #[test]
    fn unreadable_values_are_shown_escaped() {
        let s = parse_status(b"Threads:\t\x1b[2J\n");
        assert_eq!(
            s.threads.unwrap_err().to_string(),
            "unreadable Threads `\\x1b[2J`"
        );
    }
}
