#!/usr/bin/env bash
# Same config and seed twice: byte-identical CSV apart from the timing columns
# (seconds, img_per_s, peak_mb), and identical checkpoints.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg=configs/teachers/vit_t.yaml
args=(--scale smoke data.train_n=512 data.test_n=256 optim.epochs=2 optim.batch=64)
KD_THREADS=1 bin/train "$cfg" "${args[@]}" --out "$dir/a" 2>/dev/null
KD_THREADS=1 bin/train "$cfg" "${args[@]}" --out "$dir/b" 2>/dev/null
strip() { cut -d, -f1-6 "$1"; }
pass=0 fail=0
if cmp -s <(strip "$dir/a.csv") <(strip "$dir/b.csv"); then pass=$((pass + 1)); else
    echo "FAIL: CSVs differ:"; diff <(strip "$dir/a.csv") <(strip "$dir/b.csv") || true
    fail=$((fail + 1))
fi
if cmp -s "$dir/a.ckpt" "$dir/b.ckpt"; then pass=$((pass + 1)); else
    echo "FAIL: checkpoints differ"; fail=$((fail + 1))
fi
echo "determinism: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
