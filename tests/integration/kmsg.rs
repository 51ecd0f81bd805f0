//! Every file of tests/corpus/kmsg/ (real /dev/kmsg records of OOM kills, 4.19 to 6.18; its
//! README says where each came from) through `parse_record` and `parse_oom_line`, checked
//! against what each file holds, counted by hand.

use crate::util::corpus_dir;

use memory_monitor::parse::kmsg::{KmsgRecord, parse_record};
use memory_monitor::parse::oom::{Killed, OomLine, Summary, parse_oom_line};

/// The records of a corpus file: a line that does not start with a space starts one.
fn records(bytes: &[u8]) -> Vec<&[u8]> {
    let mut starts: Vec<usize> = vec![0];
    for (at, pair) in bytes.windows(2).enumerate() {
        if pair[0] == b'\n' && pair[1] != b' ' {
            starts.push(at + 1);
        }
    }
    starts.push(bytes.len());
    starts
        .windows(2)
        .map(|w| &bytes[w[0]..w[1]])
        .filter(|r| !r.is_empty())
        .collect()
}

/// What a file holds: its parsed records and the OOM lines of the kernel's own records.
struct Parsed {
    records: usize,
    killed: Vec<Killed>,
    summaries: Vec<Summary>,
    reaped: Vec<u32>,
    forged: usize,
}

fn parse_file(name: &str) -> Parsed {
    let bytes = std::fs::read(corpus_dir().join("kmsg").join(name))
        .unwrap_or_else(|e| panic!("tests/corpus/kmsg/{name}: {e}"));
    let mut parsed = Parsed {
        records: 0,
        killed: Vec::new(),
        summaries: Vec::new(),
        reaped: Vec::new(),
        forged: 0,
    };
    let mut last_seq = None;
    for record in records(&bytes) {
        let KmsgRecord { seq, text, .. } = parse_record(record)
            .unwrap_or_else(|| panic!("{name}: {}", String::from_utf8_lossy(record)));
        assert!(last_seq < Some(seq), "{name}: seq {seq} out of order");
        last_seq = Some(seq);
        parsed.records += 1;
        let line = parse_oom_line(text);
        if !parse_record(record).unwrap().from_kernel() {
            parsed.forged += usize::from(line.is_some());
            continue;
        }
        match line {
            Some(OomLine::Killed(k)) => parsed.killed.push(k),
            Some(OomLine::Summary(s)) => parsed.summaries.push(s),
            Some(OomLine::Reaped { pid }) => parsed.reaped.push(pid),
            None => {}
        }
    }
    parsed
}

#[allow(clippy::too_many_arguments)]
fn killed(
    pid: u32,
    name: &[u8],
    memcg: bool,
    [total_vm_kib, anon_rss_kib, file_rss_kib, shmem_rss_kib]: [u64; 4],
    since_5_4: Option<(u32, u64, i16)>,
) -> Killed {
    Killed {
        pid,
        name: name.to_vec(),
        memcg,
        total_vm_kib,
        anon_rss_kib,
        file_rss_kib,
        shmem_rss_kib,
        uid: since_5_4.map(|(uid, _, _)| uid),
        pgtables_kib: since_5_4.map(|(_, pgtables, _)| pgtables),
        oom_score_adj: since_5_4.map(|(_, _, adj)| adj),
    }
}

fn summary(
    constraint: &str,
    oom_memcg: Option<&str>,
    task_memcg: &str,
    task: &[u8],
    pid: u32,
    uid: u32,
) -> Summary {
    Summary {
        constraint: constraint.as_bytes().to_vec(),
        oom_memcg: oom_memcg.map(|m| m.as_bytes().to_vec()),
        task_memcg: Some(task_memcg.as_bytes().to_vec()),
        task: task.to_vec(),
        pid,
        uid,
    }
}

/// The summary of a kill in this machine's test cgroup.
fn local_summary(task: &[u8], pid: u32) -> Summary {
    summary(
        "CONSTRAINT_MEMCG",
        Some("/mm-kmsg-corpus"),
        "/mm-kmsg-corpus",
        task,
        pid,
        0,
    )
}

