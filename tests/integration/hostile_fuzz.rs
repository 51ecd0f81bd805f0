//! Fuzzing (proptest): arbitrary bytes for every field ps, top, /proc and passwd give, through
//! the same parse and render the daemon runs; both logs must pass the same checks as real ones.

use crate::util;

use std::fmt::Write as _;

use proptest::prelude::*;
use util::hostile::*;
use util::log::*;
use util::{FakeProc, FakeProcess, FakeUsers};

// ---------------------------------------------------------------------------------------------
// c. Fuzzing: arbitrary bytes for every field ps, top, /proc and passwd give, through the same
// parse and render the daemon runs.

/// One process of a fuzzed machine.
#[derive(Clone, Debug)]
struct FuzzProcess {
    /// The name passwd gives its uid.
    user: Vec<u8>,
    /// Whether ps cuts the name to seven characters and `+`, as it does past eight.
    cut: bool,
    /// TTY, STAT, START and TIME as ps prints them.
    fields: [Vec<u8>; 4],
    cpu_mem: (String, String),
    rss_kib: u32,
    argv: Vec<Vec<u8>>,
    comm: Vec<u8>,
    cwd: Option<Vec<u8>>,
    raw_status_name: bool,
    start_ticks: u64,
    /// Index of its parent among the machine's processes.
    parent: Option<usize>,
}

#[derive(Clone, Debug)]
struct FuzzMachine {
    processes: Vec<FuzzProcess>,
    /// Lines ps prints between rows that are not rows, with their position.
    junk: Vec<(usize, Vec<u8>)>,
    /// Bytes at the end of each of top's five summary lines, then names in its task lines.
    top_junk: [Vec<u8>; 5],
    top_tasks: Vec<Vec<u8>>,
}

const FRAGMENTS: &[&[u8]] = &[
    b"\n",
    b"\r",
    b"\r\n",
    b"\t",
    b" ",
    b"   ",
    b"\x1b[2J",
    b"\x1b]0;title\x07",
    b"\x07",
    b"\x7f",
    b"\x00",
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xe2\x82",
    "\u{202e}".as_bytes(),
    "\u{2066}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{9b}".as_bytes(),
    "\u{a0}".as_bytes(),
    "\u{2800}".as_bytes(),
    "é".as_bytes(),
    "日本".as_bytes(),
    b"\\x1b",
    FAKE_HEADER,
    FAKE_MARKER,
    b"2026-11-22 14:03:15 +01:00 | ",
    b"===== new log ",
    // A ps row of its own, after a raw newline.
    b"\nroot 4242 0.0 0.0 1 1 ? S 10:00 0:00 forged",
];

/// Text that passwd might give as a user name (NSS and LDAP accept nearly anything).
const FAKE_USERS: &[&str] = &[
    "2026-11-22 14:03:15 +01:00 | incident 7 | RAM 99.0% (3.66 of 3.70 GiB) | CPU 1.0%",
    "===== new log 2026-11-22 14:03:15 +01:00 | incident 7 | memory-monitor 0.1.0 =====",
    "2026-11-22\u{a0}14:03:15\u{a0}+01:00\u{a0}|\u{a0}incident\u{a0}7",
    "=====\u{2800}new\u{2800}log\u{2800}2026-11-22",
    "verylongusername",
];

fn hostile_bytes(max_pieces: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<u8>().prop_map(|b| vec![b]),
            3 => prop::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec),
            2 => "[a-z0-9/._=+-]{1,6}".prop_map(String::into_bytes),
        ],
        0..max_pieces,
    )
    .prop_map(|pieces| pieces.concat())
}

fn without(bytes: Vec<u8>, unwanted: &[u8], or_else: &[u8]) -> Vec<u8> {
    let kept: Vec<u8> = bytes
        .into_iter()
        .filter(|b| !unwanted.contains(b))
        .collect();
    if kept.is_empty() {
        or_else.to_vec()
    } else {
        kept
    }
}

/// One argument, sometimes of 100 KB.
fn argument() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Rare, as each costs a few tens of milliseconds in a debug build; the fixed case below
        // always has two.
        30 => hostile_bytes(8),
        1 => hostile_bytes(6).prop_map(|seed| {
            let seed = if seed.is_empty() { b"x".to_vec() } else { seed };
            seed.iter().copied().cycle().take(100_000).collect()
        }),
    ]
    .prop_map(|a| without(a, b"\0", b""))
}

