#!/usr/bin/env bash
# DC-ViT and PRACTISE end to end through the real binaries at a tiny size, in a scratch folder:
# PRACTISE fine-tunes once for dcvit.steps (its paper's budget) unless practise_budget is equal
# (k + 1 times, DC-ViT's total), and both tables carry the feature MSE on held-out images
# beside the training MSE (0 for the original itself); both augment the few-shot images as the
# official DC-ViT run does; the trial's candidates share the original's tokens.
set -uo pipefail
root=$(pwd)
bin=$(cd "${KD_BIN:-bin}" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$root/configs" "$dir/configs"
source "$root/tests/shrink.sh"
cd "$dir"
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
common=(--scale smoke data.train_n=16 data.test_n=64 optim.batch=8 dcvit.latency_batch=8
        dcvit.latency_runs=1 teacher=configs/teachers/vit_t.yaml)
# the teacher at its YAML's own (shrunk) sizes: readers refuse a result made with overrides
shrink configs/teachers/vit_t.yaml data.train_n=256 data.test_n=64 optim.batch=32
"$bin/train" configs/teachers/vit_t.yaml --scale smoke 2>/dev/null
p=configs/dcvit/macs/practise_r1.yaml
err=$("$bin/practise" $p "${common[@]}" dcvit.steps=3 --out pa 2>&1)
ok "PRACTISE, paper budget: dcvit.steps once ($err)" "grep -q 'fine-tune 3 steps (sgd' <<<\"\$err\""
err=$("$bin/practise" configs/dcvit/macs/equal_practise_r1.yaml "${common[@]}" dcvit.steps=3 \
      --out eq 2>&1)
ok "PRACTISE, equal budget: dcvit.steps x (k+1) ($err)" \
    "grep -q 'fine-tune 6 steps (adamw' <<<\"\$err\""
col() { awk -F, -v c="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == c) k = i} NR > 1 {print $k}' "$1"; }
"$bin/dcvit" configs/dcvit/macs/dcvit_r1.5.yaml "${common[@]}" dcvit.metric=real \
    dcvit.trial_steps=2 dcvit.steps=3 --out dc 2>/dev/null
for t in pa dc; do
    mse=$(col $t.csv heldout_mse | tr '\n' ' ')
    ok "$t: held-out MSE per stage, 0 for the original ($mse)" \
        "[ \"\$(col $t.csv heldout_mse | head -1)\" = 0 ] &&
         awk -v v=\"\$(col $t.csv heldout_mse | tail -1)\" 'BEGIN {exit !(v > 0)}'"
done
ok "dcvit: one row per stage" "[ \$(wc -l < dc.csv) -eq 4 ]"
# the trial's candidates share the original's tokens of each step (computed once, kept): the same
# scores and the same compressed model as when each candidate computes them again
trial=(configs/dcvit/macs/dcvit_r1.5.yaml "${common[@]}" dcvit.metric=real dcvit.trial_steps=3
       dcvit.steps=2)
kept=$("$bin/dcvit" "${trial[@]}" --out kept 2>&1)
again=$(KD_TEACHER_CACHE_MB=0 "$bin/dcvit" "${trial[@]}" --out again 2>&1)
ok "trial: the original's tokens computed once ($kept)" \
    "grep -q 'computed once for every candidate' <<<\"\$kept\""
ok "trial: without room, recomputed ($again)" "grep -q 'recomputed by each' <<<\"\$again\""
ok "trial: kept or recomputed, the same scores and model" \
    "cmp -s kept.trial.csv again.trial.csv && cmp -s kept.ckpt again.ckpt &&
     cmp -s <(cut -d, -f1-9 kept.csv) <(cut -d, -f1-9 again.csv)"
# the few-shot images are augmented as the official run (configs/base/dcvit.yaml), for DC-ViT and
# PRACTISE alike; DC-ViT does not clip, PRACTISE keeps kdlab's clipping
for t in dc pa; do
    ok "$t: resized crop, RandAugment 2/9/0.5, no shift" \
        "grep -qx 'data.rrc_scale_min: 0.08' $t.yaml && grep -qx 'data.randaug_n: 2' $t.yaml &&
         grep -qx 'data.randaug_m: 9' $t.yaml && grep -qx 'data.crop_pad: 0' $t.yaml"
done
ok "dcvit: no clipping, PRACTISE clipped at 5" \
    "grep -qx 'optim.clip_grad: 0' dc.yaml && grep -qx 'optim.clip_grad: 5' pa.yaml"
# the synthetic metric set not made: one line naming it and the command that makes it
err=$("$bin/dcvit" configs/dcvit/macs/dcvit_r1.5.yaml "${common[@]}" dcvit.trial_steps=2 \
      dcvit.steps=2 --out nosyn 2>&1 | grep -v '^\[')
want="results/smoke/dcvit/synthetic-s0.syn: error: cannot open the synthetic metric set"
want+=" (fix: make rerun CONFIG=configs/dcvit/synthetic.yaml SCALE=smoke)"
ok "dcvit: the synthetic set missing ($err)" "[ \"\$err\" = \"\$want\" ] && [ ! -e nosyn.csv ]"
echo "test_dcvit_sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
