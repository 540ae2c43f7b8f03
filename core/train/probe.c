/* Frozen-feature evaluation and semi-supervised fine-tuning (probe.h). */
#include "train/probe.h"
#include "train/net.h"
#include "train/optim.h"
#include "train/fit.h"
#include "loss/loss.h"
#include "data/augment_ssl.h"
#include "base/rng.h"
#include "base/err.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void probe_features(float *feat, int *labels, struct vit *m, const struct dataset *d,
                    const int *idx, int n)
{
    size_t img = (size_t)d->h * d->w * d->c;
    float *images = malloc(sizeof(float) * m->Bmax * img);
    int *lab = malloc(sizeof(int) * m->Bmax);
    KD_ASSERT(images && lab);
    for (int at = 0; at < n; at += m->Bmax) {
        int B = n - at < m->Bmax ? n - at : m->Bmax;
        dataset_batch(images, lab, d, idx + at, B, NULL, 0, 0);
        vit_forward(m, images, B, 0, 0, 0);
        memcpy(feat + (size_t)at * m->C, m->pooled, sizeof(float) * B * m->C);
        if (labels)
            memcpy(labels + at, lab, sizeof(int) * B);
    }
    free(images);
    free(lab);
}

static void normalize_rows(float *x, int n, int C)
{
    for (int i = 0; i < n; i++) {
        float *r = x + (size_t)i * C;
        double ss = 0;
        for (int j = 0; j < C; j++)
            ss += (double)r[j] * r[j];
        float inv = 1.0f / ((float)sqrt(ss) + 1e-12f);
        for (int j = 0; j < C; j++)
            r[j] *= inv;
    }
}

#define KNN_CHUNK 128
#define KNN_MAXK 1024

double knn_top1(float *bank, const int *bank_labels, int nb, float *query, const int *q_labels,
                int nq, int C, int classes, int k, float T)
{
    if (nb == 0 || nq == 0)
        return 0;
    k = k < nb ? k : nb;
    k = k < KNN_MAXK ? k : KNN_MAXK;
    normalize_rows(bank, nb, C);
    normalize_rows(query, nq, C);
    float *sim = malloc(sizeof(float) * KNN_CHUNK * nb);
    double *votes = malloc(sizeof(double) * classes);
    float top[KNN_MAXK];
    int topi[KNN_MAXK];
    KD_ASSERT(sim && votes);
    long correct = 0;
    for (int at = 0; at < nq; at += KNN_CHUNK) {
        int n = nq - at < KNN_CHUNK ? nq - at : KNN_CHUNK;
        matmul_forward(sim, query + (size_t)at * C, bank, NULL, n, C, nb);
        for (int i = 0; i < n; i++) {
            const float *s = sim + (size_t)i * nb;
            int have = 0;
            /* top-k by insertion into a descending list; ties keep the lower bank index */
            for (int j = 0; j < nb; j++) {
                if (have == k && s[j] <= top[k - 1])
                    continue;
                int p = have < k ? have++ : k - 1;
                while (p > 0 && top[p - 1] < s[j]) {
                    top[p] = top[p - 1];
                    topi[p] = topi[p - 1];
                    p--;
                }
                top[p] = s[j];
                topi[p] = j;
            }
            memset(votes, 0, sizeof(double) * classes);
            for (int t = 0; t < have; t++)
                votes[bank_labels[topi[t]]] += exp(top[t] / T);
            int best = 0;
            for (int c = 1; c < classes; c++)
                best = votes[c] > votes[best] ? c : best;
            correct += best == q_labels[at + i];
        }
    }
    free(sim);
    free(votes);
    return (double)correct / nq;
}

static void standardize(float *tr, int ntr, float *te, int nte, int C)
{
    for (int j = 0; j < C; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < ntr; i++)
            s += tr[(size_t)i * C + j];
        double mean = s / ntr;
        for (int i = 0; i < ntr; i++) {
            double d = tr[(size_t)i * C + j] - mean;
            ss += d * d;
        }
        float inv = (float)(1.0 / sqrt(ss / ntr + 1e-6));
        for (int i = 0; i < ntr; i++)
            tr[(size_t)i * C + j] = (float)((tr[(size_t)i * C + j] - mean) * inv);
        for (int i = 0; i < nte; i++)
            te[(size_t)i * C + j] = (float)((te[(size_t)i * C + j] - mean) * inv);
    }
}

