//! incidents.jsonl: each entry of incidents.log again, as one JSON object on one line, for the
//! collectors that tail a JSON file (Vector, Fluent Bit, Grafana Alloy). It is a [`TextLog`], so
//! each line goes out in the write of its entry, whole or not at all, and waits in memory as the
//! text logs' entries do. Each file, and each run of the program, begins with a `start` object.
//!
//! Strings are escaped as the log escapes them (`\xNN`) before JSON escapes them its way;
//! numbers are numbers, sizes are bytes, durations seconds, times RFC 3339 with the offset.
//! Every field, with its unit: docs/log-format.md, "incidents.jsonl"; the schema:
//! docs/incidents.schema.json.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, SecondsFormat};
use serde::Serialize;

use super::TextLog;
use crate::parse::pressure::Pressure;
use crate::parse::ps::{PsTable, Tenths};
use crate::proc::{Measured, TMPFS_MOUNTS, TmpfsUse, UNITS, UnitUse};
use crate::render::facts::{event_of, reason_word};
use crate::render::table::first;
use crate::report::{
    BootEnding, Context, Entry, KillUser, Limit, MoreOomKills, Occasion, OomKill, OomKillsCounted,
    PreviousBoot, Recovered, Report,
};
use crate::sample::{Breakdown, MemSample, TrendLine};
use crate::text::escape::escape;

/// The version of the objects' format, in every object. It goes up whenever a field is added,
/// changes or goes away; docs/incidents.schema.json describes exactly this version.
pub const SCHEMA: u32 = 1;

/// How many of the biggest processes a report's `top` lists.
pub const TOP: usize = 10;

/// The log, with what its `start` objects say.
#[derive(Clone, Debug)]
pub struct IncidentsJsonl {
    host: String,
    pid: u32,
    started: String,
    settings: StartSettings,
}

/// The settings a `start` object carries, as the program runs with them (the daemon fills
/// them in).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StartSettings {
    pub threshold_percent: f64,
    pub sustain_seconds: f64,
    pub interval_seconds: f64,
    pub repeat_seconds: f64,
    /// `None`: off, or not above the threshold (the program then runs without it).
    pub urgent_percent: Option<f64>,
    pub log_dir: String,
    pub on_event: Option<String>,
    /// `None` without a hook.
    pub hook_timeout_seconds: Option<f64>,
    pub metrics_file: Option<String>,
    pub details: usize,
    pub capture_timeout_seconds: f64,
    pub kernel_log: Option<String>,
    pub memory_scope: &'static str,
    pub proc_root: String,
    pub sys_root: String,
    pub ps_bin: String,
    pub top_bin: String,
}

impl IncidentsJsonl {
    /// `host` as it is to be written (escaped); `pid` and `started` are the program's.
    pub fn new(
        host: String,
        pid: u32,
        started: DateTime<FixedOffset>,
        settings: StartSettings,
    ) -> IncidentsJsonl {
        IncidentsJsonl {
            host,
            pid,
            started: started.to_rfc3339_opts(SecondsFormat::Secs, false),
            settings,
        }
    }

    /// The daemon's log: this machine, this process, started now.
    pub fn of_this_process(settings: StartSettings) -> IncidentsJsonl {
        let host = rustix::system::uname();
        IncidentsJsonl::new(
            escape(host.nodename().to_bytes()),
            std::process::id(),
            Local::now().fixed_offset(),
            settings,
        )
    }

    /// The `start` object, begun at `now`: to the millisecond, so that no two files begin with
    /// the same line (a shipper such as Vector knows a file by a checksum of its first line).
    pub fn start_line(&self, now: DateTime<FixedOffset>) -> Option<String> {
        to_line(&Line {
            time: now.to_rfc3339_opts(SecondsFormat::Millis, false),
            host: &self.host,
            event: "start",
            schema: SCHEMA,
            body: Start {
                version: env!("CARGO_PKG_VERSION"),
                pid: self.pid,
                started: &self.started,
                settings: &self.settings,
            },
        })
    }

