/* TinyViT's transformer block: window attention with attention biases, a 3x3 depthwise conv
 * ("local conv") on the token map between attention and MLP, then the MLP; pre-norm LNs live
 * inside the attention and the MLP as in TinyViT's Attention and Mlp modules. */
#include "nn/tinyvit_layers.h"
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>

float *tv_droppath_draw(float *scale, float p, uint64_t seed, int step, int layer, int k, int B,
                        int training)
{
    if (!training || p <= 0.0f)
        return NULL;
    struct rng r;
    /* One stream per (layer, branch), so adding a branch never shifts another's draws. */
    rng_init(&r, seed, RNG_STREAM_DROPPATH, (uint32_t)step, (uint32_t)(2 * layer + k));
    float keep = 1.0f - p;
    for (int i = 0; i < B; i++)
        scale[i] = rng_uniform(&r) < keep ? 1.0f / keep : 0.0f;
    return scale;
}

void tinyvit_block_init(struct tinyvit_block *b, struct params *ps, const char *name, int C, int NH,
                        int ws, float mlp_ratio, float drop_path)
{
    char sub[64];
    b->C = C;
    b->hidden = (int)(C * mlp_ratio);
    b->drop_path = drop_path;
    snprintf(sub, sizeof sub, "%s.attn", name);
    window_attn_init(&b->attn, ps, sub, C, NH, ws);
    snprintf(sub, sizeof sub, "%s.mlp.norm", name);
    norm_init(&b->mlp_norm, ps, sub, C);
    snprintf(sub, sizeof sub, "%s.mlp.fc1", name);
    linear_init(&b->fc1, ps, sub, C, b->hidden, 1);
    snprintf(sub, sizeof sub, "%s.mlp.fc2", name);
    linear_init(&b->fc2, ps, sub, b->hidden, C, 1);
    snprintf(sub, sizeof sub, "%s.local_conv", name);
    conv_bn_init(&b->local_conv, ps, sub, C, C, 3, 1, 1, 1.0f);
}

void tinyvit_block_reset(struct tinyvit_block *b, struct rng *r)
{
    window_attn_reset(&b->attn, r);
    norm_reset(&b->mlp_norm);
    linear_reset(&b->fc1, r);
    linear_reset(&b->fc2, r);
    conv_bn_reset(&b->local_conv, r);
}

void tinyvit_block_plan_acts(const struct tinyvit_block *b, struct plan *pl,
                             struct tinyvit_block_acts *a, int B, int H, int W)
{
    size_t N = (size_t)B * H * W;
    memset(a, 0, sizeof *a);
    window_attn_plan_acts(&b->attn, pl, &a->wa, B, H, W);
    plan_add(pl, &a->x1, N * b->C);
    conv_bn_plan_acts(&b->local_conv, pl, &a->lc, B, H, W);
    plan_add(pl, &a->x2, N * b->C);
    plan_add(pl, &a->ln, N * b->C);
    plan_add(pl, &a->ln_s.mean, N);
    plan_add(pl, &a->ln_s.rstd, N);
    plan_add(pl, &a->h, N * b->hidden);
    plan_add(pl, &a->hg, N * b->hidden);
    plan_add(pl, &a->dp_buf, 2 * (size_t)B);
}

/* Backward: four (N, C) and two (N, hidden) buffers, then the larger of the attention's and the
 * local conv's scratch (the forward only uses that last part). */
size_t tinyvit_block_scratch_floats(const struct tinyvit_block *b, int B, int H, int W)
{
    size_t N = (size_t)B * H * W, wa = window_attn_scratch_floats(&b->attn, B, H, W);
    size_t lc = conv_bn_scratch_floats(&b->local_conv, B, H, W);
    return 4 * N * b->C + 2 * N * b->hidden + (wa > lc ? wa : lc);
}

void tinyvit_block_forward(struct tinyvit_block *b, float *y, struct tinyvit_block_acts *a,
                           float *scratch, const float *x, int B, int H, int W, int training,
                           uint64_t seed, int step, int layer)
{
    size_t N = (size_t)B * H * W, M = (size_t)H * W * b->C;
    float *inner = scratch + 4 * N * b->C + 2 * N * b->hidden;
    a->dp1 = tv_droppath_draw(a->dp_buf, b->drop_path, seed, step, layer, 0, B, training);
    a->dp2 = tv_droppath_draw(a->dp_buf + B, b->drop_path, seed, step, layer, 1, B, training);
    window_attn_forward(&b->attn, a->x1, &a->wa, inner, x, B, H, W);
    droppath_residual_forward(a->x1, x, a->x1, a->dp1, B, M);
    conv_bn_forward(&b->local_conv, a->x2, &a->lc, inner, a->x1, B, H, W, training);
    norm_forward(&b->mlp_norm, a->ln, &a->ln_s, a->x2, (int)N);
    linear_forward(&b->fc1, a->h, a->ln, (int)N);
    gelu_forward(a->hg, a->h, N * b->hidden);
    linear_forward(&b->fc2, y, a->hg, (int)N);
    droppath_residual_forward(y, a->x2, y, a->dp2, B, M);
}

void tinyvit_block_backward(struct tinyvit_block *b, float *dx, float *scratch, const float *dy,
                            const float *x, const struct tinyvit_block_acts *a, int B, int H, int W)
{
    size_t N = (size_t)B * H * W, NC = N * b->C, NHd = N * b->hidden, M = (size_t)H * W * b->C;
    float *dx2 = scratch, *dbr = dx2 + NC, *dln = dbr + NC, *dx1 = dln + NC;
    float *dhg = dx1 + NC, *dh = dhg + NHd, *inner = dh + NHd;
    /* MLP branch: y = x2 + dp2 * fc2(gelu(fc1(ln(x2)))) */
    memcpy(dx2, dy, sizeof(float) * NC);
    droppath_backward_set(dbr, dy, a->dp2, B, M);
    memset(dhg, 0, sizeof(float) * NHd);
    linear_backward(&b->fc2, dhg, dbr, a->hg, (int)N);
    gelu_backward_set(dh, dhg, a->h, NHd);
    memset(dln, 0, sizeof(float) * NC);
    linear_backward(&b->fc1, dln, dh, a->ln, (int)N);
    norm_backward(&b->mlp_norm, dx2, dln, a->x2, &a->ln_s, (int)N);
    /* local conv: x2 = conv_bn(x1) */
    memset(dx1, 0, sizeof(float) * NC);
    conv_bn_backward(&b->local_conv, dx1, inner, dx2, a->x1, &a->lc, B, H, W);
    /* attention branch: x1 = x + dp1 * attn(x) */
    add_forward(dx, dx, dx1, NC);
    droppath_backward_set(dbr, dx1, a->dp1, B, M);
    window_attn_backward(&b->attn, dx, inner, dbr, &a->wa, B, H, W);
}

double tinyvit_block_macs(const struct tinyvit_block *b, int H, int W)
{
    double N = (double)H * W;
    return window_attn_macs(&b->attn, H, W) + conv_bn_macs(&b->local_conv, H, W) +
           2 * N * b->C * b->hidden;
}
