//! memory-monitor: watches overall memory use and, when it stays high, writes an audit of every
//! process to a plain-text log. The modules follow the data's path:
//!
//! sample ([`meminfo`]) → decide ([`episode`]) → capture ([`capture`]) → parse ([`ps`], [`top`],
//! [`procinfo`]) → render ([`report`], [`table`], [`details`]) → write ([`logfile`]).
//!
//! [`daemon`] ties them into the loop and [`incident`] into one report; everything between the
//! edges is pure and tested without a machine in trouble.

pub mod allocator;
pub mod capture;
pub mod daemon;
pub mod details;
pub mod duration;
pub mod episode;
pub mod escape;
pub mod human;
pub mod incident;
pub mod logfile;
pub mod meminfo;
pub mod procinfo;
pub mod ps;
pub mod report;
pub mod signals;
pub mod table;
pub mod top;
pub mod top_lines;
pub mod users;
