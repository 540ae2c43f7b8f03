/* plan: reads every experiment config and writes the Make rules that run them. A result is up
 * to date while its .meta records the key its configs give now (train/result_key.h: its
 * resolved config, the keys of the results it reads, the numerics version), whatever the files'
 * dates: a rebuild, a touch or a fresh clone re-runs nothing, an edited value re-runs that
 * result and its readers. Configs that compute the same thing (the same key: a point two tables
 * share) are one run: one of them runs, the others copy its result (bin/same_run). Make
 * includes the output.
 *   bin/plan SCALE CATALOGUE.tsv CONFIG.yaml... > build/plan-SCALE-n<numerics>.mk */
#include "kd.h"
#include "train/run.h"
#include "train/result_key.h"
#include "io/catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct catalogue cat;

/* The table whose folder holds path directly, or NULL. */
static const char *table_of(const char *path)
{
    for (int i = 0; i < cat.n; i++) {
        size_t n = strlen(cat.rows[i].folder);
        if (strncmp(path, cat.rows[i].folder, n) == 0 && path[n] == '/' &&
            !strchr(path + n + 1, '/'))
            return cat.rows[i].target;
    }
    return NULL;
}

/* The file a reader of a result of this kind opens: its soft labels, its synthetic images, or
 * (every other kind) its checkpoint. */
static const char *artifact_of(const char *kind)
{
    if (strcmp(kind, "tinyvit_labels") == 0)
        return ".bin";
    if (strcmp(kind, "invert") == 0)
        return ".syn";
    return ".ckpt";
}

/* One result of the plan: a config at one seed. */
struct entry {
    char stem[600], path[CFG_STR], kind[CFG_STR];
    const char *table;
    int seed;
    struct result_key k;
    char ref_kinds[CONFIG_MAX_REFS][CFG_STR];
    int same_as; /* the entry whose run this one is (the same key), or -1: its own run */
};

static struct entry *entries;
static int n_entries;

/* The recipe of one run: its inputs' files made again where missing, then the run. */
static void print_recipe(const struct entry *r)
{
    for (int i = 0; i < r->k.n_refs; i++)
        printf("\t$(call need_input,%s,%s)\n", r->k.ref_stem[i], artifact_of(r->ref_kinds[i]));
    printf("\t$(call run_experiment,%s,%s,%s,%d)\n", r->kind, r->path, r->stem, r->seed);
}

/* The rules of a result that is the same run as entry a: its CSV is copied from a's once a's is
 * made; its .again first makes a's file that readers open again where it is missing. */
static void plan_copy(const struct entry *r, const struct entry *a)
{
    printf("%s.csv: %s.key | bin/same_run %s.csv\n", r->stem, r->stem, a->stem);
    printf("\t$(call same_run,%s,%s,%s,%d)\n", a->stem, r->path, r->stem, r->seed);
    printf(".PHONY: %s.again\n%s.again: | bin/same_run %s.csv\n", r->stem, r->stem, a->stem);
    printf("\t$(call need_input,%s,%s)\n", a->stem, artifact_of(a->kind));
    printf("\t$(call same_run,%s,%s,%s,%d)\n", a->stem, r->path, r->stem, r->seed);
}

/* The rules of one seed's result: STEM.csv is remade when its key stamp is newer (its .meta
 * records another key, or none), after the results it reads; STEM.again runs it regardless. */
static void plan_run(const struct entry *r)
{
    char inputs[CONFIG_MAX_REFS * 610] = "";
    for (int i = 0; i < r->k.n_refs; i++) {
        strcat(inputs, " ");
        strcat(strcat(inputs, r->k.ref_stem[i]), ".csv");
    }
    printf("%s.csv: %s.key | bin/%s%s\n", r->stem, r->stem, r->kind, inputs);
    print_recipe(r);
    printf(".PHONY: %s.again\n%s.again: | bin/%s%s\n", r->stem, r->stem, r->kind, inputs);
    print_recipe(r);
}

/* Its rules, its key stamp, and its place in the lists. */
static void plan_seed(const struct entry *r)
{
    if (r->same_as >= 0)
        plan_copy(r, &entries[r->same_as]);
    else
        plan_run(r);
    printf("%s.key: FORCE\n\t$(call key_stamp,%s,%016llx)\n", r->stem, r->stem,
           (unsigned long long)r->k.key);
    printf("ALL_RESULTS += %s.csv\n", r->stem);
    if (r->table)
        printf("TABLE_%s += %s.csv\n", r->table, r->stem);
}

static struct entry *entry_new(void)
{
    static int cap;
    if (n_entries == cap) {
        cap = cap ? 2 * cap : 256;
        struct entry *p = realloc(entries, sizeof *p * cap);
        KD_ASSERT(p != NULL);
        entries = p;
    }
    struct entry *r = &entries[n_entries++];
    memset(r, 0, sizeof *r);
    r->same_as = -1;
    return r;
}

