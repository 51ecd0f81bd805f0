//! Reading the logs back, for the commands that look at the past (`incidents`, `show`): a
//! log's rotated and compressed files, line by line, oldest first ([`files`]); incidents.jsonl's
//! lines made into episodes ([`episodes`]), and `memory-monitor incidents` ([`incidents`]),
//! which prints them ([`summary`]).

pub mod episodes;
pub mod files;
pub mod incidents;
pub mod summary;
