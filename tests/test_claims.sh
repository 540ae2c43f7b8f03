#!/usr/bin/env bash
# bin/claims on a made-up table summary, in a scratch folder: "increasing A B C" follows the
# points named, in that order, whatever their x (the zoo has two teachers of width 64), and
# leaves the others out; so does "A best B C"; a point named but absent is "not yet run".
set -uo pipefail
bin=$(cd "${KD_BIN:-bin}" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
mkdir -p results/t/tables
cat > results/t/tables/zoo.csv <<'CSV'
point,title,x,n_seeds,mean,std
vit_d,"deep",64,3,0.90,0.001
vit_l,"l",256,3,0.89,0.001
vit_m,"m",192,3,0.88,0.001
vit_s,"s",128,3,0.87,0.001
vit_t,"t",64,3,0.85,0.001
CSV
printf 'w\tzoo\twidth\tincreasing vit_t vit_s vit_m vit_l\n' > c.tsv
printf 'x\tzoo\tall by x\tincreasing\n' >> c.tsv
printf 'g\tzoo\tgone\tincreasing vit_t vit_x\n' >> c.tsv
out=$("$bin/claims" t c.tsv 2>&1)
ok "the listed points rise: holds ($out)" "grep -q '^holds  *w ' <<<\"\$out\""
ok "by x, the deep teacher at width 64 breaks the order" "grep -q '^does not hold  *x ' <<<\"\$out\""
ok "an absent point: not yet run" "grep -q '^not yet run  *g ' <<<\"\$out\""
# "A best B C": A against the points named only (a variant added to the table is left out).
cat > results/t/tables/targets.csv <<'CSV'
point,title,x,n_seeds,mean,std
cls,"cls",0,3,0.70,0.001
feature,"feature",0,3,0.72,0.001
relation,"relation",0,3,0.75,0.001
variant,"a variant",0,3,0.80,0.001
CSV
printf 'b\ttargets\tnamed\trelation best cls feature\n' > b.tsv
printf 'a\ttargets\tall\trelation best\n' >> b.tsv
printf 'm\ttargets\tmissing\trelation best cls gone\n' >> b.tsv
out=$("$bin/claims" t b.tsv 2>&1)
ok "best of the points named: holds ($out)" "grep -q '^holds  *b ' <<<\"\$out\""
ok "best of every point: the variant is higher" "grep -q '^does not hold  *a ' <<<\"\$out\""
ok "best of an absent point: not yet run" "grep -q '^not yet run  *m ' <<<\"\$out\""
echo "test_claims: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
