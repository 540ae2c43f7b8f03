#!/usr/bin/env bash
# Same config and seed twice: byte-identical CSV apart from the timing columns
# (seconds, img_per_s, peak_mb), and identical checkpoints. Then the paper experiments: for each
# paper of configs/catalogue.tsv, the first point of its first table is run again at smoke scale
# and compared with the result `make smoke` made (results/smoke/...; a skip, recorded by
# tests/skip.sh, when absent).
# Timing columns are found by name (seconds, *_s, *_ms, img_per_s, peak_mb, latency*, wall*).
# To pin another experiment, add its YAML to PINNED below.
PINNED=()
set -euo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
# shellcheck source=tests/skip.sh
. "$(dirname "$0")/skip.sh"
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
# CSV without its timing columns (by header name).
untimed() {
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) t[i] = $i ~ /^(seconds|img_per_s|peak_mb|latency.*|wall.*|.*_s|.*_ms)$/}
             {o = ""; for (i = 1; i <= NF; i++) if (!t[i]) o = o $i ","; print o}' "$1"
}
mapfile -t papers < <(awk -F'\t' '!/^#/ && NF > 1 && $2 != "kdlab" && !seen[$2]++ {print $5}' \
    configs/catalogue.tsv)
points=("${PINNED[@]}")
for folder in "${papers[@]}"; do
    first=$(find "$folder" -maxdepth 1 -name '*.yaml' | sort | head -n1)
    [ -n "$first" ] && points+=("$first")
done
# the command make smoke ran, from its plan: run_experiment,<kind>,<yaml>,<stem>,<seed>; for a
# point that is a copy of another config's run (same_run,<from>,<yaml>,<stem>,<seed>), the kind
# of that run: its own config run again must give the copy's CSV too
plan=build/plan-smoke-n$(sed -n 's/^#define KD_NUMERICS \([0-9]*\).*/\1/p' core/base/numerics.h).mk
for yaml in "${points[@]}"; do
    kind='' stem='' seed=''
    IFS=, read -r kind stem seed < <(grep -o "run_experiment,[^,]*,$yaml,[^,]*,[0-9]*" "$plan" \
        2>/dev/null | head -n1 | cut -d, -f2,4,5)
    if [ -z "$stem" ]; then
        IFS=, read -r from stem seed < <(grep -o "same_run,[^,]*,$yaml,[^,]*,[0-9]*" "$plan" \
            2>/dev/null | head -n1 | cut -d, -f2,4,5)
        kind=$(grep -o "run_experiment,[^,]*,[^,]*,${from:-none}," "$plan" 2>/dev/null |
            head -n1 | cut -d, -f2)
    fi
    if [ -z "${stem:-}" ] || [ ! -f "$stem.csv" ] || [ ! -x "bin/$kind" ]; then
        skip_record - "$yaml: no result of make smoke to compare with"
        continue
    fi
    name=$(echo "$yaml" | tr / _)
    if ! bin/"$kind" "$yaml" --scale smoke --out "$dir/$name" "run.seed=$seed" 2>"$dir/$name.log"
    then
        echo "FAIL: $yaml did not run again: $(tail -n1 "$dir/$name.log")"
        fail=$((fail + 1))
    elif cmp -s <(untimed "$stem.csv") <(untimed "$dir/$name.csv"); then
        pass=$((pass + 1))
        echo "determinism: $yaml: same results as $stem.csv"
    else
        echo "FAIL: $yaml: a second run differs from $stem.csv:"
        diff <(untimed "$stem.csv") <(untimed "$dir/$name.csv") | head -n 6
        fail=$((fail + 1))
    fi
done
echo "determinism: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
