//! Shared by the integration tests: the corpus, snapshot settings, and an independent check of
//! the table's layout rules.
#![allow(dead_code)]

pub mod daemon;
pub mod episodes;
pub mod hostile;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Set where the suite runs under qemu-user (scripts/test-emulated.sh): binfmt_misc starts the
/// ARM build of the program through qemu, which finds the target's libraries there.
const EMULATOR_LIBRARIES: &str = "QEMU_LD_PREFIX";

fn emulated() -> bool {
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

pub const RIGHT_ALIGNED: [bool; 10] = [
    false, true, true, true, true, true, false, false, false, true,
];

/// Checks a rendered table against the spec without using the renderer's code: one line per
/// row, no control characters, no trailing blanks, right-aligned numbers ending in one column,
/// left-aligned text starting in one column, columns as wide as their widest cell and one space
/// apart, COMMAND starting in one column. Returns each line's ten cells and its COMMAND.
pub fn check_table(text: &str) -> Vec<(Vec<String>, String)> {
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"
        ]
    );

    // (start, end) in characters of each of the first ten cells, and where COMMAND starts.
    let mut spans: Vec<([(usize, usize); 10], usize)> = Vec::new();
    let mut parsed = Vec::new();
    for line in &lines {
        assert!(
            !line.chars().any(char::is_control),
            "control character in {line:?}"
        );
        assert!(!line.ends_with(' '), "trailing blank in {line:?}");
        let chars: Vec<char> = line.chars().collect();
        let mut cells = [(0, 0); 10];
        let mut i = 0;
        for cell in cells.iter_mut() {
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            let start = i;
            while i < chars.len() && chars[i] != ' ' {
                i += 1;
            }
            assert!(i > start, "fewer than ten cells in {line:?}");
            *cell = (start, i);
        }
        let command_start = i + 1;
        let text_of = |(s, e): (usize, usize)| chars[s..e].iter().collect::<String>();
        parsed.push((
            cells.iter().map(|&c| text_of(c)).collect(),
            chars
                .get(command_start..)
                .map_or(String::new(), |c| c.iter().collect()),
        ));
        spans.push((cells, command_start));
    }
    for column in 0..10 {
        let width = spans
            .iter()
            .map(|(c, _)| c[column].1 - c[column].0)
            .max()
            .unwrap();
        let edges: Vec<usize> = spans
            .iter()
            .map(|(c, _)| {
                if RIGHT_ALIGNED[column] {
                    c[column].1
                } else {
                    c[column].0
                }
            })
            .collect();
        assert!(
            edges.windows(2).all(|w| w[0] == w[1]),
            "column {column} is not aligned: {edges:?}"
        );
        let (start, end) = if RIGHT_ALIGNED[column] {
            (edges[0] - width, edges[0])
        } else {
            (edges[0], edges[0] + width)
        };
        if column == 0 {
            assert_eq!(start, 0, "the table starts in column 0");
        } else {
            let previous = &spans[0].0[column - 1];
            let previous_width = spans
                .iter()
                .map(|(c, _)| c[column - 1].1 - c[column - 1].0)
                .max()
                .unwrap();
            let previous_end = if RIGHT_ALIGNED[column - 1] {
                previous.1
            } else {
                previous.0 + previous_width
            };
            assert_eq!(
                start,
                previous_end + 1,
                "column {column} is not one space after column {}",
                column - 1
            );
        }
        if column == 9 {
            for (line, (_, command_start)) in lines.iter().zip(&spans) {
                if line.chars().count() > end {
                    assert_eq!(*command_start, end + 1, "COMMAND misplaced in {line:?}");
                }
            }
        }
    }
    parsed
}

/// A procfs stand-in: meminfo, uptime and per-process files, written as a test needs them.
pub struct FakeProc {
    pub dir: tempfile::TempDir,
}

pub struct FakeProcess<'a> {
    pub pid: u32,
    pub name: &'a [u8],
    pub uid: u32,
    pub cmdline: &'a [u8],
    pub cwd: Option<&'a str>,
    /// Seconds after boot, as ticks of 100 Hz in `stat`.
    pub started_after_boot: u64,
    pub rss_kib: u64,
    pub ppid: u32,
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
        status.extend_from_slice(p.name);
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
        stat.extend_from_slice(p.name);
        stat.extend_from_slice(
            format!(
                ") S {} 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 {} 1000 50\n",
                p.ppid,
                p.started_after_boot * 100
            )
            .as_bytes(),
        );
        std::fs::write(dir.join("stat"), stat).unwrap();
        std::fs::write(dir.join("cmdline"), p.cmdline).unwrap();
        let mut comm = p.name.to_vec();
        comm.push(b'\n');
        std::fs::write(dir.join("comm"), comm).unwrap();
        if let Some(cwd) = p.cwd {
            std::os::unix::fs::symlink(cwd, dir.join("cwd")).unwrap();
        }
    }
}

/// The biggest process by RSS in the `psaux_jc-centos77_1.txt` sample, PID 823, as /proc shows it.
pub fn firewalld() -> FakeProcess<'static> {
    FakeProcess {
        pid: 823,
        name: b"firewalld",
        uid: 0,
        cmdline: b"/usr/bin/python2\0-Es\0/usr/sbin/firewalld\0--nofork\0--nopid\0",
        cwd: Some("/"),
        started_after_boot: 30,
        rss_kib: 29528,
        ppid: 1,
    }
}

/// Names for the uids the fake processes use.
pub struct FakeUsers;

impl memory_monitor::proc::users::UserNames for FakeUsers {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
        match uid {
            0 => Some(b"root".to_vec()),
            1000 => Some(b"verylongusername".to_vec()),
            1001 => Some(b"alice".to_vec()),
            _ => None,
        }
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

/// Writes an executable script that prints `file` (and optionally fails or sleeps).
pub fn fake_program(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}
