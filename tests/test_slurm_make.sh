#!/usr/bin/env bash
# Scale-out through Make on a real Slurm: the smoke teacher vit_t is (re)made with
# RUN="srun -c1", and its .meta must name the Slurm job it ran in. Skips, exit 0, with a clear
# message where Slurm cannot start (tools/slurm-up.sh says why), recorded by tests/skip.sh.
set -uo pipefail
PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
# shellcheck source=tools/need.sh
. tools/need.sh
need_commands
# shellcheck source=tests/skip.sh
. tests/skip.sh
skip() {
    skip_record slurm "slurm cannot start here: $*"
    echo "test_slurm_make: 0 passed, 0 failed (skipped)"
    exit 0
}
command -v srun >/dev/null 2>&1 || skip "srun not installed (apt-get install slurm-client)"
[ "$(id -u)" -eq 0 ] || skip "not root"
exec 9>/run/lock/kdlab-test-slurm.lock
flock -w 180 9 || skip "another Slurm test held the lock for 180 s"
was_up=0
[ -s /run/slurmctld.pid ] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null && was_up=1
err=$(tools/slurm-up.sh 2>&1 >/dev/null) || skip "$(last_error_line "$err" "slurm-up: error: ")"
[ "$was_up" = 1 ] || trap 'tools/slurm-down.sh >/dev/null' EXIT

stem=results/smoke/teachers/vit_t-s0
rm -f "$stem".*
pass=0 fail=0
if timeout 300 make --no-print-directory SCALE=smoke RUN="srun -c1 -t 10" "$stem.csv" >/dev/null; then
    pass=$((pass + 1))
else
    echo "FAIL: make with RUN=srun failed"; fail=$((fail + 1))
fi
job=$(awk '/^slurm_job:/ {print $2}' "$stem.meta" 2>/dev/null)
if [[ "$job" =~ ^[0-9]+$ ]]; then pass=$((pass + 1)); else
    echo "FAIL: $stem.meta names no Slurm job (got '$job')"; fail=$((fail + 1))
fi
threads=$(awk '/^threads:/ {print $2}' "$stem.meta" 2>/dev/null)
if [ "$threads" = 1 ]; then pass=$((pass + 1)); else
    echo "FAIL: srun -c1 should give 1 BLAS thread (got '$threads')"; fail=$((fail + 1))
fi
echo "test_slurm_make: slurm job $job, $threads thread(s)"
echo "test_slurm_make: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
