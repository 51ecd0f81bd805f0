//! The integration tests, in one binary so the suite links once: each module is one part of the
//! program tested through its public API or as the real binary, and `util` holds the one copy of
//! every helper. cpu_figure.rs and soak_daemon.rs are binaries of their own: they measure, and
//! need the machine to themselves.

#[macro_use]
mod util;

mod architecture;
mod breakdown;
mod capture;
mod cgroup_corpus;
mod clock;
mod corpus;
mod daemon;
mod faults;
mod file_faults;
mod fleet;
mod generated;
mod history_incidents;
mod history_show;
mod hook;
mod hostile_daemon;
mod hostile_fuzz;
mod hostile_real;
mod journal;
mod jsonl;
mod kmsg;
mod memory_places;
mod memory_places_real;
mod metrics;
mod minutes_before;
mod oom_daemon;
mod oom_entries;
mod oom_real;
mod outputs;
mod packaging;
mod previous_boot;
mod proc;
mod raspberry_pi;
mod real_machine;
mod render;
mod rules;
mod shipped_hooks;
mod snapshot_cli;
mod soak_rules;
mod top_lines;
mod watchdog;
