/* Layers, one per file, each with the verbs _init (register parameters under a name prefix),
 * _reset (initial values, after allocation), _forward and _backward (accumulates into grads). */
#ifndef KD_NN_H
#define KD_NN_H

#include "nn/params.h"
#include "base/rng.h"

/* ---- linear.c: y (N, out) = x (N, in) W^T + b; torch layout W (out, in) */
struct linear {
    int in, out;
    int has_bias;
    enum weight_init init; /* the params set's scheme when registered */
    float *w, *b, *gw, *gb;
    int frozen; /* 1: backward skips the weight and bias gradients (layer_sync_frozen) */
};
void linear_init(struct linear *l, struct params *ps, const char *name, int in, int out,
                 int has_bias);
/* WEIGHT_INIT_TORCH: W and b uniform in +-1/sqrt(in) (PyTorch's default, kaiming_uniform with
 * a = sqrt 5); WEIGHT_INIT_TIMM: W truncated normal std 0.02, zero bias (timm's ViT). */
void linear_reset(struct linear *l, struct rng *r);
void linear_forward(const struct linear *l, float *y, const float *x, int N);
/* y (N, out) = res + linear(x), res (N, out); y may be res. */
void linear_forward_residual(const struct linear *l, float *y, const float *x, const float *res,
                             int N);
/* dx may be NULL (first layer). */
void linear_backward(struct linear *l, float *dx, const float *dy, const float *x, int N);
/* The same with dx overwritten (=) rather than accumulated (no zeroing pass before it). */
void linear_backward_set(struct linear *l, float *dx, const float *dy, const float *x, int N);
/* frozen = whether ps has the layer's parameters frozen. A model calls it for its layers at the
 * start of every backward pass, so the flag cannot go stale when a caller freezes or thaws. */
void linear_sync_frozen(struct linear *l, const struct params *ps);

/* ---- norm.c: LayerNorm over the last axis of (N, C); eps LAYERNORM_EPS */
struct norm {
    int C;
    float *w, *b, *gw, *gb;
    int frozen; /* as struct linear's */
};
struct norm_acts {
    float *mean, *rstd; /* (N) saved for backward */
};
void norm_init(struct norm *n, struct params *ps, const char *name, int C);
void norm_reset(struct norm *n);
void norm_forward(const struct norm *n, float *y, struct norm_acts *a, const float *x, int N);
void norm_backward(struct norm *n, float *dx, const float *dy, const float *x,
                   const struct norm_acts *a, int N);
void norm_sync_frozen(struct norm *n, const struct params *ps);

/* Normal of std s cut to [-2, 2] into w[0..n-1]: timm's trunc_normal_(std=s), whose cut is in
 * absolute units, so at s = 0.02 it is a plain normal (a cut at 2 std would narrow it by 12%). */
void init_trunc_normal(float *w, size_t n, float s, struct rng *r);
/* Uniform in [-bound, bound) into w[0..n-1]. */
void init_uniform(float *w, size_t n, float bound, struct rng *r);

/* ---- block.c: pre-norm transformer block (timm's Block):
 *   x1 = x + dp1 * proj(attention(qkv(LN1(x))))    (skipped when attn == 0: DC-ViT's block)
 *   y  = x1 + dp2 * fc2(GELU(fc1(LN2(x1))))
 * dp1, dp2 are per-sample drop-path scales, 0 or 1/(1-p). */
struct block {
    int C, NH, hidden; /* width, heads, MLP hidden units */
    int attn;          /* 1: has attention; 0: attention removed (compressed block) */
    float drop_path;   /* this block's stochastic depth rate */
    struct norm ln1, ln2;
    struct linear qkv, proj, fc1, fc2;
};
/* What a block saves for backward, sized for (B, T) at most; read by distillation losses. */
struct block_acts {
    float *ln1;             /* (B, T, C) LN1 output */
    struct norm_acts ln1_s; /* (B*T) */
    float *qkv;             /* (B, T, 3C): Q, K, V after LN1 (TinyMIM's relations) */
    float *att;             /* (B, NH, T, T) attention probabilities */
    float *atty;            /* (B, T, C) attention output before proj */
    float *x1;              /* (B, T, C) residual stream after the attention branch */
    float *ln2;             /* (B, T, C) */
    struct norm_acts ln2_s;
    float *h;         /* (B, T, hidden) fc1 output, before GELU */
    float *hg;        /* (B, T, hidden) after GELU */
    float *dp1, *dp2; /* (B) drop-path scales of this step (NULL: none) */
    float *dp_buf;    /* (2B) storage behind dp1, dp2 */
};
/* Backward scratch shared by all blocks of a model (used one block at a time). */
struct block_scratch {
    float *d_ln, *d_qkv, *d_atty, *d_x1, *d_branch; /* (B,T,C), (B,T,3C), (B,T,C) x3 */
    float *d_hg;                                    /* (B, T, hidden) */
    float *att;                                     /* attention_scratch_floats(T) */
};
void block_init(struct block *b, struct params *ps, const char *name, int C, int NH, int hidden,
                int attn, float drop_path);
void block_reset(struct block *b, struct rng *r);
/* Each layer's frozen flag from ps (linear_sync_frozen). */
void block_sync_frozen(struct block *b, const struct params *ps);
/* Request activation buffers for up to B x T tokens. */
void block_plan_acts(const struct block *b, struct plan *pl, struct block_acts *a, int B, int T);
void block_plan_scratch(struct plan *pl, struct block_scratch *s, int C, int hidden, int B, int T);
/* y (B, T, C) from x (B, T, C). */
void block_forward(const struct block *b, float *y, struct block_acts *a, const float *x, int B,
                   int T);
/* dx (B, T, C) += d(loss)/dx given dy; dy is not modified. */
void block_backward(struct block *b, float *dx, const float *dy, const float *x,
                    const struct block_acts *a, struct block_scratch *s, int B, int T);
/* The same with dx overwritten (=): saves the caller zeroing dx, and the block a copy and an add.
 */
void block_backward_set(struct block *b, float *dx, const float *dy, const float *x,
                        const struct block_acts *a, struct block_scratch *s, int B, int T);
/* Gradient entering at the qkv output (TinyMIM's relations are read there): dx (B, T, C) +=
 * d(loss)/dx given d_qkv (B, T, 3C); only qkv and norm1 get parameter gradients. */
void block_backward_from_qkv(struct block *b, float *dx, const float *d_qkv, const float *x,
                             const struct block_acts *a, struct block_scratch *s, int B, int T);
/* Fill a->dp1/dp2 for one training step from rng(seed, DROPPATH, step, layer). training == 0
 * sets them to NULL (scale 1). */
void block_draw_droppath(const struct block *b, struct block_acts *a, uint64_t seed, int step,
                         int layer, int B, int training);

#endif
