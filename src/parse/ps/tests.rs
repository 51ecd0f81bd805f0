use proptest::prelude::*;

use super::*;

const HEADER: &str = "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n";

fn one(line: &str) -> PsTable {
    let t = parse(format!("{HEADER}{line}\n").as_bytes()).unwrap();
    assert_eq!(
        t.odd_lines().len(),
        0,
        "{:?}",
        t.odd_lines().collect::<Vec<_>>()
    );
    assert_eq!(t.row_count(), 1);
    t
}

fn first(t: &PsTable) -> PsRow<'_> {
    t.processes().next().unwrap().row()
}

#[test]
fn command_is_the_rest_of_the_line_with_inner_and_leading_blanks() {
    let r = one(
        "root        1503  0.0  0.0  11932  6152 ?        Ss   05:22   0:00 /usr/sbin/smartd  -n   -q never",
    );
    assert_eq!(first(&r).command, b"/usr/sbin/smartd  -n   -q never");
    let forest = one(
        "root         812  0.0  0.1  15432  9000 ?        S    05:22   0:00  \\_ sshd: alice [priv]",
    );
    let forest = first(&forest);
    assert_eq!(forest.command, b" \\_ sshd: alice [priv]");
    assert_eq!(forest.pid, Some(812));
}

#[test]
fn wide_fields_that_shift_columns_still_split() {
    let r = one(
        "user_01   2713  2.4 19.2 12508144 3077224 ?    Sl   Nov21 533:33 /usr/lib64/firefox/firefox",
    );
    let r = first(&r);
    assert_eq!(r.vsz_kib, Some(12_508_144));
    assert_eq!(r.rss_kib, Some(3_077_224));
    assert_eq!(r.tty, b"?");
    assert_eq!(r.time, b"533:33");
    assert_eq!(r.cpu, Some(Tenths(24)));
    assert_eq!(r.mem, Some(Tenths(192)));
}

