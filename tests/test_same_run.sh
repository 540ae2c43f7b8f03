#!/usr/bin/env bash
# One run for configs that compute the same thing (tools/plan.c, tools/same_run.c): in a scratch
# copy of the tree a table holds three tiny points, two of which differ only in their title (the
# same key, as a point two tables share), and two that start from their checkpoints: a pair is
# run at the member that a result is made, stopped, or read by, else the first by path.
#   The pair is run once: the other is a copy, with the CSV a run of its own config writes (but
#   for the timing columns) and a .meta naming its own config; make again runs nothing and make
#   status counts its hours once. A reader of the copy's checkpoint gets it back after a fresh
#   clone (checkpoints gone) through the run it copies. An edited copy leaves the pair and runs;
#   bin/same_run refuses a result that is not the same run, in one line (as every reader does).
#   Once both are made, the one its own run made stays the run, whatever their paths.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "test_same_run: FAIL $*"; fail=$((fail + 1)); }
root=$PWD
bin=${KD_BIN:-bin}
# shellcheck source=tests/lib_scratch.sh
. tests/lib_scratch.sh
scratch_new "$root/$bin"
scratch_point "$S" a
scratch_point "$S" b # a's twin but for the title
scratch_point "$S" c "optim.lr: 2e-3"
scratch_point "$S" d "init: configs/zz/b.yaml
optim.lr: 5e-4"
scratch_point "$S" e "init: configs/zz/a.yaml
optim.lr: 5e-4"
mk() { KD_THREADS=1 make -C "$S" --no-print-directory SCALE=smoke "$@" 2>&1; }
lines() { sed -n "s|.*  $1 [0-9?/]* *results/smoke/zz/\([a-z]*\)-s0.*|\1|p" | sort | tr '\n' ' '; }
R=$S/results/smoke/zz

out=$(mk zz-points)
[ "$(lines RUN <<<"$out")" = "a c d e " ] && [ "$(lines SAME <<<"$out")" = "b " ] && ok ||
    bad "first make: runs '$(lines RUN <<<"$out")', copies '$(lines SAME <<<"$out")': $out"
cmp -s "$R/a-s0.csv" "$R/b-s0.csv" && cmp -s "$R/a-s0.ckpt" "$R/b-s0.ckpt" && ok ||
    bad "b's CSV or checkpoint is not a's"
grep -qx 'config: configs/zz/b.yaml' "$R/b-s0.meta" &&
    grep -qx 'same_run: results/smoke/zz/a-s0' "$R/b-s0.meta" && grep -qx 'title: "point b"' "$R/b-s0.yaml" &&
    ok || bad "b's .meta or YAML: $(cat "$R/b-s0.meta" "$R/b-s0.yaml")"
# the copy is what b's own run writes: the same rows, timing columns aside
(cd "$S" && KD_THREADS=1 bin/train configs/zz/b.yaml --scale smoke --out "$S/own" 2>/dev/null)
cols() { cut -d, -f1-6 "$1"; }
[ "$(cols "$S/own.csv")" = "$(cols "$R/b-s0.csv")" ] && ok || bad "b's own run differs from the copy"
out=$(mk zz-points)
[ -z "$(lines RUN <<<"$out")$(lines SAME <<<"$out")" ] && ok || bad "second make: $out"
out=$(mk status)
grep -q '^up to date .*zz/b-s0 (the run of results/smoke/zz/a-s0)$' <<<"$out" && ok ||
    bad "make status does not name b's run: $out"
sed -i 's/^wall_seconds: .*/wall_seconds: 3600/' "$R/a-s0.meta" "$R/b-s0.meta"
out=$(mk status)
grep -q '^configs/zz  *5 of   5 up to date, *1.0 h measured' <<<"$out" ||
    grep -q '^smoke: .*(1\.[0-9] h measured)' <<<"$out" && ok || bad "b's hours counted twice: $out"
grep -q '^| b |' "$S/results/smoke/tables/zz-points.md" && ok || bad "the table lacks b"

# a fresh clone holds no checkpoints: d, edited, reads b's, which comes back through a's run
rm "$R"/*.ckpt
sed -i 's/^optim.lr: 5e-4/optim.lr: 6e-4/' "$S/configs/zz/d.yaml"
out=$(mk zz-points)
[ "$(lines RUN <<<"$out")" = "a d " ] && [ -e "$R/b-s0.ckpt" ] && [ -e "$R/d-s0.csv" ] && ok ||
    bad "checkpoints gone, d edited: runs '$(lines RUN <<<"$out")': $out"

# an edited twin leaves the pair and runs on its own; bin/same_run refuses to copy across
sed -i 's/^optim.batch: 32/optim.batch: 16/' "$S/configs/zz/b.yaml"
out=$(mk zz-points)
[ "$(lines RUN <<<"$out")" = "b d " ] && [ -z "$(lines SAME <<<"$out")" ] && ! grep -q same_run "$R/b-s0.meta" &&
    ok || bad "b edited: runs '$(lines RUN <<<"$out")', copies '$(lines SAME <<<"$out")': $out"
err=$(cd "$S" && bin/same_run results/smoke/zz/a-s0 configs/zz/b.yaml --scale smoke --out x run.seed=0 2>&1)
[ $? -ne 0 ] && [ "$(wc -l <<<"$err")" = 1 ] &&
    grep -q "a-s0.meta: error: is not the result of configs/zz/b.yaml at scale smoke, seed 0: .*(fix: " <<<"$err" &&
    [ ! -e "$S/x.csv" ] && ok || bad "same_run across different keys: $err"
# a pair whose run is not the first by path (g: h reads it) stays so once h is gone and both are
# made: the result made by its own run is the home, not the copy that sorts first
scratch_point "$S" f "optim.lr: 3e-3"
scratch_point "$S" g "optim.lr: 3e-3" # f's twin but for the title
scratch_point "$S" h "init: configs/zz/g.yaml
optim.lr: 5e-4"
out=$(mk zz-points)
[ "$(lines RUN <<<"$out")" = "g h " ] && [ "$(lines SAME <<<"$out")" = "f " ] && ok ||
    bad "f, g, h: runs '$(lines RUN <<<"$out")', copies '$(lines SAME <<<"$out")': $out"
rm "$S/configs/zz/h.yaml"
out=$(mk zz-points)
[ -z "$(lines RUN <<<"$out")$(lines SAME <<<"$out")" ] &&
    grep -q '^up to date .*zz/f-s0 (the run of results/smoke/zz/g-s0)$' <<<"$(mk status)" && ok ||
    bad "h gone: the run of f and g moved: $out $(mk status | grep 'zz/[fg]-s0')"
rm "$R"/*.ckpt # a fresh clone, and h back (edited): g's checkpoint comes back through g's run
scratch_point "$S" h "init: configs/zz/g.yaml
optim.lr: 6e-4"
out=$(mk zz-points)
[ "$(lines RUN <<<"$out")" = "g h " ] && ! grep -q same_run "$R/g-s0.meta" &&
    grep -qx 'same_run: results/smoke/zz/g-s0' "$R/f-s0.meta" && ok ||
    bad "checkpoints gone, h back: runs '$(lines RUN <<<"$out")', copies '$(lines SAME <<<"$out")': $out"
echo "test_same_run: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
