//! Reading the logs back, for the commands that look at the past (`incidents`, `show`): a
//! log's rotated and compressed files, line by line, oldest first ([`files`]); for `show`, which
//! lines of the text logs are one incident's ([`incident_lines`]) and the command ([`show`]); for
//! `incidents`, incidents.jsonl's lines made into episodes ([`episodes`]), the command
//! ([`incidents`]) and what it prints ([`summary`]).

pub mod episodes;
pub mod files;
pub mod incident_lines;
pub mod incidents;
pub mod show;
pub mod summary;
