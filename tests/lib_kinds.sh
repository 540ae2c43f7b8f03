# Sourced by tests: kinds_train OUT [key=value ...] trains one run of every kind of loop kdlab
# has, tiny (seconds each), into OUT/<kind>.* (vit_s, mae, moco, seed, labels, invert, dcvit,
# practise),
# each one's stderr in OUT/<kind>.log; the key=value overrides go to every run. The teachers
# are found by config path, so it works in a scratch copy of configs/ with tiny teachers.
# That copy stays in OUT/tree (DC-ViT's export reads its teacher's config there).
# Needs $bin (the binaries' folder, absolute). Prints "kinds_train: <kind> failed" per failure.
# kinds_tiny_teachers TREE SMOKE: TREE/configs/teachers/vit_s.yaml and its copy without label
# smoothing (teachers/nols/, which TinyViT's labels pass reads) as ViT-s shapes of width 16,
# seconds at smoke; SMOKE adds keys to their smoke block ("optim.epochs: 2", or "").
kinds_tiny_teachers() {
    local smoke="data.train_n: 128, data.test_n: 64${2:+, $2}" nols
    mkdir -p "$1/configs/teachers/nols"
    for nols in "" "nols/"; do
        {
            echo "base: ../${nols:+../}base/vit.yaml"
            echo "kind: train"
            echo "model: {dim: 16, depth: 5, heads: 2}"
            [ -n "$nols" ] && echo "optim: {label_smoothing: 0.0}"
            echo "scale:"
            echo "  smoke: {$smoke}"
        } >"$1/configs/teachers/${nols}vit_s.yaml"
    done
}

kinds_train() {
    local out=$1 root=$PWD scratch
    shift
    scratch=$out/tree
    mkdir -p "$out" "$scratch/configs/tinymim/mae" "$scratch/configs/seed/teachers" \
        "$scratch/configs/seed/table4" "$scratch/configs/teachers" \
        "$scratch/configs/dcvit/macs" "$scratch/configs/tinyvit/labels" \
        "$scratch/configs/teachers/nols"
    cp -r configs/base "$scratch/configs/"
    sed 's/depth: 8/depth: 2/' configs/tinymim/mae/mae_s.yaml \
        >"$scratch/configs/tinymim/mae/mae_s.yaml"
    cp configs/seed/table4/seed_moco.yaml "$scratch/configs/seed/table4/"
    cp configs/dcvit/synthetic.yaml "$scratch/configs/dcvit/"
    cp configs/dcvit/macs/dcvit_r2.yaml configs/dcvit/macs/practise_r2.yaml \
        "$scratch/configs/dcvit/macs/"
    cp configs/tinyvit/labels/vit_s_k10.yaml "$scratch/configs/tinyvit/labels/"
    cat >"$scratch/configs/seed/teachers/moco_t.yaml" <<'EOF'
base: ../../base/seed_ssl.yaml
kind: moco
model: {dim: 16, depth: 1, heads: 2}
scale:
  smoke: {data.train_n: 128, data.test_n: 64, seed.queue: 64, seed.monitor_n: 32,
          seed.probe_epochs: 2}
EOF
    kinds_tiny_teachers "$scratch" "optim.batch: 32, optim.epochs: 2"
    local tiny=(--scale smoke data.train_n=128 data.test_n=64 optim.batch=32 optim.epochs=2)
    local ssl=(seed.queue=112 seed.monitor_n=32 seed.probe_epochs=2 model.dim=16 model.depth=1
               model.heads=2)
    (
        cd "$scratch" || exit 1
        one() {
            local kind=$1
            shift
            "$@" --out "$out/$kind" "${extra[@]}" 2>"$out/$kind.log" ||
                echo "kinds_train: $kind failed: $(tail -n1 "$out/$kind.log")"
        }
        extra=("$@")
        one vit_s "$bin/train" configs/teachers/vit_s.yaml "${tiny[@]}"
        # the teachers the other kinds read: their YAML's own sizes, no overrides (a reader
        # refuses a result whose config hash is not its YAML's)
        "$bin/train" configs/teachers/vit_s.yaml --scale smoke \
            --out results/smoke/teachers/vit_s-s0 2>/dev/null ||
            echo "kinds_train: the ViT-s teacher failed"
        "$bin/train" configs/teachers/nols/vit_s.yaml --scale smoke \
            --out results/smoke/teachers/nols/vit_s-s0 2>/dev/null ||
            echo "kinds_train: the ViT-s teacher without smoothing failed"
        one mae "$bin/mae" configs/tinymim/mae/mae_s.yaml "${tiny[@]}"
        one moco "$bin/moco" configs/seed/teachers/moco_t.yaml "${tiny[@]}" "${ssl[@]}"
        "$bin/moco" configs/seed/teachers/moco_t.yaml --scale smoke \
            --out results/smoke/seed/teachers/moco_t-s0 2>/dev/null ||
            echo "kinds_train: the MoCo teacher failed"
        one seed "$bin/seed" configs/seed/table4/seed_moco.yaml "${tiny[@]}" "${ssl[@]}" \
            teacher=configs/seed/teachers/moco_t.yaml
        one labels "$bin/tinyvit_labels" configs/tinyvit/labels/vit_s_k10.yaml "${tiny[@]}" \
            data.train_n=256
        one invert "$bin/invert" configs/dcvit/synthetic.yaml --scale smoke dcvit.syn_iters=12
        one dcvit "$bin/dcvit" configs/dcvit/macs/dcvit_r2.yaml --scale smoke \
            dcvit.metric=real data.test_n=64 dcvit.trial_steps=20 dcvit.steps=30
        one practise "$bin/practise" configs/dcvit/macs/practise_r2.yaml --scale smoke \
            data.test_n=64 dcvit.practise_steps=20
    )
    cd "$root" || return 1
}
