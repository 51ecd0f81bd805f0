//! Sampling a cgroup's memory against its limit (`--memory-scope cgroup`): the two files the
//! kernel's memory controller keeps, each kept open and re-read from the start into a buffer
//! on the stack, so a tick allocates nothing, as with meminfo.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::meminfo::{MemSample, MeminfoError};
use crate::text::number::parse_u64;

pub struct CgroupMemoryReader {
    usage: File,
    limit: File,
    usage_path: PathBuf,
}

impl CgroupMemoryReader {
    /// `usage` holds bytes in use (`memory.current`, `memory.usage_in_bytes`), `limit` the
    /// limit in bytes (`memory.max`, `memory.limit_in_bytes`).
    pub fn open(usage: &Path, limit: &Path) -> io::Result<CgroupMemoryReader> {
        Ok(CgroupMemoryReader {
            usage: File::open(usage)?,
            limit: File::open(limit)?,
            usage_path: usage.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.usage_path
    }

    /// The usage over the limit, as a sample whose total is the limit.
    pub fn sample(&mut self) -> Result<MemSample, MeminfoError> {
        let used = read_bytes(&self.usage, "usage")?;
        let limit = read_bytes(&self.limit, "limit")?.ok_or(MeminfoError::NoLimit)?;
        let used = used.ok_or(MeminfoError::Malformed("usage"))?;
        let total_kib = limit / 1024;
        if total_kib == 0 {
            return Err(MeminfoError::ZeroTotal);
        }
        Ok(MemSample {
            total_kib,
            available_kib: total_kib.saturating_sub(used / 1024),
            cgroup_limit: true,
        })
    }
}

/// A number of bytes, or `None` for `max` (no limit).
fn read_bytes(file: &File, what: &'static str) -> Result<Option<u64>, MeminfoError> {
    let mut buf = [0u8; 32];
    let filled = loop {
        match file.read_at(&mut buf, 0) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(MeminfoError::Io(e)),
        }
    };
    let text = buf.get(..filled).unwrap_or_default().trim_ascii();
    if text == b"max" {
        return Ok(None);
    }
    parse_u64(text)
        .map(Some)
        .ok_or(MeminfoError::Malformed(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_over_the_limit_and_max_is_no_limit() {
        let dir = tempfile::tempdir().unwrap();
        let (usage, limit) = (
            dir.path().join("memory.current"),
            dir.path().join("memory.max"),
        );
        std::fs::write(&usage, "446693376\n").unwrap();
        std::fs::write(&limit, "536870912\n").unwrap();
        let mut reader = CgroupMemoryReader::open(&usage, &limit).unwrap();
        let sample = reader.sample().unwrap();
        assert_eq!((sample.total_kib, sample.used_kib()), (524_288, 436_224));
        assert!(sample.cgroup_limit);
        assert_eq!(format!("{:.1}", sample.used_percent()), "83.2");
        // Rewritten in place, as the kernel's files are read again.
        std::fs::write(&usage, "600000000\n").unwrap();
        assert_eq!(reader.sample().unwrap().used_percent(), 100.0);
        std::fs::write(&limit, "max\n").unwrap();
        assert!(matches!(reader.sample(), Err(MeminfoError::NoLimit)));
        std::fs::write(&limit, "12x\n").unwrap();
        assert!(matches!(
            reader.sample(),
            Err(MeminfoError::Malformed("limit"))
        ));
    }
}
