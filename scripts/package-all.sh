#!/bin/bash
# Builds every shipped binary and packs each with scripts/package.sh. See --help.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'EOF'
Usage: scripts/package-all.sh [--no-lintian] [OUTDIR]

Builds the three shipped binaries and packs each into a release tarball and a .deb in
OUTDIR (default target/dist), printing the path of every file written:
  x86_64-unknown-linux-musl      scripts/build-release.sh x86_64   -> amd64 (static)
  aarch64-unknown-linux-gnu      scripts/build-pi.sh               -> arm64 (64-bit Pi OS)
  armv7-unknown-linux-gnueabihf  scripts/build-pi.sh               -> armhf (32-bit Pi OS)
Needs what those scripts need (rustup, Debian's cross compilers: build-pi.sh
--install-deps) and what package.sh needs (dpkg-deb, binutils, lintian).
--no-lintian is passed on to package.sh.
EOF
}

opts=()
outdir=target/dist
case ${1:-} in
    -h | --help) usage; exit 0 ;;
    --no-lintian) opts+=("$1"); shift ;;
esac
case $# in
    0) ;;
    1) outdir=$1 ;;
    *) usage >&2; exit 2 ;;
esac

binary=$(scripts/build-release.sh x86_64)
scripts/package.sh "${opts[@]}" x86_64-unknown-linux-musl "$binary" "$outdir"
for triple in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    binary=$(scripts/build-pi.sh "$triple")
    scripts/package.sh "${opts[@]}" "$triple" "$binary" "$outdir"
done
