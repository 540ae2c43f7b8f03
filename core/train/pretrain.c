/* The label-free epoch loop (see pretrain.h). */
#include "train/pretrain.h"
#include "train/optim.h"
#include "train/resume.h"
#include "io/ckpt.h"
#include "io/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void params_view(struct params *view, struct params **sets, int n_sets)
{
    memset(view, 0, sizeof *view);
    for (int s = 0; s < n_sets; s++)
        view->n += sets[s]->n;
    view->p = calloc(view->n ? view->n : 1, sizeof *view->p);
    KD_ASSERT(view->p);
    view->cap = view->n;
    int at = 0;
    for (int s = 0; s < n_sets; s++) {
        memcpy(view->p + at, sets[s]->p, sizeof *view->p * sets[s]->n);
        at += sets[s]->n;
        view->total += sets[s]->total;
    }
}

void params_view_free(struct params *view)
{
    free(view->p);
    memset(view, 0, sizeof *view);
}

static const char *first_nonfinite(const struct params *ps)
{
    for (int i = 0; i < ps->n; i++) {
        const struct param *p = &ps->p[i];
        for (size_t j = 0; p->g && !p->frozen && j < p->n; j++)
            if (!isfinite((*p->g)[j]))
                return p->name;
    }
    return "?";
}

struct ploop {
    struct params *sets[PRETRAIN_MAX_SETS], all;
    struct optim opt[PRETRAIN_MAX_SETS];
    int n_sets;
    float *images;
    int *labels, *order;
    long steps;
};

static int epoch_run(struct run *r, struct ploop *L, const struct pretrain_step *st, int epoch,
                     double *mean_loss, float *lr, struct kd_err *e)
{
    const struct experiment *x = &r->x;
    int B = x->optim.batch;
    struct augment_cfg aug = run_augment_of(x);
    run_epoch_order(r, L->order, epoch);
    double total = 0;
    for (long s = 0; s < L->steps; s++) {
        long step = (long)epoch * L->steps + s;
        const int *idx = L->order + s * B;
        dataset_batch(L->images, L->labels, &r->train, idx, B, &aug, (uint64_t)x->run.seed,
                      epoch);
        for (int k = 0; k < L->n_sets; k++)
            params_zero_grad(L->sets[k]);
        float lv = st->fn(st->ctx, L->images, idx, B, epoch, step);
        if (!isfinite(lv))
            return kd_err_setfix(e, KD_ERR_NUMERIC, x->path, 0,
                                 "lower optim.lr or raise optim.warmup_epochs",
                                 "loss is %f at epoch %d step %ld", lv, epoch + 1, step);
        float norm = grad_clip(&L->all, x->optim.clip_grad);
        if (!isfinite(norm))
            return kd_err_setfix(e, KD_ERR_NUMERIC, x->path, 0,
                                 "lower optim.lr or set optim.clip_grad",
                                 "gradient of '%s' is not finite at epoch %d step %ld",
                                 first_nonfinite(&L->all), epoch + 1, step);
        *lr = lr_at(&x->optim, step, L->steps);
        for (int k = 0; k < L->n_sets; k++)
            optim_step(&L->opt[k], L->sets[k], *lr);
        total += lv;
        progress_step(lv, B);
    }
    *mean_loss = total / L->steps;
    return 0;
}

/* The loop's buffers, the view over every set (for clipping) and one optimizer per set, whose
 * addresses go to opts[] (for resume points). */
static int ploop_init(struct ploop *L, const struct run *r, struct params **sets, int n_sets,
                      struct optim **opts, struct kd_err *e)
{
    int B = r->x.optim.batch, rc = 0;
    memset(L, 0, sizeof *L);
    L->n_sets = n_sets;
    memcpy(L->sets, sets, sizeof *sets * n_sets);
    params_view(&L->all, sets, n_sets);
    L->steps = r->n_train / B;
    L->images = malloc(sizeof(float) * B * r->train.h * r->train.w * r->train.c);
    L->labels = malloc(sizeof(int) * B);
    L->order = malloc(sizeof(int) * r->n_train);
    for (int k = 0; !rc && k < n_sets; k++) {
        opts[k] = &L->opt[k];
        rc = optim_init(&L->opt[k], sets[k], &r->x.optim, e);
    }
    return rc;
}

static void ploop_free(struct ploop *L)
{
    for (int k = 0; k < L->n_sets; k++)
        optim_free(&L->opt[k]);
    params_view_free(&L->all);
    free(L->images);
    free(L->labels);
    free(L->order);
}

int pretrain(struct run *r, struct params **sets, int n_sets, const struct pretrain_step *st,
             struct params *save, struct kd_err *e)
{
    const struct experiment *x = &r->x;
    struct ploop L;
    struct optim *opts[PRETRAIN_MAX_SETS];
    int B = x->optim.batch, first = 0;
    KD_ASSERT(n_sets >= 1 && n_sets <= PRETRAIN_MAX_SETS);
    if (r->n_train < B)
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "lower optim.batch or raise data.train_n",
                             "optim.batch %d is larger than the %d training images", B,
                             r->n_train);
    int rc = ploop_init(&L, r, sets, n_sets, opts, e);
    if (!rc)
        rc = run_csv_open(r, PRETRAIN_HEADER, e);
    if (!rc)
        rc = resume_load(r, sets, opts, n_sets, &first, e);
    progress_begin(r->out, x->optim.epochs * L.steps, first * L.steps, x->run.log_every);
    for (int epoch = first; !rc && epoch < x->optim.epochs; epoch++) {
        double t0 = now_seconds(), loss = 0;
        float lr = 0;
        rc = epoch_run(r, &L, st, epoch, &loss, &lr, e);
        if (rc)
            break;
        double secs = now_seconds() - t0, ips = L.steps * B / secs;
        csv_row(&r->csv, "%d,%.6f,%.6g,%.2f,%.1f,%.0f", epoch + 1, loss, lr, secs, ips,
                peak_rss_mb());
        progress_printf("[%s] epoch %d/%d loss %.4f %.0f img/s\n", r->out, epoch + 1,
                        x->optim.epochs, loss, ips);
        if (resume_due(r, epoch + 1))
            rc = resume_save(r, sets, opts, n_sets, epoch + 1, L.opt[0].step, e);
        else
            rc = run_csv_write(r, 0, e);
    }
    progress_end();
    if (!rc) {
        struct ckpt_info info = {x->optim.epochs, L.opt[0].step};
        rc = ckpt_save(run_path(r, ".ckpt"), save, NULL, r->resolved, &info, e);
    }
    if (!rc)
        rc = run_finish(r, e);
    if (!rc)
        rc = run_csv_write(r, 1, e);
    if (!rc)
        resume_clear(r);
    ploop_free(&L);
    return rc;
}
