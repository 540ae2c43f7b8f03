/* Loading and running the teacher of a soft-label run (see softlabel_teacher.h). */
#include "train/softlabel_teacher.h"
#include "train/run.h"
#include "ops/ops.h"

#include <string.h>

int softlabel_teacher_load(struct softlabel_teacher *t, const struct run *r, int Bmax,
                           struct kd_err *e)
{
    memset(t, 0, sizeof *t);
    int rc = teacher_load(&t->base, &r->x, Bmax, e);
    if (!rc)
        t->hash = config_hash(&t->base.x);
    return rc;
}

void softlabel_teacher_probs(void *ctx, const float *images, int B, float *probs)
{
    struct softlabel_teacher *t = ctx;
    net_forward(&t->base.net, images, B, 0, 0, 0);
    softmax_forward(probs, t->base.net.logits, 1.0f, B, t->base.net.classes);
}

void softlabel_teacher_free(struct softlabel_teacher *t)
{
    teacher_free(&t->base);
}
