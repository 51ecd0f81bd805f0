//! Where MemTotal is: the breakdown line of a report, from the text of the meminfo read the
//! sample already made (parsed only at a report, so an idle tick does no more work).

use super::meminfo::MeminfoError;

/// The parts of MemTotal, in KiB. They add up to MemTotal exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breakdown {
    /// AnonPages.
    pub processes_kib: u64,
    /// Buffers + Cached − Shmem.
    pub page_cache_kib: u64,
    /// Shmem.
    pub shared_kib: u64,
    /// Slab + KernelStack + PageTables.
    pub kernel_kib: u64,
    /// MemFree.
    pub free_kib: u64,
    /// MemTotal minus all of the above, never below 0.
    pub other_kib: u64,
    /// Only when SwapTotal > 0.
    pub swap: Option<Swap>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Swap {
    /// SwapTotal − SwapFree.
    pub used_kib: u64,
    pub total_kib: u64,
}

/// TODO(helper): parse the fields and split MemTotal exactly.
pub fn parse_breakdown(_text: &[u8]) -> Result<Breakdown, MeminfoError> {
    Err(MeminfoError::Missing("MemTotal"))
}
