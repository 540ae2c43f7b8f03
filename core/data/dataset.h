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
/* Read an image folder <dir>/<class>/<file>.png: classes are the sorted subfolder names (at most
 * 256), files are taken in sorted order. Every image must be h x w; gray and RGB are converted to
 * c (1 or 3) channels, alpha is dropped. Returns 0 or KD_ERR_* naming the offending file. */
int folder_load(struct dataset *d, const char *dir, int h, int w, int c, struct kd_err *e);
/* folder_load, then samples ordered by file name across classes (ties in class order): a folder
 * written as <class>/<source index>.png keeps its source's sample order (bin/fmnist_folder), and
 * the first N images of a split mix the classes. What data.set: folder reads. */
int folder_load_by_name(struct dataset *d, const char *dir, int h, int w, int c,
                        struct kd_err *e);
/* Free what a loader allocated and zero d; safe on a zeroed or already freed dataset. */
void dataset_free(struct dataset *d);

/* Indices of a subset: first `n` of a shuffle seeded by seed (n <= 0: all, in order; n >= d->n:
 * all, shuffled), or `per_class` of each class (in shuffle order, n ignored) when per_class > 0;
 * a class with fewer samples gives all it has. The shuffle is rng(seed, SUBSET, 0, 0), so smaller
 * subsets of one seed are prefixes of larger ones. out holds d->n ints; returns the count. */
int dataset_subset(const struct dataset *d, int *out, int n, int per_class, uint64_t seed);

/* Normalization to roughly zero mean, unit variance: x = (p / 255 - mean) / std. One-channel
 * images use Fashion-MNIST's statistics; any other channel count uses 0.5 / 0.5 per channel. */
#define FMNIST_MEAN 0.2860f
#define FMNIST_STD 0.3530f
#define AUGMENT_MEAN_OTHER 0.5f
#define AUGMENT_STD_OTHER 0.5f

/* Augmentation parameters of one sample, all drawn from rng(seed, AUGMENT, epoch, sample) so
 * the same (seed, epoch, sample) rebuilds the same image bit for bit. cfg NULL: no change. */
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
/* Write one normalized float image (h, w, c) from uint8 pixels (h, w, c) under params p:
 * out[y][x] = img[y + dy][x' + dx] with x' = flip ? w - 1 - x : x (crop, then flip, as
 * torchvision orders them), and pixel value 0 where that falls outside the image. */
void augment_apply(float *out, const uint8_t *img, int h, int w, int c,
                   const struct augment_params *p);

/* A batch: images (B, h, w, c) normalized floats and labels, of samples idx[0..B-1] at epoch
 * `epoch` under augmentation cfg (NULL: none). Each sample's augmentation is keyed by its data
 * set index idx[i], not by i. Allocation-free: out and labels are caller's. */
void dataset_batch(float *out, int *labels, const struct dataset *d, const int *idx, int B,
                   const struct augment_cfg *cfg, uint64_t seed, int epoch);

#endif
