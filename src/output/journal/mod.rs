//! The systemd journal: entries sent as structured fields over journald's native protocol
//! ([`socket`]).

pub mod socket;
