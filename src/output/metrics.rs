//! The metrics file (`--metrics-file`): the daemon's counts since it started, in Prometheus's
//! classic text format (0.0.4) for node_exporter's textfile collector. Written whole at start
//! and after each entry, never on a timer: into a temporary file in the same directory, then
//! put in the file's place, so a reader sees the old file or the new one, never half of one. No
//! sample carries a timestamp: the textfile collector refuses a file with any.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::RenameFlags;

use super::{Delivery, Output};
use crate::decide::Reason;
use crate::render::facts::reason_word;
use crate::report::{Entry, Occasion, Report};
use crate::say;
use crate::text::escape::escape_path;

/// Readable by all, whatever the service's umask: node_exporter runs as another user, and the
/// file holds only counts.
const FILE_MODE: u32 = 0o644;

/// What the file says: counts since the daemon started, and the state of the episode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    sustained: u64,
    urgent: u64,
    repeat: u64,
    after_kill: u64,
    episodes: u64,
    oom_kills: u64,
    ps_failures: u64,
    top_failures: u64,
    /// An episode of high memory has been reported and has not recovered.
    high: bool,
    /// The last report's time, in Unix seconds.
    last_report: Option<i64>,
}

impl Counts {
    /// Counts one entry.
    pub fn count(&mut self, entry: &Entry) {
        match entry {
            Entry::Report(report) => self.count_report(report),
            Entry::Recovered(_) => self.high = false,
            Entry::OomKill(_) => self.oom_kills = self.oom_kills.saturating_add(1),
            Entry::MoreOomKills(more) => self.oom_kills = self.oom_kills.saturating_add(more.count),
            Entry::OomKillsCounted(counted) => {
                self.oom_kills = self.oom_kills.saturating_add(counted.count);
            }
            // The previous boot's counts went with it.
            Entry::PreviousBoot(_) => {}
        }
    }

    fn count_report(&mut self, report: &Report) {
        if let Occasion::Incident { due, .. } = report.occasion {
            let reports = match due.reason {
                Reason::Sustained => &mut self.sustained,
                Reason::Urgent => &mut self.urgent,
                Reason::Repeat => &mut self.repeat,
                Reason::OomKill => &mut self.after_kill,
            };
            *reports = reports.saturating_add(1);
            if due.starts_episode() {
                self.episodes = self.episodes.saturating_add(1);
            }
            // A kill's report while memory was not high is an episode that never recovers.
            self.high = due.while_high();
        }
        if report.evidence.ps.is_err() {
            self.ps_failures = self.ps_failures.saturating_add(1);
        }
        if report.evidence.top.is_err() {
            self.top_failures = self.top_failures.saturating_add(1);
        }
        self.last_report = Some(report.time.timestamp());
    }

    /// The whole file.
    pub fn render(&self) -> String {
        let mut text = String::with_capacity(2048);
        let reasons = [
            (Reason::Sustained, self.sustained),
            (Reason::Urgent, self.urgent),
            (Reason::Repeat, self.repeat),
            (Reason::OomKill, self.after_kill),
        ];
        family(
            &mut text,
            "memory_monitor_reports_total",
            "counter",
            "Reports written since memory-monitor started, by why each was due.",
            &reasons.map(|(reason, n)| (Some(("reason", reason_word(reason))), n.to_string())),
        );
        family(
            &mut text,
            "memory_monitor_episodes_total",
            "counter",
            "Episodes (numbered incidents) reported since memory-monitor started.",
            &[(None, self.episodes.to_string())],
        );
        family(
            &mut text,
            "memory_monitor_oom_kills_total",
            "counter",
            "OOM kills that entries recorded since memory-monitor started.",
            &[(None, self.oom_kills.to_string())],
        );
        family(
            &mut text,
            "memory_monitor_capture_failures_total",
            "counter",
            "Reports without ps's or top's part since memory-monitor started.",
            &[
                (Some(("program", "ps")), self.ps_failures.to_string()),
                (Some(("program", "top")), self.top_failures.to_string()),
            ],
        );
        family(
            &mut text,
            "memory_monitor_high",
            "gauge",
            "1 from the first report of an episode of high memory to its recovered entry, else 0.",
            &[(None, u8::from(self.high).to_string())],
        );
        family(
            &mut text,
            "memory_monitor_last_report_timestamp_seconds",
            "gauge",
            "When the last report was written, in Unix time; 0 before the first.",
            &[(None, self.last_report.unwrap_or(0).to_string())],
        );
        family(
            &mut text,
            "memory_monitor_info",
            "gauge",
            "The version of memory-monitor that writes this file.",
            &[(Some(("version", env!("CARGO_PKG_VERSION"))), "1".into())],
        );
        text
    }
}

