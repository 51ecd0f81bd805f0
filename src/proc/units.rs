//! Which systemd unit or container holds the memory: every process's unit from
//! `<proc-root>/PID/cgroup`, and each unit's memory from its cgroup, or the sum of its
//! processes' resident memory where the cgroup's figure cannot be read. Read at a report only.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::cgroupfs::{CgroupFs, Hierarchy, memory_path};
use super::read_proc_file;
use crate::parse::cgroup::{ProcCgroups, parse_proc_cgroup, unit_of};
use crate::text::number::parse_u64;

/// How many units a report names.
pub const UNITS: usize = 5;

/// A unit, a container, or (for processes in none) a cgroup path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitName {
    /// Raw; a cgroup path when the process is in no unit.
    pub name: Vec<u8>,
    /// The unit's own cgroup.
    pub cgroup: Vec<u8>,
    pub hierarchy: Hierarchy,
}

/// Where a unit's figure comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measured {
    /// The cgroup's own figure, as its memory controller counts it (page cache included).
    Cgroup,
    /// The sum of its processes' resident memory: the cgroup's figure could not be read.
    ProcessRss,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitUse {
    pub unit: UnitName,
    pub bytes: u64,
    pub measured: Measured,
    pub limit_bytes: Option<u64>,
    pub processes: u32,
}

/// The unit of a process, from the text of its `cgroup` file: v1's memory controller first
/// (only hybrid and v1 machines have one, and there memory is counted on it: docker's cgroupfs
/// driver puts a container's v2 path under containerd.service), then v2's line, then systemd's
/// v1 hierarchy; a process in none is named by its cgroup's path.
pub fn unit_of_process(cgroups: &ProcCgroups<'_>) -> Option<UnitName> {
    let lines = [
        (Hierarchy::MemoryV1, cgroups.memory_v1),
        (Hierarchy::V2, cgroups.unified),
        (Hierarchy::SystemdV1, cgroups.systemd_v1),
    ];
    for (hierarchy, path) in lines {
        if let Some(unit) = path.and_then(unit_of) {
            return Some(UnitName {
                name: unit.name,
                cgroup: unit.cgroup.to_vec(),
                hierarchy,
            });
        }
    }
    // In no unit: the most telling path, a v1 memory cgroup over v2's root.
    let (hierarchy, path) = match (cgroups.unified, cgroups.memory_v1) {
        (Some(b"/") | None, Some(memory)) => (Hierarchy::MemoryV1, memory),
        (Some(unified), _) => (Hierarchy::V2, unified),
        (None, None) => (Hierarchy::SystemdV1, cgroups.systemd_v1?),
    };
    Some(UnitName {
        name: path.to_vec(),
        cgroup: path.to_vec(),
        hierarchy,
    })
}

/// Every unit that holds a process now, the most memory first (ties: by name). `resident` is
/// each process's RSS in KiB from the report's ps table, sorted by PID: a unit without a cgroup
/// figure sums it, and only a process ps did not list has its `statm` read.
pub fn read_units(proc_root: &Path, fs: &CgroupFs, resident: &[(u32, u64)]) -> Vec<UnitUse> {
    let page_kib = rustix::param::page_size() as u64 / 1024;
    let rss_kib = |pid: u32| match resident.binary_search_by_key(&pid, |&(pid, _)| pid) {
        Ok(at) => resident.get(at).map_or(0, |&(_, kib)| kib),
        Err(_) => read_proc_file(&proc_root.join(pid.to_string()).join("statm"))
            .ok()
            .and_then(|statm| resident_pages(&statm))
            .unwrap_or(0)
            .saturating_mul(page_kib),
    };
    let units = tally(proc_root, fs, |pid| rss_kib(pid).saturating_mul(1024));
    let mut uses: Vec<UnitUse> = units
        .into_iter()
        .map(|(unit, rss, processes)| {
            let cgroup = cgroup_figure(fs, &unit);
            UnitUse {
                bytes: cgroup.map_or(rss, |(used, _)| used),
                measured: if cgroup.is_some() {
                    Measured::Cgroup
                } else {
                    Measured::ProcessRss
                },
                limit_bytes: cgroup.and_then(|(_, limit)| limit),
                unit,
                processes,
            }
        })
        .collect();
    uses.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.unit.name.cmp(&b.unit.name))
    });
    uses
}

