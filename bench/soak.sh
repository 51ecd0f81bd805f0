#!/bin/bash
# The daemon for a day of ticks at its default settings, 1500 times faster (about a minute), in a
# release build, printing its resident memory over the run. `bench/soak.sh 72` soaks for 72 hours
# of ticks instead. The four-hour version runs with the other tests.
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${1:-24}
case $hours in
    '' | *[!0-9]* | 0) echo "usage: $0 [HOURS]" >&2; exit 2 ;;
esac
SOAK_HOURS=$hours exec cargo test --release --locked --test soak_daemon -- \
    --ignored --exact a_day_of_ticks_keeps_resident_memory_flat --nocapture
