/* Checkpoint files: magic, version, the resolved config text, epoch and step, every named buffer
 * (a tensor's values in its torch shape) with optional optimizer moments, and a CRC32 of it all;
 * written atomically. A truncated or corrupted file, or one made for another model, is refused
 * with the name of the tensor or config key that differs. This file knows buffers, not models
 * or optimizers: train/ckpt_params.h saves and loads parameter sets and their optimizers
 * through it. */
#ifndef KD_CKPT_H
#define KD_CKPT_H

#include <stddef.h>

struct kd_err;

#define CKPT_VERSION 1
#define CKPT_MAX_DIMS 8

struct ckpt_info {
    long epoch; /* epochs completed */
    long step;  /* optimizer steps done */
};

/* One named buffer of a checkpoint. */
struct ckpt_buf {
    const char *name;         /* unique in the file */
    int ndim;                 /* 0..CKPT_MAX_DIMS */
    int shape[CKPT_MAX_DIMS]; /* torch shape */
    size_t n;                 /* floats: the product of the shape */
    float *w;                 /* (n) values */
    float *m, *v;             /* (n) the optimizer's first and second moments, or NULL: none */
};

/* Write bufs[0..n-1] in order. With has_moments every record carries two moment arrays: a
 * buffer's m and v, or zeros where they are NULL; without, none is written. config_text is the
 * resolved YAML. Names must be unique (KD_ERR_FORMAT naming the first duplicate, nothing
 * written). Returns 0 or fills e. */
int ckpt_write(const char *path, const struct ckpt_buf *bufs, int n, int has_moments,
               const char *config_text, const struct ckpt_info *info, struct kd_err *e);
/* Read every record of the file into the buffer of its name (and its moments into the
 * buffer's m and v, when both the file and the buffer have them). When expect_config is not
 * NULL, every line of it that starts with key_prefix must equal the file's ("" = all lines);
 * the first difference is reported by key. Records missing, extra, twice or of another shape
 * than their buffer are errors naming the tensor. info (may be NULL) gets the file's epoch and
 * step. */
int ckpt_read(const char *path, struct ckpt_buf *bufs, int n, const char *expect_config,
              const char *key_prefix, struct ckpt_info *info, struct kd_err *e);
/* The resolved config text a checkpoint was made with, malloc'd and NUL-terminated into *text
 * (caller frees), after the magic, version and checksum checks of ckpt_read. */
int ckpt_read_config(const char *path, char **text, struct kd_err *e);
/* The epoch and step a checkpoint records, from its header alone (magic and version checked;
 * the checksum is checked when its tensors are read). */
int ckpt_read_info(const char *path, struct ckpt_info *info, struct kd_err *e);

/* What ckpt_read_matching did: records read, records skipped (name absent from the buffers or
 * another shape), buffers left untouched, and the first name of each kind. */
struct ckpt_match {
    int loaded, skipped, missing;
    char first_skipped[64], first_missing[64];
};
/* Read every record whose name and shape match one of bufs[0..n-1] and skip the rest (an MAE
 * decoder, a head of another size): initialization from a pretrained model. No config check,
 * no moments. Returns 0 (mt filled) or a read/format error. */
int ckpt_read_matching(const char *path, struct ckpt_buf *bufs, int n, struct ckpt_match *mt,
                       struct kd_err *e);

/* Every tensor of a checkpoint as stored, whatever model made it (export of any kind). */
struct ckpt_tensor {
    char name[256];
    int ndim;
    int shape[CKPT_MAX_DIMS]; /* torch shape as kdlab keeps it */
    size_t n;                 /* values */
    const float *w;           /* n values, inside ckpt_tensors.values */
};
struct ckpt_tensors {
    struct ckpt_tensor *t; /* (n) in file order */
    int n;
    float *values; /* every tensor's values, one after the other */
    char *config;  /* the resolved config text it was made with */
    long epoch, step;
};
/* Read them all (after ckpt_read's magic, version and checksum checks); the optimizer moments
 * are skipped. Returns 0 or fills e; free with ckpt_tensors_free (also after an error). */
int ckpt_read_tensors(const char *path, struct ckpt_tensors *c, struct kd_err *e);
void ckpt_tensors_free(struct ckpt_tensors *c);

#endif
