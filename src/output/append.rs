//! Appending to a log file in the log directory, for every output that keeps one. Each write is
//! one `write` to a file opened with O_APPEND for it alone: an entry is never interleaved or half
//! written, and a file that logrotate moved away (or a directory somebody deleted) is simply
//! created again at the next write. What cannot be written (disk full, directory unwritable)
//! waits in memory, in order, and goes out with the next write that works.
//!
//! A log may begin each file with a line of its own ([`TextLog::file_start`]): it is written in
//! the same write as the entries it comes before, when the file is new or empty at that write
//! (found with one fstat after the open) and before the program's first entries.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::TextLog;
use crate::text::escape::escape_path;

const DIR_MODE: u32 = 0o750;

/// Makes the log directory, 0750 whatever the umask, if it is missing (deleted while running,
/// or never made): what every file kept in it does before writing.
pub fn make_log_dir(dir: &Path) -> io::Result<()> {
    if !dir.is_dir() {
        DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
        // Explicit, so a tight umask cannot make the directory unreadable to its group.
        fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}
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

    /// Everything waiting, as the one text to write, after `start` and `log`'s note on what was
    /// dropped, if anything was.
    fn text(&self, start: Option<String>, log: &impl TextLog) -> String {
        let start = start.unwrap_or_default();
        let mut text = String::with_capacity(start.len() + self.bytes + 128);
        text.push_str(&start);
        if self.dropped > 0 {
            text.push_str(&log.dropped(self.dropped));
        }
        for entry in &self.entries {
            text.push_str(entry);
        }
        text
    }
}

/// The line that says `dropped` earlier entries of a text log were dropped.
pub fn dropped_note(dropped: usize) -> String {
    format!(
        "  (memory-monitor: {dropped} earlier entries of this log were dropped: it could not be written for too long)\n"
    )
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
    /// Something was written by this run of the program: a log's start line is due again only
    /// in a new or empty file.
    began: bool,
}

