#!/bin/bash
# End-to-end test of install.sh, uninstall.sh, the release tarball, the .deb and
# memory-monitor.service in a booted Debian 12 container (systemd-nspawn), on a
# host whose PID 1 need not be systemd (no machined, no system bus).
#
# Usage: sudo tests/system/nspawn-e2e.sh BINARY PROJECT_DIR [TARBALL [DEB]]
#   BINARY       the memory-monitor binary to install (--binary)
#   PROJECT_DIR  a checkout holding install.sh, uninstall.sh and dist/
#   TARBALL      a release tarball from scripts/package.sh, for this machine: unpacked and
#                installed with its own ./install.sh (without it, or if "", a copy of its
#                layout is made from BINARY and PROJECT_DIR)
#   DEB          the .deb from scripts/package.sh for this machine: installed, exercised,
#                removed and purged with apt-get (skipped without it)
# Environment:
#   MM_E2E_CACHE=/var/cache/memory-monitor-ci  where the debootstrap root is cached
#   MM_E2E_MIRROR=http://deb.debian.org/debian
#   MM_E2E_REFRESH=1   rebuild the cached root (it is rebuilt anyway after 30 days)
#   MM_E2E_KEEP=1      keep the work directory (container root, console logs)
# Host needs: debootstrap, systemd-container, util-linux (nsenter); shellcheck optional.
# Prints PASS:/FAIL: lines and ends with 'N passed, N failed'; exits 1 on any failure.
# Commands for the container are single-quoted on purpose: they expand in there.
# shellcheck disable=SC2016
set -eu

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0"; }
case ${1:-} in -h|--help) usage; exit 0 ;; esac
case $# in 2 | 3 | 4) ;; *) usage >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "e2e-nspawn.sh: must be run as root" >&2; exit 2; }

BINARY=$(realpath "$1")
PROJECT=$(realpath "$2")
TARBALL=${3:+$(realpath "$3")}
DEB=${4:+$(realpath "$4")}
[ -x "$BINARY" ] || { echo "e2e-nspawn.sh: $BINARY is not an executable file" >&2; exit 2; }
case ${TARBALL:-x.tar.gz} in *.tar.gz) ;; *) echo "e2e-nspawn.sh: $TARBALL is not a .tar.gz" >&2; exit 2 ;; esac
if [ -n "$TARBALL" ] && [ ! -f "$TARBALL" ]; then echo "e2e-nspawn.sh: $TARBALL: no such file" >&2; exit 2; fi
if [ -n "$DEB" ]; then
    deb_arch=$(dpkg-deb -f "$DEB" Architecture) || { echo "e2e-nspawn.sh: $DEB is not a .deb" >&2; exit 2; }
    [ "$deb_arch" = "$(dpkg --print-architecture)" ] \
        || { echo "e2e-nspawn.sh: $DEB is for $deb_arch, the container is $(dpkg --print-architecture)" >&2; exit 2; }
fi
for f in install.sh uninstall.sh dist/memory-monitor.service; do
    [ -f "$PROJECT/$f" ] || { echo "e2e-nspawn.sh: $PROJECT/$f is missing" >&2; exit 2; }
done
for tool in debootstrap systemd-nspawn nsenter; do
    command -v "$tool" >/dev/null || {
        echo "e2e-nspawn.sh: $tool not found: apt-get install -y --no-install-recommends debootstrap systemd-container" >&2
        exit 2
    }
done

