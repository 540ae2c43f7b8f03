#!/usr/bin/env bash
# Figures are kept per scale. In a scratch tree (this Makefile, plots/, configs/base/ and the
# built binaries, but a catalogue of one tiny table: two ViTs of a few seconds each, smaller at
# quick than at smoke) the table is drawn at quick, then at smoke: each figure lands under its
# scale's results/<scale>/figures/, names its scale, seeds and revision, shows the paper's value
# the folder's paper.csv gives, and each scale's REPORT.md links its own figure; the table's wall
# time names the CPU its runs' .meta record (or that they differ); drawing smoke
# leaves the quick figure's bytes alone and plots/ gets no image; a table not made yet lists the
# runs it has so far (valid ones only). Last, every table the real
# catalogue marks verified has a paper value on every line of its paper.csv.
set -uo pipefail
root=$(pwd)
bin=${KD_BIN:-bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "test_figures: FAIL $*"; fail=$((fail + 1)); }

t=kdlab-teachers
mkdir -p "$tmp/tests/fuzz" "$tmp/tools"
ln -s "$root"/Makefile "$tmp"/
ln -s "$root"/tests/fuzz/fuzz.mk "$tmp"/tests/fuzz/
ln -s "$root"/tools/perf.mk "$tmp"/tools/
ln -s "$root/$bin" "$tmp/bin"
mkdir -p "$tmp/configs/teachers" "$tmp/plots"
ln -s "$root/configs/base" "$tmp/configs/base"
ln -s "$root/plots/lib" "$tmp/plots/lib"
ln -s "$root/plots/$t.gp" "$tmp/plots/$t.gp"
grep '^#' "$root/configs/catalogue.tsv" > "$tmp/configs/catalogue.tsv"
grep '^#' "$root/configs/claims.tsv" > "$tmp/configs/claims.tsv"
printf '%s\tkdlab\t-\t-\tconfigs/teachers\ttest_acc\tmodel.dim\ttiny ViTs\ttest\t1 min\t-\n' \
    "$t" >> "$tmp/configs/catalogue.tsv"
for dim in 16 32; do
    cat > "$tmp/configs/teachers/d$dim.yaml" <<EOF
base: ../base/vit.yaml
kind: train
title: "ViT dim $dim, depth 1"
model:
  dim: $dim
  depth: 1
  heads: 2
scale:
  smoke:
    data.train_n: 600
    data.test_n: 300
  quick:
    data.train_n: 400
    data.test_n: 200
    optim.epochs: 1
    optim.warmup_epochs: 0
EOF
done
printf 'point,paper_value,paper_setting\nd16,70.5,test value\nd32,,\n' \
    > "$tmp/configs/teachers/paper.csv"

draw() {
    make -C "$tmp" --no-print-directory SCALE="$1" SEEDS=0 KD_REVISION=rev-figtest \
        "$t" report REPORT_TABLES="$t" >"$tmp/make-$1.log" 2>&1 ||
        bad "make SCALE=$1 $t report failed: $(tail -3 "$tmp/make-$1.log")"
}
# the link to the figure in a markdown file, resolved from that file's folder
linked() { sed -n "s/.*](\([^)]*$t\.png\)).*/\1/p" "$1" | head -1; }

