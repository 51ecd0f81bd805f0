//! incidents.jsonl: one JSON object per entry of incidents.log, each checked against
//! docs/incidents.schema.json by Debian's python3-jsonschema. Snapshots of a line of each kind;
//! proptest with hostile names and invalid UTF-8; and the daemon end to end: the same entries as
//! incidents.log in the same order, a start object at the top of every file (also after
//! logrotate moved one away), the faults of the text logs, and a reader tailing the file as a
//! log shipper does.

use crate::util;

use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rustix::process::Signal;
use serde_json::{Value, json};

use memory_monitor::decide::{Reason, ReportDue};
use memory_monitor::output::jsonl::{IncidentsJsonl, StartSettings};
use memory_monitor::output::{Delivery, LogFile, Output, TextLog};
use memory_monitor::parse::pressure::Pressure;
use memory_monitor::parse::ps::Tenths;
use memory_monitor::proc::{Grew, Hierarchy, Measured, TmpfsUse, UnitName, UnitUse};
use memory_monitor::render::table::sorted;
use memory_monitor::report::{
    Context, Entry, Growth, KillUser, Limit, MoreOomKills, Occasion, OomKill, OomKillsCounted,
    ProgramFailure, Recovered, Report,
};
use memory_monitor::sample::{Breakdown, CELLS, MemSample, Swap, TrendLine};
use memory_monitor::text::escape::escape;
use util::daemon::{Daemon, Launch, count, report_count, set_used};
use util::hostile::{CONTROLS, FAKE_HEADER, INVALID_UTF8, UNICODE_TRICKS};
use util::kernel::{append, kernel_usec_now, kill_records};
use util::log::{OOM_KILL, RECOVERED, header};
use util::{FakeProc, FakeUsers, corpus, report_time};

// ---------------------------------------------------------------------------------------------
// The schema, checked by python3-jsonschema.

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/incidents.schema.json");

/// Checks every line of a file against the schema: the whole schema, and where that fails the
/// part for the line's event, whose errors say more. NaN and Infinity are refused, as JSON does.
const VALIDATE: &str = r##"
import json, sys
import jsonschema

def refuse(constant):
    raise ValueError(f"{constant} is not JSON")

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
checker = jsonschema.FormatChecker()
whole = jsonschema.Draft202012Validator(schema, format_checker=checker)
bad = 0
lines = 0
for number, line in enumerate(open(sys.argv[2], encoding="utf-8", newline="\n"), 1):
    lines += 1
    value = json.loads(line, parse_constant=refuse)
    errors = list(whole.iter_errors(value))
    if errors:
        bad += 1
        part = {"$ref": "#/$defs/" + str(value.get("event")), "$defs": schema["$defs"]}
        detail = list(jsonschema.Draft202012Validator(part, format_checker=checker).iter_errors(value))
        for error in detail or errors:
            path = "/".join(map(str, error.absolute_path))
            print(f"line {number} ({value.get('event')}): {path}: {error.message[:300]}")
print(f"{lines} lines, {bad} invalid")
sys.exit(1 if bad or not lines else 0)
"##;

/// A python3 that has jsonschema: Debian's first (python3-jsonschema), then the one on PATH.
fn python_with_jsonschema() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import jsonschema"])
            .output()
            .is_ok_and(|out| out.status.success())
    })
}

