/* status: every result the configs make at a scale, by content: up to date (its .meta records
 * the key its configs give now, and the wall time it took), stale and why, or missing, with the
 * epochs a resume point holds when a run was stopped (make resumes it from there while its config
 * is unchanged); then each folder's count and measured hours, what `make list`'s estimates are
 * corrected from.
 *   bin/status SCALE CONFIG.yaml...   (make status SCALE=full) */
#include "kd.h"
#include "train/result_key.h"
#include "train/run.h"
#include "base/fsio.h"
#include "io/ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tally {
    int fresh, stale, missing, resumable;
    double seconds; /* wall time of the up-to-date results, from their .meta */
};

#define MAX_FOLDERS 64

/* A tally per config folder (configs/tinyvit/scratch), in the order first seen. */
struct folders {
    int n;
    char name[MAX_FOLDERS][300];
    struct tally t[MAX_FOLDERS];
};

static struct tally *folder_tally(struct folders *fs, const char *config)
{
    char name[300];
    snprintf(name, sizeof name, "%s", config);
    char *slash = strrchr(name, '/');
    if (slash)
        *slash = '\0';
    for (int i = 0; i < fs->n; i++)
        if (strcmp(fs->name[i], name) == 0)
            return &fs->t[i];
    if (fs->n == MAX_FOLDERS)
        return NULL;
    snprintf(fs->name[fs->n], sizeof fs->name[0], "%s", name);
    memset(&fs->t[fs->n], 0, sizeof fs->t[0]);
    return &fs->t[fs->n++];
}

/* The wall_seconds a .meta records, or 0. */
static double meta_seconds(const char *meta)
{
    char v[64];
    return file_value(meta, "wall_seconds", v, sizeof v) ? atof(v) : 0;
}

static void tally_add(struct tally *to, const struct tally *t)
{
    to->fresh += t->fresh;
    to->stale += t->stale;
    to->missing += t->missing;
    to->resumable += t->resumable;
    to->seconds += t->seconds;
}

/* Epoch rows in STEM.part.csv when STEM.part.ckpt is here (a stopped run), else -1. */
static int resume_epochs(const char *stem)
{
    char file[700], line[4096];
    snprintf(file, sizeof file, "%s.part.ckpt", stem);
    if (access(file, F_OK) != 0)
        return -1;
    snprintf(file, sizeof file, "%s.part.csv", stem);
    FILE *f = fopen(file, "r");
    int rows = 0;
    while (f && fgets(line, sizeof line, f))
        rows++;
    if (f)
        fclose(f);
    return rows > 0 ? rows - 1 : 0;
}

/* Steps of epoch done + 1 a point inside it had taken (its checkpoint's step less the finished
 * epochs', from STEM.part.meta's epoch_steps), or 0: a point between epochs or stages. */
static long resume_steps_inside(const char *stem, int done)
{
    char file[700], v[64];
    struct ckpt_info info;
    struct kd_err ignored;
    snprintf(file, sizeof file, "%s.part.meta", stem);
    long per = file_value(file, "epoch_steps", v, sizeof v) ? atol(v) : 0;
    snprintf(file, sizeof file, "%s.part.ckpt", stem);
    if (per <= 0 || ckpt_read_info(file, &info, &ignored) || info.epoch != done)
        return 0;
    long inside = info.step - info.epoch * per;
    return inside > 0 && inside < per ? inside : 0;
}

static void status_seed(const char *path, const char *scale, int seed, struct tally *t,
                        struct kd_err *e)
{
    static struct result_key now, had;
    char stem[600], file[700], why[700];
    run_stem_of(stem, sizeof stem, path, scale, seed);
    if (result_key_of_config(&now, path, scale, seed, e))
        die(e);
    snprintf(file, sizeof file, "%s.csv", stem);
    int has_csv = access(file, F_OK) == 0;
    snprintf(file, sizeof file, "%s.meta", stem);
    if (!has_csv || result_key_read(&had, file) != 0) {
        t->missing++;
        int done = resume_epochs(stem);
        if (done < 0) {
            printf("missing     %s\n", stem);
            return;
        }
        t->resumable++;
        long inside = resume_steps_inside(stem, done);
        if (inside > 0)
            printf("missing     %s (resume point at step %ld of epoch %d: make resumes it)\n", stem,
                   inside, done + 1);
        else
            printf("missing     %s (resume point after %d epoch%s: make resumes it)\n", stem, done,
                   done == 1 ? "" : "s");
        return;
    }
    const char *bad = result_key_mismatch(&had, &now, why, sizeof why);
    bad = bad ? bad : run_csv_changed(stem);
    if (bad) {
        t->stale++;
        printf("stale       %s: %s\n", stem, bad);
        return;
    }
    char from[600];
    t->fresh++;
    if (file_value(file, "same_run", from, sizeof from)) {
        /* a copy of another config's run (bin/same_run): its hours are counted there */
        printf("up to date  %s (the run of %s)\n", stem, from);
        return;
    }
    double secs = meta_seconds(file);
    t->seconds += secs;
    printf("up to date  %s (%.1f h)\n", stem, secs / 3600);
}

int main(int argc, char **argv)
{
    struct kd_err e;
    static struct experiment x;
    static struct folders fs;
    struct tally t = {0};
    kd_help_exit(argc, argv, "SCALE CONFIG.yaml...",
                 "Lists every result of the configs at SCALE: up to date, stale (and why) or "
                 "missing.\n");
    if (argc < 3) {
        fprintf(stderr, "usage: %s SCALE CONFIG.yaml...\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (config_load(&x, argv[i], argv[1], 0, NULL, &e))
            die(&e);
        int n = x.run.n_seeds > 0 ? x.run.n_seeds : 1;
        struct tally one = {0}, *folder = folder_tally(&fs, argv[i]);
        for (int s = 0; s < n; s++)
            status_seed(argv[i], argv[1], x.run.n_seeds > 0 ? x.run.seeds[s] : x.run.seed, &one,
                        &e);
        tally_add(&t, &one);
        if (folder)
            tally_add(folder, &one);
    }
    for (int i = 0; fs.n > 1 && i < fs.n; i++)
        printf("%-32s %3d of %3d up to date, %6.1f h measured\n", fs.name[i], fs.t[i].fresh,
               fs.t[i].fresh + fs.t[i].stale + fs.t[i].missing, fs.t[i].seconds / 3600);
    printf("%s: %d up to date (%.1f h measured), %d stale, %d missing (%d with a resume point)\n",
           argv[1], t.fresh, t.seconds / 3600, t.stale, t.missing, t.resumable);
    return 0;
}
