use super::*;

const M1: &str =
    "===== new log 2026-11-22 14:03:15 +01:00 | incident 1 | memory-monitor 0.1.0 =====";
const M2: &str =
    "===== new log 2026-11-22 15:00:00 +01:00 | incident 2 | memory-monitor 0.1.0 =====";
const M1_AGAIN: &str =
    "===== new log 2026-11-23 09:00:00 +01:00 | incident 1 | memory-monitor 0.1.0 =====";

fn header(n: u64, time: &str) -> String {
    format!(
        "2026-11-22 {time} +01:00 | incident {n} | RAM 90.0% (900.00 of 1000.00 MiB) | CPU 1.0% | above 80% for 15s"
    )
}

fn kill(time: &str, tail: &str) -> String {
    format!(
        "2026-11-22 {time} +01:00 | oom-kill | PID 7 (hog) of root | anon-rss 1 KiB, file-rss 0 KiB, shmem-rss 0 KiB | system-wide{tail}"
    )
}

/// The lines `marker`'s episode gathers from `log`, each with its file.
fn gathered(marker: &str, files: &[&[String]]) -> Vec<(usize, String)> {
    let mut got = Vec::new();
    let mut gather = Gather::new(marker.as_bytes(), 0);
    for (file, lines) in files.iter().enumerate() {
        for line in lines.iter() {
            gather.line(file, line.as_bytes(), |f, l| {
                got.push((f, String::from_utf8_lossy(l).into_owned()))
            });
        }
    }
    gather.finish(|f, l| got.push((f, String::from_utf8_lossy(l).into_owned())));
    got
}

fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|s| s.to_string()).collect()
}

#[test]
fn kinds_of_lines() {
    assert_eq!(kind_of(M1.as_bytes()), Kind::Marker(1));
    assert_eq!(kind_of(header(12, "14:03:15").as_bytes()), Kind::Report(12));
    assert_eq!(
        kind_of(b"2026-11-22 14:09:40 -05:00 | recovered | RAM 41.0% | high for 6m40s"),
        Kind::Recovered
    );
    assert_eq!(
        kind_of(kill("14:00:00", "").as_bytes()),
        Kind::Kill {
            before_start: false
        }
    );
    assert_eq!(
        kind_of(kill("14:00:00", " | before memory-monitor started").as_bytes()),
        Kind::Kill { before_start: true }
    );
    for body in [
        "",
        "  RAM over the last 10m: ▃▃▃",
        "root 1 0.0 0.0 1 1 ? S 10:00 0:00 2026-11-22 14:03:15 +01:00 | incident 9 | RAM 1.0%",
        "===== new log 2026-11-22 14:03:15 +01:00 | incident x | memory-monitor 0.1.0 =====",
        "===== new log 2026-11-22 14:03:15 +01:00 | incident 1 | memory-monitor 0.1.0",
        "2026-11-22 14:03:15 | incident 1 | no offset",
        "2026-11-2",
    ] {
        assert_eq!(kind_of(body.as_bytes()), Kind::Body, "{body}");
    }
    // A number too big for any run is no report of one: an entry of no incident.
    assert_eq!(
        kind_of(b"2026-11-22 14:03:15 +01:00 | incident 99999999999999999999999 | x"),
        Kind::OtherEntry
    );
}

#[test]
fn an_episode_is_its_marker_reports_kills_and_recovered_line() {
    let log = lines(&[
        M1,
        &header(1, "14:03:15"),
        "  table",
        "",
        &kill("14:04:00", ""),
        "",
        &header(1, "14:04:01"),
        "",
        "2026-11-22 14:09:40 +01:00 | recovered | RAM 41.0% | high for 6m40s",
        "",
        // Between episodes: not incident 1's, nor 2's, which it does not open.
        &kill("14:30:00", ""),
        "",
        "2026-11-22 14:30:01 +01:00 | something new | kept with no episode",
        "",
        // A kill that opens incident 2: the marker follows it.
        &kill("14:59:59", ""),
        "",
        M2,
        &header(2, "15:00:00"),
        "",
    ]);
    let one: Vec<String> = gathered(M1, &[&log]).into_iter().map(|(_, l)| l).collect();
    assert_eq!(one, log[..10].to_vec());
    let two: Vec<String> = gathered(M2, &[&log]).into_iter().map(|(_, l)| l).collect();
    assert_eq!(two, log[14..].to_vec());
}

