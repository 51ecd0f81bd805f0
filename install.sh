#!/bin/bash
# Install memory-monitor as a systemd service. See --help.
set -eu

NAME=memory-monitor
BIN_DEST=/usr/local/bin/$NAME
UNIT_DEST=/etc/systemd/system/$NAME.service
DEFAULT_DEST=/etc/default/$NAME
LOGROTATE_DEST=/etc/logrotate.d/$NAME
SHARE_DEST=/usr/local/share/$NAME
# where bash-completion, zsh, fish and man look under /usr/local
BASH_COMPLETION_DEST=/usr/local/share/bash-completion/completions/$NAME
ZSH_COMPLETION_DEST=/usr/local/share/zsh/site-functions/_$NAME
FISH_COMPLETION_DEST=/usr/local/share/fish/vendor_completions.d/$NAME.fish
MAN_DEST=/usr/local/share/man/man1/$NAME.1
LOG_DIR=/var/log/$NAME
SVC_USER=$NAME

usage() {
    cat <<EOF
Usage: sudo ./install.sh [--binary PATH]

Installs memory-monitor as a systemd service:
  $BIN_DEST              the program
  $UNIT_DEST   the service (runs as system user '$SVC_USER')
  $DEFAULT_DEST              its settings (written only if missing)
  $LOGROTATE_DEST           weekly or at 1 MiB, 8 kept, compressed
  $SHARE_DEST   hooks/ (ntfy, mail, webhook, wall), hook-network.conf,
                                    metrics-node-exporter.conf
  $MAN_DEST and completions for bash, zsh and fish
and starts it. Running it again (e.g. with a newer binary) replaces the
program, the unit and the logrotate file and restarts the service; an
existing $DEFAULT_DEST is never overwritten.

Where the program comes from, first match wins:
  --binary PATH      a prebuilt memory-monitor binary
  ./memory-monitor   a binary next to this script (release tarball)
  cargo              'cargo build --release' in this source checkout, run as
                     the checkout's owner (needs a current Rust from rustup)

Options:
  --binary PATH   install this binary instead of building one
  -h, --help      show this help

Remove it again with: sudo ./uninstall.sh [--purge]
EOF
}

