#!/usr/bin/env bash
# Crash safety: a training run killed with SIGKILL at random moments leaves only whole files
# (the old version or the new one; .tmp leftovers are ignored), and re-running the same command
# resumes from STEM.part.ckpt to a CSV (timing columns aside) and checkpoint byte-identical to
# an uninterrupted run. KD_KILL_SEED=N replays one sequence of kill times.
set -uo pipefail
bin=${KD_BIN:-bin}
seed=${KD_KILL_SEED:-$RANDOM}
RANDOM=$seed
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg=configs/teachers/vit_t.yaml
args=(--scale smoke data.train_n=384 data.test_n=128 optim.epochs=4 optim.batch=32
      run.ckpt_every=1 model.dim=32 model.depth=2 model.drop_path=0.1)
export KD_THREADS=1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "test_kill_resume: FAIL (KD_KILL_SEED=$seed): $*"; fail=$((fail + 1)); }

# Every file but .tmp ones must be whole: a CSV is a header plus complete 9-field rows ending in
# a newline; a checkpoint's last 4 bytes are the CRC32 of the rest.
check_whole() {
    local f
    for f in "$dir"/k.*; do
        case $f in *.tmp | *.log) continue ;; esac
        case $f in
        *.csv)
            if [ -n "$(tail -c1 "$f")" ] || awk -F, 'NR > 1 && NF != 9 {bad = 1} END {exit !bad}' "$f"
            then bad "torn CSV $(basename "$f")"; else ok; fi ;;
        *.ckpt)
            if python3 -c 'import sys, zlib, struct
b = open(sys.argv[1], "rb").read()
sys.exit(len(b) < 8 or zlib.crc32(b[:-4]) != struct.unpack("<I", b[-4:])[0])' "$f"
            then ok; else bad "torn checkpoint $(basename "$f")"; fi ;;
        esac
    done
}

t0=$(date +%s%N)
"$bin/train" "$cfg" "${args[@]}" --out "$dir/ref" 2>"$dir/ref.log" || bad "reference run failed"
span=$(( ($(date +%s%N) - t0) / 1000000 ))   # ms of one whole run

# Kill three runs (a run that ends before its kill starts over with less time), then let the
# same command finish.
kills=0 attempts=0
while [ "$kills" -lt 3 ] && [ "$attempts" -lt 15 ]; do
    attempts=$((attempts + 1))
    "$bin/train" "$cfg" "${args[@]}" --out "$dir/k" 2>>"$dir/k.log" &
    pid=$!
    # between 20% and 90% of a whole run's time: mid-epoch, mid-evaluation or mid-write
    sleep "$(awk -v r=$RANDOM -v s="$span" 'BEGIN {printf "%.3f", (0.2 + 0.7 * r / 32768) * s / 1000}')"
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
        [ -f "$dir/k.csv" ] && bad "STEM.csv exists after a kill before the end"
        check_whole
    else
        wait "$pid" || bad "run $attempts failed: $(tail -n1 "$dir/k.log")"
        rm -f "$dir"/k.*
        span=$((span * 2 / 3))
    fi
done
if [ ! -f "$dir/k.csv" ]; then
    "$bin/train" "$cfg" "${args[@]}" --out "$dir/k" 2>>"$dir/k.log" || bad "final resume failed"
fi
resumed=$(grep -c 'resuming after epoch' "$dir/k.log")
strip() { cut -d, -f1-6 "$1"; }
if cmp -s <(strip "$dir/ref.csv") <(strip "$dir/k.csv"); then ok; else
    bad "resumed CSV differs from the uninterrupted run:"
    diff <(strip "$dir/ref.csv") <(strip "$dir/k.csv")
fi
if cmp -s "$dir/ref.ckpt" "$dir/k.ckpt"; then ok; else bad "resumed checkpoint differs"; fi
if cmp -s "$dir/ref.yaml" "$dir/k.yaml"; then ok; else bad "resolved config differs"; fi
for f in "$dir"/k.part.*; do [ -e "$f" ] && bad "leftover $(basename "$f")"; done
echo "test_kill_resume: $kills kills (KD_KILL_SEED=$seed), $resumed resumes"
echo "test_kill_resume: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
