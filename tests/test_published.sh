#!/usr/bin/env bash
# The published report never drifts from what it is made of: results/full/REPORT.md and
# CLAIMS.md are exactly what `make publish SCALE=full` writes now from the committed tables,
# configs/catalogue.tsv and configs/claims.tsv (an edited claim or catalogue line, or a table
# published without `make publish`, fails here with the fix).
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
cd "$(dirname "$0")/.." || exit 1
work=$(mktemp -d /tmp/kdlab-test-published.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() {   # description condition (evaluated)
    if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "test_published: FAIL: $1"; fi
}

make -s --no-print-directory publish SCALE=full PUBLISH_DIR="$work" >/dev/null
for f in REPORT.md CLAIMS.md; do
    check "results/full/$f is what make publish writes now (fix: make publish SCALE=full, then commit it):
$(diff "results/full/$f" "$work/$f" | head -n 8)" 'cmp -s "results/full/$f" "$work/$f"'
done

# ... and the check can fail: a published file one line off is caught
sed '1d' results/full/CLAIMS.md >"$work/off.md"
check "a drifted copy differs" '! cmp -s "$work/off.md" "$work/CLAIMS.md"'

echo "test_published: $pass passed, $fail failed"
[ "$fail" = 0 ]
