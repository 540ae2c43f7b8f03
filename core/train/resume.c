/* Resume points shared by the epoch loops (see resume.h). */
#include "train/resume.h"
#include "io/ckpt.h"

#include <stdio.h>
#include <sys/stat.h>
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

/* The first result r reads (a teacher, soft labels, an init) that was made again after the
 * resume point of mtime `part`, or NULL. Resuming then would train on two different inputs. */
static const char *input_remade_since(const struct run *r, time_t part)
{
    static char path[640];
    const char *refs[CONFIG_MAX_REFS];
    int n = config_refs_of(&r->x, refs);
    for (int i = 0; i < n; i++) {
        static struct experiment ref;
        struct kd_err ignored;
        struct stat st;
        char stem[600];
        if (config_load(&ref, refs[i], r->x.scale, 0, NULL, &ignored))
            continue; /* the run itself reports a broken reference */
        run_stem_of(stem, sizeof stem, refs[i], r->x.scale, config_first_seed(&ref));
        snprintf(path, sizeof path, "%s.csv", stem);
        if (stat(path, &st) == 0 && st.st_mtime > part)
            return path;
    }
    return NULL;
}

int resume_load(struct run *r, struct params *const *sets, struct optim *const *opts,
                int n_sets, int *done, struct kd_err *e)
{
    const char *part = run_path(r, ".part.ckpt");
    char header[sizeof r->csv.header];
    struct ckpt_info info;
    *done = 0;
    struct stat st;
    if (stat(part, &st) != 0)
        return 0;
    const char *remade = input_remade_since(r, st.st_mtime);
    if (remade) {
        fprintf(stderr, "[%s] %s is newer than the resume point: starting over\n", r->out,
                remade);
        resume_clear(r);
        return 0;
    }
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
