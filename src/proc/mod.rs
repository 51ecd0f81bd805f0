//! Reading `<proc-root>/PID`: the details of the biggest processes (`status`, `stat`, `cmdline`,
//! `comm`, `cwd`), and the uid behind a user name ps cut. Every value is read on its own, so one
//! that cannot be read says why instead of hiding the others. Text stays the raw bytes the kernel
//! gave; `render` escapes it.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

mod cgroupfs;
mod details;
mod growth;
mod pressure;
mod scope;
mod stat;
mod status;
mod tmpfs;
mod units;
mod users;

pub use cgroupfs::{CgroupFs, CgroupMemory, Hierarchy, memory_path};
pub use details::{DetailsReader, Parent, ProcDetails, User};
pub use growth::{Baseline, GROWERS, Grew, Resident};
pub use pressure::read_pressure;
pub use scope::{CgroupScope, MemoryScope, choose_scope};
pub use stat::{clock_ticks, running_time, start_ticks};
pub use status::{StatusFields, parse_status, status_field, status_uid};
pub use tmpfs::{TMPFS_AT_LEAST_BYTES, TMPFS_MOUNTS, TmpfsUse, read_tmpfs};
pub use units::{
    Measured, UNITS, UnitName, UnitUse, own_memory_cgroup, read_units, unit_of_process,
};
pub use users::{SystemUsers, UserNames, Users, expand_cut_names};

use crate::text::escape::escape;

/// Reads a /proc file whole. Their size shows as 0, so `std::fs::read` would start small and
/// grow its buffer read by read; read on the stack first, the result is one allocation of its
/// own size, and nearly always one read.
pub fn read_proc_file(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut first = [0u8; 4096];
    let mut filled = 0;
    while let Some(room) = first.get_mut(filled..).filter(|room| !room.is_empty()) {
        match file.read(room) {
            Ok(0) => return Ok(first.get(..filled).unwrap_or_default().to_vec()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut bytes = first.to_vec();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Why a value is not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    Ended,
    PermissionDenied,
    /// The file was read but holds no such value (kernel threads have no VmRSS or cmdline).
    NotReported(&'static str),
    /// The value is there but is not what the kernel writes: what it is, and what was found.
    Unreadable {
        what: &'static str,
        found: Vec<u8>,
    },
    /// The value read makes no sense (a PPid past 32 bits).
    Invalid(&'static str),
    /// Any other error from reading the file.
    Io(String),
}

impl Unavailable {
    pub fn from_io(e: &io::Error) -> Unavailable {
        match e.kind() {
            io::ErrorKind::NotFound => Unavailable::Ended,
            io::ErrorKind::PermissionDenied => Unavailable::PermissionDenied,
            // Reading a /proc/PID file after the process died gives ESRCH.
            _ if e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) => {
                Unavailable::Ended
            }
            _ => Unavailable::Io(e.to_string()),
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::Ended => write!(f, "process ended"),
            Unavailable::PermissionDenied => write!(f, "permission denied"),
            Unavailable::NotReported(what) | Unavailable::Invalid(what) => write!(f, "{what}"),
            Unavailable::Unreadable { what, found } => {
                write!(f, "unreadable {what} `{}`", escape(found))
            }
            Unavailable::Io(text) => write!(f, "{}", escape(text.as_bytes())),
        }
    }
}

pub type Value<T> = Result<T, Unavailable>;

/// What one report looked up, by id: the biggest processes often share a user or a parent, and
/// each is looked up once per report, then given again.
struct Remembered<V> {
    known: RefCell<Vec<(u32, V)>>,
}

impl<V: Clone> Remembered<V> {
    fn new() -> Remembered<V> {
        Remembered {
            known: RefCell::new(Vec::new()),
        }
    }

    /// What `look_up` gave for `id` the first time it was asked.
    fn get(&self, id: u32, look_up: impl FnOnce() -> V) -> V {
        if let Some((_, value)) = self.known.borrow().iter().find(|(known, _)| *known == id) {
            return value.clone();
        }
        let value = look_up();
        self.known.borrow_mut().push((id, value.clone()));
        value
    }
}
