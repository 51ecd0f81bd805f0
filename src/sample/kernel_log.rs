//! The kernel's log, `/dev/kmsg`, read without blocking in the loop: each `read` of it gives one
//! record, `PRIO,SEQ,USEC,FLAGS;TEXT`, and dictionary lines that start with a blank, which are
//! skipped. Opened, it starts at the oldest record the kernel still holds. A plain file of such
//! lines (`--kernel-log` in tests) is read the same way, from where the last read stopped.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::OFlags;

/// A record is at most about 1 KiB of text and its dictionary.
const BUFFER_SIZE: usize = 16 * 1024;

pub struct KernelLog {
    file: File,
    path: PathBuf,
    buf: Box<[u8]>,
    /// Bytes of an unfinished line kept at the start of `buf` (a plain file only).
    held: usize,
}

/// How a read went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// The kernel overwrote records before they could be read (`EPIPE`).
    pub lost: bool,
}

impl KernelLog {
    pub fn open(path: &Path) -> io::Result<KernelLog> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(OFlags::NONBLOCK.bits() as i32)
            .open(path)?;
        Ok(KernelLog {
            file,
            path: path.to_path_buf(),
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
            held: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every record there is now and gives each one's first line, without its newline, to
    /// `each`. Allocates nothing.
    pub fn read(&mut self, mut each: impl FnMut(&[u8])) -> io::Result<Read> {
        let mut read = Read::default();
        loop {
            let room = self.buf.get_mut(self.held..).unwrap_or_default();
            if room.is_empty() {
                // One line longer than the buffer: not a record of the kernel's; dropped.
                self.held = 0;
                continue;
            }
            let n = match self.file.read(room) {
                Ok(0) => return Ok(read),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(read),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    read.lost = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let filled = self.held + n;
            let text = self.buf.get(..filled).unwrap_or_default();
            let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            for line in text
                .get(..complete)
                .unwrap_or_default()
                .split(|&b| b == b'\n')
            {
                if !line.is_empty() && !line.starts_with(b" ") {
                    each(line);
                }
            }
            self.buf.copy_within(complete..filled, 0);
            self.held = filled - complete;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_of_records_is_read_line_by_line_as_it_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kmsg");
        std::fs::write(&path, "6,1,100,-;first\n SUBSYSTEM=x\n3,2,200,-;sec").unwrap();
        let mut log = KernelLog::open(&path).unwrap();
        let mut seen = Vec::new();
        log.read(|line| seen.push(line.to_vec())).unwrap();
        assert_eq!(seen, [b"6,1,100,-;first".to_vec()]);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"ond\n3,3,300,-;third\n").unwrap();
        seen.clear();
        log.read(|line| seen.push(line.to_vec())).unwrap();
        assert_eq!(
            seen,
            [b"3,2,200,-;second".to_vec(), b"3,3,300,-;third".to_vec()]
        );
        seen.clear();
        assert_eq!(
            log.read(|line| seen.push(line.to_vec())).unwrap(),
            Read::default()
        );
        assert!(seen.is_empty());
    }

    #[test]
    fn the_real_kernel_log_reads_or_says_why_not() {
        match KernelLog::open(Path::new("/dev/kmsg")) {
            Ok(mut log) => {
                let mut records = 0;
                log.read(|line| {
                    assert!(line.contains(&b';'), "{}", String::from_utf8_lossy(line));
                    records += 1;
                })
                .unwrap();
                assert!(records > 0, "the kernel's log holds something since boot");
            }
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}"),
        }
    }
}
