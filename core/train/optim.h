/* Optimizers (AdamW, SGD with momentum), the warmup + cosine schedule and gradient clipping.
 * Weight decay is decoupled and skips parameters registered with decay = 0 (norms, biases,
 * tokens, position embeddings); frozen parameters are skipped entirely. With optim.layer_decay
 * d < 1, a ViT parameter's learning rate is scaled by d^(depth + 1 - layer id) as BEiT, MAE and
 * TinyMIM fine-tune (their param_groups_lrd / get_layer_id). */
#ifndef KD_OPTIM_H
#define KD_OPTIM_H

#include "nn/params.h"
#include "io/config.h"

struct kd_err;

struct optim {
    struct optim_cfg cfg;
    struct arena state; /* moments, laid out like the parameter block */
    float *m, *v;       /* AdamW first/second moments (v unused by SGD) */
    long step;          /* updates done */
    float *lr_scale;    /* (ps->n) per-parameter lr factor, or NULL: all 1 */
};

/* Moments for ps, and the lr factors of cfg->layer_decay from the parameters' names. Returns 0,
 * KD_ERR_NOMEM, or KD_ERR_CONFIG when layer decay is on and ps has no "blocks.<i>." parameter. */
int optim_init(struct optim *o, struct params *ps, const struct optim_cfg *cfg, struct kd_err *e);
/* BEiT's layer id of a ViT parameter: 0 for patch_embed, cls_token, pos_embed and mask_token,
 * i + 1 for blocks.<i>., depth + 1 for everything else (final norm, head). */
int optim_layer_id(const char *name, int depth);
void optim_free(struct optim *o);
/* One update of every non-frozen parameter with learning rate lr. */
void optim_step(struct optim *o, struct params *ps, float lr);
/* Learning rate at `step` of `steps_per_epoch * epochs`: linear warmup from 0, then cosine down
 * to min_lr (optim.schedule cosine) or lr until step_at of all steps and lr * step_gamma after
 * (step). */
float lr_at(const struct optim_cfg *cfg, long step, long steps_per_epoch);
/* Global L2 norm of all gradients; scales them to max_norm when above it (max_norm > 0).
 * Returns the norm before clipping (NaN or Inf when a gradient is not finite). */
float grad_clip(struct params *ps, float max_norm);

#endif
