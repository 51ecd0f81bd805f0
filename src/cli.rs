//! The command line: parse and validate flags (or their MEMORY_MONITOR_* variables), then hand
//! over to the daemon or take one snapshot. Defaults come from [`crate::defaults`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};

use crate::capture::{OUTPUT_LIMIT, Tools};
use crate::daemon::{self, HookSettings, Settings};
use crate::decide::Rules;
use crate::defaults;
use crate::history::incidents::{self, Since, parse_now, parse_since};
use crate::proc::MemoryScope;
use crate::say;
use crate::snapshot;
use crate::text::duration::parse_duration;

/// Watches memory use and, when it stays high, logs what every process was doing.
#[derive(Parser, Debug)]
#[command(
    name = "memory-monitor",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the monitoring loop in the foreground (the default).
    Run(RunArgs),
    /// Capture one report now, whatever the memory use, and print it.
    Snapshot(CaptureArgs),
    /// Print incident N's reports and details from the logs, rotated files included.
    #[command(after_help = SHOW_EXAMPLE)]
    Show(ShowArgs),
    /// List the episodes of high memory of the last days, from incidents.jsonl and its rotated
    /// files.
    #[command(after_help = INCIDENTS_EXAMPLE)]
    Incidents(IncidentsArgs),
}

const SHOW_EXAMPLE: &str = "\
Example:
  memory-monitor show 3    incident 3 of incidents.log and details.log, the latest run's

Incident numbers restart at 1 each time the daemon starts; when several runs had an incident 3,
the latest is shown and stderr says when the others began.";

#[derive(Args, Debug)]
struct ShowArgs {
    /// The incident's number, as in `incident N` in the logs.
    #[arg(value_name = "N", value_parser = parse_incident)]
    incident: u64,
    /// Where incidents.log and details.log are.
    #[arg(
        long,
        value_name = "DIR",
        env = "MEMORY_MONITOR_LOG_DIR",
        default_value = defaults::LOG_DIR
    )]
    log_dir: PathBuf,
}

const INCIDENTS_EXAMPLE: &str = "\
Examples:
  memory-monitor incidents                       the last 7 days
  memory-monitor incidents --since 2026-11-01    since that day's midnight, local time
  memory-monitor incidents --since 4w --json     the last 4 weeks, as one JSON object

  $ memory-monitor incidents
  3 episodes since 2026-11-25 14:00:00 +01:00 (7d) in /var/log/memory-monitor/incidents.jsonl

  began                       lasted  RAM max  reports  OOM kills  biggest at the worst report
  2026-11-28 21:40:00 +01:00  12m       91.5%        2          0  java 2.14 GiB, sync.py 512.41 MiB, Xorg 95.12 MiB
  2026-11-30 02:10:01 +01:00  48m56s    97.2%        2          1  java 2.31 GiB, sync.py 512.41 MiB, Xorg 95.12 MiB
  2026-12-02 12:59:40 +01:00  20s+      91.0%        1          0  sync.py 858.31 MiB, sync.py 512.41 MiB, Xorg 95.12 MiB
  (+: no recovered line: open when the logs end, or the daemon stopped first)

  Biggest most often: java (2 of 3 episodes), sync.py (1)
  2026-11-25 ...1.1.1 2026-12-02  (a day a cell: . none, 1-9 episodes, + more)";