/// Asserts that every line is valid against the schema; false (the test skips) without
/// python3-jsonschema.
pub(crate) fn valid(lines: &[String]) -> bool {
    let Some(python) = python_with_jsonschema() else {
        util::skip(
            "python3-jsonschema",
            "sudo apt-get install python3-jsonschema",
        );
        return false;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lines.jsonl");
    let mut text = String::new();
    for line in lines {
        assert!(line.ends_with('\n'), "{line}");
        text.push_str(line);
    }
    std::fs::write(&file, text).unwrap();
    let out = Command::new(python)
        .args(["-c", VALIDATE, SCHEMA])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// The whole lines of a file the daemon may be writing: a last line whose end is not there
/// yet is left out (a reader can see the first pages of a write before the last).
fn whole_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(str::to_string)
        .collect()
}

/// The lines of a file's text, each with its newline; the text must end with one.
fn lines_of(text: &str) -> Vec<String> {
    assert!(text.is_empty() || text.ends_with('\n'), "a line cut short");
    text.split_inclusive('\n').map(str::to_string).collect()
}

fn parsed(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

// ---------------------------------------------------------------------------------------------
// One line of each kind, pinned by snapshots.

fn settings() -> StartSettings {
    StartSettings {
        threshold_percent: 80.0,
        sustain_seconds: 15.0,
        interval_seconds: 3.0,
        repeat_seconds: 600.0,
        urgent_percent: Some(95.0),
        log_dir: "/var/log/memory-monitor".into(),
        on_event: Some("/usr/share/memory-monitor/hooks/ntfy".into()),
        hook_timeout_seconds: Some(30.0),
        metrics_file: Some("/var/lib/prometheus/node-exporter/memory-monitor.prom".into()),
        details: 5,
        capture_timeout_seconds: 10.0,
        kernel_log: Some("/dev/kmsg".into()),
        memory_scope: "auto",
        proc_root: "/proc".into(),
        sys_root: "/sys".into(),
        ps_bin: "ps".into(),
        top_bin: "top".into(),
    }
}

fn jsonl() -> IncidentsJsonl {
    IncidentsJsonl::new("pi4".into(), 4242, report_time(), settings())
}

/// A repeat report with every context line: what most fields of a report look like.
fn full_report() -> Report {
    let fake = FakeProc::new();
    fake.add(&util::firewalld());
    fake.set_cgroup(823, b"0::/system.slice/firewalld.service\n");
    let users = FakeUsers::standard();
    let sources = util::sources(&fake, 1, &users);
    let mut report = util::report_from(
        Ok(corpus("psaux_jc-centos77_1.txt")),
        Ok(corpus("top_jc-ubuntu2010_1.txt")),
        &sources,
        Occasion::Incident {
            due: ReportDue {
                incident: 3,
                high_for: Duration::from_millis(618_250),
                since_first_report: Some(Duration::from_secs(603)),
                reason: Reason::Repeat,
            },
            threshold_percent: 80.0,
            urgent_percent: Some(95.0),
        },
    );
    let mut cells = [Some(38.4); CELLS];
    cells[3] = None;
    cells[28] = Some(88.04);
    cells[29] = Some(97.25);
    report.context = Context {
        trend: Some(TrendLine {
            window: Duration::from_secs(600),
            cells,
            low: 38.1,
            high: 97.25,
        }),
        growth: Some(Growth {
            since: report_time() - chrono::Duration::seconds(600),
            ago: Duration::from_secs(600),
            grew: vec![
                Grew {
                    pid: 823,
                    name: b"firewalld".to_vec(),
                    kib: 1_258_291,
                    new: false,
                },
                Grew {
                    pid: 5121,
                    name: Vec::new(),
                    kib: 12,
                    new: true,
                },
            ],
        }),
        breakdown: Some(Breakdown {
            processes_kib: 2_516_582,
            page_cache_kib: 409_600,
            shared_kib: 51_200,
            kernel_kib: 153_600,
            free_kib: 98_304,
            other_kib: 650_445,
            swap: Some(Swap {
                used_kib: 10_240,
                total_kib: 102_400,
            }),
        }),
        pressure: Some(Pressure {
            some_avg10: 12.34,
            some_avg60: 4.5,
            full_avg10: Some(8.02),
            full_avg60: None,
        }),
        tmpfs: vec![TmpfsUse {
            mount: b"/dev/shm".to_vec(),
            used_bytes: 52_428_800,
        }],
        units: vec![
            UnitUse {
                unit: UnitName {
                    name: b"firewalld.service".to_vec(),
                    cgroup: b"/system.slice/firewalld.service".to_vec(),
                    hierarchy: Hierarchy::V2,
                },
                bytes: 1_288_490_188,
                measured: Measured::Cgroup,
                limit_bytes: Some(2_147_483_648),
                processes: 1,
            },
            UnitUse {
                unit: UnitName {
                    name: b"/user.slice".to_vec(),
                    cgroup: b"/user.slice".to_vec(),
                    hierarchy: Hierarchy::V2,
                },
                bytes: 30_236_672,
                measured: Measured::ProcessRss,
                limit_bytes: None,
                processes: 12,
            },
        ],
    };
    report
}

fn kill() -> OomKill {
    OomKill {
        time: report_time(),
        pid: 4242,
        name: b"python3".to_vec(),
        user: KillUser::Named {
            uid: 1001,
            name: b"alice".to_vec(),
        },
        anon_rss_kib: 1_593_835,
        file_rss_kib: 6_656,
        shmem_rss_kib: 0,
        limit: Limit::Cgroup(Some(b"/system.slice/hog\x1b[2J.service".to_vec())),
        before_start: false,
    }
}

#[test]
fn a_line_of_each_kind_pinned_and_valid() {
    let log = jsonl();
    let report = full_report();
    let first_pid = sorted(report.evidence.ps.as_ref().unwrap())[0].pid();
    let entries = [
        ("report", Entry::Report(Box::new(report))),
        (
            "recovered",
            Entry::Recovered(Recovered {
                time: report_time(),
                incident: 3,
                memory: util::busy_memory(),
                high_for: Duration::from_millis(754_600),
            }),
        ),
        ("oom_kill", Entry::OomKill(kill())),
        (
            "more_oom_kills",
            Entry::MoreOomKills(MoreOomKills {
                time: report_time(),
                count: 40,
                names: vec![(b"stress".to_vec(), 38), (b"t\x07ail".to_vec(), 2)],
                before_start: false,
            }),
        ),
        (
            "oom_kills_counted",
            Entry::OomKillsCounted(OomKillsCounted {
                time: report_time(),
                count: 3,
                why: "cannot read /dev/kmsg: Operation not permitted (os error 1) (it needs CAP_SYSLOG while kernel.dmesg_restrict is 1)".into(),
                before_start: true,
            }),
        ),
    ];
    let start = log.start_line(report_time()).unwrap();
    snapshot!("jsonl_start", start.as_str());
    let mut lines = vec![start];
    for (name, entry) in &entries {
        let line = log.render(entry).unwrap();
        snapshot!(format!("jsonl_{name}"), line.as_str());
        lines.push(line);
    }
    lines.push(log.dropped_line(report_time(), 2));

    let report = parsed(&lines[1]);
    assert_eq!(report["top"].as_array().unwrap().len(), 10);
    assert_eq!(report["process_count"], 109);
    assert_eq!(report["top"][0]["pid"], first_pid.unwrap());
    assert_eq!(
        report["top"][0]["unit"], "firewalld.service",
        "from the details"
    );
    assert_eq!(report["top"][1]["unit"], Value::Null, "no details read");
    assert_eq!(report["ram_percent"], 83.2);
    let kill = parsed(&lines[3]);
    assert_eq!(
        kill["victim"]["cgroup"],
        "/system.slice/hog\\x1b[2J.service"
    );
    // The text log says the same, to the digit.
    let text = memory_monitor::output::IncidentsLog
        .render(&entries[0].1)
        .unwrap();
    let head = text.lines().find_map(header).unwrap();
    assert_eq!(report["ram_percent"], head.ram_percent);
    assert_eq!(report["cpu_percent"], head.cpu_percent.unwrap());
    valid(&lines);
}

#[test]
fn a_report_without_top_or_ps_says_why_with_nulls() {
    let fake = FakeProc::new();
    let users = FakeUsers::standard();
    let sources = util::sources(&fake, 0, &users);
    let missing = |program| ProgramFailure::NotFound {
        program,
        path: b"/nowhere/\x1bbin".to_vec(),
    };
    let report = util::report_from(
        Err(missing("ps")),
        Err(missing("top")),
        &sources,
        util::first_report(),
    );
    let line = jsonl().render(&Entry::Report(Box::new(report))).unwrap();
    let value = parsed(&line);
    assert_eq!(value["cpu_percent"], Value::Null);
    assert_eq!(value["cpu_error"], "top not found (/nowhere/\\x1bbin)");
    assert_eq!(
        (&value["top"], &value["process_count"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(value["top_error"], "ps not found (/nowhere/\\x1bbin)");
    assert_eq!(value["new_episode"], true);
    assert_eq!(value["since_first_report_seconds"], Value::Null);
    valid(&[line]);
}

// ---------------------------------------------------------------------------------------------
// Any report, any kill: one line of JSON, escaped, whose numbers are the model's.

fn hostile() -> impl Strategy<Value = Vec<u8>> {
    const FRAGMENTS: &[&[u8]] = &[
        CONTROLS,
        INVALID_UTF8,
        UNICODE_TRICKS.as_bytes(),
        FAKE_HEADER,
        b"\"quoted\" \\back\\slash\\x1b",
        b"}\n{\"event\":\"report\"}",
        b"\x00",
        "é日本".as_bytes(),
    ];
    prop::collection::vec(
        prop_oneof![
            2 => any::<u8>().prop_map(|b| vec![b]),
            2 => prop::sample::select(FRAGMENTS).prop_map(<[u8]>::to_vec),
            1 => "[a-z0-9/._ -]{1,8}".prop_map(String::into_bytes),
        ],
        0..6,
    )
    .prop_map(|pieces| pieces.concat())
}

/// A ps output of rows with hostile users and commands: whatever parses of it is the model.
fn ps_output() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (
            hostile(),
            1..99_999u32,
            0..1_000u32,
            0..1_000u32,
            any::<u32>(),
            hostile(),
        ),
        0..14,
    )
    .prop_map(|rows| {
        let mut out = util::hostile::PS_HEADER.to_vec();
        for (user, pid, cpu, mem, rss, command) in rows {
            let user: Vec<u8> = user
                .into_iter()
                .filter(|b| !b" \t\n\r".contains(b))
                .collect();
            let user = if user.is_empty() {
                b"root".to_vec()
            } else {
                user
            };
            let command: Vec<u8> = command.into_iter().filter(|&b| b != b'\n').collect();
            out.extend_from_slice(&user);
            out.extend_from_slice(
                format!(
                    " {pid} {}.{} {}.{} {} {rss} ? S 10:00 0:00 ",
                    cpu / 10,
                    cpu % 10,
                    mem / 10,
                    mem % 10,
                    u64::from(rss) * 3
                )
                .as_bytes(),
            );
            out.extend_from_slice(&command);
            out.push(b'\n');
        }
        out
    })
}

fn context() -> impl Strategy<Value = Context> {
    let percent = || (0..=10_000u32).prop_map(|p| f64::from(p) / 100.0);
    (
        prop::option::of((
            prop::collection::vec(prop::option::of(percent()), CELLS),
            1..3_600u64,
        )),
        prop::option::of(prop::collection::vec(
            (any::<u32>(), hostile(), any::<u64>(), any::<bool>()),
            0..6,
        )),
        prop::option::of((any::<[u64; 6]>(), prop::option::of(any::<(u64, u64)>()))),
        prop::option::of((percent(), percent(), prop::option::of(percent()))),
        prop::collection::vec((hostile(), any::<u64>()), 0..5),
        prop::collection::vec(
            (
                hostile(),
                hostile(),
                any::<u64>(),
                prop::option::of(any::<u64>()),
            ),
            0..7,
        ),
    )
        .prop_map(|(trend, grew, breakdown, pressure, tmpfs, units)| Context {
            trend: trend.map(|(cells, window)| TrendLine {
                window: Duration::from_secs(window),
                low: cells.iter().flatten().copied().fold(100.0, f64::min),
                high: cells.iter().flatten().copied().fold(0.0, f64::max),
                cells: cells.try_into().unwrap(),
            }),
            growth: grew.map(|grew| Growth {
                since: report_time(),
                ago: Duration::from_secs(15),
                grew: grew
                    .into_iter()
                    .map(|(pid, name, kib, new)| Grew {
                        pid,
                        name,
                        kib,
                        new,
                    })
                    .collect(),
            }),
            breakdown: breakdown.map(|(parts, swap)| Breakdown {
                processes_kib: parts[0],
                page_cache_kib: parts[1],
                shared_kib: parts[2],
                kernel_kib: parts[3],
                free_kib: parts[4],
                other_kib: parts[5],
                swap: swap.map(|(used_kib, total_kib)| Swap {
                    used_kib,
                    total_kib,
                }),
            }),
            pressure: pressure.map(|(some, other, full)| Pressure {
                some_avg10: some,
                some_avg60: other,
                full_avg10: full,
                full_avg60: full.map(|f| 100.0 - f),
            }),
            tmpfs: tmpfs
                .into_iter()
                .map(|(mount, used_bytes)| TmpfsUse { mount, used_bytes })
                .collect(),
            units: units
                .into_iter()
                .map(|(name, cgroup, bytes, limit_bytes)| UnitUse {
                    unit: UnitName {
                        name,
                        cgroup,
                        hierarchy: Hierarchy::V2,
                    },
                    bytes,
                    measured: Measured::Cgroup,
                    limit_bytes,
                    processes: 3,
                })
                .collect(),
        })
}

fn memory() -> impl Strategy<Value = MemSample> {
    (1..1u64 << 50, any::<u64>(), any::<bool>()).prop_map(|(total_kib, available, cgroup)| {
        MemSample {
            total_kib,
            available_kib: available % (total_kib + 1),
            cgroup_limit: cgroup,
        }
    })
}

fn kill_entry() -> impl Strategy<Value = Entry> {
    let user = prop_oneof![
        (any::<u32>(), hostile()).prop_map(|(uid, name)| KillUser::Named { uid, name }),
        any::<u32>().prop_map(KillUser::Uid),
        Just(KillUser::Unknown),
    ];
    let limit = prop_oneof![
        Just(Limit::SystemWide),
        prop::option::of(hostile()).prop_map(Limit::Cgroup),
    ];
    prop_oneof![
        (
            any::<u32>(),
            hostile(),
            user,
            any::<[u64; 3]>(),
            limit,
            any::<bool>()
        )
            .prop_map(
                |(pid, name, user, rss, limit, before_start)| Entry::OomKill(OomKill {
                    time: report_time(),
                    pid,
                    name,
                    user,
                    anon_rss_kib: rss[0],
                    file_rss_kib: rss[1],
                    shmem_rss_kib: rss[2],
                    limit,
                    before_start,
                })
            ),
        (
            prop::collection::vec((hostile(), 1..100u64), 1..4),
            any::<bool>()
        )
            .prop_map(|(names, before_start)| Entry::MoreOomKills(MoreOomKills {
                time: report_time(),
                count: names.iter().map(|(_, n)| n).sum(),
                names,
                before_start,
            })),
        (1..1000u64, hostile(), any::<bool>()).prop_map(|(count, why, before_start)| {
            Entry::OomKillsCounted(OomKillsCounted {
                time: report_time(),
                count,
                why: String::from_utf8_lossy(&why).into_owned(),
                before_start,
            })
        }),
    ]
}

/// What a process table holds, escaped as the line must hold it.
fn shown(bytes: &[u8]) -> Value {
    Value::String(escape(bytes))
}

fn bytes(kib: u64) -> Value {
    json!(kib.saturating_mul(1024))
}

fn tenths(value: Option<Tenths>) -> Value {
    value.map_or(Value::Null, |Tenths(t)| json!(t as f64 / 10.0))
}

/// One line, no raw control character or line separator in it, and valid JSON.
fn checked_line(line: &str) -> Value {
    let (body, end) = line.split_at(line.len() - 1);
    assert_eq!(end, "\n");
    assert!(
        !body
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202e}')),
        "{line}"
    );
    parsed(line)
}

fn check_report(report: &Report, value: &Value) {
    assert_eq!(value["event"], "report");
    assert_eq!(value["ram_used_bytes"], bytes(report.memory.used_kib()));
    assert_eq!(value["ram_total_bytes"], bytes(report.memory.total_kib));
    let shown_percent: f64 = format!("{:.1}", report.memory.used_percent())
        .parse()
        .unwrap();
    assert_eq!(value["ram_percent"], shown_percent);
    let table = report.evidence.ps.as_ref().unwrap();
    assert_eq!(value["process_count"], table.process_count());
    let top = value["top"].as_array().unwrap();
    let rows: Vec<_> = sorted(table).iter().take(10).map(|p| p.row()).collect();
    assert_eq!(top.len(), rows.len());
    for (row, process) in rows.iter().zip(top) {
        assert_eq!(process["pid"], row.pid.unwrap());
        assert_eq!(process["user"], shown(row.user));
        assert_eq!(process["command"], shown(row.command));
        assert_eq!(process["rss_bytes"], row.rss_kib.map_or(Value::Null, bytes));
        assert_eq!(process["vsz_bytes"], row.vsz_kib.map_or(Value::Null, bytes));
        assert_eq!(process["mem_percent"], tenths(row.mem));
        assert_eq!(process["cpu_percent"], tenths(row.cpu));
    }
    let context = &report.context;
    match &context.breakdown {
        Some(b) => {
            assert_eq!(value["memory"]["processes_bytes"], bytes(b.processes_kib));
            assert_eq!(value["memory"]["other_bytes"], bytes(b.other_kib));
            assert_eq!(
                value["memory"]["swap_total_bytes"],
                b.swap.map_or(Value::Null, |s| bytes(s.total_kib))
            );
        }
        None => assert_eq!(value["memory"], Value::Null),
    }
    match &context.pressure {
        Some(p) => {
            assert_eq!(value["pressure"]["some_avg10_percent"], p.some_avg10);
            assert_eq!(value["pressure"]["full_avg60_percent"], json!(p.full_avg60));
        }
        None => assert_eq!(value["pressure"], Value::Null),
    }
    match &context.growth {
        Some(growth) => {
            let grew = value["grew"].as_array().unwrap();
            assert_eq!(grew.len(), growth.grew.len());
            for (g, v) in growth.grew.iter().zip(grew) {
                assert_eq!((&v["pid"], &v["bytes"]), (&json!(g.pid), &bytes(g.kib)));
                let name = if g.name.is_empty() {
                    Value::Null
                } else {
                    shown(&g.name)
                };
                assert_eq!(v["name"], name);
            }
        }
        None => assert_eq!(value["grew"], Value::Null),
    }
    let units = value["units"].as_array().unwrap();
    assert_eq!(units.len(), context.units.len().min(5));
    for (u, v) in context.units.iter().zip(units) {
        assert_eq!(v["name"], shown(&u.unit.name));
        assert_eq!(
            (&v["bytes"], &v["limit_bytes"]),
            (&json!(u.bytes), &json!(u.limit_bytes))
        );
    }
    let tmpfs = value["tmpfs"].as_array().unwrap();
    assert_eq!(tmpfs.len(), context.tmpfs.len().min(3));
    for (t, v) in context.tmpfs.iter().zip(tmpfs) {
        assert_eq!(
            (&v["mount"], &v["bytes"]),
            (&shown(&t.mount), &json!(t.used_bytes))
        );
    }
}

fn check_kill(entry: &Entry, value: &Value) {
    assert_eq!(value["event"], "oom-kill");
    match entry {
        Entry::OomKill(kill) => {
            let victim = &value["victim"];
            assert_eq!(value["kills"], 1);
            assert_eq!(value["before_start"], kill.before_start);
            assert_eq!(
                (&victim["pid"], &victim["name"]),
                (&json!(kill.pid), &shown(&kill.name))
            );
            assert_eq!(victim["anon_rss_bytes"], bytes(kill.anon_rss_kib));
            assert_eq!(victim["file_rss_bytes"], bytes(kill.file_rss_kib));
            assert_eq!(victim["shmem_rss_bytes"], bytes(kill.shmem_rss_kib));
            match &kill.user {
                KillUser::Named { uid, name } => {
                    assert_eq!(
                        (&victim["uid"], &victim["user"]),
                        (&json!(uid), &shown(name))
                    );
                }
                KillUser::Uid(uid) => {
                    assert_eq!(
                        (&victim["uid"], &victim["user"]),
                        (&json!(uid), &json!(uid.to_string()))
                    );
                }
                KillUser::Unknown => assert_eq!(victim["uid"], Value::Null),
            }
            match &kill.limit {
                Limit::SystemWide => assert_eq!(victim["constraint"], "system-wide"),
                Limit::Cgroup(path) => {
                    assert_eq!(victim["cgroup"], path.as_deref().map_or(Value::Null, shown))
                }
            }
        }
        Entry::MoreOomKills(more) => {
            assert_eq!(value["kills"], more.count);
            for ((name, kills), v) in more.names.iter().zip(value["names"].as_array().unwrap()) {
                assert_eq!((&v["name"], &v["kills"]), (&shown(name), &json!(kills)));
            }
        }
        Entry::OomKillsCounted(counted) => {
            assert_eq!(value["kills"], counted.count);
            assert_eq!(value["names_unknown"], shown(counted.why.as_bytes()));
        }
        _ => unreachable!(),
    }
}

#[test]
fn any_report_or_kill_is_one_valid_line_with_the_models_numbers() {
    let cases = if util::emulated() { 64 } else { 256 };
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let log = IncidentsJsonl::new(escape(b"pi\n4\x1b"), 1, report_time(), settings());
    let lines = std::cell::RefCell::new(Vec::new());
    let strategy = (
        ps_output(),
        any::<bool>(),
        context(),
        memory(),
        kill_entry(),
    );
    runner
        .run(&strategy, |(ps, top_works, context, memory, kill)| {
            let fake = FakeProc::new();
            let users = FakeUsers::standard();
            let sources = util::sources(&fake, 0, &users);
            let top = if top_works {
                Ok(corpus("top_jc-ubuntu2010_1.txt"))
            } else {
                Err(ProgramFailure::NoResult { program: "top" })
            };
            let mut report = util::report_from(Ok(ps), top, &sources, util::first_report());
            report.context = context;
            report.memory = memory;
            let entry = Entry::Report(Box::new(report));
            let line = log.render(&entry).unwrap();
            let Entry::Report(report) = &entry else {
                unreachable!()
            };
            // A table that ps's output does not make is not this test's business.
            if report.evidence.ps.is_ok() {
                check_report(report, &checked_line(&line));
            }
            let kill_line = log.render(&kill).unwrap();
            check_kill(&kill, &checked_line(&kill_line));
            lines.borrow_mut().extend([line, kill_line]);
            Ok(())
        })
        .unwrap();
    valid(&lines.into_inner());
}

#[test]
fn entries_dropped_while_the_disk_was_full_are_said_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.jsonl");
    let mut log = LogFile::prepare(dir.path(), jsonl()).unwrap();
    let big = |pid| {
        Entry::OomKill(OomKill {
            pid,
            name: vec![b'x'; 1024 * 1024],
            ..kill()
        })
    };
    assert!(matches!(log.write(&big(1)), Delivery::Written(_)));
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    for pid in 2..14 {
        assert!(matches!(log.write(&big(pid)), Delivery::NotWritten(_)));
    }
    let waiting = log.waiting();
    assert!((2..12).contains(&waiting), "{waiting}");
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(log.retry(), Delivery::Written(_)));
    let lines = lines_of(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(lines.len(), 2 + waiting, "a start, the drop, what waited");
    assert_eq!(parsed(&lines[0])["event"], "start", "a new file");
    let dropped = parsed(&lines[1]);
    assert_eq!(dropped["event"], "dropped");
    assert_eq!(dropped["dropped"], 12 - waiting);
    assert_eq!(parsed(&lines[2])["victim"]["pid"], 14 - waiting);
    valid(&lines);
}

// ---------------------------------------------------------------------------------------------
// The daemon.

const BOOT: &str = "5f1c0e1c-7d0a-4a53-9c39-6d3c5e0b8f7a";

/// The entries of incidents.log, in order: (event, time as RFC 3339, incident of a report).
fn log_entries(text: &str) -> Vec<(String, String, Option<u64>)> {
    let rfc = |time: &str| {
        chrono::DateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S %:z")
            .unwrap()
            .to_rfc3339()
    };
    text.lines()
        .filter_map(|line| {
            if let Some(h) = header(line) {
                return Some(("report".into(), rfc(&h.time), h.incident.map(u64::from)));
            }
            let event = if RECOVERED.is_match(line) {
                "recovered"
            } else if OOM_KILL.is_match(line) {
                "oom-kill"
            } else {
                return None;
            };
            Some((event.into(), rfc(&line[..26]), None))
        })
        .collect()
}

/// The same of incidents.jsonl, its start objects left out.
fn json_entries(lines: &[Value]) -> Vec<(String, String, Option<u64>)> {
    lines
        .iter()
        .filter(|v| v["event"] != "start")
        .map(|v| {
            let event = v["event"].as_str().unwrap().to_string();
            let incident = (event == "report").then(|| v["incident"].as_u64().unwrap());
            (event, v["time"].as_str().unwrap().to_string(), incident)
        })
        .collect()
}

fn json_lines(daemon: &Daemon, name: &str) -> Vec<Value> {
    whole_lines(&daemon.read(name))
        .iter()
        .map(|l| parsed(l))
        .collect()
}

fn has_report(text: &str) -> bool {
    whole_lines(text)
        .iter()
        .any(|l| parsed(l)["event"] == "report")
}

#[test]
fn each_entry_of_incidents_log_has_its_line_in_the_same_order() {
    let fake = FakeProc::new();
    set_used(&fake, 40);
    fake.set_oom_kills(0);
    fake.set_boot_id(BOOT);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for_start();
    assert!(
        daemon.logs.join("incidents.jsonl").exists(),
        "opened at start"
    );
    assert_eq!(
        daemon.read("incidents.jsonl"),
        "",
        "and empty until an entry"
    );
    append(
        &daemon.kernel_log,
        &kill_records(1000, kernel_usec_now(), 4242, "python3", 0, None),
    );
    fake.set_oom_kills(1);
    daemon.wait_for("the report after the kill", |d| {
        d.read("incidents.log").contains("| after an OOM kill")
    });
    set_used(&fake, 95);
    daemon.wait_for("a repeat", |d| {
        d.read("incidents.log").contains("since first report")
    });
    set_used(&fake, 40);
    daemon.wait_for("the recovery", |d| {
        d.read("incidents.log")
            .lines()
            .any(|l| RECOVERED.is_match(l))
    });
    daemon.wait_for("every entry in incidents.jsonl", |d| {
        whole_lines(&d.read("incidents.jsonl")).len()
            == log_entries(&d.read("incidents.log")).len() + 1
    });
    let pid = daemon.pid();
    let (status, _, daemon) = daemon.stop(Signal::TERM);
    assert!(status.success());

    let log = daemon.read("incidents.log");
    let lines = lines_of(&daemon.read("incidents.jsonl"));
    let values: Vec<Value> = lines.iter().map(|l| parsed(l)).collect();
    let entries = log_entries(&log);
    assert_eq!(json_entries(&values), entries);
    let events: Vec<&str> = entries.iter().map(|(e, _, _)| e.as_str()).collect();
    assert_eq!(&events[..3], ["oom-kill", "report", "report"], "{log}");
    assert_eq!(events.last(), Some(&"recovered"));

    let start = &values[0];
    assert_eq!(start["event"], "start", "the first line");
    assert_eq!(start["pid"], pid);
    assert_eq!(start["version"], env!("CARGO_PKG_VERSION"));
    let nodename = rustix::system::uname();
    assert_eq!(start["host"], shown(nodename.nodename().to_bytes()));
    let settings = &start["settings"];
    assert_eq!(
        (
            &settings["interval_seconds"],
            &settings["sustain_seconds"],
            &settings["repeat_seconds"]
        ),
        (&json!(0.05), &json!(0.3), &json!(1.0))
    );
    assert_eq!(settings["log_dir"], daemon.logs.to_str().unwrap());
    assert_eq!(settings["kernel_log"], daemon.kernel_log.to_str().unwrap());
    assert_eq!(settings["details"], 3);
    assert_eq!(settings["metrics_file"], Value::Null, "off");

    // What the text says, the JSON says.
    let headers: Vec<_> = log.lines().filter_map(header).collect();
    let reports: Vec<&Value> = values.iter().filter(|v| v["event"] == "report").collect();
    assert_eq!(reports.len(), headers.len());
    for (h, v) in headers.iter().zip(&reports) {
        assert_eq!(v["ram_percent"], h.ram_percent);
        assert_eq!(v["cpu_percent"], json!(h.cpu_percent));
        assert_eq!(v["reason"] == "oom-kill", h.after_oom_kill);
        assert_eq!(
            v["since_first_report_seconds"].is_null(),
            h.since_first_report.is_none()
        );
        assert_eq!(v["top"][0]["pid"], 823, "firewalld, the most %MEM");
        assert_eq!(v["top"].as_array().unwrap().len(), 10);
    }
    let kill = values.iter().find(|v| v["event"] == "oom-kill").unwrap();
    assert_eq!(kill["victim"]["pid"], 4242);
    assert_eq!(kill["victim"]["user"], "root");
    valid(&lines);
}

#[test]
fn a_file_moved_away_and_a_new_run_each_begin_with_a_start_object() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let logs = tempfile::tempdir().unwrap();
    let mut launch = Launch::ordinary(&fake);
    launch.log_dir = Some(logs.path().to_path_buf());
    let mut daemon = launch.start();
    daemon.wait_for("a report in incidents.jsonl", |d| {
        has_report(&d.read("incidents.jsonl"))
    });
    let file = logs.path().join("incidents.jsonl");
    // As logrotate does: a rename, no signal. The next entry makes a new file.
    std::fs::rename(&file, logs.path().join("incidents.jsonl.1")).unwrap();
    daemon.wait_for("a report in the new file", |d| {
        has_report(&d.read("incidents.jsonl"))
    });
    // With a SIGHUP after the rename: the file is made at once, empty, and starts with the
    // next entry.
    std::fs::rename(&file, logs.path().join("incidents.jsonl.2")).unwrap();
    daemon.signal(Signal::HUP);
    daemon.wait_for("a report in the file SIGHUP made", |d| {
        has_report(&d.read("incidents.jsonl"))
    });
    let first_pid = daemon.pid();
    let (status, _, _) = daemon.stop(Signal::TERM);
    assert!(status.success());

    let mut starts = Vec::new();
    let mut all = Vec::new();
    for name in ["incidents.jsonl.1", "incidents.jsonl.2", "incidents.jsonl"] {
        let lines = lines_of(&std::fs::read_to_string(logs.path().join(name)).unwrap());
        let values: Vec<Value> = lines.iter().map(|l| parsed(l)).collect();
        assert_eq!(values[0]["event"], "start", "{name}");
        assert_eq!(values[0]["pid"], first_pid);
        assert_eq!(
            values.iter().filter(|v| v["event"] == "start").count(),
            1,
            "{name}: one run, one start"
        );
        starts.push(lines[0].clone());
        all.extend(lines);
    }
    starts.dedup();
    assert_eq!(
        starts.len(),
        3,
        "each file's first line differs: {starts:?}"
    );

    // Started again on the same directory: its first entry comes after a start of its own.
    let before = lines_of(&std::fs::read_to_string(&file).unwrap()).len();
    let mut launch = Launch::ordinary(&fake);
    launch.log_dir = Some(logs.path().to_path_buf());
    let mut again = launch.start();
    again.wait_for("the new run's report", |d| {
        whole_lines(&d.read("incidents.jsonl")).len() >= before + 2
    });
    let second_pid = again.pid();
    let (status, _, _) = again.stop(Signal::TERM);
    assert!(status.success());
    let lines = lines_of(&std::fs::read_to_string(&file).unwrap());
    let start = parsed(&lines[before]);
    assert_eq!(
        (&start["event"], &start["pid"]),
        (&json!("start"), &json!(second_pid))
    );
    assert_eq!(parsed(&lines[before + 1])["event"], "report");
    all.extend(lines);
    valid(&all);
}

