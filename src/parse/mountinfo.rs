//! `/proc/PID/mountinfo`: the tmpfs and ramfs mounts, whose files take RAM no process shows.
//!
//! One line per mount (`man 5 proc_pid_mountinfo`):
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
//! ```
//!
//! Fields are separated by single spaces. (5) is the mount point, relative to the reading
//! process's root; the kernel escapes a space, tab, newline and backslash in it as `\040`,
//! `\011`, `\012` and `\134` (`mangle` in fs/proc_namespace.c), and leaves every other byte raw,
//! invalid UTF-8 included. Zero or more optional fields (7) end at the field `-` (8); the field
//! after it is the filesystem type (9).

/// The mount points (unescaped, raw bytes) of the tmpfs and ramfs mounts that can be seen, each
/// once, in the order of the file.
///
/// A mount on a point already listed hides the one before it: the point is then listed once, at
/// the place of the later (visible) mount, and only if that one is a tmpfs or ramfs too; a
/// tmpfs hidden by a disk filesystem mounted over it is left out, since nothing reached through
/// its path is on it any more. Mount points are compared unescaped. Lines that do not have the
/// fields up to the type are ignored.
///
/// Not done here: a mount hidden by one on a directory above it is still listed, and a bind
/// mount of a tmpfs (a second mount of the same filesystem, `major:minor` equal, root not `/`)
/// is listed as a mount point of its own, so a caller adding up what each point's filesystem
/// holds should count each device once.
///
/// ```
/// use memory_monitor::parse::mountinfo::ram_mounts;
/// let text = b"25 24 0:23 / /dev/shm rw - tmpfs tmpfs rw\n\
///              27 1 254:0 / / rw - ext4 /dev/vda rw\n\
///              28 27 0:25 / /mnt/my\\040disk rw shared:9 - ramfs none rw\n";
/// assert_eq!(ram_mounts(text), [b"/dev/shm".to_vec(), b"/mnt/my disk".to_vec()]);
/// ```
pub fn ram_mounts(text: &[u8]) -> Vec<Vec<u8>> {
    let mut found: Vec<Vec<u8>> = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let Some((point, fs_type)) = point_and_type(line) else {
            continue;
        };
        let ram = matches!(fs_type, b"tmpfs" | b"ramfs");
        match found
            .iter()
            .position(|seen| unescape(point).eq(seen.iter().copied()))
        {
            Some(at) => {
                let seen = found.remove(at);
                if ram {
                    found.push(seen);
                }
            }
            None if ram => found.push(unescape(point).collect()),
            None => {}
        }
    }
    found
}

/// The mount point (still escaped) and the filesystem type of one line.
fn point_and_type(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut fields = line.split(|&b| b == b' ');
    for _ in 0..4 {
        fields.next().filter(|field| !field.is_empty())?;
    }
    let point = fields.next().filter(|field| !field.is_empty())?;
    fields.next()?; // the mount options
    fields.find(|&field| field == b"-")?;
    let fs_type = fields.next().filter(|field| !field.is_empty())?;
    Some((point, fs_type))
}

/// The bytes of an escaped field: `\` and three octal digits stand for one byte; any other
/// backslash, which the kernel would not have written, is kept as it is.
fn unescape(field: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut rest = field;
    std::iter::from_fn(move || {
        let (&byte, after) = rest.split_first()?;
        if byte == b'\\'
            && let Some(escaped) = octal_byte(after)
        {
            rest = after.get(3..).unwrap_or_default();
            return Some(escaped);
        }
        rest = after;
        Some(byte)
    })
}

