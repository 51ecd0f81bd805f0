//! The details of one process, for details.log: who runs it, what, since when, how big, and
//! where, from `<proc-root>/PID/{status,stat,cmdline,comm,cwd}`.

use std::cell::OnceCell;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::parse::cgroup::parse_proc_cgroup as parse_cgroup;

use super::units::{UnitName, unit_of_process};
use super::{
    Remembered, StatusFields, Unavailable, Users, Value, parse_status, read_proc_file, running_time,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    /// As passwd has it; `None` when it has no entry.
    pub name: Option<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    pub pid: u32,
    pub name: Value<Vec<u8>>,
}

/// Everything details.log says of one process. Text is as the kernel gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcDetails {
    pub pid: u32,
    /// From `comm`.
    pub name: Value<Vec<u8>>,
    pub user: Value<User>,
    /// The arguments joined by blanks, as ps shows them; `[name]` for a kernel thread or a
    /// zombie, which have none.
    pub command: Value<Vec<u8>>,
    /// Since the process started, by the kernel's boot clock (immune to wall-clock jumps).
    pub running_for: Value<Duration>,
    pub rss_kib: Value<u64>,
    pub peak_rss_kib: Value<u64>,
    pub vsz_kib: Value<u64>,
    pub swap_kib: Value<u64>,
    pub threads: Value<u64>,
    /// As `status` has it: `S (sleeping)`.
    pub state: Value<Vec<u8>>,
    pub parent: Value<Parent>,
    pub cwd: Value<Vec<u8>>,
    /// The systemd unit or container, from its cgroup.
    pub unit: Value<UnitName>,
}

/// Reads the details of the processes of one report, remembering what they share.
pub struct DetailsReader<'a> {
    proc_root: &'a Path,
    users: &'a Users<'a>,
    /// Clock ticks per second, the unit of `stat`'s start time.
    clock_ticks: u64,
    /// `/proc/uptime`, read once for all the processes of one report.
    uptime: OnceCell<Value<Vec<u8>>>,
    /// Process names already read in this report: services share a parent (init, say).
    process_names: Remembered<Value<Vec<u8>>>,
}

impl<'a> DetailsReader<'a> {
    pub fn new(proc_root: &'a Path, users: &'a Users<'a>, clock_ticks: u64) -> DetailsReader<'a> {
        DetailsReader {
            proc_root,
            users,
            clock_ticks,
            uptime: OnceCell::new(),
            process_names: Remembered::new(),
        }
    }

    pub fn read(&self, pid: u32) -> ProcDetails {
        let dir = self.proc_root.join(pid.to_string());
        let status = match read_proc_file(&dir.join("status")) {
            Ok(status) => parse_status(&status),
            Err(e) => StatusFields::unavailable(Unavailable::from_io(&e)),
        };
        // From `comm`, raw, not status's `Name:`, which the kernel writes with its own escapes
        // (`\n`, backslashes doubled): the name then reads as the parent's does, escaped once.
        let name = self.name_of(pid);
        ProcDetails {
            pid,
            user: status.uid.map(|uid| User {
                uid,
                name: self.users.name_of(uid),
            }),
            command: command(&dir, &name),
            name,
            running_for: self.running_for(&dir),
            rss_kib: status.rss_kib,
            peak_rss_kib: status.peak_rss_kib,
            vsz_kib: status.vsz_kib,
            swap_kib: status.swap_kib,
            threads: status.threads,
            state: status.state,
            parent: status.ppid.map(|ppid| Parent {
                pid: ppid,
                name: self.name_of(ppid),
            }),
            cwd: std::fs::read_link(dir.join("cwd"))
                .map(|p| p.as_os_str().as_bytes().to_vec())
                .map_err(|e| Unavailable::from_io(&e)),
            unit: unit(&dir),
        }
    }

    fn running_for(&self, dir: &Path) -> Value<Duration> {
        let stat = read_proc_file(&dir.join("stat")).map_err(|e| Unavailable::from_io(&e))?;
        let uptime = self
            .uptime
            .get_or_init(|| {
                read_proc_file(&self.proc_root.join("uptime")).map_err(|e| Unavailable::from_io(&e))
            })
            .as_ref()
            .map_err(Unavailable::clone)?;
        running_time(&stat, uptime, self.clock_ticks)
    }

    fn name_of(&self, pid: u32) -> Value<Vec<u8>> {
        self.process_names.get(pid, || self.read_name(pid))
    }

    fn read_name(&self, pid: u32) -> Value<Vec<u8>> {
        let path: PathBuf = self.proc_root.join(pid.to_string()).join("comm");
        match read_proc_file(&path) {
            Ok(comm) => Ok(comm.strip_suffix(b"\n").unwrap_or(&comm).to_vec()),
            // PID 0 is the kernel's idle task, parent of init and kthreadd; it has no directory.
            Err(_) if pid == 0 => Ok(b"kernel".to_vec()),
            Err(e) => Err(Unavailable::from_io(&e)),
        }
    }
}

fn unit(dir: &Path) -> Value<UnitName> {
    let text = read_proc_file(&dir.join("cgroup")).map_err(|e| Unavailable::from_io(&e))?;
    unit_of_process(&parse_cgroup(&text)).ok_or(Unavailable::NotReported("in no cgroup"))
}

/// The arguments joined by blanks, as ps shows them. Kernel threads and zombies have none; like
/// ps, show their name in brackets then.
fn command(dir: &Path, name: &Value<Vec<u8>>) -> Value<Vec<u8>> {
    let raw = read_proc_file(&dir.join("cmdline")).map_err(|e| Unavailable::from_io(&e))?;
    let args = raw.strip_suffix(b"\0").unwrap_or(&raw);
    if args.is_empty() {
        return match name {
            Ok(name) => Ok([&b"["[..], name, b"]"].concat()),
            Err(_) => Err(Unavailable::NotReported("empty (kernel thread or zombie)")),
        };
    }
    Ok(args
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect())
}
