//! What incidents.log says about the kernel's OOM kills, and the context lines of a report,
//! pinned by snapshots: entries built by hand for each kind, entries from every kill in the
//! record corpus (tests/corpus/kmsg), and a report with its trend and growth lines. Every text
//! also passes `check_log`, the log's rules written apart from the renderer.

use crate::util;

use std::time::Duration;

use memory_monitor::capture::entry_of;
use memory_monitor::decide::{Reason, ReportDue};
use memory_monitor::output::{IncidentsLog, TextLog};
use memory_monitor::parse::kills::{KillRecord, KillRecords};
use memory_monitor::proc::Grew;
use memory_monitor::report::{
    Context, Entry, Growth, KillUser, Limit, MoreOomKills, Occasion, OomKill, OomKillsCounted,
};
use memory_monitor::sample::{CELLS, KernelLog, TrendLine};
use util::log::{OOM_KILL, check_log};
use util::{FakeUsers, corpus_dir, report_time};

fn logged(entry: &Entry) -> String {
    IncidentsLog.render(entry).unwrap_or_default()
}

fn kill(pid: u32, name: &[u8], user: KillUser, limit: Limit) -> OomKill {
    OomKill {
        time: report_time(),
        pid,
        name: name.to_vec(),
        user,
        anon_rss_kib: 1_593_835,
        file_rss_kib: 6_656,
        shmem_rss_kib: 0,
        limit,
        before_start: false,
    }
}

#[test]
fn each_kind_of_oom_entry() {
    let alice = || KillUser::Named {
        uid: 1001,
        name: b"alice".to_vec(),
    };
    let entries = [
        Entry::OomKill(kill(4242, b"python3", alice(), Limit::SystemWide)),
        Entry::OomKill(kill(
            5120,
            b"stress",
            KillUser::Uid(1234),
            Limit::Cgroup(Some(b"/system.slice/hog.service".to_vec())),
        )),
        // A 4.19 kernel whose summary line was rate-limited away: no UID, no cgroup path.
        Entry::OomKill(kill(77, b"tail", KillUser::Unknown, Limit::Cgroup(None))),
        Entry::OomKill(OomKill {
            before_start: true,
            ..kill(913, b"memory-monitor", alice(), Limit::SystemWide)
        }),
        // A name and a cgroup path that try to end the line and fake another entry.
        Entry::OomKill(kill(
            66,
            b"x\n2026-11-22 14:03:15 +01:00 | oom-kill | PID 1 (init)",
            KillUser::Named {
                uid: 1002,
                name: b"b\x1bob".to_vec(),
            },
            Limit::Cgroup(Some(b"/a\r\nb\xff".to_vec())),
        )),
        Entry::MoreOomKills(MoreOomKills {
            time: report_time(),
            count: 40,
            names: vec![(b"stress".to_vec(), 38), (b"t\x07ail".to_vec(), 2)],
            before_start: false,
        }),
        Entry::MoreOomKills(MoreOomKills {
            time: report_time(),
            count: 1,
            names: vec![(b"tail".to_vec(), 1)],
            before_start: true,
        }),
        Entry::OomKillsCounted(OomKillsCounted {
            time: report_time(),
            count: 3,
            why: "cannot read /dev/kmsg: Operation not permitted (os error 1) (it needs CAP_SYSLOG while kernel.dmesg_restrict is 1)".into(),
            before_start: false,
        }),
        Entry::OomKillsCounted(OomKillsCounted {
            time: report_time(),
            count: 1,
            why: "the kernel's log is not read (--kernel-log off)".into(),
            before_start: true,
        }),
    ];
    let text: String = entries.iter().map(logged).collect();
    let log = check_log(&text);
    assert_eq!(log.oom_kills.len(), entries.len());
    assert_eq!(
        log.oom_kills[0],
        "2026-11-22 14:03:15 +01:00 | oom-kill | PID 4242 (python3) of alice | anon-rss 1.52 GiB, file-rss 6.50 MiB, shmem-rss 0 KiB | system-wide",
        "SPEC.md's own example"
    );
    snapshot!("oom_entries", text);
}

/// The kills a corpus file holds, read as the daemon reads the kernel's log.
fn corpus_kills(name: &str) -> Vec<KillRecord> {
    let mut log = KernelLog::open(&corpus_dir().join("kmsg").join(name)).unwrap();
    let mut records = KillRecords::new();
    let mut kills = Vec::new();
    log.read(|line| kills.extend(records.feed(line))).unwrap();
    kills
}

