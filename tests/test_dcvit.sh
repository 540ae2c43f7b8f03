#!/usr/bin/env bash
# DC-ViT and PRACTISE end to end through the real binaries at a tiny size, in a scratch folder:
# PRACTISE fine-tunes once for dcvit.steps (its paper's budget) unless practise_budget is equal
# (k + 1 times, DC-ViT's total), and both tables carry the feature MSE on held-out images
# beside the training MSE (0 for the original itself).
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
echo "test_dcvit_sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
