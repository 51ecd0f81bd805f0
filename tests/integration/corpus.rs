//! Every sample in tests/corpus/ through the parsers and the table, checked against the rules
//! and pinned by snapshots.

use crate::util;

use memory_monitor::parse::{ps, top};
use memory_monitor::render::table;
use memory_monitor::text::escape::escape;
use regex::bytes::Regex;
use util::{check_table, corpus, corpus_files};

fn render(table: &ps::PsTable) -> String {
    let mut out = String::new();
    table::render(table, &mut out);
    out
}

/// COMMAND as ps printed it: whatever follows the one blank after the tenth field, found here
/// with a regex rather than the parser's code.
fn commands_of(input: &[u8]) -> Vec<(String, Vec<u8>)> {
    let row = Regex::new(r"^\s*\S+\s+(\S+)\s+(?:\S+\s+){7}\S+ ?(.*?)[ \r]*$").unwrap();
    input
        .split(|&b| b == b'\n')
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let c = row
                .captures(l)
                .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(l)));
            (String::from_utf8_lossy(&c[1]).into_owned(), c[2].to_vec())
        })
        .collect()
}

#[test]
fn every_procps_ps_sample_gives_an_exact_table() {
    for name in corpus_files("psaux_") {
        if name.contains("macos") {
            continue;
        }
        let input = corpus(&name);
        let parsed = ps::parse(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            parsed.odd_lines().len() == 0,
            "{name}: {:?}",
            parsed.odd_lines().collect::<Vec<_>>()
        );
        let text = render(&parsed);
        let rows = check_table(&text);

        // Same number of lines as ps printed, every PID once.
        let input_rows = commands_of(&input);
        assert_eq!(rows.len() - 1, input_rows.len(), "{name}");

        // COMMAND kept as printed, escaped, for every process row.
        for (pid, command) in input_rows.iter().filter(|(pid, _)| pid != "-") {
            let expected = escape(command);
            assert!(
                rows.iter()
                    .any(|(cells, c)| &cells[1] == pid && *c == expected),
                "{name}: PID {pid} should show COMMAND {expected:?}"
            );
        }

        // Sorted by %MEM, then RSS, then PID, thread rows following their process.
        let keys: Vec<(f64, u64, u64)> = rows[1..]
            .iter()
            .filter(|(cells, _)| cells[1] != "-")
            .map(|(cells, _)| {
                (
                    cells[3].parse().unwrap(),
                    cells[5].parse().unwrap(),
                    cells[1].parse().unwrap(),
                )
            })
            .collect();
        for pair in keys.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert!(
                a.0 > b.0 || (a.0 == b.0 && (a.1 > b.1 || (a.1 == b.1 && a.2 < b.2))),
                "{name}: {a:?} before {b:?}"
            );
        }

        // %CPU and %MEM always have one decimal.
        for (cells, _) in &rows[1..] {
            for value in [&cells[2], &cells[3]] {
                assert!(
                    value == "-" || value.split_once('.').is_some_and(|(_, d)| d.len() == 1),
                    "{name}: {value}"
                );
            }
        }
    }
}

#[test]
fn procps_ps_tables_are_pinned() {
    for name in corpus_files("psaux_") {
        if name.contains("macos") || name.contains("crush-synaps") {
            continue; // the 448-row sample is checked above, not pinned line by line
        }
        let parsed = ps::parse(&corpus(&name)).unwrap();
        snapshot!(
            format!("table__{}", name.trim_end_matches(".txt")),
            render(&parsed)
        );
    }
}

#[test]
fn thread_rows_of_ps_auxm_follow_their_process() {
    let parsed = ps::parse(&corpus("psaux_insights-core-auxwwwm-threads_4.txt")).unwrap();
    let text = render(&parsed);
    let lines: Vec<&str> = text.lines().collect();
    let udisks = lines.iter().position(|l| l.contains("udisksd")).unwrap();
    assert!(
        lines[udisks + 1..udisks + 6]
            .iter()
            .all(|l| l.split_whitespace().nth(1) == Some("-"))
    );
    assert!(
        !lines[udisks + 6]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .starts_with('-')
    );
}

