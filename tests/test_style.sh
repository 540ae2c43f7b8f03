#!/usr/bin/env bash
# Function size (STYLE.md, 9): no function in core/ (the kernels of core/ops aside),
# experiments/ or tools/*.c is longer than 60 lines, counted from the first line of its
# signature to its closing brace. The code is formatted by .clang-format in the Linux brace
# style, so a function's body opens with "{" in column 0 and closes with "}" in column 0, and
# its signature is the lines right above that "{". The checker first proves it fails: a copy of
# a file with a planted function of 61 lines is named with the function and its length, while
# one of 60 lines passes.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
work=$(mktemp -d /tmp/kdlab-test-style.XXXXXX)
trap 'rm -rf "$work"' EXIT
max=60
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test_style: FAIL: $*"; }

# long FILE...: "FILE:LINE: function NAME is N lines (at most 60)" for each longer function.
long() {
    awk -v max="$max" '
        FNR == 1 { infn = 0 }
        { line[FNR] = $0 }
        /^\{/ && !infn {
            s = FNR - 1
            while (s > 0 && line[s] !~ /^[ \t]*$/ && line[s] !~ /^[ \t]*(\/\*|\*|\/\/|#)/ &&
                   line[s] !~ /[;}]$/ && line[s] !~ /\*\/$/)
                s--
            start = s + 1
            infn = 1
            name = ""
            for (i = start; i < FNR; i++)
                name = name line[i] " "
            sub(/\(.*/, "", name)
            sub(/.*[ *]/, "", name)
            next
        }
        /^\}/ && infn {
            infn = 0
            n = FNR - start + 1
            if (n > max)
                printf "%s:%d: function %s is %d lines (at most %d)\n", FILENAME, start, name, n,
                       max
        }' "$@"
}

# 1. the tree: every function within the limit
mapfile -t files < <(find core experiments -name '*.[ch]' -not -path 'core/ops/*' | sort
    ls tools/*.c)
found=$(long "${files[@]}")
if [ -z "$found" ]; then ok; else
    bad "functions over $max lines (split them into named steps):"
    echo "$found" | sed 's/^/    /'
fi
echo "test_style: ${#files[@]} files, at most $max lines a function"

# 2. the checker fails where it should: a planted function of 61 lines (its signature on two
# lines, under a comment) is named, one of 60 lines is not
plant() { # FILE NAME LINES: append a function NAME of LINES lines, signature to closing brace
    local i
    {
        printf '\n/* planted */\nstatic int %s(int a,\n              int b)\n{\n' "$2"
        for ((i = 0; i < $3 - 5; i++)); do printf '    a += b;\n'; done
        printf '    return a;\n}\n'
    } >>"$1"
}
mkdir -p "$work/core/train"
copy=$work/core/train/probe.c
cp core/train/probe.c "$copy"
plant "$copy" planted_long $((max + 1))
plant "$copy" planted_fits "$max"
at=$(($(wc -l <core/train/probe.c) + 3))
out=$(long "$copy" | grep 'function planted_')
want="$copy:$at: function planted_long is $((max + 1)) lines (at most $max)"
[ "$out" = "$want" ] && ok || bad "the planted function: caught '$out', want '$want'"

echo "test_style: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
