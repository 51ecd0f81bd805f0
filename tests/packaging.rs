//! The files install.sh installs agree with the program.

mod common;

/// `/etc/default/memory-monitor` lists every option the program reads from the environment,
/// commented out, at the default the program really uses.
#[test]
fn the_default_file_matches_the_options() {
    let help = common::program_without_env()
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
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
    assert_eq!(from_help.len(), 10, "{help}");
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
        "AmbientCapabilities=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH",
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
