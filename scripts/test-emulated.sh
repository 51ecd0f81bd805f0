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
        gcc=aarch64-linux-gnu-gcc debian_arch=arm64 multiarch=aarch64-linux-gnu ;;
    armv7 | armhf | armv7-unknown-linux-gnueabihf)
        triple=armv7-unknown-linux-gnueabihf qemu=arm sysroot=/usr/arm-linux-gnueabihf
        gcc=arm-linux-gnueabihf-gcc debian_arch='' multiarch='' ;;
    *) die "name a target: aarch64 or armv7" ;;
esac
shift

command -v "qemu-$qemu-static" >/dev/null 2>&1 || die "qemu-$qemu-static is missing: apt-get install qemu-user-static"
command -v "$gcc" >/dev/null 2>&1 || die "$gcc is missing: scripts/build-pi.sh --install-deps $triple"
[ -e "$sysroot/lib/crt1.o" ] || die "the target's C library is missing: scripts/build-pi.sh --install-deps $triple"

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

# The wall-clock test preloads libfaketime into the program, so it needs the target's build
# of it. Fetched from the Debian mirror and unpacked under target/, rather than installed: a
# foreign architecture in dpkg makes every apt-get update depend on that architecture's indexes.
# Not for armv7, where the test is ignored: this libfaketime cannot fake 32-bit glibc's
# 64-bit time calls.
if [ -n "$debian_arch" ]; then
    faketime_version=$(dpkg-query -W -f '${Version}' libfaketime 2>/dev/null) \
        || die "libfaketime is missing: apt-get install faketime"
    faketime_dir=target/emulated/libfaketime-$faketime_version-$debian_arch
    if [ ! -e "$faketime_dir/usr/lib/$multiarch/faketime/libfaketime.so.1" ]; then
        mirror=${MM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
        deb=libfaketime_${faketime_version#*:}_$debian_arch.deb
        mkdir -p "$faketime_dir"
        /usr/lib/apt/apt-helper download-file "$mirror/pool/main/f/faketime/$deb" "$faketime_dir/$deb" >&2
        dpkg-deb -x "$faketime_dir/$deb" "$faketime_dir"
    fi
    export MEMORY_MONITOR_TEST_LIBFAKETIME=$PWD/$faketime_dir/usr/lib/$multiarch/faketime/libfaketime.so.1
fi

upper=$(printf '%s' "$triple" | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${upper}_LINKER=$gcc"
export "CARGO_TARGET_${upper}_RUNNER=qemu-$qemu-static -L $sysroot"
# The ARM binaries the tests start go through binfmt_misc, which finds the target's dynamic
# loader and libc here.
export QEMU_LD_PREFIX=$sysroot
# Optimised, with the debug assertions and overflow checks kept: unoptimised code runs some
# tests (16 MiB of ps output) twenty times slower under emulation than natively.
export CARGO_PROFILE_DEV_OPT_LEVEL=2
exec cargo test --locked --target "$triple" "$@"
