#!/bin/bash
# Runs the whole test suite for a Raspberry Pi target on this (x86_64) machine, under qemu-user.
# Usage: scripts/test-emulated.sh aarch64|armv7 [cargo test arguments...]
# Needs Debian's qemu-user-static and the target's cross compiler (scripts/build-pi.sh
# --install-deps). Run it as root the first time, or after a reboot, so that it can register
# qemu with the kernel's binfmt_misc: the tests run the program's own binary, which then is an
# ARM executable that only binfmt_misc knows how to start.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'test-emulated.sh: error: %s\n' "$*" >&2; exit 1; }

case ${1:-} in
    aarch64 | arm64 | aarch64-unknown-linux-gnu)
        triple=aarch64-unknown-linux-gnu qemu=aarch64 sysroot=/usr/aarch64-linux-gnu
        gcc=aarch64-linux-gnu-gcc ;;
    armv7 | armhf | armv7-unknown-linux-gnueabihf)
        triple=armv7-unknown-linux-gnueabihf qemu=arm sysroot=/usr/arm-linux-gnueabihf
        gcc=arm-linux-gnueabihf-gcc ;;
    *) die "name a target: aarch64 or armv7" ;;
esac
shift

command -v "qemu-$qemu-static" >/dev/null 2>&1 || die "qemu-$qemu-static is missing: apt-get install qemu-user-static"
command -v "$gcc" >/dev/null 2>&1 || die "$gcc is missing: scripts/build-pi.sh --install-deps $triple"
[ -d "$sysroot/lib" ] || die "$sysroot/lib is missing: apt-get install $(basename "$sysroot" | sed 's/-linux-.*//;s/aarch64/libc6-dev-arm64-cross/;s/^arm$/libc6-dev-armhf-cross/')"

# binfmt_misc: mounted and qemu registered, so that an ARM binary started by a test runs too.
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/qemu-$qemu" ]; then
    [ "$(id -u)" -eq 0 ] || die "qemu-$qemu is not registered with binfmt_misc; run this once as root"
    [ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt"
    update-binfmts --enable "qemu-$qemu" >/dev/null 2>&1 \
        || update-binfmts --import "qemu-$qemu" >/dev/null
    [ -e "$binfmt/qemu-$qemu" ] || die "could not register qemu-$qemu with binfmt_misc"
fi

if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$triple"; then
    rustup target add "$triple" >&2
fi

upper=$(printf '%s' "$triple" | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${upper}_LINKER=$gcc"
export "CARGO_TARGET_${upper}_RUNNER=qemu-$qemu-static -L $sysroot"
# The ARM binaries the tests start go through binfmt_misc, which finds the target's dynamic
# loader and libc here.
export QEMU_LD_PREFIX=$sysroot
exec cargo test --locked --target "$triple" "$@"