#[test]
fn json_off_writes_no_file() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    for launch in [
        Launch::ordinary(&fake).args(&["--json", "off"]),
        Launch::ordinary(&fake).env("MEMORY_MONITOR_JSON", "off"),
    ] {
        let mut daemon = launch.start();
        daemon.wait_for_reports(2);
        assert!(!daemon.logs.join("incidents.jsonl").exists());
        assert!(daemon.logs.join("incidents.log").exists());
    }
}

#[test]
fn a_deleted_log_directory_gets_a_new_file_that_starts_again() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let mut daemon = Launch::ordinary(&fake).start();
    daemon.wait_for("a report in incidents.jsonl", |d| {
        has_report(&d.read("incidents.jsonl"))
    });
    std::fs::remove_dir_all(&daemon.logs).unwrap();
    daemon.wait_for("a repeat in a new directory", |d| {
        json_lines(d, "incidents.jsonl")
            .iter()
            .any(|v| v["event"] == "report" && v["since_first_report_seconds"].is_number())
    });
    let (status, _, daemon) = daemon.stop(Signal::TERM);
    assert!(status.success());
    let lines = lines_of(&daemon.read("incidents.jsonl"));
    assert_eq!(parsed(&lines[0])["event"], "start");
    assert!(!daemon.stderr_text().contains("cannot write"));
    valid(&lines);
}

