//! journald's native protocol (<https://systemd.io/JOURNAL_NATIVE_PROTOCOL/>): one entry per
//! datagram on journald's socket, or, for an entry too big for a datagram, an empty datagram
//! carrying a sealed memfd that holds it. The behaviour follows libsystemd's `sd_journal_sendv`,
//! except that a send never waits.

use std::fs::File;
use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, memfd_create};
use rustix::io::Errno;
use rustix::net::{
    AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix,
    SocketFlags, SocketType, sendmsg_addr, sendto, socket_with, sockopt,
};

/// Where journald listens for native entries.
pub const DEFAULT_PATH: &str = "/run/systemd/journal/socket";

/// The send buffer `sd_journal_sendv` asks for. A datagram must fit in it, and the entries
/// journald has not read yet count against it: a bigger one sends bigger entries without a memfd
/// and holds more of them while journald is busy.
const SEND_BUFFER: usize = 8 * 1024 * 1024;

/// Never wait, so that a stuck journald cannot stop the watch; and no SIGPIPE.
const FLAGS: SendFlags = SendFlags::DONTWAIT.union(SendFlags::NOSIGNAL);

/// Appends one entry to `out` in the native format: each field as `NAME=value\n`, or, when the
/// value holds a newline, as `NAME\n`, the value's length (little-endian u64), the value, `\n`.
///
/// Each name must be a journal field name: `A`–`Z`, `0`–`9` and `_`, at most 64 bytes, not
/// starting with a digit or `_` (those are journald's own trusted fields). journald drops a field
/// with another name, and a name holding `=` or a newline garbles the fields after it. Names are
/// the program's own constants, so this is checked in debug builds only.
pub fn serialize(fields: &[(&str, &[u8])], out: &mut Vec<u8>) {
    for &(name, value) in fields {
        debug_assert!(is_field_name(name), "not a journal field name: {name:?}");
        out.extend_from_slice(name.as_bytes());
        if value.contains(&b'\n') {
            out.push(b'\n');
            out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        } else {
            out.push(b'=');
        }
        out.extend_from_slice(value);
        out.push(b'\n');
    }
}

/// journald's rule for the names a client may send.
fn is_field_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(b'A'..=b'Z'))
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// A socket that sends entries to journald. It is not connected: each send names the path, so a
/// journald that restarted (a new socket at the same path) gets the next entry as it is.
pub struct JournalSocket {
    fd: OwnedFd,
    address: SocketAddrUnix,
}

impl JournalSocket {
    /// A socket for the journal at `path`, normally [`DEFAULT_PATH`]. It fails only when no
    /// socket can be made or the path is too long for a socket address: whether journald
    /// listens shows at each send.
    pub fn open(path: &Path) -> io::Result<JournalSocket> {
        let address = SocketAddrUnix::new(path)?;
        let fd = socket_with(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            None,
        )?;
        // SO_SNDBUF stops at net.core.wmem_max; SO_SNDBUFFORCE goes past it, with CAP_NET_ADMIN
        // only (the service has not). If both fall short the buffer is smaller and more entries
        // go in a memfd. The kernel reports twice the size set: it counts its bookkeeping in.
        let _ = sockopt::set_socket_send_buffer_size(&fd, SEND_BUFFER);
        if sockopt::socket_send_buffer_size(&fd).is_ok_and(|size| size < 2 * SEND_BUFFER) {
            let _ = sockopt::set_socket_send_buffer_size_force(&fd, SEND_BUFFER);
        }
        Ok(JournalSocket { fd, address })
    }

