//! Appending to the logs. Each report is one `write` to a file opened with O_APPEND for that
//! report alone: a report is never interleaved or half written, and a file that logrotate moved
//! away is simply created again at the next report.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFile {
    Incidents,
    Details,
}

impl LogFile {
    pub fn file_name(self) -> &'static str {
        match self {
            LogFile::Incidents => "incidents.log",
            LogFile::Details => "details.log",
        }
    }
}

#[derive(Clone, Debug)]
pub struct LogDir {
    dir: PathBuf,
}

impl LogDir {
    /// Makes sure both logs can be written now, so a bad directory stops the program at start
    /// rather than at its first incident.
    pub fn prepare(dir: &Path) -> Result<LogDir, String> {
        let logs = LogDir {
            dir: dir.to_path_buf(),
        };
        for file in [LogFile::Incidents, LogFile::Details] {
            logs.open(file).map_err(|e| {
                format!(
                    "cannot use log directory {}: {}: {e}",
                    dir.display(),
                    file.file_name()
                )
            })?;
        }
        Ok(logs)
    }

    pub fn path(&self, file: LogFile) -> PathBuf {
        self.dir.join(file.file_name())
    }

    /// Appends `text` with a single write. If the disk fills part way, the file is cut back to
    /// where it was, so no reader ever meets half a report.
    pub fn append(&self, file: LogFile, text: &str) -> io::Result<()> {
        write_whole(&mut self.open(file)?, text)
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

fn write_whole(f: &mut File, text: &str) -> io::Result<()> {
    let before = f.metadata()?.len();
    let result = match f.write(text.as_bytes()) {
        Ok(n) if n == text.len() => return Ok(()),
        Ok(n) => Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!(
                "only {n} of {} bytes could be written (disk full?); the report was not kept",
                text.len()
            ),
        )),
        Err(e) => Err(e),
    };
    let _ = f.set_len(before);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_directory_and_files_with_their_modes() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        let logs = LogDir::prepare(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o750
        );
        for f in [LogFile::Incidents, LogFile::Details] {
            assert_eq!(
                fs::metadata(logs.path(f)).unwrap().permissions().mode() & 0o777,
                0o640
            );
        }
    }

    #[test]
    fn appends_and_recreates_a_rotated_file() {
        let root = tempfile::tempdir().unwrap();
        let logs = LogDir::prepare(root.path()).unwrap();
        logs.append(LogFile::Incidents, "one\n").unwrap();
        logs.append(LogFile::Incidents, "two\n").unwrap();
        let path = logs.path(LogFile::Incidents);
        assert_eq!(fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        fs::rename(&path, root.path().join("incidents.log.1")).unwrap();
        logs.append(LogFile::Incidents, "three\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "three\n");
    }

    #[test]
    fn an_unusable_directory_is_refused_at_prepare() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("plain-file");
        fs::write(&file, "x").unwrap();
        let err = LogDir::prepare(&file).unwrap_err();
        assert!(err.contains("cannot use log directory"), "{err}");
    }

    #[test]
    fn a_full_disk_leaves_no_half_report() {
        // /dev/full accepts opens and fails every write with ENOSPC.
        let mut full = OpenOptions::new().append(true).open("/dev/full").unwrap();
        let err = write_whole(&mut full, "report\n").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    }
}
