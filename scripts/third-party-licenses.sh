#!/bin/bash
# Prints the licence notices of the crates compiled into the binary for TARGET, which their
# licences ask to ship with every copy of it. See --help.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'EOF'
Usage: scripts/third-party-licenses.sh TARGET

Prints, for every crate linked into memory-monitor built for TARGET (build-time-only
crates such as proc-macros excluded), its name, version, licence and the text of its
MIT licence, which each of them offers (alone or as one choice of "MIT OR Apache-2.0").
Fails, naming the crate, when one offers no MIT licence or its text cannot be found:
then a person has to decide what to ship. Needs the crates' sources (cargo fetch).
EOF
}

die() { printf 'third-party-licenses.sh: error: %s\n' "$*" >&2; exit 1; }

case ${1:-} in
    -h | --help) usage; exit 0 ;;
    '' | -*) usage >&2; exit 2 ;;
esac
target=$1
registry=${CARGO_HOME:-$HOME/.cargo}/registry/src

# "name vVERSION|LICENSE" for each crate in the binary, ours excluded
crates=$(cargo tree --locked --target "$target" -e normal,no-proc-macro --prefix none \
    --format '{p}|{l}' | sed 's/ (\*)$//' | grep -v '^memory-monitor ' | LC_ALL=C sort -u)
[ -n "$crates" ] || die "cargo tree listed no crates for $target"

cat <<'EOF'
memory-monitor is built from the crates below, each used under the MIT licence. Their
copyright notices and licence texts follow.
EOF
while IFS='|' read -r package license; do
    name=${package% v*} version=${package##* v}
    case " $license " in
        # "MIT/Apache-2.0" is the older spelling of "MIT OR Apache-2.0", which some crates keep.
        *" MIT "* | *"(MIT "* | *" MIT)"* | *" MIT/"* | *"/MIT "*) ;;
        *) die "$name $version is licensed '$license', which offers no MIT licence" ;;
    esac
    text=
    for dir in "$registry"/*/"$name-$version"; do
        for file in "$dir"/LICENSE-MIT* "$dir"/LICENSE.MIT* "$dir"/LICENSE "$dir"/LICENSE.* \
            "$dir"/COPYING*; do
            if [ -f "$file" ] && grep -q 'Permission is hereby granted' "$file"; then
                text=$file
                break 2
            fi
        done
    done
    printf '\n%s\n%s %s (%s)\n\n' "--------------------------------------------------------------------------------" \
        "$name" "$version" "$license"
    if [ -n "$text" ]; then
        cat "$text"
        continue
    fi
    # A crate that says MIT but ships no text (sigchld): the MIT licence, whose wording is
    # fixed (ours, in LICENSE), with the copyright of the authors its Cargo.toml names.
    manifest=
    for candidate in "$registry"/*/"$name-$version"/Cargo.toml; do
        [ -f "$candidate" ] && manifest=$candidate && break
    done
    [ -n "$manifest" ] || die "no sources for $name $version under $registry (cargo fetch --locked)"
    # the authors = [...] array, on one line or several; e-mail addresses left out
    authors=$(awk '/^authors *= *\[/ { on = 1 } on { print } on && /\]/ { exit }' "$manifest" \
        | grep -o '"[^"]*"' | tr -d '"' | sed 's/ *<[^>]*>//' | paste -sd, - | sed 's/,/, /g')
    [ -n "$authors" ] || die "$name $version ships no licence text and names no authors"
    printf '(%s ships no licence file: the MIT licence, with its authors.)\n\n' "$name"
    printf 'Copyright (c) %s\n\n' "$authors"
    sed -n '/^Permission is hereby granted/,$p' LICENSE
done <<<"$crates"
