//! Deciding: when memory has been high long enough to report (or is high enough to report at
//! once), when to report again, when it has recovered, and what a kernel OOM kill asks for. Pure,
//! on a monotonic clock.

mod episode;
mod kills;

pub use episode::{Episodes, Event, Reason, ReportDue, Rules};
pub use kills::{ENTRIES_A_MINUTE, KillDecision, Kills, MoreKills};
