//! How long a process has run, from `/proc/PID/stat` and `/proc/uptime`: both on the boot clock,
//! so wall-clock jumps do not matter.

use std::time::Duration;

use super::{Unavailable, Value};
use crate::text::number::{first_word, parse_u64};

/// How long a process has run, from the bytes of its `stat` and of `/proc/uptime` and the clock
/// ticks per second `stat` counts in. Pure, so that the parser the daemon runs is the one that is
/// fuzzed.
pub fn running_time(stat: &[u8], uptime: &[u8], clock_ticks: u64) -> Value<Duration> {
    let start_ticks = start_ticks(stat).ok_or(Unavailable::Invalid("unreadable stat"))?;
    let uptime = uptime_seconds(uptime).ok_or(Unavailable::Invalid("unreadable uptime"))?;
    Ok(uptime.saturating_sub(ticks_to_duration(start_ticks, clock_ticks)))
}

/// The clock ticks per second `stat` counts in.
pub fn clock_ticks() -> u64 {
    Some(rustix::param::clock_ticks_per_second())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// Field 22 of `stat`, counted after the last `)` because the name in parentheses may itself hold
/// blanks and parentheses.
pub fn start_ticks(stat: &[u8]) -> Option<u64> {
    let after_name = stat.get(stat.iter().rposition(|&b| b == b')')? + 1..)?;
    let field = after_name
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .nth(22 - 3)?;
    parse_u64(field)
}

/// Clock ticks as a duration, in integers: a float conversion panics on absurd values, and
/// `stat` is read from outside.
fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    let per_second = per_second.max(1);
    let sub_second =
        (u128::from(ticks % per_second) * 1_000_000_000 / u128::from(per_second)) as u32;
    Duration::new(ticks / per_second, sub_second)
}

/// The first figure of `/proc/uptime`.
fn uptime_seconds(text: &[u8]) -> Option<Duration> {
    let seconds: f64 = std::str::from_utf8(first_word(text)?).ok()?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e12)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_ticks_survive_hostile_names() {
        let stat =
            b"42 (a) b) S (c) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 123456 1000 50";
        assert_eq!(start_ticks(stat), Some(123_456));
        assert_eq!(start_ticks(b"42 (x"), None);
        assert_eq!(start_ticks(b""), None);
    }

    #[test]
    fn running_time_is_uptime_less_the_start() {
        let stat = b"42 (a) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 12345 1000 50";
        assert_eq!(
            running_time(stat, b"200.50 10.00\n", 100),
            Ok(Duration::from_millis(200_500 - 123_450))
        );
        // A start after the uptime (a clock_ticks mismatch) is no time, not a panic.
        assert_eq!(running_time(stat, b"1.0 1.0", 100), Ok(Duration::ZERO));
        assert!(running_time(b"42 (a)", b"1.0 1.0", 100).is_err());
        assert!(running_time(stat, b"soon", 100).is_err());
    }

    #[test]
    fn start_times_and_uptimes_past_32_bits() {
        // A 32-bit Pi up 600 days; a process started 500 days after boot is 4.32e9 ticks of
        // 100 Hz into it, past u32::MAX.
        let stat = b"4242 (chromium) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 \
                     4320000000 4294963200 349525";
        assert_eq!(start_ticks(stat), Some(4_320_000_000));
        assert_eq!(
            running_time(stat, b"51840000.50 203450000.25\n", 100),
            Ok(Duration::from_millis(8_640_000_500))
        );
        assert_eq!(
            running_time(stat, b"51840000.50 0", 1000),
            Ok(Duration::from_millis(51_840_000_500 - 4_320_000_000))
        );
    }

    #[test]
    fn ticks_convert_exactly_and_never_overflow() {
        assert_eq!(
            ticks_to_duration(12_345, 100),
            Duration::from_millis(123_450)
        );
        assert_eq!(
            ticks_to_duration(u64::MAX, 1),
            Duration::from_secs(u64::MAX)
        );
        assert_eq!(ticks_to_duration(7, 0), Duration::from_secs(7));
    }

    #[test]
    fn uptime_is_read_and_checked() {
        assert_eq!(
            uptime_seconds(b"350735.47 234388.90\n"),
            Some(Duration::from_secs_f64(350_735.47))
        );
        assert_eq!(uptime_seconds(b"-1 0"), None);
        assert_eq!(uptime_seconds(b"NaN 0"), None);
        assert_eq!(uptime_seconds(b""), None);
    }
}
