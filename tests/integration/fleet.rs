//! A fleet, end to end, with the real programs: three daemons play three hosts, each with its
//! own fake proc root, logs and metrics file in a textfile directory of its own; three real
//! node_exporters read those directories; one real Prometheus scrapes the three, with the
//! alerting rules of docs/memory-monitor.rules.yml. After incidents, recoveries and an OOM kill,
//! Prometheus's HTTP API must say what the three incidents.log files hold, and promtool takes
//! every version of the three metrics files the test saw written. Also: promtool takes the rules
//! and the README's scrape configuration.
//!
//! Everything listens on 127.0.0.1 only, on ports the kernel picked, and every process is a
//! child stopped on drop, so a failing test leaves nothing running.
//!
//! The fleet test takes about 8 s here (2 shared cores, debug build): mostly waiting for
//! Prometheus's start and its 1 s scrapes, before the incidents and after them.

use crate::util;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::inotify;

use util::FakeProc;
use util::daemon::{Daemon, Launch, report_count, set_used};
use util::kernel::{append, kernel_usec_now, kill_records};
use util::log::{MARKER, OOM_KILL, RECOVERED};

/// A program the test started: killed and reaped on drop, so nothing outlives the test.
struct Running {
    name: &'static str,
    child: Child,
    stderr: PathBuf,
}

impl Running {
    fn start(name: &'static str, command: &mut Command, stderr: PathBuf) -> Running {
        let file = std::fs::File::create(&stderr).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Running {
            name,
            child,
            stderr,
        }
    }

    /// Fails the test, with what the program said, if it has exited.
    fn check_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "{} exited ({status}):\n{}",
                self.name,
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now: the kernel picks it, and it is free again once the listener
/// is dropped. Another program could take it in between; the program started on it then fails
/// to listen, and says so.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` on 127.0.0.1:`port`: the status and the body. HTTP/1.0, so Go's server sends the
/// body whole, unchunked, and closes the connection.
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// Percent-encodes a query parameter: everything but the unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One element of an instant vector: its labels and its value.
#[derive(Debug)]
struct Sample {
    labels: Vec<(String, String)>,
    value: String,
}

impl Sample {
    fn label(&self, name: &str) -> &str {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v)
    }
}

