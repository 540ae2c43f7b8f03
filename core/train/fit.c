/* Supervised and logit-distillation steps for the one loop (see fit.h). */
#include "train/fit.h"
#include "train/loop.h"
#include "loss/loss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void evaluate(struct net *n, const struct dataset *d, const int *idx, int count, double *loss,
              double *acc)
{
    int Bmax = n->Bmax;
    size_t img = (size_t)d->h * d->w * d->c;
    float *images = malloc(sizeof(float) * Bmax * img);
    int *labels = malloc(sizeof(int) * Bmax);
    double total = 0;
    long correct = 0;
    for (int at = 0; at < count; at += Bmax) {
        int B = count - at < Bmax ? count - at : Bmax;
        dataset_batch(images, labels, d, idx + at, B, NULL, 0, 0);
        net_forward(n, images, B, 0, 0, 0);
        total += (double)ce_loss(NULL, n->logits, labels, 0.0f, 0.0f, B, n->classes) * B;
        correct += ce_correct(n->logits, labels, B, n->classes);
    }
    *loss = count ? total / count : 0;
    *acc = count ? (double)correct / count : 0;
    free(images);
    free(labels);
}

struct fit_method {
    struct run *r;
    struct net *n;
    const struct fit_hooks *h; /* NULL: supervised */
    float *dlogits;            /* (B, classes) */
    double correct;            /* training samples classified right this epoch (a loop tally) */
};

static void fit_batch(void *ctx, float *images, int *labels, const int *idx, int B, int epoch,
                      long step)
{
    const struct fit_hooks *h = ((struct fit_method *)ctx)->h;
    h->batch(h->ctx, images, labels, idx, B, epoch);
}

static float fit_step(void *ctx, const float *images, const int *labels, const int *idx, int B,
                      int epoch, long step)
{
    struct fit_method *F = ctx;
    struct net *n = F->n;
    const struct experiment *x = &F->r->x;
    net_forward(n, images, B, 1, (uint64_t)x->run.seed, (int)step);
    memset(F->dlogits, 0, sizeof(float) * B * n->classes);
    float loss = F->h && F->h->loss ? F->h->loss(F->h->ctx, n, F->dlogits, labels, idx, B, epoch)
                                    : ce_loss(F->dlogits, n->logits, labels,
                                              x->optim.label_smoothing, 1.0f, B, n->classes);
    if (!isfinite(loss))
        return loss;
    F->correct += ce_correct(n->logits, labels, B, n->classes);
    net_backward(n, F->dlogits, B);
    return loss;
}

/* Training accuracy, then loss and accuracy on the test subset. */
static int fit_epoch_end(void *ctx, int epoch, double loss, struct loop_row *row, struct kd_err *e)
{
    struct fit_method *F = ctx;
    struct run *r = F->r;
    int B = r->x.optim.batch;
    double ta = F->correct / ((double)(r->n_train / B) * B), vl, va;
    F->correct = 0;
    evaluate(F->n, &r->test, r->test_idx, r->n_test, &vl, &va);
    snprintf(row->cells, sizeof row->cells, ",%.6f,%.6f,%.6f", ta, vl, va);
    snprintf(row->note, sizeof row->note, " acc %.4f test %.4f", ta, va);
    if (F->h && F->h->cells)
        F->h->cells(F->h->ctx, epoch, row->tail, sizeof row->tail);
    return 0;
}

int fit(struct run *r, struct net *n, const struct fit_hooks *h, struct kd_err *e)
{
    struct fit_method F = {r, n, h, malloc(sizeof(float) * r->x.optim.batch * n->classes), 0};
    if (!F.dlogits)
        return kd_err_set(e, KD_ERR_NOMEM, r->x.path, 0, "out of memory for the logits");
    struct loop_spec sp = {.ctx = &F,
                           .sets = {n->params},
                           .n_sets = 1,
                           .n_trained = 1,
                           .save = n->params,
                           .net = n,
                           .cols = ",train_acc,test_loss,test_acc",
                           .tail_cols = h ? h->cols : NULL,
                           .batch = h && h->batch ? fit_batch : NULL,
                           .step = fit_step,
                           .epoch_end = fit_epoch_end,
                           .mid_epoch = !h || h->mid_epoch,
                           .tally = {&F.correct},
                           .n_tally = 1};
    for (int i = 0; h && i < h->n_tally; i++)
        sp.tally[sp.n_tally++] = h->tally[i];
    int rc = loop_train(r, &sp, e);
    free(F.dlogits);
    return rc;
}
