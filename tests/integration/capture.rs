//! Running ps and top: their output kept whole or cut at a line, programs that cannot start,
//! hang or leave descendants behind, and where a program named without a path is found.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use memory_monitor::capture::{Captured, Cut, OUTPUT_LIMIT, Tools, run_ps_and_top};
use memory_monitor::report::{Ending, Note, ProgramFailure};

use crate::util::{self, fake_program};

/// Whether a process with this command line still runs a moment later (SIGKILL takes effect
/// asynchronously; a killed process has no command line).
fn alive(cmdline: &[u8]) -> bool {
    let until = Instant::now() + Duration::from_secs(1);
    while util::daemon::running(cmdline) {
        if Instant::now() > until {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn output_before_an_exit_is_kept_when_a_grandchild_holds_the_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let tools = util::fake_tools(
        dir.path(),
        "echo from-ps; sleep 68.5 & exit 0",
        "echo from-top >&2; printf 'top - 1\\n'",
        OUTPUT_LIMIT,
    );
    let started = Instant::now();
    let outputs = run_ps_and_top(&tools, None).unwrap();
    assert_eq!(outputs.ps.unwrap(), Captured::whole(b"from-ps\n".to_vec()));
    assert_eq!(outputs.top.unwrap(), Captured::whole(b"top - 1\n".to_vec()));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "not the timeout"
    );
    assert!(
        !alive(b"sleep\x0068.5\x00"),
        "the grandchild went with its group"
    );
}

#[test]
fn output_past_the_limit_is_cut_at_a_line_and_the_program_killed() {
    let dir = tempfile::tempdir().unwrap();
    let tools = util::fake_tools(dir.path(), "exec yes 123456789", "exit 3", 1000);
    let outputs = run_ps_and_top(&tools, None).unwrap();
    let ps = outputs.ps.unwrap();
    assert_eq!(ps.cut, Some(Cut { limit: 1000 }));
    assert_eq!(ps.bytes, b"123456789\n".repeat(100));
    let top = outputs.top.unwrap_err();
    assert_eq!(
        top,
        ProgramFailure::Failed {
            program: "top",
            how: Ending::Status(3),
            stderr: Vec::new(),
        }
    );
    assert_eq!(top.to_string(), "top exited with status 3");
    assert!(!alive(b"yes\x00123456789\x00"));
    let note = Note::Cut {
        program: "ps",
        limit: 16 << 20,
    };
    assert_eq!(
        note.to_string(),
        "ps printed more than 16.00 MiB; only the lines before that were read"
    );
}

#[test]
fn a_program_that_cannot_start_is_said_so() {
    let tools = Tools {
        ps_bin: "/nonexistent/ps".into(),
        top_bin: "/dev/null".into(),
        timeout: Duration::from_secs(1),
        output_limit: OUTPUT_LIMIT,
    };
    let outputs = run_ps_and_top(&tools, None).unwrap();
    assert_eq!(
        outputs.ps.unwrap_err().to_string(),
        "ps not found (/nonexistent/ps)"
    );
    let top = outputs.top.unwrap_err().to_string();
    assert!(
        top.starts_with("top could not be started (/dev/null): "),
        "{top}"
    );
    assert!(tools.check().is_err());
    assert!(tools.resolved().is_err());
}

#[test]
fn names_resolve_on_path_to_the_first_executable_and_paths_stay() {
    let path_dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    // The first directory has the name too, but not executable: execvp would pass it by.
    std::fs::write(path_dirs[0].path().join("mm-test-ps"), "not a program").unwrap();
    let found = fake_program(path_dirs[1].path(), "mm-test-ps", "exit 0");
    let top = fake_program(path_dirs[0].path(), "top-by-path", "exit 0");
    let search_path = std::env::join_paths(path_dirs.iter().map(|d| d.path())).unwrap();
    let tools = Tools {
        ps_bin: "mm-test-ps".into(),
        top_bin: top.clone().into_os_string(),
        timeout: Duration::from_secs(1),
        output_limit: OUTPUT_LIMIT,
    }
    .resolved_on(&search_path)
    .unwrap();
    assert_eq!(tools.ps_bin, found.into_os_string());
    assert_eq!(tools.top_bin, top.into_os_string());

    let missing = Tools {
        ps_bin: "mm-test-nowhere".into(),
        top_bin: OsString::from("top"),
        timeout: Duration::from_secs(1),
        output_limit: OUTPUT_LIMIT,
    }
    .resolved_on(&search_path)
    .unwrap_err();
    assert!(
        missing.starts_with("mm-test-nowhere not found on PATH (")
            && missing.ends_with(
                "install procps (sudo apt-get install procps) or give its path with --ps-bin"
            ),
        "{missing}"
    );
}
