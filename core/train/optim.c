/* AdamW (Loshchilov & Hutter) and SGD with momentum over the contiguous parameter block.
 * The updates are elementwise, so they are split over the ops' threads (ops/parallel.h) with no
 * effect on the result. */
#include "train/optim.h"
#include "base/err.h"
#include "ops/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int optim_layer_id(const char *name, int depth)
{
    static const char *first[] = {"patch_embed", "cls_token", "pos_embed", "mask_token"};
    for (int i = 0; i < 4; i++)
        if (strncmp(name, first[i], strlen(first[i])) == 0)
            return 0;
    if (strncmp(name, "blocks.", 7) == 0)
        return atoi(name + 7) + 1;
    return depth + 1;
}

/* o->lr_scale from the names of ps: depth is one more than the largest block index. */
static int layer_scales(struct optim *o, const struct params *ps, float decay, struct kd_err *e)
{
    int depth = 0;
    for (int i = 0; i < ps->n; i++)
        if (strncmp(ps->p[i].name, "blocks.", 7) == 0 && atoi(ps->p[i].name + 7) + 1 > depth)
            depth = atoi(ps->p[i].name + 7) + 1;
    if (depth == 0)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "set optim.layer_decay: 1 for this model",
                             "optim.layer_decay needs a ViT's blocks.<i> parameters; this "
                             "model has none (first: %s)",
                             ps->n ? ps->p[0].name : "-");
    o->lr_scale = malloc(sizeof(float) * (ps->n > 0 ? ps->n : 1));
    if (!o->lr_scale)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory for layer-wise lr");
    for (int i = 0; i < ps->n; i++)
        o->lr_scale[i] = (float)pow(decay, depth + 1 - optim_layer_id(ps->p[i].name, depth));
    return 0;
}

int optim_init(struct optim *o, struct params *ps, const struct optim_cfg *cfg, struct kd_err *e)
{
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    size_t n = ps->values.used / sizeof(float);
    if (arena_init(&o->state, 2 * n * sizeof(float)))
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory for optimizer state");
    o->m = arena_floats(&o->state, n);
    o->v = arena_floats(&o->state, n);
    /* 0 is what configs built in code (probes) leave: off, as 1 */
    if (cfg->layer_decay > 0 && cfg->layer_decay < 1 && layer_scales(o, ps, cfg->layer_decay, e)) {
        optim_free(o);
        return e->code;
    }
    return 0;
}

void optim_free(struct optim *o)
{
    arena_free(&o->state);
    free(o->lr_scale);
    o->lr_scale = NULL;
}

static void adamw_update(float *restrict w, const float *restrict g, float *restrict m,
                         float *restrict v, size_t n, float lr, float wd, float b1, float b2,
                         float c1, float c2)
{
    OPS_OMP(for schedule(static) nowait)
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        float mhat = m[i] / c1, vhat = v[i] / c2;
        w[i] -= lr * (mhat / (sqrtf(vhat) + 1e-8f) + wd * w[i]);
    }
}

static void sgd_update(float *restrict w, const float *restrict g, float *restrict m, size_t n,
                       float lr, float wd, float mu)
{
    OPS_OMP(for schedule(static) nowait)
    for (size_t i = 0; i < n; i++) {
        /* torch.optim.SGD: coupled L2 decay folded into the gradient */
        float gi = g[i] + wd * w[i];
        m[i] = mu * m[i] + gi;
        w[i] -= lr * m[i];
    }
}

void optim_step(struct optim *o, struct params *ps, float lr)
{
    o->step++;
    const struct optim_cfg *c = &o->cfg;
    int adam = c->name != OPTIM_SGD;
    float c1 = 1.0f - powf(c->beta1, (float)o->step), c2 = 1.0f - powf(c->beta2, (float)o->step);
    float *w0 = params_values(ps);
    /* One team for all parameters; each one's loop is split (orphaned `omp for`, no barrier
     * between parameters since they are disjoint). */
    OPS_OMP(parallel num_threads(ops_threads_for(ps->total)))
    for (int i = 0; i < ps->n; i++) {
        struct param *p = &ps->p[i];
        if (p->frozen || !p->g)
            continue;
        size_t off = (size_t)(*p->w - w0);
        float wd = p->decay ? c->weight_decay : 0.0f;
        float lr_p = o->lr_scale ? lr * o->lr_scale[i] : lr;
        if (adam)
            adamw_update(*p->w, *p->g, o->m + off, o->v + off, p->n, lr_p, wd, c->beta1, c->beta2,
                         c1, c2);
        else
            sgd_update(*p->w, *p->g, o->m + off, p->n, lr_p, wd, c->momentum);
    }
}

float lr_at(const struct optim_cfg *cfg, long step, long steps_per_epoch)
{
    long warm = (long)cfg->warmup_epochs * steps_per_epoch;
    long total = (long)cfg->epochs * steps_per_epoch;
    if (step < warm)
        return cfg->lr * (float)(step + 1) / (float)warm;
    if (total <= warm)
        return cfg->lr;
    if (cfg->schedule == SCHEDULE_STEP)
        return step < (long)(cfg->step_at * total) ? cfg->lr : cfg->lr * cfg->step_gamma;
    double t = (double)(step - warm) / (double)(total - warm);
    return cfg->min_lr + 0.5f * (cfg->lr - cfg->min_lr) * (float)(1.0 + cos(M_PI * t));
}

float grad_clip(struct params *ps, float max_norm)
{
    double ss = 0;
    for (int i = 0; i < ps->n; i++) {
        const struct param *p = &ps->p[i];
        if (p->frozen || !p->g)
            continue;
        const float *g = *p->g;
        for (size_t j = 0; j < p->n; j++)
            ss += (double)g[j] * g[j];
    }
    float norm = (float)sqrt(ss);
    if (max_norm > 0 && norm > max_norm && isfinite(norm)) {
        float s = max_norm / (norm + 1e-6f);
        for (int i = 0; i < ps->n; i++) {
            const struct param *p = &ps->p[i];
            if (p->frozen || !p->g)
                continue;
            float *g = *p->g;
            for (size_t j = 0; j < p->n; j++)
                g[j] *= s;
        }
    }
    return norm;
}
