/* Model inversion: images optimized from Gaussian noise until a trained classifier assigns them
 * chosen classes (DeepInversion-style, DC-ViT's synthetic metric set), with a total-variation
 * and an L2 prior. Needs only the model: no training image is read. */
#ifndef KD_INVERT_H
#define KD_INVERT_H

#include <stddef.h>
#include <stdint.h>

struct vit;
struct kd_err;

struct invert_cfg {
    int n;              /* images */
    int iters;          /* Adam steps */
    int warmup;         /* linear warmup steps, then cosine to 0 */
    float lr;           /* Adam learning rate (normalized pixel units) */
    float beta1, beta2; /* Adam (DC-ViT: 0.5, 0.9) */
    float tv;           /* weight of sum over neighbours of |difference|^0.6, per image */
    float l2;           /* weight of the image's L2 norm */
    int jitter;         /* random cyclic shift of up to this many pixels per step (0: off) */
    int flip;           /* random horizontal flip per step */
    float lo, hi;       /* pixel range (normalized values of 0 and 255) */
};

/* Per-iteration summary, mean over the images. */
struct invert_stats {
    double loss, ce, tv, l2; /* weighted total and the three terms (unweighted) */
    double acc;              /* fraction of images the model assigns their target */
};

/* Targets for n images: rounds of a fresh random permutation of the K classes, so targets are
 * distinct while n <= K and balanced beyond; from rng(seed, OTHER, 0, 0x7467). */
void invert_targets(int *targets, int n, int K, uint64_t seed);

/* Optimize images (n, img, img, in_ch), from N(0, 1) noise of rng(seed, OTHER, 1, i), toward
 * targets, in batches of up to m->Bmax. Every draw (noise, jitter, flips) comes from seed.
 * cb, when not NULL, is called after each iteration with the mean statistics. The model's
 * parameter gradients are used as scratch. Returns 0 or KD_ERR_NOMEM. */
int invert_run(struct vit *m, float *images, const int *targets, const struct invert_cfg *c,
               uint64_t seed, void (*cb)(void *ctx, int iter, const struct invert_stats *s),
               void *ctx, struct kd_err *e);

/* The prior terms of one image x (h, w) with c channels, and their gradients ACCUMULATED (times
 * weight) into dx when dx is not NULL: total variation sum |x[i] - x[j]|^0.6 over horizontal
 * and vertical neighbours (smoothed as (d^2 + 1e-6)^0.3 so it is differentiable at 0), and the
 * L2 norm sqrt(sum x^2). */
double invert_tv(float *dx, const float *x, int h, int w, int c, float weight);
double invert_l2(float *dx, const float *x, size_t n, float weight);

/* One (S, S, ch) image shifted cyclically and flipped: out[y][x] = in[(y - dy) mod S][sx] with
 * sx = (x - dx) mod S, mirrored (S - 1 - sx) when flip. back != 0 applies the adjoint instead,
 * ACCUMULATING into out (the gradient's way back to the unshifted image). */
void invert_jitter(float *out, const float *in, int S, int ch, int dy, int dx, int flip, int back);

#endif