CACHE=${MM_E2E_CACHE:-/var/cache/memory-monitor-ci}
MIRROR=${MM_E2E_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# gcc and libc6-dev: the linker cargo needs when install.sh builds from the checkout
# python3 and curl: a local ntfy server, and the shipped ntfy hook's curl;
# systemd-journal-remote: its systemd-journal-upload ships the container's journal
PACKAGES=systemd,systemd-sysv,dbus,procps,logrotate,gcc,libc6-dev,python3,curl,systemd-journal-remote
ROOTFS=$CACHE/$SUITE-rootfs
CACHE_KEY="$SUITE minbase $PACKAGES v2"
MACHINE=mm-e2e-$$
CT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

PASSED=0 FAILED=0
WORK='' NSPAWN_PID='' CT_PID='' BOOTS=0
# The host's Rust toolchain, lent read-only to the container for install.sh's cargo build.
TOOLCHAIN=''
if command -v rustup >/dev/null && cargo_path=$(rustup which cargo 2>/dev/null); then
    TOOLCHAIN=$(dirname "$(dirname "$cargo_path")")
elif cargo_path=$(command -v cargo); then
    TOOLCHAIN=$(dirname "$(dirname "$(realpath "$cargo_path")")")
fi
NSPAWN_BINDS=()
# The host's kernel log: nspawn gives a container none, and the service reads the OOM kills there.
# nspawn also keeps CAP_SYSLOG from a container unless told, and without CAP_IPC_LOCK its seccomp
# filter refuses mlockall() to every process in it, whatever the rlimit: a real host does neither.
KMSG_BIND=(--bind-ro=/dev/kmsg)
[ -n "$TOOLCHAIN" ] && NSPAWN_BINDS+=("--bind-ro=$TOOLCHAIN:/opt/mm-toolchain")
T0=$(date +%s.%N)

# ---------------------------------------------------------------- helpers
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
note() { printf '       %s\n' "$*"; }
timing() { printf 'TIME: %-34s %5ss\n' "$1" "$(since "$2")"; }
pass() { PASSED=$((PASSED + 1)); printf 'PASS: %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s\n' "$*"; }
check() {  # check NAME CMD... : PASS if CMD succeeds
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
fatal() { fail "$*"; echo "aborting" >&2; exit 1; }

# run a command inside the container (all namespaces of its PID 1, its root and cwd)
in_ct() {
    nsenter -t "$CT_PID" -m -u -i -n -p -C -r -w -- \
        env -i PATH="$CT_PATH" LANG=C.UTF-8 TERM=dumb "$@"
}
ct_sh() { in_ct sh -c "$1"; }
# run in the container, output to $WORK/NAME.out; the output is echoed indented on failure
ct_run() {  # ct_run NAME CMD... ; sets RC
    local name=$1; shift
    RC=0
    in_ct "$@" >"$WORK/$name.out" 2>&1 || RC=$?
}
out() { cat "$WORK/$1.out"; }
ran_ok() {  # ran_ok NAME LABEL : PASS if that ct_run succeeded, else FAIL showing its output
    if [ "$RC" = 0 ]; then pass "$2"; else fail "$2 (rc $RC)"; show "$1"; fi
}
show() { sed 's/^/       | /' "$WORK/$1.out" | tail -n "${2:-25}"; }

wait_for() {  # wait_for SECONDS CMD... : poll every 0.5 s
    local deadline
    deadline=$(awk -v t="$1" -v n="$(now)" 'BEGIN { printf "%d", n + t }'); shift
    while :; do
        if "$@" 2>/dev/null; then return 0; fi
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}
alive() {  # a child that exited stays a zombie until waited for
    local s
    s=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
    [ -n "$s" ] && [ "$s" != Z ]
}

svc() { in_ct systemctl show -p "$1" --value memory-monitor.service; }
logs_cat() {  # every incidents.log or details.log generation, oldest first
    ct_sh "cd /var/log/memory-monitor && for f in \$(ls -1 $1.log* 2>/dev/null | sort -t. -k3,3nr); do zcat -f \"\$f\"; done"
}
score_of() { sed -n 's/.*Overall exposure level for .*: \([0-9][0-9.]*\).*/\1/p'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# ---------------------------------------------------------------- container life cycle
build_rootfs() {
    local t tmp
    mkdir -p "$CACHE"
    exec 9>"$CACHE/lock"
    flock 9
    if [ -f "$ROOTFS/.mm-e2e-key" ] && [ "$(cat "$ROOTFS/.mm-e2e-key")" = "$CACHE_KEY" ] \
        && [ -z "${MM_E2E_REFRESH:-}" ] \
        && [ -z "$(find "$ROOTFS/.mm-e2e-key" -mtime +30)" ]; then
        note "cached root: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))"
    else
        t=$(now)
        tmp=$CACHE/$SUITE-rootfs.tmp
        rm -rf "$tmp"
        note "debootstrap $SUITE (minbase + $PACKAGES) into $tmp ..."
        if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$MIRROR" \
                >"$CACHE/debootstrap.log" 2>&1; then
            tail -n 20 "$CACHE/debootstrap.log" >&2
            flock -u 9
            fatal "debootstrap failed (log: $CACHE/debootstrap.log)"
        fi
        chroot "$tmp" apt-get clean
        : >"$tmp/etc/machine-id"          # a fresh machine id on first boot
        echo mm-e2e >"$tmp/etc/hostname"
        echo "$CACHE_KEY" >"$tmp/.mm-e2e-key"
        rm -rf "$ROOTFS"
        mv "$tmp" "$ROOTFS"
        timing "debootstrap (cache miss)" "$t"
    fi
    flock -s 9   # held shared until exit: no other run may rebuild the root under us
}

boot() {
    local t c i st children
    t=$(now)
    BOOTS=$((BOOTS + 1))
    SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet -D "$WORK/root" -M "$MACHINE" -b \
        --register=no --keep-unit --private-network --console=read-only "${NSPAWN_BINDS[@]}" "${KMSG_BIND[@]}" --capability=CAP_SYSLOG,CAP_IPC_LOCK \
        >"$WORK/console-$BOOTS.log" 2>&1 </dev/null &
    NSPAWN_PID=$!
    CT_PID=
    for i in $(seq 200); do   # its PID 1: a child of nspawn, pid 1 in its namespace, exec'd systemd
        children=$(cat /proc/"$NSPAWN_PID"/task/*/children 2>/dev/null || true)
        for c in $children; do
            if grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$c/status" 2>/dev/null \
                && [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ]; then
                CT_PID=$c
            fi
        done
        [ -n "$CT_PID" ] && break
        alive "$NSPAWN_PID" || break
        sleep 0.1
    done
    [ -n "$CT_PID" ] || { tail -n 20 "$WORK/console-$BOOTS.log" >&2; fatal "boot $BOOTS: no container PID 1 (i=$i)"; }
    st=
    for i in $(seq 600); do
        st=$(in_ct systemctl is-system-running 2>/dev/null || true)
        case $st in running|degraded) break ;; esac
        alive "$NSPAWN_PID" || break
        sleep 0.1
    done
    case $st in
        running|degraded) pass "boot $BOOTS: container up, system state '$st' (PID 1 = host pid $CT_PID)" ;;
        *) tail -n 30 "$WORK/console-$BOOTS.log" >&2; fatal "boot $BOOTS: system state '$st' after 60 s" ;;
    esac
    [ "$st" = running ] || in_ct systemctl --failed --no-legend | sed 's/^/       failed unit: /'
    timing "boot $BOOTS to running" "$t"
}

poweroff() {
    local t i rc=0
    t=$(now)
    in_ct systemctl poweroff >/dev/null 2>&1 || true
    for i in $(seq 600); do alive "$NSPAWN_PID" || break; sleep 0.1; done
    if alive "$NSPAWN_PID"; then
        kill -TERM "$NSPAWN_PID"      # nspawn then asks PID 1 to power off
        for i in $(seq 100); do alive "$NSPAWN_PID" || break; sleep 0.1; done
        alive "$NSPAWN_PID" && kill -KILL "$NSPAWN_PID"
    fi
    wait "$NSPAWN_PID" || rc=$?
    NSPAWN_PID='' CT_PID=''
    timing "poweroff" "$t"
    return "$rc"
}

cleanup() {
    local rc=$?
    set +e
    if [ -n "$NSPAWN_PID" ] && alive "$NSPAWN_PID"; then
        if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
            echo "----- journal of memory-monitor.service (last 30 lines)"
            in_ct journalctl -u memory-monitor --no-pager -n 30 2>/dev/null
        fi
        poweroff >/dev/null
    fi
    if [ -n "$WORK" ]; then
        mountpoint -q "$WORK/root" && umount "$WORK/root"
        if [ -n "${MM_E2E_KEEP:-}" ]; then
            echo "work directory kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    echo "TIME: total $(since "$T0")s"
    echo "$PASSED passed, $FAILED failed"
    if [ "$rc" -eq 0 ] && [ "$FAILED" -ne 0 ]; then rc=1; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- checks used more than once
service_healthy() {  # active, enabled, no automatic restarts, right user and capabilities
    local label=$1 pid
    check "$label: service active" [ "$(in_ct systemctl is-active memory-monitor.service)" = active ]
    check "$label: service enabled" [ "$(in_ct systemctl is-enabled memory-monitor.service)" = enabled ]
    check "$label: NRestarts=0" [ "$(svc NRestarts)" = 0 ]
    pid=$(svc MainPID)
    check "$label: runs as user memory-monitor" [ "$(in_ct ps -o user:32= -p "$pid" | tr -d ' ')" = memory-monitor ]
    # CAP_SYSLOG (bit 34) | CAP_SYS_PTRACE (bit 19) | CAP_DAC_READ_SEARCH (bit 2) = 0x400080004,
    # ambient so children get them
    check "$label: ambient+effective caps = SYSLOG,SYS_PTRACE,DAC_READ_SEARCH" \
        [ "$(ct_sh "grep -E '^Cap(Eff|Amb|Bnd):' /proc/$pid/status | cut -f2 | sort -u")" = 0000000400080004 ]
}

installed_files_ok() {  # installed_files_ok LABEL UNIT_FILE : user, settings, logs, logrotate, unit
    local label=$1 unit=$2 options score
    check "$label: system user: nologin shell, no home" ct_sh \
        'e=$(getent passwd memory-monitor) && [ "$(echo "$e" | cut -d: -f3)" -lt 1000 ] &&
         [ "$(echo "$e" | cut -d: -f7)" = /usr/sbin/nologin ] && [ ! -e "$(echo "$e" | cut -d: -f6)" ]'
    options=$(in_ct memory-monitor --help | grep -c '\[env: MEMORY_MONITOR_')
    check "$label: /etc/default/memory-monitor: all $options options, all commented out" ct_sh \
        '[ "$(grep -c "^#MEMORY_MONITOR_[A-Z_]*=" /etc/default/memory-monitor)" = '"$options"' ] && ! grep -q "^[^#]*MEMORY_MONITOR_" /etc/default/memory-monitor'
    check "$label: log dir 0750 memory-monitor" [ "$(in_ct stat -c '%U %a' /var/log/memory-monitor)" = "memory-monitor 750" ]
    ct_run logrotate-d logrotate -d /etc/logrotate.d/memory-monitor
    check "$label: logrotate -d accepts /etc/logrotate.d/memory-monitor" sh -c "[ $RC = 0 ] && ! grep -qi '^error' '$WORK/logrotate-d.out'"

    ct_run verify systemd-analyze verify "$unit"
    if [ "$RC" = 0 ] && [ ! -s "$WORK/verify.out" ]; then pass "$label: systemd-analyze verify $unit prints nothing"
    else fail "$label: systemd-analyze verify $unit (rc $RC)"; show verify; fi
    ct_run security systemd-analyze security --offline=yes --no-pager "$unit"
    score=$(score_of <"$WORK/security.out")
    check "$label: $(in_ct systemd-analyze --version | head -n1 | cut -d' ' -f1-2): security --offline exposure ${score:-?} <= 1.5" le "${score:-99}" 1.5
    grep '✗' "$WORK/security.out" | sed 's/  */ /g; s/^/       /'
    ct_run security-online systemd-analyze security --no-pager memory-monitor.service
    note "online (running manager) exposure: $(score_of <"$WORK/security-online.out")"
}

hooks_as_shipped() {  # hooks_as_shipped DIR : DIR/hooks/ holds dist/hooks/, 0755; DIR/hook-network.conf, 0644
    in_ct env D="$1" sh -c 'cd /opt/mm-src/dist && [ "$(ls "$D/hooks")" = "$(ls hooks)" ] &&
        for f in hooks/*; do cmp -s "$f" "$D/$f" && [ "$(stat -c "%U %a" "$D/$f")" = "root 755" ] || exit 1; done &&
        for f in hook-network.conf metrics-node-exporter.conf; do
            cmp -s "$f" "$D/$f" && [ "$(stat -c "%U %a" "$D/$f")" = "root 644" ] || exit 1; done'
}

# install.sh's places for the man page and the completions, and the .deb's
LOCAL_EXTRAS='/usr/local/share/man/man1/memory-monitor.1 /usr/local/share/bash-completion/completions/memory-monitor
    /usr/local/share/zsh/site-functions/_memory-monitor /usr/local/share/fish/vendor_completions.d/memory-monitor.fish'
DEB_EXTRAS='/usr/share/man/man1/memory-monitor.1.gz /usr/share/bash-completion/completions/memory-monitor
    /usr/share/zsh/vendor-completions/_memory-monitor /usr/share/fish/vendor_completions.d/memory-monitor.fish'

extras_as_shipped() {  # extras_as_shipped "MAN BASH ZSH FISH" : dist's man page (gzipped if MAN ends .gz) and completions, root 0644
    # shellcheck disable=SC2086 # the list is split on purpose
    in_ct sh -c 'cd /opt/mm-src/dist && m=$1 &&
        case $m in *.gz) gzip -dc "$m" | cmp -s - memory-monitor.1 ;; *) cmp -s "$m" memory-monitor.1 ;; esac &&
        cmp -s "$2" completions/memory-monitor.bash && cmp -s "$3" completions/_memory-monitor &&
        cmp -s "$4" completions/memory-monitor.fish &&
        for f in "$@"; do [ "$(stat -c "%U %a" "$f")" = "root 644" ] || exit 1; done' sh $1
}

none_of() {  # none_of "PATH..." : none of them exists in the container
    # shellcheck disable=SC2086 # the list is split on purpose
    in_ct sh -c 'for f in "$@"; do ! test -e "$f" || exit 1; done' sh $1
}

fast_settings() {  # report within seconds, every second, with details of many processes
    ct_sh 'sed -i -e "s/^#MEMORY_MONITOR_THRESHOLD=.*/MEMORY_MONITOR_THRESHOLD=1/" \
                  -e "s/^#MEMORY_MONITOR_SUSTAIN=.*/MEMORY_MONITOR_SUSTAIN=1s/" \
                  -e "s/^#MEMORY_MONITOR_INTERVAL=.*/MEMORY_MONITOR_INTERVAL=1s/" \
                  -e "s/^#MEMORY_MONITOR_REPEAT=.*/MEMORY_MONITOR_REPEAT=1s/" \
                  -e "s/^#MEMORY_MONITOR_DETAILS=.*/MEMORY_MONITOR_DETAILS=50/" /etc/default/memory-monitor
           systemctl restart memory-monitor'
}

other_listed() { logs_cat incidents | grep -Eq "^mmother +[0-9]+ .*sleep $1"; }
cwd_shown() { logs_cat details | grep -Fq "$1"; }
report_shows() {  # report_shows LABEL SLEEP_ARG ROOT_CWD [EXE] : an incident with both proofs
    local label=$1 arg=$2 cwd=$3 exe=${4:-/usr/local/bin/memory-monitor}
    if wait_for 40 other_listed "$arg"; then
        pass "$label: incidents.log lists user mmother's process (sleep $arg) by name"
    else
        fail "$label: no incidents.log table with user mmother's 'sleep $arg'"
        logs_cat incidents | tail -n 20 | sed 's/^/       | /'
    fi
    if logs_cat incidents | grep -Eq '^root +1 .*(/sbin/init|systemd)'; then
        pass "$label: incidents.log lists root's PID 1"
    else
        fail "$label: no incidents.log row for root's PID 1"
    fi
    # ps cuts the 14-character name to memory-+; the daemon restores it from /proc and passwd
    if logs_cat incidents | grep -Eq "^memory-monitor +[0-9]+ .*$exe run"; then
        pass "$label: the daemon's own row shows its full user name memory-monitor"
    else
        fail "$label: the daemon's own row lacks the full user name"
        logs_cat incidents | grep -E 'memory-monitor run' | tail -n 3 | sed 's/^/       | /'
    fi
    if wait_for 20 cwd_shown "$cwd"; then
        pass "$label: details.log shows root process cwd $cwd"
    else
        fail "$label: details.log lacks the root process cwd $cwd"
        logs_cat details | tail -n 20 | sed 's/^/       | /'
    fi
    if logs_cat details | grep -qi 'permission denied'; then
        fail "$label: details.log says 'permission denied'"
        logs_cat details | grep -i 'permission denied' | head -n 5 | sed 's/^/       | /'
    else
        pass "$label: details.log has no 'permission denied'"
    fi
}

oom_kills() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }
# A process of the container allocates past a 64 MiB memory limit and the kernel kills it; sets
# KILLS to how far the kernel's count went up. First as a user would, with systemd-run --scope
# -p MemoryMax=. Where that sets no limit (the container's systemd cannot make memory cgroups:
# on a host with a v1 memory controller whose PID 1 is not systemd, nspawn delegates none), the
# host puts the process in a memory cgroup of 64 MiB instead.
oom_kill_in_ct() {
    local before after nse pid i cg limit
    before=$(oom_kills)
    ct_sh 'systemd-run --quiet --scope -p MemoryMax=64M sh -c "head -c 200000000 /dev/zero | tail -c 200000000 >/dev/null"' \
        >/dev/null 2>&1 || true
    after=$(oom_kills)
    if [ "$after" = "$before" ]; then
        note "systemd-run --scope -p MemoryMax=64M set no limit in the container: the host limits the process instead"
        if [ -d /sys/fs/cgroup/memory ]; then
            cg=/sys/fs/cgroup/memory/mm-e2e-$$ limit=memory.limit_in_bytes
        else
            cg=/sys/fs/cgroup/mm-e2e-$$ limit=memory.max
        fi
        mkdir -p "$cg" && echo 67108864 >"$cg/$limit"
        # It waits until it is in the cgroup, so that what it starts is in there too.
        in_ct sh -c 'hog=mm-e2e-hog; until grep -q mm-e2e- /proc/self/cgroup; do sleep 0.05; done
                     head -c 200000000 /dev/zero | tail -c 200000000 >/dev/null' >/dev/null 2>&1 &
        nse=$! pid=
        for i in $(seq 100); do
            for p in $(pgrep -f 'hog=mm-e2e-hog' || true); do
                [ "$(cat /proc/"$p"/comm 2>/dev/null)" = sh ] && pid=$p
            done
            [ -n "$pid" ] && break
            sleep 0.05
        done
        [ -n "$pid" ] && echo "$pid" >"$cg/cgroup.procs"
        wait "$nse" || true
        rmdir "$cg"
        after=$(oom_kills)
    fi
    KILLS=$((after - before))
}
# The kills that incidents.log's entries count, leaving out those from before the start.
kills_logged() {
    logs_cat incidents | grep ' | oom-kill | ' | grep -v ' | before memory-monitor started$' | awk -F' [|] ' '
        $3 ~ /^PID / { n += 1; next }
        { split($3, w, " "); n += w[1] }
        END { print n + 0 }'
}

journal_says() { in_ct journalctl -u memory-monitor -b --no-pager | grep -qF "$1"; }
tail_kill_logged() {  # the hog's entry: not one from before the start, which are of earlier kills
    logs_cat incidents | grep -Eq ' \| oom-kill \| PID [0-9]+ \(tail\) of root \| anon-rss .* \| limit of (cgroup /.*mm-e2e-[0-9]+|a cgroup)$'
}
report_after_kill() { logs_cat incidents | grep -q ' | after an OOM kill$'; }
logged_since() { [ $(($(kills_logged) - $1)) -ge "$2" ]; }  # logged_since BEFORE KILLS

start_probes() {  # a process of another user, and a root process with a telling cwd
    ct_sh "id mmother >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin mmother
           mkdir -p '$2'
           systemd-run --quiet --unit=mm-e2e-other-$1 -p User=mmother /usr/bin/sleep $1
           systemd-run --quiet --unit=mm-e2e-root-$1 -p WorkingDirectory='$2' /usr/bin/sleep $(($1 + 1))"
}

# ================================================================ 0. static checks on the host
t=$(now)
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
if command -v shellcheck >/dev/null; then
    check "shellcheck install.sh uninstall.sh e2e-nspawn.sh, the .deb's maintainer scripts, the hooks" \
        shellcheck "$PROJECT/install.sh" "$PROJECT/uninstall.sh" "$0" "$PROJECT"/dist/deb/{postinst,prerm,postrm} \
        "$PROJECT"/dist/hooks/*
else
    note "SKIP shellcheck: not installed"
fi
if command -v systemd-analyze >/dev/null; then
    score=$(systemd-analyze security --offline=yes --no-pager "$PROJECT/dist/memory-monitor.service" 2>&1 | score_of)
    check "host $(systemd-analyze --version | head -n1 | cut -d' ' -f1-2): security exposure ${score:-?} <= 1.5" le "${score:-99}" 1.5
    # verify wants ExecStart= to exist: point it at the binary under test
    mkdir -p "$WORK/host-verify"
    sed "s|^ExecStart=/usr/local/bin/memory-monitor|ExecStart=$BINARY|" "$PROJECT/dist/memory-monitor.service" \
        >"$WORK/host-verify/memory-monitor.service"
    if systemd-analyze verify "$WORK/host-verify/memory-monitor.service" >"$WORK/host-verify.out" 2>&1 \
        && [ ! -s "$WORK/host-verify.out" ]; then
        pass "host: systemd-analyze verify prints nothing"
    else
        fail "host: systemd-analyze verify"; show host-verify
    fi
fi
if [ -n "$TARBALL" ]; then
    top=$(basename "$TARBALL" .tar.gz)
    tar --numeric-owner -tvzf "$TARBALL" >"$WORK/tarball.list"
    # mode owner size date time name: one top directory, root's, 0755 for directories, the
    # binary, the scripts and the hooks, 0644 for the rest, one time for all
    bad=$(awk -v top="$top/" '
        index($6, top) != 1 { print "outside " top ": " $6; next }
        $2 != "0/0" { print "owner " $2 ": " $6 }
        { base = substr($6, length(top) + 1)
          want = ($1 ~ /^d/ || base == "memory-monitor" || base ~ /\.sh$/ || base ~ /^dist\/hooks\//) ? "rwxr-xr-x" : "rw-r--r--"
          if (substr($1, 2) != want) print "mode " $1 ": " $6
          times[$4 " " $5] = 1 }
        END { n = 0; for (k in times) n++; if (n != 1) print n " different file times" }' "$WORK/tarball.list")
    if [ -z "$bad" ]; then pass "tarball: all in $top/, root-owned, modes 0755/0644, one file time"
    else fail "tarball layout"; printf '%s\n' "$bad" | sed 's/^/       | /'; fi
    awk '{ print $6 }' "$WORK/tarball.list" >"$WORK/tarball.names"
    check "tarball: entries in sorted order" sh -c "LC_ALL=C sort -c '$WORK/tarball.names'"
    missing=
    for f in memory-monitor install.sh uninstall.sh README.md LICENSE THIRD-PARTY-LICENSES \
        dist/memory-monitor.service dist/memory-monitor.default dist/memory-monitor.logrotate \
        dist/hook-network.conf dist/metrics-node-exporter.conf $(cd "$PROJECT" && echo dist/hooks/*); do
        grep -qx "$top/$f" "$WORK/tarball.names" || missing="$missing $f"
    done
    check "tarball: binary, scripts, dist/ with the hooks, README.md, LICENSE, THIRD-PARTY-LICENSES${missing:+ (missing:$missing)}" [ -z "$missing" ]
fi
timing "static checks" "$t"

# ================================================================ 1. root file system, first boot
t=$(now)
build_rootfs
mkdir -p "$WORK/root" "$WORK/upper" "$WORK/overlay-work"
# the container's changes go to $WORK/upper; the cached root stays pristine
if ! mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$WORK/upper,workdir=$WORK/overlay-work" "$WORK/root"; then
    note "overlayfs not available: copying the root instead"
    cp -a "$ROOTFS/." "$WORK/root/"
fi
mkdir -p "$WORK/root/opt/mm-src" "$WORK/root/opt/mm-bin"
tar -C "$PROJECT" --exclude=./target --exclude=./.git -cf - . | tar -C "$WORK/root/opt/mm-src" -xf -
install -m 0755 "$BINARY" "$WORK/root/opt/mm-bin/memory-monitor"
mkdir -p "$WORK/root/opt/mm-pkg"
for f in "$TARBALL" "$DEB"; do [ -z "$f" ] || cp "$f" "$WORK/root/opt/mm-pkg/"; done
if [ -n "$TOOLCHAIN" ]; then
    # The container has no network: the crates come vendored from the host's cargo cache.
    if (cd "$PROJECT" && cargo vendor --locked --offline --quiet "$WORK/root/opt/mm-vendor" \
        >/dev/null 2>"$WORK/vendor.err"); then
        mkdir -p "$WORK/root/opt/mm-cargo-home"
        printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "/opt/mm-vendor"\n' \
            >"$WORK/root/opt/mm-cargo-home/config.toml"
    else
        # A toolchain without the crates is a broken setup, not a reason to skip the check.
        fail "cargo vendor failed (run 'cargo fetch --locked' first): $(tail -1 "$WORK/vendor.err")"
        TOOLCHAIN=''
    fi
fi
timing "root file system ready" "$t"
boot
# systemd-journal-remote's own units are not part of this test; its upload is run by hand.
ct_sh 'systemctl disable --now systemd-journal-upload.service systemd-journal-remote.socket \
           systemd-journal-gatewayd.socket >/dev/null 2>&1; systemctl reset-failed' || true

# ================================================================ 2. refusals
ct_run help-install /opt/mm-src/install.sh --help
check "install.sh --help" sh -c "[ $RC = 0 ] && grep -q -- --binary '$WORK/help-install.out'"
ct_run help-uninstall /opt/mm-src/uninstall.sh --help
check "uninstall.sh --help" sh -c "[ $RC = 0 ] && grep -q -- --purge '$WORK/help-uninstall.out'"
for s in install uninstall; do
    ct_run "nonroot-$s" setpriv --reuid=65534 --regid=65534 --clear-groups /opt/mm-src/$s.sh
    if [ "$RC" != 0 ] && grep -qi root "$WORK/nonroot-$s.out"; then
        pass "$s.sh as non-root refuses: $(head -n1 "$WORK/nonroot-$s.out")"
    else fail "$s.sh as non-root (rc $RC)"; show "nonroot-$s"; fi
done
if [ ! -e "$WORK/root/opt/mm-src/memory-monitor" ]; then
    ct_run no-binary /opt/mm-src/install.sh
    if [ "$RC" != 0 ] && grep -q rustup "$WORK/no-binary.out" && grep -q "release tarball" "$WORK/no-binary.out"; then
        pass "install.sh without cargo or binary explains rustup / release tarball"
    else fail "install.sh without cargo or binary (rc $RC)"; show no-binary; fi
    check "... and installed nothing" ct_sh '! test -e /usr/local/bin/memory-monitor && ! id memory-monitor >/dev/null 2>&1'
fi

# ================================================================ 3. install
t=$(now)
ct_run install-1 /opt/mm-src/install.sh --binary /opt/mm-bin/memory-monitor
if [ "$RC" = 0 ]; then pass "install.sh --binary"; else fail "install.sh --binary (rc $RC)"; show install-1; fi
check "install.sh names the log directory and how to check" \
    grep -q "/var/log/memory-monitor" "$WORK/install-1.out"
check "... and how to check the service" grep -q "systemctl status memory-monitor" "$WORK/install-1.out"
timing "install.sh" "$t"
sleep 3   # let a crash loop show up in NRestarts
service_healthy "install"
check "binary /usr/local/bin/memory-monitor root 755" [ "$(in_ct stat -c '%U %a' /usr/local/bin/memory-monitor)" = "root 755" ]
installed_files_ok "install" /etc/systemd/system/memory-monitor.service
check "install: the hooks in /usr/local/share/memory-monitor/hooks (0755), and hook-network.conf (0644)" \
    hooks_as_shipped /usr/local/share/memory-monitor
check "install: the man page and the bash, zsh and fish completions under /usr/local/share (0644)" \
    extras_as_shipped "$LOCAL_EXTRAS"

# ================================================================ 4. an incident, as seen by the service
t=$(now)
start_probes 7777771 /root/mm-e2e-probe
fast_settings
report_shows "threshold 1%" 7777771 /root/mm-e2e-probe
check "incidents.log: new-log marker" ct_sh 'grep -q "^===== new log" /var/log/memory-monitor/incidents.log'
check "incidents.log and details.log 0640 memory-monitor" [ "$(in_ct stat -c '%U %a' /var/log/memory-monitor/incidents.log /var/log/memory-monitor/details.log | sort -u)" = "memory-monitor 640" ]
check "NRestarts=0 after restart with new settings" [ "$(svc NRestarts)" = 0 ]
timing "first incident" "$t"

# ================================================================ 4b. where the RAM is, as the service sees it
# A service's unit, and a file in the container's /dev/shm: the service has a /dev (and so a
# /dev/shm) of its own, and finds the container's through /proc/1.
t=$(now)
ct_sh 'systemd-run --quiet --unit=demo-hog sh -c "x=\$(head -c 80000000 /dev/zero | tr \"\\0\" a); sleep 600"
       head -c 52428800 /dev/zero >/dev/shm/mm-e2e-50m'
last_report() { logs_cat incidents | awk '/ \| incident [0-9]+ \| RAM /{r=""} {r=r $0 "\n"} END{printf "%s", r}'; }
context_has() { last_report | grep -Eq "$1"; }
context_line() { last_report | grep -E "$1" | head -n1; }
if wait_for 20 context_has '^  unit demo-hog\.service: [0-9.]+ MiB'; then
    pass "a report names the unit of systemd-run --unit=demo-hog:$(context_line '^  unit demo-hog')"
else
    fail "no report names demo-hog.service"; last_report | head -n 12 | sed 's/^/       | /'
fi
if wait_for 20 context_has '^  tmpfs: (.*, )?/dev/shm 50\.00 MiB'; then
    pass "... and the container's /dev/shm holding the 50 MiB file:$(context_line '^  tmpfs: ')"
else
    fail "no report shows the 50 MiB in the container's /dev/shm"; last_report | head -n 12 | sed 's/^/       | /'
fi
check "... and the breakdown of its memory" context_has '^  memory: processes [0-9.]+ [KMG]iB, page cache '
own_unit() { logs_cat details | grep -Fqx '    unit:     memory-monitor.service (cgroup /system.slice/memory-monitor.service)'; }
check "details.log names the daemon's own unit, memory-monitor.service" own_unit
ct_sh 'systemctl stop demo-hog; rm -f /dev/shm/mm-e2e-50m'
# The memory scope, in the container's cgroup v2: a snapshot under a limit of its own, where the
# container's systemd can set one. A host with a v1 memory controller delegates no memory
# controller to the container (its v2 has none): there auto must stay on the host, and
# --memory-scope cgroup must stop at start and say why.
ct_run scope-snapshot systemd-run --quiet --scope -p MemoryMax=300M \
    /usr/local/bin/memory-monitor snapshot --details 0 --kernel-log off
scope_header=$(head -n1 "$WORK/scope-snapshot.out")
if ct_sh 'grep -qw memory /sys/fs/cgroup/cgroup.controllers'; then
    check "a snapshot under systemd-run -p MemoryMax=300M measures against the limit: $scope_header" \
        sh -c "[ $RC = 0 ] && printf '%s\n' '$scope_header' | grep -Eq ' \| RAM [0-9.]+% of the 300\.00 MiB cgroup limit \('"
else
    check "no memory controller in the container's cgroup v2: auto measures the host: $scope_header" \
        sh -c "[ $RC = 0 ] && printf '%s\n' '$scope_header' | grep -Eq ' \| RAM [0-9.]+% \([0-9.]+ of '"
    ct_run scope-cgroup /usr/local/bin/memory-monitor snapshot --memory-scope cgroup --kernel-log off
    check "... and --memory-scope cgroup stops at start, saying why" \
        sh -c "[ $RC = 1 ] && grep -q 'no cgroup of memory-monitor has a memory limit it can read under /sys/fs/cgroup' '$WORK/scope-cgroup.out'"
fi
timing "where the RAM is" "$t"

# ================================================================ 5. rotation while reports are being written
t=$(now)
for i in 1 2 3; do
    sleep 3
    ct_run "logrotate-$i" logrotate -f /etc/logrotate.d/memory-monitor
    check "logrotate -f #$i" sh -c "[ $RC = 0 ] && [ ! -s '$WORK/logrotate-$i.out' ]" || show "logrotate-$i"
done
sleep 5
check "rotated: incidents.log.1 (plain, delaycompress) and .2.gz .3.gz" ct_sh \
    'cd /var/log/memory-monitor && test -f incidents.log.1 && test -f incidents.log.2.gz && test -f incidents.log.3.gz && test -f details.log.2.gz'
check "new incidents.log created by the daemon, 0640 memory-monitor" \
    [ "$(in_ct stat -c '%U %a' /var/log/memory-monitor/incidents.log)" = "memory-monitor 640" ]
# everything up to the last report header: that report may still be being written
logs_cat incidents | awk '/ \| incident [0-9]+ \| RAM / { printf "%s", buf; buf = "" } { buf = buf $0 "\n" }' \
    >"$WORK/all-incidents.txt"
headers=$(grep -cE ' \| incident [0-9]+ \| RAM ' "$WORK/all-incidents.txt" || true)
tables=$(grep -cE '^USER +PID +%CPU' "$WORK/all-incidents.txt" || true)
check "no report lost or cut across rotation: $headers headers, $tables tables" \
    sh -c "[ '$headers' = '$tables' ] && [ '$headers' -ge 5 ]"
gap=$(grep -E ' \| incident [0-9]+ \| RAM ' "$WORK/all-incidents.txt" | cut -c1-19 \
      | while read -r d; do date -d "$d" +%s; done | awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1 } END { print g + 0 }')
check "reports every ~1-3 s throughout rotation (largest gap ${gap}s <= 10s)" [ "$gap" -le 10 ]
timing "rotation" "$t"

# ================================================================ 5b. OOM kills, from the host's /dev/kmsg
t=$(now)
check "the service reads the OOM kills from /dev/kmsg" journal_says "OOM kills are read from /dev/kmsg" \
    || in_ct journalctl -u memory-monitor -b --no-pager -n 5 | sed 's/^/       | /'
pid=$(svc MainPID)
check "OOMScoreAdjust=-900 in the unit" [ "$(svc OOMScoreAdjust)" = -900 ]
adj=$(in_ct cat /proc/"$pid"/oom_score_adj)
if grep -q '^CapEff:.*' /proc/self/status && [ $(( 0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24 & 1 )) = 1 ]; then
    check "the daemon's oom_score_adj is -900" [ "$adj" = -900 ]
else
    # systemd ignores EPERM here, "assuming containerized execution"
    note "oom_score_adj $adj: this host withholds CAP_SYS_RESOURCE, so no container can lower it"
fi
locked=$(in_ct awk '/^VmLck:/ { print $2 }' /proc/"$pid"/status)
check "its pages are locked in RAM (VmLck ${locked:-?} kB)" [ "${locked:-0}" -gt 0 ] \
    || in_ct journalctl -u memory-monitor -b --no-pager | grep -i 'lock' | tail -n 3 | sed 's/^/       | /'
logged_before=$(kills_logged)
oom_kill_in_ct
check "the kernel killed the hog ($KILLS kill)" [ "$KILLS" -ge 1 ]
if wait_for 10 tail_kill_logged; then
    pass "incidents.log: the kill's entry, with the cgroup: $(logs_cat incidents | grep ' | oom-kill | PID [0-9]* (tail)' | tail -n1 | cut -d'|' -f3-)"
else
    fail "incidents.log: no entry for the killed tail"; logs_cat incidents | grep oom-kill | tail -n 5 | sed 's/^/       | /'
    in_ct journalctl -u memory-monitor -b --no-pager | tail -n 8 | sed 's/^/       journal| /'
    in_ct cat /var/log/memory-monitor/state | sed 's/^/       state| /'
fi
check "... and a report of the machine after it" wait_for 15 report_after_kill
check "the entries add up to the kernel's count ($KILLS)" [ "$(( $(kills_logged) - logged_before ))" = "$KILLS" ]
# The boot the service sees is the kernel's (the one /dev/kmsg's records belong to): its
# ProtectKernelTunables= remounts /proc/sys without nspawn's container boot_id over it.
check "state: the boot and the last kill recorded" ct_sh \
    'grep -Eqx "boot_id=[0-9a-f-]{36}" /var/log/memory-monitor/state && grep -q "^last_kill_seq=[0-9]" /var/log/memory-monitor/state'
timing "OOM kill" "$t"

# ================================================================ 5c. telling someone: the journal, a hook, the watchdog
t=$(now)
REPORT_ID=46a909d96b8d4abe978b9cbe02624363
ct_run journal-json journalctl -o json --no-pager -b -u memory-monitor MESSAGE_ID=$REPORT_ID -n 1
fields_ok=yes
for field in '"MESSAGE_ID":"'$REPORT_ID'"' '"PRIORITY":"4"' '"MEMORY_MONITOR_EVENT":"report"' \
        '"MEMORY_MONITOR_INCIDENT":"[0-9]+"' '"MEMORY_MONITOR_RAM_PERCENT":"[0-9]+\.[0-9]"' \
        '"MEMORY_MONITOR_TOP_PID":"[0-9]+"' '"MEMORY_MONITOR_TOP_COMMAND":"' \
        '"MESSAGE":"[0-9-]+ [0-9:]+ [+-][0-9:]+ \| incident [0-9]+ \| RAM ' '"_SYSTEMD_UNIT":"memory-monitor.service"'; do
    grep -Eq "$field" "$WORK/journal-json.out" || { fields_ok=no; note "missing: $field"; }
done
if [ "$fields_ok" = yes ]; then
    pass "journalctl -o json MESSAGE_ID=$REPORT_ID: a real report's fields: $(grep -Eo '"MESSAGE":"[^"]*"' "$WORK/journal-json.out" | cut -c1-90)"
else
    fail "journalctl -o json MESSAGE_ID=$REPORT_ID lacks fields"; show journal-json 5
fi
# Shipping the journal: systemd-journal-upload in the container sends it to a
# systemd-journal-remote on 127.0.0.1, started from the host in the container's network
# namespace (nspawn gives the container a network of its own) and writing into a directory of
# the host, where journalctl finds the container's reports with their fields and its hostname.
remote_dir=$WORK/journal-remote
mkdir -p "$remote_dir"
nsenter --net=/proc/"$CT_PID"/ns/net /lib/systemd/systemd-journal-remote \
    --listen-http=127.0.0.1:19532 --output="$remote_dir/" >"$WORK/journal-remote.log" 2>&1 &
REMOTE_PID=$!
sleep 1
ct_run journal-upload /lib/systemd/systemd-journal-upload --url=http://127.0.0.1:19532 --follow=no
kill "$REMOTE_PID" 2>/dev/null; wait "$REMOTE_PID" 2>/dev/null || true
journalctl --directory="$remote_dir" --no-pager -o json MESSAGE_ID=$REPORT_ID -n 1 >"$WORK/journal-remote.out" 2>&1 || true
ct_host=$(in_ct hostname)
if grep -q '"MEMORY_MONITOR_INCIDENT":"[0-9]' "$WORK/journal-remote.out" \
        && grep -q "\"_HOSTNAME\":\"$ct_host\"" "$WORK/journal-remote.out"; then
    pass "systemd-journal-upload to journal-remote: on the host, journalctl --directory MESSAGE_ID=$REPORT_ID shows the container's ($ct_host) report with its fields"
else
    fail "the uploaded journal has no report of $ct_host with its fields (upload rc $RC)"
    show journal-upload 5; tail -n 5 "$WORK/journal-remote.log" | sed 's/^/       remote| /'
fi
# A warning of the daemon's: --urgent not above --threshold (fast_settings set it to 1).
ct_sh 'echo MEMORY_MONITOR_URGENT=1 >>/etc/default/memory-monitor; systemctl restart memory-monitor'
ct_run journal-warning journalctl -p warning -u memory-monitor -b --no-pager -o cat
check "journalctl -p warning shows the daemon's warning" grep -q -- '--urgent 1% is not above --threshold 1%' "$WORK/journal-warning.out"
check "... and not its info lines (each stderr line carries its level)" sh -c "! grep -q 'reporting when above' '$WORK/journal-warning.out'"
ct_sh 'sed -i "/^MEMORY_MONITOR_URGENT=1$/d" /etc/default/memory-monitor'
status_text=$(svc StatusText)
check "STATUS= for systemctl status: $status_text" sh -c "printf '%s' '$status_text' | grep -Eq '^(RAM [0-9.]+%, no incident|incident [0-9]+ since [0-9:]+, RAM [0-9.]+%)$'"

# A hook that records its capabilities, under the service's own sandbox.
ct_sh 'printf "#!/bin/sh\ngrep ^Cap /proc/self/status >/var/log/memory-monitor/hook-caps\ncat >/dev/null\n" >/usr/local/bin/mm-e2e-hook
       chmod 755 /usr/local/bin/mm-e2e-hook
       echo MEMORY_MONITOR_ON_EVENT=/usr/local/bin/mm-e2e-hook >>/etc/default/memory-monitor
       systemctl restart memory-monitor'
hook_caps() { ct_sh 'test -s /var/log/memory-monitor/hook-caps'; }
if wait_for 20 hook_caps; then
    # CapInh keeps the three: the service's seccomp filter refuses capset, and with
    # NoNewPrivileges=yes nothing the hook runs can gain them.
    check "the hook runs without the service's capabilities: $(in_ct cat /var/log/memory-monitor/hook-caps | grep -E 'Cap(Prm|Eff|Amb)' | tr '\t\n' '  ')" \
        [ "$(in_ct grep -E '^Cap(Prm|Eff|Amb):' /var/log/memory-monitor/hook-caps | cut -f2 | sort -u)" = 0000000000000000 ]
else
    fail "the hook never ran"; in_ct journalctl -u memory-monitor -b --no-pager | tail -n 8 | sed 's/^/       | /'
fi
service_healthy "with a hook"

# The shipped ntfy hook, against a server on the container's loopback.
ct_sh 'cat >/opt/mm-e2e-ntfy.py <<PY
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                chunk = self.rfile.read(size + 2)[:size]
                if size == 0:
                    break
                body += chunk
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(sys.argv[2], "ab") as log:
            log.write(("%s %s\n%s" % (self.command, self.path, self.headers)).encode() + body + b"\n----\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
       systemd-run --quiet --unit=mm-e2e-ntfy python3 /opt/mm-e2e-ntfy.py 8088 /root/ntfy-requests
       install -d -m 0755 /etc/memory-monitor
       echo NTFY_URL=http://127.0.0.1:8088/mm-e2e >/etc/memory-monitor/hooks.conf
       chgrp memory-monitor /etc/memory-monitor/hooks.conf; chmod 0640 /etc/memory-monitor/hooks.conf
       sed -i "s|^MEMORY_MONITOR_ON_EVENT=.*|MEMORY_MONITOR_ON_EVENT=/usr/local/share/memory-monitor/hooks/ntfy|" /etc/default/memory-monitor
       systemctl restart memory-monitor'
hook_failed() { in_ct journalctl -u memory-monitor -b --no-pager -o cat | grep -q 'hook ntfy: failed on '; }
if wait_for 20 hook_failed; then
    pass "without the network drop-in, the ntfy hook's curl fails, and that is reported: $(in_ct journalctl -u memory-monitor -b --no-pager -o cat | grep 'hook ntfy: failed on ' | tail -n1)"
else
    fail "without the drop-in, no failure of the ntfy hook was reported"; in_ct journalctl -u memory-monitor -b --no-pager | tail -n 8 | sed 's/^/       | /'
fi
check "... and nothing reached the server" ct_sh '! test -s /root/ntfy-requests'
ct_sh 'install -D -m 0644 /usr/local/share/memory-monitor/hook-network.conf /etc/systemd/system/memory-monitor.service.d/hook-network.conf
       systemctl daemon-reload; systemctl restart memory-monitor'
ntfy_posted() { ct_sh 'grep -q "^POST /mm-e2e" /root/ntfy-requests && grep -Eq " \| incident [0-9]+ \| RAM " /root/ntfy-requests'; }
if wait_for 20 ntfy_posted; then
    pass "with the drop-in, the ntfy hook posts the report to the server on the container's loopback"
else
    fail "with the drop-in, nothing reached the ntfy server"; in_ct journalctl -u memory-monitor -b --no-pager | tail -n 8 | sed 's/^/       | /'
fi
# The drop-in's ProtectProc=invisible hides other processes from the hook, not from ps.
start_probes 7777776 /root/mm-e2e-probe6
report_shows "with the network drop-in" 7777776 /root/mm-e2e-probe6
ct_run security-hook systemd-analyze security --no-pager memory-monitor.service
score=$(score_of <"$WORK/security-hook.out")
check "systemd-analyze security with the network drop-in: exposure ${score:-?} <= 2.0" le "${score:-99}" 2.0
grep '✗' "$WORK/security-hook.out" | sed 's/  */ /g; s/^/       /'
ct_sh 'rm -r /etc/systemd/system/memory-monitor.service.d /etc/memory-monitor
       sed -i "/^MEMORY_MONITOR_ON_EVENT=/d" /etc/default/memory-monitor
       systemctl stop mm-e2e-ntfy; systemctl daemon-reload; systemctl restart memory-monitor'
ct_run security-plain systemd-analyze security --no-pager memory-monitor.service
note "without the drop-in: exposure $(score_of <"$WORK/security-plain.out")"

# The metrics file in node_exporter's textfile directory, as Debian's package makes it (root,
# 0755): refused by the sandbox, then by the permissions, then written once both allow it.
textfile=/var/lib/prometheus/node-exporter
ct_sh "install -d -m 0755 $textfile
       echo MEMORY_MONITOR_METRICS_FILE=$textfile/memory-monitor.prom >>/etc/default/memory-monitor
       systemctl restart memory-monitor"
metrics_said() { in_ct journalctl -u memory-monitor -b -p err --no-pager -o cat | grep -q "$1"; }
check "metrics file without the drop-in: the sandbox's read-only file system is said, at level error" \
    wait_for 10 metrics_said 'Read-only file system'
ct_sh "install -D -m 0644 /usr/local/share/memory-monitor/metrics-node-exporter.conf /etc/systemd/system/memory-monitor.service.d/metrics-node-exporter.conf
       systemctl daemon-reload; systemctl restart memory-monitor"
check "... with the drop-in but the directory root's 0755: permission denied is said" \
    wait_for 10 metrics_said 'Permission denied'
ct_run metrics-rwpaths systemctl show -p ReadWritePaths memory-monitor
check "... the drop-in adds $textfile to ReadWritePaths" grep -q "$textfile" "$WORK/metrics-rwpaths.out"
ct_sh "chgrp memory-monitor $textfile; chmod 1775 $textfile; echo 'apt_upgrades_pending 0' >$textfile/apt.prom
       systemctl restart memory-monitor"
metrics_written() { ct_sh "test -s $textfile/memory-monitor.prom && grep -q '^memory_monitor_reports_total{reason=\"sustained\"} [1-9]' $textfile/memory-monitor.prom"; }
if wait_for 20 metrics_written; then
    pass "once the directory is group memory-monitor's, 1775: the metrics file is written, with a report counted"
    check "... 0644 memory-monitor, whatever the unit's UMask=" [ "$(in_ct stat -c '%U %a' $textfile/memory-monitor.prom)" = "memory-monitor 644" ]
    check "... no temporary file left" ct_sh "! ls -A $textfile | grep -q tmp"
    in_ct cat "$textfile/memory-monitor.prom" >"$WORK/memory-monitor.prom"
    if command -v promtool >/dev/null; then
        check "... promtool check metrics accepts it" promtool check metrics <"$WORK/memory-monitor.prom"
    else
        note "promtool not on this host (Debian package prometheus): the file is not checked by it"
    fi
    check "... and root's file beside it is the service's to leave alone" ct_sh "runuser -u memory-monitor -- rm -f $textfile/apt.prom 2>/dev/null; test -f $textfile/apt.prom"
else
    fail "the metrics file was never written"; in_ct journalctl -u memory-monitor -b --no-pager | tail -n 5 | sed 's/^/       | /'
fi
ct_run security-metrics systemd-analyze security --no-pager memory-monitor.service
note "with the metrics drop-in: exposure $(score_of <"$WORK/security-metrics.out")"
ct_sh "rm -r /etc/systemd/system/memory-monitor.service.d $textfile
       sed -i '/^MEMORY_MONITOR_METRICS_FILE=/d' /etc/default/memory-monitor
       systemctl daemon-reload; systemctl restart memory-monitor"

# The watchdog: a daemon stopped with SIGSTOP is killed and restarted within WatchdogSec + 10 s.
restarts=$(svc NRestarts)
pid=$(svc MainPID)
watchdog=$(svc WatchdogUSec)
stopped_at=$(now)
in_ct kill -STOP "$pid"
restarted() { [ "$(svc NRestarts)" = $((restarts + 1)) ] && [ "$(in_ct systemctl is-active memory-monitor.service)" = active ] && [ "$(svc MainPID)" != "$pid" ]; }
if wait_for 40 restarted; then
    took=$(since "$stopped_at")
    check "kill -STOP: restarted by the watchdog ($watchdog) in ${took}s, NRestarts $restarts -> $(svc NRestarts)" le "$took" 30
else
    fail "kill -STOP: no watchdog restart within 40 s (NRestarts $(svc NRestarts), state $(in_ct systemctl is-active memory-monitor.service))"
fi
check "... and the journal says why" journal_says "Watchdog timeout"
ct_sh 'systemctl restart memory-monitor'
timing "journal, hook, watchdog" "$t"

# ================================================================ 6. signals, reinstall: same binary, then a newer one
t=$(now)
in_ct systemctl kill --kill-whom=main -s HUP memory-monitor.service
sleep 2
check "SIGHUP is harmless (still active, NRestarts=0)" [ "$(in_ct systemctl is-active memory-monitor.service) $(svc NRestarts)" = "active 0" ]
in_ct systemctl stop memory-monitor.service
st="$(svc ExecMainCode) $(svc ExecMainStatus) $(svc Result)"
check "SIGTERM (systemctl stop): exits 0 (code status result: $st)" [ "$st" = "1 0 success" ]
ct_run install-2 /opt/mm-src/install.sh --binary /opt/mm-bin/memory-monitor
check "reinstall (same binary) succeeds" [ "$RC" = 0 ]
check "... and started the stopped service" [ "$(in_ct systemctl is-active memory-monitor.service)" = active ]
check "reinstall keeps the admin's /etc/default edit" ct_sh 'grep -qx MEMORY_MONITOR_THRESHOLD=1 /etc/default/memory-monitor'
check "reinstall says it kept the settings" grep -q "/etc/default/memory-monitor: kept" "$WORK/install-2.out"
old_pid=$(svc MainPID)
ct_sh 'mkdir -p /opt/mm-bin2 && cp /opt/mm-bin/memory-monitor /opt/mm-bin2/ && printf "\n# e2e: a newer build\n" >>/opt/mm-bin2/memory-monitor'
ct_run install-3 /opt/mm-src/install.sh --binary /opt/mm-bin2/memory-monitor
check "install over an older install succeeds" [ "$RC" = 0 ]
check "... replaced the binary" in_ct cmp -s /opt/mm-bin2/memory-monitor /usr/local/bin/memory-monitor
check "... restarted the service (MainPID $old_pid -> $(svc MainPID))" [ "$(svc MainPID)" != "$old_pid" ]
check "... kept the admin's edit" ct_sh 'grep -qx MEMORY_MONITOR_THRESHOLD=1 /etc/default/memory-monitor'
service_healthy "reinstall"
timing "reinstalls" "$t"

# ================================================================ 7. reboot (poweroff + a new boot), without /dev/kmsg
rc=0; poweroff || rc=$?
check "poweroff: systemd-nspawn exited 0" [ "$rc" = 0 ]
KMSG_BIND=()   # from here on, the container has no kernel log: the kills are only counted
boot
service_healthy "after reboot"
check "without /dev/kmsg the service counts the kills from /proc/vmstat, and says so" \
    journal_says "OOM kills are counted from /proc/vmstat without their names: "
logged_before=$(kills_logged)
oom_kill_in_ct
if wait_for 10 logged_since "$logged_before" "$KILLS"; then
    pass "counted: the entries add up to the kernel's $KILLS more kills: $(logs_cat incidents | grep 'names unknown' | tail -n1 | cut -d'|' -f3-)"
else
    fail "counted: $(( $(kills_logged) - logged_before )) kills logged, the kernel counted $KILLS"
    logs_cat incidents | grep oom-kill | tail -n 5 | sed 's/^/       | /'
fi
start_probes 7777773 /root/mm-e2e-probe2
report_shows "after reboot" 7777773 /root/mm-e2e-probe2
check "old reports survived the reboot" ct_sh 'grep -q "sleep 7777771" /var/log/memory-monitor/incidents.log.1 || zgrep -q "sleep 7777771" /var/log/memory-monitor/incidents.log.*'

# How the last boot ended. At threshold 1 an episode is always open, so the clean poweroff above
# stopped the service (SIGTERM) during one, and this boot says so.
previous_boot() {  # previous_boot ENDING : the entry, as SPEC.md gives it
    logs_cat incidents | grep -Eq "^[0-9-]{10} [0-9:]{8} [+-][0-9:]{5} \| previous boot \| $1 during incident [0-9]+: high since [0-9-]{10} [0-9:]{8} [+-][0-9:]{5}, last report [0-9:]{8}, RAM [0-9.]+% when last written"
}
previous_boots() { logs_cat incidents | grep -c ' | previous boot | ' || true; }
why_no_previous_boot() {  # what the service saw, when an entry is missing
    note "state: $(ct_sh 'tr "\n" " " </var/log/memory-monitor/state' 2>&1)"
    note "boot_id: $(in_ct cat /proc/sys/kernel/random/boot_id), as the service sees it: $(ct_sh 'nsenter -t "$(systemctl show -p MainPID --value memory-monitor)" -m cat /proc/sys/kernel/random/boot_id' 2>&1)"
    in_ct journalctl -u memory-monitor --no-pager -o cat -n 8 | sed 's/^/       | /'
}
if previous_boot "was shut down"; then
    pass "after the clean poweroff: 'previous boot | was shut down during incident N'"
else
    fail "after the clean poweroff: 'previous boot | was shut down during incident N'"; why_no_previous_boot
fi
PREVIOUS_BOOT_ID=8e3507836287493dbc8a5d00881a020d
check "... the same entry in the journal (MESSAGE_ID=$PREVIOUS_BOOT_ID) and in incidents.jsonl" ct_sh \
    "journalctl -b -u memory-monitor --no-pager -o cat MESSAGE_ID=$PREVIOUS_BOOT_ID | grep -q 'previous boot | was shut down' &&
     zcat -f /var/log/memory-monitor/incidents.jsonl* | grep -q '\"event\":\"previous-boot\",.*\"ended\":\"shut-down\"'"
# A power cut: SIGKILL to the container's PID 1, which takes every process in it at once, and to
# nspawn; nothing in the container gets to stop.
open_episode() { ct_sh 'grep -q "^episode=" /var/log/memory-monitor/state && ! grep -q "^stopped=" /var/log/memory-monitor/state'; }
check "the service's state shows the open episode of this boot" wait_for 10 open_episode
t=$(now)
kill -KILL "$CT_PID" "$NSPAWN_PID" 2>/dev/null || true
wait "$NSPAWN_PID" 2>/dev/null || true
NSPAWN_PID='' CT_PID=''
timing "power cut" "$t"
boot
service_healthy "after a power cut"
if previous_boot "ended abruptly"; then
    pass "after the power cut: 'previous boot | ended abruptly during incident N'"
else
    fail "after the power cut: 'previous boot | ended abruptly during incident N'"; why_no_previous_boot
fi
check "... one entry for each of the two boots, and no more" [ "$(previous_boots)" = 2 ]

# ================================================================ 8. uninstall, then --purge
t=$(now)
ct_sh 'mkdir -p /etc/memory-monitor && echo MAIL_TO=root >/etc/memory-monitor/hooks.conf'   # the hooks' settings
ct_run uninstall-1 /opt/mm-src/uninstall.sh
if [ "$RC" = 0 ]; then pass "uninstall.sh"; else fail "uninstall.sh (rc $RC)"; show uninstall-1; fi
check "service gone (LoadState=not-found, no process left)" ct_sh \
    '[ "$(systemctl show -p LoadState --value memory-monitor.service)" = not-found ] && ! pgrep -u memory-monitor >/dev/null'
check "unit, binary, logrotate file, hooks, wants link removed" ct_sh \
    '! test -e /etc/systemd/system/memory-monitor.service && ! test -e /usr/local/bin/memory-monitor &&
     ! test -e /etc/logrotate.d/memory-monitor && ! test -e /usr/local/share/memory-monitor &&
     ! test -L /etc/systemd/system/multi-user.target.wants/memory-monitor.service'
check "man page and completions removed" none_of "$LOCAL_EXTRAS"
check "logs, edited settings, the hooks' settings and user kept" ct_sh \
    'test -s /var/log/memory-monitor/incidents.log && grep -qx MEMORY_MONITOR_THRESHOLD=1 /etc/default/memory-monitor &&
     test -s /etc/memory-monitor/hooks.conf && id memory-monitor >/dev/null'
check "uninstall.sh says what it removed and kept" sh -c "grep -q '^Removed:' '$WORK/uninstall-1.out' && grep -q '^Kept' '$WORK/uninstall-1.out'"
ct_run uninstall-2 /opt/mm-src/uninstall.sh
check "uninstall.sh again: no error" [ "$RC" = 0 ]
ct_run purge-1 /opt/mm-src/uninstall.sh --purge
if [ "$RC" = 0 ]; then pass "uninstall.sh --purge"; else fail "uninstall.sh --purge (rc $RC)"; show purge-1; fi
check "--purge removed logs, settings, the hooks' settings, user and group" ct_sh \
    '! test -e /var/log/memory-monitor && ! test -e /etc/default/memory-monitor && ! test -e /etc/memory-monitor &&
     ! getent passwd memory-monitor >/dev/null && ! getent group memory-monitor >/dev/null'
ct_run purge-2 /opt/mm-src/uninstall.sh --purge
check "uninstall.sh --purge again: no error" [ "$RC" = 0 ]
timing "uninstall + purge" "$t"

# ================================================================ 9. release tarball: ./install.sh, no arguments
t=$(now)
if [ -n "$TARBALL" ]; then
    what="release tarball"
    rel=/opt/$(basename "$TARBALL" .tar.gz)
    check "$what: unpacks into $rel" ct_sh "tar -C /opt -xzf /opt/mm-pkg/$(basename "$TARBALL") && test -x $rel/install.sh"
else
    what="release layout"   # the tarball's, made by hand
    rel=/opt/mm-release
    ct_sh "mkdir -p $rel && cp -r /opt/mm-src/install.sh /opt/mm-src/uninstall.sh /opt/mm-src/dist $rel/ &&
           cp /opt/mm-bin/memory-monitor $rel/memory-monitor"
fi
ct_run install-release sh -c "cd $rel && ./install.sh"
if [ "$RC" = 0 ] && grep -q "installed from the binary next to install.sh" "$WORK/install-release.out"; then
    pass "$what: ./install.sh without arguments installs the binary next to it"
else fail "$what: ./install.sh (rc $RC)"; show install-release; fi
check "$what: /usr/local/bin/memory-monitor is that binary" in_ct cmp -s "$rel/memory-monitor" /usr/local/bin/memory-monitor
check "$what: fresh default settings" ct_sh '! grep -q "^MEMORY_MONITOR_" /etc/default/memory-monitor'
check "$what: its hooks, as shipped" hooks_as_shipped /usr/local/share/memory-monitor
check "$what: its man page and completions, as shipped" extras_as_shipped "$LOCAL_EXTRAS"
sleep 2
service_healthy "$what"
ct_run purge-3 "$rel/uninstall.sh" --purge
check "$what: its uninstall.sh --purge leaves nothing" ct_sh \
    '! test -e /usr/local/bin/memory-monitor && ! test -e /var/log/memory-monitor && ! id memory-monitor >/dev/null 2>&1 &&
     ! test -e /etc/systemd/system/memory-monitor.service && ! test -e /usr/local/share/memory-monitor'
check "$what: ... and no man page or completion" none_of "$LOCAL_EXTRAS"
timing "$what" "$t"

# ================================================================ 10. from a source checkout: install.sh builds with cargo
t=$(now)
if [ -n "$TOOLCHAIN" ]; then
    ct_run install-cargo env PATH="/opt/mm-toolchain/bin:$CT_PATH" CARGO_HOME=/opt/mm-cargo-home \
        CARGO_NET_OFFLINE=true /opt/mm-src/install.sh
    if [ "$RC" = 0 ] && grep -q "Building the release binary with cargo" "$WORK/install-cargo.out"; then
        pass "source checkout: install.sh built the release binary with cargo"
    else fail "source checkout: install.sh with cargo (rc $RC)"; show install-cargo; fi
    check "source checkout: installed the binary it built" in_ct cmp -s /opt/mm-src/target/release/memory-monitor /usr/local/bin/memory-monitor
    sleep 2
    check "source checkout: service active, NRestarts=0" [ "$(in_ct systemctl is-active memory-monitor.service) $(svc NRestarts)" = "active 0" ]
    ct_run purge-4 /opt/mm-src/uninstall.sh --purge
    check "source checkout: uninstall.sh --purge" [ "$RC" = 0 ]
else
    note "SKIP build from source: no Rust toolchain on the host"
fi
timing "install from source" "$t"

# ================================================================ 11. the Debian package
t=$(now)
if [ -n "$DEB" ]; then
    deb=/opt/mm-pkg/$(basename "$DEB")
    ct_apt() { local name=$1; shift; ct_run "$name" env DEBIAN_FRONTEND=noninteractive "$@"; }
    pkg_status() { in_ct dpkg-query -W -f='${Status}' memory-monitor 2>/dev/null || true; }
    check "deb: nothing left by install.sh" ct_sh \
        '! test -e /usr/local/bin/memory-monitor && ! test -e /etc/systemd/system/memory-monitor.service && ! id memory-monitor >/dev/null 2>&1'
    ct_apt deb-install apt-get install -y "$deb"
    ran_ok deb-install "deb: apt-get install $(basename "$DEB")"
    sleep 3   # let a crash loop show up in NRestarts
    service_healthy "deb"
    check "deb: binary /usr/bin/memory-monitor root 755" [ "$(in_ct stat -c '%U %a' /usr/bin/memory-monitor)" = "root 755" ]
    installed_files_ok "deb" /lib/systemd/system/memory-monitor.service
    check "deb: the hooks in /usr/share/memory-monitor/hooks (0755), and hook-network.conf (0644)" \
        hooks_as_shipped /usr/share/memory-monitor
    check "deb: the man page (gzipped) and the bash, zsh and fish completions under /usr/share (0644)" \
        extras_as_shipped "$DEB_EXTRAS"
    check "deb: its unit is dist's with ExecStart=/usr/bin/memory-monitor, nothing else changed" \
        [ "$(in_ct diff /opt/mm-src/dist/memory-monitor.service /lib/systemd/system/memory-monitor.service | grep '^[<>]')" \
          = "$(printf '< ExecStart=/usr/local/bin/memory-monitor run\n> ExecStart=/usr/bin/memory-monitor run')" ]
    check "deb: conffiles /etc/default/memory-monitor, /etc/logrotate.d/memory-monitor" ct_sh \
        'dpkg-query -W -f="\${Conffiles}" memory-monitor | grep -q "^ /etc/default/memory-monitor " &&
         dpkg-query -W -f="\${Conffiles}" memory-monitor | grep -q "^ /etc/logrotate.d/memory-monitor "'
    ct_run deb-no-install-sh "$rel/install.sh"
    check "deb: install.sh refuses while the package is installed" \
        sh -c "[ $RC != 0 ] && grep -q 'Debian package memory-monitor is installed' '$WORK/deb-no-install-sh.out'"

    start_probes 7777775 /root/mm-e2e-probe5
    fast_settings
    report_shows "deb" 7777775 /root/mm-e2e-probe5 /usr/bin/memory-monitor
    old_pid=$(svc MainPID)
    ct_apt deb-reinstall apt-get install -y --reinstall "$deb"
    new_pid=$(svc MainPID)
    check "deb: reinstall, as an upgrade, restarts the service (MainPID $old_pid -> $new_pid)" \
        sh -c "[ $RC = 0 ] && [ '$new_pid' != '$old_pid' ] && [ '$new_pid' != 0 ]"
    check "deb: ... which is active and kept the edited settings" ct_sh \
        '[ "$(systemctl is-active memory-monitor.service)" = active ] && grep -qx MEMORY_MONITOR_THRESHOLD=1 /etc/default/memory-monitor'

    ct_apt deb-remove apt-get remove -y memory-monitor
    ran_ok deb-remove "deb: apt-get remove"
    check "deb: ... stopped the service, no process left" ct_sh \
        '[ "$(systemctl is-active memory-monitor.service)" != active ] && ! pgrep -u memory-monitor >/dev/null'
    check "deb: ... removed the binary, the unit and the hooks" ct_sh \
        '! test -e /usr/bin/memory-monitor && ! test -e /lib/systemd/system/memory-monitor.service && ! test -e /usr/share/memory-monitor'
    check "deb: ... and the man page and completions" none_of "$DEB_EXTRAS"
    check "deb: ... kept the edited settings, the reports and the user" ct_sh \
        'grep -qx MEMORY_MONITOR_THRESHOLD=1 /etc/default/memory-monitor && test -s /var/log/memory-monitor/incidents.log && id memory-monitor >/dev/null'
    check "deb: ... package state: config-files" [ "$(pkg_status)" = "deinstall ok config-files" ]
    ct_apt deb-install-2 apt-get install -y "$deb"
    ran_ok deb-install-2 "deb: install after remove"
    service_healthy "deb after remove and install"

    ct_sh 'mkdir -p /etc/memory-monitor && echo MAIL_TO=root >/etc/memory-monitor/hooks.conf'
    ct_apt deb-purge apt-get purge -y memory-monitor
    ran_ok deb-purge "deb: apt-get purge"
    check "deb: ... removed settings, the hooks' settings, logrotate file, user, group and the service's links" ct_sh \
        '! test -e /etc/default/memory-monitor && ! test -e /etc/memory-monitor && ! test -e /etc/logrotate.d/memory-monitor &&
         ! getent passwd memory-monitor >/dev/null && ! getent group memory-monitor >/dev/null &&
         ! test -e /etc/systemd/system/memory-monitor.service &&
         ! test -L /etc/systemd/system/multi-user.target.wants/memory-monitor.service'
    check "deb: ... kept the reports, readable by root only" ct_sh \
        'test -s /var/log/memory-monitor/incidents.log && [ "$(stat -c "%U %a" /var/log/memory-monitor)" = "root 700" ]'
    check "deb: ... said so and how to remove them" grep -q "sudo rm -r /var/log/memory-monitor" "$WORK/deb-purge.out"
    check "deb: ... package state: not installed" sh -c "[ -z '$(pkg_status)' ] || [ '$(pkg_status)' = 'unknown ok not-installed' ]"
    ct_apt deb-install-3 apt-get install -y "$deb"
    ran_ok deb-install-3 "deb: install after purge"
    sleep 2
    check "deb: install after purge: service active, the kept reports back to the new user" ct_sh \
        '[ "$(systemctl is-active memory-monitor.service)" = active ] &&
         [ "$(stat -c "%U %a" /var/log/memory-monitor /var/log/memory-monitor/incidents.log | sort -u | tr "\n" " ")" = "memory-monitor 640 memory-monitor 750 " ]'
    ct_apt deb-purge-logs MEMORY_MONITOR_PURGE_LOGS=yes apt-get purge -y memory-monitor
    ran_ok deb-purge-logs "deb: MEMORY_MONITOR_PURGE_LOGS=yes apt-get purge"
    check "deb: ... removed the reports too, nothing left" ct_sh \
        '! test -e /var/log/memory-monitor && ! test -e /etc/default/memory-monitor && ! id memory-monitor >/dev/null 2>&1 &&
         ! test -e /usr/bin/memory-monitor && ! dpkg-query -W -f="\${Status}" memory-monitor 2>/dev/null | grep -q installed'
else
    note "SKIP the Debian package: no DEB given"
fi
timing "the Debian package" "$t"

rc=0; poweroff || rc=$?
check "final poweroff: systemd-nspawn exited 0" [ "$rc" = 0 ]

# ================================================================ 12. the Debian package where systemd is not running
# As in a chroot or an image being built: the maintainer scripts must still succeed, and
# leave the service enabled for the next boot.
t=$(now)
if [ -n "$DEB" ]; then
    unbooted() {  # unbooted NAME CMD : a shell command in the container's root, systemd not running
        RC=0
        systemd-nspawn --quiet -D "$WORK/root" --register=no --keep-unit --private-network \
            env -i PATH="$CT_PATH" LANG=C.UTF-8 sh -c "$2" >"$WORK/$1.out" 2>&1 || RC=$?
    }
    unbooted nosd-install "test ! -d /run/systemd/system && dpkg -i $deb"
    ran_ok nosd-install "no systemd: dpkg -i"
    unbooted nosd-state 'test -L /etc/systemd/system/multi-user.target.wants/memory-monitor.service && id memory-monitor'
    ran_ok nosd-state "no systemd: ... enabled the service for the next boot, created the user"
    unbooted nosd-purge "dpkg --purge memory-monitor"
    ran_ok nosd-purge "no systemd: dpkg --purge"
    unbooted nosd-gone '! test -e /etc/systemd/system/multi-user.target.wants/memory-monitor.service &&
        ! id memory-monitor 2>/dev/null && ! test -e /etc/default/memory-monitor'
    ran_ok nosd-gone "no systemd: ... removed the link, the user and the settings"
fi
timing "the Debian package, no systemd" "$t"