#define PROBE_BATCH 256

/* The probe's AdamW: no weight decay, cosine to 0 after a warmup epoch when there are more
 * than 5. */
static struct optim_cfg probe_optim(float lr, int epochs)
{
    return (struct optim_cfg){.name = OPTIM_ADAMW,
                              .lr = lr,
                              .min_lr = 0,
                              .weight_decay = 0,
                              .beta1 = 0.9f,
                              .beta2 = 0.999f,
                              .epochs = epochs,
                              .warmup_epochs = epochs > 5 ? 1 : 0,
                              .batch = PROBE_BATCH};
}

/* Top-1 hits of fc over te (nte, C) with labels yte; lg holds (PROBE_BATCH, classes). */
static long probe_correct(struct linear *fc, float *lg, const float *te, const int *yte, int nte,
                          int C, int classes)
{
    long correct = 0;
    for (int at = 0; at < nte; at += PROBE_BATCH) {
        int B = nte - at < PROBE_BATCH ? nte - at : PROBE_BATCH;
        linear_forward(fc, lg, te + (size_t)at * C, B);
        correct += ce_correct(lg, yte + at, B, classes);
    }
    return correct;
}

double linear_probe(float *tr, const int *ytr, int ntr, float *te, const int *yte, int nte, int C,
                    int classes, int epochs, float lr, uint64_t seed, struct kd_err *e)
{
    standardize(tr, ntr, te, nte, C);
    struct params ps;
    struct linear fc;
    struct optim opt;
    params_begin(&ps);
    linear_init(&fc, &ps, "probe", C, classes, 1);
    if (params_alloc(&ps, e))
        return -1;
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_SSL_PROBE, 0, 0);
    linear_reset(&fc, &r);
    struct optim_cfg oc = probe_optim(lr, epochs);
    int *order = malloc(sizeof(int) * ntr), *y = malloc(sizeof(int) * PROBE_BATCH);
    float *xb = malloc(sizeof(float) * PROBE_BATCH * C);
    float *lg = malloc(sizeof(float) * PROBE_BATCH * classes);
    float *dl = malloc(sizeof(float) * PROBE_BATCH * classes);
    KD_ASSERT(order && y && xb && lg && dl);
    if (optim_init(&opt, &ps, &oc, e))
        return -1;
    long spe = (ntr + PROBE_BATCH - 1) / PROBE_BATCH;
    for (int ep = 0; ep < epochs; ep++) {
        for (int i = 0; i < ntr; i++)
            order[i] = i;
        rng_init(&r, seed, RNG_STREAM_SSL_PROBE, (uint32_t)ep + 1, 0);
        rng_shuffle(&r, order, ntr);
        for (long s = 0; s < spe; s++) {
            int B =
                (int)(ntr - s * PROBE_BATCH < PROBE_BATCH ? ntr - s * PROBE_BATCH : PROBE_BATCH);
            for (int i = 0; i < B; i++) {
                int k = order[s * PROBE_BATCH + i];
                memcpy(xb + (size_t)i * C, tr + (size_t)k * C, sizeof(float) * C);
                y[i] = ytr[k];
            }
            linear_forward(&fc, lg, xb, B);
            memset(dl, 0, sizeof(float) * B * classes);
            ce_loss(dl, lg, y, 0.0f, 1.0f, B, classes);
            params_zero_grad(&ps);
            linear_backward(&fc, NULL, dl, xb, B);
            optim_step(&opt, &ps, lr_at(&oc, ep * spe + s, spe));
        }
    }
    long correct = probe_correct(&fc, lg, te, yte, nte, C, classes);
    optim_free(&opt);
    params_free(&ps);
    free(order), free(y), free(xb), free(lg), free(dl);
    return nte ? (double)correct / nte : 0;
}

