/* The shared epoch loop (see fit.h). */
#include "train/fit.h"
#include "train/optim.h"
#include "train/resume.h"
#include "train/trace.h"
#include "loss/loss.h"
#include "io/ckpt.h"
#include "io/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float ce_fn(void *ctx, struct net *n, float *dlogits, const int *labels, const int *idx,
                   int B, int epoch)
{
    const struct experiment *x = ctx;
    return ce_loss(dlogits, n->logits, labels, x->optim.label_smoothing, 1.0f, B, n->classes);
}

const struct fit_loss fit_loss_ce = {NULL, ce_fn};

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

#define FIT_HEADER "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,img_per_s,peak_mb"

struct loop {
    struct run *r;
    struct net *n;
    struct optim opt;
    float *images, *dlogits;
    int *labels, *order;
    long steps_per_epoch;
    const struct fit_batch *batch; /* NULL: dataset_batch */
    struct trace *trace;           /* NULL unless KD_TRACE is set (tests/test_twin.sh) */
    int traced;                    /* the trace has all its steps: stop, write nothing */
};

/* Test hook for the NaN guard (tests/test_bad_inputs.sh): the environment variable
 * KD_FAULT_NAN_STEP=<step> puts a NaN into the first parameter's gradient at that step. */
static void fault_inject(struct net *n, long step)
{
    static long at = -2;
    if (at == -2) {
        const char *s = getenv("KD_FAULT_NAN_STEP");
        at = s && *s ? atol(s) : -1;
    }
    if (step == at)
        (*n->params->p[0].g)[0] = NAN;
}

/* Returns 0, or KD_ERR_NUMERIC naming the step and the first layer with a bad gradient. */
static int train_epoch(struct loop *L, int epoch, const struct fit_loss *loss, double *mean_loss,
                       double *mean_acc, float *last_lr, struct kd_err *e)
{
    struct run *r = L->r;
    const struct experiment *x = &r->x;
    struct net *n = L->n;
    int B = x->optim.batch;
    struct augment_cfg aug = run_augment_of(x);
    run_epoch_order(r, L->order, epoch);
    double total = 0;
    long correct = 0;
    for (long s = 0; s < L->steps_per_epoch; s++) {
        long step = (long)epoch * L->steps_per_epoch + s;
        const int *idx = L->order + s * B;
        const struct fit_loss *lf = loss ? loss : &fit_loss_ce;
        if (L->batch)
            L->batch->fn(L->batch->ctx, L->images, L->labels, idx, B, epoch);
        else
            dataset_batch(L->images, L->labels, &r->train, idx, B, &aug, (uint64_t)x->run.seed,
                          epoch);
        net_forward(n, L->images, B, 1, (uint64_t)x->run.seed, (int)step);
        memset(L->dlogits, 0, sizeof(float) * B * n->classes);
        float lv = lf->fn(lf->ctx ? lf->ctx : (void *)x, n, L->dlogits, L->labels, idx, B, epoch);
        if (!isfinite(lv))
            return kd_err_setfix(e, KD_ERR_NUMERIC, r->x.path, 0,
                                 "lower optim.lr or raise optim.warmup_epochs",
                                 "loss is %f at epoch %d step %ld", lv, epoch + 1, step);
        correct += ce_correct(n->logits, L->labels, B, n->classes);
        params_zero_grad(n->params);
        net_backward(n, L->dlogits, B);
        fault_inject(n, step);
        float norm = grad_clip(n->params, x->optim.clip_grad);
        if (!isfinite(norm))
            return kd_err_setfix(e, KD_ERR_NUMERIC, r->x.path, 0,
                                 "lower optim.lr or set optim.clip_grad",
                                 "gradient of '%s' is not finite at epoch %d step %ld",
                                 net_first_nonfinite_grad(n), epoch + 1, step);
        *last_lr = lr_at(&x->optim, step, L->steps_per_epoch);
        optim_step(&L->opt, n->params, *last_lr);
        total += lv;
        progress_step(lv, B);
        if (L->trace && trace_step(L->trace, n, L->images, L->labels, B,
                                   (size_t)r->train.h * r->train.w * r->train.c, step, lv, norm,
                                   *last_lr)) {
            L->traced = 1;
            return trace_finish(L->trace, n, r->resolved, e);
        }
    }
    *mean_loss = total / L->steps_per_epoch;
    *mean_acc = (double)correct / ((double)L->steps_per_epoch * B);
    return 0;
}

