//! Sampling `/proc/meminfo`: the only work the idle loop does, so it keeps the file open, reads
//! it into a buffer it owns, and allocates nothing per sample.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::text::escape::escape_path;
use crate::text::number::parse_u64;

/// What one sample says, in KiB as the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemSample {
    pub total_kib: u64,
    pub available_kib: u64,
    /// The figures are a cgroup's usage and limit (`--memory-scope`), not the machine's.
    pub cgroup_limit: bool,
}

impl MemSample {
    pub fn used_kib(&self) -> u64 {
        self.total_kib.saturating_sub(self.available_kib)
    }

    /// (MemTotal − MemAvailable) / MemTotal × 100. The product is formed before the division so
    /// that a machine exactly at the threshold reads exactly the threshold.
    pub fn used_percent(&self) -> f64 {
        if self.total_kib == 0 {
            return 0.0;
        }
        self.used_kib() as f64 * 100.0 / self.total_kib as f64
    }
}

#[derive(Debug)]
pub enum MeminfoError {
    Io(io::Error),
    /// A field the formula needs is absent (the name is the field's).
    Missing(&'static str),
    /// A needed field is there but its value is not a number of kB.
    Malformed(&'static str),
    ZeroTotal,
    /// A cgroup sampled against its limit has none any more.
    NoLimit,
}

impl fmt::Display for MeminfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeminfoError::Io(e) => write!(f, "{e}"),
            MeminfoError::Missing(field) => write!(f, "no {field} line"),
            MeminfoError::Malformed(field) => write!(f, "the {field} line is not a number of kB"),
            MeminfoError::ZeroTotal => write!(f, "MemTotal is 0"),
            MeminfoError::NoLimit => write!(f, "the cgroup has no memory limit any more"),
        }
    }
}

/// The fields the formula reads.
#[derive(Default)]
struct Fields {
    total: Option<u64>,
    available: Option<u64>,
    free: Option<u64>,
    buffers: Option<u64>,
    cached: Option<u64>,
    sreclaimable: Option<u64>,
    shmem: Option<u64>,
}

/// Parses meminfo text. Kernels before 3.14 have no MemAvailable; then MemFree + Buffers +
/// Cached + SReclaimable − Shmem stands in for it, the estimate `free` used before it existed.
pub fn parse_meminfo(text: &[u8]) -> Result<MemSample, MeminfoError> {
    let mut fields = Fields::default();
    for (name, rest) in named_lines(text) {
        let (slot, label): (&mut Option<u64>, &'static str) = match name {
            b"MemTotal" => (&mut fields.total, "MemTotal"),
            b"MemAvailable" => (&mut fields.available, "MemAvailable"),
            b"MemFree" => (&mut fields.free, "MemFree"),
            b"Buffers" => (&mut fields.buffers, "Buffers"),
            b"Cached" => (&mut fields.cached, "Cached"),
            b"SReclaimable" => (&mut fields.sreclaimable, "SReclaimable"),
            b"Shmem" => (&mut fields.shmem, "Shmem"),
            _ => continue,
        };
        *slot = Some(parse_kb(rest).ok_or(MeminfoError::Malformed(label))?);
        // MemTotal and MemAvailable are the first and third lines; the rest is read only on
        // kernels without MemAvailable.
        if fields.total.is_some() && fields.available.is_some() {
            break;
        }
    }
    let total = fields.total.ok_or(MeminfoError::Missing("MemTotal"))?;
    if total == 0 {
        return Err(MeminfoError::ZeroTotal);
    }
    let available = match fields.available {
        Some(available) => available,
        None => {
            let free = fields
                .free
                .ok_or(MeminfoError::Missing("MemAvailable or MemFree"))?;
            // In u128: four values read from the file, each up to u64::MAX, cannot overflow it.
            let kib = |v: Option<u64>| u128::from(v.unwrap_or(0));
            let estimate = (u128::from(free)
                + kib(fields.buffers)
                + kib(fields.cached)
                + kib(fields.sreclaimable))
            .saturating_sub(kib(fields.shmem));
            u64::try_from(estimate).unwrap_or(u64::MAX)
        }
    };
    Ok(MemSample {
        total_kib: total,
        available_kib: available.min(total),
        cgroup_limit: false,
    })
}

