#!/usr/bin/env bash
# The survey's pieces outside its YAML files, in a scratch folder: SEED from a supervised
# teacher (kind train) runs, is deterministic and its checkpoint starts a fine-tune; claims'
# column and tolerance tests give the right verdicts; the catalogue takes an optional 12th
# column (extra report columns) and still refuses a short line.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
root=$(pwd)
bin=$root/${KD_BIN:-bin}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r "$root/configs" "$dir/configs"
source "$root/tests/shrink.sh"
cd "$dir"
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

# SEED from a supervised ViT-t teacher (dim 64 = seed.proj_dim), tiny, twice.
shrink configs/teachers/vit_t.yaml data.train_n=128 data.test_n=64
KD_THREADS=1 "$bin/train" configs/teachers/vit_t.yaml --scale smoke 2>/dev/null
tiny=(--scale smoke data.train_n=128 data.test_n=64 optim.batch=32 seed.queue=64
      seed.monitor_n=32 teacher=configs/teachers/vit_t.yaml seed.proj_dim=64)
for s in a b; do
    KD_THREADS=1 "$bin/seed" configs/survey/pretrain/seed.yaml "${tiny[@]}" --out "$dir/$s" \
        2>/dev/null
done
ok "seed from a supervised teacher writes a finite loss" \
   "tail -1 a.csv | grep -qE '^1,[0-9.]+,'"
ok "same config and seed give the same CSV" "cmp -s <(cut -d, -f1-5 a.csv) <(cut -d, -f1-5 b.csv)"
ok "same config and seed give the same checkpoint" "cmp -s a.ckpt b.ckpt"
out=$("$bin/seed" configs/survey/pretrain/seed.yaml "${tiny[@]}" seed.proj_dim=32 --out c 2>&1)
ok "proj_dim other than the teacher's width: one line naming the fix" \
   "[ \$(echo \"\$out\" | wc -l) -eq 1 ] && echo \"\$out\" | grep -q 'seed.proj_dim'"
# the pretraining as its reader finds it: made by its config (at the test's size), with its .meta
shrink configs/survey/pretrain/seed.yaml "${tiny[@]:2}"
KD_THREADS=1 "$bin/seed" configs/survey/pretrain/seed.yaml --scale smoke 2>/dev/null
log=$(KD_THREADS=1 "$bin/train" configs/survey/seed.yaml --scale smoke data.train_n=64 \
      data.test_n=64 --out ft 2>&1)
ok "the fine-tune starts from the SEED checkpoint" "echo \"\$log\" | grep -q 'loaded 56 tensors'"

# claims: verdicts weigh the seeds' spread (t margin); columns; one seed is inconclusive.
mkdir -p results/smoke/tables
printf 'point,title,x,n_seeds,mean,std,paper,wall_s,cost_s\n%s\n%s\n%s\n%s\n%s\n' \
    'a,"A",0,3,50,0.02,NaN,10,30' 'b,"B",1,3,50.3,0.02,NaN,20,25' 'c,"C",2,3,52,0.02,NaN,1,1' \
    'd,"D",3,3,50.5,2,NaN,1,1' 'e,"E",4,1,60,0,NaN,1,1' > results/smoke/tables/t.csv
printf '%s\n' 'c1	t	match	a ~ b 0.8' 'c2	t	no match	a ~ b 0.05' 'c3	t	run	a < b wall_s' \
    'c4	t	cost	a < b cost_s' 'c5	t	none	a < b nosuch' 'c7	t	beyond	c > a' \
    'c8	t	reversed	a > c' 'c9	t	noise	d > a' 'c10	t	one seed	e > a' 'c11	t	top	c best' \
    'c12	t	rise	increasing' 'c13	t	unsure	a ~ b 0.35' > claims.tsv
out=$("$bin/claims" smoke claims.tsv)
verdict() { echo "$out" | grep -E "^[a-z ]+ +$1 " | sed -E 's/ +c[0-9]+ .*//'; }
ok "a ~ b 0.8 holds (0.3 apart, margin 0.07)" "[ \"\$(verdict c1)\" = holds ]"
ok "a ~ b 0.05 does not hold" "[ \"\$(verdict c2)\" = 'does not hold' ]"
ok "a ~ b 0.35 is inconclusive (inside the margin)" "[ \"\$(verdict c13)\" = inconclusive ]"
ok "a < b wall_s holds" "[ \"\$(verdict c3)\" = holds ]"
ok "a < b cost_s does not hold" "[ \"\$(verdict c4)\" = 'does not hold' ]"
ok "an unknown column is not yet run" "[ \"\$(verdict c5)\" = 'not yet run' ]"
ok "a difference beyond its margin holds" "[ \"\$(verdict c7)\" = holds ]"
ok "the other way beyond its margin does not hold" "[ \"\$(verdict c8)\" = 'does not hold' ]"
ok "a difference inside the spread is inconclusive" "[ \"\$(verdict c9)\" = inconclusive ]"
ok "one seed is inconclusive, and says so" \
   "[ \"\$(verdict c10)\" = inconclusive ] && echo \"\$out\" | grep -q 'one seed'"
ok "best over noisy rivals is inconclusive" "[ \"\$(verdict c11)\" = inconclusive ]"
ok "increasing through a noisy point is inconclusive" "[ \"\$(verdict c12)\" = inconclusive ]"
printf 'c6\tt\tno tolerance\ta ~ b\n' > claims_bad.tsv
out=$("$bin/claims" smoke claims_bad.tsv 2>&1); rc=$?
ok "a ~ test without its tolerance is refused with file:line" \
   "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'claims_bad.tsv:1: error'"

# catalogue: 12 columns accepted, 10 refused with the line number.
row='x	kdlab	-	-	configs/survey	test_acc	-	T	src	1 min	1 h'
printf '%s\tparams,macs,cost\n' "$row" > cat12.tsv
ok "a 12-column catalogue line loads" "'$bin/plan' smoke cat12.tsv | grep -q 'FOLDER_x := configs/survey'"
printf '%s\n' "${row%	1 h}" > cat10.tsv
out=$("$bin/plan" smoke cat10.tsv 2>&1)
ok "a 10-column line is refused with file:line" "echo \"\$out\" | grep -q 'cat10.tsv:1'"

echo "survey_sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
