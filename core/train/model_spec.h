/* A config's model.* keys as the models take them: the models know nothing of configs, so the
 * floor that builds a model from an experiment (core/train, the experiments) fills its spec
 * here. */
#ifndef KD_MODEL_SPEC_H
#define KD_MODEL_SPEC_H

#include "io/config.h"
#include "models/vit.h"
#include "models/tinyvit.h"

/* The ViT of model.img, in_ch, classes, patch, dim, depth, heads, mlp_ratio, drop_path and
 * weight_init. */
struct vit_spec model_spec_vit(const struct model_cfg *c);
/* The TinyViT of model.img, in_ch, classes, the stage lists (stage_dims, stage_depths,
 * stage_heads, windows: their lengths kept, their first TINYVIT_MAX_STAGES entries copied, so
 * tinyvit_init refuses a list too long or of another length), mlp_ratio, drop_path and
 * weight_init. */
struct tinyvit_spec model_spec_tinyvit(const struct model_cfg *c);
/* The layers' initial weights of model.weight_init. */
enum weight_init model_spec_init(enum model_init init);

#endif
