use super::*;

fn killed(text: &[u8]) -> Killed {
    match parse_oom_line(text) {
        Some(OomLine::Killed(k)) => k,
        other => panic!("{}: {other:?}", String::from_utf8_lossy(text)),
    }
}

fn summary(text: &[u8]) -> Summary {
    match parse_oom_line(text) {
        Some(OomLine::Summary(s)) => s,
        other => panic!("{}: {other:?}", String::from_utf8_lossy(text)),
    }
}

#[test]
fn killed_4_19_has_no_prefix_and_no_uid() {
    let k = killed(
        b"Killed process 4242 (python3) total-vm:2341234kB, anon-rss:1593123kB, file-rss:6656kB, shmem-rss:0kB",
    );
    assert_eq!(
        k,
        Killed {
            pid: 4242,
            name: b"python3".to_vec(),
            memcg: false,
            total_vm_kib: 2_341_234,
            anon_rss_kib: 1_593_123,
            file_rss_kib: 6656,
            shmem_rss_kib: 0,
            uid: None,
            pgtables_kib: None,
            oom_score_adj: None,
        }
    );
}

#[test]
fn killed_5_1_to_5_3_has_the_prefix() {
    let k = killed(
        b"Memory cgroup out of memory: Killed process 7 (java) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
    );
    assert!(k.memcg);
    assert_eq!((k.pid, k.uid, k.pgtables_kib), (7, None, None));
    let k = killed(
        b"Out of memory: Killed process 7 (java) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
    );
    assert!(!k.memcg);
    let k = killed(
        b"Out of memory (oom_kill_allocating_task): Killed process 7 (java) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
    );
    assert!(!k.memcg);
}

#[test]
fn killed_5_4_and_later_add_uid_pgtables_and_adj() {
    let k = killed(
        b"Memory cgroup out of memory: Killed process 18872 (tail) total-vm:67752kB, anon-rss:64768kB, file-rss:1644kB, shmem-rss:0kB, UID:0 pgtables:176kB oom_score_adj:0",
    );
    assert_eq!(
        (k.pid, k.name.as_slice(), k.memcg),
        (18872, &b"tail"[..], true)
    );
    assert_eq!(
        (
            k.total_vm_kib,
            k.anon_rss_kib,
            k.file_rss_kib,
            k.shmem_rss_kib
        ),
        (67752, 64768, 1644, 0)
    );
    assert_eq!(
        (k.uid, k.pgtables_kib, k.oom_score_adj),
        (Some(0), Some(176), Some(0))
    );
    let k = killed(
        b"Memory cgroup out of memory: Killed process 3803554 (sleep) total-vm:1572kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:32kB oom_score_adj:-997",
    );
    assert_eq!(k.oom_score_adj, Some(-997));
    // The UID alone, as it stood in -mm for 5.4, is read too.
    let k = killed(
        b"Out of memory: Killed process 2739 (abuse_the_ram) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:1000",
    );
    assert_eq!((k.uid, k.pgtables_kib), (Some(1000), None));
}

#[test]
fn sizes_and_ids_past_32_bits() {
    let k = killed(
        b"Out of memory: Killed process 4194304 (big) total-vm:133880028000kB, anon-rss:18446744073709551615kB, file-rss:0kB, shmem-rss:0kB, UID:4294967295 pgtables:8589934592kB oom_score_adj:1000",
    );
    assert_eq!(k.total_vm_kib, 133_880_028_000);
    assert_eq!(k.anon_rss_kib, u64::MAX);
    assert_eq!(k.uid, Some(u32::MAX));
    assert_eq!(k.pgtables_kib, Some(8_589_934_592));
    for bad in [
        &b"Out of memory: Killed process 1 (x) total-vm:18446744073709551616kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB"[..],
        b"Out of memory: Killed process 4294967296 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:4294967296",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:32768",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:-32769",
    ] {
        assert_eq!(parse_oom_line(bad), None, "{}", String::from_utf8_lossy(bad));
    }
    let k = killed(
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:-32768",
    );
    assert_eq!(k.oom_score_adj, Some(i16::MIN));
}

