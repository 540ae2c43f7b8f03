/* Experiment scaffolding shared by every binary under experiments/. */
#include "train/run.h"
#include "base/fsio.h"
#include "base/rng.h"
#include "base/runtime.h"
#include "io/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

void run_epoch_order(const struct run *r, int *order, int epoch)
{
    struct rng shuf;
    memcpy(order, r->train_idx, sizeof(int) * r->n_train);
    rng_init(&shuf, (uint64_t)r->x.run.seed, RNG_STREAM_SHUFFLE, (uint32_t)epoch, 0);
    rng_shuffle(&shuf, order, r->n_train);
}

_Noreturn void die(const struct kd_err *e)
{
    progress_end();
    kd_err_print(e);
    exit(1);
}

void run_stem_of(char *out, size_t cap, const char *config_path, const char *scale, int seed)
{
    const char *p = config_path;
    if (strncmp(p, "./", 2) == 0)
        p += 2;
    if (strncmp(p, "configs/", 8) == 0)
        p += 8;
    size_t n = strlen(p);
    if (n > 5 && strcmp(p + n - 5, ".yaml") == 0)
        n -= 5;
    snprintf(out, cap, "results/%s/%.*s-s%d", scale, (int)n, p, seed);
}

static int usage(struct kd_err *e, const char *prog)
{
    return kd_err_setfix(e, KD_ERR_USAGE, "", 0,
                         "e.g. bin/train configs/teachers/vit_s.yaml --scale smoke optim.lr=1e-3",
                         "usage: %s CONFIG.yaml [--scale smoke|quick|full] [--out STEM] "
                         "[key=value ...]",
                         prog);
}

int run_start(struct run *r, int argc, char **argv, struct kd_err *e)
{
    memset(r, 0, sizeof *r);
    r->prog = argv[0];
    r->t_start = now_seconds();
    r->wall_start = time(NULL);
    const char *config = NULL, *scale = "quick", *out = NULL;
    char **over = calloc(argc, sizeof *over);
    int n_over = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc)
            scale = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--help-config") == 0) {
            config_print_help(stdout);
            exit(0);
        } else if (strchr(argv[i], '=') && argv[i][0] != '-')
            over[n_over++] = argv[i];
        else if (!config && argv[i][0] != '-')
            config = argv[i];
        else {
            free(over);
            return usage(e, argv[0]);
        }
    }
    if (!config) {
        free(over);
        return usage(e, argv[0]);
    }
    int rc = config_load(&r->x, config, scale, n_over, over, e);
    free(over);
    if (rc)
        return rc;
    if (out)
        snprintf(r->out, sizeof r->out, "%s", out);
    else
        run_stem_of(r->out, sizeof r->out, config, scale, r->x.run.seed);
    size_t cap = 1 << 16;
    r->resolved = malloc(cap);
    FILE *f = fmemopen(r->resolved, cap, "w");
    config_write_resolved(&r->x, f);
    fclose(f);
    return 0;
}

/* One split of the configured data set: Fashion-MNIST IDX files, or an image folder
 * <data.dir>/train|test/<class>/<name>.png read at model.img x model.img x model.in_ch. */
static int run_load_split(struct dataset *out, const struct experiment *x, int train,
                          struct kd_err *e)
{
    if (strcmp(x->data.set, "folder") != 0)
        return idx_load(out, x->data.dir, train ? "train" : "t10k", e);
    char dir[CFG_STR + 8];
    snprintf(dir, sizeof dir, "%s/%s", x->data.dir, train ? "train" : "test");
    return folder_load_by_name(out, dir, x->model.img, x->model.img, x->model.in_ch, e);
}

int run_load_data(struct run *r, struct kd_err *e)
{
    const struct data_cfg *d = &r->x.data;
    int rc = run_load_split(&r->train, &r->x, 1, e);
    if (!rc)
        rc = run_load_split(&r->test, &r->x, 0, e);
    if (rc)
        return rc;
    r->train_idx = malloc(sizeof(int) * r->train.n);
    r->test_idx = malloc(sizeof(int) * r->test.n);
    r->n_train = dataset_subset(&r->train, r->train_idx, d->train_n, d->per_class,
                                (uint64_t)r->x.run.seed);
    /* The test subset does not depend on the run's seed: every run is scored on the same set. */
    r->n_test = dataset_subset(&r->test, r->test_idx, d->test_n, 0, 0);
    return 0;
}

const char *run_path(const struct run *r, const char *suffix)
{
    static char bufs[4][600];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s%s", r->out, suffix);
    return b;
}

int run_csv_open(struct run *r, const char *header, struct kd_err *e)
{
    return csv_open(&r->csv, run_path(r, ".csv"), header, e);
}

int run_csv_resume(struct run *r, const char *header, int upto, struct kd_err *e)
{
    csv_free(&r->csv);
    int rc = csv_resume(&r->csv, run_path(r, ".csv"), header, run_path(r, ".part.csv"), upto, e);
    return rc ? rc : r->csv.n_rows;
}

int run_csv_write(struct run *r, int final, struct kd_err *e)
{
    return csv_write(&r->csv, final ? NULL : run_path(r, ".part.csv"), e);
}

int run_finish(struct run *r, struct kd_err *e)
{
    struct atomic_file af;
    char extra[384];
    const char *job = getenv("SLURM_JOB_ID");
    if (atomic_open(&af, run_path(r, ".yaml"), e))
        return e->code;
    fputs(r->resolved, af.f);
    if (atomic_commit(&af, e))
        return e->code;
    snprintf(extra, sizeof extra, "threads: %d\nblas_core: %s\nslurm_job: %s\n", kd_threads(),
             kd_blas_corename(), job ? job : "none");
    struct csv_meta m = {r->x.path, config_hash(&r->x), r->x.scale, r->x.run.seed,
                         r->wall_start, now_seconds() - r->t_start, extra};
    return csv_write_meta(r->out, &m, e);
}

void run_free(struct run *r)
{
    dataset_free(&r->train);
    dataset_free(&r->test);
    free(r->train_idx);
    free(r->test_idx);
    free(r->resolved);
    csv_free(&r->csv);
}
