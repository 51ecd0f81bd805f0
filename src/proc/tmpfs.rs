//! The tmpfs and ramfs mounts and what their files hold: RAM that no process table shows. The
//! mounts are those the machine's init sees (`<proc-root>/1/mountinfo`, reached through
//! `<proc-root>/1/root`), since a sandboxed service has a `/tmp` of its own; where init's cannot
//! be read, the daemon's own.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::read_proc_file;
use crate::parse::mountinfo::ram_mounts;

/// Mounts holding less than this are left out.
pub const TMPFS_AT_LEAST_BYTES: u64 = 1024 * 1024;

/// How many a report names.
pub const TMPFS_MOUNTS: usize = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmpfsUse {
    /// Raw, as the kernel has it.
    pub mount: Vec<u8>,
    pub used_bytes: u64,
}

/// Every tmpfs or ramfs mount holding at least [`TMPFS_AT_LEAST_BYTES`], the most first (ties:
/// by mount point). A filesystem mounted at several points counts once, at its first.
pub fn read_tmpfs(proc_root: &Path) -> Vec<TmpfsUse> {
    let Some((seen_by, text)) = ["1", "self"].into_iter().find_map(|pid| {
        let text = read_proc_file(&proc_root.join(pid).join("mountinfo")).ok()?;
        Some((proc_root.join(pid).join("root"), text))
    }) else {
        return Vec::new();
    };
    let mut seen_devices = Vec::new();
    let mut uses: Vec<TmpfsUse> = ram_mounts(&text)
        .into_iter()
        .filter_map(|mount| {
            let inside = seen_by.join(OsStr::from_bytes(
                mount.strip_prefix(b"/").unwrap_or(&mount),
            ));
            let device = rustix::fs::stat(&inside).ok()?.st_dev;
            if seen_devices.contains(&device) {
                return None;
            }
            seen_devices.push(device);
            let fs = rustix::fs::statvfs(&inside).ok()?;
            let used_blocks = fs.f_blocks.saturating_sub(fs.f_bfree);
            let used_bytes = used_blocks.saturating_mul(fs.f_frsize);
            (used_bytes >= TMPFS_AT_LEAST_BYTES).then_some(TmpfsUse { mount, used_bytes })
        })
        .collect();
    uses.sort_by(|a, b| {
        b.used_bytes
            .cmp(&a.used_bytes)
            .then_with(|| a.mount.cmp(&b.mount))
    });
    uses
}
