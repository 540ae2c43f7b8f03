#!/usr/bin/env bash
# Interoperability end to end. With PyTorch (/usr/bin/python3 + python3-torch; skipped with a
# message otherwise): a kdlab ViT trained at smoke scale, exported by bin/export, loads into the
# PyTorch twin (tests/torch_vit.py) with load_state_dict(strict=True) and gives the same logits on
# real test images; weights written by PyTorch (F32 and BF16, 3 input channels so the patch
# embedding's layout matters) give the same logits in kdlab; a teacher trained in PyTorch drives a
# distillation experiment through interop.teacher_weights. Without PyTorch too: Fashion-MNIST
# written as a PNG folder (bin/fmnist_folder, cached in build/) trains to the same CSV as the IDX
# files with the same seed, timing columns aside. A part left out is recorded (tests/skip.sh):
# without PyTorch, `make test` under CI=true fails.
set -u
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
cd "$(dirname "$0")/.."
# shellcheck source=tests/skip.sh
. tests/skip.sh
BIN=${KD_BIN:-bin}
PY=/usr/bin/python3
TV=tests/torch_vit.py
W=$(mktemp -d /tmp/kd_interop.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test_interop: FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@" >"$W/out" 2>&1; then ok; else bad "$what: $(tail -3 "$W/out")"; fi; }
# max |a - b| <= tol, and the measured difference printed
close() { local what=$1; shift
    if $PY $TV compare "$@" >"$W/cmp" 2>&1; then ok; echo "test_interop: $what: $(cat "$W/cmp")"
    else bad "$what: $(cat "$W/cmp")"; fi; }
quiet() { "$@" >"$W/log" 2>&1 || { echo "test_interop: '$*' failed: $(tail -3 "$W/log")" >&2; return 1; }; }

if $PY -c "import torch" 2>/dev/null; then
    # 1. kdlab -> PyTorch: a trained ViT-t, exported, strict load, same logits on test images
    if quiet $BIN/train configs/teachers/vit_t.yaml --scale smoke --out "$W/vit_t"; then
        check "make export" make -s --no-print-directory export CKPT="$W/vit_t.ckpt" \
            OUT="$W/vit_t.safetensors"
        check "test images" $PY $TV images "$W/x.f32" --fmnist 256
        check "torch strict load" $PY $TV logits "$W/vit_t.safetensors" "$W/x.f32" "$W/torch.f32"
        check "kdlab logits" $BIN/predict "$W/vit_t.ckpt" "$W/x.f32" "$W/kd.f32"
        close "kdlab ViT-t -> torch, 256 test images" "$W/torch.f32" "$W/kd.f32" 1e-4
        check "kdlab from its own export" $BIN/predict "$W/vit_t.safetensors" "$W/x.f32" "$W/kd2.f32"
        close "export read back by kdlab" "$W/kd.f32" "$W/kd2.f32" 0
    else
        bad "bin/train vit_t smoke"
    fi
    # 2. PyTorch -> kdlab: random weights (every tensor, norms too), 3 channels, no metadata
    cat >"$W/rgb.yaml" <<'EOF'
model: {arch: vit, img: 12, in_ch: 3, patch: 4, dim: 32, depth: 2, heads: 4, classes: 5, mlp_ratio: 2}
EOF
    A="img=12 in_ch=3 patch=4 dim=32 depth=2 heads=4 classes=5 mlp_ratio=2"
    check "random images" $PY $TV images "$W/xr.f32" --img 12 --in-ch 3 --n 32
    for dt in F32 BF16 F16; do
        check "torch writes $dt" $PY $TV random "$W/rgb-$dt.safetensors" --arch $A --seed 7 --dtype $dt
        check "torch logits $dt" $PY $TV logits "$W/rgb-$dt.safetensors" "$W/xr.f32" "$W/tr.f32" --arch $A
        check "kdlab reads $dt" $BIN/predict "$W/rgb-$dt.safetensors" "$W/xr.f32" "$W/kr.f32" \
            --config "$W/rgb.yaml"
        close "torch RGB ViT ($dt) -> kdlab" "$W/tr.f32" "$W/kr.f32" 1e-4
    done
    # a torch file without kdlab metadata needs a config naming its architecture
    if $BIN/predict "$W/rgb-F32.safetensors" "$W/xr.f32" "$W/kr.f32" 2>"$W/err"; then
        bad "a file without an architecture must be refused"
    elif grep -q "rgb-F32.safetensors.*does not say which model" "$W/err" && [ "$(wc -l <"$W/err")" -eq 1 ]; then ok
    else bad "no-architecture message: $(cat "$W/err")"; fi
    # 3. a PyTorch-trained teacher in a distillation experiment (TinyViT online distillation)
    check "torch teacher" $PY $TV train "$W/teacher.safetensors" --n 2000 --epochs 1
    cat "$W/out"
    check "kdlab logits of the torch teacher" $BIN/predict "$W/teacher.safetensors" "$W/x.f32" \
        "$W/kt.f32" --config configs/teachers/vit_t.yaml
    check "torch logits of its teacher" $PY $TV logits "$W/teacher.safetensors" "$W/x.f32" "$W/tt.f32"
    close "torch-trained teacher in kdlab" "$W/tt.f32" "$W/kt.f32" 1e-4
    if [ -x $BIN/tinyvit_distill ]; then
        check "distillation from the torch teacher" $BIN/tinyvit_distill \
            configs/tinyvit/cost/online.yaml --scale smoke --out "$W/distill" \
            teacher=configs/teachers/vit_t.yaml interop.teacher_weights="$W/teacher.safetensors" \
            tinyvit.softlabels= data.train_n=500 data.test_n=200
        if [ -s "$W/distill.csv" ]; then ok; echo "test_interop: distilled from torch: $(tail -1 "$W/distill.csv")"
        else bad "no distillation CSV: $(tail -3 "$W/out")"; fi
    else
        skip_record - "distillation from the torch teacher: $BIN/tinyvit_distill not built"
    fi
else
    skip_record python3-torch "PyTorch parts: $PY cannot import torch (apt-get install python3-torch)"
fi

# 4. image folder vs IDX: same pixels, same order, same seed -> same CSV but for timing columns
FOLDER=build/fmnist-folder
if quiet $BIN/fmnist_folder $FOLDER; then
    ok
    quiet $BIN/train configs/teachers/vit_t.yaml --scale smoke --out "$W/idx" || bad "train on IDX"
    quiet $BIN/train configs/teachers/vit_t.yaml --scale smoke --out "$W/png" data.set=folder \
        data.dir=$FOLDER || bad "train on the folder"
    # columns: epoch,train_loss,train_acc,test_loss,test_acc,lr (then seconds, img/s, memory)
    if [ -s "$W/idx.csv" ] && cmp -s <(cut -d, -f1-6 "$W/idx.csv") <(cut -d, -f1-6 "$W/png.csv"); then
        ok; echo "test_interop: PNG folder = IDX: $(tail -1 "$W/png.csv" | cut -d, -f1-6)"
    else bad "folder CSV differs from IDX: $(tail -1 "$W/idx.csv") vs $(tail -1 "$W/png.csv" 2>/dev/null)"; fi
    mkdir -p "$W/nofold/train/0"
    if $BIN/train configs/teachers/vit_t.yaml --scale smoke --out "$W/x" data.set=folder \
        data.dir="$W/nofold" 2>"$W/err"; then bad "an empty folder must be refused"
    elif [ "$(wc -l <"$W/err")" -eq 1 ] && grep -q "nofold/train" "$W/err"; then ok
    else bad "empty folder message: $(cat "$W/err")"; fi
else
    bad "bin/fmnist_folder"
fi

echo "test_interop: $pass passed, $fail failed"
[ $fail -eq 0 ]
