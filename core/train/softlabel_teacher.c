/* Loading and running the teacher of a soft-label run (see softlabel_teacher.h). */
#include "train/softlabel_teacher.h"
#include "train/run.h"
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* The teacher's identity: size << 32 | crc32 of its weights file. Unlike a hash of its resolved
 * config, it survives schema keys added later and changes whenever the weights do. */
static int weights_hash(uint64_t *out, const char *path, struct kd_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kd_err_set(e, KD_ERR_IO, path, 0, "cannot read the teacher's weights");
    unsigned char buf[1 << 16];
    uLong crc = crc32(0, NULL, 0);
    uint64_t size = 0;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crc = crc32(crc, buf, (uInt)n);
        size += n;
    }
    fclose(f);
    *out = (size << 32) ^ (uint64_t)(uint32_t)crc;
    return 0;
}

int softlabel_teacher_load(struct softlabel_teacher *t, const struct run *r, int Bmax,
                           struct kd_err *e)
{
    memset(t, 0, sizeof *t);
    int rc = teacher_load(&t->base, &r->x, Bmax, e);
    if (!rc)
        rc = weights_hash(&t->hash, t->base.weights, e);
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
