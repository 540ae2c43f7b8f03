#!/usr/bin/env bash
# End to end on real data: a tiny ViT trained on 2,000 Fashion-MNIST images. After one epoch
# test accuracy is well above chance (10%), and over three epochs the loss falls and the
# accuracy rises.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
bin/train tests/e2e/tiny_vit.yaml --scale smoke --out "$dir/run" 2>/dev/null
check "the run writes its CSV" "[ -f $dir/run.csv ]"
col() { awk -F, -v r="$1" -v c="$2" 'NR == r + 1 {print $c}' "$dir/run.csv"; }
acc1=$(col 1 5) acc3=$(col 3 5) loss1=$(col 1 2) loss3=$(col 3 2)
echo "test_e2e: epoch 1 test acc $acc1, epoch 3 test acc $acc3; train loss $loss1 -> $loss3"
check "one epoch is well above chance (acc $acc1 > 0.35)" "awk 'BEGIN {exit !($acc1 > 0.35)}'"
check "accuracy rises ($acc1 -> $acc3)" "awk 'BEGIN {exit !($acc3 > $acc1)}'"
check "loss falls ($loss1 -> $loss3)" "awk 'BEGIN {exit !($loss3 < $loss1)}'"
echo "test_e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