    /// The object that says `dropped` earlier entries were dropped, at `now`.
    pub fn dropped_line(&self, now: DateTime<FixedOffset>, dropped: usize) -> String {
        to_line(&Line {
            time: now.to_rfc3339_opts(SecondsFormat::Secs, false),
            host: &self.host,
            event: "dropped",
            schema: SCHEMA,
            body: Dropped { dropped },
        })
        // Not reached (see `to_line`); still one line of JSON, and the count.
        .unwrap_or_else(|| format!("{{\"event\":\"dropped\",\"dropped\":{dropped}}}\n"))
    }

    /// `entry` as one line of JSON, ending in a newline.
    pub fn line(&self, entry: &Entry) -> Option<String> {
        match entry {
            Entry::Report(report) => self.object(entry, report_body(report)),
            Entry::Recovered(recovered) => self.object(entry, recovered_body(recovered)),
            Entry::OomKill(kill) => self.object(entry, kill_body(kill)),
            Entry::MoreOomKills(more) => self.object(entry, more_body(more)),
            Entry::OomKillsCounted(counted) => self.object(entry, counted_body(counted)),
            Entry::PreviousBoot(previous) => self.object(entry, previous_boot_body(previous)),
        }
    }

    fn object(&self, entry: &Entry, body: impl Serialize) -> Option<String> {
        to_line(&Line {
            time: time_of(entry),
            host: &self.host,
            event: event_of(entry),
            schema: SCHEMA,
            body,
        })
    }
}

impl TextLog for IncidentsJsonl {
    const FILE_NAME: &'static str = "incidents.jsonl";

    fn render(&self, entry: &Entry) -> Option<String> {
        self.line(entry)
    }

    fn file_start(&self) -> Option<String> {
        self.start_line(Local::now().fixed_offset())
    }

    fn dropped(&self, dropped: usize) -> String {
        self.dropped_line(Local::now().fixed_offset(), dropped)
    }
}

/// `value` as one line. serde_json fails only on a map whose keys are not strings, or a type
/// whose own serializing fails; these objects have neither.
fn to_line(value: &impl Serialize) -> Option<String> {
    let mut line = serde_json::to_string(value).ok()?;
    line.push('\n');
    Some(line)
}

/// What every object begins with.
#[derive(Serialize)]
struct Line<'a, B> {
    time: String,
    host: &'a str,
    event: &'static str,
    schema: u32,
    #[serde(flatten)]
    body: B,
}

#[derive(Serialize)]
struct Start<'a> {
    version: &'static str,
    pid: u32,
    started: &'a str,
    settings: &'a StartSettings,
}

#[derive(Serialize)]
struct Dropped {
    dropped: usize,
}

#[derive(Serialize)]
struct ReportBody {
    incident: Option<u32>,
    reason: Option<&'static str>,
    new_episode: bool,
    high_for_seconds: Option<f64>,
    since_first_report_seconds: Option<f64>,
    threshold_percent: Option<f64>,
    urgent_percent: Option<f64>,
    #[serde(flatten)]
    ram: Ram,
    cpu_percent: Option<f64>,
    cpu_error: Option<String>,
    memory: Option<Parts>,
    pressure: Option<PressureFigures>,
    trend: Option<Trend>,
    grew_since: Option<String>,
    grew: Option<Vec<Grower>>,
    tmpfs: Vec<Tmpfs>,
    units: Vec<Unit>,
    process_count: Option<usize>,
    top: Option<Vec<TopProcess>>,
    top_error: Option<String>,
    notes: Vec<String>,
}

/// Memory in use, as the header says it.
#[derive(Serialize)]
struct Ram {
    ram_percent: f64,
    ram_used_bytes: u64,
    ram_total_bytes: u64,
    memory_scope: &'static str,
}

#[derive(Serialize)]
struct Parts {
    processes_bytes: u64,
    page_cache_bytes: u64,
    shared_bytes: u64,
    kernel_bytes: u64,
    free_bytes: u64,
    other_bytes: u64,
    swap_used_bytes: Option<u64>,
    swap_total_bytes: Option<u64>,
}

#[derive(Serialize)]
struct PressureFigures {
    some_avg10_percent: f64,
    full_avg10_percent: Option<f64>,
    some_avg60_percent: f64,
    full_avg60_percent: Option<f64>,
}

