/* The one loop's driver of runs in stages (see loop.h: loop_stages): where to start, the bar,
 * a resume point between stages, the result files. */
#include "train/loop.h"
#include "train/resume.h"
#include "io/ckpt.h"
#include "io/progress.h"

/* The stage of the resume point to go on from (-1: none, start at stage 0), its model loaded. */
static int stages_resume(struct run *r, const struct loop_stages *st, int *done, struct kd_err *e)
{
    *done = -1;
    if (!st->resume)
        return 0;
    int rc = resume_peek_stage(r, done, e);
    if (!rc && *done >= 0)
        rc = st->resume(st->ctx, *done, e);
    if (!rc && *done >= 0)
        rc = resume_load_stage(r, st->model(st->ctx), *done, e);
    return rc;
}

int loop_stages(struct run *r, const struct loop_stages *st, struct kd_err *e)
{
    int done, rc = stages_resume(r, st, &done, e);
    long total = 0, before = 0;
    for (int i = 0; i <= st->last; i++) {
        long steps = st->steps_of(st->ctx, i);
        total += steps;
        before += i <= done ? steps : 0;
    }
    progress_begin(r->out, total, before, r->x.run.log_every);
    for (int i = done + 1; !rc && i <= st->last; i++) {
        rc = st->stage(st->ctx, i, e);
        if (!rc && st->resume && i < st->last)
            rc = resume_save(r, (struct params *[]){st->model(st->ctx)}, NULL, 1, i, 0, e);
    }
    progress_end();
    struct ckpt_info info = {1, 0};
    if (!rc && st->finish)
        rc = st->finish(st->ctx, e);
    if (!rc)
        rc = loop_finish(r, st->model(st->ctx), &info, e);
    return rc;
}
