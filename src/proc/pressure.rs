//! `<proc-root>/pressure/memory`, where the kernel has PSI on (Raspberry Pi OS kernels need
//! `psi=1` on the kernel command line). Absent or unreadable, a report leaves the line out.

use std::path::Path;

use super::read_proc_file;
use crate::parse::pressure::{Pressure, parse_pressure};

pub fn read_pressure(proc_root: &Path) -> Option<Pressure> {
    parse_pressure(&read_proc_file(&proc_root.join("pressure/memory")).ok()?)
}
