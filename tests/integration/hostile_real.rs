//! Hostile process names on this machine: real processes whose argv (set through exec), name
//! (exec through a hostile symlink, prctl) and working directory hold newlines, escape
//! sequences, invalid UTF-8, 100 KB and fake header lines, under the real binary, ps and top.
//! Both logs keep one line per process and write nothing raw.

use crate::util;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::pipe::{PipeFlags, pipe_with};
use rustix::process::{
    Pid, Signal, WaitOptions, getuid, kill_process, kill_process_group, waitpid,
};
use util::fake_program;
use util::hostile::*;
use util::log::*;

// ---------------------------------------------------------------------------------------------
// a. Real processes, the real binary, the real ps and top.

/// A process started for the test, and what the logs should say about it.
struct Hostile {
    what: &'static str,
    pid: u32,
    /// Its argv; `None` for a forked copy of this test (its command line is this test's).
    argv: Option<Vec<Vec<u8>>>,
    /// Its name as the kernel keeps it (`comm`, at most 15 bytes).
    comm: Vec<u8>,
    cwd: Option<Vec<u8>>,
    /// The parent's PID and `comm`, when they are hostile too.
    parent: Option<(u32, Vec<u8>)>,
}

/// Kills what the test started, even when it panics. Every process also exits by itself once
/// this test process is gone, since each waits for end of file on a pipe only this one writes.
#[derive(Default)]
struct Processes {
    groups: Vec<Child>,
    forks: Vec<(Pid, OwnedFd)>,
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.groups {
            let _ = kill_process_group(Pid::from_child(child), Signal::KILL);
            let _ = child.wait();
        }
        for (pid, _) in &self.forks {
            let _ = kill_process(*pid, Signal::KILL);
            let _ = waitpid(Some(*pid), WaitOptions::empty());
        }
    }
}

impl Processes {
    /// `program` (a path, possibly a symlink whose file name becomes `comm`) with this argv, in a
    /// process group of its own, running `script` in sh until its stdin closes.
    fn shell(&mut self, program: &Path, argv0: &[u8], script: &str, args: &[&[u8]], cwd: &Path) {
        let mut command = Command::new(program);
        command
            .arg0(OsStr::from_bytes(argv0))
            .arg("-c")
            .arg(script)
            .args(args.iter().map(|a| OsStr::from_bytes(a)))
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        self.groups.push(command.spawn().unwrap());
    }

    /// A fork of this test, not exec'd, whose `comm` is set with prctl(PR_SET_NAME): the one way
    /// to give a name holding `/` or no byte at all. It waits on a pipe and exits at its end.
    fn fork_named(&mut self, comm: &[u8]) -> u32 {
        assert!(comm.len() < 16 && !comm.contains(&0));
        let mut name = [0u8; 16];
        name[..comm.len()].copy_from_slice(comm);
        let (read_end, write_end) = pipe_with(PipeFlags::CLOEXEC).unwrap();
        let read_fd = read_end.as_raw_fd();
        // SAFETY: the child makes only raw system calls, which are async-signal-safe (other
        // threads of this test may hold locks), never returns, and never touches memory the
        // parent owns afterwards. No crate makes fork safe: the name is why it is used at all.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: as above, in the child.
            unsafe {
                libc::dup2(read_fd, 0);
                // Hold no other descriptor: a pipe another test waits on must not stay open here.
                libc::syscall(libc::SYS_close_range, 1u32, u32::MAX, 0u32);
                libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong);
                let mut byte = 0u8;
                while libc::read(0, (&raw mut byte).cast(), 1) > 0 {}
                libc::_exit(0);
            }
        }
        drop(read_end);
        let pid = Pid::from_raw(pid).expect("fork failed");
        self.forks.push((pid, write_end));
        u32::try_from(pid.as_raw_nonzero().get()).unwrap()
    }
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn proc_file(pid: u32, name: &str) -> Vec<u8> {
    std::fs::read(format!("/proc/{pid}/{name}")).unwrap_or_default()
}

