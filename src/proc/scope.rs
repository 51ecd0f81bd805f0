//! `--memory-scope`: whether used% is the machine's or a cgroup's usage over its limit. Inside a
//! container with a memory limit the machine's RAM says little: the kernel kills at the limit.

use std::path::{Path, PathBuf};

use super::cgroupfs::{CgroupFs, Hierarchy};
use super::read_proc_file;
use super::units::own_memory_cgroup;
use crate::text::escape::escape;
use crate::text::number::parse_u64;
use crate::text::size::format_kib;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryScope {
    /// The cgroup when one holding the daemon has a limit below MemTotal, else the host.
    Auto,
    Host,
    Cgroup,
}

/// The cgroup whose limit the daemon samples against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupScope {
    pub hierarchy: Hierarchy,
    pub cgroup: Vec<u8>,
    pub usage: PathBuf,
    pub limit: PathBuf,
    pub limit_bytes: u64,
}

impl CgroupScope {
    /// For the start line: `the 512.00 MiB limit of cgroup /docker/abc`.
    pub fn describe(&self) -> String {
        format!(
            "the {} limit of cgroup {}",
            format_kib(self.limit_bytes / 1024),
            escape(&self.cgroup)
        )
    }
}

/// The cgroup to sample, or `None` for the machine. In `Auto`, the daemon's own cgroup or the
/// one above it with the lowest limit, when that is below MemTotal; `Cgroup` insists on one.
pub fn choose_scope(
    scope: MemoryScope,
    proc_root: &Path,
    sys_root: &Path,
    mem_total_kib: u64,
) -> Result<Option<CgroupScope>, String> {
    if scope == MemoryScope::Host {
        return Ok(None);
    }
    let fs = CgroupFs::find(sys_root);
    let lowest = own_memory_cgroup(proc_root, &fs).and_then(|(hierarchy, own)| {
        ancestors(&own)
            .filter_map(|cgroup| {
                let (usage, limit) = fs.sampled_files(hierarchy, cgroup)?;
                let limit_bytes = read_limit(&limit)?;
                usage.exists().then(|| CgroupScope {
                    hierarchy,
                    cgroup: cgroup.to_vec(),
                    usage,
                    limit,
                    limit_bytes,
                })
            })
            .min_by_key(|found| found.limit_bytes)
    });
    match (scope, lowest) {
        (MemoryScope::Cgroup, Some(found)) => Ok(Some(found)),
        (MemoryScope::Cgroup, None) => Err(format!(
            "--memory-scope cgroup: no cgroup of memory-monitor has a memory limit it can read under {}; use --memory-scope host or auto",
            crate::text::escape::escape_path(&sys_root.join("fs/cgroup"))
        )),
        (_, Some(found)) if found.limit_bytes / 1024 < mem_total_kib => Ok(Some(found)),
        _ => Ok(None),
    }
}

/// `/a/b` → `/a/b`, `/a`, `/`.
fn ancestors(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.iter().rposition(|&b| b == b'/') {
            Some(0) if current.len() > 1 => Some(&b"/"[..]),
            Some(0) | None => None,
            Some(at) => current.get(..at),
        };
        Some(current)
    })
}

/// A limit in bytes; `None` for `max` (v2), v1's "no limit" (its page counter's maximum), or
/// a file that cannot be read.
fn read_limit(path: &Path) -> Option<u64> {
    let text = read_proc_file(path).ok()?;
    let limit = parse_u64(text.trim_ascii())?;
    (limit < 1 << 62).then_some(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_climb_to_the_root() {
        let all: Vec<&[u8]> = ancestors(b"/a/b.scope").collect();
        assert_eq!(all, [&b"/a/b.scope"[..], b"/a", b"/"]);
        assert_eq!(ancestors(b"/").collect::<Vec<_>>(), [&b"/"[..]]);
        assert_eq!(ancestors(b"x").collect::<Vec<_>>(), [&b"x"[..]]);
    }
}
