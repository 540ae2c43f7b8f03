/* status: every result the configs make at a scale, by content: up to date (its .meta records
 * the key its configs give now), stale and why, or missing, with the epochs a resume point holds
 * when a run was stopped (make resumes it from there while its config is unchanged).
 *   bin/status SCALE CONFIG.yaml...   (make status SCALE=full) */
#include "kd.h"
#include "train/result_key.h"
#include "train/run.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct tally {
    int fresh, stale, missing, resumable;
};

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
        printf("missing     %s (resume point after %d epoch%s: make resumes it)\n", stem, done,
               done == 1 ? "" : "s");
        return;
    }
    const char *bad = result_key_mismatch(&had, &now, why, sizeof why);
    if (bad) {
        t->stale++;
        printf("stale       %s: %s\n", stem, bad);
        return;
    }
    t->fresh++;
    printf("up to date  %s\n", stem);
}

int main(int argc, char **argv)
{
    struct kd_err e;
    static struct experiment x;
    struct tally t = {0, 0, 0, 0};
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
        for (int s = 0; s < n; s++)
            status_seed(argv[i], argv[1], x.run.n_seeds > 0 ? x.run.seeds[s] : x.run.seed, &t, &e);
    }
    printf("%s: %d up to date, %d stale, %d missing (%d with a resume point)\n", argv[1], t.fresh,
           t.stale, t.missing, t.resumable);
    return 0;
}
