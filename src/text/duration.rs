//! Durations as people write them in flags and read them in logs: `200ms`, `15s`, `10m`,
//! `1h30m`, or a bare number of seconds.

use std::time::Duration;

/// The longest duration accepted anywhere: a year is already absurd for any of our settings, and
/// a bound keeps every later `Instant + Duration` far from overflow.
const MAX: Duration = Duration::from_secs(366 * 24 * 3600);

/// Parses `200ms`, `15s`, `10m`, `1h30m`, `1.5s`, `90` (seconds). Units go from largest to
/// smallest, each at most once.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; use e.g. 15s, 10m, 1h30m or a number of seconds".into());
    }
    let invalid = || {
        format!(
            "'{text}' is not a duration; use e.g. 200ms, 15s, 10m, 1h30m or a number of seconds"
        )
    };
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return nanos_to_duration(parse_scaled(s, 1_000_000_000).ok_or_else(invalid)?, text);
    }
    let mut total: u128 = 0;
    let mut rest = s;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let (rank, nanos_per_unit) = match unit {
            "h" => (0, 3_600_000_000_000u128),
            "m" => (1, 60_000_000_000),
            "s" => (2, 1_000_000_000),
            "ms" => (3, 1_000_000),
            _ => return Err(invalid()),
        };
        if number.is_empty() || (last_rank != usize::MAX && rank <= last_rank) {
            return Err(invalid());
        }
        last_rank = rank;
        total = total
            .checked_add(parse_scaled(number, nanos_per_unit).ok_or_else(invalid)?)
            .ok_or_else(invalid)?;
        rest = tail;
    }
    nanos_to_duration(total, text)
}

fn nanos_to_duration(nanos: u128, text: &str) -> Result<Duration, String> {
    let max = MAX.as_nanos();
    if nanos > max {
        return Err(format!(
            "'{text}' is too long (at most {})",
            format_duration(MAX)
        ));
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| format!("'{text}' is too long"))?;
    let sub = u32::try_from(nanos % 1_000_000_000).map_err(|_| format!("'{text}' is too long"))?;
    Ok(Duration::new(secs, sub))
}

/// `number` (digits, at most one '.') times `scale`, exactly, in integers.
fn parse_scaled(number: &str, scale: u128) -> Option<u128> {
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && frac.is_empty() || frac.contains('.') || whole.len() > 20 {
        return None;
    }
    let whole_value: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole_value.checked_mul(scale)?;
    let mut place = scale;
    for digit in frac.bytes() {
        place /= 10;
        value = value.checked_add(u128::from(digit.checked_sub(b'0')?) * place)?;
    }
    Some(value)
}

/// Formats a measured duration for the logs: `0s`, `250ms`, `15s`, `10m03s`, `1h05m`,
/// `26h00m10s`. Inner units are two digits wide so columns of them line up; trailing zero
/// units are left out, so settings read back as they were written (`10m`, `1h30m`).
pub fn format_duration(d: Duration) -> String {
    let total = d.as_secs();
    if total == 0 {
        let ms = d.subsec_millis();
        return if ms == 0 {
            "0s".into()
        } else {
            format!("{ms}ms")
        };
    }
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m:02}m"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// Like [`format_duration`] but exact for settings with a sub-second part (`1500ms`), so the
/// start-up line shows what will really be used.
pub fn format_setting(d: Duration) -> String {
    if d.subsec_nanos() != 0 && d.as_millis() < 60_000 {
        format!("{}ms", d.as_millis())
    } else {
        format_duration(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Duration {
        parse_duration(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn accepts_documented_forms() {
        assert_eq!(ok("200ms"), Duration::from_millis(200));
        assert_eq!(ok("15s"), Duration::from_secs(15));
        assert_eq!(ok("10m"), Duration::from_secs(600));
        assert_eq!(ok("1h30m"), Duration::from_secs(5400));
        assert_eq!(ok("90"), Duration::from_secs(90));
        assert_eq!(ok("1.5"), Duration::from_millis(1500));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("1h2m3s4ms"), Duration::new(3723, 4_000_000));
        assert_eq!(ok(" 3s "), Duration::from_secs(3));
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("0.25s"), Duration::from_millis(250));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "s",
            "abc",
            "-5",
            "5x",
            "1m1h",
            "1s1s",
            "1..5",
            "5 s",
            "1h 30m",
            "ms",
            "1e3",
            "18446744073709551616",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn rejects_absurdly_long() {
        assert!(parse_duration("9000h").is_err());
        assert!(parse_duration("99999999999999999999").is_err());
    }

    #[test]
    fn formats_for_logs() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_millis(15_900)), "15s");
        assert_eq!(format_duration(Duration::from_secs(603)), "10m03s");
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(3605)), "1h00m05s");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(93_610)), "26h00m10s");
    }

    #[test]
    fn formatted_settings_parse_back() {
        for s in [
            "200ms", "1500ms", "15s", "10m", "1h30m", "1h00m05s", "10m03s",
        ] {
            assert_eq!(format_setting(ok(s)), s);
        }
    }
}