/// A ps output whose rows have long commands, so that a report's line is several pages long
/// and a disk with one page free takes only part of it.
fn ps_with_long_commands(dir: &Path) -> String {
    let mut text = String::from_utf8(util::hostile::PS_HEADER.to_vec()).unwrap();
    for pid in 100..112 {
        text.push_str(&format!(
            "root {pid} 1.0 2.0 300000 100000 ? S 10:00 0:00 /usr/bin/worker --name={}\n",
            "w".repeat(600)
        ));
    }
    let path = dir.join("ps.txt");
    std::fs::write(&path, text).unwrap();
    format!("exec cat '{}'", path.display())
}

/// The reports of incidents.log and of incidents.jsonl read at one moment, with the daemon
/// stopped: (times of the log's reports, times of the JSON reports).
fn reports_at_one_moment(daemon: &Daemon) -> (Vec<String>, Vec<String>) {
    let until = Instant::now() + util::patience(Duration::from_secs(10));
    loop {
        daemon.signal(Signal::STOP);
        let log = daemon.read("incidents.log");
        let json = daemon.read("incidents.jsonl");
        daemon.signal(Signal::CONT);
        let text: Vec<String> = log_entries(&log).into_iter().map(|(_, t, _)| t).collect();
        let values: Vec<Value> = whole_lines(&json).iter().map(|l| parsed(l)).collect();
        let json: Vec<String> = json_entries(&values)
            .into_iter()
            .map(|(_, t, _)| t)
            .collect();
        if text.len() == json.len() || Instant::now() > until {
            return (text, json);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_full_or_read_only_disk_keeps_lines_whole_and_writes_them_later() {
    if !util::require_mount_namespace() {
        return;
    }
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch::new(
        &fake,
        &ps_with_long_commands(dir.path()),
        &util::daemon::cat("top_jc-ubuntu2010_1.txt"),
    );
    let mut daemon = crate::file_faults::launch_on_small_tmpfs(launch, "1m");
    daemon.wait_for("a report in incidents.jsonl", |d| {
        has_report(&d.read("incidents.jsonl"))
    });
    let line = whole_lines(&daemon.read("incidents.jsonl")).pop().unwrap();
    assert!(line.len() > 8192, "a line of {} bytes", line.len());

    // Fill the tmpfs, then free one page: the next line fits only in part.
    let filler = daemon.seen(&daemon.logs.join("filler"));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![b'x'; 4096];
        while f.write_all(&block).is_ok() {}
        let size = f.metadata().unwrap().len();
        f.set_len(size.saturating_sub(4096)).unwrap();
    }
    let before = daemon.read("incidents.jsonl");
    daemon.wait_for("the write error", |d| {
        d.stderr_text().contains("incidents.jsonl: only ")
    });
    assert_eq!(
        daemon.read("incidents.jsonl"),
        before,
        "a line is whole or absent"
    );
    let said = |d: &Daemon, what: &str| {
        d.stderr_text()
            .lines()
            .any(|l| l.contains("incidents.jsonl: ") && l.contains(what))
    };
    assert!(said(
        &daemon,
        "(disk full?); 1 entries kept in memory, retried at the next report"
    ));
    daemon.wait_for("a second failure, the first line still waiting", |d| {
        said(d, "; 2 entries kept in memory")
    });
    assert_eq!(daemon.read("incidents.jsonl"), before);

    std::fs::remove_file(&filler).unwrap();
    daemon.wait_for("the delayed lines", |d| {
        d.stderr_text()
            .contains("incidents.jsonl can be written again; ")
    });
    let (text, json) = reports_at_one_moment(&daemon);
    assert!(text.len() >= 4, "{text:?}");
    assert_eq!(json, text, "every entry, in order");

    // Read-only: the same, by another error.
    let logs = daemon.logs.to_str().unwrap().to_string();
    crate::file_faults::in_namespace_of(&daemon, &["mount", "-o", "remount,ro", &logs]);
    let before = daemon.read("incidents.jsonl");
    daemon.wait_for("the read-only error", |d| said(d, "Read-only file system"));
    assert_eq!(daemon.read("incidents.jsonl"), before);
    crate::file_faults::in_namespace_of(&daemon, &["mount", "-o", "remount,rw", &logs]);
    let again = count(
        &daemon.stderr_text(),
        "incidents.jsonl can be written again",
    );
    daemon.wait_for("the delayed lines again", |d| {
        count(&d.stderr_text(), "incidents.jsonl can be written again") > again
    });
    let (text, json) = reports_at_one_moment(&daemon);
    assert_eq!(json, text);
    // Read before the daemon stops: its tmpfs ends with it.
    let lines = whole_lines(&daemon.read("incidents.jsonl"));
    assert_eq!(parsed(&lines[0])["event"], "start");
    assert_eq!(report_count(&daemon.read("incidents.log")), text.len());
    let (status, _, daemon) = daemon.stop(Signal::TERM);
    assert!(status.success());
    drop(daemon);
    valid(&lines);
}

/// Reads a file as a log shipper does: from where it left off, keeping what follows the last
/// newline until the rest of its line comes, and following the path to a new file when the
/// one it reads was moved away (after reading that one to its end).
struct Tail {
    path: PathBuf,
    file: Option<(std::fs::File, u64)>,
    pending: Vec<u8>,
    /// Whole lines, by file.
    files: Vec<Vec<String>>,
    /// Reads that ended inside a line, and how long the longest wait for its end was.
    partial_reads: usize,
    partial_since: Option<Instant>,
    longest_partial: Duration,
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail {
            path,
            file: None,
            pending: Vec::new(),
            files: Vec::new(),
            partial_reads: 0,
            partial_since: None,
            longest_partial: Duration::ZERO,
        }
    }

    fn poll(&mut self) {
        if self.file.is_none() {
            let Ok(file) = std::fs::File::open(&self.path) else {
                return;
            };
            let inode = file.metadata().unwrap().ino();
            self.file = Some((file, inode));
            self.files.push(Vec::new());
        }
        self.read_to_end();
        let (_, inode) = self.file.as_ref().unwrap();
        let moved = std::fs::metadata(&self.path).map_or(true, |m| m.ino() != *inode);
        if moved {
            // Whatever was written to the old file before the move is there now.
            self.read_to_end();
            assert!(
                self.pending.is_empty(),
                "a file ends inside a line: {:?}",
                String::from_utf8_lossy(&self.pending)
            );
            self.file = None;
        }
    }

    fn read_to_end(&mut self) {
        let (file, _) = self.file.as_mut().unwrap();
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).unwrap();
        if buf.is_empty() {
            return;
        }
        self.pending.extend_from_slice(&buf);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.files
                .last_mut()
                .unwrap()
                .push(String::from_utf8(line).unwrap());
        }
        if self.pending.is_empty() {
            if let Some(since) = self.partial_since.take() {
                self.longest_partial = self.longest_partial.max(since.elapsed());
            }
        } else {
            self.partial_reads += 1;
            self.partial_since.get_or_insert_with(Instant::now);
        }
    }

    fn lines(&self) -> usize {
        self.files.iter().map(Vec::len).sum()
    }
}

