/* Image data sets in memory: uint8 pixels, labels, and the views (subsets, few-shot sets) that
 * experiments train on. Fashion-MNIST comes from IDX .gz files (idx.c); an image folder from PNGs
 * (folder.c). Pixels stay uint8 until a batch is built, so 60k 28x28 images take 47 MB. */
#ifndef KD_DATASET_H
#define KD_DATASET_H

#include <stdint.h>

struct kd_err;
struct rng;

struct dataset {
    uint8_t *pixels;     /* (n, h, w, c), row-major, 0..255 */
    uint8_t *labels;     /* (n) class ids */
    int n, h, w, c;
    int classes;
};

/* Read Fashion-MNIST's "<dir>/<split>-images-idx3-ubyte.gz" and labels ("train" or "t10k").
 * Validates magic numbers, sizes and that the two files agree. Returns 0 or KD_ERR_*. */
int idx_load(struct dataset *d, const char *dir, const char *split, struct kd_err *e);
void dataset_free(struct dataset *d);

/* Indices of a subset: first `n` of a shuffle seeded by seed (n <= 0: all, in order), or
 * `per_class` of each class (in shuffle order) when per_class > 0. out holds d->n ints;
 * returns the count. */
int dataset_subset(const struct dataset *d, int *out, int n, int per_class, uint64_t seed);

/* Normalization to roughly zero mean, unit variance: x = (p / 255 - mean) / std. */
#define FMNIST_MEAN 0.2860f
#define FMNIST_STD 0.3530f

/* Augmentation parameters of one sample, all drawn from rng(seed, AUGMENT, epoch, sample) so
 * the same (seed, epoch, sample) rebuilds the same image bit for bit. */
struct augment_cfg {
    int crop_pad;        /* random crop with zero padding of this many pixels (0: off) */
    int flip;            /* random horizontal flip */
};
struct augment_params {
    int dx, dy;          /* crop offset in [-crop_pad, crop_pad] */
    int flip;            /* 0 or 1 */
};
void augment_draw(struct augment_params *p, const struct augment_cfg *cfg, uint64_t seed,
                  int epoch, int sample);
/* Write one normalized float image (h, w, c) from uint8 pixels under params p. */
void augment_apply(float *out, const uint8_t *img, int h, int w, int c,
                   const struct augment_params *p);

/* A batch: images (B, h, w, c) normalized floats and labels, of samples idx[0..B-1] at epoch
 * `epoch` under augmentation cfg (NULL: none). Allocation-free: out and labels are caller's. */
void dataset_batch(float *out, int *labels, const struct dataset *d, const int *idx, int B,
                   const struct augment_cfg *cfg, uint64_t seed, int epoch);

#endif