/// Each `Name: value` line as its name and what follows the colon, without allocating.
pub(super) fn named_lines(text: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    text.split(|&b| b == b'\n').filter_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, rest) = line.split_at(colon);
        Some((name, rest.get(1..).unwrap_or_default()))
    })
}

/// `"   16305176 kB"` → 16305176, without allocating.
pub(super) fn parse_kb(value: &[u8]) -> Option<u64> {
    let mut words = value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let number = words.next()?;
    match words.next() {
        None | Some(b"kB") => parse_u64(number),
        Some(_) => None,
    }
}

/// Keeps `<proc-root>/meminfo` open and re-reads it from the start at each sample.
pub struct MeminfoReader {
    file: File,
    path: PathBuf,
    buf: Box<[u8]>,
    /// How much of `buf` the last successful read filled.
    filled: usize,
}

/// Today's meminfo is about 1.5 KiB; the fields we need are in its first lines, so even a much
/// longer future file, cut at this size, is read far enough.
const BUFFER_SIZE: usize = 16 * 1024;

impl MeminfoReader {
    pub fn open(proc_root: &Path) -> io::Result<MeminfoReader> {
        let path = proc_root.join("meminfo");
        let file = File::open(&path)?;
        Ok(MeminfoReader {
            file,
            path,
            buf: vec![0u8; BUFFER_SIZE].into_boxed_slice(),
            filled: 0,
        })
    }

    /// Opens meminfo and takes a first sample, with an error that names the file: how both the
    /// daemon and `snapshot` find out at start that the proc root is unusable.
    pub fn open_sampled(proc_root: &Path) -> Result<(MeminfoReader, MemSample), String> {
        let path = escape_path(&proc_root.join("meminfo"));
        let fix = "memory-monitor needs the procfs of a Linux kernel there (see --proc-root)";
        let mut reader = MeminfoReader::open(proc_root)
            .map_err(|e| format!("cannot open {path}: {e}; {fix}"))?;
        let first = reader
            .sample()
            .map_err(|e| format!("cannot read {path}: {e}; {fix}"))?;
        Ok((reader, first))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file again; keeps the old descriptor if that fails.
    pub fn reopen(&mut self) {
        if let Ok(file) = File::open(&self.path) {
            self.file = file;
        }
    }

    /// One `pread` from offset 0: procfs hands over the whole file in one read, and the buffer
    /// is far larger than the file.
    pub fn sample(&mut self) -> Result<MemSample, MeminfoError> {
        let filled = loop {
            match self.file.read_at(&mut self.buf, 0) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(MeminfoError::Io(e)),
            }
        };
        let sample = parse_meminfo(self.buf.get(..filled).unwrap_or_default())?;
        self.filled = filled;
        Ok(sample)
    }

