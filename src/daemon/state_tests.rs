use super::*;

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

fn full() -> State {
    State {
        boot_id: Some("5c2a0f4e-84c6-4c47-9d6b-7b1e5d8a3f10".into()),
        init_start: Some(500),
        last_kill_seq: Some(123_456_789_012),
        oom_kills_counted: Some(17),
        episode: Some(OpenEpisode {
            incident: 3,
            high_since: at("2026-11-22T14:03:15+01:00"),
            last_report: at("2026-11-22T14:13:15+01:00"),
        }),
        last_used_percent: Some(97.2),
        stopped_cleanly: true,
    }
}

#[test]
fn a_state_reads_back_as_written() {
    let state = full();
    assert_eq!(
        parse(format(&state).as_bytes()),
        Read {
            state,
            damaged: false
        }
    );
    assert_eq!(
        parse(b""),
        Read {
            state: State::default(),
            damaged: false
        }
    );
}

/// A file of the first release (boot and kills only) is not damaged.
#[test]
fn an_older_file_reads_whole() {
    let read = parse(b"boot_id=abc\nlast_kill_seq=12\noom_kills_counted=4\n");
    assert!(!read.damaged);
    assert_eq!(read.state.last_kill_seq, Some(12));
    assert_eq!(read.state.episode, None);
}

#[test]
fn a_damaged_file_reads_as_what_can_be_read_of_it() {
    let read = parse(b"boot_id=abc\nlast_kill_seq=12x\nfuture=1\noom_kills_counted=4\ngarbage\n");
    assert!(read.damaged);
    assert_eq!(
        read.state,
        State {
            boot_id: Some("abc".into()),
            oom_kills_counted: Some(4),
            ..State::default()
        }
    );
    assert_eq!(parse(b"boot_id=a b\n").state.boot_id, None, "one word");
    assert!(!parse(b"future=1\n").damaged, "a key of a later version");
}

/// Every cut of a whole file either reads as a shorter file of whole lines or says it is
/// damaged; none reads an episode that was not written.
#[test]
fn a_file_cut_anywhere_is_damaged_or_whole_lines() {
    let text = format(&full());
    for cut in 1..text.len() {
        let read = parse(&text.as_bytes()[..cut]);
        let whole_lines = text.as_bytes()[cut - 1] == b'\n';
        if !whole_lines {
            assert!(read.damaged, "cut at {cut}: {:?}", &text[..cut]);
        }
        if let Some(episode) = &read.state.episode {
            assert_eq!(Some(episode), full().episode.as_ref(), "cut at {cut}");
        }
    }
}

#[test]
fn a_state_of_another_boot_is_forgotten() {
    let state = full();
    assert_eq!(state.clone().of_boot(state.boot_id.as_deref()), state);
    assert_eq!(
        state.of_boot(Some("new")),
        State {
            boot_id: Some("new".into()),
            ..State::default()
        }
    );
}

#[test]
fn a_new_boot_after_an_open_episode_says_how_it_ended() {
    let now = at("2026-11-23T08:00:00+01:00");
    let mut state = full();
    state.stopped_cleanly = false;
    let entry = state
        .previous_boot(Some("new"), Some(500), now, vec!["pstore: x".into()])
        .unwrap();
    assert_eq!(entry.ending, BootEnding::Abrupt);
    assert_eq!(entry.incident, 3);
    assert_eq!(entry.high_since, at("2026-11-22T14:03:15+01:00"));
    assert_eq!(entry.last_report, at("2026-11-22T14:13:15+01:00"));
    assert_eq!(entry.used_percent, Some(97.2));
    assert_eq!(entry.evidence, ["pstore: x"]);
    assert_eq!(entry.time, now);

    state.stopped_cleanly = true;
    let entry = state
        .previous_boot(Some("new"), Some(500), now, vec![])
        .unwrap();
    assert_eq!(entry.ending, BootEnding::ShutDown);
}

#[test]
fn nothing_is_said_in_the_same_boot_without_an_episode_or_a_boot_id() {
    let now = at("2026-11-23T08:00:00+01:00");
    let state = full();
    let same = state.boot_id.clone();
    assert_eq!(
        state.previous_boot(same.as_deref(), Some(500), now, vec![]),
        None
    );
    assert_eq!(state.previous_boot(None, Some(500), now, vec![]), None);
    let quiet = State {
        episode: None,
        ..full()
    };
    assert_eq!(
        quiet.previous_boot(Some("new"), Some(500), now, vec![]),
        None
    );
    let unknown = State {
        boot_id: None,
        ..full()
    };
    assert_eq!(
        unknown.previous_boot(Some("new"), Some(500), now, vec![]),
        None
    );
}

#[test]
fn saving_replaces_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::in_dir(dir.path());
    assert_eq!(file.load().unwrap().state, State::default(), "no file yet");
    let state = full();
    file.save(&state).unwrap();
    assert_eq!(
        file.load().unwrap(),
        Read {
            state,
            damaged: false
        }
    );
    assert!(!dir.path().join("state.new").exists());
}

/// A container's new boot keeps the kernel, and so the kernel's boot id as a service sees it;
/// PID 1's start tells the boots apart. Unknown on either side, it is left out.
#[test]
fn a_container_s_new_boot_is_told_by_pid_1_s_start() {
    let now = at("2026-11-23T08:00:00+01:00");
    let state = full();
    let kernel = state.boot_id.clone();
    let entry = state.previous_boot(kernel.as_deref(), Some(9000), now, vec![]);
    assert_eq!(entry.map(|e| e.incident), Some(3), "a new PID 1");
    assert_eq!(
        state.previous_boot(kernel.as_deref(), Some(500), now, vec![]),
        None,
        "the same PID 1: a restart"
    );
    assert_eq!(state.same_boot(kernel.as_deref(), None), Some(true));
    let older = State {
        init_start: None,
        ..full()
    };
    assert_eq!(older.same_boot(kernel.as_deref(), Some(9000)), Some(true));
    assert_eq!(older.same_boot(Some("other"), Some(9000)), Some(false));
}

/// A log directory deleted under the daemon is made again, 0750, as the logs make it.
#[test]
fn saving_into_a_deleted_directory_makes_it_again() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let file = StateFile::in_dir(&logs);
    file.save(&full()).unwrap();
    assert_eq!(file.load().unwrap().state, full());
    let mode = std::fs::metadata(&logs).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o750);
}
