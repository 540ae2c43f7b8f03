/* Resume points of the one loop and the teacher pass (see resume.h). */
#include "train/resume.h"
#include "train/loop.h"
#include "train/ckpt_params.h"
#include "train/result_key.h"
#include "base/fsio.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESUME_FIX "delete the .part.* files to start over"

int resume_due(const struct run *r, int done)
{
    int every = r->x.run.ckpt_every;
    return done < r->x.optim.epochs && every > 0 && done % every == 0;
}

/* STEM.part.meta: the run's key (train/result_key.h), which is the same at every point of one
 * run, so its order against the other two files does not matter, the wall seconds the run has
 * taken so far (over every stretch it ran in), which a resumed run goes on counting, and the
 * loop's steps an epoch (the same at every point too). */
static int point_key_save(const struct run *r, struct kd_err *e)
{
    struct atomic_file af;
    char text[128 + CONFIG_MAX_REFS * 640];
    int n = snprintf(text, sizeof text, "config_hash: %016llx\nwall_seconds: %.1f\n",
                     (unsigned long long)r->key->config, now_seconds() - r->t_start);
    if (r->epoch_steps > 0) /* where a point inside an epoch is, for make status */
        n += snprintf(text + n, sizeof text - n, "epoch_steps: %ld\n", r->epoch_steps);
    result_key_format(r->key, text + n, sizeof text - n);
    if (atomic_open(&af, run_path(r, ".part.meta"), e))
        return e->code;
    fputs(text, af.f);
    return atomic_commit(&af, e);
}

int resume_save(struct run *r, struct params *const *sets, struct optim *const *opts, int n_sets,
                int done, long step, struct kd_err *e)
{
    /* The rows first: a stop between the two files leaves rows past the checkpoint's epoch,
     * which resume_load drops; the other order would leave too few, which it must refuse. */
    if (run_csv_write(r, 0, e) || point_key_save(r, e))
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
        run_stem_of(stem, sizeof stem, refs[i], r->x.scale,
                    result_ref_seed(&r->x, refs[i], &ref, r->x.run.seed));
        snprintf(path, sizeof path, "%s.csv", stem);
        if (stat(path, &st) == 0 && st.st_mtime > part)
            return path;
    }
    return NULL;
}

/* Why the point's STEM.part.meta says it was made by another computation than r's (another
 * numerics version, an input with another key), or NULL. A point without one (written before
 * points recorded their key) is judged by its inputs' dates alone. */
static const char *point_key_stale(const struct run *r, char *why, size_t cap)
{
    static struct result_key had;
    if (result_key_read(&had, run_path(r, ".part.meta")) != 0)
        return NULL;
    return result_key_mismatch(&had, r->key, why, cap);
}

/* 1 when STEM.part.ckpt exists, was made by the computation r runs and no result r reads was
 * made again since (a stale point is removed, saying so). */
static int point_is_current(const struct run *r)
{
    struct stat st;
    char why[700];
    if (stat(run_path(r, ".part.ckpt"), &st) != 0)
        return 0;
    const char *stale = point_key_stale(r, why, sizeof why);
    if (stale) {
        fprintf(stderr, "[%s] the resume point is stale (%s): starting over\n", r->out, stale);
        resume_clear(r);
        return 0;
    }
    const char *remade = input_remade_since(r, st.st_mtime);
    if (!remade)
        return 1;
    fprintf(stderr, "[%s] %s is newer than the resume point: starting over\n", r->out, remade);
    resume_clear(r);
    return 0;
}

/* The wall seconds STEM.part.meta records, or 0 (no such file, a point from before it). */
static double point_seconds(const struct run *r)
{
    char v[64];
    return file_value(run_path(r, ".part.meta"), "wall_seconds", v, sizeof v) ? atof(v) : 0;
}

/* Load the point into the sets and opts (filling info), then keep the rows of STEM.part.csv
 * whose first column is at most last_key, which must be expect_rows rows (both < 0: the
 * point's epoch, for loops whose rows are epochs 1, 2, ...). */
