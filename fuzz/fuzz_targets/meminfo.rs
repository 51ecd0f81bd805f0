//! `/proc/meminfo` as any bytes: parsing never panics, and a sample it accepts is sane.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memory_monitor::meminfo::parse_meminfo;

fuzz_target!(|data: &[u8]| {
    if let Ok(sample) = parse_meminfo(data) {
        assert!(sample.total_kib > 0);
        assert!(sample.available_kib <= sample.total_kib);
        let used = sample.used_percent();
        assert!((0.0..=100.0).contains(&used), "{used}");
    }
});
