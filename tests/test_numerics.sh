#!/usr/bin/env bash
# Results move only with a numerics bump: two tiny runs (a ViT and a TinyViT, augmentation,
# AdamW, schedule) on the reference kernels (KD_GEMM=ref: the same bytes on every CPU), their
# CSV (timing columns aside) and weights hashed and compared with tests/numerics.sums, one line
# per numerics version. A change of the bytes at the same KD_NUMERICS fails: bump KD_NUMERICS
# in core/base/numerics.h (every result becomes stale) and record the new line with
#   bash tests/test_numerics.sh --record
# The weights are hashed as bin/export writes them: a change of the export's layout alone (the
# checkpoint and CSV of both runs the same bytes as before) is recorded again at the same version.
set -euo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
bin=${KD_BIN:-bin}
sums=tests/numerics.sums
version=$(sed -n 's/^#define KD_NUMERICS \([0-9]*\).*/\1/p' core/base/numerics.h)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tiny=(--scale smoke data.train_n=64 data.test_n=64 optim.epochs=2 optim.batch=32)
fingerprint() { # fingerprint NAME CONFIG: sha256 of the run's untimed CSV and its weights
    KD_GEMM=ref KD_THREADS=1 "$bin/train" "$2" "${tiny[@]}" --out "$dir/$1" 2>"$dir/$1.log" ||
        { echo "test_numerics: FAIL $2 did not run: $(tail -n1 "$dir/$1.log")"; exit 1; }
    "$bin/export" "$dir/$1.ckpt" "$dir/$1.safetensors" >/dev/null 2>&1
    { cut -d, -f1-6 "$dir/$1.csv"; cat "$dir/$1.safetensors"; } | sha256sum | cut -c1-16
}
line="$version $(fingerprint vit configs/teachers/vit_t.yaml)"
line="$line $(fingerprint tinyvit configs/tinyvit/scratch/tvit_scratch.yaml)"
if [ "${1:-}" = --record ]; then
    grep -v "^$version " "$sums" >"$dir/sums" 2>/dev/null || true
    echo "$line" >>"$dir/sums" && sort -n "$dir/sums" >"$sums"
    echo "test_numerics: recorded '$line' in $sums"
    exit 0
fi
want=$(grep "^$version " "$sums" || true)
if [ -z "$want" ]; then
    echo "test_numerics: FAIL no line for numerics $version in $sums: record it with" \
        "bash tests/test_numerics.sh --record"
    exit 1
elif [ "$want" != "$line" ]; then
    echo "test_numerics: FAIL results changed at numerics $version ($line, recorded $want):" \
        "bump KD_NUMERICS in core/base/numerics.h, then bash tests/test_numerics.sh --record"
    exit 1
fi
echo "test_numerics: 1 passed, 0 failed (numerics $version: the recorded results)"
