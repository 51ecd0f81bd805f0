//! Reading the logs back, for the commands that look at the past (`incidents`, `show`): a
//! log's rotated and compressed files, line by line, oldest first ([`files`]); which lines are
//! one incident's ([`episode`]); and `show` itself ([`show`]).

pub mod episode;
pub mod files;
pub mod show;
