//! Reading the logs back, for the commands that look at the past (`incidents`, `show`): a
//! log's rotated and compressed files, line by line, oldest first ([`files`]).

pub mod files;
