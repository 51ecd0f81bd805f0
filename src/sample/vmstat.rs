//! The kernel's count of OOM kills, `oom_kill` in `<proc-root>/vmstat` (Linux 4.13 and later):
//! what the kills written must add up to, and where they are counted when the kernel's log
//! cannot be read. Kept open and read with one `pread`, like meminfo.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::text::number::parse_u64;

/// Today's vmstat is about 5 KiB.
const BUFFER_SIZE: usize = 32 * 1024;

pub struct VmstatReader {
    file: File,
    path: PathBuf,
    buf: Box<[u8]>,
}

impl VmstatReader {
    pub fn open(proc_root: &Path) -> io::Result<VmstatReader> {
        let path = proc_root.join("vmstat");
        Ok(VmstatReader {
            file: File::open(&path)?,
            path,
            buf: vec![0; BUFFER_SIZE].into_boxed_slice(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of processes the OOM killer has killed since boot; `None` on a kernel that
    /// does not count them.
    pub fn oom_kills(&mut self) -> io::Result<Option<u64>> {
        let filled = loop {
            match self.file.read_at(&mut self.buf, 0) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        Ok(oom_kills_in(self.buf.get(..filled).unwrap_or_default()))
    }
}

/// The `oom_kill` figure of vmstat text.
pub fn oom_kills_in(vmstat: &[u8]) -> Option<u64> {
    vmstat.split(|&b| b == b'\n').find_map(|line| {
        let value = line.strip_prefix(b"oom_kill ")?;
        parse_u64(value.trim_ascii())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oom_kill_line_is_found_wherever_it_is() {
        assert_eq!(
            oom_kills_in(b"nr_free_pages 1\noom_kill 17\nnuma_hit 2\n"),
            Some(17)
        );
        assert_eq!(
            oom_kills_in(b"oom_kill 18446744073709551615"),
            Some(u64::MAX)
        );
        assert_eq!(oom_kills_in(b"nr_free_pages 1\n"), None, "before 4.13");
        assert_eq!(oom_kills_in(b"oom_kill x\n"), None);
        assert_eq!(oom_kills_in(b"oom_kill_extra 3\n"), None);
    }
}
