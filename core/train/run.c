/* Experiment scaffolding shared by every binary under experiments/. */
#include "train/run.h"
#include "train/result_key.h"
#include "base/fsio.h"
#include "base/rng.h"
#include "base/runtime.h"
#include "io/progress.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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

struct augment_cfg run_augment_of(const struct experiment *x)
{
    const struct data_cfg *d = &x->data;
    return (struct augment_cfg){.crop_pad = d->crop_pad,
                                .flip = d->flip,
                                .rrc_scale_min = d->rrc_scale_min,
                                .randaug_n = d->randaug_n,
                                .randaug_m = d->randaug_m,
                                .randaug_mstd = d->randaug_mstd,
                                .erase_prob = d->erase_prob};
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

/* "results/<scale>/<path of the YAML under configs/, without .yaml>" */
static int stem_base(char *out, size_t cap, const char *config_path, const char *scale)
{
    const char *p = config_path;
    if (strncmp(p, "./", 2) == 0)
        p += 2;
    if (strncmp(p, "configs/", 8) == 0)
        p += 8;
    size_t n = strlen(p);
    if (n > 5 && strcmp(p + n - 5, ".yaml") == 0)
        n -= 5;
    return snprintf(out, cap, "results/%s/%.*s", scale, (int)n, p);
}

void run_stem_of(char *out, size_t cap, const char *config_path, const char *scale, int seed)
{
    int n = stem_base(out, cap, config_path, scale);
    if (n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - n, "-s%d", seed);
}

/* The stem of a run by hand with overrides: the config's own stem with "+key=value" for each
 * (other bytes than [A-Za-z0-9._=-] as '_'), so that it never replaces the result a table
 * reads. run.seed is no override here: the stem names the seed, as Make's stems do. A long
 * suffix is cut and ends in a hash of the whole. */
static void stem_overridden(char *out, size_t cap, const char *config, const char *scale, int seed,
                            char **over, int n_over)
{
    char suffix[1024] = "";
    size_t n = 0;
    for (int i = 0; i < n_over && n + 2 < sizeof suffix; i++) {
        if (strncmp(over[i], "run.seed=", 9) == 0)
            continue;
        suffix[n++] = '+';
        for (const char *c = over[i]; *c && n + 1 < sizeof suffix; c++)
            suffix[n++] = isalnum((unsigned char)*c) || strchr("._=-", *c) ? *c : '_';
        suffix[n] = '\0';
    }
    if (n > 120) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)suffix[i]) * 0x100000001b3ull;
        snprintf(suffix + 100, sizeof suffix - 100, "~%08x", (unsigned)(h >> 32));
    }
    int m = stem_base(out, cap, config, scale);
    if (m >= 0 && (size_t)m < cap)
        snprintf(out + m, cap - m, "%s-s%d", suffix, seed);
}

const char *run_csv_changed(const char *stem)
{
    char path[640], want[32], have[32];
    uint64_t h;
    snprintf(path, sizeof path, "%s.meta", stem);
    if (!file_value(path, "csv_hash", want, sizeof want))
        return NULL;
    snprintf(path, sizeof path, "%s.csv", stem);
    if (file_fnv1a(path, &h) != 0)
        return NULL;
    snprintf(have, sizeof have, "%016llx", (unsigned long long)h);
    if (strcmp(have, want) == 0)
        return NULL;
    return "changed since its run wrote it (its .meta records another csv_hash): edited by hand?";
}

/* A file of stem that readers read (a checkpoint, soft labels, synthetic images: the artifacts
 * of tools/plan.c) or its CSV, whichever is here first; NULL when none is. */
static const char *result_file_here(const char *stem)
{
    static const char *const exts[] = {".csv", ".ckpt", ".bin", ".syn"};
    static char path[640];
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        snprintf(path, sizeof path, "%s%s", stem, exts[i]);
        if (access(path, F_OK) == 0)
            return path;
    }
    return NULL;
}

int run_result_check(const char *stem, const char *config, const char *scale, int seed,
                     struct kd_err *e)
{
    char meta[640], csv[640], fix[320], why[700];
    snprintf(meta, sizeof meta, "%s.meta", stem);
    snprintf(csv, sizeof csv, "%s.csv", stem);
    snprintf(fix, sizeof fix, "make rerun CONFIG=%s SCALE=%s", config, scale);
    struct result_key *had = malloc(sizeof *had), *now = malloc(sizeof *now);
    int rc = had && now ? 0 : kd_err_set(e, KD_ERR_NOMEM, config, 0, "out of memory");
    if (!rc && result_key_read(had, meta) != 0) {
        /* a checkpoint put in place by hand, or left by a run whose CSV and .meta are gone, is
         * not read; with no file at all the result is not made yet: the reader names it */
        const char *here = result_file_here(stem);
        if (here)
            rc = kd_err_setfix(e, KD_ERR_MISMATCH, meta, 0, fix, "missing: what made %s is unknown",
                               here);
    } else if (!rc && !(rc = result_key_of_config(now, config, scale, seed, e))) {
        const char *bad = result_key_mismatch(had, now, why, sizeof why);
        const char *edited = bad ? NULL : run_csv_changed(stem);
        if (bad)
            rc = kd_err_setfix(e, KD_ERR_MISMATCH, meta, 0, fix,
                               "is not the result of %s at scale %s, seed %d: %s", config, scale,
                               seed, bad);
        else if (edited)
            rc = kd_err_setfix(e, KD_ERR_MISMATCH, csv, 0, fix, "%s", edited);
    }
    free(had);
    free(now);
    return rc;
}

