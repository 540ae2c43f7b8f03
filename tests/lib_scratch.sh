# Sourced by the shell tests that run Make on a table of their own: a scratch copy of the tree
# (Makefile and the files it includes, configs/, the numerics version; bin/ linked) holding a table `zz-points` whose
# points are tiny ViT runs in configs/zz/.
# scratch_tree DIR BIN: DIR becomes that copy, its bin/ a link to BIN.
scratch_tree() {
    cp -r Makefile configs "$1/" && ln -s "$2" "$1/bin"
    mkdir -p "$1/tests/fuzz" "$1/tools" && cp tests/fuzz/fuzz.mk "$1/tests/fuzz/" &&
        cp tools/perf.mk "$1/tools/"
    mkdir -p "$1/core/base" "$1/configs/zz" && cp core/base/numerics.h "$1/core/base/"
    printf 'zz-points\tkdlab\t-\t-\tconfigs/zz\ttest_acc\t-\tscratch table\ttest\t-\t-\n' \
        >>"$1/configs/catalogue.tsv"
}
# scratch_new BIN: S becomes a new scratch tree (removed when the test exits), its bin/ BIN.
scratch_new() {
    S=$(mktemp -d)
    trap 'rm -rf "$S"' EXIT
    scratch_tree "$S" "$1"
}
# scratch_point DIR NAME [YAML LINE]: a point of zz-points (seconds at smoke), with one more line.
scratch_point() {
    cat >"$1/configs/zz/$2.yaml" <<EOF
base: ../base/vit.yaml
kind: train
title: "point $2"
model: {dim: 16, depth: 1, heads: 2}
data: {train_n: 64, test_n: 64}
optim.batch: 32
${3:-}
EOF
}