static int plan_one(const char *path, const char *scale, struct kd_err *e)
{
    static struct experiment x, ref;
    static char kinds[CONFIG_MAX_REFS][CFG_STR];
    const char *refs[CONFIG_MAX_REFS];
    if (config_load(&x, path, scale, 0, NULL, e) || config_check_kind(&x, NULL, e))
        return e->code;
    int n_refs = config_refs_of(&x, refs);
    for (int i = 0; i < n_refs; i++) {
        if (config_load(&ref, refs[i], scale, 0, NULL, e))
            return e->code;
        snprintf(kinds[i], CFG_STR, "%s", ref.kind);
    }
    int n_seeds = x.run.n_seeds > 0 ? x.run.n_seeds : 1;
    for (int s = 0; s < n_seeds; s++) {
        struct entry *r = entry_new();
        r->seed = x.run.n_seeds > 0 ? x.run.seeds[s] : x.run.seed;
        if (result_key_of_config(&r->k, path, scale, r->seed, e))
            return e->code;
        run_stem_of(r->stem, sizeof r->stem, path, scale, r->seed);
        snprintf(r->path, sizeof r->path, "%s", path);
        snprintf(r->kind, sizeof r->kind, "%s", x.kind);
        memcpy(r->ref_kinds, kinds, sizeof kinds);
        r->table = table_of(path);
    }
    return 0;
}

/* How good a home entry r is for the run of its key: its result is made by its own run (3), made
 * as a copy of another's (2: the run it copies ranks higher), a stopped run of it has a resume
 * point (1), none of these (0); twice that, plus 1 when other results read it. */
static int home_rank(const struct entry *r, const char *scale)
{
    char file[700], from[600];
    struct kd_err ignored;
    int made = 0, read = 0;
    snprintf(file, sizeof file, "%s.csv", r->stem);
    if (access(file, F_OK) == 0 &&
        run_result_check(r->stem, r->path, scale, r->seed, &ignored) == 0) {
        snprintf(file, sizeof file, "%s.meta", r->stem);
        made = file_value(file, "same_run", from, sizeof from) ? 2 : 3;
    } else {
        snprintf(file, sizeof file, "%s.part.ckpt", r->stem);
        made = access(file, F_OK) == 0;
    }
    for (int i = 0; i < n_entries && !read; i++)
        for (int j = 0; j < entries[i].k.n_refs; j++)
            read |= strcmp(entries[i].k.ref_stem[j], r->stem) == 0;
    return 2 * made + read;
}

/* Entries with the same key are one run: the best home makes it (the first in path order among
 * equals), the others copy its files (bin/same_run). */
static void share_runs(const char *scale)
{
    char *settled = calloc(n_entries ? n_entries : 1, 1);
    KD_ASSERT(settled != NULL);
    for (int i = 0; i < n_entries; i++) {
        if (settled[i])
            continue;
        int n = 0, home = i, best = -1;
        for (int j = i; j < n_entries; j++)
            n += entries[j].k.key == entries[i].k.key;
        for (int j = i; n > 1 && j < n_entries; j++) {
            int rank = entries[j].k.key == entries[i].k.key ? home_rank(&entries[j], scale) : -1;
            if (rank > best)
                best = rank, home = j;
        }
        for (int j = i; j < n_entries; j++)
            if (entries[j].k.key == entries[i].k.key) {
                settled[j] = 1;
                entries[j].same_as = j == home ? -1 : home;
            }
    }
    free(settled);
}

int main(int argc, char **argv)
{
    struct kd_err e;
    kd_help_exit(argc, argv, "SCALE CATALOGUE.tsv CONFIG.yaml...",
                 "Writes the Make rules of every config to stdout (make reads "
                 "build/plan-SCALE-nN.mk).\n");
    if (argc < 3) {
        fprintf(stderr, "usage: %s SCALE CATALOGUE.tsv CONFIG.yaml...\n", argv[0]);
        return 2;
    }
    if (catalogue_load(&cat, argv[2], &e))
        die(&e);
    printf("# generated by bin/plan for SCALE=%s: do not edit\n", argv[1]);
    for (int i = 0; i < cat.n; i++)
        printf("TABLE_%s :=\nFOLDER_%s := %s\n", cat.rows[i].target, cat.rows[i].target,
               cat.rows[i].folder);
    for (int i = 3; i < argc; i++)
        if (plan_one(argv[i], argv[1], &e))
            die(&e);
    share_runs(argv[1]);
    for (int i = 0; i < n_entries; i++)
        plan_seed(&entries[i]);
    free(entries);
    return 0;
}
