//! `/proc/PID/cgroup`: which cgroups a process is in, and the systemd unit or container that
//! a cgroup path belongs to.

/// The cgroup paths of one process, borrowed from the file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcCgroups<'a> {
    /// The v2 line, `0::<path>`.
    pub unified: Option<&'a [u8]>,
    /// The v1 line of the memory controller, `N:memory:<path>` (or one naming several
    /// controllers, memory among them).
    pub memory_v1: Option<&'a [u8]>,
    /// The v1 line of systemd's own hierarchy, `N:name=systemd:<path>`.
    pub systemd_v1: Option<&'a [u8]>,
}

/// TODO(helper)
pub fn parse_proc_cgroup(_text: &[u8]) -> ProcCgroups<'_> {
    ProcCgroups::default()
}

/// The unit or container a cgroup path belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitOf<'a> {
    /// As a person reads it: `demo-x.service`, `session-3.scope`, `docker 3f2a1b4c5d6e`.
    pub name: Vec<u8>,
    /// The cgroup of the unit itself: the path up to and including its component.
    pub cgroup: &'a [u8],
}

/// TODO(helper): `None` for a path outside any unit (the root, or only slices).
pub fn unit_of(_path: &[u8]) -> Option<UnitOf<'_>> {
    None
}
