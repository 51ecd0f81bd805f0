//! User names: the passwd database behind a seam, looked up once per uid in a report, and the
//! full names put in where ps cut them (`verylon+`), from the uid in `<proc-root>/PID/status`.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{Remembered, read_proc_file, status_uid};
use crate::parse::ps::{PsRow, PsTable, RowId};
use crate::text::escape::{escape, escape_word};

/// The passwd database, behind a seam so tests need no real long-named users.
pub trait UserNames {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>>;
}

/// The system's passwd database (NSS, so LDAP and sssd users resolve too in a glibc build).
/// Through `uzers`, which hands the name over as the bytes passwd holds; nix's `User` would
/// replace invalid UTF-8 in it, and the log shows such bytes as `\xNN`.
pub struct SystemUsers;

impl UserNames for SystemUsers {
    fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
        uzers::get_user_by_uid(uid).map(|user| user.name().as_bytes().to_vec())
    }
}

/// The names of one report: each uid is looked up once, since the biggest processes often share
/// a user and each lookup reads the passwd database anew.
pub struct Users<'a> {
    names: &'a dyn UserNames,
    known: Remembered<Option<Vec<u8>>>,
}

impl<'a> Users<'a> {
    pub fn new(names: &'a dyn UserNames) -> Users<'a> {
        Users {
            names,
            known: Remembered::new(),
        }
    }

    pub fn name_of(&self, uid: u32) -> Option<Vec<u8>> {
        self.known.get(uid, || self.names.name_of(uid))
    }
}

/// Puts the full name in for every user name ps cut whose process still exists. The full name
/// must start with what ps printed: if the PID was reused by another user's process meanwhile,
/// ps's text is kept. So is a full name that would not show as one word (see
/// [`shows_as_one_word`]). The thread rows of `ps auxm` that carry the same cut name get it too.
pub fn expand_cut_names(table: &mut PsTable, proc_root: &Path, users: &Users) {
    let mut edits: Vec<(RowId, Vec<u8>)> = Vec::new();
    for process in table.processes() {
        let row = process.row();
        let (Some(pid), true) = (row.pid, looks_cut(&row)) else {
            continue;
        };
        let Some(full) = real_uid(proc_root, pid).and_then(|uid| users.name_of(uid)) else {
            continue;
        };
        if !shows_as_one_word(&full) {
            continue;
        }
        // Compared as shown: that is what a reader takes for the start of the name.
        let (shown_full, shown_cut) = (escape(&full), escape_word(row.user));
        let prefix = shown_cut.trim_end_matches('+');
        if shown_full.starts_with(prefix) && shown_full.chars().count() > prefix.chars().count() {
            for (id, cell) in process.rows_with_ids() {
                if cell.user == row.user {
                    edits.push((id, full.clone()));
                }
            }
        }
    }
    for (id, full) in edits {
        table.set_full_user(id, full);
    }
}

/// ps shows at most 8 characters of a name and marks a cut with `+` in the last one; counted as
/// the log shows the cell.
fn looks_cut(row: &PsRow) -> bool {
    let shown = escape_word(row.user);
    shown.chars().count() == 8 && shown.ends_with('+')
}

/// A full name goes where ps printed one word, at the very start of a table line. Names from NSS
/// (LDAP, sssd) may hold blanks; one such name would shift the row's columns and could begin the
/// line with text that imitates a report header or a new-log marker. Characters that most fonts
/// draw as a blank count as blanks here, since they fake the same thing to a reader. (ps's own
/// cells show such characters escaped; a full name is refused instead, as ps's text is better.)
/// Control characters are shown escaped anyway, so they cannot shift a column.
fn shows_as_one_word(name: &[u8]) -> bool {
    escape(name) == escape_word(name)
}

/// The real uid of a process, from its `status`.
fn real_uid(proc_root: &Path, pid: u32) -> Option<u32> {
    let status = read_proc_file(&proc_root.join(pid.to_string()).join("status")).ok()?;
    status_uid(&status).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_passwd_database_knows_root() {
        assert_eq!(SystemUsers.name_of(0), Some(b"root".to_vec()));
        assert_eq!(SystemUsers.name_of(4_000_000_000), None);
    }

    #[test]
    fn a_name_shows_as_one_word_unless_it_holds_a_blank() {
        assert!(shows_as_one_word(b"verylongusername"));
        assert!(
            shows_as_one_word(b"verylongname\x1b[2J"),
            "escaped, not blank"
        );
        assert!(shows_as_one_word(b"a\tb"), "a tab shows as \\x09");
        assert!(!shows_as_one_word(b"john smith"));
        assert!(!shows_as_one_word("verylong\u{a0}name".as_bytes()));
        assert!(!shows_as_one_word("verylong\u{2800}name".as_bytes()));
    }
}
