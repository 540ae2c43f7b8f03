/* Checkpoints: magic, version, the resolved config text, epoch and step, every named tensor
 * (torch shape) with optional optimizer moments, and a CRC32 of it all; written atomically.
 * One file may hold several parameter sets, each with its own optimizer (a resume point).
 * A truncated or corrupted file, or one made for another model, is refused with the name of
 * the tensor or config key that differs. */
#ifndef KD_CKPT_H
#define KD_CKPT_H

#include "nn/params.h"

struct optim;
struct kd_err;

#define CKPT_VERSION 1

struct ckpt_info {
    long epoch; /* epochs completed */
    long step;  /* optimizer steps done */
};

/* Save the sets sets[0..n_sets-1] in one file, in order, each with the moments of opts[s]
 * (opts NULL, or opts[s] NULL: none). The file has moments when any set has an optimizer; a set
 * without one then gets zero moments. config_text is the resolved YAML. Tensor names must be
 * unique across the sets (KD_ERR_FORMAT naming the first duplicate, nothing written). */
int ckpt_save_sets(const char *path, struct params *const *sets, struct optim *const *opts,
                   int n_sets, const char *config_text, const struct ckpt_info *info,
                   struct kd_err *e);
/* Load into the sets (and into opts[s], as ckpt_save_sets, when the file has moments; each
 * optimizer's step becomes the file's). When expect_config is not NULL, every line of it that
 * starts with key_prefix must equal the file's ("" = all lines); the first difference is
 * reported by key. Tensors missing, extra, twice or of another shape are errors naming the
 * tensor. */
int ckpt_load_sets(const char *path, struct params *const *sets, struct optim *const *opts,
                   int n_sets, const char *expect_config, const char *key_prefix,
                   struct ckpt_info *info, struct kd_err *e);
/* One set: ckpt_save_sets / ckpt_load_sets with n_sets 1 and o (may be NULL). */
int ckpt_save(const char *path, struct params *ps, const struct optim *o, const char *config_text,
              const struct ckpt_info *info, struct kd_err *e);
int ckpt_load(const char *path, struct params *ps, struct optim *o, const char *expect_config,
              const char *key_prefix, struct ckpt_info *info, struct kd_err *e);
/* The resolved config text a checkpoint was made with, malloc'd and NUL-terminated into *text
 * (caller frees), after the magic, version and checksum checks of ckpt_load. */
int ckpt_read_config(const char *path, char **text, struct kd_err *e);
/* The epoch and step a checkpoint records, after the same checks, without its tensors. */
int ckpt_read_info(const char *path, struct ckpt_info *info, struct kd_err *e);

/* What ckpt_load_matching did: tensors loaded, file tensors skipped (name absent from ps or
 * another shape), parameters of ps left untouched, and the first name of each kind. */
struct ckpt_match {
    int loaded, skipped, missing;
    char first_skipped[64], first_missing[64];
};
/* Load every tensor of the file whose name and shape match a parameter of ps and skip the rest
 * (an MAE decoder, a head of another size): initialization from a pretrained model. No config
 * check, no optimizer state. Returns 0 (mt filled) or a read/format error. */
int ckpt_load_matching(const char *path, struct params *ps, struct ckpt_match *mt,
                       struct kd_err *e);

/* Every tensor of a checkpoint as stored, whatever model made it (export of any kind). */
struct ckpt_tensor {
    char name[256];
    int ndim;
    int shape[8];   /* torch shape as kdlab keeps it */
    size_t n;       /* values */
    const float *w; /* n values, inside ckpt_tensors.values */
};
struct ckpt_tensors {
    struct ckpt_tensor *t; /* (n) in file order */
    int n;
    float *values; /* every tensor's values, one after the other */
    char *config;  /* the resolved config text it was made with */
    long epoch, step;
};
/* Read them all (after ckpt_load's magic, version and checksum checks); the optimizer moments
 * are skipped. Returns 0 or fills e; free with ckpt_tensors_free (also after an error). */
int ckpt_read_tensors(const char *path, struct ckpt_tensors *c, struct kd_err *e);
void ckpt_tensors_free(struct ckpt_tensors *c);

#endif