#[test]
fn sizes_past_32_bits_are_read_whole() {
    // VSZ near 4 GiB, as on a 32-bit Pi, or the most a 64-bit address space holds in KiB, and
    // RSS on either side of 2^32 KiB: a 32-bit usize would hold neither the larger RSS nor its
    // order.
    let t = parse(
        format!(
            "{HEADER}pi 10 0.0 0.0 4194300 4294967295 ? S 10:00 0:00 a\n\
             pi 11 0.0 0.0 18014398509481983 4294967296 ? S 10:00 0:00 b\n"
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(t.odd_lines().len(), 0);
    let rows: Vec<(Option<u32>, Option<u64>, Option<u64>)> = t
        .processes()
        .map(|p| (p.row().pid, p.row().rss_kib, p.row().vsz_kib))
        .collect();
    assert_eq!(
        rows,
        vec![
            (Some(10), Some(4_294_967_295), Some(4_194_300)),
            (Some(11), Some(4_294_967_296), Some(18_014_398_509_481_983)),
        ]
    );
    assert_eq!(t.biggest_by_rss(1, &[]), vec![11]);
    assert_eq!(t.biggest_by_rss(5, &[11]), vec![10]);
}

#[test]
fn percentages_are_exact_tenths() {
    let r = one("root  1 109  0 1 1 ? R 10:00 1:00 burn");
    let r = first(&r);
    assert_eq!((r.cpu, r.mem), (Some(Tenths(1090)), Some(Tenths(0))));
    assert_eq!(parse_tenths(b"0,5"), Some(5));
    assert_eq!(parse_tenths(b"12.34"), Some(123));
    assert_eq!(parse_tenths(b"12.35"), Some(124));
    assert_eq!(parse_tenths(b"1000"), Some(10_000));
    for bad in [&b""[..], b".", b"1.", b".5", b"1.2.3", b"x", b"-1", b"1e3"] {
        assert_eq!(parse_tenths(bad), None, "{bad:?}");
    }
}

#[test]
fn empty_command_is_allowed() {
    let r = one("root 7 0.0 0.0 0 0 ? S 10:00 0:00");
    assert_eq!(first(&r).command, b"");
}

#[test]
fn hostile_bytes_are_kept_raw_in_every_cell() {
    let mut input = HEADER.as_bytes().to_vec();
    input.extend_from_slice(b"ev\x1bl 9 0.0 0.0 1 1 pts/\x07 S 10:00 0:00 a\rb\x1b[2J\xff\t2\n");
    let t = parse(&input).unwrap();
    let r = first(&t);
    assert_eq!(r.user, b"ev\x1bl");
    assert_eq!(r.tty, b"pts/\x07");
    assert_eq!(r.command, b"a\rb\x1b[2J\xff\t2");
}

#[test]
fn thread_rows_stay_with_their_process() {
    let input = format!(
        "{HEADER}root 1503 0.0 0.0 11932 6152 ? - 05:22 0:00 /usr/sbin/smartd\n\
         root - 0.0 - - - - Ss 05:22 0:00 -\n\
         root 1514 0.0 0.0 405308 15564 ? - 05:22 0:02 /usr/libexec/udisks2/udisksd\n\
         root - 0.0 - - - - Ssl 05:22 0:00 -\n\
         root - 0.0 - - - - Ssl 05:22 0:00 -\n"
    );
    let t = parse(input.as_bytes()).unwrap();
    let threads: Vec<usize> = t.processes().map(|p| p.thread_count()).collect();
    assert_eq!(threads, vec![1, 2]);
    let udisks = t.processes().nth(1).unwrap();
    assert_eq!(udisks.threads().next().unwrap().mem, None);
    assert_eq!(udisks.row().pid, Some(1514));
    assert_eq!(
        udisks.threads().map(|r| r.pid).collect::<Vec<_>>(),
        [None, None]
    );
}

#[test]
fn rows_that_do_not_fit_are_kept_aside_not_tabled() {
    let input = format!(
        "{HEADER}root 1 0.0 0.0 1 1 ? S 10:00 0:00 init\nthis is not a row\njohn smith 5 0.0 0.0 1 1 ? S 10:00 0:00 x\n"
    );
    let t = parse(input.as_bytes()).unwrap();
    assert_eq!(t.process_count(), 1);
    let odd: Vec<(usize, &[u8])> = t.odd_lines().map(|o| (o.line_number, o.text)).collect();
    assert_eq!(
        odd,
        vec![
            (3, &b"this is not a row"[..]),
            (4, b"john smith 5 0.0 0.0 1 1 ? S 10:00 0:00 x")
        ]
    );
}

#[test]
fn trailing_blanks_and_missing_final_newline() {
    let t =
        parse(format!("{HEADER}root 1 0.0 0.0 1 1 ? S 10:00 0:00 sleep 100 tail  \r").as_bytes())
            .unwrap();
    assert_eq!(first(&t).command, b"sleep 100 tail");
}

#[test]
fn not_procps_is_refused_with_a_reason() {
    let bsd = b"USER  PID  %CPU %MEM      VSZ    RSS   TT  STAT STARTED      TIME COMMAND\nroot 1 0.0 0.0 1 1 ?? Ss 12:10PM 0:01.00 launchd\n";
    let err = parse(bsd).unwrap_err().to_string();
    assert!(err.contains("BSD or macOS"), "{err}");
    let busybox = b"PID   USER     TIME  COMMAND\n    1 root      0:01 init\n";
    assert!(parse(busybox).unwrap_err().to_string().contains("busybox"));
    assert!(
        parse(b"hello\x1b]0;pwned\x07\n")
            .unwrap_err()
            .to_string()
            .contains("hello\\x1b]0;pwned\\x07")
    );
    assert_eq!(parse(b""), Err(PsError::Empty));
    assert_eq!(parse(b"\n \n"), Err(PsError::Empty));
}

#[test]
fn blank_lines_reserve_nothing() {
    let mut input = HEADER.as_bytes().to_vec();
    input.extend(std::iter::repeat_n(b'\n', 16 << 20));
    let t = parse(&input).unwrap();
    assert_eq!(t.processes().len(), 0);
    assert_eq!(t.rows_capacity(), 0, "nothing reserved");

    // After a row, the blank lines still count for nothing.
    let row = "root 1 0.0 0.0 1 1 ? S 10:00 0:00 init\n";
    let mut input = format!("{HEADER}{row}").into_bytes();
    input.extend(std::iter::repeat_n(b'\n', 16 << 20));
    let t = parse(&input).unwrap();
    assert_eq!(t.rows_capacity(), 1, "only the row");
}

#[test]
fn the_rows_are_reserved_once_from_the_output() {
    let mut input = HEADER.to_string();
    for pid in 1..=1000 {
        input.push_str(&format!(
            "someone  {pid:>7}  0.0  0.1 167436 11904 ?        Ss   Nov20   0:05 /sbin/init splash\n"
        ));
    }
    let t = parse(input.as_bytes()).unwrap();
    assert_eq!(t.process_count(), 1000);
    assert_eq!(
        t.rows_capacity(),
        1000,
        "one per line long enough to be a row"
    );
}

#[test]
fn header_only_is_an_empty_table() {
    assert_eq!(parse(HEADER.as_bytes()).unwrap(), PsTable::default());
}

#[test]
fn a_thread_row_with_no_process_above_is_an_odd_line() {
    let t = parse(
        format!(
            "{HEADER}root - 0.0 - - - - Ss 05:22 0:00 -\nroot 1 0.0 0.0 1 1 ? S 10:00 0:00 init\n"
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(t.row_count(), 1);
    assert_eq!(first(&t).command, b"init");
    let odd: Vec<OddLine> = t.odd_lines().collect();
    assert_eq!(odd.len(), 1);
    assert_eq!(odd[0].line_number, 2);
    assert_eq!(odd[0].text, b"root - 0.0 - - - - Ss 05:22 0:00 -");
}

#[test]
fn a_full_user_name_reads_as_if_ps_had_printed_it() {
    let rows = |user: &str| {
        format!(
            "{HEADER}{user} 10 0.5 1.0 100 2000 pts/1 Sl 10:00 0:01 firefox -P  x\n\
             {user} - 0.0 - - - - Sl 10:00 0:00 -\n\
             other 11 0.0 0.0 1 1 ? S 10:00 0:00 init\n"
        )
    };
    let mut t = parse(rows("verylon+").as_bytes()).unwrap();
    let process = t.processes().next().unwrap();
    let ids: Vec<RowId> = process.rows_with_ids().map(|(id, _)| id).collect();
    for id in ids {
        t.set_full_user(id, b"verylongusername".to_vec());
    }
    let expected = parse(rows("verylongusername").as_bytes()).unwrap();
    assert_eq!(t, expected);
    assert_eq!(first(&t).user, b"verylongusername");
    assert_eq!(first(&t).command, b"firefox -P  x");
    let other = t.processes().nth(1).unwrap().row();
    assert_eq!(other.user, b"other", "only the rows named");
}

/// A word as a hostile ps may print it: any bytes but the blanks ps splits on and newlines.
fn word() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => 0x21u8..0x7f,
        1 => any::<u8>().prop_filter("not a separator", |b| !matches!(b, b' ' | b'\t' | b'\n')),
    ];
    let unicode_blank = prop::sample::select(vec![
        "\u{a0}", "\u{2800}", "\u{3000}", "\u{180e}", "\u{3164}", "\u{2028}", "\u{85}", "\u{b}",
        "\u{c}", "\r",
    ])
    .prop_map(|s| s.as_bytes().to_vec());
    prop::collection::vec(
        prop_oneof![3 => byte.prop_map(|b| vec![b]), 1 => unicode_blank],
        1..6,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    /// The cells come back exactly as ps printed them, whatever blanks they hold, and COMMAND
    /// whole.
    #[test]
    fn cells_come_back_exactly(
        user in word(),
        tty in word(),
        stat in word(),
        start in word(),
        time in word(),
        command in prop::collection::vec(
            any::<u8>().prop_filter("one line", |b| *b != b'\n'),
            0..12,
        ),
        gaps in prop::collection::vec(prop::sample::select(vec![" ", "\t", "  ", " \t "]), 10),
    ) {
        // TIME ends the line when COMMAND is empty: a carriage return there would be trimmed.
        let time = [time, b"0".to_vec()].concat();
        let fields: [&[u8]; 10] =
            [&user, b"42", b"1.5", b"0", b"100", b"-", &tty, &stat, &start, &time];
        let mut line = Vec::new();
        for (field, gap) in fields.iter().zip(&gaps) {
            line.extend_from_slice(field);
            line.extend_from_slice(gap.as_bytes());
        }
        // One blank after TIME, then COMMAND; one that ends in a visible byte, so trimming the
        // line's end leaves it alone.
        line.truncate(line.len() - gaps[9].len());
        line.push(b' ');
        let mut command = command;
        if !command.is_empty() {
            command.push(b'x');
        }
        line.extend_from_slice(&command);

        let mut input = HEADER.as_bytes().to_vec();
        input.extend_from_slice(&line);
        let t = parse(&input).unwrap();
        prop_assert_eq!(t.odd_lines().len(), 0);
        let row = first(&t);
        prop_assert_eq!(
            row,
            PsRow {
                user: &user,
                pid: Some(42),
                cpu: Some(Tenths(15)),
                mem: Some(Tenths(0)),
                vsz_kib: Some(100),
                rss_kib: None,
                tty: &tty,
                stat: &stat,
                start: &start,
                time: &time,
                command: &command,
            }
        );
    }
}
