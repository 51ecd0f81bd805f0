//! Where the RAM is, beyond what each process holds: memory pressure, the tmpfs mounts, and the
//! unit or container of every process with its cgroup's figure. Read at a report only, after ps
//! and top, so the idle loop never pays for it.

use std::path::Path;

use crate::parse::pressure::Pressure;
use crate::proc::{CgroupFs, TmpfsUse, UnitUse, read_pressure, read_tmpfs, read_units};
use crate::report::Evidence;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Places {
    pub pressure: Option<Pressure>,
    pub tmpfs: Vec<TmpfsUse>,
    pub units: Vec<UnitUse>,
}

/// `evidence` is the report's own: its ps table gives each process's RSS.
pub fn read_places(proc_root: &Path, sys_root: &Path, evidence: &Evidence) -> Places {
    let mut resident: Vec<(u32, u64)> = match &evidence.ps {
        Ok(table) => table
            .processes()
            .filter_map(|p| Some((p.pid()?, p.rss_kib()?)))
            .collect(),
        Err(_) => Vec::new(),
    };
    resident.sort_unstable();
    Places {
        pressure: read_pressure(proc_root),
        tmpfs: read_tmpfs(proc_root),
        units: read_units(proc_root, &CgroupFs::find(sys_root), &resident),
    }
}