/// The sizes of the daemon's write(2)s to incidents.jsonl, in order, from strace's record.
fn writes_to_jsonl(trace: &Path) -> Vec<usize> {
    let write =
        regex::Regex::new(r"^write\(\d+<(?P<path>[^>]*)>, .*, (?P<len>\d+)\) += (?P<ret>-?\d+)")
            .unwrap();
    std::fs::read_to_string(trace)
        .unwrap()
        .lines()
        .filter_map(|line| write.captures(line))
        .filter(|caps| caps["path"].ends_with("/incidents.jsonl"))
        .map(|caps| {
            assert_eq!(caps["len"], caps["ret"], "a write cut short");
            caps["len"].parse().unwrap()
        })
        .collect()
}

#[test]
fn a_reader_tailing_the_file_through_a_rotation_gets_whole_lines_only() {
    let reports = if util::emulated() { 40 } else { 200 };
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let mut launch =
        Launch::ordinary(&fake).args(&["--interval", "20ms", "--repeat", "50ms", "--details", "0"]);
    // Under strace, which records each write(2) of the daemon's main thread with the file it
    // went to and its size. Not under qemu-user, whose own system calls strace would see.
    let traced = !util::emulated() && util::on_path("strace");
    if !traced && !util::emulated() {
        util::skip(
            "strace, for the check of each write",
            "sudo apt-get install strace",
        );
    }
    let trace_dir = tempfile::tempdir().unwrap();
    let trace = trace_dir.path().join("writes");
    if traced {
        launch.wrapper = ["strace", "-e", "trace=write", "-y", "-s", "0", "-o"]
            .map(Into::into)
            .into_iter()
            .chain([trace.clone().into_os_string()])
            .collect();
    }
    let mut daemon = launch.start();
    // The daemon itself: strace's child when traced.
    let mut pid = daemon.pid();
    if traced {
        daemon.wait_for("strace to start the daemon", |d| {
            !util::daemon::children_of(d.pid()).is_empty()
        });
        pid = util::daemon::children_of(daemon.pid())[0].0;
    }
    let path = daemon.logs.join("incidents.jsonl");
    let mut tail = Tail::new(path.clone());
    let mut rotated = false;
    let deadline = Instant::now() + util::patience(Duration::from_secs(120));
    while tail.lines() < reports + 2 {
        assert!(Instant::now() < deadline, "{} lines read", tail.lines());
        assert!(daemon.is_running(), "{}", daemon.stderr_text());
        tail.poll();
        if !rotated && tail.lines() > reports / 2 {
            std::fs::rename(&path, daemon.logs.join("incidents.jsonl.1")).unwrap();
            rotated = true;
        }
        if tail.pending.is_empty() {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        Signal::TERM,
    )
    .unwrap();
    assert!(daemon.exit_status().success());
    tail.poll();
    assert!(tail.pending.is_empty(), "the file ends with a whole line");
    assert_eq!(
        tail.files.len(),
        2,
        "the file before the rotation and the one after"
    );
    let mut all = Vec::new();
    for lines in &tail.files {
        assert_eq!(
            parsed(&lines[0])["event"],
            "start",
            "each file's first line"
        );
        for line in lines {
            let value = parsed(line);
            assert!(
                value["event"] == "start" || value["event"] == "report",
                "{line}"
            );
        }
        all.extend(lines.iter().cloned());
    }
    // Each line is in one write(2), but the kernel may let a reader see the first pages of a
    // write before its last (the size grows page by page): what a shipper holds until the
    // newline comes, a few milliseconds later at most.
    eprintln!(
        "tail: {} lines in 2 files, {} reads ended inside a line, longest wait for its end {:?}",
        all.len(),
        tail.partial_reads,
        tail.longest_partial
    );
    assert!(tail.longest_partial < Duration::from_secs(1));
    let files: Vec<String> = ["incidents.jsonl.1", "incidents.jsonl"]
        .iter()
        .map(|name| std::fs::read_to_string(daemon.logs.join(name)).unwrap())
        .collect();
    let on_disk: Vec<String> = files.iter().flat_map(|text| lines_of(text)).collect();
    assert_eq!(all, on_disk, "the reader got every line, once");

    if traced {
        // Every write ends where a line ends, and the rotation fell between two writes: no
        // line was ever split across writes, or files.
        let writes = writes_to_jsonl(&trace);
        let text = files.concat();
        assert_eq!(writes.iter().sum::<usize>(), text.len(), "{writes:?}");
        let mut end = 0;
        let mut ends = Vec::new();
        for size in &writes {
            end += size;
            assert_eq!(
                text.as_bytes()[end - 1],
                b'\n',
                "a write that ends inside a line"
            );
            ends.push(end);
        }
        assert!(
            ends.contains(&files[0].len()),
            "the rotation fell inside a write"
        );
        assert!(writes.len() >= reports, "{} writes", writes.len());
    }
    valid(&all);
}
