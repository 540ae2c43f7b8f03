/* The steps of the one training loop (see loop.h): batch, the method's step, NaN guard,
 * clipping, schedule, optimizers, progress and trace, over buffers allocated once. */
#include "train/loop.h"
#include "train/resume.h"
#include "train/trace.h"
#include "io/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int loop_init(struct loop *L, const struct run *r, const struct loop_spec *sp, struct kd_err *e)
{
    memset(L, 0, sizeof *L);
    KD_ASSERT(sp->n_trained >= 1 && sp->n_trained <= sp->n_sets && sp->n_sets <= LOOP_MAX_SETS);
    L->r = r;
    L->sp = sp;
    L->cfg = sp->optim ? *sp->optim : r->x.optim;
    L->aug = run_augment_of(&r->x);
    L->B = L->cfg.batch;
    L->steps = sp->steps ? sp->steps : r->n_train / L->B;
    params_view(&L->trained, (struct params **)sp->sets, sp->n_trained);
    if (!sp->steps && r->n_train < L->B)
        return kd_err_setfix(
            e, KD_ERR_CONFIG, r->x.path, 0, "lower optim.batch or raise data.train_n",
            "optim.batch %d is larger than the %d training images", L->B, r->n_train);
    long n_order = L->steps * L->B > r->n_train ? L->steps * L->B : r->n_train;
    L->images = malloc(sizeof(float) * L->B * r->train.h * r->train.w * r->train.c);
    L->labels = malloc(sizeof(int) * L->B);
    L->order = malloc(sizeof(int) * (n_order ? n_order : 1));
    if (!L->images || !L->labels || !L->order)
        return kd_err_set(e, KD_ERR_NOMEM, r->x.path, 0, "out of memory for the batches");
    int rc = 0;
    for (int k = 0; !rc && k < sp->n_trained; k++) {
        L->opts[k] = &L->opt[k];
        rc = optim_init(&L->opt[k], sp->sets[k], &L->cfg, e);
    }
    return rc;
}

void loop_free(struct loop *L)
{
    trace_close(L->trace);
    params_free(&L->sums_set);
    for (int k = 0; k < LOOP_MAX_SETS; k++)
        if (L->opts[k])
            optim_free(L->opts[k]);
    params_view_free(&L->trained);
    free(L->images);
    free(L->labels);
    free(L->order);
    memset(L, 0, sizeof *L);
}

/* Test hook for the NaN guard (tests/test_bad_inputs.sh): the environment variable
 * KD_FAULT_NAN_STEP=<step> puts a NaN into the first parameter's gradient at that step. */
