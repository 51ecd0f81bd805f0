//! The shell completions and the man page in `dist/`, generated from the program's clap
//! definition (`memory_monitor::cli::command()`), so that they cover every command and option
//! there is, and only those. The generators are dev-dependencies: the daemon's binary carries
//! none of them. A committed file that differs from what the definition gives fails here; rerun
//! with `MEMORY_MONITOR_UPDATE_GENERATED=1` to rewrite them. Also: the man page renders without
//! a warning, and bash's completion offers the commands.

use crate::util;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap_complete::Shell;

/// Set to rewrite the generated files instead of comparing them.
const UPDATE: &str = "MEMORY_MONITOR_UPDATE_GENERATED";

const BIN: &str = "memory-monitor";

fn dist(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("dist")
        .join(file)
}

/// Each generated file, by its path under `dist/`.
fn generated() -> Vec<(&'static str, Vec<u8>)> {
    let mut files = Vec::new();
    for (shell, file) in [
        (Shell::Bash, "completions/memory-monitor.bash"),
        (Shell::Zsh, "completions/_memory-monitor"),
        (Shell::Fish, "completions/memory-monitor.fish"),
    ] {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut memory_monitor::cli::command(), BIN, &mut text);
        if shell == Shell::Bash {
            text = bash_fixed(&text);
        }
        files.push((file, text));
    }
    files.push(("memory-monitor.1", man_page()));
    files
}

/// clap_complete (up to 4.6.12 at least) names the states of a program whose name has a hyphen
/// one way where it finds the command typed and another in the arms that complete it, so no
/// command's options ever complete (https://github.com/clap-rs/clap/issues/6421). The arms are
/// renamed as the search names them; once clap_complete is fixed, there is nothing to rename.
fn bash_fixed(text: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(text.to_vec()).unwrap();
    text.replace("memory__subcmd__monitor", "memory__monitor")
        .into_bytes()
}

