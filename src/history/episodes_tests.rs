use super::*;

fn start(pid: u64, started: &str) -> String {
    format!(
        r#"{{"time":"{started}","host":"pi4","event":"start","schema":1,"version":"0.1.0","pid":{pid},"started":"{started}","settings":{{}}}}"#
    )
}

fn report(
    time: &str,
    incident: u64,
    reason: &str,
    ram: f64,
    high_for: f64,
    top: &[(&str, u64)],
) -> String {
    let rows: Vec<String> = top
        .iter()
        .map(|(command, rss)| {
            format!(
                r#"{{"pid":1,"user":"root","rss_bytes":{rss},"vsz_bytes":1,"mem_percent":1.0,"cpu_percent":0.0,"command":{},"unit":null}}"#,
                serde_json::to_string(command).unwrap()
            )
        })
        .collect();
    format!(
        r#"{{"time":"{time}","host":"pi4","event":"report","schema":1,"incident":{incident},"reason":"{reason}","new_episode":false,"high_for_seconds":{high_for},"ram_percent":{ram},"top":[{}],"notes":[]}}"#,
        rows.join(",")
    )
}

fn recovered(time: &str, incident: u64, high_for: f64) -> String {
    format!(
        r#"{{"time":"{time}","host":"pi4","event":"recovered","schema":1,"incident":{incident},"high_for_seconds":{high_for},"ram_percent":40.0}}"#
    )
}

fn kill(time: &str, kills: u64, before_start: bool) -> String {
    format!(
        r#"{{"time":"{time}","host":"pi4","event":"oom-kill","schema":1,"kills":{kills},"before_start":{before_start},"victim":null,"names":null,"names_unknown":null}}"#
    )
}

fn read(lines: &[String]) -> (Found, Vec<Line>) {
    let mut episodes = Episodes::new(None);
    let kinds = lines.iter().map(|l| episodes.push(l.as_bytes())).collect();
    (episodes.finish(), kinds)
}

