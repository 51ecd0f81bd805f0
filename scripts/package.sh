#!/bin/bash
# Packs a built binary for release: a tarball to run install.sh from, and a .deb checked with
# lintian. Prints the paths it wrote. See --help.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/package.sh [--no-lintian] TARGET BINARY [OUTDIR]

Packs BINARY, built for the Rust target TARGET, into OUTDIR (default target/dist) and
prints the path of each file written:
  memory-monitor-VERSION-TARGET.tar.gz  one directory of that name: the binary,
                                        install.sh, uninstall.sh, dist/ (with the
                                        man page and completions), README.md,
                                        LICENSE, THIRD-PARTY-LICENSES; unpack it and
                                        run: sudo ./install.sh
  memory-monitor_VERSION-1_ARCH.deb     the package: sudo apt install ./FILE.deb
VERSION is Cargo.toml's. ARCH follows from TARGET: x86_64-* amd64, aarch64-* arm64,
armv7-*eabihf armhf. Both files are reproducible: owned by root, in sorted order, every
time set to SOURCE_DATE_EPOCH (default: the time of the last commit).

The .deb is checked with lintian, and any error or warning fails the script
(--no-lintian skips the check). Needs dpkg-deb, readelf (binutils) and lintian.
EOF
}

die() { printf 'package.sh: error: %s\n' "$*" >&2; exit 1; }

lintian=yes
args=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --no-lintian) lintian=no ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) args+=("$1") ;;
    esac
    shift
done
case ${#args[@]} in 2 | 3) ;; *) usage >&2; exit 2 ;; esac
target=${args[0]} binary=${args[1]} outdir=${args[2]:-target/dist}
root=$(cd "$(dirname "$0")/.." && pwd)

[ -f "$binary" ] || die "$binary: no such file"
for tool in dpkg-deb readelf; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install dpkg binutils"
done
if [ "$lintian" = yes ] && ! command -v lintian >/dev/null; then
    die "lintian not found: apt-get install lintian (or pass --no-lintian)"
fi

# readelf's Machine: line tells a binary built for another target from the right one
case $target in
    x86_64-*) arch=amd64 machine='X86-64' ;;
    aarch64-*) arch=arm64 machine='AArch64' ;;
    armv7-*eabihf) arch=armhf machine='ARM' ;;
    *) die "no Debian architecture known for target $target" ;;
esac
elf_machine=$(readelf -h "$binary" 2>/dev/null | sed -n 's/^ *Machine: *//p')
case $elf_machine in
    *"$machine") ;;
    *) die "$binary is built for '${elf_machine:-no machine: not an ELF file}', but $target is $machine" ;;
esac

version=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")
[ -n "$version" ] || die "no version in $root/Cargo.toml"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null) \
        || die "$root is not a git checkout: set SOURCE_DATE_EPOCH"
fi
export SOURCE_DATE_EPOCH   # dpkg-deb clamps file times to it

umask 022
mkdir -p "$outdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------- the tarball
name=memory-monitor-$version-$target
tree=$work/$name
mkdir -p "$tree/dist"
install -m 0755 "$binary" "$tree/memory-monitor"
install -m 0755 "$root/install.sh" "$root/uninstall.sh" "$tree/"
install -m 0644 "$root/README.md" "$root/LICENSE" "$tree/"
# the crates compiled in, whose licences ask for their notices to travel with the binary
"$root/scripts/third-party-licenses.sh" "$target" >"$work/THIRD-PARTY-LICENSES"
install -m 0644 "$work/THIRD-PARTY-LICENSES" "$tree/"
# what install.sh installs; dist/deb/ is for the .deb only
install -m 0644 "$root/dist/memory-monitor.service" "$root/dist/memory-monitor.default" \
    "$root/dist/memory-monitor.logrotate" "$root/dist/hook-network.conf" \
    "$root/dist/metrics-node-exporter.conf" "$root/dist/memory-monitor.1" "$tree/dist/"
