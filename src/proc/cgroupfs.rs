//! The cgroup filesystems under `<sys-root>/fs/cgroup`, and a cgroup's memory figure and limit
//! as the kernel's memory controller keeps them: `memory.current` and `memory.max` on v2,
//! `memory.usage_in_bytes` and `memory.limit_in_bytes` on v1. The layout is one of three:
//! v2 alone at `fs/cgroup`, v1 alone (memory at `fs/cgroup/memory`), or hybrid (v1 as before,
//! v2 at `fs/cgroup/unified`, with no memory controller).

use std::path::{Path, PathBuf};

use super::read_proc_file;
use crate::parse::cgroup::ProcCgroups;
use crate::text::number::parse_u64;

/// A v1 limit this high is no limit: the kernel prints its page counter's maximum.
const V1_NO_LIMIT: u64 = 1 << 62;

/// Which hierarchy a cgroup path is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hierarchy {
    /// The unified hierarchy: the `0::` line.
    V2,
    /// The memory controller of v1.
    MemoryV1,
    /// systemd's own v1 hierarchy (`name=systemd`), which has no memory figures of its own.
    SystemdV1,
}

/// Where the hierarchies are mounted.
#[derive(Clone, Debug, Default)]
pub struct CgroupFs {
    /// The v2 hierarchy, when it has the memory controller.
    pub v2_memory: Option<PathBuf>,
    /// The v1 memory controller.
    pub memory_v1: Option<PathBuf>,
    /// Every hierarchy whose cgroups list their processes (`cgroup.procs`), in the order a
    /// process's unit is looked for: v1's memory controller, v2, systemd's v1 hierarchy.
    pub listing: Vec<(Hierarchy, PathBuf)>,
}

/// A cgroup's memory: what it holds, and its limit (`None`: no limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CgroupMemory {
    pub used_bytes: u64,
    pub limit_bytes: Option<u64>,
}

impl CgroupFs {
    pub fn find(sys_root: &Path) -> CgroupFs {
        let root = sys_root.join("fs/cgroup");
        let has_memory = |v2: &Path| {
            read_proc_file(&v2.join("cgroup.controllers")).is_ok_and(|text| {
                text.split(u8::is_ascii_whitespace)
                    .any(|word| word == b"memory")
            })
        };
        let v2_memory = [root.clone(), root.join("unified")]
            .into_iter()
            .find(|v2| has_memory(v2));
        let memory_v1 =
            Some(root.join("memory")).filter(|v1| v1.join("memory.usage_in_bytes").exists());
        let v2 = [root.clone(), root.join("unified")]
            .into_iter()
            .find(|v2| v2.join("cgroup.controllers").exists());
        let listing = [
            (Hierarchy::MemoryV1, memory_v1.clone()),
            (Hierarchy::V2, v2.clone()),
            // On v2 alone, `systemd` under the root would be a cgroup, not a hierarchy.
            (
                Hierarchy::SystemdV1,
                Some(root.join("systemd")).filter(|_| v2.as_deref() != Some(root.as_path())),
            ),
        ]
        .into_iter()
        .filter_map(|(hierarchy, dir)| Some((hierarchy, dir?)))
        .filter(|(_, dir)| dir.join("cgroup.procs").exists())
        .collect();
        CgroupFs {
            v2_memory,
            memory_v1,
            listing,
        }
    }

    /// The memory of the cgroup at `path` in `hierarchy`; a systemd v1 path is looked up in
    /// the memory controller, where systemd mirrors its units. `None` when it cannot be read,
    /// and for the root cgroup, whose figures are the whole machine's.
    pub fn memory_of(&self, hierarchy: Hierarchy, path: &[u8]) -> Option<CgroupMemory> {
        let relative = relative(path)?;
        match hierarchy {
            Hierarchy::V2 => {
                let dir = self.v2_memory.as_ref()?.join(relative);
                let used = read_number(&dir.join("memory.current"))?;
                let limit = read_proc_file(&dir.join("memory.max")).ok()?;
                let limit = match trim(&limit) {
                    b"max" => None,
                    number => Some(parse_u64(number)?),
                };
                Some(CgroupMemory {
                    used_bytes: used,
                    limit_bytes: limit,
                })
            }
            Hierarchy::MemoryV1 | Hierarchy::SystemdV1 => {
                let dir = self.memory_v1.as_ref()?.join(relative);
                let used = read_number(&dir.join("memory.usage_in_bytes"))?;
                let limit = read_number(&dir.join("memory.limit_in_bytes"))?;
                Some(CgroupMemory {
                    used_bytes: used,
                    limit_bytes: (limit < V1_NO_LIMIT).then_some(limit),
                })
            }
        }
    }

    /// The files the daemon samples for a cgroup's usage and limit, in that order.
    pub fn sampled_files(&self, hierarchy: Hierarchy, path: &[u8]) -> Option<(PathBuf, PathBuf)> {
        let relative = relative(path).unwrap_or_default();
        match hierarchy {
            Hierarchy::V2 => {
                let dir = self.v2_memory.as_ref()?.join(relative);
                Some((dir.join("memory.current"), dir.join("memory.max")))
            }
            Hierarchy::MemoryV1 | Hierarchy::SystemdV1 => {
                let dir = self.memory_v1.as_ref()?.join(relative);
                Some((
                    dir.join("memory.usage_in_bytes"),
                    dir.join("memory.limit_in_bytes"),
                ))
            }
        }
    }
}

/// The path of a process in the hierarchy that has memory figures: v2 where it has the memory
/// controller, else v1's memory controller.
pub fn memory_path<'a>(fs: &CgroupFs, cgroups: &ProcCgroups<'a>) -> Option<(Hierarchy, &'a [u8])> {
    if fs.v2_memory.is_some()
        && let Some(path) = cgroups.unified
    {
        return Some((Hierarchy::V2, path));
    }
    cgroups.memory_v1.map(|path| (Hierarchy::MemoryV1, path))
}

/// `/system.slice/x.service` → `system.slice/x.service`; `None` for the root, or for a path
/// that is not absolute or climbs (`..`), which no kernel writes.
fn relative(path: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let inside = path.strip_prefix(b"/")?;
    if inside.is_empty() || inside.split(|&b| b == b'/').any(|part| part == b"..") {
        return None;
    }
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(inside)))
}

fn trim(text: &[u8]) -> &[u8] {
    text.trim_ascii()
}

fn read_number(path: &Path) -> Option<u64> {
    parse_u64(trim(&read_proc_file(path).ok()?))
}
