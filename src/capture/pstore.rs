//! What the machine keeps of how its last boot ended: the kernel's persistent store
//! (`<sys-root>/fs/pstore`) holds a record of a panic or an oops (`dmesg-*` files) across a
//! reboot, until something (such as systemd-pstore.service) moves it away.

use std::path::Path;

use crate::text::escape::escape;

/// One line per crash record found, naming its file: `pstore: dmesg-ramoops-0 holds a crash
/// record`. Nothing when the directory is missing or unreadable: no evidence either way.
pub fn crash_records(sys_root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(sys_root.join("fs/pstore")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|name| name.as_encoded_bytes().starts_with(b"dmesg-"))
        .map(|name| escape(name.as_encoded_bytes()))
        .collect();
    names.sort();
    match names.as_slice() {
        [] => Vec::new(),
        [one] => vec![format!("pstore: {one} holds a crash record")],
        [first, rest @ ..] => vec![format!(
            "pstore: {first} and {} more files hold crash records",
            rest.len()
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_records_are_named() {
        let sys = tempfile::tempdir().unwrap();
        assert!(crash_records(sys.path()).is_empty(), "no pstore");
        let pstore = sys.path().join("fs/pstore");
        std::fs::create_dir_all(&pstore).unwrap();
        std::fs::write(pstore.join("console-ramoops-0"), "").unwrap();
        assert!(
            crash_records(sys.path()).is_empty(),
            "a console log is no crash"
        );
        std::fs::write(pstore.join("dmesg-ramoops-0"), "").unwrap();
        assert_eq!(
            crash_records(sys.path()),
            ["pstore: dmesg-ramoops-0 holds a crash record"]
        );
        std::fs::write(pstore.join("dmesg-ramoops-1"), "").unwrap();
        std::fs::write(pstore.join("dmesg-\x1b[2J"), "").unwrap();
        assert_eq!(
            crash_records(sys.path()),
            ["pstore: dmesg-\\x1b[2J and 2 more files hold crash records"]
        );
    }
}