/// One page for the program and all its commands: clap_mangen's sections for the program, then
/// a section for each command with its synopsis, options and example, then what clap does not
/// know (signals, files).
fn man_page() -> Vec<u8> {
    let man = clap_mangen::Man::new(memory_monitor::cli::command()).manual("User Commands");
    let mut page = Vec::new();
    man.render_title(&mut page).unwrap();
    man.render_name_section(&mut page).unwrap();
    man.render_synopsis_section(&mut page).unwrap();
    page.extend_from_slice(DESCRIPTION.as_bytes());
    man.render_options_section(&mut page).unwrap();
    page.extend_from_slice(b".SH COMMANDS\n");
    let mut cli = memory_monitor::cli::command();
    cli.build();
    let top: Vec<_> = cli.get_arguments().map(|a| a.get_id().clone()).collect();
    // clap's own `help` command is left out: the page is the help.
    for sub in cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("{BIN} {}", sub.get_name());
        page.extend_from_slice(format!(".SS \"{}\"\n", name.replace('-', "\\-")).as_bytes());
        // The subcommand under its full name, so its synopsis reads as typed.
        let man = clap_mangen::Man::new(sub.clone().bin_name(&name));
        let mut part = Vec::new();
        man.render_description_section(&mut part).unwrap();
        man.render_synopsis_section(&mut part).unwrap();
        let same_as_top = sub
            .get_arguments()
            .all(|a| top.contains(a.get_id()) || a.get_id() == "help");
        if same_as_top {
            part.extend_from_slice(b".PP\nIts options are those of the same name above.\n");
        } else {
            man.render_options_section(&mut part).unwrap();
        }
        // The example as it is laid out in --help.
        if sub.get_after_help().is_some() {
            man.render_extra_section(&mut part).unwrap();
            part.extend_from_slice(b".fi\n");
        }
        // Their sections become paragraphs of this command's.
        let part = String::from_utf8(part).unwrap();
        for line in part.lines() {
            let line = match line {
                ".SH DESCRIPTION" | ".SH SYNOPSIS" => ".PP",
                ".SH EXTRA" => ".PP\n.nf",
                ".SH OPTIONS" => ".PP\nOptions:",
                other => other,
            };
            page.extend_from_slice(line.as_bytes());
            page.push(b'\n');
        }
    }
    page.extend_from_slice(TAIL.as_bytes());
    man.render_version_section(&mut page).unwrap();
    // Each of clap_mangen's renderings defines the apostrophe string again: once is enough.
    let page = String::from_utf8(page).unwrap();
    let mut defined = Vec::new();
    let mut out = String::new();
    for line in page.lines() {
        if line.contains(".ds Aq ") {
            if defined.contains(&line) {
                continue;
            }
            defined.push(line);
        }
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

const DESCRIPTION: &str = r#".SH DESCRIPTION
.B memory\-monitor
reads
.I /proc/meminfo
every few seconds. When memory use has stayed above a threshold for a while, it
writes the process table
.RB ( "ps aux" ),
the summary of
.BR top (1)
and details of the biggest processes to
.I incidents.log
and
.IR details.log ,
each entry also as one line of JSON to
.IR incidents.jsonl ,
and reports again at intervals while memory stays high. Process names and command
lines are escaped, so that one process is always one line.
.PP
It normally runs as
.BR memory\-monitor.service ,
as the system user memory\-monitor, with its settings in
.IR /etc/default/memory\-monitor .
Each option can also be set by the environment variable shown, as the service does
from that file. Durations are written like 200ms, 15s, 10m, 1h30m, or a bare number of
seconds. The service may write only in
.IR /var/log/memory\-monitor ;
another
.B \-\-log\-dir
also needs ReadWritePaths= in
.BR "systemctl edit memory\-monitor" .
"#;

const TAIL: &str = r#".SH SIGNALS
.B SIGTERM
and
.B SIGINT
stop it at once, even in the middle of a capture.
.B SIGHUP
reopens the log files; logrotate needs no signal, since every report opens them anew.
.SH FILES
.TP
.I /etc/default/memory\-monitor
The service's settings.
.TP
.I /var/log/memory\-monitor/incidents.log
One entry per report: memory use, how it got there, top's summary, every process; and one
per OOM kill.
.TP
.I /var/log/memory\-monitor/details.log
Details of the biggest processes in each report.
.TP
.I /var/log/memory\-monitor/incidents.jsonl
The entries of incidents.log as JSON Lines, after a start object that names the
host, the version and the settings.
.TP
.I /var/log/memory\-monitor/state
The boot and the last OOM kill recorded, so that a restart writes no kill twice.
.TP
.I /etc/logrotate.d/memory\-monitor
Rotation of the logs: weekly or at 1 MiB, eight kept, compressed.
.B memory\-monitor show
reads the rotated files too.
.TP
.I /usr/share/memory\-monitor/hooks/
Hooks for
.BR \-\-on\-event :
ntfy, mail, a webhook and wall; the drop\-ins
.I hook\-network.conf
and
.I metrics\-node\-exporter.conf
beside them say in their comments how to use them
.RI ( /usr/local/share/memory\-monitor
after install.sh).
.SH SEE ALSO
.BR ps (1),
.BR top (1),
.BR logrotate (8),
.BR systemctl (1)
"#;

/// The generated files are those committed, or are rewritten under [`UPDATE`].
#[test]
fn the_completions_and_the_man_page_are_those_the_command_line_gives() {
    let update = std::env::var_os(UPDATE).is_some();
    let mut stale = Vec::new();
    for (file, text) in generated() {
        let path = dist(file);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read(&path).ok().as_ref() != Some(&text) {
            stale.push(format!("dist/{file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "{} differ from what the command line gives; rewrite them with \
         {UPDATE}=1 cargo test --test integration generated, and commit them",
        stale.join(", ")
    );
}

/// Every command clap knows is in each file: a command added is never left out.
#[test]
fn every_command_is_in_every_file() {
    let cli = memory_monitor::cli::command();
    let commands: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
    assert!(commands.contains(&"show"), "{commands:?}");
    for (file, text) in generated() {
        let text = String::from_utf8(text).unwrap();
        for command in &commands {
            assert!(text.contains(command), "dist/{file} lacks {command}");
        }
    }
    let man = String::from_utf8(man_page()).unwrap();
    for command in &commands {
        let heading = format!(".SS \"memory\\-monitor {command}\"");
        assert!(man.contains(&heading), "the man page has no {heading}");
    }
}

/// groff renders the page without a warning (man's own check, `man --warnings`).
#[test]
fn the_man_page_renders() {
    if !util::on_path("groff") {
        util::skip("groff", "sudo apt-get install groff-base");
        return;
    }
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(dist("memory-monitor.1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warns");
    // Plain text: no bold or underline, by escape sequence or overstrike.
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou"])
        .arg(dist("memory-monitor.1"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for wanted in [
        "SYNOPSIS",
        "memory-monitor show",
        "MEMORY_MONITOR_LOG_DIR",
        "FILES",
    ] {
        assert!(
            text.contains(wanted),
            "the rendered page lacks {wanted}:\n{text}"
        );
    }
}

/// bash, given the completion file and a command line, offers the commands and `show`'s
/// option: the function the file registers is called as bash-completion would call it.
#[test]
fn bash_completes_the_commands() {
    if !util::on_path("bash") {
        util::skip("bash", "sudo apt-get install bash");
        return;
    }
    let complete = |words: &str, current: usize| -> Vec<String> {
        let script = format!(
            "source {}\nfunction=$(complete -p memory-monitor | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')\nCOMP_WORDS=({words})\nCOMP_CWORD={current}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\"$function\" memory-monitor \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            dist("completions/memory-monitor.bash").display()
        );
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let commands = complete("memory-monitor ''", 1);
    for command in ["run", "snapshot", "show"] {
        assert!(commands.iter().any(|c| c == command), "{commands:?}");
    }
    assert_eq!(complete("memory-monitor sh", 1), ["show"]);
    let options = complete("memory-monitor show --", 2);
    assert!(options.iter().any(|o| o == "--log-dir"), "{options:?}");
    assert!(!options.iter().any(|o| o == "--threshold"), "{options:?}");
}
