//! `/proc/meminfo` as any bytes: parsing never panics, and a sample it accepts is sane.
//!
//! The same bytes also pick a well-formed file: which of the seven fields it has and their
//! values, up to the 19 digits the parser takes. Its sample must match the formula worked out
//! without overflow, which raw bytes rarely reach (libFuzzer seldom writes two huge numbers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use memory_monitor::sample::{MemSample, MeminfoError, parse_meminfo};

const FIELDS: [&str; 7] = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "Shmem",
    "SReclaimable",
];

fuzz_target!(|data: &[u8]| {
    if let Ok(sample) = parse_meminfo(data) {
        assert!(sample.total_kib > 0);
        assert!(sample.available_kib <= sample.total_kib);
        let used = sample.used_percent();
        assert!((0.0..=100.0).contains(&used), "{used}");
    }

    let Some((&present, rest)) = data.split_first() else {
        return;
    };
    let mut values = [None; 7];
    for (i, (value, chunk)) in values.iter_mut().zip(rest.chunks_exact(8)).enumerate() {
        if present & (1 << i) != 0 {
            let raw = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            *value = Some(raw % 10_000_000_000_000_000_000);
        }
    }
    let mut text = String::new();
    for (name, value) in FIELDS.iter().zip(values) {
        if let Some(value) = value {
            text.push_str(&format!("{name}: {value:>8} kB\n"));
        }
    }
    let [total, free, available, buffers, cached, shmem, sreclaimable] =
        values.map(|v| v.map(u128::from));
    let parsed = parse_meminfo(text.as_bytes());
    let expected_available = match (total, available, free) {
        (None, ..) => return assert!(matches!(parsed, Err(MeminfoError::Missing(_)))),
        (Some(0), ..) => return assert!(matches!(parsed, Err(MeminfoError::ZeroTotal))),
        (Some(_), Some(available), _) => available,
        (Some(_), None, None) => return assert!(matches!(parsed, Err(MeminfoError::Missing(_)))),
        (Some(_), None, Some(free)) => {
            let sum = free + buffers.unwrap_or(0) + cached.unwrap_or(0) + sreclaimable.unwrap_or(0);
            sum.saturating_sub(shmem.unwrap_or(0))
        }
    };
    let total = total.expect("matched above");
    let expected = MemSample {
        total_kib: u64::try_from(total).expect("read from a u64"),
        available_kib: u64::try_from(expected_available.min(total)).expect("at most the total"),
        cgroup_limit: false,
    };
    assert_eq!(parsed.ok(), Some(expected), "{text}");
});
