//! `/proc/pressure/memory`: the share of time tasks stalled waiting for memory.
//!
//! ```text
//! some avg10=0.00 avg60=0.72 avg300=4.89 total=534713763
//! full avg10=0.00 avg60=0.55 avg300=3.55 total=395022036
//! ```
//!
//! The kernel (kernel/sched/psi.c, `psi_show`) prints each average as `%lu.%02lu`, a percentage
//! of wall time, and `total` in microseconds. A cgroup's `memory.pressure` has the same format.
//! `full` is absent from /proc/pressure/cpu before Linux 5.13, never from the memory file, but
//! nothing here counts on it.

/// Percentages over 10 s and 60 s; `full` is absent from some kernels' files.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pressure {
    pub some_avg10: f64,
    pub some_avg60: f64,
    pub full_avg10: Option<f64>,
    pub full_avg60: Option<f64>,
}

/// Reads the pressure file. Each line is a kind (`some` or `full`) and blank-separated
/// `key=value` fields, read by key in any order; unknown keys are skipped. A percentage must be
/// plain digits with an optional fraction (`0.72`, `100.00`), from 0 to 100: anything else (a
/// sign, an exponent, `nan`, `inf`, more than 100) is unreadable.
///
/// `None` when no `some` line has both `avg10` and `avg60` readable (the first such line is
/// used). A `full` field is `None` when the first `full` line lacks it or it is unreadable, or
/// when there is no `full` line.
///
/// ```
/// use memory_monitor::parse::pressure::parse_pressure;
/// let p = parse_pressure(b"some avg10=0.00 avg60=0.72 avg300=4.89 total=534713763\n").unwrap();
/// assert_eq!((p.some_avg10, p.some_avg60, p.full_avg10), (0.0, 0.72, None));
/// ```
pub fn parse_pressure(text: &[u8]) -> Option<Pressure> {
    let mut some = None;
    let mut full = None;
    for line in text.split(|&b| b == b'\n') {
        let mut words = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        match words.next() {
            Some(b"some") if some.is_none() => {
                let (avg10, avg60) = averages(words);
                some = avg10.zip(avg60);
            }
            Some(b"full") if full.is_none() => full = Some(averages(words)),
            _ => {}
        }
    }
    let (some_avg10, some_avg60) = some?;
    let (full_avg10, full_avg60) = full.unwrap_or_default();
    Some(Pressure {
        some_avg10,
        some_avg60,
        full_avg10,
        full_avg60,
    })
}

/// `avg10` and `avg60` among a line's `key=value` fields (the first of each).
fn averages<'a>(fields: impl Iterator<Item = &'a [u8]>) -> (Option<f64>, Option<f64>) {
    let (mut avg10, mut avg60) = (None, None);
    for field in fields {
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (Some(key), Some(value)) = (field.get(..eq), field.get(eq + 1..)) else {
            continue;
        };
        let slot = match key {
            b"avg10" => &mut avg10,
            b"avg60" => &mut avg60,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(percentage(value));
        }
    }
    (avg10.flatten(), avg60.flatten())
}

