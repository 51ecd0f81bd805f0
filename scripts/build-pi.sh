#!/bin/bash
# Cross-builds release binaries for the Raspberry Pi on a Debian machine and prints their paths,
# one per line. See --help.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'EOF'
Usage: scripts/build-pi.sh [--install-deps] [TARGET...]

Cross-builds memory-monitor for the Raspberry Pi with Debian's cross compilers and prints
the path of each binary. TARGET is a Rust target or a short name; the default is both:
  aarch64 | arm64   aarch64-unknown-linux-gnu       64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2 W)
  armv7 | armhf     armv7-unknown-linux-gnueabihf   32-bit Raspberry Pi OS (Pi 2 and later)
The binaries link glibc dynamically and need glibc 2.34 or newer: Raspberry Pi OS bookworm
(Debian 12) or later.

  arm | armv6       arm-unknown-linux-gnueabihf     Pi 1 and Pi Zero (ARMv6): not built here.
Debian's arm-linux-gnueabihf toolchain is ARMv7/Thumb-2 only (its crt1.o, libc_nonshared.a and
libgcc.a), so whatever it links dies with "Illegal instruction" on an ARMv6 CPU. Build on the
Pi itself instead (README.md, "Building on the Pi").

Options:
  --install-deps   apt-get install the cross compilers first (as root)
  -h, --help       show this help
EOF
}

die() { printf 'build-pi.sh: error: %s\n' "$*" >&2; exit 1; }

install_deps=no
targets=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --install-deps) install_deps=yes ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) targets+=("$1") ;;
    esac
    shift
done
[ ${#targets[@]} -gt 0 ] || targets=(aarch64 armv7)

# target triple, Debian's cross gcc, its C library (the gcc only recommends it), and the
# packages that have them
resolve() {
    case $1 in
        aarch64 | arm64 | aarch64-unknown-linux-gnu)
            echo "aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc /usr/aarch64-linux-gnu/lib/crt1.o" \
                "gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;;
        armv7 | armhf | armv7-unknown-linux-gnueabihf)
            echo "armv7-unknown-linux-gnueabihf arm-linux-gnueabihf-gcc /usr/arm-linux-gnueabihf/lib/crt1.o" \
                "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross" ;;
        arm | armv6 | arm-unknown-linux-gnueabihf)
            die "ARMv6 (Pi 1, Pi Zero) cannot be built with Debian's cross toolchain, which is ARMv7-only; see --help" ;;
        *) die "unknown target '$1' (see --help)" ;;
    esac
}

resolved=()
for t in "${targets[@]}"; do resolved+=("$(resolve "$t")"); done

missing=()
for r in "${resolved[@]}"; do
    read -r _ gcc crt gcc_package libc_package <<<"$r"
    command -v "$gcc" >/dev/null 2>&1 || missing+=("$gcc_package")
    [ -e "$crt" ] || missing+=("$libc_package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$install_deps" = yes ]; then
        as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
        as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    else
        die "missing cross compiler or its C library: apt-get install ${missing[*]} (or run with --install-deps)"
    fi
fi

for r in "${resolved[@]}"; do
    read -r triple gcc _ <<<"$r"
    if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$triple"; then
        rustup target add "$triple" >&2
    fi
    # CARGO_TARGET_<TRIPLE>_LINKER: the triple upper-cased, dashes to underscores
    linker_var=CARGO_TARGET_$(printf '%s' "$triple" | tr 'a-z-' 'A-Z_')_LINKER
    env "$linker_var=$gcc" cargo build --release --locked --target "$triple" >&2
    echo "target/$triple/release/memory-monitor"
done
