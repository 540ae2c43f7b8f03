#!/usr/bin/env bash
# Slurm dispatch for real: bring up the single-node cluster (tools/slurm-up.sh), run one srun
# step and one sbatch job array that write files to /tmp, check them, bring the cluster down
# (only if this test brought it up). Skips, exit 0, with "SKIP: slurm cannot start here: ..."
# when the packages are missing, we are not root, or the daemons cannot start; the skip is
# recorded (tests/skip.sh) and fails `make test` under CI=true.
set -uo pipefail
PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/need.sh
. "$here/tools/need.sh"
need_commands
# shellcheck source=tests/skip.sh
. "$here/tests/skip.sh"
passed=0
failed=0
check() {   # description command...
    local what=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "tests/test_slurm.sh: FAIL: $what" >&2
    fi
}
skip() {
    skip_record slurm "slurm cannot start here: $*"
    echo "test_slurm: 0 passed, 0 failed (skipped)"
    exit 0
}

for cmd in slurmctld slurmd munged srun sbatch sinfo; do
    command -v "$cmd" >/dev/null 2>&1 ||
        skip "'$cmd' not installed (apt-get install slurmctld slurmd slurm-client munge)"
done
[ "$(id -u)" -eq 0 ] || skip "not root"

# One Slurm test at a time on this machine: the cluster is machine-wide.
exec 9>/run/lock/kdlab-test-slurm.lock
flock -w 180 9 || skip "another test_slurm held the lock for 180 s"

was_up=0
[ -s /run/slurmctld.pid ] && kill -0 "$(cat /run/slurmctld.pid)" 2>/dev/null && was_up=1
if ! err=$("$here/tools/slurm-up.sh" 2>&1 >/dev/null); then
    skip "$(last_error_line "$err" "slurm-up: error: ")"
fi

work=$(mktemp -d /tmp/kdlab-test-slurm.XXXXXX)
cleanup() {
    rm -rf "$work"
    [ "$was_up" = 1 ] || "$here/tools/slurm-down.sh" >/dev/null
}
trap cleanup EXIT

check "srun -n1 -c1 true" timeout 60 srun -n1 -c1 -t 1 true
cpt=$(timeout 60 srun -n1 -c1 -t 1 printenv SLURM_CPUS_PER_TASK 2>/dev/null)
check "srun -c1 sets SLURM_CPUS_PER_TASK=1 (got '$cpt')" [ "$cpt" = 1 ]

# shellcheck disable=SC2016  # the $SLURM_* variables expand inside the job, not here
job='i=$SLURM_ARRAY_TASK_ID; echo "task $i cpus $SLURM_CPUS_PER_TASK" >'"$work"'/out-$i.txt'
timeout 120 sbatch --wait --array=0-1 -c1 -t 2 -J kdlab-test --output="$work/log-%a.txt" \
    --wrap "$job" \
    >"$work/sbatch.txt" 2>&1
rc=$?
check "sbatch --wait --array=0-1 exit status 0 (got $rc: $(tr '\n' ' ' <"$work/sbatch.txt"))" \
    [ "$rc" = 0 ]
for i in 0 1; do
    got=$(cat "$work/out-$i.txt" 2>/dev/null)
    check "array task $i wrote 'task $i cpus 1' (got '$got')" [ "$got" = "task $i cpus 1" ]
done

echo "test_slurm: $passed passed, $failed failed"
[ "$failed" = 0 ]
