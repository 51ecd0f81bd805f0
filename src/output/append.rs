//! Appending to the logs. Each write is one `write` to a file opened with O_APPEND for it
//! alone: a report is never interleaved or half written, and a file that logrotate moved away (or
//! a directory somebody deleted) is simply created again at the next write. What cannot be
//! written (disk full, directory unwritable) waits in memory, in order, and goes out with the
//! next write that works.

use std::collections::VecDeque;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;

/// How much unwritten text is kept per log. The newest entry is always kept, whatever its size;
/// older ones are dropped first, and the log says so when it can be written again.
const BACKLOG_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFile {
    Incidents,
    Details,
}

pub const LOG_FILES: [LogFile; 2] = [LogFile::Incidents, LogFile::Details];

impl LogFile {
    pub fn file_name(self) -> &'static str {
        match self {
            LogFile::Incidents => "incidents.log",
            LogFile::Details => "details.log",
        }
    }

    fn index(self) -> usize {
        match self {
            LogFile::Incidents => 0,
            LogFile::Details => 1,
        }
    }
}

/// Entries (reports, recovered lines) not yet written, oldest first.
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

    fn clear(&mut self) {
        *self = Backlog::default();
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

#[derive(Debug)]
pub struct LogDir {
    dir: PathBuf,
    backlogs: [Backlog; 2],
}

impl LogDir {
    /// Makes sure both logs can be written now, so a bad directory stops the program at start
    /// rather than at its first incident.
    pub fn prepare(dir: &Path) -> Result<LogDir, String> {
        let logs = LogDir {
            dir: dir.to_path_buf(),
            backlogs: Default::default(),
        };
        for file in LOG_FILES {
            logs.open(file)
                .map_err(|e| unusable_directory(dir, file, &e))?;
        }
        Ok(logs)
    }

    pub fn path(&self, file: LogFile) -> PathBuf {
        self.dir.join(file.file_name())
    }

    /// Appends `entry` after whatever still waits, all in one write, so the log keeps its order
    /// and holds each entry whole or not at all. On failure everything waits for the next try.
    pub fn append(&mut self, file: LogFile, entry: String) -> Result<Written, NotWritten> {
        self.backlog_mut(file).push(entry);
        self.flush(file)
    }

    /// Writes what waits for `file`, if anything.
    pub fn flush(&mut self, file: LogFile) -> Result<Written, NotWritten> {
        let backlog = self.backlog(file);
        let waiting = backlog.entries.len();
        if waiting == 0 {
            return Ok(Written::default());
        }
        let result = match backlog.entries.front() {
            // The usual case, one entry and nothing dropped: written as it is, without a copy.
            Some(only) if waiting == 1 && backlog.dropped == 0 => {
                self.open(file).and_then(|mut f| write_whole(&mut f, only))
            }
            _ => {
                let text = backlog.text();
                self.open(file).and_then(|mut f| write_whole(&mut f, &text))
            }
        };
        match result {
            Ok(()) => {
                self.backlog_mut(file).clear();
                Ok(Written {
                    delayed: waiting - 1,
                })
            }
            Err(error) => Err(NotWritten { error, waiting }),
        }
    }

    /// Entries waiting for `file`.
    pub fn waiting(&self, file: LogFile) -> usize {
        self.backlog(file).entries.len()
    }

    /// Opens (creating if need be) both files now, as after log rotation on SIGHUP.
    pub fn reopen(&self) -> Vec<(LogFile, io::Error)> {
        LOG_FILES
            .into_iter()
            .filter_map(|file| self.open(file).err().map(|e| (file, e)))
            .collect()
    }

    fn backlog(&self, file: LogFile) -> &Backlog {
        &self.backlogs[file.index()]
    }

    fn backlog_mut(&mut self, file: LogFile) -> &mut Backlog {
        &mut self.backlogs[file.index()]
    }

    fn open(&self, file: LogFile) -> io::Result<File> {
        if !self.dir.is_dir() {
            DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(&self.dir)?;
            // Explicit, so a tight umask cannot make the directory unreadable to its group.
            fs::set_permissions(&self.dir, Permissions::from_mode(DIR_MODE))?;
        }
        let path = self.path(file);
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

/// The start-up error for a log directory that cannot be used: what is wrong and what to do.
fn unusable_directory(dir: &Path, file: LogFile, e: &io::Error) -> String {
    let fix = match e.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => format!(
            "make it writable by the user memory-monitor runs as ({}), or choose another with --log-dir",
            running_user()
        ),
        Some(libc::ENOTDIR | libc::EEXIST) => {
            "a file stands where a directory should be; remove it or choose another --log-dir"
                .into()
        }
        Some(libc::EROFS) => "the filesystem is read-only; choose another --log-dir".into(),
        Some(libc::ENOSPC | libc::EDQUOT) => {
            "free some space there or choose another --log-dir".into()
        }
        Some(libc::EISDIR) => format!(
            "{} is a directory; remove it or choose another --log-dir",
            file.file_name()
        ),
        _ => "choose another with --log-dir".into(),
    };
    format!(
        "cannot use log directory {}: {}: {e}; {fix}",
        crate::text::escape::escape_path(dir),
        file.file_name()
    )
}

fn running_user() -> String {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    use crate::proc::users::UserNames;
    crate::proc::users::SystemUsers.name_of(uid).map_or_else(
        || format!("uid {uid}"),
        |name| crate::text::escape::escape(&name),
    )
}

fn write_whole(f: &mut File, text: &str) -> io::Result<()> {
    let before = f.metadata()?.len();
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
    // Cut back what part of the text did land, so no reader ever meets half a report.
    let _ = f.set_len(before);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(logs: &LogDir, file: LogFile) -> String {
        fs::read_to_string(logs.path(file)).unwrap()
    }

    /// Points the log at /dev/full, which accepts opens and fails every write with ENOSPC.
    fn make_full(logs: &LogDir, file: LogFile) {
        let path = logs.path(file);
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    }

    fn make_writable(logs: &LogDir, file: LogFile) {
        let path = logs.path(file);
        fs::remove_file(&path).unwrap();
        fs::write(&path, "").unwrap();
    }

    #[test]
    fn creates_the_directory_and_files_with_their_modes() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        let logs = LogDir::prepare(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o750
        );
        for f in LOG_FILES {
            assert_eq!(
                fs::metadata(logs.path(f)).unwrap().permissions().mode() & 0o777,
                0o640
            );
        }
    }

    #[test]
    fn appends_and_recreates_a_rotated_file_or_a_deleted_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("logs");
        let mut logs = LogDir::prepare(&dir).unwrap();
        logs.append(LogFile::Incidents, "one\n".into()).unwrap();
        logs.append(LogFile::Incidents, "two\n".into()).unwrap();
        assert_eq!(read(&logs, LogFile::Incidents), "one\ntwo\n");
        fs::rename(logs.path(LogFile::Incidents), dir.join("incidents.log.1")).unwrap();
        logs.append(LogFile::Incidents, "three\n".into()).unwrap();
        assert_eq!(read(&logs, LogFile::Incidents), "three\n");
        fs::remove_dir_all(&dir).unwrap();
        logs.append(LogFile::Details, "four\n".into()).unwrap();
        assert_eq!(read(&logs, LogFile::Details), "four\n");
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
        let err = LogDir::prepare(&file).unwrap_err();
        assert!(err.starts_with("cannot use log directory"), "{err}");
        assert!(
            err.contains("remove it or choose another --log-dir"),
            "{err}"
        );
    }

    #[test]
    fn a_failed_write_waits_and_goes_out_in_order_with_the_next() {
        let root = tempfile::tempdir().unwrap();
        let mut logs = LogDir::prepare(root.path()).unwrap();
        logs.append(LogFile::Incidents, "first\n".into()).unwrap();
        make_full(&logs, LogFile::Incidents);
        let failed = logs
            .append(LogFile::Incidents, "second\n".into())
            .unwrap_err();
        assert_eq!(failed.error.raw_os_error(), Some(libc::ENOSPC));
        assert_eq!(failed.waiting, 1);
        let failed = logs
            .append(LogFile::Incidents, "third\n".into())
            .unwrap_err();
        assert_eq!(failed.waiting, 2);
        assert_eq!(logs.waiting(LogFile::Incidents), 2);
        // The other log is not held up.
        logs.append(LogFile::Details, "detail\n".into()).unwrap();

        make_writable(&logs, LogFile::Incidents);
        let written = logs.append(LogFile::Incidents, "fourth\n".into()).unwrap();
        assert_eq!(written, Written { delayed: 2 });
        assert_eq!(read(&logs, LogFile::Incidents), "second\nthird\nfourth\n");
        assert_eq!(logs.waiting(LogFile::Incidents), 0);
        assert_eq!(logs.flush(LogFile::Incidents).unwrap(), Written::default());
    }

    #[test]
    fn flush_alone_writes_what_waits() {
        let root = tempfile::tempdir().unwrap();
        let mut logs = LogDir::prepare(root.path()).unwrap();
        make_full(&logs, LogFile::Details);
        logs.append(LogFile::Details, "a\n".into()).unwrap_err();
        assert!(logs.flush(LogFile::Details).is_err());
        make_writable(&logs, LogFile::Details);
        assert_eq!(
            logs.flush(LogFile::Details).unwrap(),
            Written { delayed: 0 }
        );
        assert_eq!(read(&logs, LogFile::Details), "a\n");
    }

    #[test]
    fn the_backlog_is_bounded_keeps_the_newest_and_says_what_it_dropped() {
        let root = tempfile::tempdir().unwrap();
        let mut logs = LogDir::prepare(root.path()).unwrap();
        make_full(&logs, LogFile::Incidents);
        let report = |n: usize| format!("report {n}\n{}\n", "x".repeat(1024 * 1024));
        for n in 0..12 {
            logs.append(LogFile::Incidents, report(n)).unwrap_err();
        }
        let waiting = logs.waiting(LogFile::Incidents);
        assert!((7..12).contains(&waiting), "{waiting}");
        make_writable(&logs, LogFile::Incidents);
        logs.flush(LogFile::Incidents).unwrap();
        let text = read(&logs, LogFile::Incidents);
        let dropped = 12 - waiting;
        assert!(text.starts_with(&format!(
            "  (memory-monitor: {dropped} earlier entries of this log were dropped"
        )));
        assert!(!text.contains(&format!("report {}\n", dropped - 1)));
        for n in dropped..12 {
            assert!(text.contains(&format!("report {n}\n")), "report {n}");
        }
        let one_huge = "y".repeat(BACKLOG_LIMIT + 10);
        make_full(&logs, LogFile::Incidents);
        logs.append(LogFile::Incidents, one_huge).unwrap_err();
        assert_eq!(logs.waiting(LogFile::Incidents), 1, "the newest is kept");
    }

    #[test]
    fn a_full_disk_leaves_no_half_report() {
        let mut full = OpenOptions::new().append(true).open("/dev/full").unwrap();
        let err = write_whole(&mut full, "report\n").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    }

    #[test]
    fn reopen_creates_missing_files_now() {
        let root = tempfile::tempdir().unwrap();
        let logs = LogDir::prepare(root.path()).unwrap();
        fs::remove_file(logs.path(LogFile::Details)).unwrap();
        assert!(logs.reopen().is_empty());
        assert!(logs.path(LogFile::Details).exists());
    }
}
