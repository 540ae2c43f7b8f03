/* train: supervised training of a classifier from a YAML config (the teachers, and the
 * from-scratch baselines every distillation is compared with).
 * Writes STEM.csv (one row per epoch), STEM.ckpt, STEM.yaml, STEM.meta. */
#include "kd.h"
#include "train/fit.h"
#include "base/runtime.h"
#include "train/init_from.h"

int main(int argc, char **argv)
{
    kd_runtime_setup(argc, argv);
    struct kd_err e;
    struct run r;
    struct net n;
    if (run_start(&r, argc, argv, &e) || run_load_data(&r, &e))
        die(&e);
    if (net_create(&n, &r.x.model, r.x.optim.batch, (uint64_t)r.x.run.seed, &e))
        die(&e);
    if (r.x.init[0] && init_from_config(n.params, &r.x, r.x.init, 0, &e))
        die(&e);
    if (fit(&r, &n, NULL, &e))
        die(&e);
    net_destroy(&n);
    run_free(&r);
    return 0;
}
