#!/usr/bin/env bash
# Progress on stderr, seen as a person sees it. Under a pseudo-terminal (script(1)) a training
# run redraws one bar in place (\r, step count, loss, img/s, ETA) and clears it before its epoch
# line; without a terminal, run.log_every=5 prints a plain line every 5 steps and 0 none; a
# parallel make gives plain lines on a terminal too. Every loop kind prints its steps. Make
# numbers its runs "RUN k/N" out of the runs the goals need, under -j2 too (in a scratch copy of
# the work tree, with RUN=true so that nothing really runs).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/${KD_BIN:-bin}
W=$(mktemp -d /tmp/kd_progress.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "test_progress: FAIL: $*"; fail=$((fail + 1)); }
# 16 steps of 32 images
train=("$bin/train" configs/teachers/vit_t.yaml --scale smoke data.train_n=512 data.test_n=64
       optim.batch=32)

# 1. a terminal: bar redrawn with \r, ETA, cleared before the epoch line
if command -v script >/dev/null; then
    script -qfec "${train[*]} --out $W/tty" /dev/null >"$W/tty.out" 2>&1
    bars=$(tr '\r' '\n' <"$W/tty.out" | grep -cE '^\[[^]]*\] \[[=> ]+\] [0-9]+/16 loss [0-9.]+ [0-9,]+ img/s ETA [0-9]+:[0-9]{2}')
    [ "$bars" -ge 2 ] && ok || bad "tty: $bars bars redrawn, want 2 or more: $(cat -v "$W/tty.out" | head -c 600)"
    grep -q $'16/16 loss [0-9.]* [0-9,]* img/s ETA 0:00\e\\[K\r\e\\[K\\[' "$W/tty.out" && ok ||
        bad "tty: the last bar is not cleared before the epoch line: $(cat -v "$W/tty.out" | tail -c 400)"
    grep -q 'epoch 1/1 loss' "$W/tty.out" && ok || bad "tty: no epoch line"
    grep -q ' step ' "$W/tty.out" && bad "tty: plain step lines on a terminal" || ok
    # bin/bench: a bar for its kdlab child's 3 training and 3 inference steps (on a terminal wide
    # enough for its whole label: at 80 columns a fast machine's rates took the label's first
    # two characters)
    mkdir -p "$W/bench/results"
    (cd "$W/bench" && script -qfec "stty cols 160; $bin/bench --no-torch --steps 1 --threads 1" /dev/null \
        >"$W/bench.out" 2>&1)
    grep -q $'\r\\[bench kdlab x1 patch 4 dim 192\\] \\[.*\\] 6/6 .* img/s ETA ' \
        "$W/bench.out" && ok || bad "bench: no bar: $(cat -v "$W/bench.out" | head -c 600)"
    # a parallel make shares the terminal between runs: plain lines
    MAKEFLAGS=-j2 script -qfec "${train[*]} --out $W/par run.log_every=8" /dev/null >"$W/par.out" 2>&1
    [ "$(grep -c '\] step [0-9]*/16 ' "$W/par.out")" -eq 2 ] && ! grep -q $'\e\\[K' "$W/par.out" &&
        ok || bad "parallel make on a terminal: $(cat -v "$W/par.out" | head -c 400)"
else
    echo "test_progress: terminal parts skipped: no script(1) (apt-get install bsdutils)"
fi

# 2. no terminal: a line every 5 steps (5, 10, 15 of 16), or none with 0; no escape codes
"${train[@]}" --out "$W/plain" run.log_every=5 2>"$W/plain.err" </dev/null
steps=$(sed -n 's/^\[[^]]*\] step \([0-9]*\)\/16 loss [0-9.]* [0-9,]* img\/s ETA [0-9:]*$/\1/p' \
        "$W/plain.err" | tr '\n' ' ')
[ "$steps" = "5 10 15 " ] && ok || bad "log_every=5: steps '$steps': $(cat "$W/plain.err")"
grep -q $'\r' "$W/plain.err" && bad "log_every=5: \\r without a terminal" || ok
"${train[@]}" --out "$W/quiet" run.log_every=0 2>"$W/quiet.err" </dev/null
# (a notice about the machine, e.g. a preset OPENBLAS_CORETYPE, is not progress)
[ "$(grep -vc '^kdlab: notice: ' "$W/quiet.err")" -eq 1 ] && grep -q 'epoch 1/1 loss' "$W/quiet.err" && ok ||
    bad "log_every=0: $(cat "$W/quiet.err")"
# the bar is for people only: the same CSV (timing aside) and checkpoint on a terminal or not
if [ -s "$W/tty.csv" ]; then
    cmp -s <(cut -d, -f1-6 "$W/tty.csv") <(cut -d, -f1-6 "$W/quiet.csv") && ok ||
        bad "the CSV on a terminal differs"
fi

# 3. every loop kind: its steps on stderr
. tests/lib_kinds.sh
kinds_train "$W/kinds" run.log_every=1 | sed 's/^/test_progress: FAIL: /'
for kind in vit_s mae moco seed labels invert dcvit practise; do
    n=$(grep -c '\] step [0-9]*/[0-9]* ' "$W/kinds/$kind.log" 2>/dev/null)
    [ "${n:-0}" -ge 4 ] && ok || bad "$kind: ${n:-0} step lines: $(tail -n3 "$W/kinds/$kind.log")"
done

# 4. make: RUN k/N, each k once, N the runs needed (all, then all but an up-to-date teacher)
copy=$W/tree
mkdir -p "$copy"
# results/ and the test image folders (70,000 files) stay behind
tar -C "$root" --exclude=./results --exclude='./build*/fmnist-folder' -cf - . | tar -C "$copy" -xf -
numbers() {
    make -C "$copy" -j2 --no-print-directory RUN=true SCALE=smoke tinyvit-gt 2>/dev/null |
        sed -n 's/^  RUN \([0-9]*\/[0-9]*\) .*/\1/p' | sort -t/ -n -k1 | tr '\n' ' '
}
[ "$(numbers)" = "1/4 2/4 3/4 4/4 " ] && ok || bad "make -j2 tinyvit-gt: RUN $(numbers)"
# up to date: a CSV with a .meta recording the key the plan gives it (and the checkpoint the
# labels run opens)
t=results/smoke/teachers/nols/vit_s-s0
key=$(grep -o "key_stamp,$t,[0-9a-f]*" "$copy"/build/plan-smoke-n*.mk | cut -d, -f3)
mkdir -p "$copy/results/smoke/teachers/nols" && touch "$copy/$t.csv" "$copy/$t.ckpt" &&
    echo "key: $key" >"$copy/$t.meta"
[ "$(numbers)" = "1/3 2/3 3/3 " ] && ok || bad "with the teacher up to date: RUN $(numbers)"
dry=$(make -C "$copy" -n --no-print-directory SCALE=smoke tinyvit-gt 2>&1)
grep -q 'RUN 1/? ' <<<"$dry" && ok || bad "make -n does not say RUN 1/?: $dry"

echo "test_progress: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
