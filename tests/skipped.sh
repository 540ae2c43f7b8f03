#!/usr/bin/env bash
# The end of `make test`: what the test scripts skipped and why (tests/skip.sh wrote FILE,
# default $KD_SKIPPED or build/skipped.txt), or "no test skipped". Under CI=true a skip of a
# component that `make deps` installs (Slurm, PyTorch) fails, with one line: CI must test what
# README promises, not pass without it.
set -uo pipefail
file=${1:-${KD_SKIPPED:-build/skipped.txt}}
if [ ! -s "$file" ]; then
    echo "no test skipped"
    exit 0
fi
mapfile -t lines <"$file"
echo "skipped (${#lines[@]}):"
missing=()
for line in "${lines[@]}"; do
    IFS=$'\t' read -r suite component reason <<<"$line"
    echo "  $suite: $reason"
    [ "$component" = - ] || missing+=("$suite without $component: $reason")
done
if [ "${CI:-}" = true ] && [ ${#missing[@]} -gt 0 ]; then
    what=$(printf '%s; ' "${missing[@]}")
    echo "make test: error: CI=true and not tested: ${what%; } (fix: make deps, as root)" >&2
    exit 1
fi
exit 0
