use super::*;

fn record(bytes: &[u8]) -> KmsgRecord<'_> {
    parse_record(bytes).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(bytes)))
}

#[test]
fn header_fields_are_typed() {
    let r =
        record(b"3,465,8182036810,-;Memory cgroup out of memory: Killed process 18872 (tail)\n");
    assert_eq!(r.level, 3);
    assert_eq!(r.facility, 0);
    assert_eq!(r.seq, 465);
    assert_eq!(r.usec, 8_182_036_810);
    assert_eq!(
        r.text,
        b"Memory cgroup out of memory: Killed process 18872 (tail)"
    );
    assert!(r.from_kernel());
}

#[test]
fn user_space_records_are_not_the_kernels() {
    // `echo '<3>...' > /dev/kmsg` as root on 6.18: the kernel stores it as LOG_USER.
    let r = record(b"11,1673,8219927225,-;Out of memory: Killed process 1 (systemd)\n");
    assert_eq!((r.facility, r.level), (1, 3));
    assert!(!r.from_kernel());
}

#[test]
fn numbers_past_32_bits() {
    let r = record(b"191,18446744073709551615,18446744073709551615,-;x\n");
    assert_eq!(r.seq, u64::MAX);
    assert_eq!(r.usec, u64::MAX);
    assert_eq!((r.facility, r.level), (23, 7));
    assert!(parse_record(b"6,18446744073709551616,1,-;x\n").is_none());
    assert!(
        parse_record(b"4294967296,1,1,-;x\n").is_none(),
        "PRIO past u32"
    );
    let r = record(b"4294967295,1,1,-;x\n");
    assert_eq!((r.facility, r.level), (u32::MAX >> 3, 7));
}

#[test]
fn flags_and_later_fields() {
    assert_eq!(record(b"4,1,2,c;part\n").text, b"part");
    assert_eq!(record(b"4,1,2,+;part\n").text, b"part");
    assert_eq!(record(b"6,1,2,-,caller=T123;text\n").text, b"text");
    assert_eq!(record(b"6,1,2,-,caller=C0,future=1;text\n").text, b"text");
    for bad in [
        &b"6,1,2,x;text\n"[..],
        b"6,1,2,;text\n",
        b"6,1,2,--;text\n",
        b"6,1,2,-,;text\n",
        b"6,1,2;text\n",
        b"6,1;text\n",
        b"6,1,2,-\n",
        b";text\n",
        b"",
        b"-6,1,2,-;text\n",
        b" 6,1,2,-;text\n",
        b"6,1,2.5,-;text\n",
    ] {
        assert_eq!(parse_record(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn semicolons_in_the_message_are_text() {
    assert_eq!(record(b"6,1,2,-;a;b;c\n").text, b"a;b;c");
    assert_eq!(record(b"6,1,2,-;\n").text, b"");
}

#[test]
fn dictionary_lines_are_kept_out_of_the_text() {
    let bytes = b"6,193,315893,-;acpi PNP0A08:00: _OSC: OS supports [ExtendedConfig]\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A08:00\n";
    let r = record(bytes);
    assert_eq!(
        r.text,
        b"acpi PNP0A08:00: _OSC: OS supports [ExtendedConfig]"
    );
    // The final newline may have been dropped by the caller.
    assert_eq!(record(&bytes[..bytes.len() - 1]).text, r.text);
    assert_eq!(record(b"6,1,2,-;text").text, b"text");
    // A second record, or a blank line, is not part of one record.
    assert_eq!(parse_record(b"6,1,2,-;a\n6,2,3,-;b\n"), None);
    assert_eq!(parse_record(b"6,1,2,-;a\n\n"), None);
    assert_eq!(
        parse_record(b"6,1,2,-;a\n SUBSYSTEM=x\n\n DEVICE=y\n"),
        None
    );
}

#[test]
fn bytes_the_kernel_escapes_are_refused_raw() {
    for bad in [
        &b"6,1,2,-;tab\there\n"[..],
        b"6,1,2,-;esc\x1b[31m\n",
        b"6,1,2,-;del\x7f\n",
        b"6,1,2,-;utf8 \xc3\xa9\n",
        b"6,1,2,-;cr\r\n",
        b"6,1,2,-;nul\0\n",
        b"6,1,2,-;ok\n SUBSYSTEM=\x01\n",
    ] {
        assert_eq!(parse_record(bad), None, "{bad:?}");
    }
}

#[test]
fn unescape_gives_back_the_raw_bytes() {
    // A comm set with prctl on 6.18, as /dev/kmsg showed it.
    assert_eq!(unescape(br"\x1b[1m\x5c,pid=9\x0a"), b"\x1b[1m\\,pid=9\n");
    assert_eq!(
        unescape(br"\xff\xfe\xc3\xa9 UTF8"),
        b"\xff\xfe\xc3\xa9 UTF8"
    );
    assert_eq!(unescape(br"\x09Tracing variant"), b"\tTracing variant");
    assert_eq!(unescape(br"\xAB\xab"), [0xab, 0xab]);
    assert_eq!(unescape(b"plain text"), b"plain text");
    assert_eq!(unescape(b""), b"");
}

#[test]
fn a_backslash_that_starts_no_escape_is_kept() {
    for (text, raw) in [
        (&br"\"[..], &br"\"[..]),
        (br"a\x", br"a\x"),
        (br"a\x4", br"a\x4"),
        (br"\x4g", br"\x4g"),
        (br"\y41", br"\y41"),
        (br"\\x41", br"\A"),
        (br"\x5cx41", br"\x41"),
    ] {
        assert_eq!(unescape(text), raw, "{}", String::from_utf8_lossy(text));
    }
}

#[test]
fn unescape_inverts_the_kernels_escaping() {
    // The kernel's rule, as in msg_add_ext_text: `c < ' ' || c >= 127 || c == '\\'`.
    fn kernel_escape(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &c in raw {
            if !(b' '..127).contains(&c) || c == b'\\' {
                out.extend_from_slice(format!("\\x{c:02x}").as_bytes());
            } else {
                out.push(c);
            }
        }
        out
    }
    let every_byte: Vec<u8> = (0..=255).collect();
    let escaped = kernel_escape(&every_byte);
    assert!(is_escaped(&escaped));
    assert_eq!(unescape(&escaped), every_byte);
    let mut one_record = b"6,1,2,-;".to_vec();
    one_record.extend_from_slice(&escaped);
    assert_eq!(record(&one_record).text, escaped);
}