#[derive(Serialize)]
struct Trend {
    window_seconds: f64,
    low_percent: f64,
    high_percent: f64,
    cells_percent: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct Grower {
    pid: u32,
    name: Option<String>,
    bytes: u64,
    new: bool,
}

#[derive(Serialize)]
struct Tmpfs {
    mount: String,
    bytes: u64,
}

#[derive(Serialize)]
struct Unit {
    name: String,
    cgroup: String,
    bytes: u64,
    limit_bytes: Option<u64>,
    processes: u32,
    measured: &'static str,
}

#[derive(Serialize)]
struct TopProcess {
    pid: u32,
    user: String,
    rss_bytes: Option<u64>,
    vsz_bytes: Option<u64>,
    mem_percent: Option<f64>,
    cpu_percent: Option<f64>,
    command: String,
    unit: Option<String>,
}

#[derive(Serialize)]
struct RecoveredBody {
    incident: u32,
    high_for_seconds: f64,
    #[serde(flatten)]
    ram: Ram,
}

#[derive(Serialize)]
struct KillBody {
    kills: u64,
    before_start: bool,
    victim: Option<Victim>,
    names: Option<Vec<KilledName>>,
    names_unknown: Option<String>,
}

#[derive(Serialize)]
struct Victim {
    pid: u32,
    name: String,
    uid: Option<u32>,
    user: Option<String>,
    anon_rss_bytes: u64,
    file_rss_bytes: u64,
    shmem_rss_bytes: u64,
    constraint: &'static str,
    cgroup: Option<String>,
    /// SPEC.md lists it with the victim; the line's own `before_start` says it for counts too.
    before_start: bool,
}

#[derive(Serialize)]
struct KilledName {
    name: String,
    kills: u64,
}

fn time_of(entry: &Entry) -> String {
    let time = match entry {
        Entry::Report(report) => report.time,
        Entry::Recovered(recovered) => recovered.time,
        Entry::OomKill(kill) => kill.time,
        Entry::MoreOomKills(more) => more.time,
        Entry::OomKillsCounted(counted) => counted.time,
        Entry::PreviousBoot(previous) => previous.time,
    };
    time.to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[derive(Serialize)]
struct PreviousBootBody {
    incident: u32,
    ended: &'static str,
    high_since: String,
    last_report: String,
    ram_percent: Option<f64>,
    evidence: Vec<String>,
}

fn previous_boot_body(previous: &PreviousBoot) -> PreviousBootBody {
    let rfc3339 = |time: &DateTime<FixedOffset>| time.to_rfc3339_opts(SecondsFormat::Secs, false);
    PreviousBootBody {
        incident: previous.incident,
        ended: match previous.ending {
            BootEnding::Abrupt => "abruptly",
            BootEnding::ShutDown => "shut-down",
        },
        high_since: rfc3339(&previous.high_since),
        last_report: rfc3339(&previous.last_report),
        ram_percent: previous.used_percent.map(as_shown),
        evidence: previous.evidence.clone(),
    }
}

fn report_body(report: &Report) -> ReportBody {
    let (incident, reason, new_episode, high_for, since_first, threshold, urgent) =
        match report.occasion {
            Occasion::Incident {
                due,
                threshold_percent,
                urgent_percent,
            } => (
                Some(due.incident),
                Some(reason_word(due.reason)),
                due.starts_episode(),
                Some(seconds(due.high_for)),
                due.since_first_report.map(seconds),
                Some(threshold_percent),
                urgent_percent,
            ),
            Occasion::Snapshot => (None, None, false, None, None, None, None),
        };
    let table = report.evidence.ps.as_ref().ok();
    let Context {
        trend,
        growth,
        breakdown,
        pressure,
        tmpfs,
        units,
    } = &report.context;
    ReportBody {
        incident,
        reason,
        new_episode,
        high_for_seconds: high_for,
        since_first_report_seconds: since_first,
        threshold_percent: threshold,
        urgent_percent: urgent,
        ram: ram(&report.memory),
        cpu_percent: report
            .cpu_busy()
            .map(|busy| as_shown(busy.clamp(0.0, 100.0))),
        cpu_error: report.cpu_problem(),
        memory: breakdown.as_ref().map(parts),
        pressure: pressure.as_ref().map(pressure_figures),
        trend: trend.as_ref().map(trend_figures),
        grew_since: growth
            .as_ref()
            .map(|g| g.since.to_rfc3339_opts(SecondsFormat::Secs, false)),
        grew: growth.as_ref().map(|g| {
            g.grew
                .iter()
                .map(|grew| Grower {
                    pid: grew.pid,
                    // Empty when the process ended before its name was read.
                    name: (!grew.name.is_empty()).then(|| escape(&grew.name)),
                    bytes: bytes(grew.kib),
                    new: grew.new,
                })
                .collect()
        }),
        tmpfs: tmpfs.iter().take(TMPFS_MOUNTS).map(tmpfs_figures).collect(),
        units: units.iter().take(UNITS).map(unit_figures).collect(),
        process_count: table.map(PsTable::process_count),
        top: table.map(|table| top(report, table)),
        top_error: report.evidence.ps.as_ref().err().map(ToString::to_string),
        notes: report
            .evidence
            .notes
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// The first [`TOP`] rows of the report's table, in its order.
fn top(report: &Report, table: &PsTable) -> Vec<TopProcess> {
    first(table, TOP)
        .iter()
        .filter_map(|process| {
            let row = process.row();
            let pid = row.pid?;
            Some(TopProcess {
                pid,
                user: escape(row.user),
                rss_bytes: row.rss_kib.map(bytes),
                vsz_bytes: row.vsz_kib.map(bytes),
                mem_percent: row.mem.map(tenths),
                cpu_percent: row.cpu.map(tenths),
                command: escape(row.command),
                unit: unit_of(report, pid),
            })
        })
        .collect()
}

/// The unit of `pid`, where the report's details read it.
fn unit_of(report: &Report, pid: u32) -> Option<String> {
    let details = report.evidence.details.as_deref()?;
    let process = details.iter().find(|d| d.pid == pid)?;
    process.unit.as_ref().ok().map(|unit| escape(&unit.name))
}

fn ram(memory: &MemSample) -> Ram {
    Ram {
        ram_percent: as_shown(memory.used_percent()),
        ram_used_bytes: bytes(memory.used_kib()),
        ram_total_bytes: bytes(memory.total_kib),
        memory_scope: if memory.cgroup_limit {
            "cgroup"
        } else {
            "host"
        },
    }
}

fn parts(b: &Breakdown) -> Parts {
    Parts {
        processes_bytes: bytes(b.processes_kib),
        page_cache_bytes: bytes(b.page_cache_kib),
        shared_bytes: bytes(b.shared_kib),
        kernel_bytes: bytes(b.kernel_kib),
        free_bytes: bytes(b.free_kib),
        other_bytes: bytes(b.other_kib),
        swap_used_bytes: b.swap.map(|swap| bytes(swap.used_kib)),
        swap_total_bytes: b.swap.map(|swap| bytes(swap.total_kib)),
    }
}

fn pressure_figures(p: &Pressure) -> PressureFigures {
    PressureFigures {
        some_avg10_percent: p.some_avg10,
        full_avg10_percent: p.full_avg10,
        some_avg60_percent: p.some_avg60,
        full_avg60_percent: p.full_avg60,
    }
}

fn trend_figures(t: &TrendLine) -> Trend {
    Trend {
        window_seconds: seconds(t.window),
        low_percent: as_shown(t.low),
        high_percent: as_shown(t.high),
        cells_percent: t.cells.iter().map(|cell| cell.map(as_shown)).collect(),
    }
}

fn tmpfs_figures(t: &TmpfsUse) -> Tmpfs {
    Tmpfs {
        mount: escape(&t.mount),
        bytes: t.used_bytes,
    }
}

fn unit_figures(u: &UnitUse) -> Unit {
    Unit {
        name: escape(&u.unit.name),
        cgroup: escape(&u.unit.cgroup),
        bytes: u.bytes,
        limit_bytes: u.limit_bytes,
        processes: u.processes,
        measured: match u.measured {
            Measured::Cgroup => "cgroup",
            Measured::ProcessRss => "process-rss",
        },
    }
}

fn recovered_body(recovered: &Recovered) -> RecoveredBody {
    RecoveredBody {
        incident: recovered.incident,
        high_for_seconds: seconds(recovered.high_for),
        ram: ram(&recovered.memory),
    }
}

fn kill_body(kill: &OomKill) -> KillBody {
    let (uid, user) = match &kill.user {
        KillUser::Named { uid, name } => (Some(*uid), Some(escape(name))),
        // The log names a user without a passwd entry by the number, and so does `user`.
        KillUser::Uid(uid) => (Some(*uid), Some(uid.to_string())),
        KillUser::Unknown => (None, None),
    };
    let (constraint, cgroup) = match &kill.limit {
        Limit::SystemWide => ("system-wide", None),
        Limit::Cgroup(path) => ("cgroup", path.as_deref().map(escape)),
    };
    KillBody {
        kills: 1,
        before_start: kill.before_start,
        victim: Some(Victim {
            pid: kill.pid,
            name: escape(&kill.name),
            uid,
            user,
            anon_rss_bytes: bytes(kill.anon_rss_kib),
            file_rss_bytes: bytes(kill.file_rss_kib),
            shmem_rss_bytes: bytes(kill.shmem_rss_kib),
            constraint,
            cgroup,
            before_start: kill.before_start,
        }),
        names: None,
        names_unknown: None,
    }
}

fn more_body(more: &MoreOomKills) -> KillBody {
    KillBody {
        kills: more.count,
        before_start: more.before_start,
        victim: None,
        names: Some(
            more.names
                .iter()
                .map(|(name, kills)| KilledName {
                    name: escape(name),
                    kills: *kills,
                })
                .collect(),
        ),
        names_unknown: None,
    }
}

fn counted_body(counted: &OomKillsCounted) -> KillBody {
    KillBody {
        kills: counted.count,
        before_start: counted.before_start,
        victim: None,
        names: None,
        names_unknown: Some(escape(counted.why.as_bytes())),
    }
}

fn bytes(kib: u64) -> u64 {
    kib.saturating_mul(1024)
}

/// Seconds, to the millisecond, as the file gives every duration.
pub fn seconds(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

/// A percentage with the one decimal the logs show, so that the two agree to the digit.
fn as_shown(percent: f64) -> f64 {
    format!("{percent:.1}").parse().unwrap_or(percent)
}

/// ps's exact tenths: `12.3` is 123.
fn tenths(Tenths(tenths): Tenths) -> f64 {
    tenths as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::{Value, json};

    fn time() -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 22, 14, 3, 15)
            .unwrap()
    }

    fn settings() -> StartSettings {
        StartSettings {
            threshold_percent: 80.0,
            sustain_seconds: 15.0,
            interval_seconds: 3.0,
            repeat_seconds: 600.0,
            urgent_percent: Some(95.0),
            log_dir: "/var/log/memory-monitor".into(),
            on_event: None,
            hook_timeout_seconds: None,
            metrics_file: None,
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

    fn log() -> IncidentsJsonl {
        IncidentsJsonl::new("pi\\x1b".into(), 4242, time(), settings())
    }

    fn parsed(line: &str) -> Value {
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line}"
        );
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn a_kill_is_one_line_its_hostile_name_escaped_as_in_the_log() {
        let kill = OomKill {
            time: time(),
            pid: 66,
            name: b"x\n2026-11-22 | oom-kill\x1b[2J\xff\"q\\".to_vec(),
            user: KillUser::Uid(1234),
            anon_rss_kib: 1_593_835,
            file_rss_kib: 6_656,
            shmem_rss_kib: 0,
            limit: Limit::Cgroup(None),
            before_start: true,
        };
        let line = log().line(&Entry::OomKill(kill)).unwrap();
        assert!(!line.trim_end().chars().any(char::is_control), "{line}");
        let value = parsed(&line);
        assert_eq!(value["time"], "2026-11-22T14:03:15+01:00");
        assert_eq!(value["host"], "pi\\x1b");
        assert_eq!(
            (&value["event"], &value["schema"]),
            (&json!("oom-kill"), &json!(1))
        );
        assert_eq!(
            value["victim"],
            json!({
                "pid": 66,
                "name": "x\\x0a2026-11-22 | oom-kill\\x1b[2J\\xff\"q\\",
                "uid": 1234,
                "user": "1234",
                "anon_rss_bytes": 1_593_835u64 * 1024,
                "file_rss_bytes": 6_656 * 1024,
                "shmem_rss_bytes": 0,
                "constraint": "cgroup",
                "cgroup": null,
                "before_start": true,
            })
        );
        assert_eq!(
            (&value["kills"], &value["before_start"]),
            (&json!(1), &json!(true))
        );
    }

    #[test]
    fn the_start_object_carries_the_version_the_process_and_the_settings() {
        let now = time() + chrono::Duration::milliseconds(1234);
        let value = parsed(&log().start_line(now).unwrap());
        assert_eq!(value["time"], "2026-11-22T14:03:16.234+01:00");
        assert_eq!(value["event"], "start");
        assert_eq!(value["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            (&value["pid"], &value["started"]),
            (&json!(4242), &json!("2026-11-22T14:03:15+01:00"))
        );
        assert_eq!(value["settings"]["urgent_percent"], 95.0);
        assert_eq!(value["settings"]["on_event"], Value::Null);
        assert_eq!(
            serde_json::from_value::<serde_json::Map<String, Value>>(value["settings"].clone())
                .unwrap()
                .len(),
            17
        );
        let dropped = parsed(&log().dropped_line(time(), 7));
        assert_eq!(
            (&dropped["event"], &dropped["dropped"]),
            (&json!("dropped"), &json!(7))
        );
    }

    #[test]
    fn percentages_agree_with_the_logs_one_decimal_and_durations_are_seconds() {
        for percent in [0.0, 0.05, 0.25, 12.35, 83.249_999, 99.95, 100.0] {
            assert_eq!(
                as_shown(percent).to_string(),
                format!("{percent:.1}").trim_end_matches(".0"),
                "{percent}"
            );
        }
        assert_eq!(tenths(Tenths(1090)), 109.0);
        assert_eq!(tenths(Tenths(123)).to_string(), "12.3");
        assert_eq!(seconds(Duration::from_millis(15_012)), 15.012);
        assert_eq!(seconds(Duration::from_micros(2_999_999)), 2.999);
        assert_eq!(bytes(u64::MAX), u64::MAX, "saturates");
    }

    #[test]
    fn a_recovered_line_and_the_counts_of_kills() {
        let memory = MemSample {
            total_kib: 3_879_731,
            available_kib: 650_117,
            cgroup_limit: true,
        };
        let recovered = Entry::Recovered(Recovered {
            time: time(),
            incident: 3,
            memory,
            high_for: Duration::from_secs(75),
        });
        let value = parsed(&log().line(&recovered).unwrap());
        assert_eq!(value["ram_percent"], 83.2);
        assert_eq!(value["ram_used_bytes"], (3_879_731u64 - 650_117) * 1024);
        assert_eq!(value["memory_scope"], "cgroup");
        assert_eq!(value["high_for_seconds"], 75.0);

        let more = Entry::MoreOomKills(MoreOomKills {
            time: time(),
            count: 40,
            names: vec![(b"stress".to_vec(), 38), (b"t\x07ail".to_vec(), 2)],
            before_start: false,
        });
        let value = parsed(&log().line(&more).unwrap());
        assert_eq!(value["kills"], 40);
        assert_eq!(value["victim"], Value::Null);
        assert_eq!(value["names"][1], json!({"name": "t\\x07ail", "kills": 2}));
        let counted = Entry::OomKillsCounted(OomKillsCounted {
            time: time(),
            count: 3,
            why: "the kernel's log is not read (--kernel-log off)".into(),
            before_start: false,
        });
        let value = parsed(&log().line(&counted).unwrap());
        assert_eq!(value["kills"], 3);
        assert_eq!(value["names"], Value::Null);
        assert_eq!(
            value["names_unknown"],
            "the kernel's log is not read (--kernel-log off)"
        );
    }
}
