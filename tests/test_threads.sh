#!/usr/bin/env bash
# The same training run at KD_THREADS=1 and KD_THREADS=2 gives byte-identical CSV (apart from the
# timing columns) and checkpoint: the threaded ops split work without changing any sum's order
# (core/ops/parallel.h), so a result does not depend on the machine's core count.
set -euo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
BIN=${KD_BIN:-bin}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg=configs/teachers/vit_t.yaml
args=(--scale smoke data.train_n=384 data.test_n=128 optim.epochs=2 optim.batch=64)
KD_THREADS=1 "$BIN/train" "$cfg" "${args[@]}" --out "$dir/a" 2>/dev/null
KD_THREADS=2 "$BIN/train" "$cfg" "${args[@]}" --out "$dir/b" 2>/dev/null
pass=0 fail=0
if cmp -s <(cut -d, -f1-6 "$dir/a.csv") <(cut -d, -f1-6 "$dir/b.csv"); then
    pass=$((pass + 1))
else
    echo "FAIL: CSV differs between 1 and 2 threads"; fail=$((fail + 1))
fi
if cmp -s "$dir/a.ckpt" "$dir/b.ckpt"; then pass=$((pass + 1)); else
    echo "FAIL: checkpoint differs between 1 and 2 threads"; fail=$((fail + 1))
fi
echo "test_threads: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
