/* DC-ViT's and PRACTISE's fine-tuning of a compressed model to mimic the original's final
 * tokens (compress.h: compress_finetune), as a method of the one loop (loop.h): one epoch of
 * `steps` steps over batches of the few-shot set drawn with replacement, its own warmup-free
 * cosine schedule, a loss weight that ramps up. */
#include "train/compress.h"
#include "train/loop.h"
#include "loss/loss.h"
#include "base/rng.h"
#include "base/runtime.h"

#include <stdlib.h>
#include <string.h>

struct finetune {
    const struct run *r;
    struct vit *s, *t;
    int steps;
    uint32_t tag; /* its batch stream */
    struct augment_cfg aug;
    float *tfeat, *dfeat;        /* (B, T, C): the original's tokens; the loss gradient */
    struct teacher_cache *cache; /* NULL or empty: none */
    double tail;                 /* loss summed over the last tenth of the steps */
    int n_tail;
};

/* The few-shot set may be smaller than a batch: each step draws its samples with replacement,
 * from its own generator. */
static void finetune_order(void *ctx, int *order, int epoch)
{
    struct finetune *F = ctx;
    const struct run *r = F->r;
    int B = r->x.optim.batch;
    for (int step = 0; step < F->steps; step++) {
        struct rng rg;
        rng_init(&rg, (uint64_t)r->x.run.seed, RNG_STREAM_SHUFFLE, (uint32_t)step, F->tag);
        for (int i = 0; i < B; i++)
            order[(size_t)step * B + i] = r->train_idx[rng_below(&rg, (uint32_t)r->n_train)];
    }
}

static void finetune_batch(void *ctx, float *images, int *labels, const int *idx, int B, int epoch,
                           long step)
{
    struct finetune *F = ctx;
    const struct run *r = F->r;
    dataset_batch(images, labels, &r->train, idx, B, &F->aug, (uint64_t)r->x.run.seed ^ F->tag,
                  (int)step);
}

/* The original's tokens of this step's batch: from the cache, or computed (and cached). */
static const float *teacher_feat(struct finetune *F, const float *images, int B, long step)
{
    struct teacher_cache *c = F->cache;
    size_t BTC = (size_t)B * F->t->T * F->t->C;
    int cached = c && c->feat && c->tag == F->tag && step < c->steps && BTC == c->per_step;
    float *slot = cached ? c->feat + (size_t)step * c->per_step : F->tfeat;
    if (cached && c->have[step])
        return slot;
    vit_forward(F->t, images, B, 0, 0, 0);
    memcpy(slot, F->t->feat, sizeof(float) * BTC);
    if (cached)
        c->have[step] = 1;
    return slot;
}

/* MSE over every final-norm token, its weight ramping up over dcvit.loss_warmup steps. */
static float finetune_step(void *ctx, const float *images, const int *labels, const int *idx, int B,
                           int epoch, long step)
{
    struct finetune *F = ctx;
    struct vit *s = F->s;
    int warm = F->r->x.dcvit.loss_warmup;
    size_t BTC = (size_t)B * s->T * s->C;
    const float *tfeat = teacher_feat(F, images, B, step);
    vit_forward(s, images, B, 0, 0, 0);
    float ramp = warm > 0 && step < warm ? (float)(step + 1) / warm : 1.0f;
    memset(F->dfeat, 0, sizeof(float) * BTC);
    double loss = feature_mse_loss(F->dfeat, s->feat, tfeat, ramp, BTC);
    vit_backward(s, NULL, F->dfeat, B);
    if (step >= F->steps - (F->steps + 9) / 10)
        F->tail += loss, F->n_tail++;
    return (float)loss;
}

/* KD_TEACHER_CACHE_MB, else 2048. */
static double cache_limit_mb(void)
{
    return kd_env_number("KD_TEACHER_CACHE_MB", 2048, "a size in MB");
}

void teacher_cache_init(struct teacher_cache *c, const struct vit *t, int B, int steps,
                        uint32_t tag)
{
    memset(c, 0, sizeof *c);
    c->tag = tag;
    c->per_step = (size_t)B * t->T * t->C;
    if (steps <= 0 || (double)(c->per_step * steps * sizeof(float)) > cache_limit_mb() * (1 << 20))
        return;
    c->feat = malloc(sizeof(float) * c->per_step * steps);
    c->have = calloc((size_t)steps, 1);
    if (!c->feat || !c->have) {
        teacher_cache_free(c);
        return;
    }
    c->steps = steps;
}

void teacher_cache_free(struct teacher_cache *c)
{
    free(c->feat);
    free(c->have);
    memset(c, 0, sizeof *c);
}

double compress_finetune(struct vit *s, struct vit *t, const struct run *r, int upto, int steps,
                         uint32_t tag, struct kd_err *e)
{
    return compress_finetune_cached(s, t, r, upto, steps, tag, NULL, e);
}

double compress_finetune_cached(struct vit *s, struct vit *t, const struct run *r, int upto,
                                int steps, uint32_t tag, struct teacher_cache *cache,
                                struct kd_err *e)
{
    const struct experiment *x = &r->x;
    size_t BTC = (size_t)x->optim.batch * s->T * s->C;
    if (steps <= 0)
        return 0;
    struct finetune F = {r,
                         s,
                         t,
                         steps,
                         tag,
                         run_augment_of(x),
                         malloc(sizeof(float) * BTC),
                         malloc(sizeof(float) * BTC),
                         cache,
                         0,
                         0};
    struct optim_cfg oc = x->optim;
    oc.epochs = 1;
    oc.warmup_epochs = 0;
    struct loop_spec sp = {.ctx = &F,
                           .sets = {&s->params},
                           .n_sets = 1,
                           .n_trained = 1,
                           .save = &s->params,
                           .optim = &oc,
                           .steps = steps,
                           .order = finetune_order,
                           .batch = finetune_batch,
                           .step = finetune_step};
    struct loop L = {0};
    double mean;
    int rc = F.tfeat && F.dfeat ? loop_init(&L, r, &sp, e)
                                : kd_err_set(e, KD_ERR_NOMEM, x->path, 0, "out of memory");
    if (!rc) {
        compress_set_trainable(s, upto, x->dcvit.freeze_embed);
        rc = loop_epoch(&L, 0, &mean, e);
        for (int i = 0; i < s->params.n; i++)
            s->params.p[i].frozen = 0;
    }
    loop_free(&L);
    free(F.tfeat);
    free(F.dfeat);
    return rc ? rc : F.n_tail ? F.tail / F.n_tail : 0;
}
