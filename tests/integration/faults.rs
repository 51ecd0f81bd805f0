//! The daemon when ps or top lets it down: missing, failing, silent, garbled, hung or endless,
//! and signals during a capture. In each case the report is still written or cleanly absent, and
//! the daemon stays up.

use crate::util;

use rustix::process::Signal;

use std::path::Path;
use std::time::Duration;

use util::FakeProc;
use util::daemon::{Daemon, Launch, running, set_used};
use util::log::is_context_line;

/// The report's lines from its header to the blank line that ends it, for the report whose
/// header is the `n`th (from 0).
fn report(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("20") && l.contains(" | incident "))
        .nth(n)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no report {n} in:\n{text}"));
    let end = start + lines[start..].iter().position(|l| l.is_empty()).unwrap();
    lines[start..end].to_vec()
}

/// A child is a zombie for the moments between its exit and the daemon's next look at it; one
/// that is still a zombie a second later (longer than any capture here) was left behind.
fn no_zombies(daemon: &Daemon) {
    let zombies = || -> Vec<u32> {
        daemon
            .children()
            .into_iter()
            .filter(|(_, state)| *state == 'Z')
            .map(|(pid, _)| pid)
            .collect()
    };
    let first = zombies();
    std::thread::sleep(Duration::from_secs(1));
    let left: Vec<u32> = zombies()
        .into_iter()
        .filter(|pid| first.contains(pid))
        .collect();
    assert!(left.is_empty(), "zombie children left behind: {left:?}");
}

struct Case {
    program: &'static str,
    body: &'static str,
    /// What the report's one indented line says went wrong.
    says: &'static str,
}

/// Every way ps or top can let us down, each in a daemon of its own, all at once.
#[test]
fn a_missing_failing_silent_garbled_or_hung_program_still_gives_reports() {
    let cases = [
        ("not found (", ""),
        (
            "exited with status 1: oops: no such option",
            "echo 'oops: no such option' >&2; exit 1",
        ),
        ("was killed by signal 9", "kill -9 $$"),
        ("printed nothing", "exit 0"),
        ("timed out after 400ms and was killed", "sleep 64.5 & wait"),
    ];
    let mut all = Vec::new();
    for program in ["ps", "top"] {
        for (says, body) in cases {
            all.push(Case {
                program,
                body,
                says,
            });
        }
        all.push(Case {
            program,
            body: "printf '\\033[2J\\377garbage\\n\\000\\n'",
            says: if program == "ps" {
                "ps output is not procps `ps aux` output (unknown format); its header is `\\x1b[2J\\xffgarbage`"
            } else {
                "top's output is not procps `top -b` output (no `top -` summary line; it starts with `\\x1b[2J\\xffgarbage`)"
            },
        });
    }
    let fakes: Vec<FakeProc> = all.iter().map(|_| FakeProc::new()).collect();
    let mut daemons: Vec<Daemon> = all
        .iter()
        .zip(&fakes)
        .map(|(case, fake)| {
            set_used(fake, 10);
            let mut launch = Launch::ordinary(fake).args(&[
                "--sustain",
                "0",
                "--repeat",
                "300ms",
                "--capture-timeout",
                "400ms",
            ]);
            if !case.body.is_empty() {
                match case.program {
                    "ps" => launch.ps_body = case.body.into(),
                    _ => launch.top_body = case.body.into(),
                }
            }
            launch.start()
        })
        .collect();
    for ((case, daemon), fake) in all.iter().zip(&mut daemons).zip(&fakes) {
        daemon.wait_for_start();
        if case.body.is_empty() {
            // Missing: there at start (start-up checks it), gone by the incident.
            let program = if case.program == "ps" {
                &daemon.ps
            } else {
                &daemon.top
            };
            std::fs::remove_file(program).unwrap();
        }
        set_used(fake, 95);
    }
    for (case, daemon) in all.iter().zip(&mut daemons) {
        daemon.wait_for_reports(2);
        let incidents = daemon.read("incidents.log");
        let expected = if case.program == "ps" {
            format!("  (no process table: ps {}", case.says)
        } else {
            format!("  (no top summary, CPU n/a: top {}", case.says)
        };
        let expected = expected.replace("ps ps output", "ps output");
        let expected = expected.replace("top top's output", "top's output");
        for n in 0..2 {
            let (context, lines): (Vec<&str>, Vec<&str>) = report(&incidents, n)
                .into_iter()
                .partition(|l| is_context_line(l));
            // With no sustain the first report comes at the first high sample, before any
            // baseline; the repeat has the one read after the first report. The breakdown is
            // in both.
            let expected_context = if n == 0 { 2 } else { 3 };
            assert_eq!(
                context.len(),
                expected_context,
                "trend, growth, memory: {context:#?}"
            );
            assert!(context.last().unwrap().starts_with("  memory: "));
            let said: Vec<&&str> = lines.iter().filter(|l| l.starts_with("  (")).collect();
            assert_eq!(said.len(), 1, "{}: {lines:#?}", case.says);
            assert!(said[0].starts_with(&expected), "{expected}\n{lines:#?}");
            if case.program == "ps" {
                assert!(!lines[0].contains("CPU n/a"), "{}", lines[0]);
                assert!(!lines.iter().any(|l| l.starts_with("USER ")));
                assert_eq!(lines.len(), 7, "header, top's 5 lines, the one line");
            } else {
                assert!(lines[0].contains("| CPU n/a |"), "{}", lines[0]);
                assert_eq!(lines[1], said[0].to_string());
                assert!(lines[2].starts_with("USER "));
                assert_eq!(lines.len(), 3 + 109);
            }
        }
        assert!(daemon.is_running(), "{}: the daemon stays up", case.says);
        no_zombies(daemon);
    }
    for daemon in daemons {
        let (status, _, daemon) = daemon.stop(Signal::TERM);
        assert!(status.success(), "{}", daemon.stderr_text());
    }
    // Each capture with a hung program ran until killed, the last by the stop itself.
    assert!(
        !running(b"sleep\x0064.5\x00"),
        "the hung programs' children were killed with them"
    );
}