impl AppendFile {
    /// Makes sure the file can be written now, so a bad directory stops the program at start
    /// rather than at its first incident.
    pub fn prepare(dir: &Path, name: &'static str) -> Result<AppendFile, Unusable> {
        let file = AppendFile {
            dir: dir.to_path_buf(),
            name,
            backlog: Backlog::default(),
            began: false,
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
    /// `log` gives the line a new file begins with, and the note on dropped entries.
    pub fn append(&mut self, entry: String, log: &impl TextLog) -> Result<Written, NotWritten> {
        self.backlog.push(entry);
        self.write_waiting(log).map(|Written { delayed }| Written {
            // This entry was not delayed.
            delayed: delayed.saturating_sub(1),
        })
    }

    /// Writes what waits, if anything: every entry it writes was delayed.
    pub fn flush(&mut self, log: &impl TextLog) -> Result<Written, NotWritten> {
        self.write_waiting(log)
    }

    fn write_waiting(&mut self, log: &impl TextLog) -> Result<Written, NotWritten> {
        let waiting = self.backlog.entries.len();
        if waiting == 0 {
            return Ok(Written::default());
        }
        let result = self.open().and_then(|mut f| {
            let before = f.len()?;
            // Decided at the write itself: a file logrotate moved away a moment ago is new now.
            let start = if self.began && before > 0 {
                None
            } else {
                log.file_start()
            };
            let text = match self.backlog.entries.front() {
                // The usual case, one entry and nothing before it: written as it is, without a
                // copy.
                Some(only) if waiting == 1 && self.backlog.dropped == 0 && start.is_none() => {
                    Cow::Borrowed(only.as_str())
                }
                _ => Cow::Owned(self.backlog.text(start, log)),
            };
            write_whole(&mut f, before, &text)
        });
        match result {
            Ok(()) => {
                self.backlog = Backlog::default();
                self.began = true;
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
        make_log_dir(&self.dir)?;
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

/// One write of all of `text` to a file `before` bytes long, or nothing: what part of it landed
/// is cut back off, so no reader ever meets half an entry.
fn write_whole(f: &mut impl Appendable, before: u64, text: &str) -> io::Result<()> {
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
    use crate::report::Entry;

    /// A log with nothing of its own around its entries, as the text logs are.
    struct Plain;

    impl TextLog for Plain {
        const FILE_NAME: &'static str = "plain.log";

        fn render(&self, _: &Entry) -> Option<String> {
            None
        }
    }

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
        incidents.append("one\n".into(), &Plain).unwrap();
        incidents.append("two\n".into(), &Plain).unwrap();
        assert_eq!(read(&incidents), "one\ntwo\n");
        fs::rename(incidents.path(), dir.join("incidents.log.1")).unwrap();
        incidents.append("three\n".into(), &Plain).unwrap();
        assert_eq!(read(&incidents), "three\n");
        fs::remove_dir_all(&dir).unwrap();
        details.append("four\n".into(), &Plain).unwrap();
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
        incidents.append("first\n".into(), &Plain).unwrap();
        make_full(&incidents);
        let failed = incidents.append("second\n".into(), &Plain).unwrap_err();
        assert_eq!(failed.error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(failed.waiting, 1);
        let failed = incidents.append("third\n".into(), &Plain).unwrap_err();
        assert_eq!(failed.waiting, 2);
        assert_eq!(incidents.waiting(), 2);
        // The other log is not held up.
        details.append("detail\n".into(), &Plain).unwrap();

        make_writable(&incidents);
        let written = incidents.append("fourth\n".into(), &Plain).unwrap();
        assert_eq!(written, Written { delayed: 2 });
        assert_eq!(read(&incidents), "second\nthird\nfourth\n");
        assert_eq!(incidents.waiting(), 0);
        assert_eq!(incidents.flush(&Plain).unwrap(), Written::default());
    }

    #[test]
    fn flush_alone_writes_what_waits() {
        let root = tempfile::tempdir().unwrap();
        let mut details = AppendFile::prepare(root.path(), "details.log").unwrap();
        make_full(&details);
        details.append("a\n".into(), &Plain).unwrap_err();
        assert!(details.flush(&Plain).is_err());
        make_writable(&details);
        assert_eq!(details.flush(&Plain).unwrap(), Written { delayed: 1 });
        assert_eq!(read(&details), "a\n");
    }

    #[test]
    fn the_backlog_is_bounded_keeps_the_newest_and_says_what_it_dropped() {
        let root = tempfile::tempdir().unwrap();
        let mut incidents = AppendFile::prepare(root.path(), "incidents.log").unwrap();
        make_full(&incidents);
        let report = |n: usize| format!("report {n}\n{}\n", "x".repeat(1024 * 1024));
        for n in 0..12 {
            incidents.append(report(n), &Plain).unwrap_err();
        }
        let waiting = incidents.waiting();
        assert!((7..12).contains(&waiting), "{waiting}");
        make_writable(&incidents);
        incidents.flush(&Plain).unwrap();
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
        incidents.append(one_huge, &Plain).unwrap_err();
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
        let err = write_whole(&mut file, 8, "report\n").unwrap_err();
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
        write_whole(&mut roomy, 0, "report\n").unwrap();
        assert_eq!(roomy.data.borrow().as_slice(), b"report\n");
    }

    /// A log that begins each file with a line of its own, and words its note on drops its way.
    struct Started;

    impl TextLog for Started {
        const FILE_NAME: &'static str = "started.log";

        fn render(&self, _: &Entry) -> Option<String> {
            None
        }

        fn file_start(&self) -> Option<String> {
            Some("start\n".into())
        }

        fn dropped(&self, dropped: usize) -> String {
            format!("dropped {dropped}\n")
        }
    }

    #[test]
    fn a_start_line_begins_each_new_file_and_each_run() {
        let root = tempfile::tempdir().unwrap();
        let mut file = AppendFile::prepare(root.path(), "x.jsonl").unwrap();
        assert_eq!(read(&file), "", "nothing written at prepare");
        file.append("one\n".into(), &Started).unwrap();
        file.append("two\n".into(), &Started).unwrap();
        assert_eq!(read(&file), "start\none\ntwo\n");
        // Moved away, as logrotate does: the next write makes a new file, which starts again.
        fs::rename(file.path(), root.path().join("x.jsonl.1")).unwrap();
        file.append("three\n".into(), &Started).unwrap();
        assert_eq!(read(&file), "start\nthree\n");
        // Emptied (copytruncate, or logrotate's `create`): the same.
        fs::write(file.path(), "").unwrap();
        file.append("four\n".into(), &Started).unwrap();
        assert_eq!(read(&file), "start\nfour\n");
        // A new run of the program appends to the file as it is, after a start line of its own.
        let mut again = AppendFile::prepare(root.path(), "x.jsonl").unwrap();
        again.append("five\n".into(), &Started).unwrap();
        assert_eq!(read(&again), "start\nfour\nstart\nfive\n");
    }

    #[test]
    fn a_start_line_goes_out_with_what_waited_once_and_whole() {
        let root = tempfile::tempdir().unwrap();
        let mut file = AppendFile::prepare(root.path(), "x.jsonl").unwrap();
        file.append("one\n".into(), &Started).unwrap();
        make_full(&file);
        file.append("two\n".into(), &Started).unwrap_err();
        assert!(file.flush(&Started).is_err());
        // The file that comes back is new: it starts with the start line, then what waited.
        make_writable(&file);
        file.append("three\n".into(), &Started).unwrap();
        assert_eq!(read(&file), "start\ntwo\nthree\n");

        // A cut write takes the start line back with the rest.
        let mut cut = ShortFile {
            data: Vec::new().into(),
            room: 3,
        };
        write_whole(&mut cut, 0, "start\nfour\n").unwrap_err();
        assert!(cut.data.borrow().is_empty());
    }

    #[test]
    fn the_note_on_dropped_entries_is_the_logs_own() {
        let root = tempfile::tempdir().unwrap();
        let mut file = AppendFile::prepare(root.path(), "x.jsonl").unwrap();
        file.append("one\n".into(), &Started).unwrap();
        make_full(&file);
        let big = |n: usize| format!("{n}{}\n", "x".repeat(3 * 1024 * 1024));
        for n in 0..4 {
            file.append(big(n), &Started).unwrap_err();
        }
        let dropped = 4 - file.waiting();
        assert!(dropped > 0);
        make_writable(&file);
        file.flush(&Started).unwrap();
        let text = read(&file);
        assert!(
            text.starts_with(&format!("start\ndropped {dropped}\n")),
            "{}",
            &text[..40]
        );
        assert_eq!(
            dropped_note(3),
            "  (memory-monitor: 3 earlier entries of this log were dropped: it could not be written for too long)\n"
        );
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
