//! Every file of tests/corpus/cgroup/, tests/corpus/mountinfo/ and tests/corpus/pressure/ (real
//! files from public sources and from this development machine; each folder's README says
//! where each came from) through `parse_proc_cgroup` and `unit_of`, `ram_mounts` and
//! `parse_pressure`, checked against what each holds. Each folder's file count is checked too,
//! so a file dropped or added without its expectations fails.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::corpus_dir;

use memory_monitor::parse::cgroup::{ProcCgroups, parse_proc_cgroup, unit_of};
use memory_monitor::parse::mountinfo::ram_mounts;
use memory_monitor::parse::pressure::{Pressure, parse_pressure};

/// The `.txt` files of a corpus folder, by name, with their bytes.
fn folder(name: &str, count: usize) -> BTreeMap<String, Vec<u8>> {
    let dir = corpus_dir().join(name);
    let files: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .map(|path| (file_name(&path), std::fs::read(&path).unwrap()))
        .collect();
    assert_eq!(
        files.len(),
        count,
        "tests/corpus/{name}/ holds {:?}",
        files.keys().collect::<Vec<_>>()
    );
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_str().unwrap().to_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// /proc/PID/cgroup

const CGROUP_FILES: usize = 22;

/// What `unit_of` should give for one of a file's lines: the line is missing, it names no unit,
/// or this name.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    NoLine,
    NoUnit,
    Unit(String),
}

impl Expect {
    fn read(column: &str) -> Expect {
        match column {
            "-" => Expect::NoLine,
            "none" => Expect::NoUnit,
            name => Expect::Unit(name.to_owned()),
        }
    }

    fn of(path: Option<&[u8]>) -> Expect {
        match path {
            None => Expect::NoLine,
            Some(path) => match unit_of(path) {
                None => Expect::NoUnit,
                Some(unit) => Expect::Unit(text(&unit.name)),
            },
        }
    }
}

/// tests/corpus/cgroup/expected.tsv: file → (unified, name=systemd, memory).
fn cgroup_expectations() -> BTreeMap<String, [Expect; 3]> {
    let tsv = std::fs::read_to_string(corpus_dir().join("cgroup/expected.tsv")).unwrap();
    tsv.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("file\t"))
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            let [file, unified, systemd, memory] = columns[..] else {
                panic!("expected.tsv: {line:?} is not four columns");
            };
            (
                file.to_owned(),
                [
                    Expect::read(unified),
                    Expect::read(systemd),
                    Expect::read(memory),
                ],
            )
        })
        .collect()
}

#[test]
fn every_cgroup_file_names_its_unit() {
    let files = folder("cgroup", CGROUP_FILES);
    let expected = cgroup_expectations();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "tests/corpus/cgroup/expected.tsv lists the folder's files"
    );
    for (name, bytes) in &files {
        let found = parse_proc_cgroup(bytes);
        let got = [
            Expect::of(found.unified),
            Expect::of(found.systemd_v1),
            Expect::of(found.memory_v1),
        ];
        assert_eq!(&got, &expected[name], "{name}");
    }
}

/// A unit's cgroup is the path cut at the end of one of its components.
#[test]
fn every_units_cgroup_is_a_prefix_of_its_path() {
    for (name, bytes) in folder("cgroup", CGROUP_FILES) {
        let ProcCgroups {
            unified,
            memory_v1,
            systemd_v1,
        } = parse_proc_cgroup(&bytes);
        for path in [unified, memory_v1, systemd_v1].into_iter().flatten() {
            let Some(unit) = unit_of(path) else { continue };
            let rest = path.strip_prefix(unit.cgroup).unwrap_or_else(|| {
                panic!(
                    "{name}: {} is not a prefix of {}",
                    text(unit.cgroup),
                    text(path)
                )
            });
            assert!(
                rest.is_empty() || rest.starts_with(b"/"),
                "{name}: {} cuts a component of {}",
                text(unit.cgroup),
                text(path)
            );
            assert!(
                !unit.cgroup.ends_with(b"/"),
                "{name}: {}",
                text(unit.cgroup)
            );
        }
    }
}

