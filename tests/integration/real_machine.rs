//! `snapshot` against this machine's real /proc, ps and top (procps must be installed).

use crate::util;

use std::process::Command;

fn meminfo_used_percent() -> f64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap();
    let field = |name: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (field("MemTotal:") - field("MemAvailable:")) / field("MemTotal:") * 100.0
}

#[test]
fn snapshot_of_this_machine() {
    if !util::require_procps() {
        return;
    }
    let before = pids_in_proc();
    let out = Command::new(env!("CARGO_BIN_EXE_memory-monitor"))
        .args(["snapshot", "--details", "2"])
        .env_remove("MEMORY_MONITOR_DETAILS")
        .output()
        .unwrap();
    let after = pids_in_proc();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "stderr: {stderr}");
    assert_eq!(stderr, "", "a healthy machine gives no warnings");

    let lines: Vec<&str> = stdout.lines().collect();
    let header = util::log::header(lines[0]).unwrap_or_else(|| panic!("header: {}", lines[0]));
    assert_eq!(header.incident, None, "a snapshot");
    assert!(header.cpu_percent.is_some(), "{}", lines[0]);
    assert_eq!(header.threshold, None, "{}", lines[0]);
    let ram = header.ram_percent;
    assert!(
        (ram - meminfo_used_percent()).abs() < 5.0,
        "RAM {ram}% vs meminfo"
    );

    assert!(lines[1].starts_with("  RAM over the last "), "{}", lines[1]);
    // Where the RAM is: the breakdown, pressure where the kernel has PSI, and the units of
    // this machine's processes (every process is in some cgroup).
    assert!(lines[2].starts_with("  memory: processes "), "{}", lines[2]);
    let top_at = lines
        .iter()
        .position(|l| l.starts_with("  top - "))
        .unwrap();
    let context = &lines[2..top_at];
    let has_psi = std::fs::read_to_string("/proc/pressure/memory").is_ok();
    assert_eq!(
        context.iter().any(|l| l.starts_with("  pressure: some ")),
        has_psi,
        "{context:#?}"
    );
    let units = context.iter().filter(|l| l.starts_with("  unit ")).count();
    assert!((1..=5).contains(&units), "{context:#?}");
    util::log::check_log(&stdout);
    let table_start = lines.iter().position(|l| l.starts_with("USER ")).unwrap();
    assert!(
        lines[top_at..table_start]
            .iter()
            .all(|l| l.starts_with("  "))
    );
    assert!(
        lines[top_at..table_start]
            .iter()
            .any(|l| l.contains("Cpu(s)"))
    );
    let table_end = table_start
        + lines[table_start..]
            .iter()
            .position(|l| l.is_empty())
            .unwrap();
    let rows = util::check_table(&lines[table_start..table_end].join("\n"));

    // The snapshot sees itself and PID 1, with their real commands.
    let own = out_pid_row(&rows, std::process::id());
    assert!(own.is_some(), "the test process is listed");
    assert!(rows.iter().any(|(cells, _)| cells[1] == "1"));
    // Every process that lived through the snapshot is in the table.
    let listed: std::collections::HashSet<String> =
        rows.iter().map(|(cells, _)| cells[1].clone()).collect();
    for pid in before.intersection(&after) {
        assert!(listed.contains(pid), "PID {pid} is missing");
    }

    // Details of two processes follow, then a blank line ends the report.
    assert_eq!(stdout.matches("\n  #").count(), 2);
    assert!(stdout.contains("\n  #1 PID ") && stdout.contains("\n    cwd:      "));
    assert!(stdout.ends_with("\n\n"));
}

fn out_pid_row(rows: &[(Vec<String>, String)], pid: u32) -> Option<&(Vec<String>, String)> {
    rows.iter().find(|(cells, _)| cells[1] == pid.to_string())
}

fn pids_in_proc() -> std::collections::HashSet<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}
