//! `memory-monitor incidents`, the real binary: over logs the daemon wrote, rotated by the real
//! logrotate with compression and then damaged (a torn last line, a truncated .gz); over a
//! hand-made file with hostile names and a fixed period, pinned exactly; and proptest's hostile
//! names through the reader and the renderer.

use crate::util;

use std::path::Path;
use std::process::{Command, Output};

use chrono::DateTime;
use proptest::prelude::*;
use regex::Regex;
use rustix::process::Signal;

use memory_monitor::history::episodes::Episodes;
use memory_monitor::history::summary::{self, Summary};
use util::FakeProc;
use util::daemon::{Daemon, Launch, set_used};

const LOGROTATE: &str = "/usr/sbin/logrotate";

fn incidents(dir: &Path, args: &[&str]) -> Output {
    util::program_without_env()
        .arg("incidents")
        .arg("--log-dir")
        .arg(dir)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| panic!("not UTF-8: {e}"))
}

/// Output a terminal shows as it is: no control character but the newline.
fn assert_nothing_raw(out: &str) {
    let raw: Vec<char> = out
        .chars()
        .filter(|&c| c != '\n' && (c.is_control() || ('\u{2028}'..='\u{202e}').contains(&c)))
        .collect();
    assert!(raw.is_empty(), "raw {raw:?} in:\n{out}");
}

/// Every string of a JSON value, as a program that parses it gets them, one per line.
fn strings(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => format!("{s}\n"),
        serde_json::Value::Array(a) => a.iter().map(strings).collect(),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}\n{}", strings(v)))
            .collect(),
        _ => String::new(),
    }
}

/// The shipped logrotate configuration, pointed at `dir`: without `su` (the test's user owns
/// the directory) and without `delaycompress`, so that one forced rotation makes a `.gz`.
fn logrotate(dir: &Path) -> bool {
    if !Path::new(LOGROTATE).exists() {
        util::skip("logrotate", "sudo apt-get install logrotate");
        return false;
    }
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/memory-monitor.logrotate"),
    )
    .unwrap();
    let config: String = shipped
        .replace("/var/log/memory-monitor", dir.to_str().unwrap())
        .lines()
        .filter(|l| !l.trim_start().starts_with("su ") && l.trim() != "delaycompress")
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(config.contains("compress"), "{config}");
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("memory-monitor");
    std::fs::write(&conf, config).unwrap();
    let out = Command::new(LOGROTATE)
        .arg("-f")
        .arg("-s")
        .arg(conf_dir.path().join("state"))
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "logrotate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

fn episode(daemon: &mut Daemon, fake: &FakeProc, reports: usize, recover: bool) {
    let before = count_in(daemon, "\"event\":\"report\"");
    set_used(fake, 90);
    daemon.wait_for("the episode's reports", |d| {
        count_in(d, "\"event\":\"report\"") >= before + reports
    });
    if recover {
        let recovered = count_in(daemon, "\"event\":\"recovered\"");
        set_used(fake, 40);
        daemon.wait_for("the recovered line", |d| {
            count_in(d, "\"event\":\"recovered\"") > recovered
        });
    }
}

