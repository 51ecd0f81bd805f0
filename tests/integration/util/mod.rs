//! What the tests share, one copy each: the fake proc root, the fake programs, the fake passwd,
//! the corpus, the patterns of the logs' lines ([`log`]), the daemon under test ([`daemon`]),
//! and how a test that needs something the machine lacks skips ([`skip`]).
#![allow(dead_code)]

pub mod daemon;
pub mod episodes;
pub mod hostile;
pub mod log;

use std::cell::Cell;
use std::ffi::OsStr;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

#[allow(unused_imports)]
pub use log::check_table;

/// Set where the suite runs under qemu-user (scripts/test-emulated.sh): binfmt_misc starts the
/// ARM build of the program through qemu, which finds the target's libraries there.
const EMULATOR_LIBRARIES: &str = "QEMU_LD_PREFIX";

pub fn emulated() -> bool {
    std::env::var_os(EMULATOR_LIBRARIES).is_some()
}

/// The program with an empty environment, but for what an emulator needs to start it.
pub fn program_without_env() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_memory-monitor"));
    command.env_clear();
    if let Some(libraries) = std::env::var_os(EMULATOR_LIBRARIES) {
        command.env(EMULATOR_LIBRARIES, libraries);
    }
    command
}

/// How long to wait for something the program does. Under qemu-user a debug build runs about
/// ten times slower; waiting longer only delays a failure, it never hides one.
pub fn patience(time: Duration) -> Duration {
    if emulated() { time * 5 } else { time }
}

// ---------------------------------------------------------------------------------------------
// What the machine must have.

/// Set by .ci/run: a test that would skip fails instead, so CI never passes by skipping.
pub const NO_SKIP: &str = "MEMORY_MONITOR_TEST_NO_SKIP";

/// Says on one line, past the test harness's capture, that this test is skipped because
/// `missing` is, and how to get it; the caller then returns. Under [`NO_SKIP`] it fails instead.
pub fn skip(missing: &str, fix: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    assert!(
        std::env::var_os(NO_SKIP).is_none(),
        "{test} needs {missing}, and {NO_SKIP} forbids skipping it: {fix}"
    );
    // Straight to stderr: the harness captures only what print! and eprint! write.
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: {missing} is missing; {fix}"
    );
}

/// Whether `program` is on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .any(|dir| std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file()))
    })
}

/// procps's ps and top, for the tests that run the real ones; skips without them.
pub fn require_procps() -> bool {
    let found = on_path("ps") && on_path("top");
    if !found {
        skip("procps (ps and top)", "sudo apt-get install procps");
    }
    found
}

/// Whether a mount namespace of the test's own can be made (as root, or as a user where
/// unprivileged user namespaces are allowed, as on Debian); skips without.
pub fn require_mount_namespace() -> bool {
    let mut command = Command::new("unshare");
    command.arg("--mount");
    if !rustix::process::geteuid().is_root() {
        command.arg("--map-root-user");
    }
    let works = command
        .args(["--propagation", "private", "true"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !works {
        skip(
            "a mount namespace (util-linux's unshare, as root or with user namespaces)",
            "sudo apt-get install util-linux, and run as root or allow unprivileged user namespaces",
        );
    }
    works
}

// ---------------------------------------------------------------------------------------------
// Recorded outputs.

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

pub fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(name)).unwrap_or_else(|e| panic!("corpus file {name}: {e}"))
}

/// A file of `tests/fixtures/meminfo/` (see its README).
pub fn meminfo_fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/meminfo")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Corpus files whose names start with `prefix`, sorted.
pub fn corpus_files(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no corpus files start with {prefix}");
    names
}

/// Snapshots live in the top-level `snapshots/` directory.
#[macro_export]
macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

// ---------------------------------------------------------------------------------------------
// A fake machine.

/// A procfs stand-in: meminfo, uptime and per-process files, written as a test needs them.
pub struct FakeProc {
    pub dir: tempfile::TempDir,
}

/// One process as the kernel shows it under `/proc/PID`.
#[derive(Clone, Debug)]
pub struct FakeProcess {
    pub pid: u32,
    /// `comm`, and the name in `stat` and `status`.
    pub name: Vec<u8>,
    pub uid: u32,
    /// The arguments, each ended by a NUL, as `cmdline` holds them; empty for a kernel thread.
    pub cmdline: Vec<u8>,
    pub cwd: Option<Vec<u8>>,
    /// When it started, in clock ticks of 100 Hz after boot, as `stat` says.
    pub start_ticks: u64,
    pub rss_kib: u64,
    pub ppid: u32,
    /// Write status's `Name:` raw instead of escaped as the kernel does: a newline in it then
    /// adds lines of its own to status.
    pub raw_status_name: bool,
}