    /// Sends one entry of `fields` ([`serialize`] says what names may be). It never waits: while
    /// journald's queue is full it fails with `WouldBlock` and the entry is lost, unless the
    /// caller sends it again. Unlike `sd_journal_sendv` it also says when no journald listens
    /// (`NotFound`, `ConnectionRefused`), for the caller to decide whether that matters.
    pub fn send(&self, fields: &[(&str, &[u8])]) -> io::Result<()> {
        let mut entry = Vec::new();
        serialize(fields, &mut entry);
        match sendto(&self.fd, &entry, FLAGS, &self.address) {
            Ok(_) => Ok(()),
            // Too big for one datagram: bigger than the send buffer, or more than the kernel
            // could allocate in one piece.
            Err(Errno::MSGSIZE | Errno::NOBUFS) => self.send_in_memfd(&entry),
            // Unlike sd_journal_sendv, not EAGAIN: journald's queue full or our send buffer full
            // of its unread entries, both refuse the memfd's datagram as well.
            Err(error) => Err(error.into()),
        }
    }

    fn send_in_memfd(&self, entry: &[u8]) -> io::Result<()> {
        let mut memfd = File::from(new_memfd()?);
        memfd.write_all(entry)?;
        // journald maps a sealed memfd as it is, knowing that it cannot change or shrink under
        // it; an unsealed memfd it takes only from root.
        let sealed = SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL;
        fcntl_add_seals(&memfd, sealed)?;

        let fds = [memfd.as_fd()];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(io::Error::other(
                "no room for the memfd in the control message",
            ));
        }
        // The protocol wants the datagram itself empty when it carries the entry in a memfd.
        // As one empty slice rather than none: the kernel sends the same empty datagram, and
        // qemu-user, where the Pi builds are tested, sends nothing at all for none.
        sendmsg_addr(
            &self.fd,
            &self.address,
            &[std::io::IoSlice::new(&[])],
            &mut control,
            FLAGS,
        )?;
        Ok(())
    }
}

