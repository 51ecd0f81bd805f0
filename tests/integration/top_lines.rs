//! What is kept of top's output as it streams in parses exactly as the whole output would: every
//! top sample, chunked finely and coarsely, arbitrary top-like bytes split anywhere, and a real
//! capture of a top that prints thousands of tasks or never stops.

use crate::util;

use std::path::{Path, PathBuf};

use memory_monitor::capture::top_lines::TopLines;
use memory_monitor::capture::{Captured, Cut, Tools, run_ps_and_top};
use memory_monitor::parse::top::{MAX_SUMMARY_LINES, parse};
use proptest::prelude::*;
use util::{corpus_dir, fake_program};

fn kept(pieces: &[&[u8]], cut: bool) -> Vec<u8> {
    let mut lines = TopLines::default();
    for piece in pieces {
        lines.push(piece);
    }
    if cut {
        lines.finish_cut()
    } else {
        lines.finish()
    }
}

fn in_chunks(output: &[u8], size: usize) -> Vec<&[u8]> {
    output.chunks(size).collect()
}

/// What parse was given of an output cut short: its whole lines.
fn whole_lines(output: &[u8]) -> &[u8] {
    let end = output
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    &output[..end]
}

fn top_samples() -> Vec<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut samples: Vec<PathBuf> = [corpus_dir(), shared]
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("top_"))
        })
        .collect();
    samples.sort();
    assert!(samples.len() >= 11, "{samples:?}");
    samples
}

#[test]
fn every_top_sample_parses_the_same_from_what_is_kept() {
    for path in top_samples() {
        let output = std::fs::read(&path).unwrap();
        let whole = parse(&output);
        assert!(whole.is_ok(), "{}", path.display());
        for chunk in [1, 7, 4096] {
            let pieces: Vec<&[u8]> = output.chunks(chunk).collect();
            let kept = kept(&pieces, false);
            assert_eq!(parse(&kept), whole, "{}, chunk {chunk}", path.display());
            assert!(
                kept.len() < 2048,
                "{}: {} bytes kept",
                path.display(),
                kept.len()
            );
        }
        // Cut short anywhere, as the output limit cuts it.
        for at in (0..output.len()).step_by(37) {
            let cut = &output[..at];
            let pieces: Vec<&[u8]> = cut.chunks(7).collect();
            assert_eq!(
                parse(&kept(&pieces, true)),
                parse(whole_lines(cut)),
                "{}, cut at {at}",
                path.display()
            );
        }
    }
}

/// Lines like top's and like nothing top prints, around the edges the rules turn on.
fn top_like_line() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<&'static [u8]> = vec![
        b"top - 10:00:00 up 1 day,  1 user,  load average: 0.00, 0.01, 0.05",
        b"top - ",
        b"top -",
        b"top  - 1",
        b" top - 1",
        b"top - 1\r",
        b"Tasks: 100 total,   1 running",
        b"%Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st",
        b"%Cpu0  : 50.0 us,  0.0 sy,  0.0 ni, 50.0 id",
        b"%Cpu(s): 1,0 us, 99,0 id",
        b"MiB Mem :  15950.0 total,    100.0 free",
        b"    PID USER      PR  NI    VIRT    RES",
        b"PID ",
        b"  PID",
        b"  PID \r",
        b"    1 root      20   0  171244  12345",
        b"",
        b" ",
        b"\t\r",
        b"\r",
        b"\0",
        b"\x1b[2J\xff",
    ];
    prop_oneof![
        4 => proptest::sample::select(fixed).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 0..12),
        1 => proptest::collection::vec(proptest::sample::select(b"top -PID\r\n \t\x00".to_vec()), 0..10),
    ]
}

fn top_like_output() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(top_like_line(), 0..40),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline)| {
            let mut output = lines.join(&b'\n');
            if final_newline {
                output.push(b'\n');
            }
            output
        })
}

