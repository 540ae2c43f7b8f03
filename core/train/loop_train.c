/* A whole run of the one loop (see loop.h): the result table, resume points, the epochs with
 * their rows and lines, the trace, and the files written at the end. */
#include "train/loop.h"
#include "train/resume.h"
#include "train/trace.h"
#include "train/ckpt_params.h"
#include "io/progress.h"
#include "base/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOP_TIMING "lr,seconds,img_per_s,peak_mb"

static int loop_csv_open(struct run *r, const struct loop_spec *sp, struct kd_err *e)
{
    char header[sizeof r->csv.header];
    snprintf(header, sizeof header, "epoch,%s%s,%s%s", sp->loss_col ? sp->loss_col : "train_loss",
             sp->cols ? sp->cols : "", LOOP_TIMING, sp->tail_cols ? sp->tail_cols : "");
    return run_csv_open(r, header, e);
}

/* One epoch: its steps (timed alone), the method's cells, the row and line, then a resume point
 * when one is due. */
static int loop_train_epoch(struct loop *L, struct run *r, int epoch, struct kd_err *e)
{
    const struct loop_spec *sp = L->sp;
    struct loop_row row;
    double loss = 0;
    L->epoch_t0 = now_seconds();
    int rc = loop_epoch(L, epoch, &loss, e);
    if (rc || L->traced)
        return rc;
    double secs = L->resume_secs + now_seconds() - L->epoch_t0, ips = L->steps * L->B / secs;
    L->resume_secs = 0;
    memset(&row, 0, sizeof row);
    if (sp->epoch_end && sp->epoch_end(sp->ctx, epoch, loss, &row, e))
        return e->code;
    csv_row(&r->csv, "%d,%.6f%s,%.6g,%.2f,%.1f,%.0f%s", epoch + 1, loss, row.cells, L->lr, secs,
            ips, peak_rss_mb(), row.tail);
    progress_printf("[%s] epoch %d/%d loss %.4f%s %.0f img/s\n", r->out, epoch + 1, L->cfg.epochs,
                    loss, row.note, ips);
    if (!resume_due(r, epoch + 1))
        return 0;
    L->point_t0 = now_seconds();
    return resume_save(r, sp->sets, L->opts, sp->n_sets, epoch + 1, L->opt[0].step, e);
}

/* Minutes between resume points inside an epoch: KD_RESUME_MINUTES, else 10 (0: none). */
static double resume_minutes(void)
{
    return kd_env_number("KD_RESUME_MINUTES", 10.0, "a number of minutes");
}

/* Points inside epochs for a method that allows them (sp->mid_epoch): the set that carries the
 * loop's sums. Returns 0 or fills e. */
static int loop_points_init(struct loop *L, struct run *r, const struct loop_spec *sp,
                            struct kd_err *e)
{
    double minutes = resume_minutes();
    KD_ASSERT(sp->n_tally >= 0 && sp->n_tally <= LOOP_MAX_TALLY);
    if (!sp->mid_epoch)
        return 0;
    /* allocated even when this run makes no such points: it may go on from one made before */
    params_begin(&L->sums_set);
    params_add(&L->sums_set, &L->sums_w, &L->sums_g, 0, "", "loop.epoch_sums",
               (int)(sizeof L->sums / (sizeof(float))), 0, 0, 0);
    if (params_alloc(&L->sums_set, e))
        return e->code;
    L->points = minutes > 0 ? r : NULL;
    L->point_every = 60.0 * minutes;
    L->point_t0 = now_seconds();
    return 0;
}

/* Resume from the run's point, when it has one: *first is the epoch to go on with. */
static int loop_resume(struct loop *L, struct run *r, const struct loop_spec *sp, int *first,
                       struct kd_err *e)
{
    int rc = resume_load_steps(r, sp->sets, L->opts, sp->n_sets, sp->mid_epoch ? L->steps : 0,
                               sp->mid_epoch ? &L->sums_set : NULL, first, &L->resume_steps, e);
    if (rc || !L->resume_steps)
        return rc;
    memcpy(L->sums, L->sums_w, sizeof L->sums);
    L->resume_secs = L->sums[1];
    for (int i = 0; i < sp->n_tally; i++)
        *sp->tally[i] = L->sums[2 + i];
    return 0;
}

int loop_finish(struct run *r, struct params *save, const struct ckpt_info *info, struct kd_err *e)
{
    int rc = ckpt_save(run_path(r, ".ckpt"), save, NULL, r->resolved, info, e);
    if (!rc)
        rc = run_finish(r, e);
    if (!rc)
        rc = run_csv_write(r, 1, e);
    if (!rc)
        resume_clear(r);
    return rc;
}

int loop_train(struct run *r, const struct loop_spec *sp, struct kd_err *e)
{
    struct loop L;
    int first = 0, rc = loop_init(&L, r, sp, e);
    if (!rc)
        rc = loop_csv_open(r, sp, e);
    r->epoch_steps = L.steps;
    if (!rc)
        rc = loop_points_init(&L, r, sp, e);
    if (!rc)
        rc = loop_resume(&L, r, sp, &first, e);
    if (!rc && sp->net)
        rc = trace_open(&L.trace, sp->net, r->resolved, e);
    progress_begin(r->out, L.cfg.epochs * L.steps, first * L.steps + L.resume_steps,
                   r->x.run.log_every);
    for (int epoch = first; !rc && !L.traced && epoch < L.cfg.epochs; epoch++)
        rc = loop_train_epoch(&L, r, epoch, e);
    progress_end();
    if (!rc && L.traced)
        fprintf(stderr, "[%s] trace written: %s\n", r->out, getenv("KD_TRACE"));
    struct ckpt_info info = {L.cfg.epochs, L.opt[0].step};
    if (!rc && !L.traced)
        rc = loop_finish(r, sp->save, &info, e);
    loop_free(&L);
    return rc;
}
