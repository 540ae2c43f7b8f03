#!/usr/bin/env bash
# Training parity with PyTorch (tests/twin.py; needs /usr/bin/python3 with python3-torch).
# 1. kdlab's initial weights have PyTorch's default distribution, tensor by tensor (ViT-s, ViT-t).
# 2. A real training run (ViT-s shapes, batch 128, drop path 0.1, AdamW, label smoothing, warmup
#    then cosine, clipping, both threads) traces its first steps (KD_TRACE); PyTorch trains the
#    same ViT from the same weights on the same batches and drop-path draws with its own ops and
#    optimizer: every step's loss and gradient norm, and the final weights, must agree.
set -u
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
cd "$(dirname "$0")/.."
# shellcheck source=tests/skip.sh
. tests/skip.sh
BIN=${KD_BIN:-bin}
PY=/usr/bin/python3
STEPS=${KD_TWIN_STEPS:-100}
W=$(mktemp -d /tmp/kd_twin.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test_twin: FAIL: $*" >&2; }

if ! $PY -c "import torch" 2>/dev/null; then
    skip_record python3-torch "training parity: $PY cannot import torch (apt-get install python3-torch)"
    echo "test_twin: 0 passed, 0 failed (skipped)"
    exit 0
fi

for cfg in teachers/vit_s teachers/vit_t; do
    for seed in 0 1; do
        if $BIN/export --config configs/$cfg.yaml --scale full --seed $seed "$W/init.safetensors" \
            2>"$W/err" &&
            $PY tests/twin.py weights "$W/init.safetensors" >"$W/out" 2>&1; then ok
        else bad "$cfg seed $seed initial weights: $(tail -4 "$W/out" "$W/err")"; fi
    done
done

# ViT-s at its full-scale shape (patch 4) on 10,000 images, batch 128 -> 78 steps an epoch; 100
# steps cross an epoch boundary
mkdir -p "$W/trace"
if KD_TRACE="$W/trace" KD_TRACE_STEPS=$STEPS $BIN/train configs/teachers/vit_s.yaml --scale quick \
        --out "$W/run" model.patch=4 data.train_n=10000 optim.epochs=10 model.drop_path=0.1 \
        >"$W/log" 2>&1; then
    if $PY tests/twin.py steps "$W/trace" --lr 1e-3 --min-lr 1e-5 --wd 0.05 --clip 5 \
            --smoothing 0.1 --warmup-steps 78 --total-steps 780 >"$W/out" 2>&1; then ok
    else bad "steps: $(tail -4 "$W/out")"; fi
    tail -1 "$W/out"
    [ -e "$W/run.csv" ] && bad "a traced run must write no result"
else
    bad "traced run: $(tail -3 "$W/log")"
fi

echo "test_twin: $pass passed, $fail failed"
[ $fail -eq 0 ]
