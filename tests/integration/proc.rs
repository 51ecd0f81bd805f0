//! Reading `/proc`: the details of a process, each value on its own, what one report reads once,
//! and the full user names put in where ps cut them.

use std::path::Path;
use std::time::Duration;

use memory_monitor::parse::ps::{self, PsTable};
use memory_monitor::proc::{
    DetailsReader, SystemUsers, Unavailable, UserNames, Users, clock_ticks, expand_cut_names,
    status_field,
};

use crate::util::{FakeProc, FakeProcess, FakeUsers};

/// A proc root with a process of each (PID, uid).
fn processes_of(entries: &[(u32, u32)]) -> FakeProc {
    let fake = FakeProc::new();
    for &(pid, uid) in entries {
        fake.add(&FakeProcess {
            pid,
            uid,
            ..FakeProcess::default()
        });
    }
    fake
}

fn table(rows: &[&str]) -> PsTable {
    let mut text = String::from("USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    ps::parse(text.as_bytes()).unwrap()
}

fn users_of(t: &PsTable) -> Vec<String> {
    t.processes()
        .map(|p| String::from_utf8_lossy(p.row().user).into_owned())
        .collect()
}

/// Names passwd may hold: long ones ps cuts, and hostile ones.
fn hostile_passwd() -> FakeUsers {
    FakeUsers::new(&[
        (1000, b"verylongusername"),
        (1001, b"someoneelse"),
        (1002, b"evil\x1bname\n"),
        (
            1003,
            b"2026-11-22 14:03:15 +01:00 | incident 9 | RAM 99.0% (3.66 of 3.70 GiB)",
        ),
        (1004, "verylong\u{a0}name".as_bytes()),
        (1005, "verylong\u{2800}name".as_bytes()),
        (1006, b"verylongname\x1b[2J"),
    ])
}

#[test]
fn cut_names_of_live_processes_are_expanded() {
    let fake = processes_of(&[(10, 1000), (11, 1001), (12, 1000), (14, 4242)]);
    let mut t = table(&[
        "verylon+ 10 0.0 0.0 1 1 ? S 10:00 0:00 a", // expanded
        "verylon+ 11 0.0 0.0 1 1 ? S 10:00 0:00 b", // PID reused by someone else: kept
        "root 12 0.0 0.0 1 1 ? S 10:00 0:00 c",     // not cut: kept
        "verylon+ 13 0.0 0.0 1 1 ? S 10:00 0:00 d", // process gone: kept
        "verylon+ 14 0.0 0.0 1 1 ? S 10:00 0:00 e", // uid without a name: kept
    ]);
    let passwd = hostile_passwd();
    expand_cut_names(&mut t, fake.path(), &Users::new(&passwd));
    assert_eq!(
        users_of(&t),
        [
            "verylongusername",
            "verylon+",
            "root",
            "verylon+",
            "verylon+"
        ]
    );
}

#[test]
fn the_thread_rows_of_a_process_get_its_full_name_too() {
    let fake = processes_of(&[(10, 1000)]);
    let mut t = table(&[
        "verylon+ 10 0.0 0.0 1 1 ? Sl 10:00 0:00 a",
        "verylon+ - 0.0 - - - - Sl 10:00 0:00 -",
        "other - 0.0 - - - - Sl 10:00 0:00 -",
    ]);
    let passwd = hostile_passwd();
    expand_cut_names(&mut t, fake.path(), &Users::new(&passwd));
    let process = t.processes().next().unwrap();
    let threads: Vec<&[u8]> = process.threads().map(|r| r.user).collect();
    assert_eq!(threads, [&b"verylongusername"[..], b"other"]);
}

#[test]
fn names_with_escaped_bytes_are_left_as_ps_printed() {
    let fake = processes_of(&[(10, 1002)]);
    let mut t = table(&["evil\x1bna+ 10 0.0 0.0 1 1 ? S 10:00 0:00 a"]);
    let passwd = hostile_passwd();
    // As shown, ps's cell is 11 characters (`evil\x1bna+`), so not a name cut at 8.
    expand_cut_names(&mut t, fake.path(), &Users::new(&passwd));
    assert_eq!(users_of(&t), ["evil\x1bna+"], "kept as ps printed it");
}

#[test]
fn full_names_that_do_not_read_as_one_word_are_refused() {
    let fake = processes_of(&[(10, 1003), (11, 1004), (12, 1005), (13, 1006)]);
    let mut t = table(&[
        "2026-11+ 10 0.0 0.0 1 1 ? S 10:00 0:00 a",
        "verylon+ 11 0.0 0.0 1 1 ? S 10:00 0:00 b",
        "verylon+ 12 0.0 0.0 1 1 ? S 10:00 0:00 c",
        "verylon+ 13 0.0 0.0 1 1 ? S 10:00 0:00 d",
    ]);
    let passwd = hostile_passwd();
    expand_cut_names(&mut t, fake.path(), &Users::new(&passwd));
    assert_eq!(
        users_of(&t),
        [
            "2026-11+",
            "verylon+",
            "verylon+",
            // Escaped control bytes cannot shift a column: the full name is taken.
            "verylongname\x1b[2J"
        ]
    );
}

#[test]
fn the_real_passwd_database_knows_root() {
    assert_eq!(SystemUsers.name_of(0), Some(b"root".to_vec()));
    assert_eq!(SystemUsers.name_of(4_000_000_000), None);
}

#[test]
fn a_missing_process_is_ended_everywhere() {
    let fake = FakeProc::new();
    let passwd = FakeUsers::standard();
    let users = Users::new(&passwd);
    let d = DetailsReader::new(fake.path(), &users, 100).read(12345);
    assert_eq!(d.name, Err(Unavailable::Ended));
    assert_eq!(d.cwd, Err(Unavailable::Ended));
    assert_eq!(d.running_for, Err(Unavailable::Ended));
    assert_eq!(d.rss_kib, Err(Unavailable::Ended));
    assert_eq!(d.command, Err(Unavailable::Ended));
}

#[test]
fn the_name_comes_from_comm_whatever_status_says() {
    let fake = FakeProc::new();
    let p = fake.path().join("42");
    std::fs::create_dir(&p).unwrap();
    // The kernel escapes newline and backslash in status's Name, and writes comm raw.
    std::fs::write(
        p.join("status"),
        b"Name:\t\r a\\\\b\\nc\nUid:\t0\t0\t0\t0\n",
    )
    .unwrap();
    std::fs::write(p.join("comm"), b"\r a\\b\nc\n").unwrap();
    let passwd = FakeUsers::standard();
    let users = Users::new(&passwd);
    let d = DetailsReader::new(fake.path(), &users, 100).read(42);
    assert_eq!(d.name, Ok(b"\r a\\b\nc".to_vec()));
}

#[test]
fn uptime_is_read_once_for_all_the_processes_of_a_report() {
    let fake = FakeProc::new();
    for pid in [1, 2] {
        fake.add(&FakeProcess {
            pid,
            start_ticks: 1000,
            ..FakeProcess::default()
        });
    }
    std::fs::write(fake.path().join("uptime"), "30.00 0\n").unwrap();
    let passwd = FakeUsers::standard();
    let users = Users::new(&passwd);
    let reader = DetailsReader::new(fake.path(), &users, 100);
    assert_eq!(reader.read(1).running_for, Ok(Duration::from_secs(20)));
    std::fs::write(fake.path().join("uptime"), "90.00 0\n").unwrap();
    assert_eq!(reader.read(2).running_for, Ok(Duration::from_secs(20)));
    let next_report = DetailsReader::new(fake.path(), &users, 100);
    assert_eq!(next_report.read(2).running_for, Ok(Duration::from_secs(80)));
}

#[test]
fn each_user_is_looked_up_once_in_a_report() {
    let fake = processes_of(&[(1, 0), (2, 0), (3, 1000), (4, 1000)]);
    let passwd = FakeUsers::new(&[(0, b"ro\not")]);
    let users = Users::new(&passwd);
    let reader = DetailsReader::new(fake.path(), &users, 100);
    let names: Vec<_> = (1..=4)
        .map(|pid| reader.read(pid).user.unwrap().name)
        .collect();
    let root = Some(b"ro\not".to_vec());
    assert_eq!(names, [root.clone(), root, None, None]);
    assert_eq!(
        passwd.lookups.get(),
        2,
        "once for uid 0, once for uid 1000 (not found)"
    );
}

#[test]
fn the_cut_names_and_the_details_of_a_report_share_one_lookup_per_user() {
    let fake = processes_of(&[(10, 1000), (11, 1000)]);
    let mut t = table(&[
        "verylon+ 10 0.0 0.0 1 1 ? S 10:00 0:00 a",
        "verylon+ 11 0.0 0.0 1 1 ? S 10:00 0:00 b",
    ]);
    let passwd = FakeUsers::standard();
    let users = Users::new(&passwd);
    expand_cut_names(&mut t, fake.path(), &users);
    let reader = DetailsReader::new(fake.path(), &users, 100);
    assert!(reader.read(10).user.is_ok() && reader.read(11).user.is_ok());
    assert_eq!(
        passwd.lookups.get(),
        1,
        "uid 1000, once for the whole report"
    );
}

#[test]
fn a_parent_shared_by_processes_is_read_once_in_a_report() {
    let fake = FakeProc::new();
    for (pid, ppid) in [(1, 0), (10, 1), (11, 1)] {
        fake.add(&FakeProcess {
            pid,
            ppid,
            name: format!("p{pid}").into_bytes(),
            ..FakeProcess::default()
        });
    }
    let passwd = FakeUsers::standard();
    let users = Users::new(&passwd);
    let reader = DetailsReader::new(fake.path(), &users, 100);
    let parent_of = |pid| reader.read(pid).parent.unwrap().name;
    assert_eq!(parent_of(10), Ok(b"p1".to_vec()));
    std::fs::write(fake.path().join("1/comm"), "renamed\n").unwrap();
    assert_eq!(parent_of(11), Ok(b"p1".to_vec()), "read once per report");
    assert_eq!(reader.read(1).name, Ok(b"p1".to_vec()));
    assert_eq!(parent_of(1), Ok(b"kernel".to_vec()));
    let next_report = DetailsReader::new(fake.path(), &users, 100);
    assert_eq!(
        next_report.read(10).parent.unwrap().name,
        Ok(b"renamed".to_vec())
    );
}

/// PID 1, read from the real /proc, agrees with what its files say read another way.
#[test]
fn the_real_init_process_reads() {
    let users = Users::new(&SystemUsers);
    let init = DetailsReader::new(Path::new("/proc"), &users, clock_ticks()).read(1);
    let status = std::fs::read("/proc/1/status").unwrap();
    let field = |name: &str| {
        let value = status_field(&status, name.as_bytes()).unwrap();
        String::from_utf8_lossy(value)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let mut comm = std::fs::read("/proc/1/comm").unwrap();
    comm.pop();
    assert_eq!(init.name, Ok(comm));
    assert_eq!(init.user.unwrap().uid, field("Uid").parse::<u32>().unwrap());
    assert_eq!(init.parent.unwrap().pid, 0);
    assert_eq!(init.threads, Ok(field("Threads").parse().unwrap()));
    let cmdline = std::fs::read("/proc/1/cmdline").unwrap();
    let first_arg = cmdline.split(|&b| b == 0).next().unwrap();
    assert!(init.command.unwrap().starts_with(first_arg));
    // Its working directory needs ptrace rights over it (the service's capability); without
    // them the detail says so.
    let cwd = match std::fs::read_link("/proc/1/cwd") {
        Ok(path) => Ok(path.into_os_string().into_encoded_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(Unavailable::PermissionDenied)
        }
        Err(e) => panic!("/proc/1/cwd: {e}"),
    };
    assert_eq!(init.cwd, cwd);
    let running = init.running_for.unwrap();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        running.as_secs_f64() <= uptime + 1.0
            && running.as_secs_f64() > uptime - 3600.0 * 24.0 * 365.0,
        "{running:?} against an uptime of {uptime}"
    );
}