/// `output` in pieces split at the given points (taken modulo its length).
fn split_at(output: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = points
        .iter()
        .map(|p| p % (output.len() + 1))
        .chain([0, output.len()])
        .collect();
    cuts.sort_unstable();
    cuts.windows(2)
        .map(|w| output[w[0]..w[1]].to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_top_like_bytes_parse_the_same_from_what_is_kept(
        output in top_like_output(),
        points in proptest::collection::vec(any::<usize>(), 0..12),
        cut_at in any::<usize>(),
    ) {
        let pieces = split_at(&output, &points);
        let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(parse(&kept(&pieces, false)), parse(&output));

        let cut = &output[..cut_at % (output.len() + 1)];
        let cut_pieces = split_at(cut, &points);
        let cut_pieces: Vec<&[u8]> = cut_pieces.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(parse(&kept(&cut_pieces, true)), parse(whole_lines(cut)));
    }
}

const FRAME: &str = "top - 10:00:00 up 1 day\\nTasks: 5000 total\\n%%Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id\\n\\n    PID USER\\n";

#[test]
fn a_capture_of_thousands_of_tasks_keeps_only_top_s_summary_and_all_of_ps() {
    let dir = tempfile::tempdir().unwrap();
    let frames = format!(
        "for frame in 1 2; do printf '{FRAME}'; i=0; while [ $i -lt 5000 ]; do echo \"    $i root\"; i=$((i+1)); done; done"
    );
    let tools = util::fake_tools(dir.path(), &frames, &frames, 16 << 20);
    let outputs = run_ps_and_top(&tools, None).unwrap();
    let ps = outputs.ps.unwrap();
    assert_eq!(ps.cut, None);
    assert_eq!(ps.bytes.iter().filter(|&&b| b == b'\n').count(), 2 * 5005);
    assert_eq!(
        outputs.top.unwrap(),
        Captured::whole(
            b"top - 10:00:00 up 1 day\nTasks: 5000 total\n%Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id\n"
                .to_vec()
        )
    );
}

#[test]
fn an_endless_top_is_still_cut_at_the_limit_counting_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 100_000;
    let tools = util::fake_tools(
        dir.path(),
        "echo ps",
        &format!("printf '{FRAME}'; exec yes '    1 root'"),
        limit,
    );
    let outputs = run_ps_and_top(&tools, None).unwrap();
    assert_eq!(outputs.ps.unwrap(), Captured::whole(b"ps\n".to_vec()));
    let top = outputs.top.unwrap();
    assert_eq!(top.cut, Some(Cut { limit }));
    assert_eq!(
        parse(&top.bytes).unwrap().lines,
        [
            &b"top - 10:00:00 up 1 day"[..],
            b"Tasks: 5000 total",
            b"%Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id"
        ]
    );
    // A frame that begins in the line cut in half is not taken for one.
    let tools = Tools {
        top_bin: fake_program(
            dir.path(),
            "top2",
            "printf 'top - 1\\ntop - 2 and more'; sleep 5",
        )
        .into_os_string(),
        output_limit: 14,
        ..tools
    };
    let top = run_ps_and_top(&tools, None).unwrap().top.unwrap();
    assert_eq!(top.cut, Some(Cut { limit: 14 }));
    assert_eq!(top.bytes, b"top - 1\n");
}

// Hand-made outputs: the edges of each rule.

fn same_as_whole(output: &[u8]) {
    for chunk in [1, 2, 3, 5, 6, 7, 4096, output.len().max(1)] {
        let streamed = kept(&in_chunks(output, chunk), false);
        assert_eq!(
            parse(&streamed),
            parse(output),
            "chunk {chunk}: {:?} kept {:?}",
            String::from_utf8_lossy(output),
            String::from_utf8_lossy(&streamed)
        );
        for at in 0..=output.len().min(200) {
            let cut = &output[..at];
            assert_eq!(
                parse(&kept(&in_chunks(cut, chunk), true)),
                parse(whole_lines(cut)),
                "chunk {chunk}, cut at {at}"
            );
        }
    }
}

#[test]
fn only_the_last_summary_is_kept() {
    let output = b"top - 1\n%Cpu(s): 1.0 us, 0.0 sy, 0.0 ni, 99.0 id\n\n  PID USER\n    1 root\n\
                   top - 2\n%Cpu(s): 50.0 us, 0.0 sy, 0.0 ni, 50.0 id\nMiB Mem : 1.0 total\n\n  PID USER\n    1 root\n";
    assert_eq!(
        kept(&[output], false),
        b"top - 2\n%Cpu(s): 50.0 us, 0.0 sy, 0.0 ni, 50.0 id\nMiB Mem : 1.0 total\n"
    );
    same_as_whole(output);
}

#[test]
fn before_a_frame_only_the_first_non_blank_line_is_kept() {
    assert_eq!(
        kept(&in_chunks(b"\n \r\t\nMem: 1K\nCPU: 0%\n", 1), false),
        b"Mem: 1K\n"
    );
    assert_eq!(kept(&in_chunks(b"\n\n \n", 1), false), b"");
    assert_eq!(kept(&in_chunks(b"", 1), false), b"");
    for output in [
        &b"\n \r\t\nMem: 1K\nCPU: 0%\n"[..],
        b"\n\n \n",
        b"",
        b"\x00\nx",
        b"garbage\ntop - 1\nTasks: 1\n",
        b"top -\ntop  - 1\n\ttop - 2\nxtop - 3\n",
    ] {
        same_as_whole(output);
    }
}

