//! Deciding: when memory has been high long enough to report, when to report again, when it has
//! recovered. Pure, on a monotonic clock.

mod episode;

pub use episode::{Episodes, Event, ReportDue, Rules};
