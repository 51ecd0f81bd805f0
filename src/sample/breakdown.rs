//! Where MemTotal is: the breakdown line of a report, from the text of the meminfo read the
//! sample already made (parsed only at a report, so an idle tick does no more work).

use super::meminfo::{MeminfoError, named_lines, parse_kb};

/// The parts of MemTotal, in KiB. They add up to MemTotal exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breakdown {
    /// AnonPages.
    pub processes_kib: u64,
    /// Buffers + Cached − Shmem.
    pub page_cache_kib: u64,
    /// Shmem.
    pub shared_kib: u64,
    /// Slab + KernelStack + PageTables.
    pub kernel_kib: u64,
    /// MemFree.
    pub free_kib: u64,
    /// MemTotal minus all of the above, never below 0.
    pub other_kib: u64,
    /// Only when SwapTotal > 0.
    pub swap: Option<Swap>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Swap {
    /// SwapTotal − SwapFree.
    pub used_kib: u64,
    pub total_kib: u64,
}

/// The lines the breakdown reads; `None` where the file has no such line.
#[derive(Default)]
struct Fields {
    total: Option<u64>,
    free: Option<u64>,
    buffers: Option<u64>,
    cached: Option<u64>,
    swap_total: Option<u64>,
    swap_free: Option<u64>,
    anon: Option<u64>,
    shmem: Option<u64>,
    slab: Option<u64>,
    kernel_stack: Option<u64>,
    page_tables: Option<u64>,
}

/// Splits MemTotal into its parts, from meminfo text:
///
/// | part          | definition                       |
/// |---------------|----------------------------------|
/// | processes     | AnonPages                        |
/// | page cache    | Buffers + Cached − Shmem (≥ 0)   |
/// | shared/tmpfs  | Shmem                            |
/// | kernel        | Slab + KernelStack + PageTables  |
/// | free          | MemFree                          |
/// | other         | MemTotal minus all of those      |
///
/// **The parts always add up to MemTotal exactly.** The named parts can add up to more than
/// MemTotal (the kernel reads its counters one after another while memory moves, and some
/// setups, ZFS among them, give odd figures). Then each part keeps as much of its definition as
/// still fits, taken in this fixed order: free, processes, shared/tmpfs, kernel, page cache.
/// So a part is never more than its definition, other is 0, and the shortfall falls on the last
/// parts first: the page cache, a difference of three counters and the one that moves fastest,
/// then the kernel's, a sum of three; MemFree and AnonPages are single counters and are kept
/// whole whenever they fit at all.
///
/// **Lines.** MemTotal must be there and above 0 (else [`MeminfoError::Missing`] or
/// [`MeminfoError::ZeroTotal`]). Any other line the breakdown reads may be absent, as on old
/// kernels (no Shmem before 2.6.32, for one): it counts as 0, and what it would have held shows
/// in other. A line the breakdown reads whose value is not a number of kB that fits in 64 bits
/// is [`MeminfoError::Malformed`] with its name; lines it does not read are not looked at. When
/// a line comes twice, the later one counts. The swap part is there only when SwapTotal is
/// above 0 and SwapFree is there too (used = SwapTotal − SwapFree, never below 0).
///
/// Reads the text once and allocates nothing; sums are formed in `u128`, so no input, however
/// large its figures, overflows or panics.
pub fn parse_breakdown(text: &[u8]) -> Result<Breakdown, MeminfoError> {
    let fields = parse_fields(text)?;
    let total = fields.total.ok_or(MeminfoError::Missing("MemTotal"))?;
    if total == 0 {
        return Err(MeminfoError::ZeroTotal);
    }
    let kib = |v: Option<u64>| u128::from(v.unwrap_or(0));
    let shmem = kib(fields.shmem);

    // What is left of MemTotal; each part takes at most that much, in the documented order.
    let mut left = u128::from(total);
    let mut take = |definition: u128| -> u64 {
        let part = definition.min(left);
        left -= part;
        // part ≤ MemTotal, a u64.
        u64::try_from(part).unwrap_or(u64::MAX)
    };
    let free_kib = take(kib(fields.free));
    let processes_kib = take(kib(fields.anon));
    let shared_kib = take(shmem);
    let kernel_kib = take(kib(fields.slab) + kib(fields.kernel_stack) + kib(fields.page_tables));
    let page_cache_kib = take((kib(fields.buffers) + kib(fields.cached)).saturating_sub(shmem));
    let other_kib = u64::try_from(left).unwrap_or(u64::MAX);

    let swap = match (fields.swap_total, fields.swap_free) {
        (Some(total_kib), Some(free)) if total_kib > 0 => Some(Swap {
            used_kib: total_kib.saturating_sub(free),
            total_kib,
        }),
        _ => None,
    };

    Ok(Breakdown {
        processes_kib,
        page_cache_kib,
        shared_kib,
        kernel_kib,
        free_kib,
        other_kib,
        swap,
    })
}