static void fault_inject(struct params *ps, long step)
{
    static long at = -2;
    if (at == -2) {
        const char *s = getenv("KD_FAULT_NAN_STEP");
        at = s && *s ? atol(s) : -1;
    }
    if (step == at && ps->n && ps->p[0].g)
        (*ps->p[0].g)[0] = NAN;
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

/* The gradient norm before clipping: of all trained sets together, or (clip_each) of the norms
 * of each set clipped alone. */
static float loop_clip(struct loop *L)
{
    float max = L->cfg.clip_grad;
    if (!L->sp->clip_each)
        return grad_clip(&L->trained, max);
    float ss = 0;
    for (int k = 0; k < L->sp->n_trained; k++) {
        float norm = grad_clip(L->sp->sets[k], max);
        ss += norm * norm;
    }
    return sqrtf(ss);
}

/* After the step's backward: the guard, clipping and the update. Returns 0 or fills e. */
static int loop_update(struct loop *L, int epoch, long step, float loss, float *norm,
                       struct kd_err *e)
{
    const char *path = L->r->x.path;
    if (!isfinite(loss))
        return kd_err_setfix(e, KD_ERR_NUMERIC, path, 0,
                             "lower optim.lr or raise optim.warmup_epochs",
                             "loss is %f at epoch %d step %ld", loss, epoch + 1, step);
    fault_inject(L->sp->sets[0], step);
    *norm = loop_clip(L);
    if (!isfinite(*norm))
        return kd_err_setfix(e, KD_ERR_NUMERIC, path, 0, "lower optim.lr or set optim.clip_grad",
                             "gradient of '%s' is not finite at epoch %d step %ld",
                             first_nonfinite(&L->trained), epoch + 1, step);
    L->lr = lr_at(&L->cfg, step, L->steps);
    for (int k = 0; k < L->sp->n_trained; k++)
        optim_step(&L->opt[k], L->sp->sets[k], L->lr);
    return 0;
}

static void loop_batch(struct loop *L, const int *idx, int epoch, long step)
{
    const struct run *r = L->r;
    if (L->sp->batch) {
        L->sp->batch(L->sp->ctx, L->images, L->labels, idx, L->B, epoch, step);
        return;
    }
    dataset_batch(L->images, L->labels, &r->train, idx, L->B, &L->aug, (uint64_t)r->x.run.seed,
                  epoch);
}

/* A resume point after `taken` steps of `epoch` (the run's step `step`): the sets with their
 * optimizers, and the loop's sums so far as one more set without one. */
static int loop_point_inside(struct loop *L, int epoch, long step, long taken, double total,
                             struct kd_err *e)
{
    const struct loop_spec *sp = L->sp;
    struct params *sets[LOOP_MAX_SETS + 1];
    struct optim *opts[LOOP_MAX_SETS + 1];
    for (int k = 0; k < sp->n_sets; k++)
        sets[k] = sp->sets[k], opts[k] = L->opts[k];
    sets[sp->n_sets] = &L->sums_set, opts[sp->n_sets] = NULL;
    L->sums[0] = total;
    L->sums[1] = L->resume_secs + now_seconds() - L->epoch_t0;
    for (int i = 0; i < sp->n_tally; i++)
        L->sums[2 + i] = *sp->tally[i];
    /* doubles kept as their bytes in a float tensor: the checkpoint copies bytes */
    memcpy(L->sums_w, L->sums, sizeof(double) * (2 + sp->n_tally));
    int rc = resume_save(L->points, sets, opts, sp->n_sets + 1, epoch, step, e);
    if (!rc)
        progress_printf("[%s] resume point at step %ld of epoch %d\n", L->points->out, taken,
                        epoch + 1);
    L->point_t0 = now_seconds();
    return rc;
}

int loop_epoch(struct loop *L, int epoch, double *mean_loss, struct kd_err *e)
{
    const struct run *r = L->r;
    const struct loop_spec *sp = L->sp;
    int B = L->B;
    if (sp->order)
        sp->order(sp->ctx, L->order, epoch);
    else
        run_epoch_order(r, L->order, epoch);
    double total = 0;
    long s = 0;
    if (L->resume_steps) { /* a resumed run's first epoch: on from its point, with its sums */
        s = L->resume_steps, total = L->sums[0];
        L->resume_steps = 0;
    }
    for (; s < L->steps; s++) {
        long step = (long)epoch * L->steps + s;
        const int *idx = L->order + s * B;
        loop_batch(L, idx, epoch, step);
        for (int k = 0; k < sp->n_trained; k++)
            params_zero_grad(sp->sets[k]);
        float lv = sp->step(sp->ctx, L->images, L->labels, idx, B, epoch, step), norm = 0;
        if (loop_update(L, epoch, step, lv, &norm, e))
            return e->code;
        total += lv;
        progress_step(lv, B);
        size_t img = (size_t)r->train.h * r->train.w * r->train.c;
        if (L->trace &&
            trace_step(L->trace, sp->net, L->images, L->labels, B, img, step, lv, norm, L->lr)) {
            L->traced = 1;
            return trace_finish(L->trace, sp->net, r->resolved, e);
        }
        if (L->points && s + 1 < L->steps && now_seconds() - L->point_t0 >= L->point_every &&
            loop_point_inside(L, epoch, step + 1, s + 1, total, e))
            return e->code;
    }
    *mean_loss = total / L->steps;
    return 0;
}
