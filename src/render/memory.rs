//! The context lines that say where the RAM is: the breakdown of MemTotal, memory pressure, the
//! tmpfs mounts that hold the most, and the units that do.

use crate::parse::pressure::Pressure;
use crate::proc::{Measured, TMPFS_MOUNTS, TmpfsUse, UNITS, UnitUse};
use crate::sample::Breakdown;
use crate::text::escape::escape;
use crate::text::size::format_kib;

/// `  memory: processes 1.20 GiB, page cache 512.00 MiB, …; swap 10.00 MiB of 100.00 MiB used`.
pub fn breakdown_line(b: &Breakdown) -> String {
    let mut line = format!(
        "  memory: processes {}, page cache {}, shared/tmpfs {}, kernel {}, free {}, other {}",
        format_kib(b.processes_kib),
        format_kib(b.page_cache_kib),
        format_kib(b.shared_kib),
        format_kib(b.kernel_kib),
        format_kib(b.free_kib),
        format_kib(b.other_kib),
    );
    if let Some(swap) = b.swap {
        line.push_str(&format!(
            "; swap {} of {} used",
            format_kib(swap.used_kib),
            format_kib(swap.total_kib)
        ));
    }
    line
}

/// `  pressure: some 1.2% full 0.4% over 10s, some 0.8% full 0.2% over 60s`; a kernel without
/// the `full` line gets `some` alone.
pub fn pressure_line(p: &Pressure) -> String {
    let part = |some: f64, full: Option<f64>, over: &str| match full {
        Some(full) => format!("some {some:.1}% full {full:.1}% over {over}"),
        None => format!("some {some:.1}% over {over}"),
    };
    format!(
        "  pressure: {}, {}",
        part(p.some_avg10, p.full_avg10, "10s"),
        part(p.some_avg60, p.full_avg60, "60s")
    )
}

/// `  tmpfs: /dev/shm 50.00 MiB, /tmp 2.00 MiB`: the mounts that hold the most; `None` when
/// none holds enough to name.
pub fn tmpfs_line(mounts: &[TmpfsUse]) -> Option<String> {
    if mounts.is_empty() {
        return None;
    }
    let named: Vec<String> = mounts
        .iter()
        .take(TMPFS_MOUNTS)
        .map(|m| format!("{} {}", escape(&m.mount), format_kib(m.used_bytes / 1024)))
        .collect();
    Some(format!("  tmpfs: {}", named.join(", ")))
}

/// `  unit nginx.service: 1.20 GiB of its 2.00 GiB limit, 5 processes`, for the units that hold
/// the most. A unit whose cgroup's figure could not be read shows its processes' RSS, and says so.
pub fn unit_lines(units: &[UnitUse]) -> impl Iterator<Item = String> + '_ {
    units.iter().take(UNITS).map(|u| {
        let limit = u
            .limit_bytes
            .map(|limit| format!(" of its {} limit", format_kib(limit / 1024)))
            .unwrap_or_default();
        let by = match u.measured {
            Measured::Cgroup => "",
            Measured::ProcessRss => " (sum of their RSS)",
        };
        format!(
            "  unit {}: {}{limit}, {} processes{by}",
            escape(&u.unit.name),
            format_kib(u.bytes / 1024),
            u.processes
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::{Hierarchy, UnitName};
    use crate::sample::Swap;

    #[test]
    fn the_breakdown_names_each_part_and_swap_only_when_there_is_some() {
        let mut b = Breakdown {
            processes_kib: 1024 * 1024,
            page_cache_kib: 512 * 1024,
            shared_kib: 50 * 1024,
            kernel_kib: 100 * 1024,
            free_kib: 300,
            other_kib: 0,
            swap: None,
        };
        assert_eq!(
            breakdown_line(&b),
            "  memory: processes 1.00 GiB, page cache 512.00 MiB, shared/tmpfs 50.00 MiB, kernel 100.00 MiB, free 300 KiB, other 0 KiB"
        );
        b.swap = Some(Swap {
            used_kib: 10 * 1024,
            total_kib: 100 * 1024,
        });
        assert!(breakdown_line(&b).ends_with(", other 0 KiB; swap 10.00 MiB of 100.00 MiB used"));
    }

    #[test]
    fn pressure_without_full_says_some_alone() {
        let mut p = Pressure {
            some_avg10: 1.23,
            some_avg60: 0.0,
            full_avg10: Some(0.45),
            full_avg60: Some(100.0),
        };
        assert_eq!(
            pressure_line(&p),
            "  pressure: some 1.2% full 0.5% over 10s, some 0.0% full 100.0% over 60s"
        );
        (p.full_avg10, p.full_avg60) = (None, None);
        assert_eq!(
            pressure_line(&p),
            "  pressure: some 1.2% over 10s, some 0.0% over 60s"
        );
    }

    #[test]
    fn three_mounts_at_most_and_names_escaped() {
        let mount = |name: &[u8], mib: u64| TmpfsUse {
            mount: name.to_vec(),
            used_bytes: mib * 1024 * 1024,
        };
        assert_eq!(tmpfs_line(&[]), None);
        let mounts = [
            mount(b"/dev/shm", 50),
            mount(b"/run/a\nb", 3),
            mount(b"/tmp", 2),
            mount(b"/run/user/1000", 1),
        ];
        assert_eq!(
            tmpfs_line(&mounts).unwrap(),
            "  tmpfs: /dev/shm 50.00 MiB, /run/a\\x0ab 3.00 MiB, /tmp 2.00 MiB"
        );
    }

    #[test]
    fn units_say_their_limit_and_when_their_figure_is_the_rss() {
        let unit = |name: &[u8], mib: u64, measured, limit: Option<u64>| UnitUse {
            unit: UnitName {
                name: name.to_vec(),
                cgroup: [b"/system.slice/", name].concat(),
                hierarchy: Hierarchy::V2,
            },
            bytes: mib * 1024 * 1024,
            measured,
            limit_bytes: limit.map(|mib| mib * 1024 * 1024),
            processes: 3,
        };
        let units: Vec<UnitUse> = (0..7)
            .map(|i| {
                unit(
                    format!("u{i}.service").as_bytes(),
                    100 - i,
                    Measured::Cgroup,
                    None,
                )
            })
            .chain([unit(b"x\x1b.service", 1, Measured::ProcessRss, None)])
            .collect();
        let lines: Vec<String> = unit_lines(&units).collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], "  unit u0.service: 100.00 MiB, 3 processes");
        let limited = [
            unit(b"demo.service", 48, Measured::Cgroup, Some(64)),
            unit(b"x\x1b.service", 1, Measured::ProcessRss, None),
        ];
        let lines: Vec<String> = unit_lines(&limited).collect();
        assert_eq!(
            lines,
            [
                "  unit demo.service: 48.00 MiB of its 64.00 MiB limit, 3 processes",
                "  unit x\\x1b.service: 1.00 MiB, 3 processes (sum of their RSS)",
            ]
        );
    }
}
