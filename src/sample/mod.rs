//! Sampling: what the idle loop reads every interval.

mod meminfo;

pub use meminfo::{MemSample, MeminfoError, MeminfoReader, parse_meminfo};
