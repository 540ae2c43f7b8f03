/* Resume points shared by the epoch loops (see resume.h). */
#include "train/resume.h"
#include "io/ckpt.h"

#include <stdio.h>
#include <unistd.h>

#define RESUME_FIX "delete the .part.* files to start over"

int resume_due(const struct run *r, int done)
{
    int every = r->x.run.ckpt_every;
    return done < r->x.optim.epochs && every > 0 && done % every == 0;
}

int resume_save(struct run *r, struct params *const *sets, struct optim *const *opts,
                int n_sets, int done, long step, struct kd_err *e)
{
    /* The rows first: a stop between the two files leaves rows past the checkpoint's epoch,
     * which resume_load drops; the other order would leave too few, which it must refuse. */
    if (run_csv_write(r, 0, e))
        return e->code;
    struct ckpt_info info = {done, step};
    return ckpt_save_sets(run_path(r, ".part.ckpt"), sets, opts, n_sets, r->resolved, &info, e);
}

int resume_load(struct run *r, struct params *const *sets, struct optim *const *opts,
                int n_sets, int *done, struct kd_err *e)
{
    const char *part = run_path(r, ".part.ckpt");
    char header[sizeof r->csv.header];
    struct ckpt_info info;
    *done = 0;
    if (access(part, F_OK) != 0)
        return 0;
    int rc = ckpt_load_sets(part, sets, opts, n_sets, r->resolved, "", &info, e);
    if (rc == KD_ERR_FORMAT)
        return kd_err_fix(e, RESUME_FIX);
    if (rc)
        return rc;
    /* run_csv_resume reopens r->csv: its header is copied out first. */
    snprintf(header, sizeof header, "%s", r->csv.header);
    int rows = run_csv_resume(r, header, (int)info.epoch, e);
    if (rows < 0)
        return rows;
    if (rows != info.epoch)
        return kd_err_setfix(e, KD_ERR_FORMAT, run_path(r, ".part.csv"), 0, RESUME_FIX,
                             "holds %d rows, the checkpoint %ld epochs", rows, info.epoch);
    *done = (int)info.epoch;
    fprintf(stderr, "[%s] resuming after epoch %d\n", r->out, *done);
    return 0;
}

void resume_clear(const struct run *r)
{
    unlink(run_path(r, ".part.ckpt"));
    unlink(run_path(r, ".part.csv"));
}