mkdir -p "$tree/dist/hooks" "$tree/dist/completions"
install -m 0755 "$root"/dist/hooks/* "$tree/dist/hooks/"
install -m 0644 "$root"/dist/completions/memory-monitor.bash "$root"/dist/completions/_memory-monitor \
    "$root"/dist/completions/memory-monitor.fish "$tree/dist/completions/"
tarball=$outdir/$name.tar.gz
tar -C "$work" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -cf - "$name" | gzip -9n >"$tarball.tmp"
mv "$tarball.tmp" "$tarball"

# ---------------------------------------------------------------- the .deb
deb_version=$version-1
pkg=$work/deb
doc=$pkg/usr/share/doc/memory-monitor
share=$pkg/usr/share/memory-monitor
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/default" \
    "$pkg/etc/logrotate.d" "$doc" "$pkg/usr/share/man/man1" "$share/hooks" \
    "$pkg/usr/share/bash-completion/completions" "$pkg/usr/share/zsh/vendor-completions" \
    "$pkg/usr/share/fish/vendor_completions.d"
install -m 0755 "$binary" "$pkg/usr/bin/memory-monitor"
# install.sh's unit, but for /usr/bin: a package must not use /usr/local
unit=$pkg/lib/systemd/system/memory-monitor.service
sed 's|^ExecStart=/usr/local/bin/memory-monitor |ExecStart=/usr/bin/memory-monitor |' \
    "$root/dist/memory-monitor.service" >"$unit"
grep -q '^ExecStart=/usr/bin/memory-monitor ' "$unit" \
    || die "dist/memory-monitor.service has no 'ExecStart=/usr/local/bin/memory-monitor ' to rewrite"
install -m 0644 "$root/dist/memory-monitor.default" "$pkg/etc/default/memory-monitor"
install -m 0644 "$root/dist/memory-monitor.logrotate" "$pkg/etc/logrotate.d/memory-monitor"
# the hooks, the drop-in that opens the network to them and the one that opens node_exporter's
# textfile directory; not conffiles: settings go in /etc/memory-monitor/hooks.conf and
# /etc/default/memory-monitor, and a drop-in is installed as a copy in /etc/systemd/system
install -m 0755 "$root"/dist/hooks/* "$share/hooks/"
install -m 0644 "$root/dist/hook-network.conf" "$root/dist/metrics-node-exporter.conf" "$share/"
install -m 0644 "$root/dist/deb/README.Debian" "$doc/"
# the man page and completions, generated from the program's options (tests/integration/generated.rs),
# where Debian's man, bash-completion, zsh and fish look
gzip -9n <"$root/dist/memory-monitor.1" >"$pkg/usr/share/man/man1/memory-monitor.1.gz"
install -m 0644 "$root/dist/completions/memory-monitor.bash" \
    "$pkg/usr/share/bash-completion/completions/memory-monitor"
install -m 0644 "$root/dist/completions/_memory-monitor" "$pkg/usr/share/zsh/vendor-completions/"
install -m 0644 "$root/dist/completions/memory-monitor.fish" "$pkg/usr/share/fish/vendor_completions.d/"
gzip -9n <"$work/THIRD-PARTY-LICENSES" >"$doc/THIRD-PARTY-LICENSES.gz"

# machine-readable (DEP-5), made from LICENSE so that the two cannot differ
{
    printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
    printf 'Upstream-Name: memory-monitor\n'
    printf 'Comment: The program is built with Rust crates, used under the MIT licence; their\n'
    printf ' notices and licence texts are in /usr/share/doc/memory-monitor/THIRD-PARTY-LICENSES.gz.\n'
    printf '\nFiles: *\nCopyright: %s\nLicense: MIT\n\nLicense: MIT\n' \
        "$(sed -n 's/^Copyright (c) //p' "$root/LICENSE")"
    sed -n '/^Permission/,$p' "$root/LICENSE" | sed 's/^$/./; s/^/ /'
} >"$doc/copyright"

maintainer=$(sed -n 's/^Maintainer: //p' "$root/dist/deb/control")
printf 'memory-monitor (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
    "$deb_version" "$version" "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" \
    | gzip -9n >"$doc/changelog.Debian.gz"

# Depends: what the maintainer scripts and the daemon run, and for a dynamic binary its
# libraries, at the highest symbol version it uses (what dpkg-shlibdeps would find, without
# needing the target's libraries installed)
depends='procps, passwd'
libs=
# (not `readelf | grep -q`: with pipefail, grep leaving early can fail the pipeline)
if [[ $(readelf -lW "$binary") == *'Requesting program interpreter'* ]]; then
    for lib in $(readelf -dW "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
        case $lib in
            libc.so.6) libs="$libs libc6:GLIBC" ;;
            libgcc_s.so.1) libs="$libs libgcc-s1:GCC" ;;
            *) die "$binary needs $lib: teach package.sh which Debian package has it" ;;
        esac
    done
    for entry in $libs; do
        package=${entry%:*} prefix=${entry#*:}
        min=$(readelf -VW "$binary" | grep -o "Name: ${prefix}_[0-9.]*" | sed "s/.*_//" | sort -V | tail -n 1)
        [ -n "$min" ] || die "$binary: no ${prefix}_ symbol versions found"
        depends="$package (>= $min), $depends"
    done
fi
# each override says why; the static binary's only for the static binary, or lintian
# calls it unused
mkdir -p "$pkg/usr/share/lintian/overrides"
overrides=("$root/dist/deb/lintian-overrides")
[ -n "$libs" ] || overrides+=("$root/dist/deb/lintian-overrides.static")
cat "${overrides[@]}" >"$pkg/usr/share/lintian/overrides/memory-monitor"

installed_size=$(find "$pkg" -path "$pkg/DEBIAN" -prune -o -type f -printf '%s\n' \
    | awk '{ kib += int(($1 + 1023) / 1024) } END { print kib }')
sed -e "s/@VERSION@/$deb_version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    -e "s/@INSTALLED_SIZE@/$installed_size/" "$root/dist/deb/control" >"$pkg/DEBIAN/control"
install -m 0644 "$root/dist/deb/conffiles" "$pkg/DEBIAN/"
install -m 0755 "$root/dist/deb/postinst" "$root/dist/deb/prerm" "$root/dist/deb/postrm" "$pkg/DEBIAN/"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z \
    | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"

deb=$outdir/memory-monitor_${deb_version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"

if [ "$lintian" = yes ]; then
    # lintian advises against root, and needs no privilege to read a readable file
    as_user=()
    if [ "$(id -u)" -eq 0 ] && runuser -u nobody -- test -r "$deb" 2>/dev/null; then
        as_user=(runuser -u nobody --)
    fi
    # lintian prints tags on stdout, which is for the paths written
    printf 'lintian %s:\n' "$deb" >&2
    "${as_user[@]}" lintian --fail-on error,warning --display-info --tag-display-limit 0 "$deb" >&2 \
        || die "lintian found errors or warnings in $deb (above)"
fi

printf '%s\n' "$tarball" "$deb"