draw quick
q=$tmp/results/quick/figures/$t.png
[ -s "$q" ] && ok || bad "quick figure not at results/quick/figures/$t.png"
hash() { sha256sum "$1" 2>/dev/null | cut -d" " -f1; }
qsum=$(hash "$q")
draw smoke
s=$tmp/results/smoke/figures/$t.png
[ -s "$s" ] && ok || bad "smoke figure not at results/smoke/figures/$t.png"
[ -n "$qsum" ] && [ "$(hash "$q")" = "$qsum" ] && ok || bad "drawing smoke changed the quick figure"
cmp -s "$q" "$s" && bad "the smoke and quick figures are the same bytes" || ok
ls "$tmp"/plots/*.png "$tmp"/plots/*.svg >/dev/null 2>&1 && bad "an image was drawn in plots/" || ok

for sc in quick smoke; do
    dir=$tmp/results/$sc
    for md in "$dir/REPORT.md" "$dir/tables/$t.md"; do
        link=$(linked "$md")
        [ -n "$link" ] || { bad "${md#$tmp/} links no figure"; continue; }
        [ "$(cd "$(dirname "$md")" && realpath -e "$link" 2>/dev/null)" = \
          "$(realpath "$dir/figures/$t.png")" ] && ok ||
            bad "${md#$tmp/} links '$link', not its own scale's figure"
    done
    svg=$dir/figures/$t.svg
    for want in "scale $sc" "1 seed" "rev-figtest" "paper (right axis"; do
        grep -qF "$want" "$svg" 2>/dev/null && ok || bad "$sc figure does not say '$want'"
    done
done

# a table's time says where it was measured: the CPU its runs' .meta name, or that they differ
cpu=$(sed -n 's/^cpu: //p' "$tmp/results/quick/teachers/d16-s0.meta")
[ -n "$cpu" ] && grep -qF "min on $cpu." "$tmp/results/quick/tables/$t.md" && ok ||
    bad "quick table does not say its runs' CPU '$cpu': $(grep 'wall time' "$tmp/results/quick/tables/$t.md")"
sed -i 's/^cpu: .*/cpu: Another CPU (family 1, model 2)/' "$tmp/results/smoke/teachers/d32-s0.meta"
(cd "$tmp" && bin/report smoke "$t" results/smoke/teachers/d16-s0.csv \
    results/smoke/teachers/d32-s0.csv >/dev/null 2>&1)
grep -qF "min on several CPUs" "$tmp/results/smoke/tables/$t.md" && ok ||
    bad "runs on two CPUs not said: $(grep 'wall time' "$tmp/results/smoke/tables/$t.md")"

# make demo's last table: smoke here beside quick "as published", each cell as the tables print
# it (two decimals), the paper's value beside
beside=$(cd "$tmp" && "$tmp/bin/report" smoke --beside quick "$t" 2>&1)
[[ $beside == *"| d16 | "*"| 70.5 | "[0-9]*.[0-9][0-9]" ± "[0-9]*.[0-9][0-9]" (n=1) | "[0-9]*.[0-9][0-9]" ± "*"(n=1) |"* ]] &&
    ok || bad "report --beside does not show d16 at both scales: $beside"

# a table not made yet lists its runs that are finished and valid by content, with their metric
# and no mean; a run by hand with overrides at a point's stem is not one of them
rm "$tmp/results/smoke/tables/$t.md"
sed 's/16/8/g' "$tmp/configs/teachers/d16.yaml" >"$tmp/configs/teachers/d8.yaml" # not run
acc=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "test_acc") k = i}
               END {printf "%.2f", 100 * $k}' "$tmp/results/smoke/teachers/d16-s0.csv")
partial=$(cd "$tmp" && bin/report smoke --all "$t" 2>&1)
grep -qF "| d16-s0 | ViT dim 16, depth 1 | $acc |" <<<"$partial" &&
    grep -qF "2 of the table's 3 runs finished" <<<"$partial" && ok ||
    bad "an unfinished table does not list its finished runs (d16 at $acc): $partial"
(cd "$tmp" && bin/train configs/teachers/d32.yaml --scale smoke optim.lr=7e-4 \
    --out results/smoke/teachers/d32-s0 >/dev/null 2>&1)
partial=$(cd "$tmp" && bin/report smoke --all "$t" 2>&1)
! grep -q "d32-s0" <<<"$partial" && grep -qF "1 of the table's 3 runs finished" <<<"$partial" &&
    ok || bad "a run with overrides is listed as a finished run of its table: $partial"

while IFS=$'\t' read -r target _ _ verified folder _; do
    [ "$verified" = yes ] || continue
    csv=$root/$folder/paper.csv
    n=$(awk -F, 'NR > 1 && $1 != ""' "$csv" 2>/dev/null | wc -l)
    empty=$(awk -F, 'NR > 1 && $1 != "" && $2 !~ /^[0-9.]+$/ {printf "%s ", $1}' "$csv" 2>/dev/null)
    [ "$n" -gt 0 ] && [ -z "$empty" ] && ok ||
        bad "$target is marked verified but $folder/paper.csv lacks values (${empty:-no lines})"
done < <(grep -v '^#' "$root/configs/catalogue.tsv")

echo "figures: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
