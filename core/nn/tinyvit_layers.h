/* TinyViT's layers (microsoft/Cream TinyViT/models/tiny_vit.py), one per file, same verbs as
 * nn.h: _init registers parameters under TinyViT's names, _reset sets initial values,
 * _plan_acts requests what the forward saves for (B, H, W) maps, _scratch_floats says how much
 * shared scratch forward and backward use (contents not kept between calls), _forward and
 * _backward (ACCUMULATES into dx and the parameter gradients). Images and token maps are NHWC:
 * a (B, H*W, C) token tensor is the (B, H, W, C) map, row-major, as TinyViT's x.view(B,H,W,C). */
#ifndef KD_TINYVIT_LAYERS_H
#define KD_TINYVIT_LAYERS_H

#include <stddef.h>
#include <stdint.h>
#include "nn/nn.h"

#define TV_BN_MOMENTUM 0.1f /* torch BatchNorm2d default */

/* Per-sample stochastic-depth scales for one branch: scale (B) gets 0 or 1/(1-p) from
 * rng(seed, DROPPATH, step, layer) at draw `k` of that layer. Returns scale, or NULL (scale 1)
 * when not training or p == 0. */
float *tv_droppath_draw(float *scale, float p, uint64_t seed, int step, int layer, int k, int B,
                        int training);

/* ---- conv_bn.c: Conv2d_BN: convolution without bias, then BatchNorm2d. Dense weight
 * (OC, K, K, IC) (NHWC order; torch's is (OC, IC, K, K), equal for 1x1) or depthwise
 * (C, 1, K, K) as torch's groups = C (then IC == OC). pad = K / 2. The BN running statistics
 * are registered as frozen parameters ("<name>.bn.running_mean", ".running_var",
 * ".num_batches_tracked"), so checkpoints carry them and the optimizer leaves them alone. Update
 * momentum: max(0.1, 1 / (batches so far + 1)), i.e. a plain average over the first ten batches,
 * then torch's 0.1. */
struct conv_bn {
    int IC, OC, K, stride, pad, dw;
    float bn_init;                   /* initial BN weight (0 for MBConv's last conv) */
    float *w, *gw;                   /* conv weight */
    float *bw, *bb, *gbw, *gbb;      /* (OC) BN affine */
    float *rmean, *rvar, *grm, *grv; /* (OC) running statistics; grm/grv stay zero */
    float *nbt, *gnbt; /* (1) training forwards so far (torch's num_batches_tracked) */
};
struct conv_bn_acts {
    float *conv;        /* (B, OH, OW, OC) conv output (BN input) */
    float *mean, *rstd; /* (OC) statistics the forward normalized with */
    int training;       /* mode of the last forward (picks the backward formula) */
};
void conv_bn_init(struct conv_bn *l, struct params *ps, const char *name, int IC, int OC, int K,
                  int stride, int depthwise, float bn_init);
/* Conv weight U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch's default), BN weight bn_init, bias 0,
 * running mean 0, variance 1. */
void conv_bn_reset(struct conv_bn *l, struct rng *r);
int conv_bn_out(const struct conv_bn *l, int n);
void conv_bn_plan_acts(const struct conv_bn *l, struct plan *pl, struct conv_bn_acts *a, int B,
                       int H, int W);
size_t conv_bn_scratch_floats(const struct conv_bn *l, int B, int H, int W);
/* y (B, OH, OW, OC) from x (B, H, W, IC). training: batch statistics and running-stat update;
 * otherwise the running statistics. */
void conv_bn_forward(struct conv_bn *l, float *y, struct conv_bn_acts *a, float *scratch,
                     const float *x, int B, int H, int W, int training);
/* dx (B, H, W, IC) += ..., may be NULL (first layer); dy is not modified. */
void conv_bn_backward(struct conv_bn *l, float *dx, float *scratch, const float *dy, const float *x,
                      const struct conv_bn_acts *a, int B, int H, int W);