/// Starts the hostile processes and waits until each has its argv and name.
fn start_hostile_processes(dir: &Path, processes: &mut Processes) -> Vec<Hostile> {
    let token = |n: u32| format!("mm-hostile-{}-{n}", std::process::id()).into_bytes();
    let sh = Path::new("/bin/sh");
    let mut hostile = Vec::new();

    // Every kind of hostile byte in argv, and in the working directory, whose name also ends in
    // a blank.
    let cwd = dir.join(OsStr::from_bytes(
        b"cwd\n2026-11-22 14:03:15 +01:00 | incident 1\x1b[2J\xff\xe2\x80\xae ",
    ));
    std::fs::create_dir(&cwd).unwrap();
    let args: Vec<&[u8]> = vec![
        FAKE_MARKER,
        CONTROLS,
        INVALID_UTF8,
        UNICODE_TRICKS.as_bytes(),
        b"\\x1b is harmless text",
        &[],
        b"trailing ",
    ];
    let argv0 = [FAKE_HEADER, &token(1)].concat();
    processes.shell(sh, &argv0, "read x", &args, &cwd);
    let mut argv = vec![argv0, b"-c".to_vec(), b"read x".to_vec()];
    argv.extend(args.iter().map(|a| a.to_vec()));
    hostile.push(Hostile {
        what: "argv and cwd",
        pid: processes.groups.last().unwrap().id(),
        argv: Some(argv),
        comm: b"sh".to_vec(),
        cwd: Some(cwd.as_os_str().as_bytes().to_vec()),
        parent: None,
    });

    // A 100 KB command line.
    let big = big_argument();
    processes.shell(sh, &token(2), "read x", &[b"sh", &big], dir);
    hostile.push(Hostile {
        what: "100 KB command line",
        pid: processes.groups.last().unwrap().id(),
        argv: Some(vec![
            token(2),
            b"-c".to_vec(),
            b"read x".to_vec(),
            b"sh".to_vec(),
            big,
        ]),
        comm: b"sh".to_vec(),
        cwd: None,
        parent: None,
    });

    // Names set by exec through a symlink: the kernel takes `comm` from the file name. The first
    // starts a child, whose parent's name is then hostile too.
    for (n, file_name) in [
        (3, &b"\n===== new log\x1b[2J\xff"[..]),
        (4, &b"\n2026-11-22 14:03:15\r"[..]),
    ] {
        let link = dir.join(OsStr::from_bytes(file_name));
        std::os::unix::fs::symlink(sh, &link).unwrap();
        let script = if n == 3 {
            "sleep 1000 & echo $!; read x; kill $!"
        } else {
            "read x"
        };
        processes.shell(&link, &token(n), script, &[], dir);
        let child = processes.groups.last_mut().unwrap();
        let comm = file_name[..file_name.len().min(15)].to_vec();
        let pid = child.id();
        hostile.push(Hostile {
            what: "comm from a symlink's name",
            pid,
            argv: Some(vec![token(n), b"-c".to_vec(), script.as_bytes().to_vec()]),
            comm: comm.clone(),
            cwd: None,
            parent: None,
        });
        if n == 3 {
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            hostile.push(Hostile {
                what: "child of a hostile name",
                pid: line.trim().parse().unwrap(),
                argv: Some(vec![b"sleep".to_vec(), b"1000".to_vec()]),
                comm: b"sleep".to_vec(),
                cwd: None,
                parent: Some((pid, comm)),
            });
        }
    }

    // Names set with prctl, including `/` and the empty name.
    for comm in [&b"\r\x1b]0;t\x07\xff/\xe2\x80\xae\n=="[..], b""] {
        let pid = processes.fork_named(comm);
        hostile.push(Hostile {
            what: "comm set with prctl",
            pid,
            argv: None,
            comm: comm.to_vec(),
            cwd: None,
            parent: None,
        });
    }

    for h in &hostile {
        wait_until(&format!("{} (PID {})", h.what, h.pid), || {
            let mut comm = h.comm.clone();
            comm.push(b'\n');
            proc_file(h.pid, "comm") == comm
                && h.argv
                    .as_ref()
                    .is_none_or(|argv| proc_file(h.pid, "cmdline") == util::cmdline_of(argv))
        });
    }
    hostile
}

