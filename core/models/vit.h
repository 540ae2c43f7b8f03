/* Isotropic vision transformer (ViT/DeiT): patch embedding as a matmul over patchified pixels,
 * CLS token, learned position embedding, pre-norm blocks, final LayerNorm, linear head on the CLS
 * token. Parameter names follow timm, so weights load into timm's VisionTransformer. */
#ifndef KD_VIT_H
#define KD_VIT_H

#include "nn/nn.h"

struct kd_err;

/* The shape of a ViT (a config's model.* keys; train/model_spec.h fills it from one). */
struct vit_spec {
    int img, in_ch, classes;      /* input side (pixels), input channels, outputs */
    int patch, dim, depth, heads; /* patch side, width, blocks, attention heads */
    float mlp_ratio;              /* MLP hidden units = mlp_ratio * dim */
    float drop_path;              /* stochastic depth rate of the last block (linear over depth) */
    enum weight_init init;        /* initial weights of its layers (nn/params.h) */
};

struct vit {
    int img, in_ch, patch;    /* input side, channels, patch side */
    int grid, NP, PPC;        /* patches per side, patches, pixels per patch (P*P*in_ch) */
    int T, C, depth, classes; /* tokens (NP + 1), width, blocks, outputs */
    int Bmax;                 /* largest batch the buffers hold */
    struct linear patch_embed;
    float *cls, *gcls;    /* (C) */
    float *pos, *gpos;    /* (T, C) */
    struct block *blocks; /* (depth) */
    struct norm norm;
    struct linear head;
    struct params params;
    /* activations, for Bmax x T */
    struct plan acts;
    float *patches;        /* (B, NP, PPC) */
    float *emb;            /* (B, NP, C) patch embeddings before CLS and positions */
    float **resid;         /* (depth + 1) x (B, T, C): resid[0] embedded tokens, [l+1] block l */
    struct block_acts *ba; /* (depth) */
    float *feat;           /* (B, T, C) after the final norm */
    struct norm_acts feat_s;
    float *pooled; /* (B, C) the CLS token of feat */
    float *logits; /* (B, classes) */
    /* backward scratch */
    struct block_scratch bs;
    float *d_a, *d_b; /* (B, T, C) ping-pong gradients of the residual stream */
    float *d_pooled;  /* (B, C) */
};

/* Per-block shape, for models whose blocks differ: DC-ViT's compressed blocks (no attention,
 * fewer hidden units) and TinyMIM's student whose last block has the teacher's head count.
 * A zero entry means "as the spec says". */
#define VIT_MAX_DEPTH 64
struct vit_layout {
    int no_attn[VIT_MAX_DEPTH]; /* 1: the block has no attention branch */
    int hidden[VIT_MAX_DEPTH];  /* MLP hidden units */
    int heads[VIT_MAX_DEPTH];   /* attention heads */
};

/* Build the model of spec for batches up to Bmax; parameters are zero until vit_reset.
 * layout may be NULL (every block as spec says). Returns 0, KD_ERR_CONFIG (a patch or a head
 * count that does not divide, too many blocks; named by their model.* keys) or KD_ERR_NOMEM. */
int vit_init(struct vit *m, const struct vit_spec *spec, int Bmax, struct kd_err *e);
int vit_init_layout(struct vit *m, const struct vit_spec *spec, const struct vit_layout *layout,
                    int Bmax, struct kd_err *e);
void vit_free(struct vit *m);
/* timm-style initial values from rng(seed, INIT). */
void vit_reset(struct vit *m, uint64_t seed);
/* Images (B, img, img, in_ch) -> m->logits and m->feat. training: draw drop-path for `step`. */
void vit_forward(struct vit *m, const float *images, int B, int training, uint64_t seed, int step);
/* Accumulate parameter gradients from d_logits (B, classes) and/or d_feat (B, T, C), either
 * of which may be NULL. Frozen parameters (struct param) get none: their gradients stay as they
 * were, and the passes that would only feed them are skipped. */
void vit_backward(struct vit *m, const float *d_logits, const float *d_feat, int B);
/* vit_backward, and also ACCUMULATE d(loss)/d(images) (B, img, img, in_ch) into d_images (for
 * optimizing inputs: DC-ViT's synthetic metric set). Overwrites m->patches. */
void vit_backward_images(struct vit *m, float *d_images, const float *d_logits, const float *d_feat,
                         int B);
/* Each layer's frozen flag from m->params; every backward entry calls it first. */
void vit_sync_frozen(struct vit *m);
/* Multiply-accumulates of one forward pass for one image (counted from the architecture). */
double vit_macs(const struct vit *m);

/* ---- vit_tokens.c: the ViT over a subset of its patch tokens (MAE's encoder on the visible
 * patches, masked distillation) and in partial passes. keep (B, n_keep) lists each sample's
 * patch indices in [0, NP) (NULL: every patch in order, n_keep = NP). The tokens are
 * [CLS; kept patches] with their own position embeddings, Tk = n_keep + 1, and resid[],
 * ba[] and feat hold (B, Tk, C). The caller keeps `keep` unchanged until the backward. */
/* All patches of images (B, img, img, in_ch) -> out (B, NP, PPC), as the patch embedding sees
 * them. */
void vit_patchify(const struct vit *m, float *out, const float *images, int B);
/* Run blocks 0 .. n_blocks-1 (a teacher stops at its target block); with n_blocks == depth
 * also the final norm into feat. No head, no logits. training: draw drop-path for `step`. */
void vit_forward_tokens(struct vit *m, const float *images, const int *keep, int n_keep,
                        int n_blocks, int B, int training, uint64_t seed, int step);
/* Accumulate parameter gradients from d_feat (B, Tk, C) after a full vit_forward_tokens. */
void vit_backward_tokens(struct vit *m, const float *d_feat, const int *keep, int n_keep, int B);
/* Accumulate parameter gradients from d_qkv (B, Tk, 3C) of block `layer` (0-based): that block's
 * qkv and norm1, every block below and the embeddings; nothing above it, and not its
 * projection or MLP. */
void vit_backward_from_qkv(struct vit *m, int layer, const float *d_qkv, const int *keep,
                           int n_keep, int B);

#endif