#[test]
fn every_corpus_file_is_checked() {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir().join("kmsg"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    let checked = [
        "local-6.18-memcg-hostile-names.txt",
        "local-6.18-memcg-storm.txt",
        "local-6.18-memcg-tail.txt",
        "local-6.18-misc.txt",
        "pub-4.19-rpi4-global.txt",
        "pub-4.x-memcg-kubernetes.txt",
        "pub-5.4-ubuntu-memcg.txt",
        "pub-5.4plus-global-debos.txt",
        "pub-6.1-rpi4-global.txt",
        "pub-6.8plus-memcg-rootless.txt",
    ];
    assert_eq!(names, checked, "a corpus file without its test below");
    let readme = std::fs::read_to_string(corpus_dir().join("kmsg/README.md")).unwrap();
    for name in checked {
        assert!(readme.contains(name), "{name} is not in the README");
    }
}

#[test]
fn local_memcg_kill_of_tail() {
    let p = parse_file("local-6.18-memcg-tail.txt");
    assert_eq!(p.records, 119);
    assert_eq!(
        p.killed,
        [killed(
            18872,
            b"tail",
            true,
            [67752, 64768, 1644, 0],
            Some((0, 176, 0))
        )]
    );
    assert_eq!(p.summaries, [local_summary(b"tail", 18872)]);
    assert_eq!(p.reaped, [18872]);
}

#[test]
fn local_hostile_names() {
    let p = parse_file("local-6.18-memcg-hostile-names.txt");
    let names: [(u32, &[u8], u64, u64, u64); 4] = [
        (18981, b"a) total-vm:1kB", 77208, 65024, 5664),
        (18983, b"\x1b[1m\\,pid=9\n", 77208, 65280, 5712),
        (18985, b"x,task=y (z)", 77208, 65280, 5696),
        (18987, b"\xff\xfe\xc3\xa9 UTF8", 77212, 65280, 5680),
    ];
    let expected: Vec<Killed> = names
        .iter()
        .map(|&(pid, name, total, anon, file)| {
            killed(pid, name, true, [total, anon, file, 0], Some((0, 188, 0)))
        })
        .collect();
    assert_eq!(p.killed, expected);
    let summaries: Vec<Summary> = names
        .iter()
        .map(|&(pid, name, ..)| local_summary(name, pid))
        .collect();
    assert_eq!(p.summaries, summaries);
    assert!(p.reaped.is_empty());
}

#[test]
fn local_storm_has_fewer_summaries_than_kills() {
    let p = parse_file("local-6.18-memcg-storm.txt");
    let kills: [(u32, u64, u64, u64, u64); 12] = [
        (19014, 23756, 12416, 5692, 80),
        (19008, 25812, 14464, 5684, 92),
        (19009, 27868, 16256, 5608, 92),
        (19010, 27868, 15744, 5624, 92),
        (19017, 27864, 15488, 5740, 84),
        (19012, 25812, 14336, 5728, 84),
        (19015, 24784, 12416, 5740, 88),
        (19013, 26840, 14464, 5688, 88),
        (19007, 28896, 17024, 5732, 100),
        (19018, 34032, 22528, 5736, 108),
        (19011, 44316, 32896, 5832, 128),
        (19016, 77212, 65152, 5724, 188),
    ];
    let expected: Vec<Killed> = kills
        .iter()
        .map(|&(pid, total, anon, file, pgtables)| {
            // The hogs were started as storm0 to storm11, pids 19007 to 19018.
            let name = format!("storm{}", pid - 19007);
            killed(
                pid,
                name.as_bytes(),
                true,
                [total, anon, file, 0],
                Some((0, pgtables, 0)),
            )
        })
        .collect();
    assert_eq!(p.killed, expected);
    // The report, summary included, is rate-limited to 10 per 5 s: the last two kills have none.
    let summarised: Vec<(Vec<u8>, u32)> = p
        .summaries
        .iter()
        .map(|s| (s.task.clone(), s.pid))
        .collect();
    let first_ten: Vec<(Vec<u8>, u32)> = p.killed[..10]
        .iter()
        .map(|k| (k.name.clone(), k.pid))
        .collect();
    assert_eq!(summarised, first_ten);
    assert!(
        p.summaries
            .iter()
            .all(|s| *s == local_summary(&s.task, s.pid))
    );
}

#[test]
fn local_misc_records_forged_kill_is_not_the_kernels() {
    let p = parse_file("local-6.18-misc.txt");
    assert_eq!(p.records, 6);
    assert!(p.killed.is_empty() && p.summaries.is_empty() && p.reaped.is_empty());
    assert_eq!(
        p.forged, 1,
        "the <3>Out of memory line written by user space"
    );
}

#[test]
fn public_4_19_global_two_line_form() {
    let p = parse_file("pub-4.19-rpi4-global.txt");
    assert_eq!(
        p.killed,
        [killed(127, b"heart", false, [1596, 28, 144, 0], None)]
    );
    assert!(p.summaries.is_empty(), "4.19 prints no oom-kill: summary");
    assert_eq!(p.reaped, [127]);
}

#[test]
fn public_4_x_memcg_two_line_form() {
    let p = parse_file("pub-4.x-memcg-kubernetes.txt");
    // The bare Killed line cannot tell a memcg kill; the line before it, not parsed, does.
    assert_eq!(
        p.killed,
        [killed(
            27881,
            b"stress",
            false,
            [8_192_780, 7_152_284, 4, 0],
            None
        )]
    );
    assert_eq!(p.reaped, [27881]);
}

#[test]
fn public_5_4_memcg_kill() {
    let p = parse_file("pub-5.4-ubuntu-memcg.txt");
    assert_eq!(
        p.killed,
        [killed(
            63214,
            b"uwsgi",
            true,
            [3_149_468, 164_992, 52176, 92],
            Some((0, 1372, 986))
        )]
    );
    assert!(p.summaries.is_empty());
    assert_eq!(p.reaped, [63214]);
}

#[test]
fn public_global_kill_with_summary() {
    let p = parse_file("pub-5.4plus-global-debos.txt");
    assert_eq!(
        p.killed,
        [killed(
            289,
            b"debos",
            false,
            [1_058_452, 9464, 4, 5736],
            Some((0, 188, 0))
        )]
    );
    assert_eq!(
        p.summaries,
        [summary(
            "CONSTRAINT_NONE",
            None,
            "/system.slice/fakemachine.service",
            b"debos",
            289,
            0
        )]
    );
}

#[test]
fn public_6_1_raspberry_pi_global_kills() {
    let p = parse_file("pub-6.1-rpi4-global.txt");
    assert_eq!(
        p.killed,
        [
            killed(
                13021,
                b"kodi.bin",
                false,
                [1_099_788, 148_084, 113_576, 0],
                Some((1000, 1484, 0))
            ),
            killed(
                24355,
                b"munin-cgi-graph",
                false,
                [77072, 0, 12968, 0],
                Some((33, 124, 0))
            ),
        ]
    );
}

#[test]
fn public_6_8_rootless_summary_with_long_paths() {
    let p = parse_file("pub-6.8plus-memcg-rootless.txt");
    assert!(p.killed.is_empty());
    let pod = "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-11017d9ed95ddc35b24735fce395331554737a0676defb9930e07b0ee6d802e5.scope/container/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod17d1d0b1_bbeb_4252_a45c_c9f426d1cb34.slice";
    let container = format!(
        "{pod}/cri-containerd-799855c3e9e23ea07677c581b96f444dffb0932d7a907973bb08a8391803c559.scope"
    );
    assert_eq!(
        p.summaries,
        [summary(
            "CONSTRAINT_MEMCG",
            Some(pod),
            &container,
            b"uvicorn",
            32550,
            525_287
        )]
    );
}