impl Default for FakeProcess {
    fn default() -> FakeProcess {
        FakeProcess {
            pid: 1,
            name: b"x".to_vec(),
            uid: 0,
            cmdline: b"x\0".to_vec(),
            cwd: Some(b"/".to_vec()),
            start_ticks: 0,
            rss_kib: 1000,
            ppid: 0,
            raw_status_name: false,
        }
    }
}

/// `cmdline` for these arguments.
pub fn cmdline_of<A: AsRef<[u8]>>(argv: &[A]) -> Vec<u8> {
    argv.iter()
        .flat_map(|a| a.as_ref().iter().copied().chain([0]))
        .collect()
}

impl FakeProc {
    pub fn new() -> FakeProc {
        let fake = FakeProc {
            dir: tempfile::tempdir().unwrap(),
        };
        fake.set_meminfo(1_000_000, 500_000);
        std::fs::write(fake.path().join("uptime"), "100000.50 150000.00\n").unwrap();
        fake
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Rewrites meminfo in place with fixed-width figures, as the kernel's file changes under an
    /// open descriptor.
    pub fn set_meminfo(&self, total_kib: u64, available_kib: u64) {
        let text = format!(
            "MemTotal:       {total_kib:>12} kB\nMemFree:        {available_kib:>12} kB\nMemAvailable:   {available_kib:>12} kB\nBuffers:        {:>12} kB\n",
            0
        );
        self.write_meminfo(text.as_bytes());
    }

    /// Rewrites meminfo in place with `text`, a whole file (a fixture, say). The daemon keeps
    /// meminfo open, so the file must stay the same one; it is written over, not truncated first,
    /// so a sample taken meanwhile never sees it empty, and then cut to its new length.
    pub fn write_meminfo(&self, text: &[u8]) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(self.path().join("meminfo"))
            .unwrap();
        f.write_all(text).unwrap();
        f.set_len(u64::try_from(text.len()).unwrap()).unwrap();
    }

    pub fn add(&self, p: &FakeProcess) {
        let dir = self.path().join(p.pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut status = b"Name:\t".to_vec();
        if p.raw_status_name {
            status.extend_from_slice(&p.name);
        } else {
            status.extend_from_slice(&log::kernel_status_name(&p.name));
        }
        status.extend_from_slice(
            format!(
                "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n\
                 VmPeak:\t{peak} kB\nVmSize:\t{vsz} kB\nVmHWM:\t{hwm} kB\nVmRSS:\t{rss} kB\nVmSwap:\t{swap} kB\nThreads:\t4\n",
                pid = p.pid,
                ppid = p.ppid,
                uid = p.uid,
                peak = p.rss_kib * 4,
                vsz = p.rss_kib * 3,
                hwm = p.rss_kib * 2,
                rss = p.rss_kib,
                swap = 512,
            )
            .as_bytes(),
        );
        std::fs::write(dir.join("status"), status).unwrap();
        let mut stat = format!("{} (", p.pid).into_bytes();
        stat.extend_from_slice(&p.name);
        stat.extend_from_slice(
            format!(
                ") S {} 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 {} 1000 50\n",
                p.ppid, p.start_ticks
            )
            .as_bytes(),
        );
        std::fs::write(dir.join("stat"), stat).unwrap();
        std::fs::write(dir.join("cmdline"), &p.cmdline).unwrap();
        std::fs::write(dir.join("comm"), [&p.name[..], b"\n"].concat()).unwrap();
        if let Some(cwd) = &p.cwd {
            std::os::unix::fs::symlink(OsStr::from_bytes(cwd), dir.join("cwd")).unwrap();
        }
    }
}

/// The biggest process by RSS in the `psaux_jc-centos77_1.txt` sample, PID 823, as /proc shows it.
pub fn firewalld() -> FakeProcess {
    FakeProcess {
        pid: 823,
        name: b"firewalld".to_vec(),
        uid: 0,
        cmdline: b"/usr/bin/python2\0-Es\0/usr/sbin/firewalld\0--nofork\0--nopid\0".to_vec(),
        cwd: Some(b"/".to_vec()),
        start_ticks: 30 * 100,
        rss_kib: 29528,
        ppid: 1,
        raw_status_name: false,
    }
}

/// A passwd database of the test's making, which counts its lookups.
pub struct FakeUsers {
    names: Vec<(u32, Vec<u8>)>,
    pub lookups: Cell<usize>,
}

impl FakeUsers {
    pub fn new(names: &[(u32, &[u8])]) -> FakeUsers {
        FakeUsers {
            names: names.iter().map(|(uid, n)| (*uid, n.to_vec())).collect(),
            lookups: Cell::new(0),
        }
    }