    /// The text of the last read that gave a sample: a report reads its breakdown from the same
    /// read as its header's figure.
    pub fn last_text(&self) -> &[u8] {
        self.buf.get(..self.filled).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODERN: &[u8] = b"MemTotal:        3879731 kB\nMemFree:          200000 kB\nMemAvailable:     650117 kB\nBuffers:           10000 kB\nCached:           400000 kB\nShmem:             20000 kB\nSReclaimable:      30000 kB\nHugePages_Total:       0\n";

    #[test]
    fn uses_mem_available() {
        let s = parse_meminfo(MODERN).unwrap();
        assert_eq!(
            s,
            MemSample {
                total_kib: 3_879_731,
                available_kib: 650_117,
                cgroup_limit: false,
            }
        );
        assert!(
            (s.used_percent() - 83.2435).abs() < 0.001,
            "{}",
            s.used_percent()
        );
    }

    #[test]
    fn falls_back_without_mem_available() {
        let old = b"MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  50 kB\nCached:  300 kB\nSwapCached: 999 kB\nShmem:  40 kB\nSReclaimable:  10 kB\n";
        let s = parse_meminfo(old).unwrap();
        assert_eq!(s.available_kib, 100 + 50 + 300 + 10 - 40);
        assert_eq!(s.used_percent(), 58.0);
    }

    #[test]
    fn fallback_tolerates_very_old_kernels_without_sreclaimable_or_shmem() {
        let s =
            parse_meminfo(b"MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 100 kB\n")
                .unwrap();
        assert_eq!(s.available_kib, 300);
    }

    #[test]
    fn a_hostile_estimate_neither_overflows_nor_wraps() {
        // Found by the meminfo fuzz target: the sum overflowed, a panic in debug builds and a
        // wrapped, wrong figure in release ones.
        let s = parse_meminfo(
            b"MemTotal: 7506321826814554866 kB\nMemFree: 7506321826814554866 kB\n\
              Buffers: 7506321826814554866 kB\nCached: 7506321826814554866 kB\n",
        )
        .unwrap();
        assert_eq!(s.available_kib, 7_506_321_826_814_554_866);
        let s = parse_meminfo(
            b"MemTotal: 1000 kB\nMemFree: 9999999999999999999 kB\nBuffers: 9999999999999999999 kB\n\
              Shmem: 9999999999999999999 kB\n",
        )
        .unwrap();
        assert_eq!(s.available_kib, 1000);
    }

    #[test]
    fn counters_past_32_bits_are_read_whole() {
        // A Pi 4 8 GB on 32-bit Raspberry Pi OS (the LPAE `-v7l` kernel): more memory than a
        // 32-bit address holds in bytes, whatever the width of usize.
        let pi = b"MemTotal:        7997584 kB\nMemFree:          948120 kB\nMemAvailable:    1199640 kB\n";
        let s = parse_meminfo(pi).unwrap();
        assert_eq!((s.total_kib, s.available_kib), (7_997_584, 1_199_640));
        assert_eq!(format!("{:.3}", s.used_percent()), "85.000");
        // Counts of kB past 2^32 (16 TiB).
        let s = parse_meminfo(b"MemTotal: 17179869184 kB\nMemAvailable: 4294967296 kB\n").unwrap();
        assert_eq!(s.used_kib(), 12_884_901_888);
        assert_eq!(s.used_percent(), 75.0);
    }

    #[test]
    fn exactly_at_a_round_percentage_is_exact() {
        let s = parse_meminfo(b"MemTotal: 1000 kB\nMemAvailable: 200 kB\n").unwrap();
        assert_eq!(s.used_percent(), 80.0);
        let s = parse_meminfo(b"MemTotal: 3 kB\nMemAvailable: 0 kB\n").unwrap();
        assert_eq!(s.used_percent(), 100.0);
    }

    #[test]
    fn available_above_total_reads_as_nothing_used() {
        let s = parse_meminfo(b"MemTotal: 1000 kB\nMemAvailable: 2000 kB\n").unwrap();
        assert_eq!(s.used_percent(), 0.0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(
            parse_meminfo(b""),
            Err(MeminfoError::Missing("MemTotal"))
        ));
        assert!(matches!(
            parse_meminfo(b"MemTotal: 0 kB\nMemAvailable: 0 kB"),
            Err(MeminfoError::ZeroTotal)
        ));
        assert!(matches!(
            parse_meminfo(b"MemTotal: lots kB\n"),
            Err(MeminfoError::Malformed("MemTotal"))
        ));
        assert!(matches!(
            parse_meminfo(b"MemTotal: 99999999999999999999999 kB\n"),
            Err(MeminfoError::Malformed(_))
        ));
        assert!(matches!(
            parse_meminfo(b"MemTotal: 1000 MB\n"),
            Err(MeminfoError::Malformed(_))
        ));
        assert!(matches!(
            parse_meminfo(b"MemTotal: 1000 kB\n"),
            Err(MeminfoError::Missing(_))
        ));
        assert!(matches!(
            parse_meminfo(b"\xff\xfe:\n::\nMemTotal"),
            Err(MeminfoError::Missing(_))
        ));
    }

    #[test]
    fn reader_sees_in_place_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meminfo");
        std::fs::write(&path, b"MemTotal: 1000 kB\nMemAvailable:  500 kB\n").unwrap();
        let mut reader = MeminfoReader::open(dir.path()).unwrap();
        assert_eq!(reader.sample().unwrap().used_percent(), 50.0);
        std::fs::write(&path, b"MemTotal: 1000 kB\nMemAvailable:  100 kB\n").unwrap();
        assert_eq!(reader.sample().unwrap().used_percent(), 90.0);
    }

    #[test]
    fn reader_on_the_real_proc() {
        let mut reader = MeminfoReader::open(Path::new("/proc")).unwrap();
        let s = reader.sample().unwrap();
        assert!(s.total_kib > 0 && s.available_kib <= s.total_kib);
    }
}
