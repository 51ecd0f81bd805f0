//! What the tests share, one copy each: the fake proc root, the fake programs, the fake passwd,
//! the corpus, the patterns of the logs' lines ([`log`]), the daemon under test ([`daemon`]),
//! and how a test that needs something the machine lacks skips ([`skip`]).
#![allow(dead_code)]

pub mod cgroup;
pub mod daemon;
pub mod episodes;
mod fake;
pub mod hostile;
pub mod kernel;
pub mod log;
mod report;
mod table;

#[allow(unused_imports)]
pub use fake::*;
#[allow(unused_imports)]
pub use report::*;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[allow(unused_imports)]
pub use table::check_table;

/// Set where the suite runs under qemu-user (scripts/test-emulated.sh): binfmt_misc starts the
/// ARM build of the program through qemu, which finds the target's libraries there.
const EMULATOR_LIBRARIES: &str = "QEMU_LD_PREFIX";

pub fn emulated() -> bool {
    std::env::var_os(EMULATOR_LIBRARIES).is_some()
}

/// The program with an empty environment, but for what an emulator needs to start it.
pub fn program_without_env() -> Command {
    command_without_env(env!("CARGO_BIN_EXE_memory-monitor"))
}

/// `program` with an empty environment, but for what an emulator needs to start the program
/// it runs in turn (`setpriv … memory-monitor`).
pub fn command_without_env(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
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
    // Straight to stderr, on a line of its own: the harness captures only what print! and
    // eprint! write, and may be in the middle of a line of its own.
    let _ = writeln!(
        std::io::stderr(),
        "\nskipped {test}: {missing} is missing; {fix}"
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
