/* The identity of a result by content: what it computes and from what. A result's key hashes
 * the numerics version (base/numerics.h), its config hash (the resolved keys that change the
 * computation: io/config.h) and the keys of the results it reads (a teacher, its soft labels,
 * DC-ViT's references), so it changes exactly when the result would, and the same inputs give
 * the same key on any machine. Every run records its key in STEM.meta; Make re-runs a result
 * whose .meta records another key (tools/plan.c), and `make status` says why. */
#ifndef KD_RESULT_KEY_H
#define KD_RESULT_KEY_H

#include "io/config.h"
#include "base/err.h"

#include <stdint.h>

struct result_key {
    uint64_t key;    /* the whole identity */
    int numerics;    /* kd_numerics() */
    uint64_t config; /* config_hash() at this scale and seed */
    int n_refs;
    char ref_stem[CONFIG_MAX_REFS][600]; /* results/<scale>/<path>-s<seed> of each input */
    uint64_t ref_key[CONFIG_MAX_REFS];   /* its key */
};

/* The key of x (loaded at scale) at seed, with the keys of its inputs (each loaded from its
 * YAML at scale). Returns 0, or a config error of an input. */
int result_key_of(struct result_key *k, const struct experiment *x, const char *scale, int seed,
                  struct kd_err *e);
/* The same for the config at path, loaded at scale with run.seed = seed. */
int result_key_of_config(struct result_key *k, const char *path, const char *scale, int seed,
                         struct kd_err *e);

/* The seed at which x, run at `seed`, reads its input ref (one of config_refs_of, loaded in r):
 * DC-ViT's `reuse` at x's own seed (the compressed model of the same seed), any other input at
 * config_paired_seed. */
int result_ref_seed(const struct experiment *x, const char *ref, const struct experiment *r,
                    int seed);

/* Why a result made as `had` records is not what `now` computes, in words (why: a buffer of
 * cap bytes it may use); NULL when it is. */
const char *result_key_mismatch(const struct result_key *had, const struct result_key *now,
                                char *why, size_t cap);

/* The lines .meta records: "numerics: N\nkey: %016llx\nreads: <stem> %016llx\n"... into buf. */
int result_key_format(const struct result_key *k, char *buf, size_t cap);

/* What the .meta at path records (n_refs < 0: no key, a result of an older kdlab). Returns 0,
 * or -1 when path cannot be read. */
int result_key_read(struct result_key *k, const char *meta_path);

#endif
