//! memory-monitor: watches overall memory use and, when it stays high, writes an audit of every
//! process to a plain-text log.

pub mod capture;
pub mod daemon;
pub mod decide;
pub mod output;
pub mod parse;
pub mod proc;
pub mod render;
pub mod sample;
pub mod text;