/// Each unit, the RSS of its processes and how many they are. Who is in which cgroup comes
/// from the cgroups' own lists of their processes where the hierarchies can be walked: a few
/// dozen reads, where reading `/proc/PID/cgroup` of every process would cost more than ps
/// itself. Else from `<proc-root>/PID/cgroup`. Nothing is kept per process: the peak of a
/// report at thousands of processes stays small.
fn tally(proc_root: &Path, fs: &CgroupFs, rss: impl Fn(u32) -> u64) -> Vec<(UnitName, u64, u32)> {
    let mut units: Vec<(UnitName, u64, u32)> = Vec::new();
    let add = |unit: Option<usize>, pid: u32, units: &mut Vec<(UnitName, u64, u32)>| {
        if let Some((_, bytes, count)) = unit.and_then(|at| units.get_mut(at)) {
            *bytes = bytes.saturating_add(rss(pid));
            *count += 1;
        }
    };
    let walked: Vec<(Hierarchy, Listed)> = fs
        .listing
        .iter()
        .map(|(hierarchy, root)| (*hierarchy, Listed::walk(root)))
        .filter(|(_, listed)| !listed.pids.is_empty())
        .collect();
    if walked.is_empty() {
        for entry in std::fs::read_dir(proc_root).into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(text) = read_proc_file(&entry.path().join("cgroup")) else {
                continue;
            };
            let unit = unit_of_process(&parse_proc_cgroup(&text)).map(|u| index_of(&mut units, u));
            add(unit, pid, &mut units);
        }
        return units;
    }
    let mut pids: Vec<u32> = walked
        .iter()
        .flat_map(|(_, listed)| listed.pids.iter().map(|&(pid, _)| pid))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    // Processes in the same cgroups share a unit: worked out once for each such set.
    let mut known: HashMap<[Option<u32>; 3], Option<usize>> = HashMap::new();
    for pid in pids {
        let mut key = [None; 3];
        for (slot, (_, listed)) in key.iter_mut().zip(&walked) {
            *slot = listed.cgroup_of(pid);
        }
        let unit = *known.entry(key).or_insert_with(|| {
            let mut cgroups = ProcCgroups::default();
            for ((hierarchy, listed), at) in walked.iter().zip(key) {
                let path = at
                    .and_then(|at| listed.paths.get(at as usize))
                    .map(Vec::as_slice);
                match hierarchy {
                    Hierarchy::MemoryV1 => cgroups.memory_v1 = path,
                    Hierarchy::V2 => cgroups.unified = path,
                    Hierarchy::SystemdV1 => cgroups.systemd_v1 = path,
                }
            }
            unit_of_process(&cgroups).map(|u| index_of(&mut units, u))
        });
        add(unit, pid, &mut units);
    }
    units
}

/// Where `unit` is in `units`, added with nothing yet when new.
fn index_of(units: &mut Vec<(UnitName, u64, u32)>, unit: UnitName) -> usize {
    match units.iter().position(|(known, _, _)| *known == unit) {
        Some(at) => at,
        None => {
            units.push((unit, 0, 0));
            units.len() - 1
        }
    }
}

/// One hierarchy's cgroups and the processes each lists.
struct Listed {
    /// `/`, `/system.slice`, …: each cgroup's path as `/proc/PID/cgroup` would show it.
    paths: Vec<Vec<u8>>,
    /// Each process and the index of its cgroup's path, sorted by PID.
    pids: Vec<(u32, u32)>,
}

/// Deeper than any real hierarchy: a loop or a hostile tree ends here.
const MOST_DEPTH: usize = 64;

impl Listed {
    fn walk(root: &Path) -> Listed {
        let mut listed = Listed {
            paths: Vec::new(),
            pids: Vec::new(),
        };
        let mut pending: Vec<(PathBuf, Vec<u8>, usize)> =
            vec![(root.to_path_buf(), b"/".to_vec(), 0)];
        while let Some((dir, path, depth)) = pending.pop() {
            if let Ok(procs) = read_proc_file(&dir.join("cgroup.procs")) {
                let Ok(at) = u32::try_from(listed.paths.len()) else {
                    break;
                };
                let before = listed.pids.len();
                listed.pids.extend(
                    procs
                        .split(|&b| b == b'\n')
                        .filter_map(|line| parse_u64(line.trim_ascii()))
                        .filter_map(|pid| Some((u32::try_from(pid).ok()?, at))),
                );
                if listed.pids.len() > before {
                    listed.paths.push(path.clone());
                }
            }
            if depth >= MOST_DEPTH {
                continue;
            }
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    let name = entry.file_name();
                    let mut child = path.clone();
                    if child.len() > 1 {
                        child.push(b'/');
                    }
                    child.extend_from_slice(name.as_bytes());
                    pending.push((entry.path(), child, depth + 1));
                }
            }
        }
        listed.pids.sort_unstable();
        listed.pids.dedup_by_key(|&mut (pid, _)| pid);
        listed
    }

    /// The index of the path of `pid`'s cgroup.
    fn cgroup_of(&self, pid: u32) -> Option<u32> {
        let at = self.pids.binary_search_by_key(&pid, |&(pid, _)| pid).ok()?;
        self.pids.get(at).map(|&(_, index)| index)
    }
}

/// The unit's cgroup figure and limit, from the hierarchy that has memory figures for it.
fn cgroup_figure(fs: &CgroupFs, unit: &UnitName) -> Option<(u64, Option<u64>)> {
    let hierarchy = match unit.hierarchy {
        // On a hybrid machine v2 has no memory controller: systemd mirrors its units into
        // v1's, under the same path.
        Hierarchy::V2 if fs.v2_memory.is_none() => Hierarchy::MemoryV1,
        other => other,
    };
    let memory = fs.memory_of(hierarchy, &unit.cgroup)?;
    Some((memory.used_bytes, memory.limit_bytes))
}

/// The daemon's own cgroup in the hierarchy with memory figures, from `<proc-root>/self/cgroup`.
pub fn own_memory_cgroup(proc_root: &Path, fs: &CgroupFs) -> Option<(Hierarchy, Vec<u8>)> {
    let text = read_proc_file(&proc_root.join("self/cgroup")).ok()?;
    let cgroups = parse_proc_cgroup(&text);
    memory_path(fs, &cgroups).map(|(hierarchy, path)| (hierarchy, path.to_vec()))
}

/// `statm`'s second field: resident pages.
fn resident_pages(statm: &[u8]) -> Option<u64> {
    let field = statm.split(u8::is_ascii_whitespace).nth(1)?;
    parse_u64(field)
}