say() { printf '%s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

binary=
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --binary)
            [ $# -ge 2 ] || die "--binary needs a path (see --help)"
            binary=$2; shift 2 ;;
        --binary=*) binary=${1#--binary=}; shift ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    die "must be run as root, e.g.: sudo $0${binary:+ --binary $binary}"
fi

# the Debian package owns the same service, settings and user: one or the other
if dpkg-query -W -f='${Status}' "$NAME" 2>/dev/null | grep -q ' installed$'; then
    die "the Debian package $NAME is installed; use apt to upgrade or remove it (README.Debian in /usr/share/doc/$NAME)"
fi

script_dir=$(cd "$(dirname "$0")" && pwd)
dist=$script_dir/dist
for f in memory-monitor.service memory-monitor.default memory-monitor.logrotate hook-network.conf \
    metrics-node-exporter.conf memory-monitor.1 completions/memory-monitor.bash \
    completions/_memory-monitor completions/memory-monitor.fish; do
    [ -f "$dist/$f" ] || die "missing $dist/$f: run install.sh from a full source checkout or release tarball"
done
hooks=("$dist"/hooks/*)
[ -f "${hooks[0]}" ] || die "missing $dist/hooks/: run install.sh from a full source checkout or release tarball"

no_binary_help() {
    cat >&2 <<EOF
install.sh: error: $1
There is no memory-monitor binary to install. Either:
  - build it: install a current Rust toolchain with rustup (https://rustup.rs),
    then run 'sudo ./install.sh' again in the source checkout. Debian's own
    rustc/cargo packages are older than the Rust this needs (Cargo.toml: rust-version);
  - or download a release tarball for this machine ($(uname -m)), unpack it
    and run 'sudo ./install.sh' inside it (it ships the binary next to the script);
  - or pass a binary built elsewhere: sudo ./install.sh --binary PATH
EOF
    exit 1
}

# find the cargo of the user who owns the checkout (sudo resets PATH)
find_cargo() {
    home=$1
    if [ "$owner" = root ] && command -v cargo >/dev/null 2>&1; then
        command -v cargo; return 0
    fi
    if [ -x "$home/.cargo/bin/cargo" ]; then
        printf '%s\n' "$home/.cargo/bin/cargo"; return 0
    fi
    command -v cargo 2>/dev/null || return 1
}

as_owner() {  # run a command as the checkout's owner, with their cargo first in PATH
    runuser -u "$owner" -- env HOME="$home" PATH="$(dirname "$cargo"):$PATH" "$@"
}

build_with_cargo() {
    owner=$(stat -c %U "$script_dir")
    home=$(getent passwd "$owner" | cut -d: -f6)
    [ -n "$home" ] || home=/root
    cargo=$(find_cargo "$home") || no_binary_help "cargo was not found (looked in PATH and $home/.cargo/bin)."
    version=$(as_owner "$cargo" --version 2>/dev/null) \
        || no_binary_help "$cargo does not work for user $owner (a rustup without a default toolchain?)."
    minor=$(printf '%s\n' "$version" | sed -n 's/^cargo 1\.\([0-9][0-9]*\).*/\1/p')
    # Cargo.toml's rust-version: the oldest Rust that builds this checkout
    needed=$(sed -n 's/^rust-version *= *"1\.\([0-9][0-9]*\).*/\1/p' "$script_dir/Cargo.toml")
    if [ -n "$minor" ] && [ -n "$needed" ] && [ "$minor" -lt "$needed" ]; then
        no_binary_help "$cargo is too old ($version); this needs Rust 1.$needed or newer."
    fi
    say "Building the release binary with $version as user $owner (this can take a few minutes on a Pi)..."
    target_dir=${CARGO_TARGET_DIR:-$script_dir/target}
    lock=
    [ -f "$script_dir/Cargo.lock" ] && lock=--locked
    # shellcheck disable=SC2086 # $lock is empty or one word
    if ! (cd "$script_dir" && as_owner env CARGO_TARGET_DIR="$target_dir" "$cargo" build --release $lock); then
        die "cargo build failed. If it complains about the Rust version, Debian's rustc is too old: use rustup (https://rustup.rs) or a release tarball."
    fi
    binary=$target_dir/release/$NAME
}

if [ -n "$binary" ]; then
    source_desc="--binary $binary"
elif [ -f "$script_dir/$NAME" ] && [ -x "$script_dir/$NAME" ]; then
    binary=$script_dir/$NAME
    source_desc="the binary next to install.sh"
elif [ -f "$script_dir/Cargo.toml" ]; then
    build_with_cargo
    source_desc="cargo build --release"
else
    no_binary_help "no --binary given, no $script_dir/$NAME, and no Cargo.toml to build from."
fi

case $binary in /*) ;; *) binary=$(pwd)/$binary ;; esac
[ -f "$binary" ] || die "$binary does not exist or is not a file"
[ -x "$binary" ] || die "$binary is not executable"
if ! bin_version=$("$binary" --version 2>&1); then
    die "$binary does not run on this machine ($(uname -m)): $bin_version"
fi

for tool in ps top; do
    command -v "$tool" >/dev/null 2>&1 \
        || say "warning: '$tool' not found; memory-monitor needs it: apt-get install procps"
done
command -v logrotate >/dev/null 2>&1 \
    || say "warning: logrotate is not installed, so $LOG_DIR will grow: apt-get install logrotate"

# --- system user: no login shell, no home
if getent passwd "$SVC_USER" >/dev/null; then
    say "system user $SVC_USER: exists"
else
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "memory-monitor daemon" "$SVC_USER"
    say "system user $SVC_USER: created"
fi

# --- binary: copy next to the target, then rename, so a running old binary
# is replaced atomically (no "Text file busy")
if [ "$binary" -ef "$BIN_DEST" ]; then
    say "$BIN_DEST: already the given binary"
else
    install -m 0755 -o root -g root "$binary" "$BIN_DEST.new"
    mv -f "$BIN_DEST.new" "$BIN_DEST"
    say "$BIN_DEST: installed from $source_desc ($bin_version)"
fi

install -m 0644 -o root -g root "$dist/memory-monitor.service" "$UNIT_DEST"
say "$UNIT_DEST: written"

if [ -e "$DEFAULT_DEST" ]; then
    say "$DEFAULT_DEST: kept (existing settings are never overwritten)"
else
    install -m 0644 -o root -g root "$dist/memory-monitor.default" "$DEFAULT_DEST"
    say "$DEFAULT_DEST: written (all options at their defaults, commented out)"
fi

mkdir -p "$(dirname "$LOGROTATE_DEST")"
install -m 0644 -o root -g root "$dist/memory-monitor.logrotate" "$LOGROTATE_DEST"
say "$LOGROTATE_DEST: written"

# the hooks a user may name in MEMORY_MONITOR_ON_EVENT, and the drop-in the network ones need;
# each hook's header says how to use it
install -d -m 0755 -o root -g root "$SHARE_DEST/hooks"
install -m 0755 -o root -g root "${hooks[@]}" "$SHARE_DEST/hooks/"
install -m 0644 -o root -g root "$dist/hook-network.conf" "$SHARE_DEST/hook-network.conf"
# and the drop-in that lets the service write its metrics file where node_exporter reads it
install -m 0644 -o root -g root "$dist/metrics-node-exporter.conf" "$SHARE_DEST/metrics-node-exporter.conf"
say "$SHARE_DEST: hooks/ (${hooks[*]##*/}), hook-network.conf and metrics-node-exporter.conf written"