#[test]
fn every_kill_in_the_corpus_becomes_one_entry() {
    // (file, kills, how many were a cgroup's, the cgroup path each of those names)
    let expected: [(&str, usize, usize, Option<&str>); 10] = [
        (
            "local-6.18-memcg-hostile-names.txt",
            4,
            4,
            Some("/mm-kmsg-corpus"),
        ),
        (
            "local-6.18-memcg-storm.txt",
            12,
            12,
            Some("/mm-kmsg-corpus"),
        ),
        ("local-6.18-memcg-tail.txt", 1, 1, Some("/mm-kmsg-corpus")),
        ("local-6.18-misc.txt", 0, 0, None),
        ("pub-4.19-rpi4-global.txt", 1, 0, None),
        ("pub-4.x-memcg-kubernetes.txt", 1, 1, None),
        ("pub-5.4-ubuntu-memcg.txt", 1, 1, None),
        ("pub-5.4plus-global-debos.txt", 1, 0, None),
        ("pub-6.1-rpi4-global.txt", 2, 0, None),
        ("pub-6.8plus-memcg-rootless.txt", 0, 0, None),
    ];
    let files: Vec<String> = std::fs::read_dir(corpus_dir().join("kmsg"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".txt"))
        .collect();
    assert_eq!(
        files.len(),
        expected.len(),
        "a new corpus file needs a row here: {files:?}"
    );
    let users = FakeUsers::standard();
    let mut text = String::new();
    let mut whole = String::new();
    for (name, kills, memcg, path) in expected {
        let found = corpus_kills(name);
        assert_eq!(found.len(), kills, "{name}");
        assert_eq!(found.iter().filter(|k| k.memcg).count(), memcg, "{name}");
        text.push_str(&format!("# {name}\n"));
        for kill in found {
            let entry = entry_of(kill, false, &users);
            if let (Some(path), Limit::Cgroup(Some(named))) = (path, &entry.limit) {
                assert_eq!(named, path.as_bytes(), "{name}");
            }
            // The kernel's time of the kill, turned into wall-clock time now: not for a snapshot.
            let line = logged(&Entry::OomKill(entry));
            let caps = OOM_KILL.captures(line.lines().next().unwrap()).unwrap();
            assert!(caps.name("pid").is_some(), "{line}");
            text.push_str(line.split_once(" | ").unwrap().1);
            whole.push_str(&line);
        }
    }
    let log = check_log(&whole);
    assert_eq!(log.oom_kills.len(), 23);
    snapshot!("oom_entries_from_the_corpus", text);
}

#[test]
fn a_report_with_its_trend_and_growth_lines() {
    // Ten minutes at 3 s: calm at 38%, then the last three slices climbing to 97%.
    let mut cells = [Some(38.4); CELLS];
    cells[26] = Some(41.0);
    cells[27] = Some(62.5);
    cells[28] = Some(88.0);
    cells[29] = Some(97.2);
    cells[3] = None;
    let growth = Growth {
        since: report_time() - chrono::Duration::seconds(15),
        ago: Duration::from_secs(15),
        grew: vec![
            Grew {
                pid: 4242,
                name: b"python3".to_vec(),
                kib: 1_258_291,
                new: false,
            },
            Grew {
                pid: 2713,
                name: b"firefox".to_vec(),
                kib: 36_352,
                new: false,
            },
            Grew {
                pid: 5120,
                name: b"stress".to_vec(),
                kib: 2_048,
                new: true,
            },
            Grew {
                pid: 5121,
                name: Vec::new(),
                kib: 12,
                new: true,
            },
        ],
    };
    let fake = util::FakeProc::new();
    let users = FakeUsers::standard();
    let sources = util::sources(&fake, 0, &users);
    let report_with = |growth: Option<Growth>| {
        let mut report = util::report_from(
            Ok(util::corpus("psaux_jc-centos77_1.txt")),
            Ok(util::corpus("top_jc-ubuntu2010_1.txt")),
            &sources,
            Occasion::Incident {
                due: ReportDue {
                    incident: 3,
                    high_for: Duration::from_secs(15),
                    since_first_report: None,
                    reason: Reason::Sustained,
                },
                threshold_percent: 80.0,
                urgent_percent: Some(95.0),
            },
        );
        report.context = Context {
            trend: Some(TrendLine {
                window: Duration::from_secs(600),
                cells,
                low: 38.1,
                high: 97.2,
            }),
            growth,
            ..Context::default()
        };
        report
    };
    let (incidents, _) = util::logged(report_with(Some(growth.clone())));
    let log = check_log(&incidents);
    assert_eq!(log.context.len(), 2, "{incidents}");
    let head: Vec<&str> = incidents.lines().take(4).collect();
    snapshot!("report_with_context", head.join("\n"));

    // Nothing grew; and a report without a baseline has no growth line at all.
    let (incidents, _) = util::logged(report_with(Some(Growth {
        grew: Vec::new(),
        ..growth
    })));
    assert_eq!(
        incidents.lines().nth(3),
        Some("  grew most since 14:03:00 (15s ago): nothing grew")
    );
    let (incidents, _) = util::logged(report_with(None));
    assert!(incidents.lines().nth(3).unwrap().starts_with("  top - "));
}
