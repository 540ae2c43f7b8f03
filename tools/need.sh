# shellcheck shell=bash
# Sourced by kdlab's scripts. need_commands, called when a script starts, checks that every
# required command tools/commands.tsv lists for the calling script is installed, and stops it
# with one line naming the packages otherwise: a clear error before any work, instead of a
# "command not found" halfway (or a test that skips for it). Bash builtins only.
need_commands() {
    local root src self cmd pkg kind users pat pats missing=() pkgs=()
    root=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)
    src=${BASH_SOURCE[1]}
    [[ $src == */* ]] || src=./$src
    self=$(cd "${src%/*}" && pwd)/${src##*/}
    self=${self#"$root"/}
    while IFS=$'\t' read -r cmd pkg kind users; do
        [[ -z $cmd || $cmd == '#'* || $kind != required ]] && continue
        read -ra pats <<<"$users"
        for pat in "${pats[@]}"; do
            # shellcheck disable=SC2053  # the users column holds patterns (tests/*.sh)
            [[ $self == $pat ]] || continue
            if ! command -v "$cmd" >/dev/null 2>&1; then
                missing+=("$cmd")
                [[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
            fi
            break
        done
    done <"$root/tools/commands.tsv"
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "$self: error: command not found: ${missing[*]} (fix: make deps, or apt-get install" \
         "${pkgs[*]})" >&2
    exit 1
}
