#!/usr/bin/env bash
# Install the Debian packages kdlab needs (apt-get; sudo when not root): the libraries and data
# below, and the package of every command tools/commands.tsv lists. Required packages must
# install (else one error line, exit 1); optional ones (PyTorch for the reference bench and the
# interop test, Slurm for the dispatch tests, clang + libFuzzer for `make fuzz`) only warn, and
# the tests that need them record a skip. Idempotent: when every package is installed
# (dpkg-query), apt is not touched. Either way it ends by checking that every required command
# of the list is found. `tools/deps.sh --list` prints the packages ("required|optional<TAB>pkg").
set -euo pipefail
here=$(cd "${BASH_SOURCE[0]%/*}" && pwd)
# shellcheck source=tools/need.sh
. "$here/need.sh"
need_commands

libs_required=(build-essential pkg-config libopenblas-dev libyaml-dev libpng-dev zlib1g-dev
               libcjson-dev dataset-fashion-mnist)
libs_optional=(python3-torch libclang-rt-14-dev)

# The packages of tools/commands.tsv by need; one that some command requires is required.
required=("${libs_required[@]}")
optional=("${libs_optional[@]}")
while IFS=$'\t' read -r cmd pkg kind _; do
    [[ -z $cmd || $cmd == '#'* ]] && continue
    case $kind in
    required) [[ " ${required[*]} " == *" $pkg "* ]] || required+=("$pkg") ;;
    optional) [[ " ${optional[*]} " == *" $pkg "* ]] || optional+=("$pkg") ;;
    *) echo "deps: error: $here/commands.tsv: '$cmd' is neither required nor optional" >&2
       exit 1 ;;
    esac
done <"$here/commands.tsv"
for i in "${!optional[@]}"; do
    [[ " ${required[*]} " == *" ${optional[$i]} "* ]] && unset "optional[$i]"
done
optional=("${optional[@]}")

if [ "${1:-}" = --list ]; then
    printf 'required\t%s\n' "${required[@]}"
    printf 'optional\t%s\n' "${optional[@]}"
    exit 0
fi

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || printf '%s\n' "$p"
    done
}

# Every required command of the list, found now (PATH as root's: ldconfig, runuser are sbin).
check_commands() {
    local cmd pkg kind lost=()
    while IFS=$'\t' read -r cmd pkg kind _; do
        [[ -z $cmd || $cmd == '#'* || $kind != required ]] && continue
        PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 || lost+=("$cmd ($pkg)")
    done <"$here/commands.tsv"
    if [ ${#lost[@]} -gt 0 ]; then
        echo "deps: error: packages installed but commands not found: ${lost[*]}" \
             "(fix: the package column of tools/commands.tsv)" >&2
        exit 1
    fi
}

mapfile -t need < <(missing "${required[@]}")
mapfile -t want < <(missing "${optional[@]}")
if [ ${#need[@]} -eq 0 ] && [ ${#want[@]} -eq 0 ]; then
    check_commands
    echo "deps: all packages present"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: error: not root and no sudo; run as root: $0" >&2
        exit 1
    }
    sudo=(sudo)
fi
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq
     -o Dpkg::Use-Pty=0 -o APT::Install-Recommends=false)

all=("${need[@]}" "${want[@]}")
echo "deps: installing: ${all[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || echo "deps: warning: apt-get update failed; trying the cached package lists" >&2

if [ ${#need[@]} -gt 0 ]; then
    "${apt[@]}" install "${need[@]}" >/dev/null || {
        echo "deps: error: could not install required packages: ${need[*]}" >&2
        exit 1
    }
fi
# One optional package at a time, so that a missing one (e.g. no Slurm in this release)
# does not stop the others.
for p in "${want[@]}"; do
    "${apt[@]}" install "$p" >/dev/null 2>&1 \
        || echo "deps: warning: optional package $p not installed (its tests will skip)" >&2
done

mapfile -t still < <(missing "${need[@]}")
if [ ${#still[@]} -gt 0 ]; then
    echo "deps: error: still missing after install: ${still[*]}" >&2
    exit 1
fi
check_commands
echo "deps: done"
