# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_memory_monitor_global_optspecs
    string join \n threshold= sustain= interval= repeat= urgent= log-dir= json= on-event= hook-timeout= metrics-file= journal-socket= details= proc-root= sys-root= memory-scope= ps-bin= top-bin= kernel-log= capture-timeout= h/help V/version
end

function __fish_memory_monitor_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_memory_monitor_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_memory_monitor_using_subcommand
    set -l cmd (__fish_memory_monitor_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l threshold -d 'Memory is high when more than this percentage is in use (0 < x < 100)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l sustain -d 'How long memory must stay high before the first report (e.g. 15s, 1m30s)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l interval -d 'How often to sample /proc/meminfo (> 0)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l repeat -d 'How often to report again while memory stays high (> 0)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l urgent -d 'A sample above this percentage reports at once, without waiting for --sustain (above --threshold; off to turn it off)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l log-dir -d 'Where incidents.log, details.log and incidents.jsonl are written' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l json -d 'Whether to write incidents.jsonl beside incidents.log: each of its entries as one line of JSON' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l on-event -d 'A program to run for every entry of incidents.log, with the entry on its stdin and MEMORY_MONITOR_* variables (off for none)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l hook-timeout -d 'How long the --on-event program may run before it is killed with what it started' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l metrics-file -d 'A file to write the counts of reports, episodes and OOM kills to, in Prometheus\'s text format, for node_exporter\'s textfile collector (off for none)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l journal-socket -d 'Where journald\'s socket is, for entries sent to the journal under systemd (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l details -d 'How many of the biggest processes get details (0 for none)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l proc-root -d 'The procfs to read (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l sys-root -d 'The sysfs whose fs/cgroup is read for units\' memory and the memory scope (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l memory-scope -d 'What used% is of: the machine\'s RAM (host), the limit of the cgroup memory-monitor runs in (cgroup), or that cgroup\'s when its limit is below the RAM (auto)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l ps-bin -d 'The ps program' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l top-bin -d 'The top program' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l kernel-log -d 'Where the kernel\'s records of OOM kills are read (off to count them from /proc/vmstat)' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -l capture-timeout -d 'How long ps and top may run before they are killed' -r
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -s h -l help -d 'Print help'
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -s V -l version -d 'Print version'
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -f -a "run" -d 'Run the monitoring loop in the foreground (the default)'
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -f -a "snapshot" -d 'Capture one report now, whatever the memory use, and print it'
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -f -a "show" -d 'Print incident N\'s reports and details from the logs, rotated files included'
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -f -a "incidents" -d 'List the episodes of high memory of the last days, from incidents.jsonl and its rotated files'
complete -c memory-monitor -n "__fish_memory_monitor_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l threshold -d 'Memory is high when more than this percentage is in use (0 < x < 100)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l sustain -d 'How long memory must stay high before the first report (e.g. 15s, 1m30s)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l interval -d 'How often to sample /proc/meminfo (> 0)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l repeat -d 'How often to report again while memory stays high (> 0)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l urgent -d 'A sample above this percentage reports at once, without waiting for --sustain (above --threshold; off to turn it off)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l log-dir -d 'Where incidents.log, details.log and incidents.jsonl are written' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l json -d 'Whether to write incidents.jsonl beside incidents.log: each of its entries as one line of JSON' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l on-event -d 'A program to run for every entry of incidents.log, with the entry on its stdin and MEMORY_MONITOR_* variables (off for none)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l hook-timeout -d 'How long the --on-event program may run before it is killed with what it started' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l metrics-file -d 'A file to write the counts of reports, episodes and OOM kills to, in Prometheus\'s text format, for node_exporter\'s textfile collector (off for none)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l journal-socket -d 'Where journald\'s socket is, for entries sent to the journal under systemd (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l details -d 'How many of the biggest processes get details (0 for none)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l proc-root -d 'The procfs to read (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l sys-root -d 'The sysfs whose fs/cgroup is read for units\' memory and the memory scope (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l memory-scope -d 'What used% is of: the machine\'s RAM (host), the limit of the cgroup memory-monitor runs in (cgroup), or that cgroup\'s when its limit is below the RAM (auto)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l ps-bin -d 'The ps program' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l top-bin -d 'The top program' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l kernel-log -d 'Where the kernel\'s records of OOM kills are read (off to count them from /proc/vmstat)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -l capture-timeout -d 'How long ps and top may run before they are killed' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand run" -s h -l help -d 'Print help'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l details -d 'How many of the biggest processes get details (0 for none)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l proc-root -d 'The procfs to read (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l sys-root -d 'The sysfs whose fs/cgroup is read for units\' memory and the memory scope (for tests)' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l memory-scope -d 'What used% is of: the machine\'s RAM (host), the limit of the cgroup memory-monitor runs in (cgroup), or that cgroup\'s when its limit is below the RAM (auto)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l ps-bin -d 'The ps program' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l top-bin -d 'The top program' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l kernel-log -d 'Where the kernel\'s records of OOM kills are read (off to count them from /proc/vmstat)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -l capture-timeout -d 'How long ps and top may run before they are killed' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand snapshot" -s h -l help -d 'Print help'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand show" -l log-dir -d 'Where incidents.log and details.log are' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand show" -s h -l help -d 'Print help'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand incidents" -l since -d 'The period: a time back from now (12h, 7d, 4w) or a day (2026-11-01, from its midnight, local time)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand incidents" -l log-dir -d 'Where incidents.jsonl and its rotated files are' -r -F
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand incidents" -l now -d 'The time taken as now, RFC 3339 (for tests: a fixed period)' -r
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand incidents" -l json -d 'Write the same as one JSON object instead of text'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand incidents" -s h -l help -d 'Print help'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand help; and not __fish_seen_subcommand_from run snapshot show incidents help" -f -a "run" -d 'Run the monitoring loop in the foreground (the default)'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand help; and not __fish_seen_subcommand_from run snapshot show incidents help" -f -a "snapshot" -d 'Capture one report now, whatever the memory use, and print it'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand help; and not __fish_seen_subcommand_from run snapshot show incidents help" -f -a "show" -d 'Print incident N\'s reports and details from the logs, rotated files included'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand help; and not __fish_seen_subcommand_from run snapshot show incidents help" -f -a "incidents" -d 'List the episodes of high memory of the last days, from incidents.jsonl and its rotated files'
complete -c memory-monitor -n "__fish_memory_monitor_using_subcommand help; and not __fish_seen_subcommand_from run snapshot show incidents help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
