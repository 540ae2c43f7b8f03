/* Checkpoints of parameter sets and their optimizers, through the buffer files of io/ckpt.h:
 * every parameter is one named buffer (its timm name and torch shape), with its optimizer's
 * moments when there is one. One file may hold several parameter sets, each with its own
 * optimizer (a resume point). */
#ifndef KD_CKPT_PARAMS_H
#define KD_CKPT_PARAMS_H

#include "io/ckpt.h"
#include "nn/params.h"

struct optim;
struct kd_err;

/* Save the sets sets[0..n_sets-1] in one file, in order, each with the moments of opts[s]
 * (opts NULL, or opts[s] NULL: none). The file has moments when any set has an optimizer; a set
 * without one then gets zero moments. config_text is the resolved YAML. Tensor names must be
 * unique across the sets (KD_ERR_FORMAT naming the first duplicate, nothing written). */
int ckpt_save_sets(const char *path, struct params *const *sets, struct optim *const *opts,
                   int n_sets, const char *config_text, const struct ckpt_info *info,
                   struct kd_err *e);
/* Load into the sets (and into opts[s], as ckpt_save_sets, when the file has moments; each
 * optimizer's step becomes the file's). expect_config and key_prefix as ckpt_read: the first
 * config key that differs is reported. Tensors missing, extra, twice or of another shape are
 * errors naming the tensor. */
int ckpt_load_sets(const char *path, struct params *const *sets, struct optim *const *opts,
                   int n_sets, const char *expect_config, const char *key_prefix,
                   struct ckpt_info *info, struct kd_err *e);
/* One set: ckpt_save_sets / ckpt_load_sets with n_sets 1 and o (may be NULL). */
int ckpt_save(const char *path, struct params *ps, const struct optim *o, const char *config_text,
              const struct ckpt_info *info, struct kd_err *e);
int ckpt_load(const char *path, struct params *ps, struct optim *o, const char *expect_config,
              const char *key_prefix, struct ckpt_info *info, struct kd_err *e);
/* Load every tensor of the file whose name and shape match a parameter of ps and skip the rest
 * (ckpt_read_matching): initialization from a pretrained model. No config check, no optimizer
 * state. Returns 0 (mt filled) or a read/format error. */
int ckpt_load_matching(const char *path, struct params *ps, struct ckpt_match *mt,
                       struct kd_err *e);

#endif