/// One metric family: its HELP and TYPE lines, then a sample per (label, value).
fn family(
    text: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: &[(Option<(&str, &str)>, String)],
) {
    text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
    for (label, value) in samples {
        text.push_str(name);
        if let Some((label, label_value)) = label {
            text.push_str(&format!("{{{label}=\"{}\"}}", escape_label(label_value)));
        }
        text.push_str(&format!(" {value}\n"));
    }
}

/// A label value as the text format quotes it.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The file, kept up to date with every entry.
pub struct MetricsFile {
    path: PathBuf,
    /// Beside it, in the same directory so the rename is atomic; its name does not end in
    /// `.prom`, so the textfile collector never reads it.
    temporary: PathBuf,
    counts: Counts,
    /// A write failed and that was said; the next success is said too.
    failing: bool,
}

impl MetricsFile {
    /// Writes the file with every count at 0. A failure is said and does not stop the daemon:
    /// the file is tried again at the next entry.
    pub fn start(path: &Path) -> MetricsFile {
        let name = path.file_name().unwrap_or(path.as_os_str());
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(".tmp");
        let mut file = MetricsFile {
            path: path.to_path_buf(),
            temporary: path.with_file_name(temporary_name),
            counts: Counts::default(),
            failing: false,
        };
        file.rewrite();
        file
    }

    fn rewrite(&mut self) {
        match replace(&self.temporary, &self.path, &self.counts.render()) {
            Ok(()) if self.failing => {
                self.failing = false;
                say!(
                    Notice,
                    "memory-monitor: the metrics file {} is written again",
                    escape_path(&self.path)
                );
            }
            Ok(()) => {}
            Err(e) if !self.failing => {
                self.failing = true;
                say!(
                    Error,
                    "memory-monitor: cannot write the metrics file {}: {e}{}; it is tried again at each entry, and only its next success is said",
                    escape_path(&self.path),
                    hint(&e)
                );
            }
            Err(_) => {}
        }
    }
}

/// What to do about a failure the service's setup explains.
fn hint(error: &io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(libc::EROFS) => {
            " (under systemd, its directory needs ReadWritePaths=, as the drop-in metrics-node-exporter.conf gives)"
        }
        Some(libc::EACCES) => {
            " (its directory must be writable by the user memory-monitor runs as)"
        }
        _ => "",
    }
}

/// Writes `text` to `temporary`, then puts it in `path`'s place. Not synced: the file is
/// rewritten whole at every start, so a crash loses nothing it must keep.
///
/// The two names are exchanged (`RENAME_EXCHANGE`) and the old file, now under the temporary
/// name, unlinked. A plain rename over an existing file makes ext4 start writing the new file
/// out at once (its `auto_da_alloc` guard against empty files after a crash), which cost each
/// entry 2.5 times the whole write on this machine and gave the SD card a write per entry
/// instead of one per writeback period. A reader still holding the old file keeps it whole.
/// Where there is no file yet, or the filesystem cannot exchange, a plain rename does it.
fn replace(temporary: &Path, path: &Path, text: &str) -> io::Result<()> {
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(FILE_MODE)
            // Never through a link somebody left in a shared directory.
            .custom_flags(libc::O_NOFOLLOW)
            .open(temporary)?;
        file.set_permissions(Permissions::from_mode(FILE_MODE))?;
        file.write_all(text.as_bytes())?;
        drop(file);
        let cwd = rustix::fs::CWD;
        match rustix::fs::renameat_with(cwd, temporary, cwd, path, RenameFlags::EXCHANGE) {
            Ok(()) => fs::remove_file(temporary),
            Err(_) => fs::rename(temporary, path),
        }
    })();
    if written.is_err() {
        let _ = fs::remove_file(temporary);
    }
    written
}

impl Output for MetricsFile {
    fn name(&self) -> String {
        escape_path(&self.path)
    }