/* Copy every backbone tensor but the classifier into n's parameters (same names). */
static void copy_backbone(struct net *n, struct vit *src)
{
    for (int i = 0; i < src->params.n; i++) {
        struct param *p = &src->params.p[i], *q = params_find(n->params, p->name);
        if (strncmp(p->name, "head.", 5) == 0 || !q || q->n != p->n)
            continue;
        memcpy(*q->w, *p->w, sizeof(float) * p->n);
    }
}

/* The optimizer of semi-supervised fine-tuning over n_lab labelled images for `epochs`. */
static struct optim_cfg semi_optim(const struct experiment *x, int epochs, int n_lab)
{
    struct optim_cfg oc = x->optim;
    /* Its own AdamW whatever pretrained the backbone: an SGD lr would not suit it. */
    oc.name = OPTIM_ADAMW;
    oc.schedule = SCHEDULE_COSINE;
    oc.lr = x->seed.semi_lr;
    oc.weight_decay = x->seed.semi_weight_decay;
    oc.epochs = epochs;
    oc.warmup_epochs = epochs > 2 ? 1 : 0;
    oc.batch = oc.batch < n_lab ? oc.batch : n_lab;
    return oc;
}

double semi_finetune(struct run *r, struct vit *backbone, int percent, int epochs, struct kd_err *e)
{
    const struct experiment *x = &r->x;
    int per_class = (int)((long)r->train.n / r->train.classes * percent / 100);
    per_class = per_class > 0 ? per_class : 1;
    int *idx = malloc(sizeof(int) * r->train.n);
    KD_ASSERT(idx);
    int n_lab = dataset_subset(&r->train, idx, 0, per_class, (uint64_t)x->run.seed);
    struct optim_cfg oc = semi_optim(x, epochs, n_lab);
    struct net n;
    if (net_create(&n, &x->model, oc.batch, (uint64_t)x->run.seed, e)) {
        free(idx);
        return -1;
    }
    copy_backbone(&n, backbone);
    struct optim opt;
    if (optim_init(&opt, n.params, &oc, e)) {
        net_destroy(&n);
        free(idx);
        return -1;
    }
    int B = oc.batch;
    size_t img = (size_t)r->train.h * r->train.w * r->train.c;
    float *images = malloc(sizeof(float) * B * img), *dl = malloc(sizeof(float) * B * n.classes);
    int *labels = malloc(sizeof(int) * B), *order = malloc(sizeof(int) * n_lab);
    KD_ASSERT(images && dl && labels && order);
    struct augment_cfg aug = run_augment_of(x);
    long spe = n_lab / B;
    for (int ep = 0; ep < epochs; ep++) {
        memcpy(order, idx, sizeof(int) * n_lab);
        struct rng shuf;
        rng_init(&shuf, (uint64_t)x->run.seed, RNG_STREAM_SSL_PROBE, 1000u + ep, (uint32_t)percent);
        rng_shuffle(&shuf, order, n_lab);
        for (long s = 0; s < spe; s++) {
            long step = ep * spe + s;
            dataset_batch(images, labels, &r->train, order + s * B, B, &aug,
                          (uint64_t)x->run.seed + 1000u + percent, ep);
            net_forward(&n, images, B, 1, (uint64_t)x->run.seed, (int)step);
            memset(dl, 0, sizeof(float) * B * n.classes);
            ce_loss(dl, n.logits, labels, x->optim.label_smoothing, 1.0f, B, n.classes);
            params_zero_grad(n.params);
            net_backward(&n, dl, B);
            grad_clip(n.params, oc.clip_grad);
            optim_step(&opt, n.params, lr_at(&oc, step, spe));
        }
    }
    double loss, acc;
    evaluate(&n, &r->test, r->test_idx, r->n_test, &loss, &acc);
    optim_free(&opt);
    net_destroy(&n);
    free(idx), free(images), free(dl), free(labels), free(order);
    return acc;
}