static int loop_setup(struct loop *L, struct run *r, struct net *n, struct kd_err *e)
{
    memset(L, 0, sizeof *L);
    L->r = r;
    L->n = n;
    int B = r->x.optim.batch;
    if (r->n_train < B)
        return kd_err_setfix(e, KD_ERR_CONFIG, r->x.path, 0,
                             "lower optim.batch or raise data.train_n",
                             "optim.batch %d is larger than the %d training images", B,
                             r->n_train);
    L->steps_per_epoch = r->n_train / B;
    size_t img = (size_t)r->train.h * r->train.w * r->train.c;
    L->images = malloc(sizeof(float) * B * img);
    L->dlogits = malloc(sizeof(float) * B * n->classes);
    L->labels = malloc(sizeof(int) * B);
    L->order = malloc(sizeof(int) * r->n_train);
    return optim_init(&L->opt, n->params, &r->x.optim, e);
}

static void loop_free(struct loop *L)
{
    trace_close(L->trace);
    optim_free(&L->opt);
    free(L->images);
    free(L->dlogits);
    free(L->labels);
    free(L->order);
}

int fit(struct run *r, struct net *n, const struct fit_loss *loss, struct kd_err *e)
{
    return fit_batched(r, n, loss, NULL, e);
}

int fit_batched(struct run *r, struct net *n, const struct fit_loss *loss,
                const struct fit_batch *batch, struct kd_err *e)
{
    struct loop L;
    const struct experiment *x = &r->x;
    int first = 0, rc = loop_setup(&L, r, n, e);
    struct optim *opt = &L.opt;
    L.batch = batch;
    if (!rc)
        rc = run_csv_open(r, FIT_HEADER, e);
    if (!rc)
        rc = resume_load(r, &n->params, &opt, 1, &first, e);
    if (!rc)
        rc = trace_open(&L.trace, n, r->resolved, e);
    progress_begin(r->out, x->optim.epochs * L.steps_per_epoch, first * L.steps_per_epoch,
                   x->run.log_every);
    for (int epoch = first; !rc && epoch < x->optim.epochs; epoch++) {
        double t0 = now_seconds(), tl = 0, ta = 0, vl = 0, va = 0;
        float lr = 0;
        rc = train_epoch(&L, epoch, loss, &tl, &ta, &lr, e);
        if (rc || L.traced)
            break;
        double secs = now_seconds() - t0;
        evaluate(n, &r->test, r->test_idx, r->n_test, &vl, &va);
        double ips = L.steps_per_epoch * x->optim.batch / secs;
        csv_row(&r->csv, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.2f,%.1f,%.0f", epoch + 1, tl, ta, vl, va,
                    lr, secs, ips, peak_rss_mb());
        progress_printf("[%s] epoch %d/%d loss %.4f acc %.4f test %.4f %.0f img/s\n", r->out,
                        epoch + 1, x->optim.epochs, tl, ta, va, ips);
        if (resume_due(r, epoch + 1))
            rc = resume_save(r, &n->params, &opt, 1, epoch + 1, L.opt.step, e);
    }
    progress_end();
    if (L.traced) {
        if (!rc)
            fprintf(stderr, "[%s] trace written: %s\n", r->out, getenv("KD_TRACE"));
        loop_free(&L);
        return rc;
    }
    if (!rc) {
        struct ckpt_info info = {x->optim.epochs, L.opt.step};
        rc = ckpt_save(run_path(r, ".ckpt"), n->params, NULL, r->resolved, &info, e);
    }
    if (!rc)
        rc = run_finish(r, e);
    if (!rc)
        rc = run_csv_write(r, 1, e);
    if (!rc)
        resume_clear(r);
    loop_free(&L);
    return rc;
}
