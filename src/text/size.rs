//! Memory sizes for people: binary units, two decimals at most. Table columns stay in KiB; this
//! is only for headers and details.

const KIB_PER_MIB: u64 = 1024;
const KIB_PER_GIB: u64 = 1024 * 1024;

/// `512 KiB`, `12.50 MiB`, `3.70 GiB`.
pub fn format_kib(kib: u64) -> String {
    let unit = Unit::for_kib(kib);
    format!("{} {}", unit.scaled(kib), unit.name())
}

/// Two sizes in the larger one's unit, as in a header's `3.08 of 3.70 GiB`.
pub fn format_kib_of(part: u64, whole: u64) -> String {
    let unit = Unit::for_kib(whole.max(part));
    format!(
        "{} of {} {}",
        unit.scaled(part),
        unit.scaled(whole),
        unit.name()
    )
}

#[derive(Clone, Copy)]
enum Unit {
    Kib,
    Mib,
    Gib,
}

impl Unit {
    fn for_kib(kib: u64) -> Unit {
        if kib >= KIB_PER_GIB {
            Unit::Gib
        } else if kib >= KIB_PER_MIB {
            Unit::Mib
        } else {
            Unit::Kib
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Kib => "KiB",
            Unit::Mib => "MiB",
            Unit::Gib => "GiB",
        }
    }

    fn scaled(self, kib: u64) -> String {
        let per = match self {
            Unit::Kib => return kib.to_string(),
            Unit::Mib => KIB_PER_MIB,
            Unit::Gib => KIB_PER_GIB,
        };
        // Hundredths in integers, rounded half up: floats would print 0.125 GiB as "0.12".
        let hundredths = (u128::from(kib) * 100 + u128::from(per) / 2) / u128::from(per);
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_unit_by_size() {
        assert_eq!(format_kib(0), "0 KiB");
        assert_eq!(format_kib(1023), "1023 KiB");
        assert_eq!(format_kib(1024), "1.00 MiB");
        assert_eq!(format_kib(12_800), "12.50 MiB");
        assert_eq!(format_kib(3_879_731), "3.70 GiB");
        assert_eq!(format_kib(u64::MAX), "17592186044416.00 GiB");
    }

    #[test]
    fn rounds_half_up_exactly() {
        assert_eq!(format_kib(131_072), "128.00 MiB");
        assert_eq!(format_kib(1_048_576 / 8 * 9), "1.13 GiB"); // 1.125
    }

    #[test]
    fn pair_shares_the_larger_unit() {
        assert_eq!(format_kib_of(3_229_614, 3_879_731), "3.08 of 3.70 GiB");
        assert_eq!(format_kib_of(400_000, 500_000), "390.63 of 488.28 MiB");
    }
}