#[derive(Args, Debug)]
struct IncidentsArgs {
    /// The period: a time back from now (12h, 7d, 4w) or a day (2026-11-01, from its midnight,
    /// local time).
    #[arg(long, value_name = "WHEN", default_value = "7d", value_parser = parse_since)]
    since: Since,
    /// Write the same as one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Where incidents.jsonl and its rotated files are.
    #[arg(
        long,
        value_name = "DIR",
        env = "MEMORY_MONITOR_LOG_DIR",
        default_value = defaults::LOG_DIR
    )]
    log_dir: PathBuf,
    /// The time taken as now, RFC 3339 (for tests: a fixed period).
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    now: Option<chrono::DateTime<chrono::FixedOffset>>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Memory is high when more than this percentage is in use (0 < x < 100).
    #[arg(long, value_name = "PERCENT", env = "MEMORY_MONITOR_THRESHOLD",
        allow_negative_numbers = true, default_value = defaults::THRESHOLD, value_parser = parse_threshold)]
    threshold: f64,
    /// How long memory must stay high before the first report (e.g. 15s, 1m30s).
    #[arg(long, value_name = "DURATION", env = "MEMORY_MONITOR_SUSTAIN",
        allow_hyphen_values = true, default_value = defaults::SUSTAIN, value_parser = parse_duration)]
    sustain: Duration,
    /// How often to sample /proc/meminfo (> 0).
    #[arg(long, value_name = "DURATION", env = "MEMORY_MONITOR_INTERVAL",
        allow_hyphen_values = true, default_value = defaults::INTERVAL, value_parser = parse_positive_duration)]
    interval: Duration,
    /// How often to report again while memory stays high (> 0).
    #[arg(long, value_name = "DURATION", env = "MEMORY_MONITOR_REPEAT",
        allow_hyphen_values = true, default_value = defaults::REPEAT, value_parser = parse_positive_duration)]
    repeat: Duration,
    /// A sample above this percentage reports at once, without waiting for --sustain (above
    /// --threshold; off to turn it off).
    #[arg(long, value_name = "PERCENT", env = "MEMORY_MONITOR_URGENT",
        allow_negative_numbers = true, default_value = defaults::URGENT, value_parser = parse_urgent)]
    urgent: Urgent,
    /// Where incidents.log, details.log and incidents.jsonl are written.
    #[arg(
        long,
        value_name = "DIR",
        env = "MEMORY_MONITOR_LOG_DIR",
        default_value = defaults::LOG_DIR
    )]
    log_dir: PathBuf,
    /// Whether to write incidents.jsonl beside incidents.log: each of its entries as one line of
    /// JSON.
    #[arg(long, value_name = "on|off", env = "MEMORY_MONITOR_JSON", action = clap::ArgAction::Set,
        default_value = defaults::JSON, value_parser = parse_on_off)]
    json: bool,
    /// A program to run for every entry of incidents.log, with the entry on its stdin and
    /// MEMORY_MONITOR_* variables (off for none).
    #[arg(long, value_name = "PROGRAM", env = "MEMORY_MONITOR_ON_EVENT",
        default_value = defaults::ON_EVENT, value_parser = parse_on_event)]
    on_event: OnEvent,
    /// How long the --on-event program may run before it is killed with what it started.
    #[arg(long, value_name = "DURATION", env = "MEMORY_MONITOR_HOOK_TIMEOUT",
        allow_hyphen_values = true, default_value = defaults::HOOK_TIMEOUT, value_parser = parse_positive_duration)]
    hook_timeout: Duration,
    /// A file to write the counts of reports, episodes and OOM kills to, in Prometheus's text
    /// format, for node_exporter's textfile collector (off for none).
    #[arg(long, value_name = "PATH", env = "MEMORY_MONITOR_METRICS_FILE",
        default_value = defaults::METRICS_FILE, value_parser = parse_metrics_file)]
    metrics_file: MetricsFile,
    /// Where journald's socket is, for entries sent to the journal under systemd (for tests).
    #[arg(long, value_name = "PATH", hide = true, default_value = defaults::JOURNAL_SOCKET)]
    journal_socket: PathBuf,
    #[command(flatten)]
    capture: CaptureArgs,
}

