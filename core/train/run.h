/* What every experiment binary shares: the command line, the config, output paths, data,
 * results written atomically, resume from the last checkpoint, and run metadata.
 * Command line: <exp> CONFIG.yaml [--scale smoke|quick|full] [--out STEM] [key=value ...]
 * (--help: the usage). STEM defaults to results/<scale>/<path>-s<seed>, with "+key=value" per
 * override (run.seed aside) so that a run by hand never replaces a table's result.
 * Outputs: STEM.csv (complete runs only), STEM.yaml (resolved config), STEM.meta, and while
 * running STEM.part.csv / STEM.part.ckpt (resume points); STEM.run.lock keeps a second process
 * from making the same stem at once. */
#ifndef KD_RUN_H
#define KD_RUN_H

#include "io/config.h"
#include "data/dataset.h"
#include "base/err.h"
#include "io/csv.h"
#include "train/result_key.h"

#include <time.h>

struct run {
    struct experiment x;
    const char *prog;       /* argv[0] */
    char out[512];          /* output stem */
    char *resolved;         /* resolved config text (malloc'd) */
    struct result_key *key; /* what it computes from what, for STEM.meta (malloc'd) */
    struct dataset train, test;
    int *train_idx, n_train; /* the training subset */
    int *test_idx, n_test;
    double t_start;    /* monotonic seconds at start (a resumed run's: less its time before) */
    time_t wall_start; /* wall clock at start */
    struct csv csv;    /* the result table (io/csv.h) */
    long epoch_steps;  /* the one loop's steps an epoch, for STEM.part.meta (0: not a loop) */
};

/* Parse the command line and load the config, which must be of this program's kind (argv[0]).
 * Returns 0, or fills e (usage, config error, or another program's config). */
int run_start(struct run *r, int argc, char **argv, struct kd_err *e);
/* Make stem this process's until it ends (STEM.run.lock), or KD_ERR_BUSY naming the process
 * that is making it: two runs of one stem would write the same files. run_start takes it. */
int run_lock(const char *stem, struct kd_err *e);
/* Load the data set named by the config and build the train/test subsets. */
int run_load_data(struct run *r, struct kd_err *e);
/* "<stem><suffix>", e.g. run_path(r, ".ckpt"). Returns a static buffer (one of four). */
const char *run_path(const struct run *r, const char *suffix);
/* Output stem of another config (a teacher): results/<scale>/<path>-s<seed of that config>. */
void run_stem_of(char *out, size_t cap, const char *config_path, const char *scale, int seed);
/* 0 when the result at stem is what config computes now at scale with run.seed = seed (the key
 * in STEM.meta: train/result_key.h) and STEM.csv is the file its run wrote, or when it is not
 * made yet (no STEM.meta and no file of it: .csv, .ckpt, .bin, .syn). Else KD_ERR_MISMATCH
 * naming STEM.meta (or STEM.csv), why, and the fix `make rerun CONFIG=... SCALE=...`: a run
 * with overrides written to a table's stem, a YAML changed since, a result it read made again
 * since, another numerics version, a CSV edited by hand or a checkpoint without its .meta, is
 * never read silently. */
int run_result_check(const char *stem, const char *config, const char *scale, int seed,
                     struct kd_err *e);
/* Why STEM.csv is not the file its run wrote (the csv_hash STEM.meta records differs), or NULL:
 * the same bytes, no CSV, or a .meta from before kdlab recorded csv_hash. */
const char *run_csv_changed(const char *stem);
/* What every reader of another run's result (teacher checkpoint, soft labels, init, DC-ViT's
 * references) goes through: loads config at the reader's scale into ref (NULL: not kept),
 * writes its stem at the seed the reader reads (result_ref_seed) into out, and
 * run_result_check's it. Returns 0 or the error of either. */
int run_ref_stem(char *out, size_t cap, struct experiment *ref, const struct experiment *reader,
                 const char *config, struct kd_err *e);

/* Result table: open it with its header (run_csv_open), add rows with csv_row(&r->csv, ...),
 * write STEM.part.csv after each epoch (run_csv_write(r, 0)) and STEM.csv at the end
 * (run_csv_write(r, 1)), both atomically. run_csv_resume keeps the rows of STEM.part.csv up
 * to epoch `upto` and returns how many there are (or a negative error). */
int run_csv_open(struct run *r, const char *header, struct kd_err *e);
int run_csv_resume(struct run *r, const char *header, int upto, struct kd_err *e);
int run_csv_write(struct run *r, int final, struct kd_err *e);
/* STEM.yaml and STEM.meta (config hash, seed, revision, host, wall time, key and inputs). */
int run_finish(struct run *r, struct kd_err *e);
void run_free(struct run *r);

/* The augmentation of x's data section (core/data/dataset.h). */
struct augment_cfg run_augment_of(const struct experiment *x);

/* The training subset in the order of `epoch` (a shuffle seeded by run.seed and the epoch
 * alone, so a resumed run replays it) into order (n_train ints). */
void run_epoch_order(const struct run *r, int *order, int epoch);

/* Seconds since an arbitrary point (monotonic). */
double now_seconds(void);
/* Peak resident memory of this process, MB. */
double peak_rss_mb(void);
/* Print e and exit(1): the last word of a failed experiment. */
_Noreturn void die(const struct kd_err *e);

#endif
