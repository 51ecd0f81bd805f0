//! Who grew: the resident memory of every process, read from `<proc-root>/PID/stat` at the
//! start of an episode and after each of its reports, and what changed since.

use std::path::Path;

use super::read_proc_file;
use crate::text::number::parse_u64;

/// One process in a baseline: its start time tells a reused PID from the process it had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resident {
    pub pid: u32,
    /// Clock ticks after boot.
    pub started: u64,
    pub rss_kib: u64,
}

/// Every process's resident memory at one moment, by PID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    pub processes: Vec<Resident>,
}

/// A process that grew since a baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grew {
    pub pid: u32,
    /// From `comm`, raw; empty when the process ended meanwhile.
    pub name: Vec<u8>,
    pub kib: u64,
    /// Born after the baseline.
    pub new: bool,
}

/// How many growers a report names.
pub const GROWERS: usize = 5;

impl Baseline {
    /// Reads `stat` of every process under `proc_root`. A process that ends while it is read
    /// is left out.
    pub fn read(proc_root: &Path) -> Baseline {
        let page_kib = rustix::param::page_size() as u64 / 1024;
        let mut processes: Vec<Resident> = std::fs::read_dir(proc_root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = read_proc_file(&entry.path().join("stat")).ok()?;
                let (started, rss_pages) = start_and_rss(&stat)?;
                Some(Resident {
                    pid,
                    started,
                    rss_kib: rss_pages.saturating_mul(page_kib),
                })
            })
            .collect();
        processes.sort_by_key(|p| p.pid);
        Baseline { processes }
    }

    fn find(&self, pid: u32) -> Option<&Resident> {
        let at = self.processes.binary_search_by_key(&pid, |p| p.pid).ok()?;
        self.processes.get(at)
    }

    /// The [`GROWERS`] processes of `now` that grew most since this baseline, most first; a
    /// process not in it (or whose PID now belongs to another) counts as new, all of it grown.
    /// Names are read for those only.
    pub fn growers(&self, now: &Baseline, proc_root: &Path) -> Vec<Grew> {
        let mut grown: Vec<(u64, bool, u32)> = now
            .processes
            .iter()
            .filter_map(|p| match self.find(p.pid) {
                Some(before) if before.started == p.started => {
                    let kib = p.rss_kib.checked_sub(before.rss_kib)?;
                    (kib > 0).then_some((kib, false, p.pid))
                }
                _ => (p.rss_kib > 0).then_some((p.rss_kib, true, p.pid)),
            })
            .collect();
        grown.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.cmp(&b.2)));
        grown
            .into_iter()
            .take(GROWERS)
            .map(|(kib, new, pid)| Grew {
                pid,
                name: read_proc_file(&proc_root.join(pid.to_string()).join("comm"))
                    .map(|comm| comm.strip_suffix(b"\n").unwrap_or(&comm).to_vec())
                    .unwrap_or_default(),
                kib,
                new,
            })
            .collect()
    }
}

/// Fields 22 (start time) and 24 (resident pages) of `stat`, counted after the last `)`, since
/// the name in parentheses may hold blanks and parentheses.
fn start_and_rss(stat: &[u8]) -> Option<(u64, u64)> {
    let after_name = stat.get(stat.iter().rposition(|&b| b == b')')? + 1..)?;
    let mut fields = after_name.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let started = parse_u64(fields.nth(22 - 3)?)?;
    let rss = parse_u64(fields.nth(24 - 23)?)?;
    Some((started, rss))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_and_rss_survive_hostile_names() {
        let stat = b"42 (a) b) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 123456 1000 777 18446744073709551615";
        assert_eq!(start_and_rss(stat), Some((123_456, 777)));
        assert_eq!(start_and_rss(b"42 (x"), None);
    }

    fn baseline(processes: &[(u32, u64, u64)]) -> Baseline {
        Baseline {
            processes: processes
                .iter()
                .map(|&(pid, started, rss_kib)| Resident {
                    pid,
                    started,
                    rss_kib,
                })
                .collect(),
        }
    }

    #[test]
    fn the_growers_are_the_biggest_gains_and_the_newborn() {
        let before = baseline(&[(1, 0, 100), (2, 0, 100), (3, 0, 500), (4, 7, 100)]);
        let now = baseline(&[
            (1, 0, 100),
            (2, 0, 900),
            (3, 0, 400),
            (4, 9, 50),
            (5, 20, 300),
        ]);
        let nowhere = Path::new("/nonexistent");
        let grew = before.growers(&now, nowhere);
        let found: Vec<(u32, u64, bool)> = grew.iter().map(|g| (g.pid, g.kib, g.new)).collect();
        assert_eq!(found, [(2, 800, false), (5, 300, true), (4, 50, true)]);
        assert!(before.growers(&before, nowhere).is_empty(), "nothing grew");
    }
}
