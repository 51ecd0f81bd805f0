//! Appending to a log file in the log directory, for every output that keeps one. Each write is
//! one `write` to a file opened with O_APPEND for it alone: an entry is never interleaved or half
//! written, and a file that logrotate moved away (or a directory somebody deleted) is simply
//! created again at the next write. What cannot be written (disk full, directory unwritable)
//! waits in memory, in order, and goes out with the next write that works.

use std::collections::VecDeque;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::text::escape::escape_path;

const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;

/// How much unwritten text is kept per log. The newest entry is always kept, whatever its size;
/// older ones are dropped first, and the log says so when it can be written again.
const BACKLOG_LIMIT: usize = 8 * 1024 * 1024;

/// Entries not yet written, oldest first.
#[derive(Debug, Default)]
struct Backlog {
    entries: VecDeque<String>,
    bytes: usize,
    dropped: usize,
}

impl Backlog {
    fn push(&mut self, entry: String) {
        self.bytes += entry.len();
        self.entries.push_back(entry);
        while self.bytes > BACKLOG_LIMIT && self.entries.len() > 1 {
            if let Some(oldest) = self.entries.pop_front() {
                self.bytes -= oldest.len();
                self.dropped += 1;
            }
        }
    }

    /// Everything waiting, as the one text to write.
    fn text(&self) -> String {
        let mut text = String::with_capacity(self.bytes + 128);
        if self.dropped > 0 {
            text.push_str(&format!(
                "  (memory-monitor: {} earlier entries of this log were dropped: it could not be written for too long)\n",
                self.dropped
            ));
        }
        for entry in &self.entries {
            text.push_str(entry);
        }
        text
    }
}

/// What a successful write carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Entries that had waited for an earlier failure and went out with this write.
    pub delayed: usize,
}

/// A failed write; the entries wait for the next try.
#[derive(Debug)]
pub struct NotWritten {
    pub error: io::Error,
    /// Entries now waiting, this one included.
    pub waiting: usize,
}

/// A log directory that cannot be used at start.
#[derive(Debug)]
pub struct Unusable {
    pub dir: PathBuf,
    pub file: &'static str,
    pub error: io::Error,
}

impl Unusable {
    /// What is wrong and what to do; `user` names who the program runs as, for a directory it
    /// may not write.
    pub fn explain(&self, user: impl FnOnce() -> String) -> String {
        let fix = match self.error.kind() {
            io::ErrorKind::PermissionDenied => format!(
                "make it writable by the user memory-monitor runs as ({}), or choose another with --log-dir",
                user()
            ),
            io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists => {
                "a file stands where a directory should be; remove it or choose another --log-dir"
                    .into()
            }
            io::ErrorKind::ReadOnlyFilesystem => {
                "the filesystem is read-only; choose another --log-dir".into()
            }
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                "free some space there or choose another --log-dir".into()
            }
            io::ErrorKind::IsADirectory => format!(
                "{} is a directory; remove it or choose another --log-dir",
                self.file
            ),
            _ => "choose another with --log-dir".into(),
        };
        format!(
            "cannot use log directory {}: {}: {}; {fix}",
            escape_path(&self.dir),
            self.file,
            self.error
        )
    }
}

/// One log file in a directory, and what waits to be written to it.
#[derive(Debug)]
pub struct AppendFile {
    dir: PathBuf,
    name: &'static str,
    backlog: Backlog,
}

impl AppendFile {
    /// Makes sure the file can be written now, so a bad directory stops the program at start
    /// rather than at its first incident.
    pub fn prepare(dir: &Path, name: &'static str) -> Result<AppendFile, Unusable> {
        let file = AppendFile {
            dir: dir.to_path_buf(),
            name,
            backlog: Backlog::default(),
        };
        file.open().map_err(|error| Unusable {
            dir: dir.to_path_buf(),
            file: name,
            error,
        })?;
        Ok(file)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(self.name)
    }

    /// Appends `entry` after whatever still waits, all in one write, so the log keeps its order
    /// and holds each entry whole or not at all. On failure everything waits for the next try.
    pub fn append(&mut self, entry: String) -> Result<Written, NotWritten> {
        self.backlog.push(entry);
        self.write_waiting().map(|Written { delayed }| Written {
            // This entry was not delayed.
            delayed: delayed.saturating_sub(1),
        })
    }