# the man page and the shell completions (generated from the program's options: see
# tests/integration/generated.rs), each where its reader looks without any setting
for pair in "memory-monitor.1:$MAN_DEST" "completions/memory-monitor.bash:$BASH_COMPLETION_DEST" \
    "completions/_memory-monitor:$ZSH_COMPLETION_DEST" "completions/memory-monitor.fish:$FISH_COMPLETION_DEST"; do
    install -d -m 0755 -o root -g root "$(dirname "${pair#*:}")"
    install -m 0644 -o root -g root "$dist/${pair%%:*}" "${pair#*:}"
done
say "$MAN_DEST and the completions for bash, zsh and fish written"

# --- service
if [ ! -d /run/systemd/system ]; then
    say "warning: systemd is not running here, so the service was not started."
    say "On the next boot with systemd run: systemctl enable --now $NAME"
    exit 0
fi
was=$(systemctl is-active "$NAME.service" 2>/dev/null || true)
systemctl daemon-reload
if [ "$was" = inactive ] || [ "$was" = unknown ]; then
    systemctl enable --now --quiet "$NAME.service"
else
    # a reinstall: the binary or the unit may have changed
    systemctl enable --quiet "$NAME.service"
    systemctl restart "$NAME.service"
fi

# Type=exec returns once the program runs; give it a moment to fail its start checks
state=
i=0
while [ $i -lt 10 ]; do
    sleep 0.3
    state=$(systemctl is-active "$NAME.service" || true)
    [ "$state" = active ] || break
    i=$((i + 1))
done
if [ "$state" != active ] || [ "$(systemctl show -p NRestarts --value "$NAME.service")" != 0 ]; then
    systemctl --no-pager status "$NAME.service" >&2 || true
    die "the service did not stay up (state: $state); see: journalctl -u $NAME"
fi

cat <<EOF

memory-monitor is installed, enabled and running ($bin_version).
  Reports:   $LOG_DIR/incidents.log and $LOG_DIR/details.log
             (only root and group $SVC_USER can read them)
  Settings:  $DEFAULT_DEST, then: sudo systemctl restart $NAME
  Hooks:     $SHARE_DEST/hooks (each says how to use it)
  Check:     systemctl status $NAME
             journalctl -u $NAME
             sudo memory-monitor snapshot     (one report, now, to the terminal)
             sudo memory-monitor show 1       (incident 1, from the logs)
             man memory-monitor
  Remove:    sudo ./uninstall.sh   (keeps logs, settings, user; --purge removes them)
EOF
