#!/bin/bash
# Benchmarks memory-monitor against earlyoom and against the raw ps and top it runs, and writes
# BENCHMARKS.md: the machine, the date, the commands, the tables (medians of 5 runs or more),
# then bench/analysis.md. Takes about 25 minutes. Timing real OOM kills needs root and a memory
# cgroup; without them that table says why it is missing.
#
#   bench/run.sh                  the full run, written to BENCHMARKS.md
#   bench/run.sh --quick          a smoke run of a minute, written to target/bench-quick.md
#   bench/run.sh --out FILE ...   any other file; other options go to the harness
#                                 (benches/compare/main.rs: --runs N, --idle-seconds S, --sizes)
#
# Exits 1 when a target is missed (the file is still written).
set -euo pipefail
cd "$(dirname "$0")/.."

out=BENCHMARKS.md
quick=no
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=${2:?--out needs a file}; shift 2 ;;
        --quick) out=target/bench-quick.md; quick=yes; args+=("$1"); shift ;;
        *) args+=("$1"); shift ;;
    esac
done

die() { echo "bench/run.sh: $*" >&2; exit 2; }

if ! command -v ps >/dev/null || ! command -v top >/dev/null; then
    die "ps and top are missing; install procps (sudo apt-get install procps)"
fi
# 10,000 idle processes are spawned for the scaling table.
limit=$(ulimit -u)
if [ "$limit" != unlimited ] && [ "$limit" -lt 10500 ]; then
    die "ulimit -u is $limit; the scaling run needs 10,500 processes (ulimit -u 20000)"
fi

# earlyoom as installed, or Debian's package unpacked under target/ without installing it, so
# the benchmark never starts an OOM killer service on the machine.
earlyoom=$(command -v earlyoom || true)
if [ -z "$earlyoom" ]; then
    tools=target/bench-tools
    earlyoom=$tools/usr/bin/earlyoom
    if [ ! -x "$earlyoom" ]; then
        mkdir -p "$tools"
        (cd "$tools" && apt-get download earlyoom >&2) ||
            die "cannot download earlyoom; run 'sudo apt-get update' first, or install it"
        dpkg-deb -x "$tools"/earlyoom_*.deb "$tools"
    fi
fi

binary=$(scripts/build-release.sh)
# The commit measured; "-dirty" when the sources differ from it (not this run's own output).
version=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
if ! git diff --quiet HEAD -- . ':!BENCHMARKS.md' 2>/dev/null; then
    version=$version-dirty
fi
tables=$(mktemp)
trap 'rm -f "$tables"' EXIT
status=0
cargo bench --locked --bench compare -- --monitor "$binary" --earlyoom "$earlyoom" \
    ${args[@]+"${args[@]}"} >"$tables" || status=$?
[ -s "$tables" ] || die "the harness printed nothing (exit $status)"

field() { sed -n "s/^$1[[:space:]]*:[[:space:]]*//p" /proc/cpuinfo | head -1; }
os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null || true)
{
    echo "# Benchmarks"
    echo
    echo "memory-monitor against earlyoom (a watchdog that does nothing but sample memory) and"
    echo "against the ps and top it runs for a capture. Regenerate with \`bench/run.sh\`."
    echo
    echo "## The run"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: $(field 'model name'), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM; Linux $(uname -r); ${os:-unknown OS}"
    echo "- Programs: memory-monitor $version built by \`scripts/build-release.sh\` ($(rustc --version | cut -d' ' -f1-2), target \`$(basename "$(dirname "$(dirname "$binary")")")\`); $("$earlyoom" -v 2>&1 | head -1); $(ps --version | head -1)"
    echo "- Commands: \`bench/run.sh${args[*]+ ${args[*]}}\`, which runs \`cargo bench --locked --bench compare -- --monitor $binary --earlyoom $earlyoom${args[*]+ ${args[*]}}\`"
    echo
    echo "## Results"
    echo
    cat "$tables"
    echo
    cat bench/analysis.md
} >"$out"
echo "bench/run.sh: wrote $out" >&2
# One run of each is not a measurement: a quick run only shows the harness works (exit 1 is a
# missed target; anything else is the harness failing).
if [ "$quick" = yes ] && [ "$status" = 1 ]; then
    status=0
fi
exit "$status"