/// The samples of `/api/v1/query`'s answer, read by hand (no JSON crate for the tests): each
/// result is `{"metric":{"name":"value",...},"value":[time,"value"]}`, and the label values
/// here hold no quotes, commas or braces.
fn parse_vector(body: &str) -> Vec<Sample> {
    assert!(
        body.starts_with(r#"{"status":"success","data":{"resultType":"vector""#),
        "not an instant vector: {body}"
    );
    body.split(r#"{"metric":{"#)
        .skip(1)
        .map(|result| {
            let (labels, rest) = result.split_once('}').unwrap();
            let labels = labels
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once(':').unwrap();
                    (
                        name.trim_matches('"').into(),
                        value.trim_matches('"').into(),
                    )
                })
                .collect();
            let value = rest.split_once(r#""value":["#).unwrap().1;
            let value = value.split_once(',').unwrap().1.split('"').nth(1).unwrap();
            Sample {
                labels,
                value: value.into(),
            }
        })
        .collect()
}

struct Prometheus {
    port: u16,
    running: Running,
}

impl Prometheus {
    /// `query` at `time` (Unix seconds), or now.
    fn query(&mut self, query: &str, time: Option<&str>) -> Vec<Sample> {
        self.running.check_alive();
        let mut path = format!("/api/v1/query?query={}", encode(query));
        if let Some(time) = time {
            path += &format!("&time={time}");
        }
        let (status, body) = get(self.port, &path).unwrap();
        assert_eq!(status, 200, "{query}: {body}");
        parse_vector(&body)
    }

    /// Until `/-/ready` answers 200: Prometheus has opened its storage and listens.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + util::patience(Duration::from_secs(30));
        while !get(self.port, "/-/ready").is_ok_and(|(status, _)| status == 200) {
            self.running.check_alive();
            assert!(Instant::now() < deadline, "Prometheus never got ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `query` as (instance, value), sorted by instance.
    fn by_instance(&mut self, query: &str) -> Vec<(String, String)> {
        let mut found: Vec<_> = self
            .query(query, None)
            .iter()
            .map(|s| (s.label("instance").to_string(), s.value.clone()))
            .collect();
        found.sort();
        found
    }

    /// Polls until `done` holds for `query`'s answer; fails with the last answer after
    /// `time` (under qemu the daemons are slower, Prometheus is not, and waiting costs
    /// nothing when all goes well).
    fn wait_for(
        &mut self,
        what: &str,
        query: &str,
        time: Duration,
        done: impl Fn(&[Sample]) -> bool,
    ) {
        let deadline = Instant::now() + util::patience(time);
        loop {
            let samples = self.query(query, None);
            if done(&samples) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {query} gives {samples:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// node_exporter's program: Debian's name, or upstream's.
fn node_exporter() -> Option<&'static str> {
    ["prometheus-node-exporter", "node_exporter"]
        .into_iter()
        .find(|p| util::on_path(p))
}

/// Whether Prometheus, promtool and node_exporter are there; says the test skips when not.
fn have_the_programs() -> Option<&'static str> {
    let exporter = node_exporter();
    if exporter.is_none() || !util::on_path("prometheus") || !util::on_path("promtool") {
        util::skip(
            "Prometheus, promtool and node_exporter",
            "sudo apt-get install --no-install-recommends prometheus prometheus-node-exporter",
        );
        return None;
    }
    exporter
}

const METRICS_FILE: &str = "memory-monitor.prom";

/// Every version of a metrics file that a thread of its own could read: at each time the file
/// is put in place (inotify's `IN_MOVED_TO`), it is read. A version replaced within a few
/// milliseconds, before the thread reads it, is not seen; the counts of writes say how many.
struct Versions {
    seen: Arc<Mutex<Vec<String>>>,
    /// Writes of the temporary file, closed: one per version written.
    written: Arc<Mutex<usize>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Versions {
    fn watch(dir: &Path) -> Versions {
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC).unwrap();
        // Deletions too: an event between two identical ones keeps inotify from merging them.
        let flags = inotify::WatchFlags::MOVED_TO
            | inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::DELETE;
        inotify::add_watch(&fd, dir, flags).unwrap();
        let (seen, written) = (Arc::default(), Arc::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, written, stop) =
                (Arc::clone(&seen), Arc::clone(&written), Arc::clone(&stop));
            let file = dir.join(METRICS_FILE);
            std::thread::spawn(move || Versions::follow(&fd, &file, &seen, &written, &stop))
        };
        Versions {
            seen,
            written,
            stop,
            thread: Some(thread),
        }
    }

    fn follow(
        fd: &OwnedFd,
        file: &Path,
        seen: &Mutex<Vec<String>>,
        written: &Mutex<usize>,
        stop: &AtomicBool,
    ) {
        let temporary = format!(".{METRICS_FILE}.tmp");
        let timeout = Timespec::try_from(Duration::from_millis(50)).unwrap();
        let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
        while !stop.load(Ordering::Relaxed) {
            let mut fds = [PollFd::new(fd, PollFlags::IN)];
            if rustix::event::poll(&mut fds, Some(&timeout)).unwrap_or(0) == 0 {
                continue;
            }
            let mut events = inotify::Reader::new(fd, &mut buf);
            let mut moved = false;
            loop {
                let event = events.next().unwrap();
                let name = event.file_name().map(|n| n.to_bytes().to_vec());
                let flags = event.events();
                if flags.contains(inotify::ReadFlags::MOVED_TO)
                    && name.as_deref() == Some(METRICS_FILE.as_bytes())
                {
                    moved = true;
                }
                if flags.contains(inotify::ReadFlags::CLOSE_WRITE)
                    && name.as_deref() == Some(temporary.as_bytes())
                {
                    *written.lock().unwrap() += 1;
                }
                if events.is_buffer_empty() {
                    break;
                }
            }
            if moved && let Ok(text) = std::fs::read_to_string(file) {
                let mut seen = seen.lock().unwrap();
                if seen.last() != Some(&text) {
                    seen.push(text);
                }
            }
        }
    }

    /// The versions seen, and how many were written.
    fn stop(mut self) -> (Vec<String>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        let seen = std::mem::take(&mut *self.seen.lock().unwrap());
        (seen, *self.written.lock().unwrap())
    }
}

/// One machine of the fleet: its fake /proc, its daemon, the textfile directory its metrics
/// file is in, and the node_exporter that reads that directory.
struct Host {
    name: &'static str,
    fake: FakeProc,
    textfile_dir: tempfile::TempDir,
    daemon: Daemon,
    exporter: Running,
    port: u16,
    versions: Versions,
}

impl Host {
    fn start(name: &'static str, exporter: &str) -> Host {
        let fake = FakeProc::new();
        set_used(&fake, 40);
        fake.set_oom_kills(5);
        let textfile_dir = tempfile::tempdir().unwrap();
        let versions = Versions::watch(textfile_dir.path());
        let file = textfile_dir.path().join(METRICS_FILE);
        // No repeats: a host left high keeps its counts, so the last scrape is the last word.
        let mut daemon = Launch::ordinary(&fake)
            .args(&["--repeat", "1h", "--metrics-file", file.to_str().unwrap()])
            .start();
        daemon.wait_for_start();
        let port = free_port();
        let exporter = Running::start(
            "node_exporter",
            Command::new(exporter)
                // Only the textfile collector: the machine's own metrics are not this test's.
                .arg("--collector.disable-defaults")
                .arg("--collector.textfile")
                .arg(format!(
                    "--collector.textfile.directory={}",
                    textfile_dir.path().display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}")),
            daemon.dir.path().join("node_exporter.stderr"),
        );
        Host {
            name,
            fake,
            textfile_dir,
            daemon,
            exporter,
            port,
            versions,
        }
    }

    fn metrics(&self) -> String {
        std::fs::read_to_string(self.textfile_dir.path().join("memory-monitor.prom")).unwrap()
    }

    /// Waits until the metrics file has `line`: the file is written after the log's entry.
    fn wait_for_metric(&mut self, line: &str) {
        let file = self.textfile_dir.path().join("memory-monitor.prom");
        self.daemon
            .wait_for(&format!("{line} in {}", file.display()), |_| {
                std::fs::read_to_string(&file).is_ok_and(|t| t.lines().any(|l| l == line))
            });
    }

    fn wait_for_recoveries(&mut self, n: usize) {
        self.daemon.wait_for(&format!("{n} recovered lines"), |d| {
            recoveries(&d.read("incidents.log")) >= n
        });
    }
}

fn recoveries(log: &str) -> usize {
    log.lines().filter(|l| RECOVERED.is_match(l)).count()
}

/// What a log holds, counted from its lines alone.
#[derive(Debug, PartialEq)]
struct Counts {
    reports: usize,
    episodes: usize,
    kills: u64,
    /// Whether an episode of high memory is open: a report not after a kill came after the
    /// last recovered line. A kill's report while memory was not high opens nothing, as
    /// docs/log-format.md says of `memory_monitor_high`.
    high: bool,
}

fn counts(log: &str) -> Counts {
    let mut high = false;
    let mut kills = 0;
    for line in log.lines() {
        if let Some(header) = util::log::header(line) {
            high |= !header.after_oom_kill;
        } else if RECOVERED.is_match(line) {
            high = false;
        } else if let Some(kill) = OOM_KILL.captures(line) {
            // One kill, or the n that a summary line stands for.
            kills += ["more", "counted"]
                .iter()
                .find_map(|n| kill.name(n))
                .map_or(1, |n| n.as_str().parse().unwrap());
        }
    }
    Counts {
        reports: report_count(log),
        episodes: log.lines().filter(|l| MARKER.is_match(l)).count(),
        kills,
        high,
    }
}

fn milliseconds(time: SystemTime) -> u128 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn rules_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/memory-monitor.rules.yml")
}

#[test]
fn prometheus_says_what_the_three_logs_hold() {
    let Some(exporter) = have_the_programs() else {
        return;
    };
    let mut hosts = ["a", "b", "c"].map(|name| Host::start(name, exporter));

    let dir = tempfile::tempdir().unwrap();
    let targets: String = hosts
        .iter()
        .map(|h| {
            format!(
                "      - targets: ['127.0.0.1:{}']\n        labels: {{instance: {}}}\n",
                h.port, h.name
            )
        })
        .collect();
    // Scrapes and rule evaluations every second, so the test waits seconds, not minutes.
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {}\n\
         scrape_configs:\n  - job_name: node\n    static_configs:\n{targets}",
        rules_file().display()
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let mut prometheus = Prometheus {
        port,
        running: Running::start(
            "prometheus",
            Command::new("prometheus")
                .current_dir(dir.path())
                .arg(format!(
                    "--config.file={}",
                    dir.path().join("prometheus.yml").display()
                ))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}")),
            dir.path().join("prometheus.stderr"),
        ),
    };

    prometheus.wait_until_ready();
    // Every series' first sample must be the file the daemon wrote at start, all 0, for
    // increase() below to be exact: wait for the three before any incident.
    prometheus.wait_for(
        "the first scrape of the three hosts",
        "memory_monitor_info",
        Duration::from_secs(30),
        |s| s.len() == 3,
    );
    for host in &mut hosts {
        host.exporter.check_alive();
    }

    // a: two episodes, each recovered. b: one episode, left high. c: an OOM kill while memory
    // was not high, which makes an episode of its own without making memory high.
    let [a, b, c] = &mut hosts;
    set_used(&b.fake, 90);
    append(
        &c.daemon.kernel_log,
        &kill_records(1000, kernel_usec_now(), 4242, "python3", 0, None),
    );
    c.fake.set_oom_kills(6);
    for episode in 1..=2 {
        set_used(&a.fake, 90);
        a.daemon.wait_for_reports(episode);
        set_used(&a.fake, 40);
        a.wait_for_recoveries(episode);
    }
    a.wait_for_metric("memory_monitor_episodes_total 2");
    a.wait_for_metric("memory_monitor_high 0");
    b.daemon.wait_for_reports(1);
    b.wait_for_metric("memory_monitor_high 1");
    c.daemon.wait_for_reports(1);
    c.wait_for_metric("memory_monitor_oom_kills_total 1");
    c.wait_for_metric("memory_monitor_reports_total{reason=\"oom-kill\"} 1");
    let logs: Vec<Counts> = hosts
        .iter()
        .map(|h| counts(&h.daemon.read("incidents.log")))
        .collect();
    // The scenario happened as planned, read from the logs alone.
    assert_eq!(
        logs,
        [
            Counts {
                reports: 2,
                episodes: 2,
                kills: 0,
                high: false
            },
            Counts {
                reports: 1,
                episodes: 1,
                kills: 0,
                high: true
            },
            Counts {
                reports: 1,
                episodes: 1,
                kills: 1,
                high: false
            },
        ]
    );

    // Nothing more is written now (no repeats, memory steady): a scrape that began after this
    // read every file's last version, since the file is renamed into place whole.
    let settled = milliseconds(SystemTime::now());
    let mut scraped_at: Vec<(String, String)> = Vec::new();
    prometheus.wait_for(
        "a scrape of each host after its last entry",
        "timestamp(memory_monitor_info)",
        Duration::from_secs(30),
        |s| {
            s.len() == 3
                && s.iter()
                    .all(|s| (s.value.parse::<f64>().unwrap() * 1000.0).round() as u128 > settled)
        },
    );
    for sample in prometheus.query("timestamp(memory_monitor_info)", None) {
        scraped_at.push((sample.label("instance").into(), sample.value));
    }
    scraped_at.sort();

    let total_episodes: usize = logs.iter().map(|l| l.episodes).sum();
    let found = prometheus.query("sum(memory_monitor_episodes_total)", None);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].value,
        total_episodes.to_string(),
        "new-log markers"
    );

    let per_host = |f: &dyn Fn(&Counts) -> String| -> Vec<(String, String)> {
        hosts
            .iter()
            .zip(&logs)
            .map(|(h, l)| (h.name.to_string(), f(l)))
            .collect()
    };
    assert_eq!(
        prometheus.by_instance("memory_monitor_high"),
        per_host(&|l| u8::from(l.high).to_string()),
    );
    assert_eq!(
        prometheus.by_instance("sum by (instance) (memory_monitor_reports_total)"),
        per_host(&|l| l.reports.to_string()),
    );
    assert_eq!(
        prometheus.by_instance("memory_monitor_oom_kills_total"),
        per_host(&|l| l.kills.to_string()),
    );

    // increase() extrapolates to the ends of its range, but not before a first sample of 0
    // (a counter is not taken below zero), nor past the last sample when evaluated at that
    // sample's own time: so, at each host's last scrape, it is the exact count of the run.
    for ((instance, time), log) in scraped_at.iter().zip(&logs) {
        let query =
            format!("sum(increase(memory_monitor_reports_total{{instance=\"{instance}\"}}[5m]))");
        let found = prometheus.query(&query, Some(time));
        assert_eq!(found.len(), 1, "{query}: {found:?}");
        assert_eq!(found[0].value, log.reports.to_string(), "{query} at {time}");
    }

    // The shipped rules, evaluated: c's kill fires at once; b's high memory waits its 5
    // minutes; a recovered, so it has nothing.
    let alerts = "ALERTS";
    let want = vec![
        (
            "MemoryMonitorHigh".to_string(),
            "b".to_string(),
            "pending".to_string(),
        ),
        ("MemoryMonitorOomKill".into(), "c".into(), "firing".into()),
    ];
    let found = |samples: &[Sample]| {
        let mut found: Vec<_> = samples
            .iter()
            .map(|s| {
                (
                    s.label("alertname").to_string(),
                    s.label("instance").to_string(),
                    s.label("alertstate").to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    prometheus.wait_for("the rules' alerts", alerts, Duration::from_secs(10), |s| {
        found(s) == want
    });

    for host in hosts {
        let mut host = host;
        host.exporter.check_alive();
        let last = host.metrics();
        let (seen, written) = host.versions.stop();
        println!(
            "{}: promtool checks {} versions of its metrics file, of {} written",
            host.name,
            seen.len(),
            written
        );
        let log = host.daemon.read("incidents.log");
        let kills = log.lines().filter(|l| OOM_KILL.is_match(l)).count();
        let entries = report_count(&log) + recoveries(&log) + kills;
        assert_eq!(
            written,
            entries + 1,
            "{}: at start and per entry",
            host.name
        );
        // At start, the first version has no other to follow closely; the last stays.
        assert!(
            seen.len() >= 2 && seen.len() <= written,
            "{}: {} versions seen, {written} written",
            host.name,
            seen.len()
        );
        assert_eq!(seen.last(), Some(&last), "{}: the last version", host.name);
        for version in &seen {
            crate::metrics::promtool_accepts(version);
        }
    }
}

/// The README's scrape configuration, with the rules file it names beside it, as on the
/// Prometheus server: `promtool check config` checks both, and `check rules` the rules alone.
#[test]
fn promtool_takes_the_readme_scrape_config_and_the_rules() {
    if have_the_programs().is_none() {
        return;
    }
    let promtool = |args: &[&Path]| {
        let out = Command::new("promtool").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    promtool(&[
        Path::new("check"),
        Path::new("rules"),
        rules_file().as_path(),
    ]);

    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split_once("\n## A fleet of machines\n")
        .expect("the README's fleet section")
        .1;
    let section = section.split("\n## ").next().unwrap();
    let config = section
        .split("```yaml\n")
        .skip(1)
        .map(|block| block.split_once("```").unwrap().0)
        .find(|block| block.contains("scrape_configs:"))
        .expect("a scrape configuration in the fleet section");
    assert!(
        config.contains("- memory-monitor.rules.yml"),
        "the configuration loads the rules:\n{config}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    std::fs::copy(rules_file(), dir.path().join("memory-monitor.rules.yml")).unwrap();
    promtool(&[
        Path::new("check"),
        Path::new("config"),
        &dir.path().join("prometheus.yml"),
    ]);
}
