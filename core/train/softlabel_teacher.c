/* Loading and running the teacher of a soft-label run (see softlabel_teacher.h). */
#include "train/softlabel_teacher.h"
#include "io/ckpt.h"
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int softlabel_teacher_load(struct softlabel_teacher *t, const struct run *r, int Bmax,
                           struct kd_err *e)
{
    memset(t, 0, sizeof *t);
    if (!r->x.teacher[0])
        return kd_err_setfix(e, KD_ERR_CONFIG, r->x.path, 0,
                             "add e.g. teacher: configs/teachers/vit_s.yaml",
                             "this experiment needs a teacher: key");
    if (config_load(&t->x, r->x.teacher, r->x.scale, 0, NULL, e))
        return e->code;
    t->hash = config_hash(&t->x);
    int seed = t->x.run.n_seeds > 0 ? t->x.run.seeds[0] : t->x.run.seed;
    char stem[512];
    run_stem_of(stem, sizeof stem, r->x.teacher, r->x.scale, seed);
    snprintf(t->ckpt, sizeof t->ckpt, "%s.ckpt", stem);
    if (net_create(&t->net, &t->x.model, Bmax, 0, e))
        return e->code;
    /* the checkpoint must have been made with the teacher config's model keys */
    size_t cap = 1 << 16;
    char *text = malloc(cap);
    FILE *f = fmemopen(text, cap, "w");
    config_write_resolved(&t->x, f);
    fclose(f);
    struct ckpt_info info;
    int rc = ckpt_load(t->ckpt, t->net.params, NULL, text, "model.", &info, e);
    free(text);
    if (rc)
        net_destroy(&t->net);
    return rc;
}

void softlabel_teacher_probs(void *ctx, const float *images, int B, float *probs)
{
    struct softlabel_teacher *t = ctx;
    net_forward(&t->net, images, B, 0, 0, 0);
    softmax_forward(probs, t->net.logits, 1.0f, B, t->net.classes);
}

void softlabel_teacher_free(struct softlabel_teacher *t)
{
    net_destroy(&t->net);
}
