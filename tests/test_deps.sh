#!/usr/bin/env bash
# Every external command the scripts run (tools/*.sh, tests/*.sh, .ci/run, the Makefile and the
# files it includes, read by tests/scan_commands.awk) is in tools/commands.tsv for that file,
# and every package of the list is in tools/deps.sh's install set, so `make deps` installs what
# the scripts call (a test that skipped for a missing `free` once passed unnoticed). The checker
# first proves it fails: a copy of the tree where slurm-up.sh calls free again, tools/perf.mk
# calls convert, or the list lost flock; and need_commands stops a script with one line.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
scan=$root/tests/scan_commands.awk
work=$(mktemp -d /tmp/kdlab-test-deps.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test_deps: FAIL: $*"; }

scripts_of() {   # DIR: the files scanned, relative to DIR
    (cd "$1" && for f in tools/*.sh tests/*.sh .ci/run Makefile \
        $(sed -n 's/^include \([^$ ]*\).*/\1/p' Makefile); do
        [ -f "$f" ] && echo "$f"
    done)
}

# unlisted DIR: "file: command" for each command a file of DIR runs that DIR's
# tools/commands.tsv does not give that file (its fourth column: patterns of files).
unlisted() {
    local dir=$1 f kind word pat pats mode
    local -A users=() funcs=()
    while IFS=$'\t' read -r word _ _ pat; do
        [[ -z $word || $word == '#'* ]] || users[$word]=$pat
    done <"$dir/tools/commands.tsv"
    mapfile -t files < <(scripts_of "$dir")
    for word in $(cd "$dir" && sed -nE 's/^[ \t]*(function[ \t]+)?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\(\).*/\2/p' \
                  "${files[@]}"); do
        funcs[$word]=1
    done
    for f in "${files[@]}"; do
        mode=()
        [[ $f == Makefile || $f == *.mk ]] && mode=(-v make=1)
        while read -r kind word; do
            case $(type -t "$word") in builtin | keyword) continue ;; esac
            [ -n "${funcs[$word]:-}" ] && continue
            [ "$kind" = A ] && ! PATH=$PATH:/usr/sbin:/sbin type -P "$word" >/dev/null && continue
            read -ra pats <<<"${users[$word]:-}"
            for pat in "${pats[@]}"; do
                # shellcheck disable=SC2053  # patterns
                [[ $f == $pat ]] && continue 2
            done
            echo "$f: $word"
        done < <(awk "${mode[@]}" -f "$scan" "$dir/$f")
    done | sort -u
}

# 1. the tree as it is: nothing unlisted
base=$(unlisted "$root")
if [ -z "$base" ]; then ok; else
    bad "commands not in tools/commands.tsv for the file that runs them" \
        "(add a line: command, package, required|optional, file):"
    echo "$base" | sed 's/^/    /'
fi
planted() { grep -vxF -f <(printf '%s' "$base") <<<"$1"; }   # what the copy adds to $base
n=$(awk '{print $2}' < <(for f in $(scripts_of "$root"); do
    m=(); [[ $f == Makefile || $f == *.mk ]] && m=(-v make=1)
    awk "${m[@]}" -f "$scan" "$f"; done) | sort -u | wc -l)
echo "test_deps: $(scripts_of "$root" | wc -l) files, $n distinct words in command position"

# 2. the list's lines are whole, each command once; each package in deps.sh's install set
bad_lines=$(awk -F'\t' '!/^#/ && NF {if (NF != 4 || ($3 != "required" && $3 != "optional") ||
    $1 !~ /^[a-z0-9][a-z0-9._+-]*$/ || $2 !~ /^[a-z0-9][a-z0-9.+-]+$/ || seen[$1]++)
    print FILENAME ":" NR ": " $0}' tools/commands.tsv)
[ -z "$bad_lines" ] && ok || bad "malformed or repeated lines: $bad_lines"
if install_set=$(bash tools/deps.sh --list 2>&1); then
    lost=$(awk -F'\t' 'NR == FNR {if ($1 == "required") req[$2] = 1; else opt[$2] = 1; next}
        !/^#/ && NF && !(req[$2] || ($3 == "optional" && opt[$2])) {print $2 " (" $3 ")"}' \
        <(echo "$install_set") tools/commands.tsv | sort -u)
    [ -z "$lost" ] && ok || bad "packages of tools/commands.tsv that tools/deps.sh does not install: $lost"
else
    bad "tools/deps.sh --list failed: $install_set"
fi

# 3. the checker fails where it should, on a copy of the tree
copy=$work/tree
mkdir -p "$copy"
cp -r tools tests .ci Makefile "$copy/"
printf 'mem=$(free -m | awk %s)\n' "'/^Mem:/ {print \$2}'" >>"$copy/tools/slurm-up.sh"
printf 'thumbs:\n\t$(Q)convert plots/a.png -resize 50%% plots/a-small.png\n' >>"$copy/tools/perf.mk"
out=$(planted "$(unlisted "$copy")")
want=$'tools/perf.mk: convert\ntools/slurm-up.sh: free'
[ "$out" = "$want" ] && ok || bad "the planted free and convert: caught '$out', want '$want'"
grep -v '^flock	' tools/commands.tsv >"$copy/tools/commands.tsv"
out=$(planted "$(unlisted "$copy")")
[[ $out == *"tests/test_slurm.sh: flock"* ]] && ok || bad "an entry removed from the list is not caught: $out"

# 4. need_commands: a script whose required command is missing stops with one line
printf 'kd-no-such-cmd\tkd-fake-pkg\trequired\ttests/needy.sh\n' >>"$copy/tools/commands.tsv"
printf '. "$(dirname "$0")/../tools/need.sh" && need_commands\necho ran\n' >"$copy/tests/needy.sh"
out=$(bash "$copy/tests/needy.sh" 2>&1)
rc=$?
want="tests/needy.sh: error: command not found: kd-no-such-cmd (fix: make deps, or apt-get install kd-fake-pkg)"
[ "$rc" -eq 1 ] && [ "$out" = "$want" ] && ok || bad "need_commands: exit $rc, said: $out"

echo "test_deps: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
