#!/usr/bin/env bash
# Freshness by content (core/train/result_key.h, tools/plan.c): in a scratch copy of the tree
# (Makefile, configs/, bin/ linked) a four-point table of tiny runs, two of which start from a
# third's checkpoint (init:), is made; then
#   touching every file re-runs nothing; an edited value re-runs that point alone, or the point
#   and its readers; a bumped numerics version makes every result stale; a missing checkpoint
#   (a fresh clone holds CSVs) is made again only when a reader must run; and a run by hand
#   written over a table's result is run again by make; make status names a stopped run's
#   resume point, between epochs or inside one.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
# shellcheck source=tests/skip.sh
. "$(dirname "$0")/skip.sh"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "test_fresh: FAIL $*"; fail=$((fail + 1)); }
root=$PWD
bin=${KD_BIN:-bin}
# shellcheck source=tests/lib_scratch.sh
. tests/lib_scratch.sh
scratch_new "$root/$bin"
scratch_point "$S" t
scratch_point "$S" a "init: configs/zz/t.yaml"
scratch_point "$S" b "init: configs/zz/t.yaml
optim.lr: 2e-3"
scratch_point "$S" c "optim.lr: 2e-3"
# runs [MAKE ARGS]: the points make runs (or would, under -n) for the table, sorted, on one line
runs() {
    KD_THREADS=1 make -C "$S" --no-print-directory SCALE=smoke "$@" zz-points 2>&1 |
        sed -n 's|^\(echo "\)\{0,1\}  RUN [0-9?]*/[0-9?]* results/smoke/zz/\([a-z]*\)-s0"\{0,1\}$|\2|p' |
        sort | tr '\n' ' '
}
expect() { # expect WHAT WANT GOT
    [ "$3" = "$2" ] && ok || bad "$1: runs '$3', want '$2'"
}
expect "first make" "a b c t " "$(runs)"
expect "second make" "" "$(runs)"

sleep 1
find "$S/configs" "$S/results" -type f -exec touch {} + && touch "$S/Makefile"
expect "every file touched" "" "$(runs)"

sed -i 's/^optim.batch: 32/optim.batch: 16/' "$S/configs/zz/c.yaml"
expect "c.yaml edited" "c " "$(runs)"
sed -i 's/^optim.batch: 32/optim.batch: 16/' "$S/configs/zz/t.yaml"
expect "t.yaml edited (a and b read it)" "a b t " "$(runs)"
sed -i 's/^title: .*/title: "a new title"/' "$S/configs/zz/c.yaml"
expect "a title edited" "" "$(runs)"

expect "KD_NUMERICS=2 (make -n)" "a b c t " "$(runs -n KD_NUMERICS=2)"
n=$(KD_NUMERICS=2 make -C "$S" --no-print-directory SCALE=smoke status 2>&1 |
    grep -c '^stale .*zz/.*numerics version 1, the engine is at 2')
[ "$n" -eq 4 ] && ok || bad "KD_NUMERICS=2 make status: $n of 4 results stale by numerics"
out=$(make -C "$S" --no-print-directory SCALE=smoke status 2>&1)
[ "$(grep -c '^up to date .*zz/' <<<"$out")" -eq 4 ] && ok || bad "make status: $out"
# the hours each result took, from its .meta (not part of the key), and their sum
sed -i 's/^wall_seconds: .*/wall_seconds: 7200/' "$S/results/smoke/zz/c-s0.meta"
out=$(make -C "$S" --no-print-directory SCALE=smoke status 2>&1)
grep -q '^up to date .*zz/c-s0 (2.0 h)$' <<<"$out" &&
    grep -q '^smoke: 4 up to date (2.0 h measured), ' <<<"$out" && ok || bad "make status hours: $out"

# a CSV edited by hand after its run wrote it (its .meta's csv_hash): make status calls it stale
# and the table refuses it in one line naming the file and the fix
cp "$S/results/smoke/zz/c-s0.csv" "$S/c.keep"
sed -i '$ s/,[0-9.]*$/,0.999999/' "$S/results/smoke/zz/c-s0.csv"
out=$(make -C "$S" --no-print-directory SCALE=smoke status 2>&1)
grep -q '^stale .*zz/c-s0: changed since its run wrote it' <<<"$out" && ok ||
    bad "make status, c-s0.csv edited: $out"
out=$(KD_THREADS=1 make -C "$S" --no-print-directory SCALE=smoke zz-points 2>&1)
grep -q 'c-s0.csv: error: changed since its run wrote it.*fix: make rerun CONFIG=configs/zz/c.yaml' \
    <<<"$out" && ok || bad "table from an edited c-s0.csv: $out"
cp "$S/c.keep" "$S/results/smoke/zz/c-s0.csv"

# a fresh clone: results without checkpoints. Nothing runs for the table; an edited reader
# makes its input's checkpoint again first.
rm "$S"/results/smoke/zz/*.ckpt
expect "checkpoints gone" "" "$(runs)"
sed -i 's/^optim.batch: 32/optim.batch: 16/' "$S/configs/zz/a.yaml"
expect "a.yaml edited, t's checkpoint gone" "a t " "$(runs)"
[ -e "$S/results/smoke/zz/t-s0.ckpt" ] && ok || bad "t's checkpoint not made again"

# a run by hand with an override, written over the table's result: make runs it again
(cd "$S" && KD_THREADS=1 bin/train configs/zz/c.yaml --scale smoke optim.epochs=2 \
    --out results/smoke/zz/c-s0 >/dev/null 2>&1)
expect "c run by hand over its result" "c " "$(runs)"

# a stopped run: no CSV yet, a resume point with two epoch rows; make status says so
z=$S/results/smoke/zz/c-s0
rm -f "$z.csv" "$z.meta" && : >"$z.part.ckpt" && printf 'epoch,loss\n1,2.0\n2,1.5\n' >"$z.part.csv"
out=$(make -C "$S" --no-print-directory SCALE=smoke status 2>&1)
grep -q '^missing .*zz/c-s0 (resume point after 2 epochs: make resumes it)$' <<<"$out" &&
    grep -q ' missing (1 with a resume point)$' <<<"$out" && ok || bad "make status, c stopped: $out"

# a run stopped at a point inside an epoch (KD_RESUME_MINUTES: one every ~20 ms; no points
# between epochs): make status names the step and the epoch
rm -f "$z".part.*
(cd "$S" && KD_THREADS=1 KD_RESUME_MINUTES=0.0003 exec bin/train configs/zz/c.yaml --scale smoke \
    run.ckpt_every=0 data.train_n=4096 optim.epochs=3 --out results/smoke/zz/c-s0 >/dev/null \
    2>&1) &
pid=$!
for ((i = 0; i < 400; i++)); do [ -e "$z.part.ckpt" ] && break; sleep 0.01; done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
out=$(make -C "$S" --no-print-directory SCALE=smoke status 2>&1)
if [ -e "$z.csv" ]; then
    skip_record - "status inside an epoch: the run ended before its kill"
else
    grep -q '^missing .*zz/c-s0 (resume point at step [0-9]* of epoch [0-9]*: make resumes it)$' \
        <<<"$out" && ok || bad "make status, c stopped inside an epoch: $out"
fi

echo "test_fresh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
