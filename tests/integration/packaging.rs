//! The files install.sh installs agree with the program.

use crate::util;

/// `--help` as the program prints it with no environment: every default its own.
fn help_without_env() -> String {
    let out = util::program_without_env().arg("--help").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `/etc/default/memory-monitor` lists every option the program reads from the environment,
/// commented out, at the default the program really uses.
#[test]
fn the_default_file_matches_the_options() {
    let help = help_without_env();
    let mut from_help: Vec<String> = help
        .lines()
        .filter_map(|line| {
            let env = line.split("[env: ").nth(1)?.split('=').next()?;
            let default = line.split("[default: ").nth(1)?.split(']').next()?;
            Some(format!("#{env}={default}"))
        })
        .collect();
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/dist/memory-monitor.default"
    ))
    .unwrap();
    let mut from_file: Vec<String> = file
        .lines()
        .filter(|l| l.contains("MEMORY_MONITOR_"))
        .map(str::to_string)
        .collect();
    from_help.sort();
    from_file.sort();
    assert_eq!(from_help.len(), 18, "{help}");
    assert_eq!(from_file, from_help);
}

#[test]
fn the_unit_runs_the_installed_binary_as_its_own_user() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/dist/memory-monitor.service"
    ))
    .unwrap();
    for line in [
        "ExecStart=/usr/local/bin/memory-monitor run",
        "EnvironmentFile=-/etc/default/memory-monitor",
        "User=memory-monitor",
        "LogsDirectory=memory-monitor",
        "Restart=always",
        "AmbientCapabilities=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_SYSLOG",
        "OOMScoreAdjust=-900",
        "BindReadOnlyPaths=-/dev/kmsg",
    ] {
        assert!(unit.lines().any(|l| l == line), "missing {line}");
    }
    for hiding in ["ProtectProc=", "PrivateUsers=", "ProcSubset="] {
        assert!(
            !unit.lines().any(|l| l.starts_with(hiding)),
            "{hiding} would hide other users' processes"
        );
    }
}

/// The man page (dist/memory-monitor.1, generated: tests/integration/generated.rs) names every
/// option with its value, variable and default as `--help` has them.
#[test]
fn the_man_page_lists_every_option() {
    let help = help_without_env();
    let man = read("dist/memory-monitor.1");
    let mut options = 0;
    for line in help.lines() {
        let (Some(env), Some(default)) =
            (line.split("[env: ").nth(1), line.split("[default: ").nth(1))
        else {
            continue;
        };
        let mut words = line.split_whitespace();
        let (option, value) = (words.next().unwrap(), words.next().unwrap());
        let entry = format!(
            "\\fB{}\\fR \\fI{}\\fR [default: {}]",
            option.replace('-', "\\-"),
            value,
            default.split(']').next().unwrap().replace('-', "\\-"),
        );
        let lines: Vec<&str> = man.lines().collect();
        let at = lines
            .iter()
            .position(|l| *l == entry)
            .unwrap_or_else(|| panic!("the man page lacks: {entry}"));
        let variable = format!("\\fB{}\\fR", env.split('=').next().unwrap());
        assert!(
            lines[at..].iter().take(5).any(|l| l.contains(&variable)),
            "the man page does not give {variable} for {option}"
        );
        options += 1;
    }
    assert_eq!(options, 18, "{help}");
}

/// LICENSE, from which package.sh writes the .deb's copyright file, and Cargo.toml agree.
#[test]
fn the_license_is_mit_everywhere() {
    let root = env!("CARGO_MANIFEST_DIR");
    let license = std::fs::read_to_string(format!("{root}/LICENSE")).unwrap();
    assert!(license.starts_with("MIT License\n"));
    assert!(license.contains("\nCopyright (c) 2026 the memory-monitor developers\n"));
    assert_eq!(env!("CARGO_PKG_LICENSE"), "MIT");
}

/// Every "Rust 1.N" in the README is the minimum that Cargo.toml states and CI builds with.
#[test]
fn the_readme_states_the_minimum_rust() {
    let msrv = env!("CARGO_PKG_RUST_VERSION");
    assert!(!msrv.is_empty(), "Cargo.toml states no rust-version");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let stated: Vec<&str> = readme
        .split("Rust ")
        .skip(1)
        .map(|after| {
            let end = after
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(after.len());
            after[..end].trim_end_matches('.')
        })
        .filter(|version| version.starts_with("1."))
        .collect();
    assert!(!stated.is_empty(), "the README names no minimum Rust");
    assert!(stated.iter().all(|v| *v == msrv), "{stated:?} vs {msrv}");
}

/// Every default named in `--help` (one place: `memory_monitor::defaults`) is the one the user's
/// documentation, the README's summary and the tests' own constants say.
#[test]
fn the_documentation_and_the_tests_say_the_defaults_the_program_uses() {
    use memory_monitor::defaults;
    use util::episodes::{INTERVAL, THRESHOLD, URGENT, nanos};

    let help = help_without_env();
    let docs = read("docs/log-format.md");
    let mut checked = 0;
    for line in help.lines() {
        let (Some(flag), Some(env), Some(default)) = (
            line.trim_start()
                .split(' ')
                .next()
                .filter(|f| f.starts_with("--")),
            line.split("[env: ")
                .nth(1)
                .and_then(|e| e.split('=').next()),
            line.split("[default: ")
                .nth(1)
                .and_then(|d| d.split(']').next()),
        ) else {
            continue;
        };
        let row = format!("| `{flag} ");
        let documented = docs
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("docs/log-format.md has no row for {flag}"));
        assert!(
            documented.contains(&format!("| `{env}` | `{default}` |")),
            "{flag}: {documented}"
        );
        checked += 1;
    }
    assert_eq!(checked, 18, "{help}");

    let rules = defaults::rules();
    assert_eq!(THRESHOLD, rules.threshold_percent);
    assert_eq!(Some(URGENT), rules.urgent_percent);
    assert_eq!(INTERVAL, nanos(defaults::interval()));
    let readme = read("README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let summary = format!(
        "In `{}/incidents.log`, once memory has been above {}% for {} s, and every {} minutes while it stays there",
        defaults::LOG_DIR,
        defaults::THRESHOLD,
        rules.sustain.as_secs(),
        rules.repeat.as_secs() / 60,
    );
    assert!(
        readme.contains(&summary),
        "the README should say: {summary}"
    );
}

fn read(file: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}
