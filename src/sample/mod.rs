//! Sampling: what the loop reads every tick. The meminfo figure and the trend of recent ones,
//! the kernel's log for OOM kills and its count of them in vmstat; each kept open and read into
//! a buffer allocated once, so an idle tick allocates nothing.

mod breakdown;
mod cgroup_memory;
mod kernel_log;
mod meminfo;
mod trend;
mod vmstat;

pub use breakdown::{Breakdown, Swap, parse_breakdown};
pub use cgroup_memory::CgroupMemoryReader;
pub use kernel_log::{KernelLog, Read};
pub use meminfo::{MemSample, MeminfoError, MeminfoReader, parse_meminfo};
pub use trend::{CELLS, Trend, TrendLine, WINDOW};
pub use vmstat::{VmstatReader, oom_kills_in};
