#!/usr/bin/env bash
# A skipped check is never silent: skip_record (tests/skip.sh) writes one line per skip, and
# tests/skipped.sh, which `make unit-tests`, `make test` and `make skipped` end with, lists them
# ("no test skipped" when none). Under CI=true a skip of what `make deps` installs (Slurm,
# PyTorch) fails with one line; a check that did not apply (component -) does not.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
cd "$(dirname "$0")/.." || exit 1
work=$(mktemp -d /tmp/kdlab-test-skips.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() {   # description condition (evaluated)
    if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "test_skips: FAIL: $1"; fi
}

# skip_record from a script: its name, the component and the reason, one line each
f=$work/skipped.txt
printf '%s\n' '. tests/skip.sh' 'skip_record slurm "slurm cannot start here: not root"' \
    'skip_record - "a check that did not apply"' >"$work/test_fake.sh"
out=$(KD_SKIPPED=$f bash "$work/test_fake.sh")
want=$'SKIP: test_fake: slurm cannot start here: not root\nSKIP: test_fake: a check that did not apply'
check "skip_record says what it skips ($out)" '[ "$out" = "$want" ]'
want=$'test_fake\tslurm\tslurm cannot start here: not root\ntest_fake\t-\ta check that did not apply'
check "skip_record writes suite, component, reason ($(cat "$f"))" '[ "$(cat "$f")" = "$want" ]'

out=$(CI= bash tests/skipped.sh "$work/none.txt")
check "nothing recorded: 'no test skipped' ($out)" '[ "$out" = "no test skipped" ]'
out=$(CI= bash tests/skipped.sh "$f")
rc=$?
check "outside CI the skips are listed, exit 0 (exit $rc: $out)" \
    '[ "$rc" = 0 ] && [[ $out == *"skipped (2):"*"test_fake: slurm cannot start here: not root"* ]]'
out=$(CI=true bash tests/skipped.sh "$f" 2>"$work/err")
rc=$?
err=$(cat "$work/err")
check "CI=true and Slurm skipped: exit 1 (got $rc)" '[ "$rc" = 1 ]'
check "CI=true: one line naming the suite and component ($err)" \
    '[ "$(wc -l <"$work/err")" = 1 ] &&
     [[ $err == "make test: error: CI=true and not tested: test_fake without slurm: slurm"* ]]'
check "CI=true still lists every skip ($out)" '[[ $out == *"a check that did not apply"* ]]'
grep -v slurm "$f" >"$work/na.txt"
CI=true bash tests/skipped.sh "$work/na.txt" >/dev/null 2>&1
rc=$?
check "CI=true and only a check that did not apply: exit 0 (got $rc)" '[ "$rc" = 0 ]'

# a reason of several lines (munged's warnings, then slurm-up's error) stays one record, and
# the Slurm tests keep slurm-up's error line alone
g=$work/multi.txt
printf '%s\n' '. tests/skip.sh' 'skip_record slurm "$(printf "w: one\nw:\ttwo\nlast")"' \
    >"$work/test_multi.sh"
KD_SKIPPED=$g bash "$work/test_multi.sh" >/dev/null
check "a reason of three lines is one record ($(cat "$g"))" \
    '[ "$(cat "$g")" = "$(printf "test_multi\tslurm\tw: one; w: two; last")" ]'
. tests/skip.sh
err=$(printf '%s\n' 'munged: Warning: Failed to lookup origin "vm"' \
    'slurm-up: error: slurmd did not start: No filesystem mounted on /sys/fs/cgroup (see x)')
out=$(last_error_line "$err" "slurm-up: error: ")
check "last_error_line keeps slurm-up's error ($out)" \
    '[ "$out" = "slurmd did not start: No filesystem mounted on /sys/fs/cgroup (see x)" ]'
out=$(last_error_line "no prefix here" "slurm-up: error: ")
check "last_error_line without the prefix: all of it ($out)" '[ "$out" = "no prefix here" ]'

# the Makefile's hook: make skipped lists the file and fails under CI=true
out=$(make -s --no-print-directory skipped SKIPPED="$f" CI=true 2>&1)
rc=$?
check "make skipped CI=true fails (exit $rc: $out)" \
    '[ "$rc" -ne 0 ] && [[ $out == *"CI=true and not tested: test_fake without slurm"* ]]'

echo "test_skips: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
