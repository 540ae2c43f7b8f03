/* SSL encoders and queues (see ssl.h). */
#include "train/ssl.h"
#include "train/probe.h"
#include "train/model_spec.h"
#include "loss/loss_ssl.h"
#include "train/ckpt_params.h"
#include "base/err.h"
#include "base/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ssl_enc_init(struct ssl_enc *s, const struct model_cfg *cfg, int D, int Bmax, uint64_t seed,
                 struct kd_err *e)
{
    memset(s, 0, sizeof *s);
    struct vit_spec spec = model_spec_vit(cfg);
    int rc = vit_init(&s->vit, &spec, Bmax, e);
    if (rc)
        return rc;
    vit_reset(&s->vit, seed);
    int C = s->vit.C, T = s->vit.T;
    s->D = D;
    s->Bmax = Bmax;
    params_begin(&s->head_ps);
    s->head_ps.init = spec.init;
    proj_head_init(&s->head, &s->head_ps, "proj", C, C, D);
    if ((rc = params_alloc(&s->head_ps, e)))
        return rc;
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_INIT, 1, 0);
    proj_head_reset(&s->head, &r);
    plan_begin(&s->acts);
    proj_head_plan(&s->head, &s->acts, Bmax);
    plan_add(&s->acts, &s->zn, (size_t)Bmax * D);
    plan_add(&s->acts, &s->norms, (size_t)Bmax);
    plan_add(&s->acts, &s->dz, (size_t)Bmax * D);
    plan_add(&s->acts, &s->d_pooled, (size_t)Bmax * C);
    plan_add(&s->acts, &s->d_feat, (size_t)Bmax * T * C);
    if ((rc = plan_alloc(&s->acts, e)))
        return rc;
    params_view(&s->all, (struct params *[]){&s->vit.params, &s->head_ps}, 2);
    return 0;
}

void ssl_enc_free(struct ssl_enc *s)
{
    params_view_free(&s->all);
    plan_free(&s->acts);
    params_free(&s->head_ps);
    vit_free(&s->vit);
    memset(s, 0, sizeof *s);
}

void ssl_enc_forward(struct ssl_enc *s, const float *images, int B, int training, uint64_t seed,
                     int step)
{
    vit_forward(&s->vit, images, B, training, seed, step);
    proj_head_forward(&s->head, s->vit.pooled, B);
    l2norm_forward(s->zn, s->norms, s->head.z, B, s->D);
}

void ssl_enc_backward(struct ssl_enc *s, int B)
{
    int C = s->vit.C, T = s->vit.T;
    params_zero_grad(&s->vit.params);
    params_zero_grad(&s->head_ps);
    memset(s->d_pooled, 0, sizeof(float) * B * C);
    proj_head_backward(&s->head, s->d_pooled, s->dz, s->vit.pooled, B);
    /* pooled is row 0 (CLS) of the final-norm output: its gradient goes there. */
    memset(s->d_feat, 0, sizeof(float) * B * T * C);
    for (int b = 0; b < B; b++)
        memcpy(s->d_feat + (size_t)b * T * C, s->d_pooled + (size_t)b * C, sizeof(float) * C);
    vit_backward(&s->vit, NULL, s->d_feat, B);
}

static void ema(struct params *dst, struct params *src, float m)
{
    float *d = params_values(dst);
    const float *x = params_values(src);
    size_t n = dst->values.used / sizeof(float);
    KD_ASSERT(n == src->values.used / sizeof(float));
    for (size_t i = 0; i < n; i++)
        d[i] = m * d[i] + (1.0f - m) * x[i];
}

void ssl_enc_ema(struct ssl_enc *dst, const struct ssl_enc *src, float m)
{
    ema(&dst->vit.params, (struct params *)&src->vit.params, m);
    ema(&dst->head_ps, (struct params *)&src->head_ps, m);
}

int ssl_enc_save(struct ssl_enc *s, const char *path, const char *config_text, long epoch,
                 long step, struct kd_err *e)
{
    struct ckpt_info info = {epoch, step};
    return ckpt_save(path, &s->all, NULL, config_text, &info, e);
}

int ssl_enc_load(struct ssl_enc *s, const char *path, struct kd_err *e)
{
    struct ckpt_info info;
    return ckpt_load(path, &s->all, NULL, NULL, "", &info, e);
}

int emb_queue_init(struct emb_queue *q, int K, int D, uint64_t seed, int tag, struct kd_err *e)
{
    q->K = K;
    q->D = D;
    q->v = malloc(sizeof(float) * ((size_t)K * D + 1));
    if (!q->v)
        return kd_err_setfix(e, KD_ERR_NOMEM, "", 0, "lower seed.queue",
                             "out of memory for a queue of %d x %d", K, D);
    q->pos = q->v + (size_t)K * D;
    *q->pos = 0;
    for (int i = 0; i < K; i++) {
        struct rng r;
        rng_init(&r, seed, RNG_STREAM_SSL_QUEUE, (uint32_t)tag, (uint32_t)i);
        float *row = q->v + (size_t)i * D, ss = 0;
        for (int j = 0; j < D; j++) {
            row[j] = rng_normal(&r);
            ss += row[j] * row[j];
        }
        for (int j = 0; j < D; j++)
            row[j] /= sqrtf(ss) + 1e-12f;
    }
    return 0;
}

void emb_queue_free(struct emb_queue *q)
{
    free(q->v);
    memset(q, 0, sizeof *q);
}

void emb_queue_push(struct emb_queue *q, const float *z, int B)
{
    int at = (int)*q->pos;
    for (int b = 0; b < B; b++) {
        memcpy(q->v + (size_t)at * q->D, z + (size_t)b * q->D, sizeof(float) * q->D);
        at = (at + 1) % q->K;
    }
    *q->pos = (float)at;
}

static void register_frozen(struct params *state, float **slot, const char *prefix,
                            const char *name, const int *shape)
{
    KD_ASSERT(strlen(prefix) + 1 + strlen(name) < sizeof state->p->name);
    params_add(state, slot, NULL, 0, prefix, name, shape[0], shape[1], shape[2], shape[3]);
    state->p[state->n - 1].frozen = 1;
}

void emb_queue_register(struct emb_queue *q, struct params *state, const char *name)
{
    int rows[4] = {q->K, q->D, 0, 0}, one[4] = {1, 0, 0, 0};
    register_frozen(state, &q->v, name, "rows", rows);
    register_frozen(state, &q->pos, name, "pos", one);
}

void ssl_enc_register(struct ssl_enc *s, struct params *state, const char *prefix)
{
    for (int i = 0; i < s->all.n; i++)
        register_frozen(state, s->all.p[i].w, prefix, s->all.p[i].name, s->all.p[i].shape);
}

struct ssl_augment_cfg ssl_augment_of(const struct experiment *x)
{
    const struct seed_cfg *c = &x->seed;
    struct ssl_augment_cfg a = {c->crop_min, c->flip,   c->jitter,
                                c->jitter_p, c->blur_p, c->blur_sigma};
    return a;
}