    /// Writes what waits, if anything: every entry it writes was delayed.
    pub fn flush(&mut self) -> Result<Written, NotWritten> {
        self.write_waiting()
    }

    fn write_waiting(&mut self) -> Result<Written, NotWritten> {
        let waiting = self.backlog.entries.len();
        if waiting == 0 {
            return Ok(Written::default());
        }
        let result = match self.backlog.entries.front() {
            // The usual case, one entry and nothing dropped: written as it is, without a copy.
            Some(only) if waiting == 1 && self.backlog.dropped == 0 => {
                self.open().and_then(|mut f| write_whole(&mut f, only))
            }
            _ => {
                let text = self.backlog.text();
                self.open().and_then(|mut f| write_whole(&mut f, &text))
            }
        };
        match result {
            Ok(()) => {
                self.backlog = Backlog::default();
                Ok(Written { delayed: waiting })
            }
            Err(error) => Err(NotWritten { error, waiting }),
        }
    }

    /// Entries waiting.
    pub fn waiting(&self) -> usize {
        self.backlog.entries.len()
    }

    /// Opens (creating if need be) the file now, as after log rotation on SIGHUP.
    pub fn reopen(&self) -> io::Result<()> {
        self.open().map(drop)
    }

    fn open(&self) -> io::Result<File> {
        if !self.dir.is_dir() {
            DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(&self.dir)?;
            // Explicit, so a tight umask cannot make the directory unreadable to its group.
            fs::set_permissions(&self.dir, Permissions::from_mode(DIR_MODE))?;
        }
        let path = self.path();
        match OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&path)
        {
            Ok(f) => {
                f.set_permissions(Permissions::from_mode(FILE_MODE))?;
                Ok(f)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                OpenOptions::new().append(true).open(&path)
            }
            Err(e) => Err(e),
        }
    }
}

/// What [`write_whole`] needs of a file: a seam, so a test can cut a write short.
trait Appendable: Write {
    fn len(&self) -> io::Result<u64>;
    fn truncate(&self, len: u64) -> io::Result<()>;
}

