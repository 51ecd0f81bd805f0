//! The breakdown line on every meminfo fixture (`tests/fixtures/meminfo/`, hand-written Pis and
//! real captures): the parts add up to MemTotal exactly, and each is its definition, worked out
//! here again from the file's lines by a parser of the test's own.

use crate::util;

use std::collections::HashMap;
use std::path::Path;

use memory_monitor::sample::{Breakdown, Swap, parse_breakdown};
use util::meminfo_fixture;

const GIB: u64 = 1024 * 1024;

/// The names of the fixture files, sorted; the README is not one.
fn fixture_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/meminfo");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "README.md")
        .collect();
    names.sort();
    names
}

/// `Name:   1234 kB` → ("Name", 1234), the plainest way: split at the first colon, take the
/// first word after it. Lines without a number (none in these files) are left out.
fn lines_of(text: &str) -> HashMap<&str, u64> {
    let mut fields = HashMap::new();
    for line in text.lines() {
        let (name, rest) = line
            .split_once(':')
            .expect("every fixture line has a colon");
        if let Some(Ok(value)) = rest.split_whitespace().next().map(str::parse) {
            assert!(
                fields.insert(name, value).is_none(),
                "{name} twice in one file"
            );
        }
    }
    fields
}

/// What the doc comment of `parse_breakdown` promises, computed from the lines: each part its
/// definition, and when they overflow MemTotal, each part cut to what is left of MemTotal in the
/// order free, processes, shared, kernel, page cache.
fn expected(fields: &HashMap<&str, u64>) -> Breakdown {
    let get = |name: &str| fields.get(name).copied().unwrap_or(0);
    let total = get("MemTotal");
    let definitions = [
        get("MemFree"),
        get("AnonPages"),
        get("Shmem"),
        get("Slab") + get("KernelStack") + get("PageTables"),
        (get("Buffers") + get("Cached")).saturating_sub(get("Shmem")),
    ];
    let mut left = total;
    let [free, processes, shared, kernel, page_cache] = definitions.map(|definition| {
        let part = definition.min(left);
        left -= part;
        part
    });
    let swap = match (fields.get("SwapTotal"), fields.get("SwapFree")) {
        (Some(&total_kib), Some(&free)) if total_kib > 0 => Some(Swap {
            used_kib: total_kib.saturating_sub(free),
            total_kib,
        }),
        _ => None,
    };
    Breakdown {
        processes_kib: processes,
        page_cache_kib: page_cache,
        shared_kib: shared,
        kernel_kib: kernel,
        free_kib: free,
        other_kib: left,
        swap,
    }
}

fn sum(b: &Breakdown) -> u64 {
    b.processes_kib + b.page_cache_kib + b.shared_kib + b.kernel_kib + b.free_kib + b.other_kib
}

#[test]
fn every_fixture_splits_memtotal_exactly_into_its_parts() {
    let names = fixture_names();
    assert!(
        names.len() >= 8,
        "only {} meminfo fixtures: {names:?}",
        names.len()
    );
    assert!(names.iter().any(|n| n.starts_with("real-")));
    for name in &names {
        let bytes = meminfo_fixture(name);
        let text = std::str::from_utf8(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let fields = lines_of(text);
        let total = fields[&"MemTotal"];
        let b = parse_breakdown(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));

        assert_eq!(sum(&b), total, "{name}: the parts must add up to MemTotal");
        assert_eq!(b, expected(&fields), "{name}");

        // None of these files needs the cut: each part is exactly its definition.
        let get = |field: &str| fields.get(field).copied().unwrap_or(0);
        assert_eq!(b.free_kib, get("MemFree"), "{name}: free");
        assert_eq!(b.processes_kib, get("AnonPages"), "{name}: processes");
        assert_eq!(b.shared_kib, get("Shmem"), "{name}: shared/tmpfs");
        assert_eq!(
            b.kernel_kib,
            get("Slab") + get("KernelStack") + get("PageTables"),
            "{name}: kernel"
        );
        assert_eq!(
            b.page_cache_kib,
            get("Buffers") + get("Cached") - get("Shmem"),
            "{name}: page cache"
        );
    }
}

/// On ZFS the ARC is in neither Cached nor Slab (ZFS on Linux 0.6 kept it in SPL's vmalloc-backed
/// slabs; later versions in pages of its own): a cache shows as `other`, more than the whole
/// kernel figure and more than every process together.
#[test]
fn the_zfs_arc_shows_as_other() {
    let zfs: Vec<String> = fixture_names()
        .into_iter()
        .filter(|name| name.contains("zfs"))
        .collect();
    assert!(!zfs.is_empty(), "no ZFS fixture");
    for name in zfs {
        let b = parse_breakdown(&meminfo_fixture(&name)).unwrap();
        assert!(b.other_kib >= GIB, "{name}: {b:?}");
        assert!(
            b.other_kib > b.kernel_kib && b.other_kib > b.processes_kib,
            "{name}: {b:?}"
        );
    }
}

/// A leak of pages the kernel counts nowhere (openwrt/openwrt#19544) is `other` too: more than
/// half of that router's memory.
#[test]
fn an_uncounted_kernel_leak_shows_as_other() {
    let name = "real-router-ramips_mips_openwrt-24.10_kernel-leak.txt";
    let b = parse_breakdown(&meminfo_fixture(name)).unwrap();
    assert_eq!(b.other_kib, 62_416, "{b:?}");
    assert!(b.other_kib * 2 > sum(&b));
}

#[test]
fn swap_shows_only_where_there_is_some() {
    let with_swap = parse_breakdown(&meminfo_fixture(
        "real-raspberrypi_armv7l_raspios-6.x_swap.txt",
    ))
    .unwrap();
    assert_eq!(
        with_swap.swap,
        Some(Swap {
            used_kib: 524_284 - 505_004,
            total_kib: 524_284
        })
    );
    let without = parse_breakdown(&meminfo_fixture(
        "real-raspberrypi_armv7l_raspios-6.x_overlayfs.txt",
    ))
    .unwrap();
    assert_eq!(without.swap, None);
}

/// Files in a tmpfs are `shared/tmpfs`, not page cache and not a process's: the 3 GiB file of
/// the local capture is all there.
#[test]
fn a_tmpfs_file_shows_as_shared_not_as_page_cache() {
    let name = "local-epyc-24gb_x86_64_debian12-6.18_tmpfs-3gib.txt";
    let b = parse_breakdown(&meminfo_fixture(name)).unwrap();
    assert_eq!(b.shared_kib, 3_154_656, "{b:?}");
    assert!(
        b.shared_kib > 3 * GIB && b.shared_kib > b.processes_kib,
        "{b:?}"
    );
    assert_eq!(b.swap, None);
}