    /// root, a long name ps cuts, and alice: the users of the fake processes.
    pub fn standard() -> FakeUsers {
        FakeUsers::new(&[(0, b"root"), (1000, b"verylongusername"), (1001, b"alice")])
    }
}

impl memory_monitor::proc::UserNames for FakeUsers {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
        self.lookups.set(self.lookups.get() + 1);
        self.names
            .iter()
            .find(|(known, _)| *known == uid)
            .map(|(_, name)| name.clone())
    }
}

/// Runs `memory-monitor snapshot` on `fake` with fake ps and top running the given shell bodies,
/// in a clean environment, in UTC.
pub fn snapshot(fake: &FakeProc, ps_body: &str, top_body: &str, extra: &[&str]) -> Output {
    let bin = tempfile::tempdir().unwrap();
    program_without_env()
        .arg("snapshot")
        .arg("--proc-root")
        .arg(fake.path())
        .arg("--ps-bin")
        .arg(fake_program(bin.path(), "ps", ps_body))
        .arg("--top-bin")
        .arg(fake_program(bin.path(), "top", top_body))
        .args(extra)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// Writes an executable shell script named `name` in `dir` that runs `body`.
pub fn fake_program(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// A report built as the daemon builds one, from recorded outputs.

/// The time of the reports the tests build: 2026-11-22 14:03:15 +01:00.
pub fn report_time() -> chrono::DateTime<chrono::FixedOffset> {
    use chrono::TimeZone;
    chrono::FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 22, 14, 3, 15)
        .unwrap()
}

/// 83.2% of 3.70 GiB in use.
pub fn busy_memory() -> memory_monitor::sample::MemSample {
    memory_monitor::sample::MemSample {
        total_kib: 3_879_731,
        available_kib: 650_117,
    }
}

/// The first report of incident 1, 15 s above 80%.
pub fn first_report() -> memory_monitor::report::Occasion {
    memory_monitor::report::Occasion::Incident {
        due: memory_monitor::decide::ReportDue {
            incident: 1,
            high_for: Duration::from_secs(15),
            since_first_report: None,
        },
        threshold_percent: 80.0,
    }
}

/// Where a report's evidence comes from: recorded outputs (ps and top are never run), `fake`
/// for /proc, `users` for passwd.
pub fn sources<'a>(
    fake: &FakeProc,
    details: usize,
    users: &'a dyn memory_monitor::proc::UserNames,
) -> memory_monitor::capture::Sources<'a> {
    memory_monitor::capture::Sources {
        tools: memory_monitor::capture::Tools {
            ps_bin: "unused".into(),
            top_bin: "unused".into(),
            timeout: Duration::from_secs(1),
            output_limit: memory_monitor::capture::OUTPUT_LIMIT,
        },
        proc_root: fake.path().to_path_buf(),
        details,
        users,
        clock_ticks: 100,
    }
}

/// A report of `occasion` at [`report_time`] with [`busy_memory`], from what ps and top printed
/// (or how they failed) and the machine `sources` describe.
pub fn report_from(
    ps: Result<Vec<u8>, memory_monitor::report::ProgramFailure>,
    top: Result<Vec<u8>, memory_monitor::report::ProgramFailure>,
    sources: &memory_monitor::capture::Sources,
    occasion: memory_monitor::report::Occasion,
) -> memory_monitor::report::Report {
    let outputs = memory_monitor::capture::Outputs::recorded(ps, top);
    memory_monitor::report::Report {
        time: report_time(),
        occasion,
        memory: busy_memory(),
        evidence: sources.evidence_from(outputs),
    }
}

/// What incidents.log holds for `report`, and details.log, as the daemon's outputs render them.
pub fn logged(report: memory_monitor::report::Report) -> (String, String) {
    use memory_monitor::output::{DetailsLog, IncidentsLog, TextLog};
    let entry = memory_monitor::report::Entry::Report(Box::new(report));
    (
        IncidentsLog.render(&entry).unwrap_or_default(),
        DetailsLog.render(&entry).unwrap_or_default(),
    )
}