impl Appendable for File {
    fn len(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
}

/// One write of all of `text`, or nothing: what part of it landed is cut back off, so no reader
/// ever meets half an entry.
fn write_whole(f: &mut impl Appendable, text: &str) -> io::Result<()> {
    let before = f.len()?;
    let result = match f.write(text.as_bytes()) {
        Ok(n) if n == text.len() => return Ok(()),
        Ok(n) => Err(io::Error::new(
            io::ErrorKind::StorageFull,
            format!(
                "only {n} of {} bytes could be written (disk full?)",
                text.len()
            ),
        )),
        Err(e) => Err(e),
    };
    let _ = f.truncate(before);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(file: &AppendFile) -> String {
        fs::read_to_string(file.path()).unwrap()
    }

    /// Points the log at /dev/full, which accepts opens and fails every write with ENOSPC.
    fn make_full(file: &AppendFile) {
        let path = file.path();
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    }

    fn make_writable(file: &AppendFile) {
        let path = file.path();
        fs::remove_file(&path).unwrap();
        fs::write(&path, "").unwrap();
    }

    #[test]
    fn creates_the_directory_and_the_file_with_their_modes() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        let file = AppendFile::prepare(&dir, "x.log").unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o750
        );
        assert_eq!(
            fs::metadata(file.path()).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn appends_and_recreates_a_rotated_file_or_a_deleted_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("logs");
        let mut incidents = AppendFile::prepare(&dir, "incidents.log").unwrap();
        let mut details = AppendFile::prepare(&dir, "details.log").unwrap();
        incidents.append("one\n".into()).unwrap();
        incidents.append("two\n".into()).unwrap();
        assert_eq!(read(&incidents), "one\ntwo\n");
        fs::rename(incidents.path(), dir.join("incidents.log.1")).unwrap();
        incidents.append("three\n".into()).unwrap();
        assert_eq!(read(&incidents), "three\n");
        fs::remove_dir_all(&dir).unwrap();
        details.append("four\n".into()).unwrap();
        assert_eq!(read(&details), "four\n");
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o750
        );
    }

    #[test]
    fn an_unusable_directory_is_refused_at_prepare_with_the_fix() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("plain-file");
        fs::write(&file, "x").unwrap();
        let err = AppendFile::prepare(&file, "incidents.log")
            .unwrap_err()
            .explain(|| unreachable!("not a permission problem"));
        assert!(err.starts_with("cannot use log directory"), "{err}");
        assert!(
            err.contains("remove it or choose another --log-dir"),
            "{err}"
        );
    }

    #[test]
    fn a_failed_write_waits_and_goes_out_in_order_with_the_next() {
        let root = tempfile::tempdir().unwrap();
        let mut incidents = AppendFile::prepare(root.path(), "incidents.log").unwrap();
        let mut details = AppendFile::prepare(root.path(), "details.log").unwrap();
        incidents.append("first\n".into()).unwrap();
        make_full(&incidents);
        let failed = incidents.append("second\n".into()).unwrap_err();
        assert_eq!(failed.error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(failed.waiting, 1);
        let failed = incidents.append("third\n".into()).unwrap_err();
        assert_eq!(failed.waiting, 2);
        assert_eq!(incidents.waiting(), 2);
        // The other log is not held up.
        details.append("detail\n".into()).unwrap();

        make_writable(&incidents);
        let written = incidents.append("fourth\n".into()).unwrap();
        assert_eq!(written, Written { delayed: 2 });
        assert_eq!(read(&incidents), "second\nthird\nfourth\n");
        assert_eq!(incidents.waiting(), 0);
        assert_eq!(incidents.flush().unwrap(), Written::default());
    }

    #[test]
    fn flush_alone_writes_what_waits() {
        let root = tempfile::tempdir().unwrap();
        let mut details = AppendFile::prepare(root.path(), "details.log").unwrap();
        make_full(&details);
        details.append("a\n".into()).unwrap_err();
        assert!(details.flush().is_err());
        make_writable(&details);
        assert_eq!(details.flush().unwrap(), Written { delayed: 1 });
        assert_eq!(read(&details), "a\n");
    }

    #[test]
    fn the_backlog_is_bounded_keeps_the_newest_and_says_what_it_dropped() {
        let root = tempfile::tempdir().unwrap();
        let mut incidents = AppendFile::prepare(root.path(), "incidents.log").unwrap();
        make_full(&incidents);
        let report = |n: usize| format!("report {n}\n{}\n", "x".repeat(1024 * 1024));
        for n in 0..12 {
            incidents.append(report(n)).unwrap_err();
        }
        let waiting = incidents.waiting();
        assert!((7..12).contains(&waiting), "{waiting}");
        make_writable(&incidents);
        incidents.flush().unwrap();
        let text = read(&incidents);
        let dropped = 12 - waiting;
        assert!(text.starts_with(&format!(
            "  (memory-monitor: {dropped} earlier entries of this log were dropped"
        )));
        assert!(!text.contains(&format!("report {}\n", dropped - 1)));
        for n in dropped..12 {
            assert!(text.contains(&format!("report {n}\n")), "report {n}");
        }
        let one_huge = "y".repeat(BACKLOG_LIMIT + 10);
        make_full(&incidents);
        incidents.append(one_huge).unwrap_err();
        assert_eq!(incidents.waiting(), 1, "the newest is kept");
    }

    /// A file that takes only the first `room` bytes of a write, as a disk that fills up does.
    struct ShortFile {
        data: std::cell::RefCell<Vec<u8>>,
        room: usize,
    }

    impl Write for ShortFile {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.room);
            self.data.borrow_mut().extend_from_slice(&buf[..n]);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Appendable for ShortFile {
        fn len(&self) -> io::Result<u64> {
            Ok(self.data.borrow().len() as u64)
        }

        fn truncate(&self, len: u64) -> io::Result<()> {
            self.data.borrow_mut().truncate(len as usize);
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_leaves_no_half_report() {
        let mut file = ShortFile {
            data: b"earlier\n".to_vec().into(),
            room: 3,
        };
        let err = write_whole(&mut file, "report\n").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(
            file.data.borrow().as_slice(),
            b"earlier\n",
            "the cut part taken back"
        );
        let mut roomy = ShortFile {
            data: Vec::new().into(),
            room: 100,
        };
        write_whole(&mut roomy, "report\n").unwrap();
        assert_eq!(roomy.data.borrow().as_slice(), b"report\n");
    }

    #[test]
    fn reopen_creates_a_missing_file_now() {
        let root = tempfile::tempdir().unwrap();
        let details = AppendFile::prepare(root.path(), "details.log").unwrap();
        fs::remove_file(details.path()).unwrap();
        details.reopen().unwrap();
        assert!(details.path().exists());
    }
}
