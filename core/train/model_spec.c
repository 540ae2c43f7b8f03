/* model.* keys -> struct vit_spec / struct tinyvit_spec (see model_spec.h). */
#include "train/model_spec.h"

enum weight_init model_spec_init(enum model_init init)
{
    return init == INIT_TIMM ? WEIGHT_INIT_TIMM : WEIGHT_INIT_TORCH;
}

struct vit_spec model_spec_vit(const struct model_cfg *c)
{
    return (struct vit_spec){.img = c->img,
                             .in_ch = c->in_ch,
                             .classes = c->classes,
                             .patch = c->patch,
                             .dim = c->dim,
                             .depth = c->depth,
                             .heads = c->heads,
                             .mlp_ratio = c->mlp_ratio,
                             .drop_path = c->drop_path,
                             .init = model_spec_init(c->weight_init)};
}

/* The first TINYVIT_MAX_STAGES entries of list (n of them given) into out; returns n. */
static int stage_list(int *out, const int *list, int n)
{
    for (int i = 0; i < n && i < TINYVIT_MAX_STAGES; i++)
        out[i] = list[i];
    return n;
}

struct tinyvit_spec model_spec_tinyvit(const struct model_cfg *c)
{
    struct tinyvit_spec s = {.img = c->img,
                             .in_ch = c->in_ch,
                             .classes = c->classes,
                             .mlp_ratio = c->mlp_ratio,
                             .drop_path = c->drop_path,
                             .init = model_spec_init(c->weight_init)};
    s.n_dims = stage_list(s.dims, c->stage_dims, c->n_stage_dims);
    s.n_depths = stage_list(s.depths, c->stage_depths, c->n_stage_depths);
    s.n_heads = stage_list(s.heads, c->stage_heads, c->n_stage_heads);
    s.n_windows = stage_list(s.windows, c->windows, c->n_windows);
    return s;
}