#[derive(Args, Debug)]
struct CaptureArgs {
    /// How many of the biggest processes get details (0 for none).
    #[arg(
        long,
        value_name = "N",
        env = "MEMORY_MONITOR_DETAILS",
        allow_negative_numbers = true,
        default_value = defaults::DETAILS,
        value_parser = parse_count
    )]
    details: usize,
    /// The procfs to read (for tests).
    #[arg(
        long,
        value_name = "DIR",
        env = "MEMORY_MONITOR_PROC_ROOT",
        default_value = defaults::PROC_ROOT
    )]
    proc_root: PathBuf,
    /// The sysfs whose fs/cgroup is read for units' memory and the memory scope (for tests).
    #[arg(
        long,
        value_name = "DIR",
        env = "MEMORY_MONITOR_SYS_ROOT",
        default_value = defaults::SYS_ROOT
    )]
    sys_root: PathBuf,
    /// What used% is of: the machine's RAM (host), the limit of the cgroup memory-monitor runs
    /// in (cgroup), or that cgroup's when its limit is below the RAM (auto).
    #[arg(long, value_name = "SCOPE", env = "MEMORY_MONITOR_MEMORY_SCOPE",
        default_value = defaults::MEMORY_SCOPE, value_parser = parse_memory_scope)]
    memory_scope: MemoryScope,
    /// The ps program.
    #[arg(
        long,
        value_name = "PATH",
        env = "MEMORY_MONITOR_PS_BIN",
        default_value = defaults::PS_BIN
    )]
    ps_bin: OsString,
    /// The top program.
    #[arg(
        long,
        value_name = "PATH",
        env = "MEMORY_MONITOR_TOP_BIN",
        default_value = defaults::TOP_BIN
    )]
    top_bin: OsString,
    /// Where the kernel's records of OOM kills are read (off to count them from /proc/vmstat).
    #[arg(long, value_name = "PATH", env = "MEMORY_MONITOR_KERNEL_LOG",
        default_value = defaults::KERNEL_LOG, value_parser = parse_kernel_log)]
    kernel_log: KernelLog,
    /// How long ps and top may run before they are killed.
    #[arg(long, value_name = "DURATION", env = "MEMORY_MONITOR_CAPTURE_TIMEOUT",
        allow_hyphen_values = true, default_value = defaults::CAPTURE_TIMEOUT, value_parser = parse_positive_duration)]
    capture_timeout: Duration,
}

fn parse_threshold(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number; give a percentage such as 80"))?;
    if value.is_finite() && value > 0.0 && value < 100.0 {
        Ok(value)
    } else {
        Err("must be a percentage above 0 and below 100, such as 80".into())
    }
}

/// `--urgent`: a percentage, or `off`.
#[derive(Clone, Copy, Debug)]
struct Urgent(Option<f64>);

fn parse_urgent(text: &str) -> Result<Urgent, String> {
    if text.trim() == "off" {
        return Ok(Urgent(None));
    }
    parse_threshold(text)
        .map(|percent| Urgent(Some(percent)))
        .map_err(|why| format!("{why}, or off"))
}

/// `--kernel-log`: a path, or `off`.
#[derive(Clone, Debug)]
struct KernelLog(Option<PathBuf>);

fn parse_kernel_log(text: &str) -> Result<KernelLog, String> {
    match text {
        "off" => Ok(KernelLog(None)),
        "" => Err("give the path of the kernel's log, such as /dev/kmsg, or off".into()),
        path => Ok(KernelLog(Some(PathBuf::from(path)))),
    }
}

/// `--on-event`: a program's path, or `off`.
#[derive(Clone, Debug)]
struct OnEvent(Option<PathBuf>);

fn parse_on_event(text: &str) -> Result<OnEvent, String> {
    match text {
        "off" => Ok(OnEvent(None)),
        "" => Err("give the path of a program to run on each entry, or off".into()),
        path => Ok(OnEvent(Some(PathBuf::from(path)))),
    }
}

/// `--metrics-file`: a file's path, or `off`.
#[derive(Clone, Debug)]
struct MetricsFile(Option<PathBuf>);

fn parse_metrics_file(text: &str) -> Result<MetricsFile, String> {
    let path = PathBuf::from(text);
    match text {
        "off" => Ok(MetricsFile(None)),
        _ if path.file_name().is_none() || text.ends_with('/') => Err(
            "give the path of a file, such as /var/lib/prometheus/node-exporter/memory-monitor.prom, or off"
                .into(),
        ),
        _ => Ok(MetricsFile(Some(path))),
    }
}

fn parse_on_off(text: &str) -> Result<bool, String> {
    match text.trim() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("must be on or off".into()),
    }
}

fn parse_memory_scope(text: &str) -> Result<MemoryScope, String> {
    match text {
        "auto" => Ok(MemoryScope::Auto),
        "host" => Ok(MemoryScope::Host),
        "cgroup" => Ok(MemoryScope::Cgroup),
        _ => Err("must be auto, host or cgroup".into()),
    }
}

fn parse_count(text: &str) -> Result<usize, String> {
    text.trim()
        .parse()
        .map_err(|_| "must be a whole number, 0 or more, such as 5".to_string())
}

fn parse_incident(text: &str) -> Result<u64, String> {
    match text.trim().parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be an incident's number, 1 or more, such as 3".into()),
    }
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        Err("must be longer than 0, such as 3s".into())
    } else {
        Ok(d)
    }
}

