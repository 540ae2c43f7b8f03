#!/usr/bin/env bash
# kdlab's hybrid TinyViT computes what TinyViT's own PyTorch code computes (tools/torch_tinyvit.py:
# the official modules and names; tests/tinyvit_twin.py drives it; needs /usr/bin/python3 with
# python3-torch, else skipped and recorded). A TinyViT trained at smoke scale
# (configs/teachers/hybrid/tinyvit_5m.yaml, seconds) and exported by bin/export loads with
# load_state_dict(strict=True), BatchNorm running statistics included, and gives kdlab's
# eval-mode logits on real test images; kdlab reads its export back to the same bits; a PyTorch
# TinyViT with every weight random (attention biases, norms; BatchNorm statistics of the test
# images) gives the same logits in kdlab; one training-mode forward and backward (batch statistics, drop path 0) gives
# the same loss, logits, gradient of every tensor and moved running statistics.
set -u
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/skip.sh
. tests/skip.sh
BIN=${KD_BIN:-bin}
PY=/usr/bin/python3
TT=tests/tinyvit_twin.py
W=$(mktemp -d /tmp/kd_tinyvit_twin.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test_tinyvit_twin: FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@" >"$W/out" 2>&1; then ok; else bad "$what: $(tail -3 "$W/out")"; fi; }
# a comparison that passes or fails with its measured differences printed
measure() { local what=$1; shift
    if "$@" >"$W/cmp" 2>&1; then ok; else bad "$what"; fi
    sed "s/^/test_tinyvit_twin: $what: /" "$W/cmp"; }

if ! $PY -c "import torch" 2>/dev/null; then
    skip_record python3-torch "TinyViT twin: $PY cannot import torch (apt-get install python3-torch)"
    echo "test_tinyvit_twin: 0 passed, 0 failed (skipped)"
    exit 0
fi

if "$BIN"/train configs/teachers/hybrid/tinyvit_5m.yaml --scale smoke --out "$W/tv" >"$W/log" 2>&1; then
    check "export" "$BIN"/export "$W/tv.ckpt" "$W/tv.safetensors"
    check "test images" $PY $TT data "$W/x.f32" "$W/y.i32" --n 256
    # 1. kdlab -> PyTorch, eval mode: strict load, same logits
    check "torch strict load" $PY $TT logits "$W/tv.safetensors" "$W/x.f32" "$W/torch.f32"
    check "kdlab logits" "$BIN"/predict "$W/tv.ckpt" "$W/x.f32" "$W/kd.f32"
    measure "eval, 256 test images" $PY $TT compare "$W/kd.f32" "$W/torch.f32" 1e-4
    check "kdlab reads its export" "$BIN"/predict "$W/tv.safetensors" "$W/x.f32" "$W/kd2.f32"
    if cmp -s "$W/kd.f32" "$W/kd2.f32"; then ok; else bad "export read back: other logits"; fi
    # 2. PyTorch -> kdlab: every weight random
    check "torch random TinyViT" $PY $TT random "$W/tv.safetensors" "$W/x.f32" \
        "$W/rand.safetensors" --seed 1
    check "torch logits, random" $PY $TT logits "$W/rand.safetensors" "$W/x.f32" "$W/rt.f32"
    check "kdlab reads torch's file" "$BIN"/predict "$W/rand.safetensors" "$W/x.f32" "$W/rk.f32"
    measure "random weights from torch" $PY $TT compare "$W/rk.f32" "$W/rt.f32" 1e-4
    # 3. one training step's forward and backward on 64 images (28x28x1) as one batch
    head -c $((64 * 784 * 4)) "$W/x.f32" >"$W/xs.f32"
    head -c $((64 * 4)) "$W/y.i32" >"$W/ys.i32"
    check "kdlab training step" "$BIN"/predict "$W/tv.ckpt" "$W/xs.f32" "$W/kl.f32" \
        --train "$W/ys.i32" "$W/state.safetensors"
    measure "train mode" $PY $TT step "$W/tv.safetensors" "$W/xs.f32" "$W/ys.i32" "$W/kl.f32" \
        "$W/state.safetensors" --tol 1e-3
else
    bad "bin/train tinyvit_5m smoke: $(tail -3 "$W/log")"
fi

echo "test_tinyvit_twin: $pass passed, $fail failed"
[ $fail -eq 0 ]
