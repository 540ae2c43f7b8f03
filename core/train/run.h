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

struct run {
    struct experiment x;
    const char *prog;        /* argv[0] */
    char out[512];           /* output stem */
    char *resolved;          /* resolved config text (malloc'd) */
    struct dataset train, test;
    int *train_idx, n_train; /* the training subset */
    int *test_idx, n_test;
    double t_start;          /* wall clock at start, seconds */
    /* result rows */
    char header[1024];
    char *rows;              /* "\n"-separated CSV rows, header excluded */
    size_t rows_len, rows_cap;
    int n_rows;
};

/* Parse the command line and load the config. Returns 0, or fills e (usage or config error). */
int run_start(struct run *r, int argc, char **argv, struct kd_err *e);
/* Load the data set named by the config and build the train/test subsets. */
int run_load_data(struct run *r, struct kd_err *e);
/* "<stem><suffix>", e.g. run_path(r, ".ckpt"). Returns a static buffer (one of four). */
const char *run_path(const struct run *r, const char *suffix);
/* Output stem of another config (a teacher): results/<scale>/<path>-s<seed of that config>. */
void run_stem_of(char *out, size_t cap, const char *config_path, const char *scale, int seed);

/* Result table: set the header once, add rows, write STEM.part.csv after each epoch and
 * STEM.csv at the end (both atomically). */
void run_csv_header(struct run *r, const char *header);
void run_csv_row(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keep the first n rows (resume drops rows past the checkpoint). */
void run_csv_truncate(struct run *r, int n);
int run_csv_write(struct run *r, int final, struct kd_err *e);
/* Read STEM.part.csv back (resume). Returns the rows read, 0 when none. */
int run_csv_reload(struct run *r);
/* STEM.yaml and STEM.meta (config hash, seed, revision, host, wall time). */
int run_finish(struct run *r, struct kd_err *e);
void run_free(struct run *r);

/* Seconds since an arbitrary point (monotonic). */
double now_seconds(void);
/* Peak resident memory of this process, MB. */
double peak_rss_mb(void);
/* Print e and exit(1): the last word of a failed experiment. */
_Noreturn void die(const struct kd_err *e);

#endif