#[test]
fn the_same_number_in_a_later_run_is_another_incident() {
    let first = lines(&[M1, &header(1, "14:03:15"), ""]);
    let second = lines(&[
        &kill("08:00:00", " | before memory-monitor started"),
        "",
        M1_AGAIN,
        &header(1, "09:00:00"),
        "  RAM",
        "",
    ]);
    let got = gathered(M1_AGAIN, &[&first, &second]);
    assert_eq!(
        got,
        vec![
            (1, M1_AGAIN.to_string()),
            (1, header(1, "09:00:00")),
            (1, "  RAM".to_string()),
            (1, String::new()),
        ]
    );
    // The kill from before the new run started ends the old run's episode: not incident 1's.
    let got = gathered(M1, &[&first, &second]);
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn an_episode_goes_on_across_files_and_kills_at_the_end_stay_in_it() {
    let older = lines(&[M1, &header(1, "14:03:15"), ""]);
    let newer = lines(&[&header(1, "14:13:15"), "", &kill("14:14:00", ""), ""]);
    let got = gathered(M1, &[&older, &newer]);
    assert_eq!(got.len(), 7, "{got:?}");
    assert_eq!(got[3], (1, header(1, "14:13:15")));
    assert_eq!(got[5], (1, kill("14:14:00", "")));
}

#[test]
fn a_header_whose_marker_was_lost_is_nobodys() {
    // Incident 2's marker was in the damaged part of a file: its reports are not incident 1's.
    let log = lines(&[
        M1,
        &header(1, "14:03:15"),
        "",
        &header(2, "15:00:00"),
        "  x",
        "",
    ]);
    let got = gathered(M1, &[&log]);
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn two_runs_with_the_same_marker_are_told_apart_by_order() {
    let log = lines(&[
        M1,
        &header(1, "14:03:15"),
        "  first run",
        "",
        M1,
        &header(1, "14:03:15"),
        "  second run",
        "",
    ]);
    let mut markers = Markers::new(1);
    log.iter().for_each(|l| markers.line(l.as_bytes()));
    assert_eq!(markers.latest(), Some((M1.as_bytes(), 1)));
    assert_eq!(markers.last_occurrence(M1.as_bytes()), Some(1));
    assert_eq!(markers.last_occurrence(M2.as_bytes()), None);
    let mut got = Vec::new();
    let mut gather = Gather::new(M1.as_bytes(), 1);
    for line in &log {
        gather.line(0, line.as_bytes(), |_, l| {
            got.push(String::from_utf8_lossy(l).into_owned())
        });
    }
    assert_eq!(got, log[4..].to_vec());
}

#[test]
fn markers_of_each_run() {
    let mut markers = Markers::new(1);
    for line in [M1, M2, M1_AGAIN, "junk"] {
        markers.line(line.as_bytes());
    }
    assert_eq!(
        markers.found,
        vec![M1.as_bytes().to_vec(), M1_AGAIN.as_bytes().to_vec()]
    );
    assert_eq!(markers.latest(), Some((M1_AGAIN.as_bytes(), 0)));
    assert_eq!(markers.highest, Some(2));
    assert_eq!(
        marker_time(M1_AGAIN.as_bytes()),
        b"2026-11-23 09:00:00 +01:00"
    );
}

mod any_log {
    use super::*;
    use proptest::prelude::*;

    /// Lines of every kind, and bytes of any kind: what a damaged or tampered log may hold.
    fn line() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(M1.as_bytes().to_vec()),
            Just(M2.as_bytes().to_vec()),
            Just(header(1, "14:03:15").into_bytes()),
            Just(header(2, "15:00:00").into_bytes()),
            Just(kill("14:04:00", "").into_bytes()),
            Just(kill("08:00:00", " | before memory-monitor started").into_bytes()),
            Just(b"2026-11-22 14:09:40 +01:00 | recovered | RAM 41.0% | high for 6m40s".to_vec()),
            Just(b"2026-11-22 14:09:40 +01:00 | previous boot | ended abruptly".to_vec()),
            Just(Vec::new()),
            proptest::collection::vec(any::<u8>(), 0..80),
        ]
    }

    proptest! {
        /// Whatever the lines, nothing panics, and what is gathered is some of the lines, in
        /// their order: nothing is made up, repeated or moved.
        #[test]
        fn gathers_a_subsequence_of_any_lines(
            lines in proptest::collection::vec(line(), 0..60),
            nth in 0usize..3,
        ) {
            let mut got = Vec::new();
            let mut gather = Gather::new(M1.as_bytes(), nth);
            for (i, line) in lines.iter().enumerate() {
                gather.line(i, line, |at, l| got.push((at, l.to_vec())));
            }
            gather.finish(|at, l| got.push((at, l.to_vec())));
            let mut after = 0;
            for (at, line) in &got {
                prop_assert!(*at >= after, "out of order: {got:?}");
                prop_assert_eq!(lines.get(*at), Some(line));
                after = at + 1;
            }
            let markers = lines.iter().filter(|l| l.as_slice() == M1.as_bytes()).count();
            prop_assert_eq!(gather.found(), markers > nth);
        }
    }
}

#[test]
fn endless_kill_entries_are_held_up_to_a_limit() {
    let mut gather = Gather::new(M1.as_bytes(), 0);
    let entry = kill("14:04:00", "");
    let many = 2 * PENDING_LIMIT / entry.len();
    for _ in 0..many {
        gather.line(0, entry.as_bytes(), |_, _| unreachable!("no marker yet"));
    }
    let mut got = 0;
    gather.line(0, M1.as_bytes(), |_, _| got += 1);
    // The last of the kills, and the marker.
    assert_eq!(got, PENDING_LIMIT / entry.len() + 1);
}