/// `12.34` as a number from 0 to 100.
fn percentage(text: &[u8]) -> Option<f64> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (text.get(..dot)?, Some(text.get(dot + 1..)?)),
        None => (text, None),
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !digits(whole) || !fraction.is_none_or(digits) {
        return None;
    }
    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    (value.is_finite() && (0.0..=100.0).contains(&value)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pressure(text: &str) -> Option<Pressure> {
        parse_pressure(text.as_bytes())
    }

    #[test]
    fn both_lines() {
        let p = pressure(
            "some avg10=0.00 avg60=0.72 avg300=4.89 total=534713763\nfull avg10=0.00 avg60=0.55 avg300=3.55 total=395022036\n",
        );
        assert_eq!(
            p,
            Some(Pressure {
                some_avg10: 0.0,
                some_avg60: 0.72,
                full_avg10: Some(0.0),
                full_avg60: Some(0.55),
            })
        );
    }

    #[test]
    fn full_may_be_absent() {
        let p = pressure("some avg10=2.04 avg60=0.75 avg300=0.40 total=157656722\n").unwrap();
        assert_eq!((p.some_avg10, p.some_avg60), (2.04, 0.75));
        assert_eq!((p.full_avg10, p.full_avg60), (None, None));
    }

    #[test]
    fn fields_are_read_by_key_in_any_order() {
        let p = pressure(
            "full total=1 avg60=58.06 avg10=57.59\nsome total=3559632828 avg300=69.91 avg60=68.52 avg10=70.24 extra=x\n",
        )
        .unwrap();
        assert_eq!(
            (p.some_avg10, p.some_avg60, p.full_avg10, p.full_avg60),
            (70.24, 68.52, Some(57.59), Some(58.06))
        );
    }

    #[test]
    fn no_readable_some_line_is_none() {
        for text in [
            "",
            "\n",
            "full avg10=1.00 avg60=1.00 avg300=1.00 total=1\n",
            "some avg10=1.00 avg300=1.00 total=1\n",
            "some avg60=1.00\n",
            "some avg10=x avg60=1.00\n",
            "somex avg10=1.00 avg60=1.00\n",
            "avg10=1.00 avg60=1.00\n",
            "SOME avg10=1.00 avg60=1.00\n",
        ] {
            assert_eq!(pressure(text), None, "{text:?}");
        }
    }

    #[test]
    fn unreadable_numbers_are_refused() {
        for value in [
            "nan", "NaN", "inf", "-inf", "infinity", "-1.00", "+1.00", "100.01", "1e2", "1.", ".5",
            "1.2.3", "", "0x10", " 1", "1,5", "١٢",
        ] {
            let text = format!("some avg10={value} avg60=1.00\n");
            assert_eq!(pressure(&text), None, "{value:?}");
            let text = format!("some avg10=1.00 avg60=1.00\nfull avg10={value} avg60=2.00\n");
            let p = pressure(&text).unwrap();
            assert_eq!((p.full_avg10, p.full_avg60), (None, Some(2.0)), "{value:?}");
        }
    }

    #[test]
    fn the_bounds_are_readable() {
        let p = pressure("some avg10=0 avg60=100.00\n").unwrap();
        assert_eq!((p.some_avg10, p.some_avg60), (0.0, 100.0));
    }

    #[test]
    fn the_first_readable_some_line_and_the_first_full_line_count() {
        let p = pressure(
            "some avg10=bad avg60=1\nsome avg10=3.00 avg60=4.00\nsome avg10=5.00 avg60=6.00\nfull avg10=7.00\nfull avg10=8.00 avg60=9.00\n",
        )
        .unwrap();
        assert_eq!(
            (p.some_avg10, p.some_avg60, p.full_avg10, p.full_avg60),
            (3.0, 4.0, Some(7.0), None)
        );
    }

    #[test]
    fn the_first_of_a_repeated_key_counts() {
        let p = pressure("some avg10=1.00 avg10=2.00 avg60=3.00\n").unwrap();
        assert_eq!(p.some_avg10, 1.0);
        assert_eq!(pressure("some avg10=bad avg10=2.00 avg60=3.00\n"), None);
    }

    #[test]
    fn tabs_carriage_returns_and_no_final_newline() {
        let p = pressure("some\tavg10=1.50  avg60=2.50\r\nfull avg10=0.25 avg60=0.50").unwrap();
        assert_eq!(
            (p.some_avg10, p.some_avg60, p.full_avg10, p.full_avg60),
            (1.5, 2.5, Some(0.25), Some(0.5))
        );
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        for text in [
            &b"some avg10=\xff avg60=1\n"[..],
            b"some =\n",
            b"some avg10= avg60=\n",
            b"\xff\xfe some avg10=1 avg60=1",
            b"some avg10==1 avg60=1",
            b"some avg10=1.00\x00 avg60=1",
        ] {
            assert_eq!(parse_pressure(text), None);
        }
    }
}