/// Lines holding `needle` in the current incidents.jsonl.
fn count_in(daemon: &Daemon, needle: &str) -> usize {
    daemon
        .read("incidents.jsonl")
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// Times, dates, durations and the temporary directory vary from run to run; the rest is
/// pinned. Runs of blanks are folded, since the columns' width follows the durations.
fn redacted(out: &str, dir: &Path) -> String {
    let out = out.replace(dir.to_str().unwrap(), "[dir]");
    let time = Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d").unwrap();
    let date = Regex::new(r"\d{4}-\d\d-\d\d").unwrap();
    let lasted = Regex::new(r"\] +(\d+m)?\d+m?s(\+?) ").unwrap();
    let blanks = Regex::new(r"  +").unwrap();
    let out = time.replace_all(&out, "[time]");
    let out = lasted.replace_all(&out, "] [lasted]$2 ");
    let out = date.replace_all(&out, "[date]");
    blanks.replace_all(&out, "  ").into_owned()
}

#[test]
fn the_daemons_logs_rotated_compressed_and_damaged() {
    let fake = FakeProc::new();
    set_used(&fake, 40);
    let logs = tempfile::tempdir().unwrap();
    let mut launch = Launch::ordinary(&fake);
    launch.log_dir = Some(logs.path().to_path_buf());
    let mut daemon = launch.start();
    daemon.wait_for_start();

    episode(&mut daemon, &fake, 2, true);
    if !logrotate(logs.path()) {
        return;
    }
    episode(&mut daemon, &fake, 1, true);
    logrotate(logs.path());
    episode(&mut daemon, &fake, 1, false);
    let (status, _, _daemon) = daemon.stop(Signal::TERM);
    assert!(status.success());

    let names = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("incidents.jsonl"))
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(logs.path()),
        [
            "incidents.jsonl",
            "incidents.jsonl.1.gz",
            "incidents.jsonl.2.gz"
        ]
    );
    let undamaged = incidents(logs.path(), &[]);
    assert!(undamaged.status.success());
    assert_eq!(text(&undamaged.stderr), "");

    // A crash tore the current file's last write; the oldest .gz lost its last bytes (its
    // gzip trailer: every line is still there, the end is not).
    let current = logs.path().join("incidents.jsonl");
    let mut torn = std::fs::read(&current).unwrap();
    torn.extend_from_slice(b"{\"time\":\"2026-12-02T14:0");
    std::fs::write(&current, torn).unwrap();
    let gz = logs.path().join("incidents.jsonl.2.gz");
    let packed = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &packed[..packed.len() - 4]).unwrap();

    let out = incidents(logs.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout,
        text(&undamaged.stdout),
        "nothing before the damage lost"
    );
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "one line per damaged file:\n{stderr}");
    assert!(
        lines[0].starts_with("memory-monitor: ") && lines[0].contains("incidents.jsonl.2.gz: "),
        "{stderr}"
    );
    assert!(
        lines[1].contains("/incidents.jsonl: its last line is cut short"),
        "{stderr}"
    );
    snapshot!(
        "incidents_rotated_and_damaged",
        redacted(&stdout, logs.path())
    );

    let json = incidents(logs.path(), &["--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let episodes = value["episodes"].as_array().unwrap();
    let summary: Vec<_> = episodes
        .iter()
        .map(|e| (e["reports"].as_u64().unwrap(), e["end"].as_str().unwrap()))
        .collect();
    assert_eq!(summary, [(2, "recovered"), (1, "recovered"), (1, "open")]);
    assert_eq!(episodes[0]["biggest"][0]["name"], "firewalld");
    assert_eq!(value["files"].as_array().unwrap().len(), 3);
    assert_eq!(
        value["days"].as_array().unwrap().len(),
        8,
        "7d: eight days touched"
    );
}

/// A start object, then reports and their end, as the daemon writes them, with `name` as the
/// biggest process's command: in JSON's escaping, so a tampered file can hold raw control
/// characters once parsed.
fn hand_made(name: &str) -> String {
    let name = serde_json::to_string(name).unwrap();
    let report = |time: &str, incident: u32, ram: f64, high_for: f64, reason: &str| {
        format!(
            r#"{{"time":"{time}","host":"pi4","event":"report","schema":1,"incident":{incident},"reason":"{reason}","new_episode":true,"high_for_seconds":{high_for},"ram_percent":{ram},"top":[{{"pid":7,"user":"eve","rss_bytes":2480000000,"vsz_bytes":1,"mem_percent":60.0,"cpu_percent":1.0,"command":{name},"unit":null}},{{"pid":8,"user":"root","rss_bytes":537300000,"vsz_bytes":1,"mem_percent":13.0,"cpu_percent":1.0,"command":"/usr/bin/python3 -m http.server","unit":null}},{{"pid":9,"user":"root","rss_bytes":99740000,"vsz_bytes":1,"mem_percent":2.0,"cpu_percent":1.0,"command":"/usr/lib/xorg/Xorg :0","unit":null}}],"notes":[]}}"#
        )
    };
    [
        r#"{"time":"2026-11-24T08:00:00.000+01:00","host":"pi4","event":"start","schema":1,"version":"0.1.0","pid":400,"started":"2026-11-24T08:00:00+01:00","settings":{}}"#.to_string(),
        report("2026-11-24T09:00:15+01:00", 1, 83.2, 15.0, "sustained"),
        r#"{"time":"2026-11-24T09:05:00+01:00","host":"pi4","event":"recovered","schema":1,"incident":1,"high_for_seconds":300.0,"ram_percent":40.0}"#.into(),
        r#"{"time":"2026-11-30T02:10:00+01:00","host":"pi4","event":"oom-kill","schema":1,"kills":1,"before_start":false,"victim":null,"names":null,"names_unknown":null}"#.into(),
        report("2026-11-30T02:10:01+01:00", 2, 41.0, 0.0, "oom-kill"),
        report("2026-11-30T02:20:01+01:00", 2, 97.2, 600.0, "repeat"),
        r#"{"time":"2026-11-30T02:25:00+01:00","host":"pi4","event":"previous-boot","schema":1}"#.into(),
        r#"{"time":"2026-11-30T02:58:57+01:00","host":"pi4","event":"recovered","schema":1,"incident":2,"high_for_seconds":2936.0,"ram_percent":40.0}"#.into(),
        report("2026-12-02T13:00:00+01:00", 3, 91.0, 20.0, "sustained"),
    ]
    .map(|l| l + "\n")
    .concat()
}

const HOSTILE: &str = "/tmp/\u{1b}]0;owned\u{7}evil\u{1b}[2J\u{9b}31m\u{202e}gpj.exe";

#[test]
fn hostile_names_come_out_escaped_and_the_output_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("incidents.jsonl"), hand_made(HOSTILE)).unwrap();
    let period = [
        "--since",
        "2026-11-24",
        "--now",
        "2026-12-02T14:00:00+01:00",
    ];
    let out = incidents(dir.path(), &period);
    assert!(out.status.success());
    assert_eq!(text(&out.stderr), "");
    let stdout = text(&out.stdout);
    assert_nothing_raw(&stdout);
    snapshot!(
        "incidents_hostile_names",
        stdout.replace(dir.path().to_str().unwrap(), "[dir]")
    );
    let json = incidents(dir.path(), &[&period[..], &["--json"]].concat());
    let json = text(&json.stdout);
    assert_nothing_raw(&strings(&serde_json::from_str(&json).unwrap()));
    snapshot!(
        "incidents_hostile_names_json",
        json.replace(dir.path().to_str().unwrap(), "[dir]")
    );

    // Only the first episode, long before the period.
    let quiet = tempfile::tempdir().unwrap();
    let first: String = hand_made("a")
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(quiet.path().join("incidents.jsonl"), first).unwrap();
    let empty = incidents(
        quiet.path(),
        &["--since", "12h", "--now", "2026-12-01T12:00:00+01:00"],
    );
    assert_eq!(
        text(&empty.stdout),
        format!(
            "No episodes since 2026-12-01 00:00:00 +01:00 (12h) in {}/incidents.jsonl\n",
            quiet.path().display()
        )
    );
}

