#!/usr/bin/env bash
# Crash safety of every kind of run: a run killed with SIGKILL at random moments leaves only
# whole files (the old version or the new one; .tmp leftovers are ignored), and re-running the
# same command resumes from STEM.part.ckpt to a CSV (timing columns aside) and checkpoint
# byte-identical to an uninterrupted run. The one loop's epochs (core/train/loop.h) as each kind
# of method uses them: supervised (bin/train), label-free (bin/mae, bin/tinymim with two trained
# sets), self-supervised (bin/moco: key encoder and queue; bin/seed seed_moco: teacher queue,
# student key encoder and key queue); its stages (bin/dcvit: a model whose shape depends on the
# stage); and TinyViT's teacher pass (bin/tinyvit_labels: a soft-label file written as it goes).
# Points fall between epochs and, every KD_RESUME_MINUTES, inside them (set small here).
# KD_KILL_SEED=N replays one sequence of kill times.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
# shellcheck source=tests/skip.sh
. "$(dirname "$0")/skip.sh"
root=$PWD
bin=$root/${KD_BIN:-bin}
seed=${KD_KILL_SEED:-$RANDOM}
RANDOM=$seed
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export KD_THREADS=1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "test_kill_resume: FAIL (KD_KILL_SEED=$seed): $*"; fail=$((fail + 1)); }

# Every file of stem $1 but .tmp ones must be whole: a CSV is a header plus rows of as many
# fields, ending in a newline; a checkpoint's last 4 bytes are the CRC32 of the rest.
check_whole() {
    local f
    for f in "$1".*; do
        case $f in *.tmp | *.log) continue ;; esac
        case $f in
        *.csv)
            if [ -n "$(tail -c1 "$f")" ] ||
                awk -F, 'NR == 1 {n = NF} NR > 1 && NF != n {bad = 1} END {exit !bad}' "$f"
            then bad "torn CSV $(basename "$f")"; else ok; fi ;;
        *.ckpt)
            if python3 -c 'import sys, zlib, struct
b = open(sys.argv[1], "rb").read()
sys.exit(len(b) < 8 or zlib.crc32(b[:-4]) != struct.unpack("<I", b[-4:])[0])' "$f"
            then ok; else bad "torn checkpoint $(basename "$f")"; fi ;;
        esac
    done
}

# A CSV without its timing columns (by name: every loop has its own header).
strip() {
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++)
                          keep[i] = $i != "seconds" && $i != "img_per_s" && $i != "peak_mb" &&
                                    $i !~ /^latency/}
             {o = ""; for (i = 1; i <= NF; i++) if (keep[i]) o = o (o == "" ? "" : ",") $i
              print o}' "$1"
}

