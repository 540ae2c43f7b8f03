/* Structured compression of a trained ViT (DC-ViT, CVPR 2024; and the block-dropping baseline
 * PRACTISE): the structure that removes a MACs budget, and the copy of the original weights into
 * the smaller model. A compressed block has no attention branch and keeps a random subset of the
 * original MLP hidden units (their fc1 rows, fc2 columns; fc2 bias and LN2 copied whole), so any
 * MACs target is reachable; a dropped block is simply absent. */
#ifndef KD_VIT_COMPRESS_H
#define KD_VIT_COMPRESS_H

#include "models/vit.h"

struct kd_err;

/* Multiply-accumulates of one image through one block's attention branch (qkv, scores, values,
 * proj) and through an MLP with `hidden` units, for the token count and width of m. */
double vit_attn_macs(const struct vit *m);
double vit_mlp_macs(const struct vit *m, int hidden);

/* The compressed structure that removes `removed` MACs per image from m:
 *   n = ceil(removed / (attn + mlp of one original block)), or n_blocks when n_blocks > 0;
 *   each of the n blocks loses its attention and keeps hidden = round(r * C) units, with the
 *   shared ratio r = 4 (1 - (removed - n attn) / (n mlp)) (4 = m's own mlp ratio in general).
 * Errors (KD_ERR_CONFIG naming the key): n larger than max_blocks (the candidates), removal
 * below n attention branches, or no hidden unit left. */
struct vit_compress {
    int n;        /* blocks to compress */
    int hidden;   /* MLP hidden units each compressed block keeps */
    double ratio; /* hidden / C */
};
int vit_compress_structure(struct vit_compress *s, const struct vit *m, double removed,
                           int n_blocks, int max_blocks, struct kd_err *e);

/* Layout of a model like m whose blocks blocks[0..nb-1] are compressed to `hidden` units; the
 * other blocks keep m's own shape (already compressed blocks of m stay compressed). */
void vit_compress_layout(struct vit_layout *lay, const struct vit *m, const int *blocks, int nb,
                         int hidden);

/* Copy src's weights into dst (built from the same model config). Block i of dst takes block
 * map[i] of src (map NULL: block i; dst may have fewer blocks: dropped ones). An attention-free
 * dst block ignores src's attention; a dst block with fewer hidden units than its src block keeps
 * a random subset of them, drawn from rng(seed, OTHER, src block, 0x6463) and kept in order.
 * Programmer errors (dst hidden > src hidden, attention in dst but not in src) assert. */
void vit_compress_copy(struct vit *dst, const struct vit *src, const int *map, uint64_t seed);

/* Parameter count (floats) of m. */
size_t vit_param_count(const struct vit *m);

#endif
