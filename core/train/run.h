/* What every experiment binary shares: the command line, the config, output paths, data,
 * results written atomically, resume from the last checkpoint, and run metadata.
 * Command line: <exp> CONFIG.yaml [--scale smoke|quick|full] [--out STEM] [key=value ...]
 * Outputs: STEM.csv (complete runs only), STEM.yaml (resolved config), STEM.meta, and while
 * running STEM.part.csv / STEM.part.ckpt (resume points). */
#ifndef KD_RUN_H
#define KD_RUN_H

#include "io/config.h"
#include "data/dataset.h"
#include "base/err.h"
#include "io/csv.h"

#include <time.h>

struct run {
    struct experiment x;
    const char *prog;        /* argv[0] */
    char out[512];           /* output stem */
    char *resolved;          /* resolved config text (malloc'd) */
    struct dataset train, test;
    int *train_idx, n_train; /* the training subset */
    int *test_idx, n_test;
    double t_start;          /* monotonic seconds at start */
    time_t wall_start;       /* wall clock at start */
    struct csv csv;          /* the result table (io/csv.h) */
};

/* Parse the command line and load the config. Returns 0, or fills e (usage or config error). */
int run_start(struct run *r, int argc, char **argv, struct kd_err *e);
/* Load the data set named by the config and build the train/test subsets. */
int run_load_data(struct run *r, struct kd_err *e);
/* "<stem><suffix>", e.g. run_path(r, ".ckpt"). Returns a static buffer (one of four). */
const char *run_path(const struct run *r, const char *suffix);
/* Output stem of another config (a teacher): results/<scale>/<path>-s<seed of that config>. */
void run_stem_of(char *out, size_t cap, const char *config_path, const char *scale, int seed);

/* Result table: open it with its header (run_csv_open), add rows with csv_row(&r->csv, ...),
 * write STEM.part.csv after each epoch (run_csv_write(r, 0)) and STEM.csv at the end
 * (run_csv_write(r, 1)), both atomically. run_csv_resume keeps the rows of STEM.part.csv up
 * to epoch `upto` and returns how many there are (or a negative error). */
int run_csv_open(struct run *r, const char *header, struct kd_err *e);
int run_csv_resume(struct run *r, const char *header, int upto, struct kd_err *e);
int run_csv_write(struct run *r, int final, struct kd_err *e);
/* STEM.yaml and STEM.meta (config hash, seed, revision, host, wall time). */
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
