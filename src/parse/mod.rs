//! Parsing what ps and top printed, and the kernel's OOM-kill records, into typed values. Pure:
//! bytes in, data out; untrusted text stays raw bytes here, and is escaped only where it is
//! shown (`render`).

pub mod cgroup;
pub mod kills;
pub mod kmsg;
pub mod mountinfo;
pub mod oom;
pub mod pressure;
pub mod ps;
pub mod top;
