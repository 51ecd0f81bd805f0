#!/bin/bash
# Fuzzes every parser with libFuzzer through cargo-fuzz, on the stable toolchain.
#
#   fuzz/run.sh                          each target for FUZZ_SECONDS (20 s): what CI runs
#   FUZZ_RUNS=10000000 fuzz/run.sh ps    10 million executions of the ps target
#   FUZZ_SANITIZER=none fuzz/run.sh      without AddressSanitizer, 3 to 5 times faster; the
#                                        fuzzed code is safe Rust, so a long run loses little
#
# Targets: ps top meminfo proc_status proc_stat escape kmsg jsonl (all when none are named). New
# inputs that reach new code go to fuzz/corpus/TARGET, crashes to fuzz/artifacts/TARGET; a crash
# stops the script with libFuzzer's report and exit status. The seeds, fuzz/seeds/TARGET, are cut
# from tests/corpus (kmsg: one record each from tests/corpus/kmsg) and from a Debian 12
# machine's /proc; jsonl: the lines of snapshots/jsonl_*.snap, a day's file the daemon wrote in
# a test, and the hostile hand-made file of tests/integration/history_incidents.rs.
set -euo pipefail
cd "$(dirname "$0")"

CARGO_FUZZ_VERSION=0.13.1
ALL_TARGETS=(ps top meminfo proc_status proc_stat escape kmsg jsonl)

# The longest input each target is given: dozens of ps rows, a few top frames, a whole
# status file. Longer inputs only slow the search down.
max_len() {
    case "$1" in
        ps | top) echo 8192 ;;
        jsonl) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, sanitizer coverage) to rustc; this
# lets the stable toolchain, all CI may have, accept them.
export RUSTC_BOOTSTRAP=1

if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${ALL_TARGETS[@]}"); fi
if [ -n "${FUZZ_RUNS:-}" ]; then
    limit=("-runs=$FUZZ_RUNS")
else
    limit=("-max_total_time=${FUZZ_SECONDS:-20}")
fi

sanitizer=(--sanitizer "${FUZZ_SANITIZER:-address}")
cargo fuzz build "${sanitizer[@]}"
for target in "${targets[@]}"; do
    printf '\n=== fuzz %s (%s)\n' "$target" "${limit[*]}"
    mkdir -p "corpus/$target"
    cargo fuzz run "${sanitizer[@]}" "$target" "corpus/$target" "seeds/$target" -- \
        "${limit[@]}" "-max_len=$(max_len "$target")" -print_final_stats=1
done
