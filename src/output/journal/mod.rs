//! The systemd journal: entries sent as structured fields over journald's native protocol
//! ([`socket`]), and whether our stderr already goes to the journal ([`stream`]).

pub mod socket;
pub mod stream;
