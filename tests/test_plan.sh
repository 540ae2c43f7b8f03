#!/usr/bin/env bash
# The Make plan (bin/plan -> build/plan-SCALE.mk), read through `make -n`: a five-seed table
# runs every seed, SEEDS=0 runs seed 0 alone (and the teacher it needs once), and a paper's
# table number names the same runs as its target. `make rerun` runs one experiment again (for
# real, at smoke: the ViT-t teacher, seconds).
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "test_plan: FAIL $*"; fail=$((fail + 1)); }
marker=$(mktemp) fresh=$(mktemp -d) scratch=$(mktemp -d)
trap 'rm -f "$marker"; rm -rf "$fresh" "$scratch"' EXIT
# shellcheck source=tests/lib_scratch.sh
. tests/lib_scratch.sh
# The plans are read in a scratch copy of the tree with no results, as a fresh clone before its
# first run: here a published result (results/full/teachers/vit_s-s0) is up to date and drops out.
scratch_tree "$fresh" "$PWD/bin"
runs() {
    make -n -C "$fresh" --no-print-directory "$@" 2>&1 | sed -n 's/.*RUN [0-9?]*\/[0-9?]* //p' |
        tr -d '"' | sort
}

points=$(ls configs/dcvit/macs/*.yaml | wc -l)
all=$(runs SCALE=full dcvit-macs)
n_all=$(grep -c '^results/full/dcvit/macs/' <<<"$all")
[ "$n_all" -eq $((points * 5)) ] && ok || bad "full dcvit-macs: $n_all runs, want $points points x 5 seeds"

first=$(runs SCALE=full SEEDS=0 dcvit-macs)
n_first=$(grep -c '^results/full/dcvit/macs/' <<<"$first")
[ "$n_first" -eq "$points" ] && ok || bad "SEEDS=0: $n_first runs, want $points"
grep '^results/full/dcvit/macs/' <<<"$first" | grep -qv -- '-s0$' && bad "SEEDS=0 runs another seed" || ok
[ "$(grep -cx 'results/full/teachers/vit_s-s0' <<<"$first")" = 1 ] && ok ||
    bad "SEEDS=0 does not train the teacher, or trains it twice"

two=$(runs SCALE=full SEEDS="0 3" dcvit-macs)
n_two=$(grep -c '^results/full/dcvit/macs/' <<<"$two")
[ "$n_two" -eq $((points * 2)) ] && ok || bad "SEEDS=\"0 3\": $n_two runs, want $((points * 2))"

[ "$(runs SCALE=full tinymim-table10)" = "$(runs SCALE=full tinymim-layer)" ] && ok ||
    bad "tinymim-table10 and tinymim-layer plan different runs"

# A point several tables share is one run: TinyMIM's relation student (the same config in five
# tables) runs once at seed 0, the four others copy it.
shared='(targets/relation|relations/qk_vv|layer/layer8|droppath/dp_t0_s01|sequential/t_from_mae_s)-s0'
out=$(make -n -C "$fresh" --no-print-directory SCALE=full SEEDS=0 tinymim-targets \
      tinymim-relations tinymim-layer tinymim-droppath tinymim-sequential 2>&1)
n_run=$(grep -cE "RUN [0-9?/]* results/full/tinymim/$shared\"" <<<"$out")
n_same=$(grep -cE "SAME results/full/tinymim/$shared " <<<"$out")
[ "$n_run" = 1 ] && [ "$n_same" = 4 ] && ok ||
    bad "TinyMIM's shared relation point: $n_run runs and $n_same copies, want 1 and 4"

# Seeds pair along a chain: fine-tuning seed 1 reads pretraining seed 1, DC-ViT's seed 3 its
# synthetic set 3; a one-seed teacher serves every student seed.
plan=$(ls "$fresh"/build/plan-full-n*.mk)
reads() { grep -m1 "^results/full/$1.csv:" "$plan" | grep -q " results/full/$2.csv"; }
reads tinymim/targets/feature-s1 tinymim/distill/feature-s1 && ok ||
    bad "fine-tuning seed 1 does not read pretraining seed 1"
reads tinymim/distill/relation-s2 tinymim/mae/mae_s-s0 && ok ||
    bad "pretraining seed 2 does not read the MAE teacher's one seed"
reads seed/students/seed_t-s2 seed/teachers/moco_s-s0 && ok ||
    bad "SEED student seed 2 does not read the MoCo-v2 teacher's one seed"
reads dcvit/macs/dcvit_r1-s3 dcvit/synthetic-s3 && ok ||
    bad "DC-ViT seed 3 does not read synthetic set 3"

# The campaign runs every table of the catalogue; a table it leaves out (the scratch tree's
# catalogue has one more, zz-points) stops it before it starts, naming the table.
make -n --no-print-directory SCALE=full campaign >/dev/null 2>&1 && ok ||
    bad "make -n campaign fails in the tree: $(make -n SCALE=full campaign 2>&1 | grep -m1 rror)"
out=$(make -n -C "$fresh" --no-print-directory SCALE=full campaign 2>&1)
[ $? -eq 2 ] && [[ "$out" == *"only in the catalogue: zz-points"*fix* ]] && ok ||
    bad "a table missing from CAMPAIGN is not refused: $(tail -n1 <<<"$out")"

stem=results/smoke/teachers/vit_t-s0
make -s --no-print-directory SCALE=smoke "$stem.csv" >/dev/null 2>&1
touch "$marker"
sleep 1
out=$(make --no-print-directory SCALE=smoke rerun CONFIG=configs/teachers/vit_t.yaml 2>&1)
[ "$stem.csv" -nt "$marker" ] && ok || bad "rerun did not run $stem again: $out"
[ -e results/smoke/tables/kdlab-teachers.md ] && bad "rerun left the table's summary" || ok
grep -q 'make kdlab-teachers SCALE=smoke' <<<"$out" && ok || bad "rerun does not name the table"
make --no-print-directory rerun CONFIG=configs/teachers/nope.yaml >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "rerun of an unknown config does not exit 2"

# A table follows its folder: in a scratch copy of the tree (Makefile, configs/, bin/ linked) a
# two-point table is made, one point's YAML deleted, and the table made again without it.
scratch_tree "$scratch" "$PWD/bin"
for p in a b; do scratch_point "$scratch" "$p"; done
md=$scratch/results/smoke/tables/zz-points.md
KD_THREADS=1 make -s -C "$scratch" --no-print-directory SCALE=smoke zz-points >/dev/null 2>&1
grep -q '^| b |' "$md" 2>/dev/null && ok || bad "the scratch table lacks point b"
rm "$scratch/configs/zz/b.yaml"
out=$(KD_THREADS=1 make -s -C "$scratch" --no-print-directory SCALE=smoke zz-points 2>&1)
grep -q '^| a |' "$md" 2>/dev/null && ! grep -q '^| b |' "$md" && ok ||
    bad "a deleted point stays in its table: $out"
# An empty YAML in a table's folder names no program: bin/plan refuses it in one line.
: >"$scratch/configs/zz/empty.yaml"
out=$(make -n -C "$scratch" --no-print-directory SCALE=smoke zz-points 2>&1)
grep -q "configs/zz/empty.yaml: error: names no 'kind'.*(fix: " <<<"$out" && ok ||
    bad "an empty YAML is planned: $out"

echo "plan: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