int run_ref_stem(char *out, size_t cap, struct experiment *ref, const struct experiment *reader,
                 const char *config, struct kd_err *e)
{
    struct experiment *x = ref ? ref : malloc(sizeof *x);
    if (!x)
        return kd_err_set(e, KD_ERR_NOMEM, config, 0, "out of memory");
    const char *scale = reader->scale[0] ? reader->scale : "quick";
    int rc = config_load(x, config, scale, 0, NULL, e);
    int seed = rc ? 0 : result_ref_seed(reader, config, x, reader->run.seed);
    if (x != ref)
        free(x);
    if (rc)
        return rc;
    run_stem_of(out, cap, config, scale, seed);
    return run_result_check(out, config, scale, seed, e);
}

#define RUN_USAGE "CONFIG.yaml [--scale smoke|quick|full] [--out STEM] [key=value ...]"

static int usage(struct kd_err *e, const char *prog)
{
    return kd_err_setfix(e, KD_ERR_USAGE, "", 0,
                         "e.g. bin/train configs/teachers/vit_s.yaml --scale smoke optim.lr=1e-3",
                         "usage: %s " RUN_USAGE, prog);
}

static const char run_help[] =
    "Runs one experiment: the config's `kind:` names the program that runs it.\n"
    "  --scale S      smoke, quick (default) or full: the data size and epochs of that scale\n"
    "  --out STEM     write STEM.csv, .ckpt, .yaml, .meta; by default\n"
    "                 results/<scale>/<path under configs/>-s<seed>, with +key=value for each\n"
    "                 override, so a run by hand never replaces the result a table reads\n"
    "  key=value      set one key over the config (run.seed=N picks the seed)\n"
    "  --help-config  every key with its type, default, range and meaning\n"
    "Tables run their experiments through make: make list, make <table>,\n"
    "make rerun CONFIG=configs/<...>.yaml.\n"
    "Environment (none changes a result):\n"
    "  KD_THREADS=N          threads (default: Slurm's cpus per task, 1 under make -j,\n"
    "                        else every core)\n"
    "  KD_RESUME_MINUTES=M   minutes between resume points inside an epoch (default 10;\n"
    "                        0: between epochs only)\n"
    "  KD_TEACHER_CACHE_MB=N memory for the original's tokens that DC-ViT's trial\n"
    "                        candidates share (default 2048; 0: recompute them)\n";

int run_lock(const char *stem, struct kd_err *e)
{
    char path[600];
    snprintf(path, sizeof path, "%s.run.lock", stem);
    return file_lock_hold(path, stem, e);
}

int run_start(struct run *r, int argc, char **argv, struct kd_err *e)
{
    memset(r, 0, sizeof *r);
    r->prog = argv[0];
    r->t_start = now_seconds();
    r->wall_start = time(NULL);
    kd_help_exit(argc, argv, RUN_USAGE, run_help);
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
    rc = rc ? rc : config_check_kind(&r->x, argv[0], e);
    if (!rc && out)
        snprintf(r->out, sizeof r->out, "%s", out);
    else if (!rc)
        stem_overridden(r->out, sizeof r->out, config, scale, r->x.run.seed, over, n_over);
    free(over);
    if (rc || (rc = run_lock(r->out, e)))
        return rc;
    r->key = malloc(sizeof *r->key);
    if (!r->key)
        return kd_err_set(e, KD_ERR_NOMEM, config, 0, "out of memory");
    if (result_key_of(r->key, &r->x, scale, r->x.run.seed, e))
        return e->code;
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
    if (x->data.set != DATA_FOLDER)
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
    r->n_train =
        dataset_subset(&r->train, r->train_idx, d->train_n, d->per_class, (uint64_t)r->x.run.seed);
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
    char extra[384 + CONFIG_MAX_REFS * 640];
    const char *job = getenv("SLURM_JOB_ID");
    if (atomic_open(&af, run_path(r, ".yaml"), e))
        return e->code;
    fputs(r->resolved, af.f);
    if (atomic_commit(&af, e))
        return e->code;
    int n = snprintf(extra, sizeof extra,
                     "threads: %d\ncpu: %s\nblas_core: %s\nslurm_job: %s\ncsv_hash: %016llx\n",
                     kd_threads(), kd_cpu_name(), kd_blas_corename(), job ? job : "none",
                     (unsigned long long)csv_hash(&r->csv));
    result_key_format(r->key, extra + n, sizeof extra - n);
    struct csv_meta m = {r->x.path,     config_hash(&r->x),         r->x.scale, r->x.run.seed,
                         r->wall_start, now_seconds() - r->t_start, extra};
    if (csv_write_meta(r->out, &m, e))
        return e->code;
    /* said once the result is written, so that an error stays the one line of a failed run */
    if (kd_blas_advice())
        fprintf(stderr, "kdlab: notice: %s\n", kd_blas_advice());
    return 0;
}

void run_free(struct run *r)
{
    dataset_free(&r->train);
    dataset_free(&r->test);
    free(r->train_idx);
    free(r->test_idx);
    free(r->resolved);
    free(r->key);
    csv_free(&r->csv);
}