/* Multiply-accumulates for one image of side H x W. */
double conv_bn_macs(const struct conv_bn *l, int H, int W);

/* ---- mbconv.c: inverted residual (stage 1): 1x1 expand + BN + GELU, 3x3 depthwise + BN + GELU,
 * 1x1 project + BN (weight init 0), y = GELU(x + dp * branch); the last GELU after the residual
 * as in TinyViT's MBConv. Shape-preserving. */
struct mbconv {
    int C, hidden;
    float drop_path;
    struct conv_bn conv1, conv2, conv3;
};
struct mbconv_acts {
    struct conv_bn_acts a1, a2, a3;
    float *c1, *g1, *c2, *g2; /* (B, H, W, hidden) BN outputs and their GELUs */
    float *c3;                /* (B, H, W, C) branch output */
    float *s;                 /* (B, H, W, C) x + dp * c3, before the final GELU */
    float *dp, *dp_buf;       /* (B) drop-path scales of this step (dp NULL: none) */
};
void mbconv_init(struct mbconv *m, struct params *ps, const char *name, int C, float ratio,
                 float drop_path);
void mbconv_reset(struct mbconv *m, struct rng *r);
void mbconv_plan_acts(const struct mbconv *m, struct plan *pl, struct mbconv_acts *a, int B, int H,
                      int W);
size_t mbconv_scratch_floats(const struct mbconv *m, int B, int H, int W);
/* layer: global block index for the drop-path stream; seed/step as in vit_forward. */
void mbconv_forward(struct mbconv *m, float *y, struct mbconv_acts *a, float *scratch,
                    const float *x, int B, int H, int W, int training, uint64_t seed, int step,
                    int layer);
void mbconv_backward(struct mbconv *m, float *dx, float *scratch, const float *dy, const float *x,
                     const struct mbconv_acts *a, int B, int H, int W);
double mbconv_macs(const struct mbconv *m, int H, int W);

/* ---- window_attn.c: TinyViT's Attention applied per window (the attention branch of a block,
 * without residual): the (H, W) map is zero-padded at the bottom/right to multiples of ws and cut
 * into ws x ws windows (as TinyViT: padded tokens are not masked; they enter the norm and act as
 * keys), then LN, qkv, multi-head attention with a learned bias per head and relative offset
 * (|dy|, |dx|), projection; padded rows are dropped on the way back. A map of exactly ws x ws is
 * one window. The bias table "attention_biases" (NH, ws*ws) is indexed |dy| * ws + |dx|, the
 * order TinyViT's attention_offsets dict assigns. qkv rows are [Q | K | V] (timm ViT order);
 * TinyViT's checkpoint interleaves per head [q_h k_h v_h], a row permutation on export. */
struct window_attn {
    int C, NH, ws;
    struct norm norm;
    struct linear qkv, proj;
    float *ab, *gab; /* (NH, ws*ws) attention_biases */
};
struct window_attn_acts {
    int nwin;  /* windows per image of the planned map */
    float *xw; /* (B*nwin, T, C) partitioned, padded input */
    float *ln; /* (B*nwin, T, C) */
    struct norm_acts ln_s;
    float *qkv;  /* (B*nwin, T, 3C) */
    float *att;  /* (B*nwin, NH, T, T) */
    float *atty; /* (B*nwin, T, C) */
    float *bias; /* (NH, T, T) the table gathered for this window size */
};
void window_attn_init(struct window_attn *w, struct params *ps, const char *name, int C, int NH,
                      int ws);
void window_attn_reset(struct window_attn *w, struct rng *r);
int window_attn_windows(const struct window_attn *w, int H, int W);
void window_attn_plan_acts(const struct window_attn *w, struct plan *pl, struct window_attn_acts *a,
                           int B, int H, int W);
size_t window_attn_scratch_floats(const struct window_attn *w, int B, int H, int W);
/* y (B, H, W, C) = the attention branch of x (B, H, W, C). */
void window_attn_forward(const struct window_attn *w, float *y, struct window_attn_acts *a,
                         float *scratch, const float *x, int B, int H, int W);
