/* MoCo-v2's and SEED's run through the one loop (ssl.h: ssl_fit): the method's step does the
 * learning; this file makes each batch's first view, hands the loop the encoder's two sets and
 * the method's state, and evaluates without labels in training (the kNN monitor only reads
 * labels to score), the last row with the final kNN, linear probe and semi-supervised
 * fine-tunings. */
#include "train/ssl.h"
#include "train/loop.h"
#include "train/probe.h"
#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ssl_run {
    struct run *r;
    struct ssl_enc *s;
    const struct ssl_method *m;
    struct ssl_augment_cfg aug;
    char cols[512]; /* the CSV columns between loss and lr */
};

/* Features of the first nb train and nq test samples; *knn their kNN top-1, *probe_acc the
 * linear probe's when probe is 1 (NAN otherwise). Returns 0 or fills e. */
static int evaluate_features(struct run *r, struct ssl_enc *s, int nb, int nq, int probe,
                             double *knn, double *probe_acc, struct kd_err *e)
{
    const struct seed_cfg *c = &r->x.seed;
    int C = s->vit.C;
    float *fb = malloc(sizeof(float) * (size_t)nb * C), *fq = malloc(sizeof(float) * nq * C);
    int *yb = malloc(sizeof(int) * nb), *yq = malloc(sizeof(int) * nq);
    if (!fb || !fq || !yb || !yq) {
        free(fb), free(fq), free(yb), free(yq);
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory for features");
    }
    probe_features(fb, yb, &s->vit, &r->train, r->train_idx, nb);
    probe_features(fq, yq, &s->vit, &r->test, r->test_idx, nq);
    *probe_acc = NAN;
    int rc = 0;
    if (probe && c->probe_epochs > 0) {
        /* On copies: the probe standardizes its input in place, kNN normalizes rows. */
        float *cb = malloc(sizeof(float) * (size_t)nb * C), *cq = malloc(sizeof(float) * nq * C);
        if (!cb || !cq) {
            rc = kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory for features");
        } else {
            memcpy(cb, fb, sizeof(float) * (size_t)nb * C);
            memcpy(cq, fq, sizeof(float) * (size_t)nq * C);
            *probe_acc = linear_probe(cb, yb, nb, cq, yq, nq, C, r->train.classes, c->probe_epochs,
                                      c->probe_lr, (uint64_t)r->x.run.seed, e);
            if (*probe_acc < 0)
                rc = e->code;
        }
        free(cb);
        free(cq);
    }
    *knn = knn_top1(fb, yb, nb, fq, yq, nq, C, r->train.classes, c->knn_k, c->knn_t);
    free(fb), free(fq), free(yb), free(yq);
    return rc;
}

/* The first view of the batch; a method draws any other itself. */
static void ssl_view(void *ctx, float *images, int *labels, const int *idx, int B, int epoch,
                     long step)
{
    struct ssl_run *S = ctx;
    ssl_batch(images, &S->r->train, idx, B, &S->aug, (uint64_t)S->r->x.run.seed, epoch, 0);
}

static float ssl_step(void *ctx, const float *images, const int *labels, const int *idx, int B,
                      int epoch, long step)
{
    struct ssl_run *S = ctx;
    return S->m->step(S->m->ctx, S->r, images, idx, B, epoch, step);
}

/* The last row: full-subset kNN, probe, semi-supervised fine-tunings. */
static int ssl_final_cells(struct ssl_run *S, struct loop_row *row, struct kd_err *e)
{
    struct run *r = S->r;
    double knn, probe;
    int rc = evaluate_features(r, S->s, r->n_train, r->n_test, 1, &knn, &probe, e);
    if (rc)
        return rc;
    char semi[256] = "";
    int n = 0;
    for (int i = 0; i < r->x.seed.n_semi; i++) {
        double acc = semi_finetune(r, &S->s->vit, r->x.seed.semi[i], r->x.seed.semi_epochs, e);
        if (acc < 0)
            return e->code;
        n += snprintf(semi + n, sizeof semi - n, ",%.6f", acc);
    }
    snprintf(row->cells, sizeof row->cells, ",%.6f,%d,%.6f%s", knn, r->n_train, probe, semi);
    snprintf(row->note, sizeof row->note, " final: knn %.4f probe %.4f%s%s", knn, probe,
             n ? " semi " : "", semi + (n > 0));
    return 0;
}

/* Every epoch but the last: the kNN of a monitor subset, no probe, no fine-tunings. */
static int ssl_epoch_end(void *ctx, int epoch, double loss, struct loop_row *row, struct kd_err *e)
{
    struct ssl_run *S = ctx;
    struct run *r = S->r;
    const struct seed_cfg *c = &r->x.seed;
    if (epoch + 1 == r->x.optim.epochs)
        return ssl_final_cells(S, row, e);
    int mon_b = c->monitor_n < r->n_train ? c->monitor_n : r->n_train;
    int mon_q = c->monitor_n < r->n_test ? c->monitor_n : r->n_test;
    double knn, probe;
    int rc = evaluate_features(r, S->s, mon_b, mon_q, 0, &knn, &probe, e);
    int n = snprintf(row->cells, sizeof row->cells, ",%.6f,%d,", knn, mon_b);
    for (int i = 0; i < c->n_semi; i++)
        n += snprintf(row->cells + n, sizeof row->cells - n, ",");
    snprintf(row->note, sizeof row->note, " knn(monitor) %.4f", knn);
    return rc;
}

int ssl_fit(struct run *r, struct ssl_enc *s, const struct ssl_method *m, struct kd_err *e)
{
    struct ssl_run S = {r, s, m, ssl_augment_of(&r->x), ",knn_acc,knn_bank,probe_acc"};
    size_t n = strlen(S.cols);
    for (int i = 0; i < r->x.seed.n_semi; i++)
        n += snprintf(S.cols + n, sizeof S.cols - n, ",semi_%d", r->x.seed.semi[i]);
    /* A resume point: s with its two optimizers, and the method's state without one. */
    struct loop_spec sp = {.ctx = &S,
                           .sets = {&s->vit.params, &s->head_ps, m->state},
                           .n_sets = m->state ? 3 : 2,
                           .n_trained = 2,
                           .clip_each = 1,
                           .save = &s->all,
                           .loss_col = "loss",
                           .cols = S.cols,
                           .batch = ssl_view,
                           .step = ssl_step,
                           .epoch_end = ssl_epoch_end,
                           .mid_epoch = 1}; /* queues and key encoders are in the sets */
    return loop_train(r, &sp, e);
}
