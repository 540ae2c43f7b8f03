/* MAE's light decoder (facebookresearch/mae models_mae.py forward_decoder): the encoder's
 * tokens [CLS; visible] are embedded to the decoder width, the masked positions are filled
 * with a shared mask token, fixed 2-D sin-cos position embeddings are added, a few narrow
 * pre-norm blocks and a LayerNorm run over all NP + 1 tokens, and a linear layer predicts each
 * patch's pixels. Parameters are named "decoder.*" so they sit beside the encoder's timm
 * names in one checkpoint. */
#ifndef KD_MAE_DECODER_H
#define KD_MAE_DECODER_H

#include "nn/nn.h"

struct kd_err;

struct mae_decoder {
    int C_enc, C, depth, NH;   /* encoder width, decoder width, blocks, heads */
    int NP, PPC, T, Bmax;      /* patches, pixels per patch, tokens (NP + 1), largest batch */
    struct linear embed;       /* C_enc -> C */
    float *mask_token, *gmask; /* (C) */
    float *pos, *gpos;         /* (T, C) fixed sin-cos: frozen */
    struct block *blocks;      /* (depth) */
    struct norm norm;
    struct linear pred; /* C -> PPC */
    struct params params;
    struct plan acts;
    float *x_emb;  /* (B, Tk, C) embedded encoder tokens */
    float **resid; /* (depth + 1) x (B, T, C) */
    struct block_acts *ba;
    float *feat; /* (B, T, C) after the norm */
    struct norm_acts feat_s;
    float *out; /* (B, NP, PPC) predicted pixels of every patch */
    struct block_scratch bs;
    float *d_a, *d_b; /* (B, T, C) */
    float *d_xemb;    /* (B, Tk, C) */
};

/* Build for an encoder of width C_enc over NP patches of PPC pixels, batches up to Bmax.
 * Errors: heads not dividing dim, or out of memory. */
int mae_decoder_init(struct mae_decoder *d, int C_enc, int dim, int depth, int heads,
                     float mlp_ratio, int NP, int PPC, int Bmax, struct kd_err *e);
void mae_decoder_free(struct mae_decoder *d);
/* timm/MAE initial values from rng(seed, INIT); position embeddings sin-cos. */
void mae_decoder_reset(struct mae_decoder *d, uint64_t seed);
/* latent (B, n_keep + 1, C_enc): the encoder's final tokens; keep (B, n_keep) the patch of each
 * visible token. Fills d->out. */
void mae_decoder_forward(struct mae_decoder *d, const float *latent, const int *keep, int n_keep,
                         int B);
/* From d_out (B, NP, PPC): parameter gradients accumulate, d_latent (B, n_keep + 1, C_enc) is
 * overwritten. */
void mae_decoder_backward(struct mae_decoder *d, float *d_latent, const float *d_out,
                          const float *latent, const int *keep, int n_keep, int B);

/* MAE's per-sample random masking (random_masking in models_mae.py): a permutation of the NP
 * patches from rng(seed, MASK, epoch, sample); the first n_keep stay visible. keep (n_keep)
 * gets them in increasing order, mask (NP) 1 for hidden and 0 for visible patches (or NULL). */
void mae_mask_draw(int *keep, float *mask, int NP, int n_keep, uint64_t seed, int epoch,
                   int sample);

#endif
