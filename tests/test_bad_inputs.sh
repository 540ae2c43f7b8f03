#!/usr/bin/env bash
# The table of bad inputs: each one is tried on bin/train (bin/mae for a resume point of several
# parameter sets, bin/mae and bin/moco for the NaN guard of other kinds of run) and must give a
# non-zero exit (no signal, no sanitizer report), a one-line error naming the file (or the
# command line) with a fix, and no result files (STEM.csv, STEM.ckpt, STEM.yaml). The table of
# input -> message is written to tests/BAD_INPUTS.md (rewritten when a message changes; temp
# paths shown as <tmp>).
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "$0")/../tools/need.sh" && need_commands
bin=${KD_BIN:-bin}
root=$(pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cfg=configs/teachers/vit_t.yaml
data=/usr/share/datasets/fashion-mnist
small=(--scale smoke data.train_n=128 data.test_n=64 optim.epochs=2 optim.batch=32
       run.ckpt_every=1 model.dim=32 model.depth=1)
export KD_THREADS=1
pass=0 fail=0
table=$dir/table.md

# try NAME "WHAT" "EXPECT_WHERE" "EXPECT_TEXT" STEM -- command...: run, check, add a table row.
try() {
    local name=$1 what=$2 where=$3 text=$4 stem=$5
    shift 6
    "$@" >"$dir/$name.out" 2>"$dir/$name.err"
    local rc=$? msg problems=()
    msg=$(grep -v '^\[' "$dir/$name.err" | tail -n1)
    [ "$rc" -ne 0 ] || problems+=("exit status 0")
    [ "$rc" -lt 128 ] || problems+=("killed by signal $((rc - 128))")
    grep -qE 'Sanitizer|runtime error|internal error' "$dir/$name.err" && problems+=("sanitizer")
    [[ $msg == *"$where"* ]] || problems+=("message does not name '$where'")
    [[ $msg == *"$text"* ]] || problems+=("message does not say '$text'")
    [[ $msg == *"(fix: "* ]] || problems+=("message gives no fix")
    [ "$(grep -cv '^\[' "$dir/$name.err")" -eq 1 ] || problems+=("more than one line")
    local f
    for f in "$stem.csv" "$stem.ckpt" "$stem.yaml"; do
        [ -n "$stem" ] && [ -e "$f" ] && problems+=("result file $(basename "$f") written")
    done
    if [ ${#problems[@]} -eq 0 ]; then pass=$((pass + 1)); else
        fail=$((fail + 1))
        echo "test_bad_inputs: FAIL $name: ${problems[*]} (exit $rc): $(tail -n3 "$dir/$name.err")"
    fi
    local cmd="$*" args="${small[*]}"
    cmd=${cmd//$args/<small>}
    cmd=${cmd//$dir/<tmp>}
    cmd=${cmd//$root\//}
    cmd=${cmd//$bin\//bin/}
    msg=${msg//$dir/<tmp>}
    msg=${msg//$root\//}
    msg=${msg//$bin\//bin/}
    msg=${msg//\`/\'}
    msg=${msg//process $$ /process <pid> }
    msg=${msg//kill $$)/kill <pid>)}
    printf '| %s | `%s` | %s | `%s` |\n' "$what" "$cmd" "$rc" "$msg" >>"$table"
}

# --- config files (in cfg/, apart from the output stems)
mkdir -p "$dir/cfg"
printf 'base: %s/%s\nmodel:\n  drop_pth: 0.1\n' "$root" "$cfg" >"$dir/cfg/typo.yaml"
printf 'base: %s/%s\nlearning_rate: 0.1\n' "$root" "$cfg" >"$dir/cfg/unknown.yaml"
printf 'base: %s/%s\noptim:\n  lr: fast\n' "$root" "$cfg" >"$dir/cfg/type.yaml"
printf 'base: nope.yaml\nkind: train\n' >"$dir/cfg/nobase.yaml"
printf 'base: %s/%s\nmodel: [dim: 3\n' "$root" "$cfg" >"$dir/cfg/syntax.yaml"
printf 'base: %s/%s\nmodel:\n  patch: 5\n' "$root" "$cfg" >"$dir/cfg/cross.yaml"
printf 'base: %s/%s\nmodel:\n\tdim: 32\n' "$root" "$cfg" >"$dir/cfg/tab.yaml"
: >"$dir/cfg/empty.yaml"
try typo "YAML key typo" typo.yaml "did you mean" "$dir/typo" -- \
    "$bin/train" "$dir/cfg/typo.yaml" "${small[@]}" --out "$dir/typo"
try unknown "unknown YAML key" unknown.yaml "unknown key" "$dir/unknown" -- \
    "$bin/train" "$dir/cfg/unknown.yaml" "${small[@]}" --out "$dir/unknown"
try type "wrong value type" type.yaml "optim.lr" "$dir/type" -- \
    "$bin/train" "$dir/cfg/type.yaml" "${small[@]}" --out "$dir/type"
try nobase "missing base file" nobase.yaml "nope.yaml" "$dir/nobase" -- \
    "$bin/train" "$dir/cfg/nobase.yaml" "${small[@]}" --out "$dir/nobase"
try syntax "YAML syntax error" syntax.yaml "syntax" "$dir/syntax" -- \
    "$bin/train" "$dir/cfg/syntax.yaml" "${small[@]}" --out "$dir/syntax"
try cross "keys that contradict each other" cross.yaml "model.patch" "$dir/cross" -- \
    "$bin/train" "$dir/cfg/cross.yaml" "${small[@]}" --out "$dir/cross"
try tab "YAML indented with a tab" tab.yaml "a tab indents this line" "$dir/tab" -- \
    "$bin/train" "$dir/cfg/tab.yaml" "${small[@]}" --out "$dir/tab"
try empty "empty config (no kind, base or model)" empty.yaml "no 'kind'" "$dir/empty" -- \
    "$bin/train" "$dir/cfg/empty.yaml" --scale smoke --out "$dir/empty"
try kind "another program's config" k05.yaml "bin/tinyvit_distill" "$dir/kind" -- \
    "$bin/train" configs/tinyvit/topk/k05.yaml "${small[@]}" --out "$dir/kind"
try lrdecay "layer-wise lr decay on a non-ViT" "<command line>" "optim.layer_decay" "$dir/lrd" -- \
    "$bin/train" "$cfg" "${small[@]}" model.arch=tinyvit optim.layer_decay=0.6 --out "$dir/lrd"
try bigaug "RandAugment on images too large for it" "<command line>" "RandAugment" \
    "$dir/bigaug" -- "$bin/train" "$cfg" "${small[@]}" model.img=128 model.in_ch=3 \
    data.randaug_n=2 --out "$dir/bigaug"
try noconfig "missing config file" nope.yaml "cannot open" "$dir/noconfig" -- \
    "$bin/train" "$dir/cfg/nope.yaml" "${small[@]}" --out "$dir/noconfig"

# --- command line
try noargs "no arguments" "usage:" "CONFIG.yaml" "" -- "$bin/train"
try twoconfigs "two config files" "usage:" "CONFIG.yaml" "$dir/two" -- \
    "$bin/train" "$cfg" "$cfg" "${small[@]}" --out "$dir/two"
try badscale "unknown --scale" "<command line>" "huge" "$dir/scale" -- \
    "$bin/train" "$cfg" --scale huge --out "$dir/scale"
try badkey "override of an unknown key" "<command line>" "optim.lrr" "$dir/key" -- \
    "$bin/train" "$cfg" "${small[@]}" optim.lrr=0.1 --out "$dir/key"
try range "override out of range" "<command line>" "out of range" "$dir/range" -- \
    "$bin/train" "$cfg" "${small[@]}" optim.lr=1e6 --out "$dir/range"

# --- data
mkdir -p "$dir/trunc"
cp "$data"/*labels* "$dir/trunc/"
head -c 200000 "$data/train-images-idx3-ubyte.gz" >"$dir/trunc/train-images-idx3-ubyte.gz"
try nodata "missing data folder" "$dir/nodata/train-" "check data.dir" "$dir/nodata" -- \
    "$bin/train" "$cfg" "${small[@]}" data.dir="$dir/nodata" --out "$dir/nodata"
try truncdata "truncated data file" "trunc/train-images" "replace it" "$dir/truncdata" -- \
    "$bin/train" "$cfg" "${small[@]}" data.dir="$dir/trunc" --out "$dir/truncdata"
for f in nodata truncdata; do # a user's own folder is not Debian's package to install again
    if grep -q 'dataset-fashion-mnist' "$dir/$f.err"; then
        fail=$((fail + 1))
        echo "test_bad_inputs: FAIL $f: names Debian's package for data.dir=$dir/..."
    else pass=$((pass + 1)); fi
done

# --- training faults and resume points. Epoch 1 has 4 steps: a NaN at step 5 (epoch 2) must
# stop the run naming step and layer, keep epoch 1's resume point and write no result.
KD_FAULT_NAN_STEP=5 try nan "NaN gradient in epoch 2 (KD_FAULT_NAN_STEP=5)" "$cfg" \
    "not finite at epoch 2 step 5" "$dir/nan" -- \
    "$bin/train" "$cfg" "${small[@]}" --out "$dir/nan"
if [ -f "$dir/nan.part.ckpt" ] && [ "$(wc -l <"$dir/nan.part.csv")" -eq 2 ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    echo "test_bad_inputs: FAIL nan: epoch 1's resume point (.part.ckpt, .part.csv) is gone"
fi
for c in trunc flip other; do
    cp "$dir/nan.part.ckpt" "$dir/$c.part.ckpt"
    cp "$dir/nan.part.csv" "$dir/$c.part.csv"
done
size=$(stat -c %s "$dir/nan.part.ckpt")
truncate -s $((size / 2)) "$dir/trunc.part.ckpt"
printf '\xff' | dd of="$dir/flip.part.ckpt" bs=1 seek=$((size / 2)) conv=notrunc status=none
try ckpttrunc "truncated checkpoint (resume point)" trunc.part.ckpt "truncated" "$dir/trunc" -- \
    "$bin/train" "$cfg" "${small[@]}" --out "$dir/trunc"
try ckptflip "corrupted checkpoint (one byte)" flip.part.ckpt "corrupted" "$dir/flip" -- \
    "$bin/train" "$cfg" "${small[@]}" --out "$dir/flip"
try ckptother "checkpoint of another config" other.part.ckpt "model.dim" "$dir/other" -- \
    "$bin/train" "$cfg" "${small[@]}" model.dim=64 --out "$dir/other"
# A second process on a stem being made (this shell holds its lock, as a run does) must stop
# before it touches the stem's files: both would write the same STEM.<ext>.tmp.
cp "$dir/nan.part.ckpt" "$dir/busy.part.ckpt"
cp "$dir/nan.part.csv" "$dir/busy.part.csv"
exec 8>"$dir/busy.run.lock"
flock 8 && echo $$ >&8
try busy "a stem another process is making" busy.run.lock "process $$ is making" "$dir/busy" -- \
    "$bin/train" "$cfg" "${small[@]}" --out "$dir/busy"
exec 8>&-
if cmp -s "$dir/nan.part.ckpt" "$dir/busy.part.ckpt" && cmp -s "$dir/nan.part.csv" "$dir/busy.part.csv"
then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "test_bad_inputs: FAIL busy: the resume point of the stem being made was changed"
fi

# --- a resume point of several parameter sets (bin/mae: encoder and decoder, two optimizers).
# A folder where the final checkpoint goes stops the run after epoch 1's resume point.
mae=(configs/tinymim/mae/mae_s.yaml --scale smoke data.train_n=64 data.test_n=64 optim.batch=32
     optim.epochs=2 run.ckpt_every=1 model.depth=1)
mkdir -p "$dir/maepart.ckpt"
"$bin/mae" "${mae[@]}" --out "$dir/maepart" 2>/dev/null
if [ -f "$dir/maepart.part.ckpt" ] && [ -f "$dir/maepart.part.csv" ]; then
    pass=$((pass + 1))
    cp "$dir/maepart.part.ckpt" "$dir/maetrunc.part.ckpt"
    cp "$dir/maepart.part.csv" "$dir/maetrunc.part.csv"
    truncate -s $(($(stat -c %s "$dir/maepart.part.ckpt") / 2)) "$dir/maetrunc.part.ckpt"
    cp "$dir/maepart.part.ckpt" "$dir/maerows.part.ckpt"
else
    fail=$((fail + 1))
    echo "test_bad_inputs: FAIL maepart: bin/mae left no resume point"
fi
try maetrunc "truncated resume point of several sets" maetrunc.part.ckpt \
    "delete the .part.* files" "$dir/maetrunc" -- "$bin/mae" "${mae[@]}" --out "$dir/maetrunc"
try maerows "resume point without its rows" maerows.part.csv "holds 0 rows" "$dir/maerows" -- \
    "$bin/mae" "${mae[@]}" --out "$dir/maerows"

# --- the NaN guard of every kind of run (the one loop, core/train/loop.h): label-free
# pretraining and self-supervised training stop naming the step and the tensor, as training does.
KD_FAULT_NAN_STEP=1 try maenan "NaN gradient in MAE pretraining (KD_FAULT_NAN_STEP=1)" \
    mae_s.yaml "gradient of 'patch_embed.proj.weight' is not finite at epoch 1 step 1" \
    "$dir/maenan" -- "$bin/mae" "${mae[@]}" --out "$dir/maenan"
moco=(configs/seed/teachers/moco_t.yaml --scale smoke data.train_n=64 data.test_n=64
      optim.batch=32 optim.epochs=1 model.depth=1 seed.queue=64 seed.monitor_n=32)
KD_FAULT_NAN_STEP=1 try moconan "NaN gradient in MoCo (KD_FAULT_NAN_STEP=1)" moco_t.yaml \
    "gradient of 'patch_embed.proj.weight' is not finite at epoch 1 step 1" "$dir/moconan" -- \
    "$bin/moco" "${moco[@]}" --out "$dir/moconan"

# --- results one run reads from another (a teacher), in a scratch copy of configs/ whose ViT-t
# teacher (the one without label smoothing, which TinyViT's labels pass reads) is tiny. A run by
# hand with overrides writes its own stem; one written to the table's stem anyway (--out) is
# refused by every reader; a broken teacher names the make that remakes it.
case $bin in /*) abin=$bin ;; *) abin=$root/$bin ;; esac
mkdir -p "$dir/work" && cp -r configs "$dir/work/"
cat >"$dir/work/configs/teachers/nols/vit_t.yaml" <<'EOF'
base: ../../base/vit.yaml
kind: train
model: {dim: 16, depth: 1, heads: 2}
data: {train_n: 128, test_n: 64}
optim.batch: 32
optim.label_smoothing: 0.0
EOF
cd "$dir/work"
tcfg=configs/teachers/nols/vit_t.yaml
teacher=results/smoke/teachers/nols/vit_t-s0
labels=("$abin/tinyvit_labels" configs/tinyvit/labels/vit_t_k10.yaml --scale smoke)
"$abin/train" $tcfg --scale smoke optim.lr=5e-4 2>/dev/null
if [ -f "results/smoke/teachers/nols/vit_t+optim.lr=5e-4-s0.csv" ] && [ ! -e "$teacher.csv" ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    echo "test_bad_inputs: FAIL a run with overrides and no --out wrote: $(ls results/smoke/teachers)"
fi
"$abin/train" $tcfg --scale smoke optim.lr=5e-4 --out "$teacher" 2>/dev/null
try overteacher "teacher written to its table's stem with overrides" "$teacher.meta" \
    "make rerun CONFIG=configs/teachers/nols/vit_t.yaml SCALE=smoke" "$dir/labels" -- \
    "${labels[@]}" --out "$dir/labels"
# a point of kdlab-teachers (configs/teachers/vit_t.yaml), made with overrides into its stem
cat >configs/teachers/vit_t.yaml <<'EOF'
base: ../base/vit.yaml
kind: train
model: {dim: 16, depth: 1, heads: 2}
data: {train_n: 128, test_n: 64}
optim.batch: 32
EOF
"$abin/train" configs/teachers/vit_t.yaml --scale smoke optim.lr=5e-4 \
    --out results/smoke/teachers/vit_t-s0 2>/dev/null
try overreport "table of a result written with overrides" results/smoke/teachers/vit_t-s0.meta \
    "make rerun CONFIG=configs/teachers/vit_t.yaml SCALE=smoke" "" -- \
    "$abin/report" smoke kdlab-teachers results/smoke/teachers/vit_t-s0.csv
"$abin/train" $tcfg --scale smoke --out "$teacher" run.seed=0 2>/dev/null
size=$(stat -c %s "$teacher.ckpt")
printf '\xff' | dd of="$teacher.ckpt" bs=1 seek=$((size / 2)) conv=notrunc status=none
try teacherflip "corrupted teacher checkpoint" "$teacher.ckpt" \
    "make rerun CONFIG=configs/teachers/nols/vit_t.yaml SCALE=smoke" "$dir/flipped" -- \
    "${labels[@]}" --out "$dir/flipped"
rm "$teacher.ckpt"
try teachergone "teacher checkpoint deleted, its CSV kept" "$teacher.ckpt" \
    "make rerun CONFIG=configs/teachers/nols/vit_t.yaml SCALE=smoke" "$dir/gone" -- \
    "${labels[@]}" --out "$dir/gone"
# a checkpoint with neither CSV nor .meta (put there by hand, or left by a run whose other files
# are gone): what made it is unknown, so it is not read
"$abin/train" $tcfg --scale smoke --out "$teacher" run.seed=0 2>/dev/null
rm "$teacher.csv" "$teacher.meta"
try teacherstray "teacher checkpoint without its CSV and .meta" "$teacher.meta" \
    "what made $teacher.ckpt is unknown" "$dir/stray" -- "${labels[@]}" --out "$dir/stray"
cd "$root"

# --- every program answers --help with its usage on stdout and exit 0
for p in "$bin"/*; do
    [ -x "$p" ] || continue
    if "$p" --help 2>/dev/null | head -n1 | grep -q '^usage: '; then pass=$((pass + 1)); else
        fail=$((fail + 1))
        echo "test_bad_inputs: FAIL $(basename "$p") --help: no usage on stdout, or exit not 0"
    fi
done

{
    echo "# Bad inputs and what they get"
    echo
    echo "Written by tests/test_bad_inputs.sh (\`make unit-tests\`), which checks each row: exit"
    echo "status non-zero and not a signal, one error line naming the file (or the command line)"
    echo "with a fix, no result file written. <tmp> is the test's temporary folder; <small> is"
    echo "\`${small[*]}\`."
    echo
    echo "| input | command | exit | message |"
    echo "|---|---|---|---|"
    cat "$table"
} >"$dir/BAD_INPUTS.md"
if ! cmp -s "$dir/BAD_INPUTS.md" tests/BAD_INPUTS.md; then
    cp "$dir/BAD_INPUTS.md" tests/BAD_INPUTS.md
    echo "test_bad_inputs: tests/BAD_INPUTS.md updated"
fi
echo "test_bad_inputs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
