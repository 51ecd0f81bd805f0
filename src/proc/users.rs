//! Full user names where ps cut them (`verylon+`): the uid comes from `<proc-root>/PID/status`,
//! the name from the passwd database (NSS, so LDAP and sssd users resolve too).

use std::collections::HashMap;
use std::ffi::CStr;
use std::path::Path;

use crate::parse::ps::{PsTable, RowId, USER};
use crate::text::escape::{escape, looks_blank};

/// The passwd database, behind a seam so tests need no real long-named users.
pub trait UserNames {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>>;
}

/// The system's passwd database through `getpwuid_r`.
pub struct SystemUsers;

impl UserNames for SystemUsers {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 1024];
        loop {
            // SAFETY: passwd is plain old data; getpwuid_r writes it and the strings it points to
            // into `buf`, whose length we pass, and we read the name only when it succeeded.
            let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
            let mut found: *mut libc::passwd = std::ptr::null_mut();
            let rc = unsafe {
                libc::getpwuid_r(
                    uid,
                    &mut pwd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut found,
                )
            };
            if rc == libc::ERANGE && buf.len() < 1 << 20 {
                buf.resize(buf.len() * 4, 0);
                continue;
            }
            if rc != 0 || found.is_null() || pwd.pw_name.is_null() {
                return None;
            }
            // SAFETY: on success pw_name is a NUL-terminated string inside `buf`.
            return Some(unsafe { CStr::from_ptr(pwd.pw_name) }.to_bytes().to_vec());
        }
    }
}

/// ps shows at most 8 characters of a name and marks a cut with `+` in the last one.
fn looks_cut(user: &str) -> bool {
    user.chars().count() == 8 && user.ends_with('+')
}

/// Replaces every cut user name whose process still exists with the full name. The full name must
/// start with what ps printed: if the PID was reused by another user's process meanwhile, ps's
/// text is kept. So is a full name that would not read as one word (see [`reads_as_one_word`]).
pub fn expand_cut_names(table: &mut PsTable, proc_root: &Path, users: &dyn UserNames) {
    let mut by_uid: HashMap<u32, Option<String>> = HashMap::new();
    let mut edits: Vec<(RowId, String)> = Vec::new();
    for process in table.processes() {
        let row = process.row();
        let (Some(pid), true) = (row.pid(), looks_cut(row.user())) else {
            continue;
        };
        let Some(uid) = real_uid(proc_root, pid) else {
            continue;
        };
        let full = by_uid
            .entry(uid)
            .or_insert_with(|| users.name_of(uid).map(|n| escape(&n)));
        let Some(full) = full.as_ref().filter(|name| reads_as_one_word(name)) else {
            continue;
        };
        let prefix = row.user().trim_end_matches('+');
        if full.starts_with(prefix) && full.chars().count() > prefix.chars().count() {
            for thread in process.threads() {
                if thread.user() == row.user() {
                    edits.push((thread.id(), full.clone()));
                }
            }
            edits.push((row.id(), full.clone()));
        }
    }
    // All at once: the table grows its text once for them.
    let edits: Vec<(RowId, usize, &str)> = edits
        .iter()
        .map(|(row, full)| (*row, USER, full.as_str()))
        .collect();
    table.set_cells(&edits);
}

/// A full name goes where ps printed one word, at the very start of a table line. Names from NSS
/// (LDAP, sssd) may hold blanks; one such name would shift the row's columns and could begin the
/// line with text that imitates a report header or a new-log marker. Characters that most fonts
/// draw as a blank count as blanks here, since they fake the same thing to a reader. (ps's own
/// cells show such characters escaped; a full name is refused instead, as ps's text is better.)
fn reads_as_one_word(name: &str) -> bool {
    !name.chars().any(looks_blank)
}

/// The real uid, first of the four on the `Uid:` line of `/proc/PID/status`.
pub fn real_uid(proc_root: &Path, pid: u32) -> Option<u32> {
    let status =
        crate::proc::details::read_proc_file(&proc_root.join(pid.to_string()).join("status"))
            .ok()?;
    crate::proc::details::status_uid(&status).ok()
}

