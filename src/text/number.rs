//! The one reader of decimal numbers in text from outside: `/proc` files, ps's columns.

/// A whole number in plain ASCII digits, nothing else (no sign, no blanks), or `None` when the
/// text is not one or does not fit in 64 bits.
pub fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if d.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// The first blank-separated word of `text`.
pub fn first_word(text: &[u8]) -> Option<&[u8]> {
    text.split(|b| b.is_ascii_whitespace())
        .find(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_only_and_within_64_bits() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"007"), Some(7));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"18446744073709551616",
            b"+1",
            b"-1",
            b"1 ",
            b"1.0",
            b"x",
        ] {
            assert_eq!(parse_u64(bad), None, "{bad:?}");
        }
        assert_eq!(first_word(b"  12 kB"), Some(&b"12"[..]));
        assert_eq!(first_word(b" \t"), None);
    }
}