#[test]
fn hostile_names_in_killed_lines() {
    for (text, name) in [
        // Captured on 6.18: a comm of `a) total-vm:1kB`.
        (
            &b"Memory cgroup out of memory: Killed process 18981 (a) total-vm:1kB) total-vm:77208kB, anon-rss:65024kB, file-rss:5664kB, shmem-rss:0kB, UID:0 pgtables:188kB oom_score_adj:0"[..],
            &b"a) total-vm:1kB"[..],
        ),
        (
            br"Memory cgroup out of memory: Killed process 18983 (\x1b[1m\x5c,pid=9\x0a) total-vm:77208kB, anon-rss:65280kB, file-rss:5712kB, shmem-rss:0kB, UID:0 pgtables:188kB oom_score_adj:0",
            b"\x1b[1m\\,pid=9\n",
        ),
        (
            br"Out of memory: Killed process 5 (\xff\xfe\xc3\xa9 UTF8) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:0 pgtables:1kB oom_score_adj:0",
            b"\xff\xfe\xc3\xa9 UTF8",
        ),
        (
            b"Killed process 6 ()) total-vm:9kB, anon-rss:1kB) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
            b")) total-vm:9kB, anon-rss:1kB",
        ),
        (
            b"Killed process 6 (() total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
            b"(",
        ),
        (
            b"Killed process 6 () total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
            b"",
        ),
        (
            b"Killed process 6 ( (x) ) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
            b" (x) ",
        ),
    ] {
        let k = killed(text);
        assert_eq!(k.name, name, "{}", String::from_utf8_lossy(text));
        if k.pid == 6 {
            assert_eq!((k.total_vm_kib, k.anon_rss_kib), (1, 2));
        }
    }
}

#[test]
fn a_name_cannot_fake_the_numbers() {
    // Whatever the name holds, the numbers are those after the last `) total-vm:`.
    let k = killed(
        b"Out of memory: Killed process 9 (x) total-vm:999kB, anon-rss:999kB, file-rss:999kB, shmem-rss:999kB, UID:0 pgtables:9kB oom_score_adj:-1000) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:1000 pgtables:5kB oom_score_adj:6",
    );
    assert_eq!(
        (k.total_vm_kib, k.anon_rss_kib, k.uid, k.oom_score_adj),
        (1, 2, Some(1000), Some(6))
    );
}

#[test]
fn lines_that_are_not_kills() {
    for text in [
        // 4.19's choice of victim, printed before the kill: not the kill itself.
        &b"Out of memory: Kill process 4242 (python3) score 912 or sacrifice child"[..],
        b"Memory cgroup out of memory: Kill process 4242 (python3) score 912 or sacrifice child",
        // Later than 4.19, for a victim with no mm left: not killed, not counted.
        b"Memory cgroup out of memory: OOM victim 3804877 (stress) is already exiting. Skip killing the task",
        b"oom_reaper: unable to reap pid:127 (heart)",
        b"head invoked oom-killer: gfp_mask=0x500cc2(GFP_HIGHUSER|__GFP_ACCOUNT), order=0, oom_score_adj=0",
        b"Tasks in /a are going to be killed due to memory.oom.group set",
        // RHEL 7's 3.10 patched format is outside 4.19 to 6.x.
        b"Killed process 42452 (memcg_test_1), UID 0, total-vm:7296kB, anon-rss:96kB, file-rss:164kB, shmem-rss:0kB",
        b"Killed process 28438 (java) total-vm:20255636kB, anon-rss:466160kB, file-rss:13684kB",
        b"",
    ] {
        assert_eq!(parse_oom_line(text), None, "{}", String::from_utf8_lossy(text));
    }
}

