#!/bin/bash
# Remove the memory-monitor service installed by install.sh. See --help.
set -eu

NAME=memory-monitor
BIN_DEST=/usr/local/bin/$NAME
UNIT_DEST=/etc/systemd/system/$NAME.service
DROPIN_DIR=/etc/systemd/system/$NAME.service.d
WANTS_LINK=/etc/systemd/system/multi-user.target.wants/$NAME.service
DEFAULT_DEST=/etc/default/$NAME
LOGROTATE_DEST=/etc/logrotate.d/$NAME
SHARE_DEST=/usr/local/share/$NAME
BASH_COMPLETION_DEST=/usr/local/share/bash-completion/completions/$NAME
ZSH_COMPLETION_DEST=/usr/local/share/zsh/site-functions/_$NAME
FISH_COMPLETION_DEST=/usr/local/share/fish/vendor_completions.d/$NAME.fish
MAN_DEST=/usr/local/share/man/man1/$NAME.1
HOOKS_CONF_DIR=/etc/$NAME
LOG_DIR=/var/log/$NAME
SVC_USER=$NAME

usage() {
    cat <<EOF
Usage: sudo ./uninstall.sh [--purge]

Stops and disables memory-monitor.service and removes
  $BIN_DEST, $UNIT_DEST, $LOGROTATE_DEST,
  $SHARE_DEST (the hooks and the drop-ins to copy),
  $MAN_DEST and the bash, zsh and fish completions.
Keeps the reports in $LOG_DIR, the settings in $DEFAULT_DEST
and $HOOKS_CONF_DIR (the hooks'), any 'systemctl edit' drop-ins and the
system user '$SVC_USER', so that a later install.sh carries on where this
one stopped.

Options:
  --purge     also remove the logs, the settings, the drop-ins and the user
  -h, --help  show this help

Running it again when nothing is left to remove does no harm.
EOF
}

say() { printf '%s\n' "$*"; }
die() { printf 'uninstall.sh: error: %s\n' "$*" >&2; exit 1; }

purge=no
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --purge) purge=yes; shift ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    if [ "$purge" = yes ]; then die "must be run as root, e.g.: sudo $0 --purge"; fi
    die "must be run as root, e.g.: sudo $0"
fi

# the Debian package owns the same service, settings and user: one or the other
if dpkg-query -W -f='${Status}' "$NAME" 2>/dev/null | grep -q ' installed$'; then
    die "the Debian package $NAME is installed; use apt to remove it (README.Debian in /usr/share/doc/$NAME)"
fi

removed=()
kept=()
remove() {  # remove PATH... (files or directories), noting what was there
    local p
    for p in "$@"; do
        if [ -e "$p" ] || [ -L "$p" ]; then
            rm -rf -- "$p"
            removed+=("$p")
        fi
    done
}
keep() {
    local p
    for p in "$@"; do
        if [ -e "$p" ]; then kept+=("$p"); fi
    done
}

systemd_up=no
[ -d /run/systemd/system ] && systemd_up=yes

if [ "$systemd_up" = yes ]; then
    load=$(systemctl show -p LoadState --value "$NAME.service" 2>/dev/null || true)
    if [ "$load" = loaded ]; then
        state=$(systemctl is-active "$NAME.service" 2>/dev/null || true)
        systemctl stop "$NAME.service"  # also ends an auto-restart loop
        if [ "$state" != inactive ] && [ "$state" != failed ]; then
            say "stopped $NAME.service (was $state)"
        fi
        if systemctl is-enabled --quiet "$NAME.service" 2>/dev/null; then
            systemctl disable --quiet "$NAME.service"
            say "disabled $NAME.service"
        fi
    fi
fi

remove "$WANTS_LINK" "$UNIT_DEST" "$BIN_DEST" "$BIN_DEST.new" "$LOGROTATE_DEST" "$SHARE_DEST" \
    "$MAN_DEST" "$BASH_COMPLETION_DEST" "$ZSH_COMPLETION_DEST" "$FISH_COMPLETION_DEST"
# the directories install.sh may have made for them, if nothing else is in them; never
# /usr/local/share/man, which Debian makes
for dir in "$(dirname "$MAN_DEST")" "$(dirname "$BASH_COMPLETION_DEST")" /usr/local/share/bash-completion \
    "$(dirname "$ZSH_COMPLETION_DEST")" /usr/local/share/zsh \
    "$(dirname "$FISH_COMPLETION_DEST")" /usr/local/share/fish; do
    rmdir -- "$dir" 2>/dev/null || true
done

if [ "$purge" = yes ]; then
    remove "$DROPIN_DIR" "$DEFAULT_DEST" "$HOOKS_CONF_DIR" "$LOG_DIR"
fi

if [ "$systemd_up" = yes ]; then
    systemctl daemon-reload
    systemctl reset-failed "$NAME.service" >/dev/null 2>&1 || true
fi

if [ "$purge" = no ]; then
    keep "$LOG_DIR" "$DEFAULT_DEST" "$HOOKS_CONF_DIR" "$DROPIN_DIR"
fi

if getent passwd "$SVC_USER" >/dev/null; then
    if [ "$purge" = yes ]; then
        if pgrep -u "$SVC_USER" >/dev/null 2>&1; then
            die "processes of user $SVC_USER are still running; not removing the user: $(pgrep -u "$SVC_USER" | tr '\n' ' ')"
        fi
        userdel "$SVC_USER"
        removed+=("system user $SVC_USER")
    else
        kept+=("system user $SVC_USER")
    fi
fi
if [ "$purge" = yes ] && getent group "$SVC_USER" >/dev/null; then
    groupdel "$SVC_USER"
    removed+=("group $SVC_USER")
fi

if [ ${#removed[@]} -eq 0 ]; then
    say "Nothing to remove: the memory-monitor service is not installed."
else
    say "Removed:"
    printf '  %s\n' "${removed[@]}"
fi
if [ ${#kept[@]} -gt 0 ]; then
    say "Kept (remove with: sudo $0 --purge):"
    printf '  %s\n' "${kept[@]}"
fi
