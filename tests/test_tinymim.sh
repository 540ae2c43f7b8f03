#!/usr/bin/env bash
# TinyMIM end to end at a tiny size: MAE teacher -> relation distillation -> fine-tune from
# `init:`, run twice with one seed (byte-identical checkpoints and loss columns), seeds paired
# along the chain, and the one-line errors for a missing teacher, a too-deep target layer and a
# missing checkpoint.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
ok() { if "$@"; then pass=$((pass + 1)); else echo "FAIL: $*"; fail=$((fail + 1)); fi; }
# the sizes are in the scratch configs (shrink): the chain's results must be what they read now
small=(--scale smoke)
tiny=(data.train_n=64 data.test_n=64 optim.batch=32)
mkdir -p "$dir/configs/tinymim/mae" "$dir/configs/tinymim/distill"
# Stems follow the config path, so the chain runs inside a scratch copy of configs/.
cp -r configs/base "$dir/configs/"
sed 's/depth: 8/depth: 2/' configs/tinymim/mae/mae_s.yaml > "$dir/configs/tinymim/mae/mae_s.yaml"
cp configs/tinymim/distill/relation.yaml "$dir/configs/tinymim/distill/"
cp configs/tinymim/targets/relation.yaml "$dir/configs/ft.yaml"
sed -i 's|base: ../../base/|base: base/|' "$dir/configs/ft.yaml"
source tests/shrink.sh
for f in tinymim/mae/mae_s tinymim/distill/relation ft; do
    shrink "$dir/configs/$f.yaml" "${tiny[@]}"
done
root=$PWD
bin=$root/${KD_BIN:-bin}
cd "$dir"
for run in a b; do
    rm -rf results
    KD_THREADS=1 "$bin/mae" configs/tinymim/mae/mae_s.yaml "${small[@]}" \
        2>"$dir/mae_$run" || cat "$dir/mae_$run"
    KD_THREADS=1 "$bin/tinymim" configs/tinymim/distill/relation.yaml "${small[@]}" \
        2>"$dir/err_$run" || echo "tinymim failed: $(cat "$dir/err_$run")"
    cp results/smoke/tinymim/distill/relation-s0.ckpt "$dir/$run.ckpt"
    cut -d, -f1-3 results/smoke/tinymim/distill/relation-s0.csv > "$dir/$run.csv"
done
ok cmp -s "$dir/a.ckpt" "$dir/b.ckpt"
ok cmp -s "$dir/a.csv" "$dir/b.csv"
KD_THREADS=1 "$bin/train" configs/ft.yaml "${small[@]}" 2>"$dir/ft.err"
ok grep -q "loaded [1-9][0-9]* tensors" "$dir/ft.err"
ok test -s results/smoke/ft-s0.csv
# Seeds pair along the chain: with pretraining at two seeds, fine-tuning seed 1 starts from
# pretraining seed 1 (missing first: a one-line error naming it), which reads the MAE's one seed.
printf 'run:\n  seeds: [0, 1]\n' >>configs/tinymim/distill/relation.yaml
"$bin/train" configs/ft.yaml "${small[@]}" run.seed=1 2>"$dir/p1" >/dev/null
ok grep -q "relation-s1.*(fix: " "$dir/p1"
KD_THREADS=1 "$bin/tinymim" configs/tinymim/distill/relation.yaml "${small[@]}" run.seed=1 \
    2>"$dir/p2" >/dev/null
ok test -s results/smoke/tinymim/distill/relation-s1.ckpt
KD_THREADS=1 "$bin/train" configs/ft.yaml "${small[@]}" run.seed=1 2>"$dir/p3" >/dev/null
ok grep -q "from results/smoke/tinymim/distill/relation-s1.ckpt" "$dir/p3"
ok grep -q "reads: results/smoke/tinymim/distill/relation-s1 " results/smoke/ft-s1.meta
"$bin/tinymim" configs/tinymim/distill/relation.yaml "${small[@]}" teacher= \
    2>"$dir/e1" >/dev/null
ok grep -q "needs a teacher" "$dir/e1"
"$bin/tinymim" configs/tinymim/distill/relation.yaml "${small[@]}" \
    tinymim.target_layer=3 2>"$dir/e2" >/dev/null
ok grep -q "deeper than the teacher" "$dir/e2"
rm -f results/smoke/tinymim/mae/mae_s-s0.ckpt
"$bin/train" configs/ft.yaml "${small[@]}" 2>"$dir/e3" >/dev/null
ok grep -q "mae_s-s0.ckpt\|relation-s0.ckpt" "$dir/e3"
"$bin/tinymim" configs/tinymim/distill/relation.yaml "${small[@]}" 2>"$dir/e4" >/dev/null
ok grep -q "mae_s-s0.ckpt" "$dir/e4"
echo "test_tinymim.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
