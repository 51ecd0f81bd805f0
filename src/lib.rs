//! memory-monitor: watches overall memory use and, when it stays high or the kernel's OOM killer
//! strikes, writes an audit of every process to plain-text logs. The modules follow the data's
//! path:
//!
//! sample ([`sample`]) → decide ([`decide`]) → capture ([`capture`], reading [`proc`]) → parse
//! ([`parse`]) → one entry as data ([`report`]) → render ([`render`]) → write to each output
//! ([`output`]).
//!
//! [`daemon`] ties them into the loop and [`snapshot`] into one report now, both stopped by
//! [`signals`]; [`cli`] reads the command line and [`defaults`] holds every default. [`text`] is
//! shared by all: escaping, sizes, durations, numbers. Between the edges (sample, capture,
//! output) everything is pure. [`history`] reads the logs back for the commands that look at
//! the past. The README's map says which file holds what.

pub mod capture;
pub mod cli;
pub mod daemon;
pub mod decide;
pub mod defaults;
pub mod history;
pub mod output;
pub mod parse;
pub mod proc;
pub mod render;
pub mod report;
pub mod sample;
pub mod signals;
pub mod snapshot;
pub mod text;
