#!/usr/bin/env bash
# Interoperability end to end. With PyTorch (/usr/bin/python3 + python3-torch; skipped with a
# message otherwise): a kdlab ViT trained at smoke scale, exported by bin/export, loads into the
# PyTorch twin (tests/torch_vit.py) with load_state_dict(strict=True) and gives the same logits on
# real test images; weights written by PyTorch (F32 and BF16, 3 input channels so the patch
# embedding's layout matters) give the same logits in kdlab; a teacher trained in PyTorch drives a
# distillation experiment through interop.teacher_weights. Without PyTorch too: Fashion-MNIST
# written as a PNG folder (bin/fmnist_folder, cached in build/) trains to the same CSV as the IDX
# files with the same seed, timing columns aside. Every kind of checkpoint exports (MAE, MoCo,
# SEED, DC-ViT, PRACTISE): the file lists the encoder's timm names and the extra parts under their own
# (decoder.*, head_proj.*), a compressed model's blocks as they are with a notice; with PyTorch,
# each encoder loads strictly once the extra parts are dropped. A part left out is recorded
# (tests/skip.sh): without PyTorch, `make test` under CI=true fails.
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
        "$W/kt.f32" --config configs/teachers/vit_t.yaml --scale full
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

# 5. every kind of checkpoint: tensor names in the file, metadata, notices
bin=$PWD/$BIN
. tests/lib_kinds.sh
kinds_train "$W/kinds" | sed 's/^/test_interop: FAIL: /'
# "name shape" per tensor, then "meta key: value" per metadata pair (no torch needed)
st_list() { $PY -c 'import json, struct, sys
b = open(sys.argv[1], "rb").read(); h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
for k, v in sorted(h.pop("__metadata__", {}).items()): print("meta", k + ":", v.replace("\n", " "))
for k, v in sorted(h.items()): print(k, "x".join(map(str, v["shape"])))' "$1"; }
# export kind: checks that the listing has each of the lines given (grep -x patterns)
export_kind() {
    local kind=$1
    shift
    if ! (cd "$W/kinds/tree" && "$bin/export" "../$kind.ckpt" "../$kind.safetensors") \
        >"$W/kinds/$kind.export" 2>&1; then
        bad "export of a $kind checkpoint: $(cat "$W/kinds/$kind.export")"
        return
    fi
    st_list "$W/kinds/$kind.safetensors" >"$W/kinds/$kind.names"
    local want
    for want in "$@"; do
        grep -qx -- "$want" "$W/kinds/$kind.names" && ok ||
            bad "$kind export has no line '$want': $(tr '\n' ' ' <"$W/kinds/$kind.names" | head -c 600)"
    done
}
enc=('patch_embed.proj.weight 16x1x4x4' 'cls_token 1x1x16' 'pos_embed 1x50x16'
     'blocks.0.attn.qkv.weight 48x16' 'blocks.0.mlp.fc1.weight 64x16' 'norm.weight 16'
     'head.weight 10x16')
export_kind mae 'patch_embed.proj.weight 128x1x4x4' 'blocks.1.attn.qkv.weight 384x128' \
    'decoder.embed.weight 64x128' 'decoder.blocks.0.attn.qkv.weight 192x64' \
    'decoder.pred.weight 16x64' 'decoder.mask_token 1x1x64' 'meta kdlab.kind: mae' \
    'meta kdlab.strict: encoder only: drop decoder.\*, then load_state_dict(strict=True)'
for kind in moco seed; do
    export_kind $kind "${enc[@]}" 'head_proj.fc1.weight 16x16' 'head_proj.fc2.weight 128x16' \
        "meta kdlab.kind: $kind" 'meta kdlab.strict: encoder only: drop head_proj.\*, .*'
    grep -q '^proj\.' "$W/kinds/$kind.names" && bad "$kind: proj.* left unrenamed" || ok
done
export_kind dcvit "${enc[@]}" 'blocks.4.attn.qkv.weight 48x16' 'blocks.2.mlp.fc1.weight 49x16' \
    'blocks.2.mlp.fc2.weight 16x49' 'meta kdlab.layout: 0:1,64 1:0,49 2:0,49 3:0,49 4:1,64' \
    "meta kdlab.strict: no: blocks 1, 2, 3 have no attention; .*cannot load it strictly" \
    'meta kdlab.config: model.arch: vit .*model.dim: 16 model.depth: 5 .*'
grep -q '^blocks\.[123]\.attn\.' "$W/kinds/dcvit.names" && bad "dcvit: attention in a compressed block" || ok
[ "$(grep -c 'notice: blocks 1, 2, 3 have no attention.*cannot load this file strictly' \
    "$W/kinds/dcvit.export")" -eq 1 ] && ok || bad "dcvit: no notice: $(cat "$W/kinds/dcvit.export")"
# PRACTISE drops whole blocks: a timm ViT of the depth left, loadable strictly
export_kind practise "${enc[@]}" 'meta kdlab.strict: yes' 'meta kdlab.layout: 0:1,64 1:1,64 2:1,64' \
    'meta kdlab.config: model.arch: vit .*model.depth: 3 .*'
# a supervised ViT is exported as before: its model's tensors only, loadable strictly
export_kind vit_s "${enc[@]}" 'blocks.4.attn.qkv.weight 48x16'
[ "$(grep -vc '^meta' "$W/kinds/vit_s.names")" -eq 68 ] && ok || bad "vit_s: not 68 tensors"
# the compressed model's shape is its teacher's: without the teacher config, say so
(cd "$W" && "$bin/export" kinds/dcvit.ckpt kinds/x.safetensors) 2>"$W/err" &&
    bad "dcvit exported without its teacher's config" ||
    { grep -q "configs/teachers/vit_s.yaml: error: .*export from the kdlab folder" "$W/err" &&
      [ "$(wc -l <"$W/err")" -eq 1 ] && ok || bad "dcvit without teacher: $(cat "$W/err")"; }
if $PY -c "import torch" 2>/dev/null; then
    check "images 28x28" $PY $TV images "$W/x28.f32" --fmnist 8
    check "torch strict load of the MAE encoder" $PY $TV logits "$W/kinds/mae.safetensors" \
        "$W/x28.f32" "$W/l.f32" --drop decoder.
    for kind in moco seed; do
        check "torch strict load of the $kind encoder" $PY $TV logits \
            "$W/kinds/$kind.safetensors" "$W/x28.f32" "$W/l.f32" --drop head_proj.
    done
    check "torch strict load of PRACTISE" $PY $TV logits "$W/kinds/practise.safetensors" \
        "$W/x28.f32" "$W/l.f32"
fi

echo "test_interop: $pass passed, $fail failed"
[ $fail -eq 0 ]