    /// A failure is said once, not queued: the next write carries every count anyway.
    fn write(&mut self, entry: &Entry) -> Delivery {
        self.counts.count(entry);
        self.rewrite();
        Delivery::Nothing
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{DateTime, FixedOffset};

    use super::*;
    use crate::decide::{Episodes, Event, ReportDue, Rules};
    use crate::parse::ps::PsError;
    use crate::parse::top::TopError;
    use crate::report::{Context, Evidence, Missing, MoreOomKills, OomKillsCounted, Recovered};
    use crate::sample::MemSample;

    fn at(seconds: i64) -> DateTime<FixedOffset> {
        DateTime::from_timestamp(seconds, 0).unwrap().fixed_offset()
    }

    fn memory() -> MemSample {
        MemSample {
            total_kib: 1000,
            available_kib: 100,
            cgroup_limit: false,
        }
    }

    const PS: &[u8] = b"USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n\
        root 1 0.0 0.1 1000 500 ? Ss 10:00 0:01 init\n";
    const TOP: &[u8] = b"top - 1\n%Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n";

    fn report(due: ReportDue, seconds: i64, ps_ok: bool, top_ok: bool) -> Entry {
        Entry::Report(Box::new(Report {
            time: at(seconds),
            occasion: Occasion::Incident {
                due,
                threshold_percent: 80.0,
                urgent_percent: Some(95.0),
            },
            memory: memory(),
            context: Context::default(),
            evidence: Evidence {
                top: if top_ok {
                    Ok(crate::parse::top::parse(TOP).unwrap())
                } else {
                    Err(Missing::Top(TopError::Empty))
                },
                ps: if ps_ok {
                    Ok(crate::parse::ps::parse(PS).unwrap())
                } else {
                    Err(Missing::Ps(PsError::Empty))
                },
                details: None,
                notes: Vec::new(),
            },
        }))
    }

    fn recovered(incident: u32) -> Entry {
        Entry::Recovered(Recovered {
            time: at(0),
            incident,
            memory: memory(),
            high_for: Duration::from_secs(1),
        })
    }

    fn s(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    fn rules() -> Rules {
        Rules {
            threshold_percent: 80.0,
            sustain: s(15),
            repeat: s(600),
            urgent_percent: Some(95.0),
        }
    }

    fn due(event: Option<Event>) -> ReportDue {
        match event {
            Some(Event::Report(due)) => due,
            other => panic!("no report: {other:?}"),
        }
    }

    /// The file at start, exactly: every sample present, at 0.
    #[test]
    fn the_file_at_start() {
        let expected = format!(
            "\
# HELP memory_monitor_reports_total Reports written since memory-monitor started, by why each was due.
# TYPE memory_monitor_reports_total counter
memory_monitor_reports_total{{reason=\"sustained\"}} 0
memory_monitor_reports_total{{reason=\"urgent\"}} 0
memory_monitor_reports_total{{reason=\"repeat\"}} 0
memory_monitor_reports_total{{reason=\"oom-kill\"}} 0
# HELP memory_monitor_episodes_total Episodes (numbered incidents) reported since memory-monitor started.
# TYPE memory_monitor_episodes_total counter
memory_monitor_episodes_total 0
# HELP memory_monitor_oom_kills_total OOM kills that entries recorded since memory-monitor started.
# TYPE memory_monitor_oom_kills_total counter
memory_monitor_oom_kills_total 0
# HELP memory_monitor_capture_failures_total Reports without ps's or top's part since memory-monitor started.
# TYPE memory_monitor_capture_failures_total counter
memory_monitor_capture_failures_total{{program=\"ps\"}} 0
memory_monitor_capture_failures_total{{program=\"top\"}} 0
# HELP memory_monitor_high 1 from the first report of an episode of high memory to its recovered entry, else 0.
# TYPE memory_monitor_high gauge
memory_monitor_high 0
# HELP memory_monitor_last_report_timestamp_seconds When the last report was written, in Unix time; 0 before the first.
# TYPE memory_monitor_last_report_timestamp_seconds gauge
memory_monitor_last_report_timestamp_seconds 0
# HELP memory_monitor_info The version of memory-monitor that writes this file.
# TYPE memory_monitor_info gauge
memory_monitor_info{{version=\"{}\"}} 1
",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(Counts::default().render(), expected);
    }

    /// The gauge follows the episodes as the rules make them: 1 from an episode's first report
    /// to its recovered entry, through repeats and kills; a kill's report while memory is not
    /// high counts an episode but leaves it at 0, as no recovered entry will end that one.
    #[test]
    fn high_follows_the_episode_from_its_first_report_to_its_recovery() {
        let mut machine = Episodes::new(rules());
        let mut counts = Counts::default();
        // High, not yet reported: still 0.
        assert_eq!(machine.observe(s(0), 90.0), None);
        assert!(!counts.high);
        counts.count(&report(due(machine.observe(s(15), 90.0)), 100, true, true));
        assert!(counts.high);
        counts.count(&report(due(machine.observe(s(615), 90.0)), 700, true, true));
        counts.count(&report(machine.oom_kill(s(620)), 705, true, true));
        assert!(counts.high);
        let Some(Event::Recovered { incident, .. }) = machine.observe(s(623), 50.0) else {
            panic!("no recovery");
        };
        counts.count(&recovered(incident));
        assert!(!counts.high);
        // A kill while calm: an episode of its own, never recovered.
        let calm = machine.oom_kill(s(700));
        assert!(calm.starts_episode() && !calm.while_high());
        counts.count(&report(calm, 800, true, true));
        assert!(!counts.high);
        // High, not yet reported, then a kill: the kill's report is the episode's first.
        assert_eq!(machine.observe(s(703), 90.0), None);
        let first = machine.oom_kill(s(706));
        assert!(first.starts_episode() && first.while_high());
        counts.count(&report(first, 900, false, true));
        assert!(counts.high);
        let Some(Event::Recovered { incident, .. }) = machine.observe(s(709), 50.0) else {
            panic!("no recovery");
        };
        counts.count(&recovered(incident));
        assert_eq!(
            counts,
            Counts {
                sustained: 1,
                urgent: 0,
                repeat: 1,
                after_kill: 3,
                episodes: 3,
                oom_kills: 0,
                ps_failures: 1,
                top_failures: 0,
                high: false,
                last_report: Some(900),
            }
        );
    }

    #[test]
    fn every_kill_an_entry_stands_for_is_counted() {
        let mut counts = Counts::default();
        counts.count(&Entry::MoreOomKills(MoreOomKills {
            time: at(0),
            count: 7,
            names: vec![(b"hog".to_vec(), 7)],
            before_start: false,
        }));
        counts.count(&Entry::OomKillsCounted(OomKillsCounted {
            time: at(0),
            count: 3,
            why: "no log".into(),
            before_start: true,
        }));
        assert_eq!(counts.oom_kills, 10);
        assert!(
            counts
                .render()
                .contains("\nmemory_monitor_oom_kills_total 10\n")
        );
    }

    #[test]
    fn a_report_counts_its_reason_its_failures_and_its_time() {
        let mut counts = Counts::default();
        let urgent = ReportDue {
            incident: 1,
            high_for: Duration::ZERO,
            since_first_report: None,
            reason: Reason::Urgent,
        };
        counts.count(&report(urgent, 1_790_000_000, false, false));
        let text = counts.render();
        for line in [
            "memory_monitor_reports_total{reason=\"urgent\"} 1",
            "memory_monitor_reports_total{reason=\"sustained\"} 0",
            "memory_monitor_episodes_total 1",
            "memory_monitor_capture_failures_total{program=\"ps\"} 1",
            "memory_monitor_capture_failures_total{program=\"top\"} 1",
            "memory_monitor_high 1",
            "memory_monitor_last_report_timestamp_seconds 1790000000",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
    }

    #[test]
    fn label_values_are_quoted_as_the_format_says() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    /// The file is replaced, not written over: a reader holding the old one keeps it whole.
    #[test]
    fn the_file_is_replaced_whole_and_readable_by_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory-monitor.prom");
        let mut file = MetricsFile::start(&path);
        let old = fs::File::open(&path).unwrap();
        file.write(&recovered(1));
        file.write(&report(due_sustained(), 5, true, true));
        let mut before = String::new();
        io::Read::read_to_string(&mut &old, &mut before).unwrap();
        assert_eq!(before, Counts::default().render());
        assert_eq!(fs::read_to_string(&path).unwrap(), file.counts.render());
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["memory-monitor.prom"], "no temporary file left");
    }

    /// A directory that is missing, then made: nothing stops, and the next entry writes it.
    #[test]
    fn a_missing_directory_is_tried_again_at_the_next_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later/memory-monitor.prom");
        let mut file = MetricsFile::start(&path);
        assert!(file.failing);
        file.write(&recovered(1));
        assert!(file.failing);
        fs::create_dir(dir.path().join("later")).unwrap();
        file.write(&recovered(1));
        assert!(!file.failing);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            Counts::default().render()
        );
    }

    fn due_sustained() -> ReportDue {
        ReportDue {
            incident: 1,
            high_for: s(15),
            since_first_report: None,
            reason: Reason::Sustained,
        }
    }
}
