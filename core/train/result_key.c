/* Result keys: FNV-1a over "numerics N", the config hash and each input's stem and key, the
 * inputs' keys found the same way from their YAML (a chain of at most KEY_DEPTH results). */
#include "train/result_key.h"
#include "train/run.h"
#include "base/numerics.h"
#include "base/fsio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_DEPTH 8

static uint64_t fnv(uint64_t h, const char *s)
{
    return fnv1a(h, s, strlen(s));
}

int result_ref_seed(const struct experiment *x, const char *ref, const struct experiment *r,
                    int seed)
{
    return x->dcvit.reuse[0] && strcmp(ref, x->dcvit.reuse) == 0 ? seed
                                                                 : config_paired_seed(r, seed);
}

static int key_of(struct result_key *k, const struct experiment *x, const char *scale, int seed,
                  int depth, struct kd_err *e);

/* The key of input `path` read by x at x's seed: its config at its seed, recursively. */
static int ref_key(uint64_t *out, const struct experiment *x, const char *path, const char *scale,
                   int seed, char *stem, size_t cap, int depth, struct kd_err *e)
{
    struct experiment *r = malloc(sizeof *r);
    struct result_key *rk = malloc(sizeof *rk);
    char arg[32], *over[] = {arg};
    int rc = r && rk ? config_load(r, path, scale, 0, NULL, e)
                     : kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    if (!rc) {
        int s = result_ref_seed(x, path, r, seed);
        snprintf(arg, sizeof arg, "run.seed=%d", s);
        run_stem_of(stem, cap, path, scale, s);
        rc = config_load(r, path, scale, 1, over, e);
        rc = rc ? rc : key_of(rk, r, scale, s, depth + 1, e);
        *out = rc ? 0 : rk->key;
    }
    free(r);
    free(rk);
    return rc;
}

static int key_of(struct result_key *k, const struct experiment *x, const char *scale, int seed,
                  int depth, struct kd_err *e)
{
    const char *refs[CONFIG_MAX_REFS];
    char line[700];
    if (depth > KEY_DEPTH)
        return kd_err_setfix(e, KD_ERR_CONFIG, x->path, 0,
                             "check its teacher / softlabels / init / dcvit keys",
                             "reads a chain of more than %d results: configs that read each "
                             "other in a cycle?",
                             KEY_DEPTH);
    memset(k, 0, sizeof *k);
    k->numerics = kd_numerics();
    k->config = config_hash(x);
    k->n_refs = config_refs_of(x, refs);
    snprintf(line, sizeof line, "numerics %d\nconfig %016llx\n", k->numerics,
             (unsigned long long)k->config);
    uint64_t h = fnv(FNV1A_INIT, line);
    for (int i = 0; i < k->n_refs; i++) {
        if (ref_key(&k->ref_key[i], x, refs[i], scale, seed, k->ref_stem[i], sizeof k->ref_stem[i],
                    depth, e))
            return e->code;
        snprintf(line, sizeof line, "reads %s %016llx\n", k->ref_stem[i],
                 (unsigned long long)k->ref_key[i]);
        h = fnv(h, line);
    }
    k->key = h;
    return 0;
}

int result_key_of(struct result_key *k, const struct experiment *x, const char *scale, int seed,
                  struct kd_err *e)
{
    return key_of(k, x, scale, seed, 0, e);
}

int result_key_of_config(struct result_key *k, const char *path, const char *scale, int seed,
                         struct kd_err *e)
{
    struct experiment *x = malloc(sizeof *x);
    char arg[32], *over[] = {arg};
    snprintf(arg, sizeof arg, "run.seed=%d", seed);
    int rc = x ? config_load(x, path, scale, 1, over, e)
               : kd_err_set(e, KD_ERR_NOMEM, path, 0, "out of memory");
    rc = rc ? rc : result_key_of(k, x, scale, seed, e);
    free(x);
    return rc;
}

const char *result_key_mismatch(const struct result_key *had, const struct result_key *now,
                                char *why, size_t cap)
{
    if (had->config != now->config)
        return "its config_hash differs: a run with overrides, or the YAML changed since";
    if (had->n_refs < 0)
        return "it records no key (made by an older kdlab)";
    if (had->numerics != now->numerics) {
        snprintf(why, cap, "it was made by numerics version %d, the engine is at %d", had->numerics,
                 now->numerics);
        return why;
    }
    for (int i = 0; i < now->n_refs; i++)
        if (i >= had->n_refs || had->ref_key[i] != now->ref_key[i] ||
            strcmp(had->ref_stem[i], now->ref_stem[i]) != 0) {
            snprintf(why, cap, "%s, which it reads, has changed since", now->ref_stem[i]);
            return why;
        }
    return had->key == now->key ? NULL : "its key differs";
}

int result_key_format(const struct result_key *k, char *buf, size_t cap)
{
    int n =
        snprintf(buf, cap, "numerics: %d\nkey: %016llx\n", k->numerics, (unsigned long long)k->key);
    for (int i = 0; i < k->n_refs && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(buf + n, cap - n, "reads: %s %016llx\n", k->ref_stem[i],
                      (unsigned long long)k->ref_key[i]);
    return n;
}

int result_key_read(struct result_key *k, const char *meta_path)
{
    FILE *f = fopen(meta_path, "r");
    char line[800];
    unsigned long long v;
    memset(k, 0, sizeof *k);
    k->n_refs = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        int i = k->n_refs < 0 ? 0 : k->n_refs;
        if (sscanf(line, "numerics: %d", &k->numerics) == 1)
            continue;
        if (sscanf(line, "config_hash: %llx", &v) == 1)
            k->config = v;
        else if (sscanf(line, "key: %llx", &v) == 1) {
            k->key = v;
            k->n_refs = k->n_refs < 0 ? 0 : k->n_refs;
        } else if (i < CONFIG_MAX_REFS &&
                   sscanf(line, "reads: %599s %llx", k->ref_stem[i], &v) == 2) {
            k->ref_key[i] = v;
            k->n_refs = i + 1;
        }
    }
    fclose(f);
    return 0;
}