fn fuzz_process() -> impl Strategy<Value = FuzzProcess> {
    // Blank-free, and not all carriage returns, which end a line as blanks do.
    let field = || {
        hostile_bytes(3).prop_map(|f| {
            let f = without(f, b" \t\n", b"?");
            if f.iter().all(|&b| b == b'\r') {
                b"?".to_vec()
            } else {
                f
            }
        })
    };
    let percent = || "[0-9]{1,3}(\\.[0-9])?";
    (
        prop_oneof![
            3 => hostile_bytes(4),
            1 => prop::sample::select(FAKE_USERS).prop_map(|u| u.as_bytes().to_vec()),
        ],
        any::<bool>(),
        [field(), field(), field(), field()],
        (percent(), percent()),
        any::<u32>(),
        prop::collection::vec(argument(), 0..4),
        hostile_bytes(4).prop_map(|c| without(c, b"\0", b"").into_iter().take(15).collect()),
        prop::option::of(hostile_bytes(6).prop_map(|c| without(c, b"\0", b"/"))),
        any::<bool>(),
        any::<u64>(),
        prop::option::of(0..8usize),
    )
        .prop_map(
            |(user, cut, fields, cpu_mem, rss_kib, argv, comm, cwd, raw, start, parent)| {
                FuzzProcess {
                    user,
                    cut,
                    fields,
                    cpu_mem,
                    rss_kib,
                    argv,
                    comm,
                    cwd,
                    raw_status_name: raw,
                    start_ticks: start,
                    parent,
                }
            },
        )
}

fn fuzz_machine() -> impl Strategy<Value = FuzzMachine> {
    let summary_junk = || hostile_bytes(4).prop_map(|j| without(j, b"\n", b""));
    (
        prop::collection::vec(fuzz_process(), 1..8),
        prop::collection::vec((0..8usize, hostile_bytes(10)), 0..3),
        [
            summary_junk(),
            summary_junk(),
            summary_junk(),
            summary_junk(),
            summary_junk(),
        ],
        prop::collection::vec(hostile_bytes(6), 0..4),
    )
        .prop_map(|(processes, junk, top_junk, top_tasks)| FuzzMachine {
            processes,
            junk,
            top_junk,
            top_tasks,
        })
}

fn fuzz_pid(i: usize) -> u32 {
    10_000 + 7 * u32::try_from(i).unwrap()
}

