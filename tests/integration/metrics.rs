//! The metrics file (`--metrics-file`) as the real daemon writes it: the exact file at start and
//! after a report, a repeat, a recovery, an OOM kill and a capture failure, each accepted by
//! Prometheus's `promtool check metrics`; nothing written on an idle tick; a reader never sees
//! half a file; a directory it cannot write is said once and stops nothing; the permissions the
//! docs give for node_exporter's directory work for a user that is not root; and the shipped
//! drop-in makes a valid unit.

use crate::util;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::FakeProc;
use util::daemon::{Daemon, Launch, cat, count, report_count, set_used};
use util::kernel::{append, kernel_usec_now, kill_records};

/// What the file says; [`Want::text`] is the file, written out here by hand.
#[derive(Clone, Copy, Debug, Default)]
struct Want {
    sustained: u64,
    urgent: u64,
    repeat: u64,
    after_kill: u64,
    episodes: u64,
    kills: u64,
    ps_failures: u64,
    top_failures: u64,
    high: u8,
    last_report: i64,
}

impl Want {
    fn text(&self) -> String {
        format!(
            "\
# HELP memory_monitor_reports_total Reports written since memory-monitor started, by why each was due.
# TYPE memory_monitor_reports_total counter
memory_monitor_reports_total{{reason=\"sustained\"}} {}
memory_monitor_reports_total{{reason=\"urgent\"}} {}
memory_monitor_reports_total{{reason=\"repeat\"}} {}
memory_monitor_reports_total{{reason=\"oom-kill\"}} {}
# HELP memory_monitor_episodes_total Episodes (numbered incidents) reported since memory-monitor started.
# TYPE memory_monitor_episodes_total counter
memory_monitor_episodes_total {}
# HELP memory_monitor_oom_kills_total OOM kills that entries recorded since memory-monitor started.
# TYPE memory_monitor_oom_kills_total counter
memory_monitor_oom_kills_total {}
# HELP memory_monitor_capture_failures_total Reports without ps's or top's part since memory-monitor started.
# TYPE memory_monitor_capture_failures_total counter
memory_monitor_capture_failures_total{{program=\"ps\"}} {}
memory_monitor_capture_failures_total{{program=\"top\"}} {}
# HELP memory_monitor_high 1 from the first report of an episode of high memory to its recovered entry, else 0.
# TYPE memory_monitor_high gauge
memory_monitor_high {}
# HELP memory_monitor_last_report_timestamp_seconds When the last report was written, in Unix time; 0 before the first.
# TYPE memory_monitor_last_report_timestamp_seconds gauge
memory_monitor_last_report_timestamp_seconds {}
# HELP memory_monitor_info The version of memory-monitor that writes this file.
# TYPE memory_monitor_info gauge
memory_monitor_info{{version=\"{}\"}} 1
",
            self.sustained,
            self.urgent,
            self.repeat,
            self.after_kill,
            self.episodes,
            self.kills,
            self.ps_failures,
            self.top_failures,
            self.high,
            self.last_report,
            env!("CARGO_PKG_VERSION"),
        )
    }
}

const LAST_LINE_START: &str = "memory_monitor_info{version=";

/// Whether promtool is there to check the files; says it skips when not.
fn have_promtool() -> bool {
    let found = util::on_path("promtool");
    if !found {
        util::skip(
            "promtool (Prometheus)",
            "sudo apt-get install --no-install-recommends prometheus",
        );
    }
    found
}

/// `promtool check metrics` reads the text on stdin: a parse error or a lint (a counter
/// without `_total`, a metric without HELP) fails it.
pub(crate) fn promtool_accepts(text: &str) {
    use std::io::Write as _;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics refuses it ({}): {}{}\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A place for the metrics file, beside the daemon's own directory.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        Place {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("memory-monitor.prom")
    }

    fn read(&self) -> String {
        std::fs::read_to_string(self.file()).unwrap_or_default()
    }

    fn launch<'a>(&self, launch: Launch<'a>) -> Launch<'a> {
        launch.args(&["--metrics-file", self.file().to_str().unwrap()])
    }
}

/// Waits until the file has `line` (the daemon writes it after the logs), then checks it is
/// exactly `want` and that promtool takes it.
fn file_becomes(daemon: &mut Daemon, place: &Place, line: &str, want: &Want, promtool: bool) {
    daemon.wait_for(&format!("{line} in the metrics file"), |_| {
        place.read().lines().any(|l| l == line)
    });
    let text = place.read();
    assert_eq!(text, want.text(), "{line}");
    if promtool {
        promtool_accepts(&text);
    }
}

/// The time of the last report header in incidents.log, in Unix seconds.
fn last_report_time(daemon: &Daemon) -> i64 {
    let headers = util::log::headers(&daemon.read("incidents.log"));
    let time = &headers.last().expect("a report").time;
    chrono::DateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S %:z")
        .unwrap_or_else(|e| panic!("{time}: {e}"))
        .timestamp()
}

/// The file's inode and time: each rewrite renames a new file into place.
fn version(path: &Path) -> (u64, i64, i64) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.ino(), meta.mtime(), meta.mtime_nsec())
}

#[test]
fn the_file_at_start_and_after_a_report_a_repeat_and_a_recovery() {
    let promtool = have_promtool();
    let fake = FakeProc::new();
    set_used(&fake, 40);
    let place = Place::new();
    let mut daemon = place.launch(Launch::ordinary(&fake)).start();
    daemon.wait_for_start();
    // Written before the start line, every sample at 0.
    let mut want = Want::default();
    assert_eq!(place.read(), want.text());
    if promtool {
        promtool_accepts(&place.read());
    }
    let mode = std::fs::metadata(place.file()).unwrap().mode();
    assert_eq!(mode & 0o7777, 0o644, "readable by node_exporter's user");

    // Nothing on an idle tick: twenty ticks, the same file.
    let at_start = version(&place.file());
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        version(&place.file()),
        at_start,
        "rewritten on an idle tick"
    );

    set_used(&fake, 90);
    daemon.wait_for_reports(1);
    want.sustained = 1;
    want.episodes = 1;
    want.high = 1;
    want.last_report = last_report_time(&daemon);
    file_becomes(
        &mut daemon,
        &place,
        "memory_monitor_reports_total{reason=\"sustained\"} 1",
        &want,
        promtool,
    );

    daemon.wait_for_reports(2);
    want.repeat = 1;
    want.last_report = last_report_time(&daemon);
    file_becomes(
        &mut daemon,
        &place,
        "memory_monitor_reports_total{reason=\"repeat\"} 1",
        &want,
        promtool,
    );

    set_used(&fake, 40);
    daemon.wait_for("the recovered line", |d| {
        d.read("incidents.log").contains(" | recovered | ")
    });
    want.high = 0;
    file_becomes(
        &mut daemon,
        &place,
        "memory_monitor_high 0",
        &want,
        promtool,
    );
    let recovered = version(&place.file());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(version(&place.file()), recovered, "rewritten while calm");
    assert_eq!(report_count(&daemon.read("incidents.log")), 2);
    assert!(
        !daemon.stderr_text().contains("metrics file"),
        "{}",
        daemon.stderr_text()
    );
}

/// A kill while memory is not high: its entry counts the kill, its report an episode of its own,
/// which leaves `memory_monitor_high` at 0 since no recovered line will end it.
#[test]
fn an_oom_kill_counts_the_kill_and_its_report() {
    let promtool = have_promtool();
    let fake = FakeProc::new();
    set_used(&fake, 40);
    fake.set_oom_kills(5);
    let place = Place::new();
    let mut daemon = place.launch(Launch::ordinary(&fake)).start();
    daemon.wait_for_start();
    append(
        &daemon.kernel_log,
        &kill_records(1000, kernel_usec_now(), 4242, "python3", 0, None),
    );
    fake.set_oom_kills(6);
    daemon.wait_for_reports(1);
    let want = Want {
        after_kill: 1,
        episodes: 1,
        kills: 1,
        last_report: last_report_time(&daemon),
        ..Want::default()
    };
    file_becomes(
        &mut daemon,
        &place,
        "memory_monitor_reports_total{reason=\"oom-kill\"} 1",
        &want,
        promtool,
    );
}

/// Without the kernel's log, the kills are counted from vmstat: an entry for the kills before
/// the start, one for those since, and the file counts every kill they stand for.
#[test]
fn counted_kills_count_every_kill_an_entry_stands_for() {
    let promtool = have_promtool();
    let fake = FakeProc::new();
    set_used(&fake, 40);
    fake.set_oom_kills(7);
    fake.set_boot_id("5f1c0e1c-7d0a-4a53-9c39-6d3c5e0b8f7a");
    let place = Place::new();
    let mut daemon = place
        .launch(Launch::ordinary(&fake).args(&["--kernel-log", "off"]))
        .start();
    daemon.wait_for_start();
    let mut want = Want {
        kills: 7,
        ..Want::default()
    };
    file_becomes(
        &mut daemon,
        &place,
        "memory_monitor_oom_kills_total 7",
        &want,
        promtool,
    );
    fake.set_oom_kills(9);
    daemon.wait_for_reports(1);
    want.kills = 9;
    want.after_kill = 1;
    want.episodes = 1;
    want.last_report = last_report_time(&daemon);
    file_becomes(
        &mut daemon,
        &place,
        "memory_monitor_reports_total{reason=\"oom-kill\"} 1",
        &want,
        promtool,
    );
}

#[test]
fn a_report_without_ps_counts_a_capture_failure() {
    let promtool = have_promtool();
    let fake = FakeProc::new();
    set_used(&fake, 90);
    let place = Place::new();
    let launch = Launch::new(
        &fake,
        "echo 'ps: broken' >&2; exit 3",
        &cat("top_jc-ubuntu2010_1.txt"),
    );
    let mut daemon = place.launch(launch).start();
    daemon.wait_for_reports(1);
    let want = Want {
        sustained: 1,
        episodes: 1,
        ps_failures: 1,
        high: 1,
        last_report: last_report_time(&daemon),
        ..Want::default()
    };
    file_becomes(
        &mut daemon,
        &place,
        "memory_monitor_capture_failures_total{program=\"ps\"} 1",
        &want,
        promtool,
    );
}

/// A reader that reads the file over and over while the daemon rewrites it a hundred times
/// always gets a whole file: every line, ending with the last one.
#[test]
fn a_reader_never_sees_half_a_file() {
    let promtool = have_promtool();
    let fake = FakeProc::new();
    set_used(&fake, 90);
    let place = Place::new();
    // A report every tick or two: a write every 20 to 40 ms.
    let launch = Launch::ordinary(&fake).args(&[
        "--interval",
        "20ms",
        "--sustain",
        "0",
        "--repeat",
        "20ms",
        "--details",
        "0",
    ]);
    let mut daemon = place.launch(launch).start();
    daemon.wait_for_start();
    let whole_lines = Want::default().text().lines().count();
    let deadline = Instant::now() + util::patience(Duration::from_secs(60));
    let (mut reads, mut versions) = (0u64, Vec::<String>::new());
    loop {
        let text = std::fs::read_to_string(place.file()).unwrap();
        reads += 1;
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            text.ends_with('\n')
                && lines.len() == whole_lines
                && lines.last().is_some_and(|l| l.starts_with(LAST_LINE_START))
                && lines.iter().all(|l| {
                    l.starts_with("# HELP memory_monitor_")
                        || l.starts_with("# TYPE memory_monitor_")
                        || (l.starts_with("memory_monitor_")
                            && l.rsplit(' ')
                                .next()
                                .is_some_and(|v| v.parse::<i64>().is_ok()))
                }),
            "read {reads}: half a file:\n{text}"
        );
        if versions.last() != Some(&text) {
            versions.push(text);
        }
        if versions.len() > 100 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {} versions in {reads} reads",
            versions.len()
        );
    }
    assert!(daemon.is_running());
    // Each version is a file of its own that promtool takes.
    if promtool {
        for text in &versions {
            promtool_accepts(text);
        }
    }
    let reports = report_count(&daemon.read("incidents.log"));
    assert!(reports >= 100, "{reports} reports");
    assert!(reads > 100, "{reads} reads");
    let names: Vec<_> = std::fs::read_dir(place.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n == "memory-monitor.prom" || n == ".memory-monitor.prom.tmp"),
        "{names:?}"
    );
}

/// A directory that is not there: said once, however many entries follow; the logs are
/// written; once the directory exists, the next entry writes the file, and that is said.
#[test]
fn a_missing_directory_is_said_once_and_stops_nothing() {
    let fake = FakeProc::new();
    set_used(&fake, 90);
    let place = Place::new();
    let file = place.dir.path().join("not-yet/memory-monitor.prom");
    let mut daemon = Launch::ordinary(&fake)
        .args(&["--metrics-file", file.to_str().unwrap()])
        .start();
    daemon.wait_for_reports(2);
    let said = format!(
        "memory-monitor: cannot write the metrics file {}: No such file or directory (os error 2); it is tried again at each entry, and only its next success is said\n",
        file.display()
    );
    let stderr = daemon.stderr_text();
    assert_eq!(count(&stderr, "metrics file"), 1, "{stderr}");
    assert!(stderr.contains(&said), "{stderr}");
    assert!(daemon.read("details.log").contains("PID"), "the logs go on");
    std::fs::create_dir(file.parent().unwrap()).unwrap();
    daemon.wait_for("the file, at the next entry", |_| file.exists());
    daemon.wait_for("it to be said", |d| {
        d.stderr_text().contains(&format!(
            "memory-monitor: the metrics file {} is written again\n",
            file.display()
        ))
    });
    assert!(daemon.is_running());
}

/// The service's case: a user that is not root, with the service's umask 0027, and node_exporter's
/// directory as the package makes it (root's, 0755). The file cannot be written, which is said
/// once with a hint; with the group and mode the docs give (the user's group, 1775), the next
/// entry writes it, mode 0644, and that is said. Another collector's file stays as it was.
#[test]
fn the_directory_as_the_docs_set_it_up_works_for_the_service_s_user() {
    if !rustix::process::geteuid().is_root() || !util::on_path("setpriv") {
        util::skip(
            "root and setpriv (util-linux)",
            "run the tests as root (CI does)",
        );
        return;
    }
    let fake = FakeProc::new();
    set_used(&fake, 90);
    let dir = tempfile::tempdir().unwrap();
    let textfiles = dir.path().join("node-exporter");
    let logs = dir.path().join("logs");
    for made in [&textfiles, &logs] {
        std::fs::create_dir(made).unwrap();
    }
    let run = |command: &[&str]| {
        let status = Command::new(command[0])
            .args(&command[1..])
            .status()
            .unwrap();
        assert!(status.success(), "{command:?}");
    };
    let nobody = "65534";
    run(&["chmod", "755", dir.path().to_str().unwrap()]);
    run(&["chmod", "755", textfiles.to_str().unwrap()]);
    run(&["chown", nobody, logs.to_str().unwrap()]);
    let other = textfiles.join("apt.prom");
    std::fs::write(&other, "apt_upgrades_pending 0\n").unwrap();
    let file = textfiles.join("memory-monitor.prom");
    let mut launch = Launch::ordinary(&fake).args(&["--metrics-file", file.to_str().unwrap()]);
    launch.log_dir = Some(logs);
    launch.wrapper = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=+sys_ptrace,+dac_read_search",
        "--ambient-caps=+sys_ptrace,+dac_read_search",
        "--",
        "sh",
        "-c",
        "umask 0027 && exec \"$@\"",
        "sh",
    ]
    .map(Into::into)
    .to_vec();
    let mut daemon = launch.start();
    daemon.wait_for_reports(2);
    let stderr = daemon.stderr_text();
    assert_eq!(count(&stderr, "metrics file"), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "memory-monitor: cannot write the metrics file {}: Permission denied (os error 13) (its directory must be writable by the user memory-monitor runs as); it is tried again at each entry, and only its next success is said\n",
            file.display()
        )),
        "{stderr}"
    );
    run(&["chgrp", nobody, textfiles.to_str().unwrap()]);
    run(&["chmod", "1775", textfiles.to_str().unwrap()]);
    daemon.wait_for("the file, at the next entry", |_| file.exists());
    daemon.wait_for("it to be said", |d| {
        d.stderr_text().contains("is written again\n")
    });
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(
        (meta.uid(), meta.mode() & 0o7777),
        (65534, 0o644),
        "the user's, readable by node_exporter's"
    );
    let other_meta = std::fs::metadata(&other).unwrap();
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        "apt_upgrades_pending 0\n"
    );
    assert_eq!(other_meta.uid(), 0);
}

// ---------------------------------------------------------------------------------------------
// The drop-in, and where it is shipped and described.

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The shipped unit in a directory of its own, with the daemon built here in ExecStart=, and
/// `drop_ins` in its `.d`, as systemd reads a unit file given by its path.
fn unit_with(drop_ins: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let unit = repo_file("dist/memory-monitor.service").replace(
        "ExecStart=/usr/local/bin/memory-monitor ",
        &format!("ExecStart={} ", env!("CARGO_BIN_EXE_memory-monitor")),
    );
    let path = dir.path().join("memory-monitor.service");
    std::fs::write(&path, unit).unwrap();
    let d = dir.path().join("memory-monitor.service.d");
    std::fs::create_dir(&d).unwrap();
    for (name, text) in drop_ins {
        std::fs::write(d.join(name), text).unwrap();
    }
    (dir, path)
}

/// `systemd-analyze verify`: whether it passed, and all it said.
fn verify(drop_ins: &[(&str, &str)]) -> (bool, String) {
    let (_dir, path) = unit_with(drop_ins);
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    (out.status.success(), said)
}

/// The exposure `systemd-analyze security --offline` gives the unit.
fn exposure(drop_ins: &[(&str, &str)]) -> String {
    let (_dir, path) = unit_with(drop_ins);
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            l.split("Overall exposure level for memory-monitor.service: ")
                .nth(1)
        })
        .unwrap_or_else(|| {
            panic!(
                "no exposure: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

/// The unit with the drop-in is valid: systemd reads the drop-in (a broken one beside it is
/// complained of) and says nothing of it; the exposure is the same as without it.
#[test]
fn the_drop_in_makes_a_valid_unit_as_exposed_as_without_it() {
    if !util::on_path("systemd-analyze") {
        util::skip("systemd-analyze (systemd)", "sudo apt-get install systemd");
        return;
    }
    let drop_in = repo_file("dist/metrics-node-exporter.conf");
    let settings: Vec<&str> = drop_in
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        settings,
        [
            "[Service]",
            "ReadWritePaths=-/var/lib/prometheus/node-exporter"
        ]
    );
    let (valid, said) = verify(&[("metrics-node-exporter.conf", &drop_in)]);
    assert!(valid && said.trim().is_empty(), "{said}");
    // The control: the drop-in directory is read, and a mistake in it is said.
    let (_, said) = verify(&[
        ("metrics-node-exporter.conf", &drop_in),
        ("typo.conf", "[Service]\nReadWritePaths=relative/path\n"),
    ]);
    assert!(said.contains("typo.conf"), "{said}");
    assert!(!said.contains("metrics-node-exporter.conf"), "{said}");
    assert_eq!(
        exposure(&[("metrics-node-exporter.conf", &drop_in)]),
        exposure(&[])
    );
}

/// install.sh and package.sh ship the drop-in where the docs say; uninstall.sh removes that
/// directory; the docs give the same commands and the same path.
#[test]
fn the_drop_in_is_shipped_and_its_commands_are_the_same_everywhere() {
    let install = repo_file("install.sh");
    assert!(install.contains(
        "install -m 0644 -o root -g root \"$dist/metrics-node-exporter.conf\" \"$SHARE_DEST/metrics-node-exporter.conf\""
    ));
    assert!(install.contains("SHARE_DEST=/usr/local/share/$NAME"));
    let package = repo_file("scripts/package.sh");
    assert!(package.contains("\"$root/dist/metrics-node-exporter.conf\" \"$share/\""));
    // Into the tarball's dist/, beside the man page.
    assert!(package.contains(
        "\"$root/dist/metrics-node-exporter.conf\" \"$root/dist/memory-monitor.1\" \"$tree/dist/\""
    ));
    assert!(package.contains("share=$pkg/usr/share/memory-monitor"));
    let uninstall = repo_file("uninstall.sh");
    assert!(uninstall.contains("SHARE_DEST=/usr/local/share/$NAME"));
    assert!(uninstall.contains("\"$LOGROTATE_DEST\" \"$SHARE_DEST\""));
    let file = "/var/lib/prometheus/node-exporter/memory-monitor.prom";
    for doc in [
        "dist/metrics-node-exporter.conf",
        "dist/deb/README.Debian",
        "README.md",
    ] {
        let text = repo_file(doc);
        for needed in [
            "sudo chgrp memory-monitor /var/lib/prometheus/node-exporter",
            "sudo chmod 1775 /var/lib/prometheus/node-exporter",
            "/etc/systemd/system/memory-monitor.service.d/metrics-node-exporter.conf",
            &format!("MEMORY_MONITOR_METRICS_FILE={file}"),
            "sudo systemctl daemon-reload && sudo systemctl restart memory-monitor",
        ] {
            assert!(text.contains(needed), "{doc} does not say {needed}");
        }
    }
    assert!(repo_file("dist/memory-monitor.default").contains(&format!("#   {file}\n")));
    assert!(
        repo_file("docs/log-format.md").contains(&format!("`MEMORY_MONITOR_METRICS_FILE={file}`"))
    );
}

/// The example in docs/log-format.md is the file as the daemon writes it.
#[test]
fn the_docs_show_the_file_as_it_is_written() {
    let docs = repo_file("docs/log-format.md");
    let section = docs
        .split("\n## The metrics file\n")
        .nth(1)
        .expect("docs/log-format.md has a section \"The metrics file\"");
    let example = section
        .split("\n```\n")
        .nth(1)
        .expect("an example in the section");
    let want = Want {
        sustained: 1,
        repeat: 1,
        after_kill: 1,
        episodes: 2,
        kills: 1,
        last_report: 1_795_353_820,
        ..Want::default()
    };
    // The example is of version 0.1.0; the file says the version it is written by.
    let example = example.replace(
        "{version=\"0.1.0\"}",
        &format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION")),
    );
    assert_eq!(format!("{example}\n"), want.text());
}