/// The command line as clap knows it, for the generated shell completions and man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs the command line's command; the program's `main`.
pub fn main() -> ExitCode {
    crate::output::stderr::prefix_levels(crate::output::journal::stream::stderr_is_journal());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) => {
            say!(Error, "memory-monitor: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        None => run(cli.run),
        Some(Command::Run(args)) => run(args),
        Some(Command::Snapshot(args)) => snapshot(&args),
        Some(Command::Show(args)) => crate::history::show::show(&args.log_dir, args.incident),
        Some(Command::Incidents(args)) => incidents::run(&incidents::Options {
            since: args.since,
            json: args.json,
            log_dir: args.log_dir,
            now: args.now,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            say!(Error, "memory-monitor: {message}");
            ExitCode::FAILURE
        }
    }
}

/// clap's first line (it adds usage and tips below) and a fix: clap's suggestion, or where to
/// look. When the flag was not on the command line, also which variable gave the value, since a
/// systemd EnvironmentFile is the usual source.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("invalid arguments");
    let mut line = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // "cannot be used with:" lists the culprits on the lines below.
    if line.ends_with(':') {
        let listed: Vec<&str> = lines
            .take_while(|l| l.starts_with(' '))
            .map(str::trim)
            .collect();
        line = format!("{} {}", line, listed.join(", "));
    }
    if let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) {
        let flag = arg.split(' ').next().unwrap_or_default();
        let on_command_line = std::env::args_os().any(|a| a.to_string_lossy().starts_with(flag));
        let variable = format!(
            "MEMORY_MONITOR_{}",
            flag.trim_start_matches('-')
                .replace('-', "_")
                .to_uppercase()
        );
        if !on_command_line && std::env::var_os(&variable).is_some() {
            line.push_str(&format!(" (from {variable})"));
        }
    }
    let suggested = match e.get(ContextKind::SuggestedArg) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => match e.get(ContextKind::SuggestedSubcommand) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            Some(ContextValue::Strings(s)) => s.first().cloned(),
            _ => None,
        },
    };
    let fix = match (e.kind(), suggested) {
        (_, Some(suggestion)) => format!("did you mean '{suggestion}'?"),
        // The value parsers' own messages say what a good value looks like.
        (ErrorKind::ValueValidation, None) => return line,
        // From clap's own list, so that every command added is named.
        (ErrorKind::InvalidSubcommand, None) => {
            let cli = command();
            let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
            format!("the commands are {} (run is the default)", names.join(", "))
        }
        // A command's own help, where its arguments and an example are: clap's usage line
        // names the command, then the arguments given or taken (`Usage: memory-monitor show
        // [OPTIONS] <N>`).
        (ErrorKind::MissingRequiredArgument, None) => {
            let command: Vec<&str> = rendered
                .lines()
                .find_map(|l| l.trim_start().strip_prefix("Usage: "))
                .unwrap_or("memory-monitor")
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect();
            format!("{} --help says what it takes", command.join(" "))
        }
        _ => "memory-monitor --help lists the options".into(),
    };
    format!("{line}; {fix}")
}

fn tools(args: &CaptureArgs) -> Tools {
    Tools {
        ps_bin: args.ps_bin.clone(),
        top_bin: args.top_bin.clone(),
        timeout: args.capture_timeout,
        output_limit: OUTPUT_LIMIT,
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    daemon::run(&Settings {
        rules: Rules {
            threshold_percent: args.threshold,
            sustain: args.sustain,
            repeat: args.repeat,
            urgent_percent: args.urgent.0,
        },
        interval: args.interval,
        log_dir: args.log_dir,
        json: args.json,
        details: args.capture.details,
        tools: tools(&args.capture),
        kernel_log: args.capture.kernel_log.0.clone(),
        proc_root: args.capture.proc_root,
        sys_root: args.capture.sys_root,
        memory_scope: args.capture.memory_scope,
        journal_socket: args.journal_socket,
        metrics_file: args.metrics_file.0,
        hook: args.on_event.0.map(|program| HookSettings {
            program,
            timeout: args.hook_timeout,
        }),
    })
}

fn snapshot(args: &CaptureArgs) -> Result<(), String> {
    snapshot::take(
        tools(args),
        &args.proc_root,
        &args.sys_root,
        args.memory_scope,
        args.details,
        args.kernel_log.0.as_deref(),
    )
}