#[test]
fn the_summary_ends_as_parse_decides() {
    for output in [
        &b"top - 1\nTasks: 1\n  PID USER\nTasks: 2\n"[..],
        b"top - 1\nTasks: 1\n  PID\nTasks: 2\n",
        b"top - 1\nTasks: 1\n  PID \r\nTasks: 2\n",
        b"top - 1\nTasks: 1\nPID x\r\nTasks: 2\n",
        b"top - 1\nTasks: 1\n \t\r\nTasks: 2\n",
        b"top - 1\r\nTasks: 1\r\n\r\n",
        b"top - 1\nTasks: 1",
        b"top - 1",
        b"top - ",
        b"top - 1\ntop - 2\ntop - 3\n  PID\ntop - 4 \x00\xff\x1b[2J\n\n",
        b"top - 1\n%Cpu(s): 1.0 us, 0.0 sy, 0.0 ni, 99.0 id\nx top - 2\n",
    ] {
        same_as_whole(output);
    }
}

#[test]
fn a_summary_longer_than_parse_reads_is_cut_as_parse_cuts_it() {
    let mut output = b"top - 1\n".to_vec();
    for i in 0..MAX_SUMMARY_LINES + 10 {
        output.extend_from_slice(format!("Line {i}\n").as_bytes());
    }
    let whole = parse(&output).unwrap();
    assert_eq!(whole.lines.len(), MAX_SUMMARY_LINES);
    let kept_lines = kept(&in_chunks(&output, 7), false);
    assert_eq!(
        kept_lines.split(|&b| b == b'\n').count(),
        MAX_SUMMARY_LINES + 1
    );
    assert_eq!(parse(&kept_lines), Ok(whole));
    output.extend_from_slice(b"top - 2\nTasks: 1\n");
    assert_eq!(kept(&in_chunks(&output, 7), false), b"top - 2\nTasks: 1\n");
}

#[test]
fn two_frames_of_ten_thousand_tasks_keep_under_4_kib() {
    let mut output = Vec::new();
    for frame in 0..2 {
        output.extend_from_slice(
            format!(
                "top - 10:00:0{frame} up 1 day,  1 user,  load average: 9.00, 9.00, 9.00\n\
                 Tasks: 10000 total,   1 running, 9999 sleeping,   0 stopped,   0 zombie\n\
                 %Cpu(s):  5.9 us,  5.9 sy,  0.0 ni, 88.2 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n\
                 MiB Mem :  15950.0 total,    100.0 free,  15000.0 used,    850.0 buff/cache\n\
                 MiB Swap:      0.0 total,      0.0 free,      0.0 used.    200.0 avail Mem\n\
                 \n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n"
            )
            .as_bytes(),
        );
        for pid in 0..10_000 {
            output.extend_from_slice(
                format!("{pid:>7} root      20   0  171244  12345   8888 S   0.0   0.1   0:01.23 some-daemon --with args\n")
                    .as_bytes(),
            );
        }
    }
    assert!(output.len() > 1 << 20, "{}", output.len());
    let mut lines = TopLines::default();
    let mut most = 0;
    for piece in output.chunks(64 * 1024) {
        lines.push(piece);
        most = most.max(lines.held());
    }
    assert!(most < 4096, "held {most} bytes");
    let kept = lines.finish();
    assert!(kept.len() < 4096);
    assert_eq!(parse(&kept), parse(&output));
    assert!(parse(&kept).unwrap().lines[0].starts_with(b"top - 10:00:01"));
}

#[test]
fn millions_of_lines_and_long_lines_cost_no_more_than_their_use() {
    // Skipped lines hold nothing, however long: a task row of megabytes costs no memory.
    let mut lines = TopLines::default();
    lines.push(b"top - 1\nTasks: 1\n\n");
    for _ in 0..2_000_000 {
        lines.push(b"    1 root\n");
    }
    lines.push(b"x");
    for _ in 0..1000 {
        lines.push(&[b'y'; 16 * 1024]);
    }
    assert!(lines.held() < 4096, "{}", lines.held());
    assert_eq!(lines.finish(), b"top - 1\nTasks: 1\n");
}
