/* The epoch loop of MoCo-v2 and SEED (ssl.h: ssl_fit): the method's step does the learning;
 * this file owns order, learning rate, NaN guard, monitoring without labels in training (the
 * kNN monitor only reads labels to score), the final evaluation, the result files and the
 * resume points. */
#include "train/ssl.h"
#include "train/probe.h"
#include "train/resume.h"
#include "base/err.h"
#include "io/progress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSL_HEADER "epoch,loss,knn_acc,knn_bank,probe_acc"
#define SSL_TIMING "lr,seconds,img_per_s,peak_mb"

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
            *probe_acc = linear_probe(cb, yb, nb, cq, yq, nq, C, r->train.classes,
                                      c->probe_epochs, c->probe_lr, (uint64_t)r->x.run.seed, e);
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

static int open_csv(struct run *r, struct kd_err *e)
{
    char header[512];
    int n = snprintf(header, sizeof header, "%s", SSL_HEADER);
    for (int i = 0; i < r->x.seed.n_semi; i++)
        n += snprintf(header + n, sizeof header - n, ",semi_%d", r->x.seed.semi[i]);
    snprintf(header + n, sizeof header - n, ",%s", SSL_TIMING);
    return run_csv_open(r, header, e);
}

/* The last row: full-subset kNN, probe, semi-supervised fine-tunings. */
static int final_row(struct run *r, struct ssl_enc *s, int epoch, double loss, float lr,
                     double secs, double ips, struct kd_err *e)
{
    double knn, probe;
    int rc = evaluate_features(r, s, r->n_train, r->n_test, 1, &knn, &probe, e);
    if (rc)
        return rc;
    char semi[512] = "";
    int n = 0;
    for (int i = 0; i < r->x.seed.n_semi; i++) {
        double acc = semi_finetune(r, &s->vit, r->x.seed.semi[i], r->x.seed.semi_epochs, e);
        if (acc < 0)
            return e->code;
        n += snprintf(semi + n, sizeof semi - n, ",%.6f", acc);
    }
    csv_row(&r->csv, "%d,%.6f,%.6f,%d,%.6f%s,%.6g,%.2f,%.1f,%.0f", epoch + 1, loss, knn,
            r->n_train, probe, semi, lr, secs, ips, peak_rss_mb());
    progress_printf("[%s] final: knn %.4f probe %.4f%s\n", r->out, knn, probe, semi);
    return 0;
}

/* One epoch of the method's steps in the epoch's order; *loss is their mean, *lr the last. */
static int train_epoch(struct run *r, const struct ssl_method *m, int *order, int epoch, long spe,
                       double *loss, float *lr, struct kd_err *e)
{
    const struct experiment *x = &r->x;
    int B = x->optim.batch;
    double total = 0;
    run_epoch_order(r, order, epoch);
    for (long st = 0; st < spe; st++) {
        long step = epoch * spe + st;
        *lr = lr_at(&x->optim, step, spe);
        float lv = m->step(m->ctx, r, order + st * B, B, epoch, step, *lr);
        if (!isfinite(lv))
            return kd_err_setfix(e, KD_ERR_NUMERIC, x->path, 0,
                                 "lower optim.lr or raise optim.warmup_epochs",
                                 "loss or gradient not finite at epoch %d step %ld", epoch + 1,
                                 step);
        total += lv;
        progress_step(lv, B);
    }
    *loss = total / spe;
    return 0;
}

int ssl_fit(struct run *r, struct ssl_enc *s, const struct ssl_method *m, struct kd_err *e)
{
    const struct experiment *x = &r->x;
    int B = x->optim.batch, first = 0;
    if (r->n_train < B)
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0, "lower optim.batch or raise "
                             "data.train_n", "optim.batch %d is larger than the %d training "
                             "images", B, r->n_train);
    long spe = r->n_train / B;
    /* A resume point: s with its two optimizers, and the method's state without one. */
    struct params *sets[3] = {&s->vit.params, &s->head_ps, m->state};
    struct optim *opts[3] = {&s->opt_vit, &s->opt_head, NULL};
    int n_sets = m->state ? 3 : 2;
    int *order = malloc(sizeof(int) * r->n_train);
    int rc = order ? open_csv(r, e) : kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    if (!rc)
        rc = resume_load(r, sets, opts, n_sets, &first, e);
    int mon_b = x->seed.monitor_n < r->n_train ? x->seed.monitor_n : r->n_train;
    int mon_q = x->seed.monitor_n < r->n_test ? x->seed.monitor_n : r->n_test;
    char empty[64] = "";
    for (int i = 0; i < x->seed.n_semi; i++)
        strcat(empty, ",");
    progress_begin(r->out, x->optim.epochs * spe, first * spe, x->run.log_every);
    for (int epoch = first; !rc && epoch < x->optim.epochs; epoch++) {
        double t0 = now_seconds(), loss = 0;
        float lr = 0;
        rc = train_epoch(r, m, order, epoch, spe, &loss, &lr, e);
        if (rc)
            break;
        double secs = now_seconds() - t0, ips = spe * B / secs;
        if (epoch + 1 == x->optim.epochs) {
            rc = final_row(r, s, epoch, loss, lr, secs, ips, e);
            break;
        }
        double knn, probe;
        rc = evaluate_features(r, s, mon_b, mon_q, 0, &knn, &probe, e);
        csv_row(&r->csv, "%d,%.6f,%.6f,%d,%s,%.6g,%.2f,%.1f,%.0f", epoch + 1, loss, knn, mon_b,
                empty, lr, secs, ips, peak_rss_mb());
        progress_printf("[%s] epoch %d/%d loss %.4f knn(monitor) %.4f %.0f img/s\n", r->out,
                        epoch + 1, x->optim.epochs, loss, knn, ips);
        if (!rc && resume_due(r, epoch + 1))
            rc = resume_save(r, sets, opts, n_sets, epoch + 1, s->opt_vit.step, e);
    }
    progress_end();
    if (!rc)
        rc = ssl_enc_save(s, run_path(r, ".ckpt"), r->resolved, x->optim.epochs,
                          (long)x->optim.epochs * spe, e);
    if (!rc)
        rc = run_finish(r, e);
    if (!rc)
        rc = run_csv_write(r, 1, e);
    if (!rc)
        resume_clear(r);
    free(order);
    return rc;
}