/// The byte that three octal digits at the start of `after_backslash` stand for (`\000` to
/// `\377`).
fn octal_byte(after_backslash: &[u8]) -> Option<u8> {
    let [high, middle, low, ..] = *after_backslash else {
        return None;
    };
    let digit = |d: u8| (b'0'..=b'7').contains(&d).then(|| d - b'0');
    let value =
        u32::from(digit(high)?) << 6 | u32::from(digit(middle)?) << 3 | u32::from(digit(low)?);
    u8::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(text: &[u8]) -> Vec<Vec<u8>> {
        ram_mounts(text)
    }

    #[test]
    fn the_man_page_example_is_no_ram_mount() {
        let text =
            b"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n";
        assert!(mounts(text).is_empty());
        let text =
            b"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - tmpfs /dev/root rw,errors=continue\n";
        assert_eq!(mounts(text), [b"/mnt2".to_vec()]);
    }

    #[test]
    fn tmpfs_and_ramfs_in_file_order() {
        let text =
            b"18 22 0:15 / /run rw,nosuid,nodev shared:11 - tmpfs tmpfs rw,size=989672k,mode=755\n\
19 18 0:16 / /run/keys rw,nosuid,nodev,relatime shared:12 - ramfs ramfs rw,mode=750,gid=96\n\
21 22 0:18 / /sys rw,nosuid,nodev,noexec,relatime shared:5 - sysfs sysfs rw\n\
24 22 0:6 / /dev rw,nosuid shared:8 - devtmpfs devtmpfs rw,size=197936k\n\
22 1 0:19 / / rw,relatime shared:1 - tmpfs tmpfs rw,mode=755\n";
        assert_eq!(
            mounts(text),
            [b"/run".to_vec(), b"/run/keys".to_vec(), b"/".to_vec()]
        );
    }

    #[test]
    fn no_optional_fields_and_many() {
        let text = b"1 0 0:1 / /a rw - tmpfs t rw\n2 0 0:2 / /b rw shared:1 master:2 propagate_from:3 unbindable - tmpfs t rw\n";
        assert_eq!(mounts(text), [b"/a".to_vec(), b"/b".to_vec()]);
    }

    #[test]
    fn other_types_are_not_ram() {
        let text = b"1 0 0:1 / /a rw - devtmpfs d rw\n2 0 0:2 / /b rw - tmpfs2 t rw\n3 0 0:3 / /c rw - fuse.tmpfs t rw\n4 0 0:4 / /d rw - TMPFS t rw\n";
        assert!(mounts(text).is_empty());
    }

    #[test]
    fn escapes_are_undone() {
        let text = b"1 0 0:1 / /mnt/a\\040b\\011c\\134d rw - tmpfs t rw\n";
        assert_eq!(mounts(text), [b"/mnt/a b\tc\\d".to_vec()]);
    }

    #[test]
    fn a_newline_in_a_mount_point_arrives_as_012() {
        let text =
            b"1 0 0:1 / /tmp/line\\012break rw - tmpfs t rw\n2 0 0:2 / /tmp/x rw - tmpfs t rw\n";
        assert_eq!(
            mounts(text),
            [b"/tmp/line\nbreak".to_vec(), b"/tmp/x".to_vec()]
        );
    }

    #[test]
    fn invalid_utf8_stays_raw() {
        let text = b"1 0 0:1 / /mnt/caf\xc3\xa9\xff\xfe rw - ramfs r rw\n";
        assert_eq!(mounts(text), [b"/mnt/caf\xc3\xa9\xff\xfe".to_vec()]);
    }

    #[test]
    fn odd_backslashes_are_kept() {
        let text = b"1 0 0:1 / /a\\9 rw - tmpfs t rw\n2 0 0:2 / /b\\04 rw - tmpfs t rw\n3 0 0:3 / /c\\ rw - tmpfs t rw\n4 0 0:4 / /d\\400 rw - tmpfs t rw\n5 0 0:5 / /e\\377 rw - tmpfs t rw\n";
        assert_eq!(
            mounts(text),
            [
                b"/a\\9".to_vec(),
                b"/b\\04".to_vec(),
                b"/c\\".to_vec(),
                b"/d\\400".to_vec(),
                b"/e\xff".to_vec()
            ]
        );
    }

    /// The later mount is the one seen through the path; it keeps one entry, at its own place.
    #[test]
    fn a_later_mount_on_the_same_point_hides_the_earlier() {
        let text = b"25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw\n\
26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw\n\
28 27 0:25 / /run rw - tmpfs tmpfs rw\n\
30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw\n";
        assert_eq!(mounts(text), [b"/run".to_vec(), b"/dev/shm".to_vec()]);
    }

    #[test]
    fn a_disk_mounted_over_a_tmpfs_hides_it() {
        let text = b"1 0 0:1 / /tmp rw - tmpfs t rw\n2 0 8:1 / /tmp rw - ext4 /dev/sda1 rw\n";
        assert!(mounts(text).is_empty());
        // ... and a tmpfs over a disk is seen.
        let text = b"1 0 8:1 / /tmp rw - ext4 /dev/sda1 rw\n2 0 0:1 / /tmp rw - tmpfs t rw\n";
        assert_eq!(mounts(text), [b"/tmp".to_vec()]);
    }

    #[test]
    fn points_are_compared_unescaped() {
        let text = b"1 0 0:1 / /a\\040b rw - tmpfs t rw\n2 0 8:1 / /a\\040b rw - ext4 d rw\n3 0 0:3 / /a\\040b rw - tmpfs t rw\n4 0 0:4 / /a\\040bc rw - tmpfs t rw\n";
        assert_eq!(mounts(text), [b"/a b".to_vec(), b"/a bc".to_vec()]);
    }

    #[test]
    fn malformed_lines_are_ignored() {
        let text = b"\n1 0 0:1 / /a rw tmpfs t rw\n1 0 0:1 / /b rw -\n1 0 0:1 / /c rw - \n  0:1 / /d rw - tmpfs t rw\n1 0 0:1\n-\n - tmpfs\n1 0 0:1 / /ok rw - tmpfs";
        assert_eq!(mounts(text), [b"/ok".to_vec()]);
        assert!(mounts(b"").is_empty());
    }

    #[test]
    fn the_separator_must_be_a_field_of_its_own() {
        let text = b"1 0 0:1 / /a rw,- x-y - tmpfs t rw\n2 0 0:2 / /b rw x- -tmpfs t rw\n";
        assert_eq!(mounts(text), [b"/a".to_vec()]);
    }

    #[test]
    fn hostile_bytes_do_not_panic() {
        for text in [
            &b"\\"[..],
            b"1 0 0:1 / \\ rw - tmpfs",
            b"1 0 0:1 / \\1 rw - tmpfs",
            b"1 0 0:1 / \\12 rw - tmpfs",
            b"\xff \xff \xff \xff \xff \xff - tmpfs",
            b"- - - - - - - tmpfs",
        ] {
            let _ = mounts(text);
        }
        assert_eq!(mounts(b"- - - - - - - tmpfs"), [b"-".to_vec()]);
    }
}