fn parse_fields(text: &[u8]) -> Result<Fields, MeminfoError> {
    let mut fields = Fields::default();
    for (name, rest) in named_lines(text) {
        let (slot, label): (&mut Option<u64>, &'static str) = match name {
            b"MemTotal" => (&mut fields.total, "MemTotal"),
            b"MemFree" => (&mut fields.free, "MemFree"),
            b"Buffers" => (&mut fields.buffers, "Buffers"),
            b"Cached" => (&mut fields.cached, "Cached"),
            b"SwapTotal" => (&mut fields.swap_total, "SwapTotal"),
            b"SwapFree" => (&mut fields.swap_free, "SwapFree"),
            b"AnonPages" => (&mut fields.anon, "AnonPages"),
            b"Shmem" => (&mut fields.shmem, "Shmem"),
            b"Slab" => (&mut fields.slab, "Slab"),
            b"KernelStack" => (&mut fields.kernel_stack, "KernelStack"),
            b"PageTables" => (&mut fields.page_tables, "PageTables"),
            _ => continue,
        };
        *slot = Some(parse_kb(rest).ok_or(MeminfoError::Malformed(label))?);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small machine whose parts fit: 1000 kB in all.
    const SMALL: &[u8] = b"MemTotal:           1000 kB\n\
MemFree:             100 kB\n\
MemAvailable:        400 kB\n\
Buffers:              20 kB\n\
Cached:              230 kB\n\
SwapCached:            0 kB\n\
SwapTotal:           500 kB\n\
SwapFree:            380 kB\n\
AnonPages:           300 kB\n\
Shmem:                50 kB\n\
Slab:                 70 kB\n\
SReclaimable:         40 kB\n\
KernelStack:          12 kB\n\
PageTables:            8 kB\n\
CmaTotal:            64 kB\n";

    fn sum(b: &Breakdown) -> u128 {
        [
            b.processes_kib,
            b.page_cache_kib,
            b.shared_kib,
            b.kernel_kib,
            b.free_kib,
            b.other_kib,
        ]
        .iter()
        .map(|&v| u128::from(v))
        .sum()
    }

    #[test]
    fn each_part_is_its_definition() {
        let b = parse_breakdown(SMALL).unwrap();
        assert_eq!(b.processes_kib, 300, "AnonPages");
        assert_eq!(b.page_cache_kib, 20 + 230 - 50, "Buffers + Cached − Shmem");
        assert_eq!(b.shared_kib, 50, "Shmem");
        assert_eq!(b.kernel_kib, 70 + 12 + 8, "Slab + KernelStack + PageTables");
        assert_eq!(b.free_kib, 100, "MemFree");
        assert_eq!(b.other_kib, 1000 - 300 - 200 - 50 - 90 - 100, "the rest");
        assert_eq!(sum(&b), 1000);
        assert_eq!(
            b.swap,
            Some(Swap {
                used_kib: 120,
                total_kib: 500
            })
        );
    }

    #[test]
    fn order_and_padding_do_not_matter() {
        let shuffled = b"PageTables: 8 kB\nShmem:50 kB\nKernelStack:\t12 kB\nSlab: 70 kB\r\n\
AnonPages: 300\nCached: 230 kB\nBuffers: 20 kB\nMemFree: 100 kB\nSwapFree: 380 kB\n\
SwapTotal: 500 kB\nMemTotal: 1000 kB";
        assert_eq!(
            parse_breakdown(shuffled).unwrap(),
            parse_breakdown(SMALL).unwrap()
        );
    }

    #[test]
    fn shmem_above_buffers_and_cached_leaves_no_page_cache() {
        let b = parse_breakdown(
            b"MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 20 kB\nShmem: 50 kB\n",
        )
        .unwrap();
        assert_eq!((b.page_cache_kib, b.shared_kib), (0, 50));
        assert_eq!(b.other_kib, 850);
    }

    #[test]
    fn parts_above_the_total_are_cut_last_first() {
        // Free 400 + processes 300 + shared 100 + kernel 150 + page cache 200 = 1150 > 1000:
        // the page cache gives up 150, other is 0.
        let over = b"MemTotal: 1000 kB\nMemFree: 400 kB\nAnonPages: 300 kB\nShmem: 100 kB\n\
Slab: 100 kB\nKernelStack: 30 kB\nPageTables: 20 kB\nBuffers: 50 kB\nCached: 250 kB\n";
        let b = parse_breakdown(over).unwrap();
        assert_eq!(
            (
                b.free_kib,
                b.processes_kib,
                b.shared_kib,
                b.kernel_kib,
                b.page_cache_kib,
                b.other_kib
            ),
            (400, 300, 100, 150, 50, 0)
        );
        assert_eq!(sum(&b), 1000);

        // Far over: the kernel's part is cut too, the page cache is 0.
        let far = b"MemTotal: 1000 kB\nMemFree: 400 kB\nAnonPages: 500 kB\nShmem: 50 kB\n\
Slab: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n";
        let b = parse_breakdown(far).unwrap();
        assert_eq!(
            (
                b.free_kib,
                b.processes_kib,
                b.shared_kib,
                b.kernel_kib,
                b.page_cache_kib,
                b.other_kib
            ),
            (400, 500, 50, 50, 0, 0)
        );

        // MemFree alone above MemTotal: it is cut to MemTotal, everything else is 0.
        let b =
            parse_breakdown(b"MemTotal: 1000 kB\nMemFree: 5000 kB\nAnonPages: 10 kB\n").unwrap();
        assert_eq!((b.free_kib, b.processes_kib, b.other_kib), (1000, 0, 0));
    }

    #[test]
    fn huge_figures_neither_overflow_nor_wrap() {
        let max = u64::MAX;
        let text = format!(
            "MemTotal: {max} kB\nMemFree: {max} kB\nAnonPages: {max} kB\nBuffers: {max} kB\n\
Cached: {max} kB\nShmem: {max} kB\nSlab: {max} kB\nKernelStack: {max} kB\n\
PageTables: {max} kB\nSwapTotal: {max} kB\nSwapFree: 0 kB\n"
        );
        let b = parse_breakdown(text.as_bytes()).unwrap();
        assert_eq!(b.free_kib, max);
        assert_eq!(sum(&b), u128::from(max));
        assert_eq!(
            b.swap,
            Some(Swap {
                used_kib: max,
                total_kib: max
            })
        );
    }

    #[test]
    fn missing_parts_count_as_zero_and_show_in_other() {
        // A 2.6.18-era file: no Shmem, KernelStack or AnonPages lines.
        let old = b"MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 300 kB\n\
SwapTotal: 0 kB\nSwapFree: 0 kB\nSlab: 60 kB\nPageTables: 10 kB\n";
        let b = parse_breakdown(old).unwrap();
        assert_eq!(
            (
                b.processes_kib,
                b.page_cache_kib,
                b.shared_kib,
                b.kernel_kib,
                b.free_kib,
                b.other_kib
            ),
            (0, 350, 0, 70, 100, 480)
        );
        let b = parse_breakdown(b"MemTotal: 1000 kB\n").unwrap();
        assert_eq!((b.other_kib, b.swap), (1000, None));
    }

    #[test]
    fn memtotal_missing_or_zero_is_an_error() {
        assert!(matches!(
            parse_breakdown(b""),
            Err(MeminfoError::Missing("MemTotal"))
        ));
        assert!(matches!(
            parse_breakdown(b"MemFree: 100 kB\nAnonPages: 100 kB\n"),
            Err(MeminfoError::Missing("MemTotal"))
        ));
        // Only a line named exactly MemTotal counts (not a NUMA node's file).
        assert!(matches!(
            parse_breakdown(b"Node 0 MemTotal: 100 kB\n MemTotal: 100 kB\n"),
            Err(MeminfoError::Missing("MemTotal"))
        ));
        assert!(matches!(
            parse_breakdown(b"MemTotal: 0 kB\nMemFree: 0 kB\n"),
            Err(MeminfoError::ZeroTotal)
        ));
    }

    #[test]
    fn malformed_lines_name_their_field() {
        for (text, field) in [
            (&b"MemTotal: lots kB\n"[..], "MemTotal"),
            (b"MemTotal: 1000 kB\nAnonPages: -5 kB\n", "AnonPages"),
            (b"MemTotal: 1000 kB\nCached: 1000 MB\n", "Cached"),
            (b"MemTotal: 1000 kB\nShmem:\n", "Shmem"),
            (b"MemTotal: 1000 kB\nSlab: 1.5 kB\n", "Slab"),
            (
                b"MemTotal: 1000 kB\nPageTables: 18446744073709551616 kB\n",
                "PageTables",
            ),
            (b"MemTotal: 1000 kB\nSwapFree: 1 2 kB\n", "SwapFree"),
        ] {
            match parse_breakdown(text) {
                Err(MeminfoError::Malformed(name)) => assert_eq!(name, field),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(text)),
            }
        }
        // Lines the breakdown does not read are not looked at.
        assert!(
            parse_breakdown(b"MemTotal: 1000 kB\nHugePages_Total: many\n\xff\xfe: x\n").is_ok()
        );
    }

    #[test]
    fn a_repeated_line_the_later_counts() {
        let b =
            parse_breakdown(b"MemTotal: 10 kB\nMemFree: 1 kB\nMemFree: 2 kB\nMemTotal: 1000 kB\n")
                .unwrap();
        assert_eq!((b.free_kib, b.other_kib), (2, 998));
    }

    #[test]
    fn swap_only_when_there_is_some() {
        let b = parse_breakdown(b"MemTotal: 1000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n").unwrap();
        assert_eq!(b.swap, None);
        let b = parse_breakdown(b"MemTotal: 1000 kB\n").unwrap();
        assert_eq!(b.swap, None);
        // SwapFree without SwapTotal, or the reverse: no figure rather than a made-up one.
        let b = parse_breakdown(b"MemTotal: 1000 kB\nSwapFree: 10 kB\n").unwrap();
        assert_eq!(b.swap, None);
        let b = parse_breakdown(b"MemTotal: 1000 kB\nSwapTotal: 10 kB\n").unwrap();
        assert_eq!(b.swap, None);
        // More free than total (counters read apart): nothing used.
        let b = parse_breakdown(b"MemTotal: 1000 kB\nSwapTotal: 10 kB\nSwapFree: 12 kB\n").unwrap();
        assert_eq!(
            b.swap,
            Some(Swap {
                used_kib: 0,
                total_kib: 10
            })
        );
    }

    // ---------------------------------------------------------------------------------------
    // Property tests over random meminfo texts.

    const NAMES: [&str; 11] = [
        "MemTotal",
        "MemFree",
        "Buffers",
        "Cached",
        "SwapTotal",
        "SwapFree",
        "AnonPages",
        "Shmem",
        "Slab",
        "KernelStack",
        "PageTables",
    ];

    /// A figure: small, real-sized, near u64::MAX, or any.
    fn figure() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..2000,
            0u64..(1 << 40),
            (u64::MAX - 4096)..=u64::MAX,
            any::<u64>(),
        ]
    }

    /// Every field (or none) with a figure, plus lines the parser ignores, shuffled.
    fn meminfo() -> impl Strategy<Value = ([Option<u64>; 11], String)> {
        (
            prop::array::uniform11(prop::option::weighted(0.8, figure())),
            prop::collection::vec((figure(), "[A-Z][a-z_()]{0,12}"), 0..6),
        )
            .prop_flat_map(|(values, noise)| {
                let mut lines: Vec<String> = NAMES
                    .iter()
                    .zip(values)
                    .filter_map(|(name, v)| v.map(|v| format!("{name}:{v:>16} kB")))
                    .collect();
                lines.extend(
                    noise
                        .into_iter()
                        .filter(|(_, name)| !NAMES.contains(&name.as_str()))
                        .map(|(v, name)| format!("{name}: {v} kB")),
                );
                (Just(values), Just(lines).prop_shuffle())
            })
            .prop_map(|(values, lines)| (values, lines.join("\n") + "\n"))
    }

    proptest! {
        #[test]
        fn parts_sum_to_total_and_never_exceed_their_definitions((values, text) in meminfo()) {
            let v = |i: usize| u128::from(values[i].unwrap_or(0));
            let result = parse_breakdown(text.as_bytes());
            let total = match values[0] {
                None => {
                    prop_assert!(matches!(result, Err(MeminfoError::Missing("MemTotal"))));
                    return Ok(());
                }
                Some(0) => {
                    prop_assert!(matches!(result, Err(MeminfoError::ZeroTotal)));
                    return Ok(());
                }
                Some(total) => total,
            };
            let b = result.unwrap();
            prop_assert_eq!(sum(&b), u128::from(total));
            let definitions = [
                (b.free_kib, v(1)),
                (b.processes_kib, v(6)),
                (b.shared_kib, v(7)),
                (b.kernel_kib, v(8) + v(9) + v(10)),
                (b.page_cache_kib, (v(2) + v(3)).saturating_sub(v(7))),
            ];
            for (part, definition) in definitions {
                prop_assert!(u128::from(part) <= definition);
            }
            // When the named parts fit, each is exactly its definition.
            let named: u128 = definitions.iter().map(|&(_, d)| d).sum();
            if named <= u128::from(total) {
                for (part, definition) in definitions {
                    prop_assert_eq!(u128::from(part), definition);
                }
                prop_assert_eq!(u128::from(b.other_kib), u128::from(total) - named);
            } else {
                prop_assert_eq!(b.other_kib, 0);
            }
            match (values[4], values[5]) {
                (Some(st), Some(sf)) if st > 0 => {
                    prop_assert_eq!(b.swap, Some(Swap { used_kib: st.saturating_sub(sf), total_kib: st }));
                }
                _ => prop_assert_eq!(b.swap, None),
            }
        }

        #[test]
        fn any_bytes_never_panic(text in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(b) = parse_breakdown(&text) {
                prop_assert!((1..=u128::from(u64::MAX)).contains(&sum(&b)));
            }
        }

        #[test]
        fn mangled_lines_never_panic(
            lines in prop::collection::vec(
                (prop::sample::select(&NAMES[..]), "[ \t]{0,3}[0-9a-z.+-]{0,24}[ \t]{0,2}(kB|MB|)[ \r]?"),
                0..16,
            )
        ) {
            let text: String = lines.iter().map(|(n, rest)| format!("{n}:{rest}\n")).collect();
            if let Ok(b) = parse_breakdown(text.as_bytes()) {
                // The later MemTotal line counts.
                let total = lines
                    .iter()
                    .rev()
                    .find(|(n, _)| *n == "MemTotal")
                    .and_then(|(_, rest)| parse_kb(rest.as_bytes()));
                prop_assert_eq!(Some(sum(&b)), total.map(u128::from));
            }
        }
    }
}