#[test]
fn bsd_ps_is_refused_clearly() {
    let err = ps::parse(&corpus("psaux_jc-macos1014-bsd_1.txt"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not procps") && err.contains("BSD or macOS"),
        "{err}"
    );
}

#[test]
fn hostile_process_names_stay_on_one_line() {
    let parsed = ps::parse(&corpus("psaux_local-debian12-procps402-utf8_4.txt")).unwrap();
    let text = render(&parsed);
    check_table(&text);
    assert!(
        text.contains("\\xe2\\x80\\xaeexe.txt 100"),
        "bidi override escaped"
    );
    assert!(
        text.contains("backslash \\x1b literal 100"),
        "a literal backslash sequence is left alone"
    );
    assert!(
        text.contains("/tmp/sl?[31mé 100 a b?c? d? tail\n"),
        "UTF-8 kept, trailing blanks dropped"
    );
    let faked = text
        .lines()
        .filter(|l| l.contains("| incident 9 |"))
        .collect::<Vec<_>>();
    assert_eq!(faked.len(), 1);
    assert!(
        faked[0].starts_with("root "),
        "the fake header is inside a row, not a line of its own"
    );
}

#[test]
fn top_samples_give_the_cpu_of_the_last_frame() {
    let expected: &[(&str, Option<f64>, usize)] = &[
        ("top_jc-centos77-gib_1.txt", Some(11.8), 5),
        ("top_jc-centos77-kib-n3_2.txt", Some(0.7), 5),
        ("top_jc-ubuntu2010-allfields_2.txt", Some(8.3), 5),
        ("top_jc-ubuntu2010_1.txt", Some(6.2), 5),
        ("top_local-debian12-procps402-de_2.txt", Some(1.5), 5),
        ("top_local-debian12-procps402-fr_3.txt", Some(1.5), 5),
        ("top_local-debian12-procps402_1.txt", Some(1.5), 5),
        ("top_mfd-host-ubuntu2004-percpu_1.txt", Some(1.55), 8),
        ("top_moler-debian-kib-batch_1.txt", Some(8.5), 5),
        ("top_moler-debian-kib-interactive_2.txt", Some(2.8), 5),
        ("top_sweetim-wsl2_1.txt", Some(1.6), 5),
    ];
    let names: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        corpus_files("top_"),
        "every top sample has an expectation"
    );
    for &(name, cpu, summary_lines) in expected {
        let summary = top::parse(&corpus(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let busy = summary.cpu_busy.clone().ok();
        assert!(
            matches!((busy, cpu), (Some(a), Some(b)) if (a - b).abs() < 1e-6),
            "{name}: CPU {busy:?}, expected {cpu:?}"
        );
        assert_eq!(
            summary.lines.len(),
            summary_lines,
            "{name}: {:#?}",
            summary.lines
        );
        assert!(summary.lines[0].starts_with(b"top - "), "{name}");
        assert!(
            summary
                .lines
                .iter()
                .all(|l| !l.ends_with(b" ") && !escape(l).chars().any(char::is_control)),
            "{name}"
        );
    }
}

#[test]
fn the_three_frame_sample_keeps_only_the_last_summary() {
    let summary = top::parse(&corpus("top_jc-centos77-kib-n3_2.txt")).unwrap();
    let last_top_line = String::from_utf8(corpus("top_jc-centos77-kib-n3_2.txt"))
        .unwrap()
        .lines()
        .rfind(|l| l.starts_with("top - "))
        .unwrap()
        .trim_end()
        .to_string();
    assert_eq!(summary.lines[0], last_top_line.as_bytes());
}

fn describe(summary: &top::TopSummary) -> String {
    let cpu = summary
        .cpu_busy
        .as_ref()
        .map_or_else(|e| e.to_string(), |b| format!("{b:.2}%"));
    let lines: Vec<String> = summary.lines.iter().map(|l| escape(l)).collect();
    format!("CPU busy: {cpu}\n{}", lines.join("\n"))
}

#[test]
fn top_summaries_are_pinned() {
    for name in corpus_files("top_") {
        let summary = top::parse(&corpus(&name)).unwrap();
        snapshot!(
            format!("top__{}", name.trim_end_matches(".txt")),
            describe(&summary)
        );
    }
}

#[test]
fn a_top_sample_is_not_a_ps_sample_and_vice_versa() {
    assert!(ps::parse(&corpus("top_jc-ubuntu2010_1.txt")).is_err());
    assert!(top::parse(&corpus("psaux_jc-centos77_1.txt")).is_err());
}