fn trim_trailing_blanks(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Renders the machine's incident into both logs, as the daemon writes them for the first report
/// of an episode, and checks them.
fn check_fuzz_machine(machine: &FuzzMachine) {
    let fake = FakeProc::new();
    let n = machine.processes.len();
    let entries: Vec<FakeProcess> = machine
        .processes
        .iter()
        .enumerate()
        .map(|(i, p)| FakeProcess {
            pid: fuzz_pid(i),
            uid: 1000 + u32::try_from(i).unwrap(),
            cmdline: util::cmdline_of(&p.argv),
            name: p.comm.clone(),
            cwd: p.cwd.clone(),
            ppid: p.parent.filter(|&j| j < n).map_or(1, fuzz_pid),
            rss_kib: u64::from(p.rss_kib),
            start_ticks: p.start_ticks,
            raw_status_name: p.raw_status_name,
        })
        .collect();
    let mut ps_lines: Vec<Vec<u8>> = Vec::new();
    for (p, e) in machine.processes.iter().zip(&entries) {
        fake.add(e);
        let cell = if p.cut && p.user.len() > 8 {
            [&p.user[..7], b"+"].concat()
        } else {
            p.user.clone()
        };
        let mut line = without(cell, b" \t\n", b"u");
        write!(
            Bytes(&mut line),
            " {} {} {}",
            e.pid,
            p.cpu_mem.0,
            p.cpu_mem.1
        )
        .unwrap();
        write!(Bytes(&mut line), " {} {}", e.rss_kib * 3, e.rss_kib).unwrap();
        for field in &p.fields {
            line.push(b' ');
            line.extend_from_slice(field);
        }
        line.push(b' ');
        line.extend_from_slice(&command_of(e));
        line.push(b'\n');
        ps_lines.push(line);
    }
    for (at, junk) in &machine.junk {
        let mut line = junk.clone();
        line.push(b'\n');
        ps_lines.insert((*at).min(ps_lines.len()), line);
    }
    let ps = [PS_HEADER.to_vec(), ps_lines.concat()].concat();

    let summary = [
        &b"top - 14:03:15 up 3 days,  7:59,  1 user,  load average: 2.14, 1.13, 0.94"[..],
        b"Tasks: 222 total,   1 running, 157 sleeping,   0 stopped,   0 zombie",
        b"%Cpu(s):  9.9 us,  2.1 sy,  0.0 ni, 87.5 id,  0.5 wa,  0.0 hi,  0.0 si,  0.0 st",
        b"MiB Mem :   3788.8 total,    180.3 free,   3150.1 used,    458.4 buff/cache",
        b"MiB Swap:   2047.0 total,   1946.8 free,    100.2 used.    646.1 avail Mem",
    ];
    let mut top = Vec::new();
    for (line, junk) in summary.iter().zip(&machine.top_junk) {
        top.extend_from_slice(line);
        top.extend_from_slice(junk);
        top.push(b'\n');
    }
    top.extend_from_slice(
        b"\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
    );
    for name in &machine.top_tasks {
        top.extend_from_slice(
            b"      1 root      20   0  167780  11600   8472 S   0.0   0.3   0:02.33 ",
        );
        top.extend_from_slice(name);
        top.push(b'\n');
    }

    // passwd for the fuzzed machine: uid 1000 + i is process i's user.
    let names: Vec<(u32, &[u8])> = entries
        .iter()
        .zip(&machine.processes)
        .map(|(e, p)| (e.uid, p.user.as_slice()))
        .collect();
    let passwd = FakeUsers::new(&names);
    let sources = util::sources(&fake, n, &passwd);
    let report = util::report_from(Ok(ps), Ok(top), &sources, util::first_report());
    let cpu_known = report.cpu_busy().is_some();
    let (incidents, details) = util::logged(report);

    let incidents_log = check_log(&incidents);
    let details_log = check_log(&details);
    for log in [&incidents_log, &details_log] {
        assert_eq!((log.markers, log.headers), (1, 1), "one report, one marker");
    }

    let mut summary_shown: Vec<String> = summary
        .iter()
        .zip(&machine.top_junk)
        .map(|(line, junk)| {
            format!(
                "  {}",
                shown(trim_trailing_blanks(&[line, &junk[..]].concat()))
            )
        })
        .collect();
    if !cpu_known {
        // Junk that makes the CPU line unreadable: the report says so under the summary.
        let why = incidents_log.summary.last().unwrap();
        assert!(why.starts_with("  (CPU n/a: "), "{why}");
        summary_shown.push(why.clone());
    }
    assert_eq!(incidents_log.summary, summary_shown);

    for e in &entries {
        let command = command_of(e);
        let rows = incidents_log.rows_of(e.pid);
        assert_eq!(rows.len(), 1, "PID {}: one row", e.pid);
        if !command.contains(&b'\n') {
            assert_eq!(
                rows[0].1,
                shown(trim_trailing_blanks(&command)),
                "PID {}",
                e.pid
            );
        }
        assert_one_details_entry(&details_log, e, &entries);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fuzzed_names_never_break_a_line_nor_fake_one(machine in fuzz_machine()) {
        check_fuzz_machine(&machine);
    }
}

/// The holes fuzzing should find, every time rather than by chance: passwd names that would
/// start a table line with a header or a marker, and names that start or end with blanks.
#[test]
fn the_known_holes_stay_closed() {
    let process = |user: &str, cut: bool, argv: Vec<&[u8]>, comm: &[u8]| FuzzProcess {
        user: user.as_bytes().to_vec(),
        cut,
        fields: [
            b"?".to_vec(),
            b"S".to_vec(),
            b"10:00".to_vec(),
            b"0:00".to_vec(),
        ],
        cpu_mem: ("0.0".into(), "1.0".into()),
        rss_kib: 1000,
        argv: argv.into_iter().map(<[u8]>::to_vec).collect(),
        comm: comm.to_vec(),
        cwd: Some(b"/tmp/dir ".to_vec()),
        raw_status_name: false,
        start_ticks: 100,
        parent: Some(0),
    };
    let mut processes: Vec<FuzzProcess> = FAKE_USERS
        .iter()
        .map(|user| process(user, true, vec![b"x"], b"x"))
        .collect();
    processes.push(process(
        "root",
        false,
        vec![b"grep", b"-v", b"^   "],
        b"\r lead",
    ));
    processes.push(process("root", false, vec![b"", b""], b""));
    let big = big_argument();
    let one_line_big: Vec<u8> = big
        .iter()
        .map(|&b| if b == b'\n' { b'\r' } else { b })
        .collect();
    processes.push(process("root", false, vec![&big], b"big"));
    processes.push(process("root", false, vec![&one_line_big], b"big"));
    // Not cut: a ps that prints names raw puts it at the start of the line itself.
    processes.push(process(FAKE_USERS[2], false, vec![b"y"], b"y"));
    processes.push(process(FAKE_USERS[3], false, vec![b"z"], b"z"));
    processes.push(process(
        "root",
        false,
        vec![FAKE_HEADER, FAKE_MARKER],
        b"\n2026-11-22 1",
    ));
    check_fuzz_machine(&FuzzMachine {
        processes,
        junk: vec![
            (0, FAKE_HEADER[1..].to_vec()),
            (3, FAKE_MARKER[1..].to_vec()),
        ],
        top_junk: Default::default(),
        top_tasks: vec![FAKE_HEADER.to_vec(), FAKE_MARKER.to_vec()],
    });
}