/// The value after `Name:` in a status-style file, without the one tab the kernel puts after the
/// colon. Only that tab: a process name may itself begin with blanks or a carriage return, and
/// numbers are read word by word anyway.
pub fn status_field<'a>(status: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    status.split(|&b| b == b'\n').find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(b":")?;
        Some(rest.strip_prefix(b"\t").unwrap_or(rest))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::parse::ps;

    struct FakeUsers;
    impl UserNames for FakeUsers {
        fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
            match uid {
                1000 => Some(b"verylongusername".to_vec()),
                1001 => Some(b"someoneelse".to_vec()),
                1002 => Some(b"evil\x1bname\n".to_vec()),
                1003 => Some(
                    b"2026-11-22 14:03:15 +01:00 | incident 9 | RAM 99.0% (3.66 of 3.70 GiB)"
                        .to_vec(),
                ),
                1004 => Some("verylong\u{a0}name".as_bytes().to_vec()),
                1005 => Some("verylong\u{2800}name".as_bytes().to_vec()),
                1006 => Some(b"verylongname\x1b[2J".to_vec()),
                _ => None,
            }
        }
    }

    /// A proc root with a `status` for each (PID, uid).
    pub(crate) fn fake_proc(entries: &[(u32, u32)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (pid, uid) in entries {
            let p = dir.path().join(pid.to_string());
            std::fs::create_dir(&p).unwrap();
            std::fs::write(
                p.join("status"),
                format!("Name:\tx\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
            )
            .unwrap();
        }
        dir
    }

    fn table(rows: &[&str]) -> PsTable {
        let mut text = String::from("USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n");
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        ps::parse(text.as_bytes()).unwrap()
    }

    fn users_of(t: &PsTable) -> Vec<&str> {
        t.processes().map(|p| p.row().user()).collect()
    }

    #[test]
    fn cut_names_of_live_processes_are_expanded() {
        let proc_root = fake_proc(&[(10, 1000), (11, 1001), (12, 1000), (14, 4242)]);
        let mut t = table(&[
            "verylon+ 10 0.0 0.0 1 1 ? S 10:00 0:00 a", // expanded
            "verylon+ 11 0.0 0.0 1 1 ? S 10:00 0:00 b", // PID reused by someone else: kept
            "root 12 0.0 0.0 1 1 ? S 10:00 0:00 c",     // not cut: kept
            "verylon+ 13 0.0 0.0 1 1 ? S 10:00 0:00 d", // process gone: kept
            "verylon+ 14 0.0 0.0 1 1 ? S 10:00 0:00 e", // uid without a name: kept
        ]);
        expand_cut_names(&mut t, proc_root.path(), &FakeUsers);
        assert_eq!(
            users_of(&t),
            vec![
                "verylongusername",
                "verylon+",
                "root",
                "verylon+",
                "verylon+"
            ]
        );
    }

    #[test]
    fn names_with_escaped_bytes_are_left_as_ps_printed() {
        let proc_root = fake_proc(&[(10, 1002)]);
        let mut t = table(&["evil\x1bna+ 10 0.0 0.0 1 1 ? S 10:00 0:00 a"]);
        // ps's own cell was escaped, so its prefix is the escaped form too.
        assert_eq!(users_of(&t), vec!["evil\\x1bna+"]);
        expand_cut_names(&mut t, proc_root.path(), &FakeUsers);
        assert_eq!(
            users_of(&t),
            vec!["evil\\x1bna+"],
            "prefix of the escaped name differs: kept"
        );
    }

    #[test]
    fn full_names_that_do_not_read_as_one_word_are_refused() {
        let proc_root = fake_proc(&[(10, 1003), (11, 1004), (12, 1005), (13, 1006)]);
        let mut t = table(&[
            "2026-11+ 10 0.0 0.0 1 1 ? S 10:00 0:00 a",
            "verylon+ 11 0.0 0.0 1 1 ? S 10:00 0:00 b",
            "verylon+ 12 0.0 0.0 1 1 ? S 10:00 0:00 c",
            "verylon+ 13 0.0 0.0 1 1 ? S 10:00 0:00 d",
        ]);
        expand_cut_names(&mut t, proc_root.path(), &FakeUsers);
        assert_eq!(
            users_of(&t),
            vec![
                "2026-11+",
                "verylon+",
                "verylon+",
                // Escaped control bytes cannot shift a column: the full name is taken.
                "verylongname\\x1b[2J"
            ]
        );
    }

    #[test]
    fn status_field_reads_values() {
        let status = b"Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t    5120 kB\n";
        assert_eq!(status_field(status, b"Name"), Some(&b"bash"[..]));
        assert_eq!(status_field(status, b"VmRSS"), Some(&b"    5120 kB"[..]));
        assert_eq!(status_field(status, b"Vm"), None);
        let name = b"Name:\t\r ev il\nUid:\t0\n";
        assert_eq!(status_field(name, b"Name"), Some(&b"\r ev il"[..]));
    }

    #[test]
    fn the_real_passwd_database_knows_root() {
        assert_eq!(SystemUsers.name_of(0), Some(b"root".to_vec()));
        assert_eq!(SystemUsers.name_of(4_000_000_000), None);
    }
}