fn t(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

const S1: &str = "2026-11-22T10:00:00+01:00";
const S2: &str = "2026-11-23T10:00:00+01:00";

#[test]
fn reports_to_their_recovered_line_make_one_episode() {
    let (found, kinds) = read(&[
        start(10, S1),
        report(
            "2026-11-22T14:03:15+01:00",
            1,
            "sustained",
            83.2,
            15.0,
            &[
                ("/usr/bin/python3 -m leak", 3 << 30),
                ("Xorg", 1 << 20),
                ("sshd: a", 1024),
                ("four", 1),
            ],
        ),
        report(
            "2026-11-22T14:13:15+01:00",
            1,
            "repeat",
            97.2,
            615.0,
            &[("/opt/java", 4 << 30), ("python3", 1 << 30)],
        ),
        report(
            "2026-11-22T14:23:15+01:00",
            1,
            "repeat",
            90.0,
            1215.0,
            &[("other", 1)],
        ),
        recovered("2026-11-22T14:25:00+01:00", 1, 1320.5),
    ]);
    assert!(kinds.iter().all(|k| *k == Line::Read), "{kinds:?}");
    assert_eq!(found.episodes.len(), 1);
    let e = &found.episodes[0];
    assert_eq!(
        e.began,
        t("2026-11-22T14:03:00+01:00"),
        "the first report less its 15 s"
    );
    assert_eq!((e.reports, e.oom_kills, e.end), (3, 0, End::Recovered));
    assert_eq!(e.lasted_seconds, 1320.5);
    assert_eq!(e.ram_max_percent, 97.2);
    assert_eq!(
        e.biggest,
        [
            Process {
                name: "java".into(),
                rss_bytes: Some(4 << 30)
            },
            Process {
                name: "python3".into(),
                rss_bytes: Some(1 << 30)
            },
        ],
        "the processes of the worst report, not the last"
    );
}

#[test]
fn numbers_restart_in_each_run_and_a_rotated_files_start_continues_the_run() {
    let (found, _) = read(&[
        start(10, S1),
        report("2026-11-22T14:00:00+01:00", 1, "sustained", 85.0, 15.0, &[]),
        // logrotate moved the file: the new one begins with the same run's start.
        start(10, S1),
        report("2026-11-22T14:10:00+01:00", 1, "repeat", 86.0, 615.0, &[]),
        recovered("2026-11-22T14:11:00+01:00", 1, 675.0),
        report("2026-11-22T15:00:00+01:00", 2, "urgent", 96.0, 0.0, &[]),
        // The daemon restarted while 2 was open: 2 never recovered, and 1 is a new episode.
        start(11, S2),
        report("2026-11-23T11:00:00+01:00", 1, "sustained", 85.0, 15.0, &[]),
    ]);
    let summary: Vec<_> = found
        .episodes
        .iter()
        .map(|e| (e.incident, e.reports, e.end))
        .collect();
    assert_eq!(
        summary,
        [
            (1, 2, End::Recovered),
            (2, 1, End::Unended),
            (1, 1, End::Open)
        ]
    );
}

#[test]
fn kills_count_toward_the_open_episode_or_the_report_after_them() {
    let (found, _) = read(&[
        start(10, S1),
        // Before the daemon started: nobody's.
        kill("2026-11-22T09:00:00+01:00", 3, true),
        // A kill while memory was not high, and the report after it: one episode.
        kill("2026-11-22T14:00:00+01:00", 1, false),
        report("2026-11-22T14:00:01+01:00", 1, "oom-kill", 41.0, 0.0, &[]),
        kill("2026-11-22T14:00:20+01:00", 40, false),
        recovered("2026-11-22T14:01:00+01:00", 1, 59.0),
        // A kill whose report did not follow (the next is an ordinary report): nobody's.
        kill("2026-11-22T15:00:00+01:00", 1, false),
        report("2026-11-22T15:10:00+01:00", 2, "sustained", 85.0, 15.0, &[]),
    ]);
    let kills: Vec<_> = found.episodes.iter().map(|e| e.oom_kills).collect();
    assert_eq!(kills, [41, 0]);
    assert_eq!(found.kills_outside, 4);
}

#[test]
fn unknown_events_and_snapshots_are_skipped_and_damage_is_counted() {
    let (found, kinds) = read(&[
        start(10, S1),
        r#"{"time":"2026-11-22T14:00:00+01:00","host":"h","event":"dropped","schema":1,"dropped":3}"#.into(),
        // A later kind that uses a known field for something else.
        r#"{"time":"x","event":"previous-boot","incident":{"n":3},"top":"no"}"#.into(),
        r#"{"time":"2026-11-22T14:00:00+01:00","event":"report","incident":null,"ram_percent":50.0}"#.into(),
        r#"{"time":"2026-11-22T14:00:00+01:00","event":"report","incident":1}"#.into(),
        r#"{"time":"yesterday","event":"report","incident":1,"ram_percent":50.0}"#.into(),
        r#"{"time":"2026-11-22T14:00:00+01:00","event":"report","incident":-1,"ram_percent":50.0}"#.into(),
        "{\"time\":\"2026-11-22T14:0".into(),
        "".into(),
        "\u{1b}[2J".into(),
    ]);
    assert_eq!(
        kinds,
        [
            Line::Read,
            Line::Skipped,
            Line::Skipped,
            Line::Skipped,
            Line::Bad,
            Line::Bad,
            Line::Bad,
            Line::Bad,
            Line::Bad,
            Line::Bad
        ]
    );
    assert!(found.episodes.is_empty());
}

#[test]
fn absurd_numbers_neither_panic_nor_overflow() {
    let (found, _) = read(&[
        report(
            "2026-11-22T14:00:00+01:00",
            u64::MAX,
            "x",
            1e308,
            1e300,
            &[("a", u64::MAX)],
        ),
        report("2026-11-22T14:00:00+01:00", 2, "x", -5.0, -1e300, &[]),
        kill("2026-11-22T14:00:00+01:00", u64::MAX, false),
        kill("2026-11-22T14:00:00+01:00", u64::MAX, false),
        report("0001-01-01T00:00:00+00:00", 3, "x", 50.0, 1e9, &[]),
    ]);
    assert_eq!(found.episodes.len(), 3);
    assert_eq!(found.episodes[1].oom_kills, u64::MAX, "saturates");
    assert_eq!(found.episodes[1].lasted_seconds, 0.0);
}

#[test]
fn episodes_that_end_before_the_period_are_dropped_as_they_close() {
    let mut episodes = Episodes::new(Some(t("2026-11-22T15:00:00+01:00")));
    for line in [
        start(10, S1),
        report("2026-11-22T14:00:00+01:00", 1, "sustained", 85.0, 15.0, &[]),
        recovered("2026-11-22T14:30:00+01:00", 1, 1815.0),
        kill("2026-11-22T14:40:00+01:00", 1, true),
        // Began before the period, ends in it: kept.
        report("2026-11-22T14:50:00+01:00", 2, "sustained", 85.0, 15.0, &[]),
        recovered("2026-11-22T15:10:00+01:00", 2, 1215.0),
        kill("2026-11-22T15:40:00+01:00", 2, true),
    ] {
        episodes.push(line.as_bytes());
    }
    let found = episodes.finish();
    let incidents: Vec<_> = found.episodes.iter().map(|e| e.incident).collect();
    assert_eq!(incidents, [2]);
    assert_eq!(found.kills_outside, 2);
}

#[test]
fn names_are_the_programs_cut_to_the_limit() {
    assert_eq!(name_of("/usr/bin/java -Xmx1g -jar x.jar"), "java");
    assert_eq!(
        name_of("/usr/bin/python2 -Es /usr/sbin/firewalld --nofork"),
        "firewalld"
    );
    assert_eq!(name_of("python3.11 leak.py"), "leak.py");
    assert_eq!(name_of("bash"), "bash", "an interpreter alone is itself");
    assert_eq!(name_of("[kworker/0:1-events]"), "[kworker/0:1-events]");
    assert_eq!(name_of("  sshd: alice@pts/0"), "sshd:");
    assert_eq!(name_of(""), "");
    assert_eq!(name_of("/"), "/");
    let long = "é".repeat(40);
    assert_eq!(name_of(&long), "é".repeat(16));
}

#[test]
fn the_biggest_most_often_counts_each_episodes_first() {
    let episode = |name: &str| Episode {
        incident: 1,
        began: t(S1),
        last: t(S1),
        lasted_seconds: 0.0,
        end: End::Open,
        ram_max_percent: 90.0,
        reports: 1,
        oom_kills: 0,
        biggest: vec![Process {
            name: name.into(),
            rss_bytes: None,
        }],
    };
    let list = [
        episode("b"),
        episode("a"),
        episode("b"),
        episode("c"),
        episode("a"),
        episode("b"),
    ];
    assert_eq!(
        biggest_most_often(&list),
        [("b".into(), 3), ("a".into(), 2), ("c".into(), 1)]
    );
}