/// Every v1 line of a file, not only the memory and systemd ones, names the same unit or none:
/// the files' controllers disagree only where a process sits higher in one hierarchy.
#[test]
fn the_v1_lines_of_a_container_agree() {
    let containers = [
        ("v1-kubernetes-cgroupfs_bpfd.txt", "k8s 74998d19bd3c"),
        (
            "v1-kubernetes-containerd-colon_neuvector.txt",
            "containerd d3d8ccf5cca9",
        ),
        ("v1-docker-cgroupfs_moby-33352.txt", "docker 5dace3de0735"),
        (
            "v1-docker-systemd-init-scope_containerd-285.txt",
            "docker b33dda97580e",
        ),
        (
            "hybrid-docker-cgroupfs-debian10_for-linux-1293.txt",
            "docker a2ffe0e97ac2",
        ),
        (
            "hybrid-rkt-machine_rkt-docs.txt",
            "machine rkt-97910fdc-13ec-4025-8f93-5ddea0089eff",
        ),
    ];
    let files = folder("cgroup", CGROUP_FILES);
    for (name, container) in containers {
        let mut named = 0;
        for line in files[name].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let path = line.splitn(3, |&b| b == b':').nth(2).unwrap();
            if line.starts_with(b"0::") {
                continue;
            }
            match unit_of(path) {
                Some(unit) => {
                    assert_eq!(text(&unit.name), container, "{name}: {}", text(line));
                    named += 1;
                }
                None => assert_eq!(path, b"/", "{name}: {}", text(line)),
            }
        }
        assert!(named >= 3, "{name}: only {named} lines name the container");
    }
}

// ---------------------------------------------------------------------------------------------
// /proc/PID/mountinfo

#[test]
fn every_mountinfo_file_gives_its_ram_mounts() {
    let expected: [(&str, &[&str]); 4] = [
        (
            "docker-20.10.16-container_newrelic.txt",
            &[
                "/dev",
                "/dev/shm",
                "/proc/acpi",
                // /dev/null of the /dev tmpfs, bound over files docker masks
                "/proc/kcore",
                "/proc/keys",
                "/proc/timer_list",
                "/proc/sched_debug",
                "/sys/firmware",
            ],
        ),
        (
            "fedora20-desktop_moby-sys.txt",
            &["/dev/shm", "/run", "/sys/fs/cgroup", "/tmp"],
        ),
        (
            // /dev/shm is mounted twice, the second over the first: listed once, at the second.
            "local-proc1-mountinfo.txt",
            &[
                "/mnt/sandboxing/model_tools_env/v1/python",
                "/dev/shm",
                "/sys/fs/cgroup",
            ],
        ),
        (
            "nixos-ramfs-tmpfs-root_systemd-4986.txt",
            &["/dev/shm", "/run", "/run/keys", "/run/wrappers", "/"],
        ),
    ];
    let files = folder("mountinfo", expected.len());
    for (name, mounts) in expected {
        let bytes = files
            .get(name)
            .unwrap_or_else(|| panic!("tests/corpus/mountinfo/{name} is missing"));
        let got: Vec<String> = ram_mounts(bytes).iter().map(|m| text(m)).collect();
        assert_eq!(got, mounts, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// /proc/pressure/memory

#[test]
fn every_pressure_file_gives_its_figures() {
    let expected = [
        (
            "idle-zero_watchdogd-25.txt",
            Pressure {
                some_avg10: 0.0,
                some_avg60: 0.0,
                full_avg10: Some(0.0),
                full_avg60: Some(0.0),
            },
        ),
        (
            "local-6.18.txt",
            Pressure {
                some_avg10: 0.0,
                some_avg60: 4.17,
                full_avg10: Some(0.0),
                full_avg60: Some(3.02),
            },
        ),
        (
            "thrashing_thrash-protect-28.txt",
            Pressure {
                some_avg10: 70.24,
                some_avg60: 68.52,
                full_avg10: Some(57.59),
                full_avg60: Some(58.06),
            },
        ),
    ];
    let files = folder("pressure", expected.len());
    for (name, figures) in expected {
        let bytes = files
            .get(name)
            .unwrap_or_else(|| panic!("tests/corpus/pressure/{name} is missing"));
        assert_eq!(parse_pressure(bytes), Some(figures), "{name}");
    }
}
