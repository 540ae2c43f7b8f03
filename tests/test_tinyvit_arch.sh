#!/usr/bin/env bash
# The TinyViT architecture trains on real data: 2,000 Fashion-MNIST images, two epochs at batch
# 32 (124 steps) from scratch through bin/train. The mean training loss must fall clearly from
# epoch 1 to 2 and test accuracy (eval mode: BatchNorm running statistics) must be far above
# chance; a typo in a TinyViT key must be a one-line error naming the file and line.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
bin=${KD_BIN:-bin}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg=configs/tinyvit/arch/2_tinyvit_5m.yaml
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
"$bin/train" "$cfg" --scale smoke data.train_n=2000 data.test_n=1000 optim.epochs=2 \
    optim.warmup_epochs=0 optim.batch=32 --out "$dir/tv" 2>/dev/null
ok "run finished" "[ -s $dir/tv.csv ]"
col() { awk -F, -v c="$2" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == c) k = i} NR > 1 {print $k}' "$1"; }
mapfile -t loss < <(col "$dir/tv.csv" train_loss)
mapfile -t acc < <(col "$dir/tv.csv" test_acc)
echo "tinyvit smoke: train loss ${loss[*]:-?}, test acc ${acc[*]:-?}"
ok "loss falls by more than 0.2 (${loss[*]:-?})" \
    "awk -v a=${loss[0]:-0} -v b=${loss[1]:-9} 'BEGIN {exit !(b < a - 0.2)}'"
ok "test accuracy above 0.5 in eval mode (${acc[1]:-?})" \
    "awk -v a=${acc[1]:-0} 'BEGIN {exit !(a > 0.5)}'"
printf 'base: %s/%s\nmodel:\n  windws: [7, 4, 4, 2]\n' "$(pwd)" "$cfg" > "$dir/typo.yaml"
err=$("$bin/train" "$dir/typo.yaml" --scale smoke --out "$dir/typo" 2>&1 >/dev/null)
ok "typo names file:line and the key ($err)" \
    "[[ \"\$err\" == *typo.yaml:3* && \"\$err\" == *windows* ]]"
printf 'base: %s/%s\nmodel:\n  stage_heads: [2, 4, 5]\n' "$(pwd)" "$cfg" > "$dir/short.yaml"
err=$("$bin/train" "$dir/short.yaml" --scale smoke --out "$dir/short" 2>&1 >/dev/null)
ok "stage lists of unequal length are a one-line config error ($err)" \
    "[[ \"\$err\" == *differ*length* && \$(echo \"\$err\" | wc -l) -eq 1 ]]"
echo "test_tinyvit_arch: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