/// A memfd that can be sealed. With MFD_NOEXEC_SEAL, as systemd's: from Linux 6.3 on, a memfd
/// made without it (or MFD_EXEC) gets a warning in the kernel log (6.3 to 6.6), or is refused
/// under vm.memfd_noexec=2. Kernels before 6.3 reject the flag (EINVAL) and get one without it.
fn new_memfd() -> io::Result<OwnedFd> {
    const NAME: &str = "journal-entry";
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    match memfd_create(NAME, flags | MemfdFlags::NOEXEC_SEAL) {
        Err(Errno::INVAL) => Ok(memfd_create(NAME, flags)?),
        result => Ok(result?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::fcntl_get_seals;
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, recvmsg};
    use std::io::{IoSliceMut, Read, Seek, SeekFrom};
    use std::os::unix::net::UnixDatagram;
    use std::sync::mpsc;
    use std::time::Duration;

    fn serialized(fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        serialize(fields, &mut out);
        out
    }

    /// Reads an entry back as journald does.
    fn parse(mut entry: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut fields = Vec::new();
        while !entry.is_empty() {
            let end = entry.iter().position(|&b| b == b'=' || b == b'\n').unwrap();
            let name = String::from_utf8(entry[..end].to_vec()).unwrap();
            let rest = &entry[end + 1..];
            let (value, rest) = if entry[end] == b'=' {
                let newline = rest.iter().position(|&b| b == b'\n').unwrap();
                (&rest[..newline], &rest[newline..])
            } else {
                let length = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
                (&rest[8..8 + length], &rest[8 + length..])
            };
            assert_eq!(rest[0], b'\n', "no newline after {name}");
            fields.push((name, value.to_vec()));
            entry = &rest[1..];
        }
        fields
    }

    fn owned(fields: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        fields
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_vec()))
            .collect()
    }

    /// One datagram: its payload and the file descriptors it carried.
    fn receive(receiver: &UnixDatagram) -> (Vec<u8>, Vec<OwnedFd>) {
        // As big as any datagram can be: the send buffer is at most 16 MiB.
        let mut payload = vec![0; 32 * 1024 * 1024];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let received = recvmsg(
            receiver,
            &mut [IoSliceMut::new(&mut payload)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        )
        .unwrap();
        payload.truncate(received.bytes);
        let mut fds = Vec::new();
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(rights) = message {
                fds.extend(rights);
            }
        }
        (payload, fds)
    }

    /// What a memfd that came in an empty datagram holds, once it is found sealed as journald
    /// wants it.
    fn memfd_entry((payload, mut fds): (Vec<u8>, Vec<OwnedFd>)) -> Vec<u8> {
        assert!(
            payload.is_empty(),
            "a datagram with a memfd holds nothing else"
        );
        assert_eq!(fds.len(), 1);
        let fd = fds.pop().unwrap();
        let seals = fcntl_get_seals(&fd).unwrap();
        let wanted = SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL;
        assert!(seals.contains(wanted), "{seals:?}");
        // The description, and so its offset, is shared with the sender, which wrote to it.
        let mut memfd = File::from(fd);
        memfd.seek(SeekFrom::Start(0)).unwrap();
        let mut entry = Vec::new();
        memfd.read_to_end(&mut entry).unwrap();
        entry
    }

    /// The next entry, whichever way it came.
    fn receive_entry(receiver: &UnixDatagram) -> Vec<u8> {
        match receive(receiver) {
            (payload, fds) if fds.is_empty() => payload,
            datagram => memfd_entry(datagram),
        }
    }

    /// A receiver bound in a new directory, and a socket that sends to it.
    fn pair() -> (tempfile::TempDir, UnixDatagram, JournalSocket) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("socket");
        let receiver = UnixDatagram::bind(&path).unwrap();
        let socket = JournalSocket::open(&path).unwrap();
        (dir, receiver, socket)
    }

    /// A value past any datagram `socket` may send (4 MiB at least), with a newline in it.
    fn too_big_for_a_datagram(socket: &JournalSocket) -> Vec<u8> {
        let send_buffer = sockopt::socket_send_buffer_size(&socket.fd).unwrap();
        let mut value = vec![b'x'; send_buffer.max(4 * 1024 * 1024) + 1];
        value[10] = b'\n';
        value
    }

    #[test]
    fn the_send_buffer_is_as_big_as_allowed() {
        let (_dir, _receiver, socket) = pair();
        // Past net.core.wmem_max only with CAP_NET_ADMIN (bit 12).
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let effective = status.lines().find_map(|line| line.strip_prefix("CapEff:"));
        let net_admin =
            u64::from_str_radix(effective.unwrap().trim(), 16).unwrap() & (1 << 12) != 0;
        let cap: usize = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let allowed = if net_admin {
            SEND_BUFFER
        } else {
            SEND_BUFFER.min(cap)
        };
        let size = sockopt::socket_send_buffer_size(&socket.fd).unwrap();
        assert!(size >= 2 * allowed, "{size} bytes");
    }

    #[test]
    fn plain_values_are_name_equals_value_lines() {
        assert_eq!(
            serialized(&[("MESSAGE", b"Something happened."), ("PRIORITY", b"3")]),
            b"MESSAGE=Something happened.\nPRIORITY=3\n"
        );
        assert_eq!(
            serialized(&[("EMPTY", b""), ("EQUALS", b"a=b")]),
            b"EMPTY=\nEQUALS=a=b\n"
        );
    }

    #[test]
    fn a_value_with_a_newline_is_framed_by_its_length() {
        // The protocol's own example.
        assert_eq!(
            serialized(&[("BINARY_BLOB", b"xx\nx"), ("CODE_LINE", b"77")]),
            b"BINARY_BLOB\n\x04\0\0\0\0\0\0\0xx\nx\nCODE_LINE=77\n"
        );
        let mut long = vec![b'a'; 0x1_02_03];
        long[0] = b'\n';
        let mut expected = b"MESSAGE\n\x03\x02\x01\0\0\0\0\0".to_vec();
        expected.extend_from_slice(&long);
        expected.push(b'\n');
        assert_eq!(serialized(&[("MESSAGE", &long)]), expected);
    }

    #[test]
    fn serialize_appends() {
        let mut out = b"A=1\n".to_vec();
        serialize(&[("B", b"2")], &mut out);
        assert_eq!(out, b"A=1\nB=2\n");
    }

    #[test]
    fn field_names_follow_journald() {
        let longest = "A".repeat(64);
        for name in ["MESSAGE", "A", "CODE_LINE", "X9", "A_", longest.as_str()] {
            assert!(is_field_name(name), "{name}");
        }
        let too_long = "A".repeat(65);
        for name in [
            "", "_PID", "9X", "message", "MESS AGE", "A=B", "A\nB", "É", &too_long,
        ] {
            assert!(!is_field_name(name), "{name:?}");
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not a journal field name")]
    fn a_bad_name_stops_a_debug_build() {
        serialized(&[("_PID", b"1")]);
    }

    #[test]
    fn an_entry_arrives_as_one_datagram_without_fds() {
        let (_dir, receiver, socket) = pair();
        let fields: [(&str, &[u8]); 3] = [
            ("MESSAGE", b"two\nlines"),
            ("PRIORITY", b"4"),
            ("SYSLOG_IDENTIFIER", b"memory-monitor"),
        ];
        socket.send(&fields).unwrap();
        let (payload, fds) = receive(&receiver);
        assert!(fds.is_empty());
        assert_eq!(payload, serialized(&fields));
        assert_eq!(parse(&payload), owned(&fields));
    }

    #[test]
    fn an_entry_bigger_than_the_send_buffer_arrives_as_a_sealed_memfd() {
        let (_dir, receiver, socket) = pair();
        let big = too_big_for_a_datagram(&socket);
        let fields: [(&str, &[u8]); 2] = [("MESSAGE", &big), ("PRIORITY", b"6")];
        socket.send(&fields).unwrap();
        let entry = memfd_entry(receive(&receiver));
        assert!(
            entry == serialized(&fields),
            "the memfd holds another entry"
        );
        assert!(parse(&entry) == owned(&fields));
    }

    #[test]
    fn an_entry_of_any_size_arrives_whole() {
        let (_dir, receiver, socket) = pair();
        // 6 MiB: within a forced send buffer, but more than x86_64's kernel allocates for one
        // datagram, which fails with ENOBUFS; past a smaller buffer, with EMSGSIZE.
        for size in [0, 1000, 300 * 1024, 1024 * 1024, 6 * 1024 * 1024] {
            let mut value = vec![b'y'; size];
            if let Some(middle) = value.get_mut(size / 2) {
                *middle = b'\n';
            }
            let fields: [(&str, &[u8]); 1] = [("MESSAGE", &value)];
            socket.send(&fields).unwrap();
            assert!(
                receive_entry(&receiver) == serialized(&fields),
                "{size} bytes"
            );
        }
    }

    #[test]
    fn with_no_journal_a_send_fails() {
        let dir = tempfile::tempdir().unwrap();
        let missing = JournalSocket::open(&dir.path().join("missing")).unwrap();
        let error = missing.send(&[("MESSAGE", b"x")]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);

        // journald gone, its socket file left behind.
        let path = dir.path().join("gone");
        drop(UnixDatagram::bind(&path).unwrap());
        let gone = JournalSocket::open(&path).unwrap();
        let error = gone.send(&[("MESSAGE", b"x")]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn a_full_queue_fails_at_once_rather_than_waiting() {
        let (_dir, receiver, socket) = pair();
        let big = too_big_for_a_datagram(&socket);
        // In a thread, so that a send that waits fails the test instead of hanging it.
        let (done, outcome) = mpsc::channel();
        std::thread::spawn(move || {
            let small = (0..100_000)
                .map(|_| socket.send(&[("MESSAGE", b"unread")]))
                .find_map(Result::err);
            let big = socket.send(&[("MESSAGE", &big)]).err();
            done.send((small, big)).unwrap();
        });
        let (small, big) = outcome.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(small.unwrap().kind(), io::ErrorKind::WouldBlock);
        assert_eq!(big.unwrap().kind(), io::ErrorKind::WouldBlock);
        drop(receiver);
    }
}
