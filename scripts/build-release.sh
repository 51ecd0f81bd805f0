#!/bin/bash
# Builds the binary that ships and prints its path: linked statically against musl, so it maps
# no shared library and stays small while idle (see BENCHMARKS.md). `scripts/build-release.sh
# TRIPLE` builds for another musl target. Needs rustup, or the target's standard library.
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-$(uname -m)} in
    x86_64) target=x86_64-unknown-linux-musl ;;
    aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
    *-*) target=$1 ;;
    *) echo "build-release.sh: no musl target known for $(uname -m); name one (e.g. armv7-unknown-linux-musleabihf)" >&2; exit 2 ;;
esac
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" >&2
fi
cargo build --release --locked --target "$target" >&2
echo "target/$target/release/memory-monitor"