#[test]
fn real_processes_with_hostile_names_under_the_real_ps_and_top() {
    if !util::require_procps() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut processes = Processes::default();
    let hostile = start_hostile_processes(dir.path(), &mut processes);

    // The real ps, run through a wrapper that keeps a copy of what it printed.
    let ps_output = dir.path().join("ps-output");
    let ps = fake_program(
        dir.path(),
        "ps-tee",
        &format!(
            "ps \"$@\" > '{0}' && cat '{0}'",
            ps_output.to_str().unwrap()
        ),
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_memory-monitor"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MEMORY_MONITOR_") {
            command.env_remove(key);
        }
    }
    let out = command
        .args([
            "snapshot",
            "--details",
            "1000000",
            "--kernel-log",
            "off",
            "--ps-bin",
        ])
        .arg(&ps)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(!stderr.chars().any(|c| c.is_control() && c != '\n'));
    let stdout = String::from_utf8(out.stdout).expect("the report is valid UTF-8");
    let log = check_log(&stdout);
    assert_eq!((log.headers, log.markers), (1, 0), "one snapshot header");
    assert!(log.summary[0].starts_with("  top - "), "{:?}", log.summary);

    // One table line for each process line ps printed: a row, or (for a line that does not split
    // into ps's columns, like a user name with a blank) a line kept aside.
    let printed = std::fs::read(&ps_output).unwrap();
    let ps_lines: Vec<&[u8]> = printed
        .split(|&b| b == b'\n')
        .skip(1)
        .filter(|l| !l.is_empty())
        .collect();
    let ps_rows: HashMap<Vec<u8>, Vec<u8>> =
        ps_lines.iter().filter_map(|l| split_ps_line(l)).collect();
    assert_eq!(log.rows.len() + log.odd.len(), ps_lines.len());
    for (cells, command) in &log.rows {
        let printed_command = ps_rows
            .get(cells[1].as_bytes())
            .unwrap_or_else(|| panic!("PID {} is not in ps's output", cells[1]));
        assert_eq!(*command, shown(printed_command));
    }

    // Every process but the ps and top the snapshot ran gets details, once.
    assert!(
        log.details.len() + 2 >= log.rows.len() && log.details.len() <= log.rows.len(),
        "{} details for {} rows",
        log.details.len(),
        log.rows.len()
    );
    for entry in &log.details {
        assert_eq!(log.details_of(&entry.pid).len(), 1, "PID {}", entry.pid);
        assert_eq!(log.rows_of(&entry.pid).len(), 1, "PID {}", entry.pid);
    }

    let token = format!("mm-hostile-{}-", std::process::id());
    let uid = format!("(uid {})", getuid().as_raw());
    for h in &hostile {
        let what = format!("{} (PID {})", h.what, h.pid);
        let rows = log.rows_of(h.pid);
        assert_eq!(rows.len(), 1, "{what}: one row");
        if h.argv.as_ref().is_some_and(|argv| argv[0] != b"sleep") {
            assert!(rows[0].1.contains(&token), "{what}: {:?}", rows[0].1);
        }
        let details = log.details_of(h.pid);
        assert_eq!(details.len(), 1, "{what}: one details entry");
        let d = details[0];
        assert_eq!(
            d.name.as_deref().unwrap_or_default(),
            shown_at_end(&h.comm),
            "{what}: name"
        );
        assert!(d.value("user:").ends_with(&uid), "{what}: {:?}", d.values);
        if let Some(argv) = &h.argv {
            assert_eq!(
                d.value("command:"),
                shown_at_end(&argv.join(&b' ')),
                "{what}: command"
            );
        }
        if let Some(cwd) = &h.cwd {
            assert_eq!(d.value("cwd:"), shown_at_end(cwd), "{what}: cwd");
        }
        if let Some((ppid, comm)) = &h.parent {
            assert_eq!(
                d.value("parent:"),
                format!("{ppid} ({})", shown(comm)),
                "{what}: parent"
            );
        }
    }
    let big = hostile
        .iter()
        .find(|h| h.what == "100 KB command line")
        .unwrap();
    assert!(log.rows_of(big.pid)[0].1.len() > 100_000);
    assert!(log.details_of(big.pid)[0].value("command:").len() > 100_000);
    drop(processes);
}