#[test]
fn a_file_with_several_faults_gets_one_line_that_names_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = hand_made("a");
    file.insert_str(
        0,
        "not json\n{\"time\":\"2026-11-24T08:00:00+01:00\",\"event\":\"report\",\"incident\":1}\n",
    );
    file.push_str("{\"time\":\"2026-12-0");
    std::fs::write(dir.path().join("incidents.jsonl"), file).unwrap();
    let out = incidents(
        dir.path(),
        &[
            "--since",
            "2026-11-24",
            "--now",
            "2026-12-02T14:00:00+01:00",
        ],
    );
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("its last line is cut short")
            && stderr.contains("2 lines are not memory-monitor's JSON, skipped"),
        "{stderr}"
    );
    assert!(text(&out.stdout).starts_with("3 episodes since"));
}

#[test]
fn a_bad_since_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["7x", "yesterday", "2026-13-01", "0d"] {
        let out = incidents(dir.path(), &["--since", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--since"), "{stderr}");
    }
    let missing = incidents(&dir.path().join("none"), &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("cannot read"));
}

#[test]
fn the_help_gives_an_example() {
    let out = util::program_without_env()
        .args(["incidents", "--help"])
        .output()
        .unwrap();
    let help = text(&out.stdout);
    assert!(
        help.contains("memory-monitor incidents --since 2026-11-01"),
        "{help}"
    );
}

proptest! {
    #[test]
    fn any_name_is_shown_escaped(name in proptest::collection::vec(any::<char>(), 0..40)) {
        let name: String = name.into_iter().collect();
        let mut episodes = Episodes::new(None);
        for line in hand_made(&name).lines() {
            episodes.push(line.as_bytes());
        }
        let found = episodes.finish();
        prop_assert_eq!(found.episodes.len(), 3);
        let at = |t| DateTime::parse_from_rfc3339(t).unwrap();
        let s = Summary {
            since: at("2026-11-20T00:00:00+01:00"),
            now: at("2026-12-02T14:00:00+01:00"),
            since_text: "2026-11-20",
            log_dir: "/var/log/memory-monitor",
            files: &["incidents.jsonl".into()],
            found: &found,
        };
        assert_nothing_raw(&summary::text(&s));
        assert_nothing_raw(&strings(&serde_json::from_str(&summary::json(&s)).unwrap()));
    }
}