static int load_point(struct run *r, struct params *const *sets, struct optim *const *opts,
                      int n_sets, int last_key, int expect_rows, struct ckpt_info *info,
                      struct kd_err *e)
{
    char header[sizeof r->csv.header];
    int rc =
        ckpt_load_sets(run_path(r, ".part.ckpt"), sets, opts, n_sets, r->resolved, "", info, e);
    if (rc == KD_ERR_FORMAT)
        return kd_err_fix(e, RESUME_FIX);
    if (rc)
        return rc;
    /* run_csv_resume reopens r->csv: its header is copied out first. */
    snprintf(header, sizeof header, "%s", r->csv.header);
    if (last_key < 0)
        last_key = (int)info->epoch;
    if (expect_rows < 0)
        expect_rows = (int)info->epoch;
    int rows = run_csv_resume(r, header, last_key, e);
    if (rows < 0)
        return rows;
    if (rows != expect_rows)
        return kd_err_setfix(e, KD_ERR_FORMAT, run_path(r, ".part.csv"), 0, RESUME_FIX,
                             "holds %d rows where the checkpoint needs %d", rows, expect_rows);
    /* the time before the point counts: STEM.meta's wall_seconds is the whole run's */
    r->t_start -= point_seconds(r);
    return 0;
}

int resume_load_steps(struct run *r, struct params *const *sets, struct optim *const *opts,
                      int n_sets, long epoch_steps, struct params *sums, int *done, long *in_epoch,
                      struct kd_err *e)
{
    struct ckpt_info info;
    *done = 0;
    *in_epoch = 0;
    if (!point_is_current(r))
        return 0;
    if (ckpt_read_info(run_path(r, ".part.ckpt"), &info, e))
        return kd_err_fix(e, RESUME_FIX);
    long inside = epoch_steps > 0 ? info.step - info.epoch * epoch_steps : 0;
    if (inside < 0 || (epoch_steps > 0 && inside >= epoch_steps) || (inside && !sums))
        return kd_err_setfix(e, KD_ERR_FORMAT, run_path(r, ".part.ckpt"), 0, RESUME_FIX,
                             "is at step %ld after epoch %ld, which this run cannot go on from",
                             info.step, info.epoch);
    struct params *with[LOOP_MAX_SETS + 1];
    struct optim *with_opts[LOOP_MAX_SETS + 1];
    KD_ASSERT(n_sets <= LOOP_MAX_SETS);
    for (int k = 0; k < n_sets; k++)
        with[k] = sets[k], with_opts[k] = opts ? opts[k] : NULL;
    with[n_sets] = sums, with_opts[n_sets] = NULL;
    int rc = load_point(r, with, with_opts, n_sets + (inside > 0), -1, -1, &info, e);
    if (rc)
        return rc;
    *done = (int)info.epoch;
    *in_epoch = inside;
    if (inside)
        fprintf(stderr, "[%s] resuming after step %ld of epoch %d (%ld steps an epoch)\n", r->out,
                inside, *done + 1, epoch_steps);
    else
        fprintf(stderr, "[%s] resuming after epoch %d\n", r->out, *done);
    return 0;
}

int resume_load(struct run *r, struct params *const *sets, struct optim *const *opts, int n_sets,
                int *done, struct kd_err *e)
{
    long in_epoch;
    return resume_load_steps(r, sets, opts, n_sets, 0, NULL, done, &in_epoch, e);
}

int resume_peek_stage(struct run *r, int *done, struct kd_err *e)
{
    struct ckpt_info info;
    *done = -1;
    if (!point_is_current(r))
        return 0;
    if (ckpt_read_info(run_path(r, ".part.ckpt"), &info, e))
        return kd_err_fix(e, RESUME_FIX);
    *done = (int)info.epoch;
    return 0;
}

int resume_load_stage(struct run *r, struct params *set, int done, struct kd_err *e)
{
    struct ckpt_info info;
    int rc = load_point(r, &set, NULL, 1, done, done + 1, &info, e);
    if (!rc && info.epoch != done)
        rc = kd_err_setfix(e, KD_ERR_FORMAT, run_path(r, ".part.ckpt"), 0, RESUME_FIX,
                           "changed while it was read (stage %ld, not %d)", info.epoch, done);
    if (!rc)
        fprintf(stderr, "[%s] resuming after stage %d\n", r->out, done);
    return rc;
}

void resume_clear(const struct run *r)
{
    /* with the .tmp a run killed while writing a point left (the run holds the stem's lock) */
    static const char *const parts[] = {".part.ckpt",     ".part.csv",     ".part.meta",
                                        ".part.ckpt.tmp", ".part.csv.tmp", ".part.meta.tmp"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        unlink(run_path(r, parts[i]));
}