# Start the command with --out $stem and SIGKILL it: after `after` ms (0: once its first resume
# point exists, then a random part of the rest). Returns 1 when the run got to its STEM.csv
# first (a kill while it exits counts as no kill).
kill_one() {
    local stem=$1 after=$2 span=$3 pid
    shift 3
    "$@" --out "$stem" 2>>"$stem.log" &
    pid=$!
    if [ "$after" -eq 0 ]; then
        while [ ! -e "$stem.part.ckpt" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.005; done
        after=$((RANDOM % (span / 4 + 1)))
    fi
    sleep "$(awk -v ms="$after" 'BEGIN {printf "%.3f", ms / 1000}')"
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
    else
        wait "$pid" || bad "$(basename "$stem"): a run failed: $(tail -n1 "$stem.log")"
    fi
    [ ! -e "$stem.csv" ]
}

# kill_resume NAME RANDOM_KILLS CMD...: an uninterrupted run, then RANDOM_KILLS kills at random
# moments and one after the first resume point (a run that ends before its kill starts over
# with less time), then the same command to the end; the results must be the same bytes.
kill_resume() {
    local name=$1 random_kills=$2 ref=$dir/$1.ref k=$dir/$1.k
    shift 2
    local t0 span kills=0 attempts=0 resumed f
    t0=$(date +%s%N)
    "$@" --out "$ref" 2>"$ref.log" || bad "$name: reference run failed: $(tail -n1 "$ref.log")"
    span=$((($(date +%s%N) - t0) / 1000000))
    while [ "$kills" -le "$random_kills" ] && [ "$attempts" -lt 15 ]; do
        attempts=$((attempts + 1))
        # between 20% and 90% of a whole run's time: mid-epoch, mid-evaluation or mid-write
        local after=$(((200 + 700 * RANDOM / 32768) * span / 1000))
        [ "$kills" -eq "$random_kills" ] && after=0
        if kill_one "$k" "$after" "$span" "$@"; then
            kills=$((kills + 1))
            check_whole "$k"
        else
            if ! cmp -s <(strip "$ref.csv") <(strip "$k.csv"); then
                bad "$name: STEM.csv written before the end"
            fi
            for f in "$k".*; do [[ $f == *.log ]] || rm -f "$f"; done
            span=$((span * 2 / 3))
        fi
    done
    [ "$kills" -gt "$random_kills" ] || bad "$name: $kills kills in $attempts runs"
    if [ ! -f "$k.csv" ]; then
        "$@" --out "$k" 2>>"$k.log" || bad "$name: final resume failed: $(tail -n1 "$k.log")"
    fi
    resumed=$(grep -Eo 'resuming after (epoch|stage|step) [0-9]+( of epoch [0-9]+)?' "$k.log" |
        awk '{print $3 == "step" ? $7 "." $4 : $4}' | paste -sd,)
    [ -n "$resumed" ] && ok || bad "$name: never resumed"
    if cmp -s <(strip "$ref.csv") <(strip "$k.csv"); then ok; else
        bad "$name: resumed CSV differs from the uninterrupted run:"
        diff <(strip "$ref.csv") <(strip "$k.csv")
    fi
    for f in ckpt bin yaml layout trial.csv; do
        [ -e "$ref.$f" ] || continue
        if cmp -s "$ref.$f" "$k.$f"; then ok; else bad "$name: resumed STEM.$f differs"; fi
    done
    for f in "$k".part.*; do [ -e "$f" ] && bad "$name: leftover $(basename "$f")"; done
    echo "test_kill_resume: $name: $kills kills, resumed after ${resumed:-none}"
}

kill_resume train 3 "$bin/train" configs/teachers/vit_t.yaml --scale smoke data.train_n=384 \
    data.test_n=128 optim.epochs=4 optim.batch=32 run.ckpt_every=1 model.dim=32 model.depth=2 \
    model.drop_path=0.1
# Points inside epochs alone (KD_RESUME_MINUTES: one about every 20 ms; run.ckpt_every 0: none
# between epochs): the epoch's loss, training accuracy and seconds go on from the point's sums.
KD_RESUME_MINUTES=0.0003 kill_resume inside 3 "$bin/train" configs/teachers/vit_t.yaml \
    --scale smoke data.train_n=384 data.test_n=128 optim.epochs=3 optim.batch=16 \
    run.ckpt_every=0 model.dim=32 model.depth=2 model.drop_path=0.1
grep -q 'resuming after step [0-9]* of epoch' "$dir/inside.k.log" && ok ||
    bad "inside: never resumed inside an epoch"

# A resume point made by another numerics version is not resumed: its STEM.part.meta records the
# key, and the run says why it starts over (KD_NUMERICS pretends the bump).
bump=("$bin/train" configs/teachers/vit_t.yaml --scale smoke data.train_n=384 data.test_n=128
      optim.epochs=4 optim.batch=32 run.ckpt_every=1 model.dim=32 model.depth=2)
if kill_one "$dir/bump" 0 1000 "${bump[@]}"; then
    [ -s "$dir/bump.part.meta" ] && ok || bad "bump: no STEM.part.meta beside the resume point"
    KD_NUMERICS=99 "${bump[@]}" --out "$dir/bump" 2>"$dir/bump2.log" ||
        bad "bump: run failed: $(tail -n1 "$dir/bump2.log")"
    grep -q 'stale (it was made by numerics version [0-9]*, the engine is at 99): starting over' \
        "$dir/bump2.log" && ok || bad "bump: no 'starting over' message: $(head -n1 "$dir/bump2.log")"
    grep -q 'resuming after' "$dir/bump2.log" && bad "bump: resumed another numerics' point" || ok
    grep -qx 'numerics: 99' "$dir/bump.meta" && ok || bad "bump: .meta does not record numerics 99"
else
    skip_record - "numerics bump: the run ended before its kill, no resume point to drop"
fi

# A resumed run's .meta gives the wall time of the whole run: the time before its resume point
# (STEM.part.meta records it) plus the stretch that finished it.
if kill_one "$dir/wall" 0 1000 "${bump[@]}"; then
    before=$(awk '/^wall_seconds:/ {print $2}' "$dir/wall.part.meta")
    t0=$(date +%s.%N)
    "${bump[@]}" --out "$dir/wall" 2>"$dir/wall2.log" || bad "wall: $(tail -n1 "$dir/wall2.log")"
    last=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {print t1 - t0}')
    total=$(awk '/^wall_seconds:/ {print $2}' "$dir/wall.meta")
    awk -v b="$before" -v l="$last" -v t="$total" 'BEGIN {exit !(b > 0 && t >= b + l - 0.2)}' &&
        ok || bad "wall: .meta says $total s, the run took $before s to its point and $last s after"
else
    skip_record - "wall time: the run ended before its kill, nothing to resume"
fi

# The teachers of tinymim and seed are found by config path, so the rest runs in a scratch copy
# of configs/ with a tiny MAE and MoCo teacher trained first.
mkdir -p "$dir/configs/tinymim/mae" "$dir/configs/tinymim/distill" "$dir/configs/seed/teachers" \
    "$dir/configs/seed/table4" "$dir/configs/teachers" "$dir/configs/dcvit/macs" \
    "$dir/configs/tinyvit/labels" "$dir/configs/teachers/nols"
cp -r configs/base "$dir/configs/"
sed 's/depth: 8/depth: 2/' configs/tinymim/mae/mae_s.yaml >"$dir/configs/tinymim/mae/mae_s.yaml"
cp configs/tinymim/distill/relation.yaml "$dir/configs/tinymim/distill/"
cp configs/seed/table4/seed_moco.yaml "$dir/configs/seed/table4/"
cat >"$dir/configs/seed/teachers/moco_t.yaml" <<'EOF'
base: ../../base/seed_ssl.yaml
kind: moco
model: {dim: 16, depth: 1, heads: 2}
scale:
  smoke: {data.train_n: 128, data.test_n: 64, seed.queue: 64, seed.monitor_n: 32,
          seed.probe_epochs: 2}
EOF
cp configs/dcvit/macs/dcvit_r2.yaml "$dir/configs/dcvit/macs/"
cp configs/tinyvit/labels/vit_s_k10.yaml "$dir/configs/tinyvit/labels/"
# shellcheck source=tests/lib_kinds.sh
. tests/lib_kinds.sh
kinds_tiny_teachers "$dir" ""
cd "$dir"
tiny=(--scale smoke data.train_n=128 data.test_n=64 optim.batch=32 optim.epochs=4
      run.ckpt_every=1)
# 128 images an epoch into a queue of 112: its position after epochs 1..3 is 16, 32, 48.
ssl=(seed.queue=112 seed.monitor_n=32 seed.probe_epochs=2 model.dim=16 model.depth=1
     model.heads=2)
# the teacher's sizes in its YAML: a result made with overrides is not read (run_result_check)
source "$root/tests/shrink.sh"
shrink configs/tinymim/mae/mae_s.yaml "${tiny[@]:2}"
"$bin/mae" configs/tinymim/mae/mae_s.yaml --scale smoke 2>"$dir/mae_teacher.log" ||
    bad "MAE teacher: $(tail -n1 "$dir/mae_teacher.log")"
"$bin/moco" configs/seed/teachers/moco_t.yaml --scale smoke 2>"$dir/moco_teacher.log" ||
    bad "MoCo teacher: $(tail -n1 "$dir/moco_teacher.log")"
export KD_RESUME_MINUTES=0.0003
kill_resume mae 1 "$bin/mae" configs/tinymim/mae/mae_s.yaml "${tiny[@]}"
kill_resume tinymim 1 "$bin/tinymim" configs/tinymim/distill/relation.yaml "${tiny[@]}" \
    tinymim.target=feature
kill_resume moco 1 "$bin/moco" configs/seed/teachers/moco_t.yaml "${tiny[@]}" "${ssl[@]}"
kill_resume seed 1 "$bin/seed" configs/seed/table4/seed_moco.yaml "${tiny[@]}" "${ssl[@]}" \
    teacher=configs/seed/teachers/moco_t.yaml
unset KD_RESUME_MINUTES
"$bin/train" configs/teachers/vit_s.yaml --scale smoke --out results/smoke/teachers/vit_s-s0 \
    2>"$dir/vit_s_teacher.log" || bad "ViT teacher: $(tail -n1 "$dir/vit_s_teacher.log")"
"$bin/train" configs/teachers/nols/vit_s.yaml --scale smoke \
    --out results/smoke/teachers/nols/vit_s-s0 2>"$dir/vit_s_teacher.log" ||
    bad "ViT teacher without smoothing: $(tail -n1 "$dir/vit_s_teacher.log")"
kill_resume labels 1 "$bin/tinyvit_labels" configs/tinyvit/labels/vit_s_k10.yaml "${tiny[@]}" \
    data.train_n=512
# A labels file cut short under its resume point is refused with the file and the fix.
labels=("$bin/tinyvit_labels" configs/tinyvit/labels/vit_s_k10.yaml "${tiny[@]}" data.train_n=512)
if kill_one "$dir/cut" 0 1000 "${labels[@]}" && [ -e "$dir/cut.bin.tmp" ]; then
    truncate -s 100 "$dir/cut.bin.tmp"
    "${labels[@]}" --out "$dir/cut" 2>>"$dir/cut.log" && bad "cut: a truncated labels file resumed"
    tail -n1 "$dir/cut.log" | grep -q 'cut.bin.tmp: .*does not hold the .*delete the .part' &&
        ok || bad "cut: unclear error: $(tail -n1 "$dir/cut.log")"
else
    skip_record - "cut labels file: the run ended before its kill, nothing to cut"
fi
# Stopped after committing its labels file but before clearing its resume point, a run goes on
# from the committed file (its records up to the point) and ends as the uninterrupted run.
if kill_one "$dir/late" 0 0 "${labels[@]}"; then
    mkdir "$dir/late.points" && cp "$dir"/late.part.* "$dir/late.points/"
    "${labels[@]}" --out "$dir/late" 2>>"$dir/late.log" ||
        bad "late: resume failed: $(tail -n1 "$dir/late.log")"
    cp "$dir"/late.points/* "$dir/" # the point back beside the committed file
    [ -e "$dir/late.bin" ] && [ ! -e "$dir/late.bin.tmp" ] && ok || bad "late: not the window"
    "${labels[@]}" --out "$dir/late" 2>>"$dir/late.log" ||
        bad "late: resume beside the committed file failed: $(tail -n1 "$dir/late.log")"
    cmp -s "$dir/labels.ref.bin" "$dir/late.bin" && ok ||
        bad "late: labels file differs from the uninterrupted run"
    cmp -s <(strip "$dir/labels.ref.csv") <(strip "$dir/late.csv") && ok ||
        bad "late: CSV differs from the uninterrupted run"
    for f in "$dir"/late.part.*; do [ -e "$f" ] && bad "late: leftover $(basename "$f")"; done
else
    skip_record - "committed labels file: the run ended before its kill"
fi
kill_resume dcvit 1 "$bin/dcvit" configs/dcvit/macs/dcvit_r2.yaml --scale smoke dcvit.metric=real \
    data.test_n=64 dcvit.trial_steps=20 dcvit.steps=30

# A resume point older than the teacher it was trained from is not resumed: the run says so and
# starts over (ending as the uninterrupted run here, the teacher's weights being the same).
remade=("$bin/tinymim" configs/tinymim/distill/relation.yaml "${tiny[@]}" tinymim.target=feature)
if kill_one "$dir/remade" 0 1000 "${remade[@]}"; then
    [ -e "$dir/remade.part.ckpt" ] || bad "remade: no resume point after the kill"
    touch -d '+2 seconds' results/smoke/tinymim/mae/mae_s-s0.csv # the teacher made again
    "${remade[@]}" --out "$dir/remade" 2>>"$dir/remade.log" ||
        bad "remade: run failed: $(tail -n1 "$dir/remade.log")"
    grep -q 'mae_s-s0.csv is newer than the resume point: starting over' "$dir/remade.log" &&
        ok || bad "remade: no 'starting over' message"
    grep -q 'resuming after' "$dir/remade.log" && bad "remade: resumed past a newer teacher" || ok
    cmp -s <(strip "$dir/tinymim.ref.csv") <(strip "$dir/remade.csv") && ok ||
        bad "remade: result differs from the uninterrupted run"
else
    skip_record - "remade teacher: the run ended before its kill, no resume point to drop"
fi
cd "$root"
echo "test_kill_resume: KD_KILL_SEED=$seed: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
