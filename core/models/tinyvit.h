/* TinyViT (Wu et al., ECCV 2022; microsoft/Cream TinyViT/models/tiny_vit.py) for small images:
 * conv stem, stage 1 of MBConv blocks, later stages of TinyViT blocks (window attention with
 * attention biases, local depthwise conv, MLP), patch merging between stages, head of mean pool,
 * LayerNorm and linear. Parameter names follow TinyViT ("patch_embed.seq.0.c.weight",
 * "layers.1.blocks.0.attn.attention_biases", "norm_head.weight"); BatchNorm running statistics
 * are frozen parameters, so checkpoints carry them.
 * Stem: TinyViT's two 3x3 stride-2 convs divide the side by 4 (224 -> 56). At 28x28 that would
 * leave 7x7 for stage 1 and 1x1 for stage 4, so for img < 112 the second conv has stride 1:
 * 28 -> 14 (stage 1) -> 7 -> 4 -> 2, which keeps every stage's map at least 2x2. */
#ifndef KD_TINYVIT_H
#define KD_TINYVIT_H

#include "nn/tinyvit_layers.h"

struct kd_err;

#define TINYVIT_MAX_STAGES 6

/* The shape of a TinyViT (a config's model.* keys; train/model_spec.h fills it from one): one
 * entry per stage in each list, stage 1 of MBConv blocks, later stages of window-attention
 * blocks. Each list's length is kept as given, so that tinyvit_init can refuse unequal ones. */
struct tinyvit_spec {
    int img, in_ch, classes;                  /* input side (pixels), input channels, outputs */
    int n_dims, n_depths, n_heads, n_windows; /* entries given in each list below */
    int dims[TINYVIT_MAX_STAGES];             /* widths */
    int depths[TINYVIT_MAX_STAGES];           /* blocks per stage */
    int heads[TINYVIT_MAX_STAGES];            /* attention heads (stage 1's entry unused) */
    int windows[TINYVIT_MAX_STAGES];          /* window side, tokens (stage 1's entry unused) */
    float mlp_ratio;                          /* MLP hidden units = mlp_ratio * width */
    float drop_path;                          /* stochastic depth rate of the last block */
    enum weight_init init;                    /* initial weights of its layers (nn/params.h) */
};

enum tinyvit_unit_kind { TV_MBCONV, TV_BLOCK, TV_MERGE };

/* One step of the forward chain after the stem: a block or a patch merging. */
struct tinyvit_unit {
    enum tinyvit_unit_kind kind;
    int idx; /* into mb[], blocks[] or merge[] */
    int stage;
    int side;  /* input map side */
    int layer; /* global block index (drop-path stream), -1 for merges */
};

struct tinyvit {
    int img, in_ch, classes, Bmax;
    int stages;
    int dims[TINYVIT_MAX_STAGES], depths[TINYVIT_MAX_STAGES];
    int heads[TINYVIT_MAX_STAGES], windows[TINYVIT_MAX_STAGES];
    int side[TINYVIT_MAX_STAGES]; /* token-map side of each stage */
    int stem_side;                /* side after the first stem conv */
    struct conv_bn stem0, stem1;  /* patch_embed.seq.0 and .seq.2 */
    struct mbconv *mb;            /* (depths[0]) */
    struct tinyvit_block *blocks; /* (sum of depths[1..]) */
    struct patch_merge merge[TINYVIT_MAX_STAGES - 1];
    struct norm norm_head;
    struct linear head;
    struct tinyvit_unit *units; /* (n_units) in forward order */
    int n_units;
    struct params params;
    /* activations, for Bmax images */
    struct plan acts;
    float *images; /* (B, img, img, in_ch) copy of the input batch */
    struct conv_bn_acts stem0_a, stem1_a;
    float *stem0_y, *stem0_g; /* (B, stem_side, stem_side, dims[0] / 2) */
    float **x;                /* (n_units + 1): x[0] stem output, x[u + 1] unit u's output */
    struct mbconv_acts *mba;
    struct tinyvit_block_acts *ba;
    struct patch_merge_acts ma[TINYVIT_MAX_STAGES - 1];
    float *pooled;   /* (B, C_last) token mean: the features */
    float *pooled_n; /* (B, C_last) after norm_head */
    struct norm_acts head_s;
    float *logits; /* (B, classes) */
    /* backward */
    float *scratch;               /* shared by every layer's forward and backward */
    float *d_a, *d_b;             /* ping-pong gradients, the largest map */
    float *d_pooled, *d_pooled_n; /* (B, C_last) */
};

/* Build the model of spec for batches up to Bmax; parameters are zero until tinyvit_reset.
 * Returns 0 or KD_ERR_CONFIG (1 to TINYVIT_MAX_STAGES stages, lists of unequal length, heads
 * not dividing a width, ...; named by their model.* keys) / KD_ERR_NOMEM. */
int tinyvit_init(struct tinyvit *m, const struct tinyvit_spec *spec, int Bmax, struct kd_err *e);
void tinyvit_free(struct tinyvit *m);
/* Initial values from rng(seed, INIT): TinyViT's (trunc normal 0.02 linears, torch default
 * convs, BN weight 1 except MBConv's last, zero attention biases). */
void tinyvit_reset(struct tinyvit *m, uint64_t seed);
/* Images (B, img, img, in_ch) -> m->logits. training: batch-statistics BN (running stats
 * updated) and drop-path for `step`; otherwise running statistics, no drop-path. */
void tinyvit_forward(struct tinyvit *m, const float *images, int B, int training, uint64_t seed,
                     int step);
/* Accumulate parameter gradients from d_logits (B, classes), after a forward of the same B. */
void tinyvit_backward(struct tinyvit *m, const float *d_logits, int B);
/* Multiply-accumulates of one forward pass for one image (counted from the architecture). */
double tinyvit_macs(const struct tinyvit *m);

#endif
