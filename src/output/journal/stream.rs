//! Whether our stderr is the journal. For a service whose stdout or stderr goes to the journal,
//! systemd sets `JOURNAL_STREAM` to `<device>:<inode>` (decimal) of that stream (systemd.exec(5)).
//! Only the stream itself has that identity: a stderr redirected elsewhere (a shell's `2>file`
//! in ExecStart=, a program started from the service with a stderr of its own) has another, so
//! the variable alone says nothing.

use std::os::fd::AsFd;

/// Whether fd 2 is the journal stream that `JOURNAL_STREAM` names; false when the variable is
/// missing or malformed, or fd 2 is closed or something else.
pub fn stderr_is_journal() -> bool {
    std::env::var_os("JOURNAL_STREAM")
        .and_then(|value| parse_journal_stream(value.as_encoded_bytes()))
        .is_some_and(|stream| is_stream(std::io::stderr(), stream))
}

/// The device and inode in a `JOURNAL_STREAM` value: two decimal numbers, no sign or space,
/// separated by one colon. None for anything else, or a number past u64.
pub fn parse_journal_stream(value: &[u8]) -> Option<(u64, u64)> {
    let (device, inode) = std::str::from_utf8(value).ok()?.split_once(':')?;
    Some((decimal(device)?, decimal(inode)?))
}

/// Whether `fd` is the file with this `(device, inode)`, as `fstat` says.
pub fn is_stream(fd: impl AsFd, (device, inode): (u64, u64)) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|stat| stat.st_dev == device && stat.st_ino == inode)
}

/// `str::parse` alone would take a leading `+`.
fn decimal(digits: &str) -> Option<u64> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::os::unix::fs::MetadataExt;
    use std::process::{Command, Stdio};

    fn identity(file: &File) -> (u64, u64) {
        let metadata = file.metadata().unwrap();
        (metadata.dev(), metadata.ino())
    }

    #[test]
    fn parses_device_and_inode() {
        assert_eq!(parse_journal_stream(b"8:1234"), Some((8, 1234)));
        assert_eq!(parse_journal_stream(b"0:0"), Some((0, 0)));
        assert_eq!(parse_journal_stream(b"007:09"), Some((7, 9)));
        let largest = format!("{}:{}", u64::MAX, u64::MAX);
        assert_eq!(
            parse_journal_stream(largest.as_bytes()),
            Some((u64::MAX, u64::MAX))
        );
    }

    #[test]
    fn anything_else_is_none() {
        let malformed: [&[u8]; 17] = [
            b"",
            b":",
            b"8",
            b"8:",
            b":1234",
            b"8:1234:5",
            b"8::1234",
            b"+8:1234",
            b"-8:1234",
            b"8:-1234",
            b" 8:1234",
            b"8:1234\n",
            b"8 :1234",
            b"0x8:1234",
            b"a:b",
            b"8:12\xff34",
            b"\xff",
        ];
        for value in malformed {
            assert_eq!(
                parse_journal_stream(value),
                None,
                "{:?}",
                value.escape_ascii()
            );
        }
    }

    #[test]
    fn a_number_past_u64_is_none() {
        let past = "18446744073709551616";
        assert_eq!(parse_journal_stream(format!("{past}:1").as_bytes()), None);
        assert_eq!(parse_journal_stream(format!("1:{past}").as_bytes()), None);
        let far = "9".repeat(100);
        assert_eq!(
            parse_journal_stream(format!("{far}:{far}").as_bytes()),
            None
        );
    }

    #[test]
    fn an_fd_is_the_stream_with_its_device_and_inode() {
        let file = tempfile::tempfile().unwrap();
        let other = tempfile::tempfile().unwrap();
        let (device, inode) = identity(&file);
        assert!(is_stream(&file, (device, inode)));
        assert!(!is_stream(&file, (device, inode + 1)));
        assert!(!is_stream(&file, (device + 1, inode)));
        assert!(!is_stream(&file, identity(&other)));
    }

    /// The test runs itself again, with fd 2 a temporary file and `JOURNAL_STREAM` set, and the
    /// run with this variable set checks `stderr_is_journal` there.
    const CHILD: &str = "MEMORY_MONITOR_TEST_STDERR_IS_JOURNAL";
    const THIS_TEST: &str =
        "output::journal::stream::tests::stderr_is_journal_compares_fd_2_with_the_variable";

    #[test]
    fn stderr_is_journal_compares_fd_2_with_the_variable() {
        if let Some(expected) = std::env::var_os(CHILD) {
            assert_eq!(stderr_is_journal(), expected == "yes");
            return;
        }
        let stderr = tempfile::tempfile().unwrap();
        let (device, inode) = identity(&stderr);
        let cases = [
            (Some(format!("{device}:{inode}")), "yes"),
            (Some(format!("{device}:{}", inode + 1)), "no"),
            (Some(format!("{device}:{inode}:")), "no"),
            (None, "no"),
        ];
        for (value, expected) in cases {
            let mut child = Command::new(std::env::current_exe().unwrap());
            child
                .args(["--exact", THIS_TEST])
                .env(CHILD, expected)
                .stdout(Stdio::piped())
                .stderr(stderr.try_clone().unwrap());
            match &value {
                Some(value) => child.env("JOURNAL_STREAM", value),
                None => child.env_remove("JOURNAL_STREAM"),
            };
            let output = child.output().unwrap();
            let report = String::from_utf8_lossy(&output.stdout);
            // A name that matches no test would pass with nothing run.
            assert!(
                output.status.success() && report.contains("1 passed"),
                "JOURNAL_STREAM={value:?}: {}\n{report}",
                output.status
            );
        }
    }
}
