//! Every setting's default, in one place. `--help` shows these; the defaults file
//! (`dist/memory-monitor.default`), the man page, the README and the tests are checked against
//! them (tests/packaging.rs).

use std::time::Duration;

use crate::decide::Rules;
use crate::text::duration::parse_duration;

pub const THRESHOLD: &str = "80";
pub const SUSTAIN: &str = "15s";
pub const INTERVAL: &str = "3s";
pub const REPEAT: &str = "10m";
pub const URGENT: &str = "95";
pub const KERNEL_LOG: &str = "/dev/kmsg";
pub const LOG_DIR: &str = "/var/log/memory-monitor";
pub const DETAILS: &str = "5";
pub const PROC_ROOT: &str = "/proc";
pub const SYS_ROOT: &str = "/sys";
pub const MEMORY_SCOPE: &str = "auto";
pub const PS_BIN: &str = "ps";
pub const TOP_BIN: &str = "top";
// Far above their usual second: on a machine swapping hard they are slow too.
pub const CAPTURE_TIMEOUT: &str = "10s";
pub const JSON: &str = "on";
pub const ON_EVENT: &str = "off";
pub const METRICS_FILE: &str = "off";
pub const JOURNAL_SOCKET: &str = crate::output::journal::socket::DEFAULT_PATH;
// Long enough for a slow mail relay or a phone push over a bad link.
pub const HOOK_TIMEOUT: &str = "30s";

/// The decision rules at their defaults.
pub fn rules() -> Rules {
    Rules {
        threshold_percent: THRESHOLD
            .parse()
            .expect("the default threshold is a number"),
        sustain: duration(SUSTAIN),
        repeat: duration(REPEAT),
        urgent_percent: Some(
            URGENT
                .parse()
                .expect("the default urgent level is a number"),
        ),
    }
}

pub fn interval() -> Duration {
    duration(INTERVAL)
}

fn duration(text: &str) -> Duration {
    parse_duration(text).expect("the default durations parse")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_defaults_are_what_the_documentation_says() {
        let rules = super::rules();
        assert_eq!(rules.threshold_percent, 80.0);
        assert_eq!(rules.sustain.as_secs(), 15);
        assert_eq!(rules.repeat.as_secs(), 600);
        assert_eq!(rules.urgent_percent, Some(95.0));
        assert_eq!(super::interval().as_secs(), 3);
        assert_eq!(super::duration(super::CAPTURE_TIMEOUT).as_secs(), 10);
    }
}