void window_attn_backward(struct window_attn *w, float *dx, float *scratch, const float *dy,
                          const struct window_attn_acts *a, int B, int H, int W);
double window_attn_macs(const struct window_attn *w, int H, int W);

/* ---- tinyvit_block.c: TinyViTBlock on a (B, H, W, C) map:
 *   x1 = x + dp1 * window_attn(x)            (LN inside the attention)
 *   x2 = local_conv(x1)                      (3x3 depthwise conv + BN, no residual, as TinyViT)
 *   y  = x2 + dp2 * fc2(GELU(fc1(LN(x2))))   (TinyViT's Mlp, LN inside) */
struct tinyvit_block {
    int C, hidden;
    float drop_path;
    struct window_attn attn;
    struct conv_bn local_conv;
    struct norm mlp_norm;
    struct linear fc1, fc2;
};
struct tinyvit_block_acts {
    struct window_attn_acts wa;
    float *x1; /* (B, H, W, C) */
    struct conv_bn_acts lc;
    float *x2; /* (B, H, W, C) */
    float *ln; /* (B, H, W, C) */
    struct norm_acts ln_s;
    float *h, *hg;    /* (B, H, W, hidden) fc1 output and its GELU */
    float *dp1, *dp2; /* (B) drop-path scales (NULL: none) */
    float *dp_buf;    /* (2B) */
};
void tinyvit_block_init(struct tinyvit_block *b, struct params *ps, const char *name, int C, int NH,
                        int ws, float mlp_ratio, float drop_path);
void tinyvit_block_reset(struct tinyvit_block *b, struct rng *r);
void tinyvit_block_plan_acts(const struct tinyvit_block *b, struct plan *pl,
                             struct tinyvit_block_acts *a, int B, int H, int W);
size_t tinyvit_block_scratch_floats(const struct tinyvit_block *b, int B, int H, int W);
/* layer: global block index for the drop-path stream; seed/step as in vit_forward. */
void tinyvit_block_forward(struct tinyvit_block *b, float *y, struct tinyvit_block_acts *a,
                           float *scratch, const float *x, int B, int H, int W, int training,
                           uint64_t seed, int step, int layer);
void tinyvit_block_backward(struct tinyvit_block *b, float *dx, float *scratch, const float *dy,
                            const float *x, const struct tinyvit_block_acts *a, int B, int H,
                            int W);
double tinyvit_block_macs(const struct tinyvit_block *b, int H, int W);

/* ---- patch_merge.c: PatchMerging between stages: 1x1 conv + BN + GELU, 3x3 depthwise stride 2
 * + BN + GELU, 1x1 conv + BN. (B, H, W, Cin) -> (B, OH, OW, Cout), OH = (H + 1) / 2. */
struct patch_merge {
    int Cin, Cout;
    struct conv_bn conv1, conv2, conv3;
};
struct patch_merge_acts {
    struct conv_bn_acts a1, a2, a3;
    float *c1, *g1; /* (B, H, W, Cout) */
    float *c2, *g2; /* (B, OH, OW, Cout) */
};
void patch_merge_init(struct patch_merge *p, struct params *ps, const char *name, int Cin,
                      int Cout);
void patch_merge_reset(struct patch_merge *p, struct rng *r);
int patch_merge_out(int n);
void patch_merge_plan_acts(const struct patch_merge *p, struct plan *pl, struct patch_merge_acts *a,
                           int B, int H, int W);
size_t patch_merge_scratch_floats(const struct patch_merge *p, int B, int H, int W);
void patch_merge_forward(struct patch_merge *p, float *y, struct patch_merge_acts *a,
                         float *scratch, const float *x, int B, int H, int W, int training);
void patch_merge_backward(struct patch_merge *p, float *dx, float *scratch, const float *dy,
                          const float *x, const struct patch_merge_acts *a, int B, int H, int W);
double patch_merge_macs(const struct patch_merge *p, int H, int W);

#endif