#[test]
fn an_endless_ps_or_top_is_cut_at_16_mib_and_said_so() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    let header = "printf 'USER PID %%CPU %%MEM VSZ RSS TTY STAT START TIME COMMAND\\n'";
    let endless_ps = format!(
        "{header}; exec yes 'root 1 0.0 0.0 1 1 ? S 10:00 0:00 /usr/bin/endless --printing'"
    );
    let top_sample = util::corpus_dir().join("top_jc-ubuntu2010_1.txt");
    let endless_top = format!("cat '{}'; exec yes ''", top_sample.display());
    let mut daemon = Launch::new(&fake, &endless_ps, &endless_top)
        .args(&["--sustain", "0", "--repeat", "1h"])
        .start();
    daemon.wait_for_reports(1);
    daemon.wait_for("the whole report", |d| {
        d.read("incidents.log").ends_with("\n\n")
    });
    let incidents = daemon.read("incidents.log");
    let lines = report(&incidents, 0);
    assert!(
        lines.contains(&"  (ps printed more than 16.00 MiB; only the lines before that were read)")
    );
    assert!(
        lines
            .contains(&"  (top printed more than 16.00 MiB; only the lines before that were read)")
    );
    assert!(
        lines[0].contains("| CPU 6.2% |"),
        "top's summary was still read: {:?}",
        &lines[..8]
    );
    let rows = lines.iter().filter(|l| l.starts_with("root ")).count();
    let row_len = "root 1 0.0 0.0 1 1 ? S 10:00 0:00 /usr/bin/endless --printing\n".len();
    assert_eq!(
        rows,
        (16 * 1024 * 1024 - 55) / row_len,
        "every whole line kept"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("/usr/bin/endless --printing")
    );
    assert!(
        daemon
            .stderr_text()
            .contains("ps printed more than 16.00 MiB"),
        "{}",
        daemon.stderr_text()
    );
    let peak_kib = daemon.status_kib("VmHWM");
    eprintln!("peak resident memory with two 16 MiB outputs: {peak_kib} KiB");
    assert!(daemon.is_running());
    no_zombies(&daemon);
}

#[test]
fn sigterm_during_a_capture_kills_the_children_and_writes_nothing() {
    let fake = FakeProc::new();
    set_used(&fake, 95);
    // ps leaves a grandchild in its group; top hangs itself.
    let mut daemon = Launch::new(
        &fake,
        "sleep 65.5 & echo started > \"$0.started\"; wait",
        "echo started > \"$0.started\"; exec sleep 66.5",
    )
    .start();
    let markers = ["ps.started", "top.started"].map(|m| daemon.dir.path().join(m));
    daemon.wait_for("ps and top to start", |_| {
        markers.iter().all(|m| m.exists())
    });
    let children = daemon.children();
    assert_eq!(children.len(), 2, "{children:?}");
    let (status, took, daemon) = daemon.stop(Signal::TERM);
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(!running(b"sleep\x0065.5\x00") && !running(b"sleep\x0066.5\x00"));
    for (pid, _) in children {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{pid} reaped");
    }
    assert_eq!(daemon.read("incidents.log"), "");
    assert_eq!(daemon.read("details.log"), "");
}
