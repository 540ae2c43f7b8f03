/* The twin's trace of a run's first steps (see trace.h). Raw little-endian arrays, so the
 * PyTorch side reads them with frombuffer and nothing else. */
#include "train/trace.h"
#include "train/net.h"
#include "train/weights.h"
#include "models/vit.h"
#include "base/err.h"

#include <stdlib.h>
#include <string.h>

static FILE *trace_file(const char *dir, const char *name, struct kd_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        kd_err_setfix(e, KD_ERR_IO, path, 0, "point KD_TRACE at a folder that exists",
                      "cannot write the trace");
    return f;
}

int trace_open(struct trace **out, struct net *n, const char *config_text, struct kd_err *e)
{
    const char *dir = getenv("KD_TRACE");
    *out = NULL;
    if (!dir || !*dir)
        return 0;
    const char *steps = getenv("KD_TRACE_STEPS");
    struct trace *t = calloc(1, sizeof *t);
    KD_ASSERT(t);
    t->left = steps && *steps ? atol(steps) : 100;
    char path[4096];
    snprintf(path, sizeof path, "%s/init.safetensors", dir);
    if (net_weights_save(n, path, config_text, e) ||
        !(t->images = trace_file(dir, "images.f32", e)) ||
        !(t->labels = trace_file(dir, "labels.i32", e)) ||
        !(t->droppath = trace_file(dir, "droppath.f32", e)) ||
        !(t->steps = trace_file(dir, "steps.csv", e))) {
        trace_close(t);
        return e->code;
    }
    fprintf(t->steps, "step,loss,grad_norm,lr\n");
    *out = t;
    return 0;
}

/* Each block's two drop-path scale vectors (B), ones where the branch was kept whole. */
static void trace_droppath(FILE *f, struct net *n, int B)
{
    if (n->arch != ARCH_VIT)
        return;
    const struct vit *m = n->impl;
    float *ones = malloc(sizeof(float) * B);
    KD_ASSERT(ones);
    for (int i = 0; i < B; i++)
        ones[i] = 1.0f;
    for (int l = 0; l < m->depth; l++) {
        fwrite(m->ba[l].dp1 ? m->ba[l].dp1 : ones, sizeof(float), B, f);
        fwrite(m->ba[l].dp2 ? m->ba[l].dp2 : ones, sizeof(float), B, f);
    }
    free(ones);
}

int trace_step(struct trace *t, struct net *n, const float *images, const int *labels, int B,
               size_t image_floats, long step, float loss, float grad_norm, float lr)
{
    fwrite(images, sizeof(float), (size_t)B * image_floats, t->images);
    fwrite(labels, sizeof(int), B, t->labels);
    trace_droppath(t->droppath, n, B);
    fprintf(t->steps, "%ld,%.9g,%.9g,%.9g\n", step, loss, grad_norm, lr);
    return --t->left <= 0;
}

int trace_finish(struct trace *t, struct net *n, const char *config_text, struct kd_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/final.safetensors", getenv("KD_TRACE"));
    return net_weights_save(n, path, config_text, e);
}

void trace_close(struct trace *t)
{
    if (!t)
        return;
    FILE *fs[] = {t->images, t->labels, t->droppath, t->steps};
    for (int i = 0; i < 4; i++)
        if (fs[i])
            fclose(fs[i]);
    free(t);
}
