/* The small model the checkpoint harness loads into, shared with the seed maker: a 1-block ViT
 * on 8x8 images (a few hundred parameters), and its resolved config text. */
#ifndef KD_FUZZ_CKPT_H
#define KD_FUZZ_CKPT_H

#include "base/err.h"
#include "io/config.h"
#include "io/config_schema.h"
#include "train/net.h"
#include "train/optim.h"

struct fuzz_model {
    struct experiment x;
    struct net net;
    struct optim opt;
    char *config; /* resolved YAML (malloc'd) */
};

/* Build it once; aborts on failure (a harness bug, not an input's). */
static __attribute__((unused)) struct fuzz_model *fuzz_model_get(void)
{
    static struct fuzz_model m;
    static int ready;
    static const char *keys[][2] = {
        {"model.img", "8"},   {"model.patch", "4"},  {"model.dim", "8"},
        {"model.depth", "1"}, {"model.heads", "2"},  {"model.classes", "3"},
        {"model.in_ch", "1"}, {"model.arch", "vit"}, {"optim.name", "adamw"}};
    if (ready)
        return &m;
    struct kd_err e;
    int rc = cfg_defaults(&m.x, &e);
    for (size_t i = 0; !rc && i < sizeof keys / sizeof *keys; i++)
        rc = config_set(&m.x, keys[i][0], keys[i][1], &e);
    rc = rc ? rc : net_create(&m.net, &m.x.model, 1, 1, &e);
    rc = rc ? rc : optim_init(&m.opt, m.net.params, &m.x.optim, &e);
    if (rc) {
        kd_err_print(&e);
        abort();
    }
    size_t len = 0;
    FILE *f = open_memstream(&m.config, &len);
    config_write_resolved(&m.x, f);
    fclose(f);
    ready = 1;
    return &m;
}

#endif