#[test]
fn malformed_kills_are_refused() {
    let good = b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:5 pgtables:6kB oom_score_adj:7";
    assert!(parse_oom_line(good).is_some());
    for bad in [
        &b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:5 pgtables:6kB oom_score_adj:7 "[..],
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:5 pgtables:6kB",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:5 pgtables:6kB oom_score_adj:",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:5 pgtables:6kB oom_score_adj:-",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB, UID:",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4",
        b"Out of memory: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB",
        b"Out of memory: Killed process 1 (x) total-vm:kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b"Out of memory: Killed process 1 (x) total-vm:+1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b"Out of memory: Killed process 1 (x total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b"Out of memory: Killed process  1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b"Out of memory: Killed process -1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b"Out of memory: Killed process (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b"Out of memory: Killed process 1) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b"Out of memory: Killed process 1",
        b"Out of memory: Killed process ",
        b"Some other subsystem: Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
        b" Killed process 1 (x) total-vm:1kB, anon-rss:2kB, file-rss:3kB, shmem-rss:4kB",
    ] {
        assert_eq!(parse_oom_line(bad), None, "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn summary_of_a_memcg_kill() {
    let s = summary(
        b"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/mm-test,task_memcg=/mm-test/sub,task=tail,pid=4242,uid=0",
    );
    assert_eq!(
        s,
        Summary {
            constraint: b"CONSTRAINT_MEMCG".to_vec(),
            oom_memcg: Some(b"/mm-test".to_vec()),
            task_memcg: Some(b"/mm-test/sub".to_vec()),
            task: b"tail".to_vec(),
            pid: 4242,
            uid: 0,
        }
    );
}

#[test]
fn summary_of_a_global_kill_and_without_memcg_or_cpusets() {
    let s = summary(
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice/user-21417.slice/user@21417.service,task=perl,pid=1440763,uid=21417",
    );
    assert_eq!(s.oom_memcg, None);
    assert_eq!(
        s.task_memcg.as_deref(),
        Some(&b"/user.slice/user-21417.slice/user@21417.service"[..])
    );
    assert_eq!(
        (s.task.as_slice(), s.pid, s.uid),
        (&b"perl"[..], 1_440_763, 21417)
    );
    let s = summary(b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=1,uid=2");
    assert_eq!((s.oom_memcg, s.task_memcg), (None, None));
    assert_eq!(s.constraint, b"CONSTRAINT_NONE");
}

#[test]
fn summary_uid_printed_negative_by_percent_d() {
    let s = summary(b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=1,uid=-2");
    assert_eq!(s.uid, 4_294_967_294);
    let s = summary(
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=1,uid=-2147483648",
    );
    assert_eq!(s.uid, 2_147_483_648);
    for bad in [
        &b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=1,uid=-2147483649"[..],
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=1,uid=4294967296",
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=1,uid=-",
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=-1,uid=0",
    ] {
        assert_eq!(
            parse_oom_line(bad),
            None,
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn hostile_names_in_summaries() {
    for (text, task) in [
        (
            &br"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/m,task_memcg=/m,task=\x1b[1m\x5c,pid=9\x0a,pid=18983,uid=0"[..],
            &b"\x1b[1m\\,pid=9\n"[..],
        ),
        (
            b"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/m,task_memcg=/m,task=x,task=y (z),pid=18985,uid=0",
            b"x,task=y (z)",
        ),
        (
            b"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),oom_memcg=/m,task_memcg=/m,task=,pid=1,uid=2,pid=3,uid=4",
            b",pid=1,uid=2",
        ),
        (
            b"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),oom_memcg=/m,task_memcg=/m,task=a,task_memcg=/b,pid=3,uid=4",
            b"a,task_memcg=/b",
        ),
    ] {
        let s = summary(text);
        assert_eq!(s.task, task, "{}", String::from_utf8_lossy(text));
        assert_eq!(s.task_memcg.as_deref(), Some(&b"/m"[..]));
        assert_eq!(s.oom_memcg.as_deref(), Some(&b"/m"[..]));
    }
}

#[test]
fn a_cgroup_name_holding_task_misleads_the_summary() {
    // The documented limit: cgroup names are not anyone's to choose, and the Killed line,
    // which is what is counted, is read right whatever they hold.
    let s = summary(
        b"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),oom_memcg=/a,task=b,task_memcg=/a,task=b,task=c,pid=3,uid=4",
    );
    assert_eq!(s.task, b"b,task_memcg=/a,task=b,task=c");
    assert_eq!((s.pid, s.uid), (3, 4));
}

#[test]
fn malformed_summaries_are_refused() {
    for bad in [
        &b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0"[..],
        b",global_oom,task_memcg=/,task=firewalld,pid=5096,uid=0",
        b"oom-kill:constraint=,nodemask=(null),task=x,pid=1,uid=2",
        b"oom-kill:constraint=CONSTRAINT_NONE",
        b"oom-kill:nodemask=(null),task=x,pid=1,uid=2",
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=1,uid=2 ",
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,pid=,uid=2",
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),pid=1,uid=2",
        b"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=x,uid=2",
        b"oom-kill:",
    ] {
        assert_eq!(
            parse_oom_line(bad),
            None,
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn reaper_lines() {
    assert_eq!(
        parse_oom_line(
            b"oom_reaper: reaped process 18872 (tail), now anon-rss:4kB, file-rss:68kB, shmem-rss:0kB"
        ),
        Some(OomLine::Reaped { pid: 18872 })
    );
    assert_eq!(
        parse_oom_line(
            b"oom_reaper: reaped process 7 (a), now anon-rss:1kB), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
        ),
        Some(OomLine::Reaped { pid: 7 })
    );
    for bad in [
        &b"oom_reaper: reaped process x (tail), now anon-rss:4kB, file-rss:68kB, shmem-rss:0kB"[..],
        b"oom_reaper: reaped process 1 (tail)",
        b"oom_reaper: reaped process 1",
    ] {
        assert_eq!(
            parse_oom_line(bad),
            None,
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}
