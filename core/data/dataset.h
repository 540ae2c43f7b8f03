/* Image data sets in memory: uint8 pixels, labels, and the views (subsets, few-shot sets) that
 * experiments train on. Fashion-MNIST comes from IDX .gz files (idx.c); an image folder from PNGs
 * (folder.c). Pixels stay uint8 until a batch is built, so 60k 28x28 images take 47 MB. */
#ifndef KD_DATASET_H
#define KD_DATASET_H

#include <stdint.h>

#include "base/rng.h"

struct kd_err;

struct dataset {
    uint8_t *pixels; /* (n, h, w, c), row-major, 0..255 */
    uint8_t *labels; /* (n) class ids */
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
int folder_load_by_name(struct dataset *d, const char *dir, int h, int w, int c, struct kd_err *e);
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
 * the same (seed, epoch, sample) rebuilds the same image bit for bit. cfg NULL: no change.
 * The draws come in a fixed order: crop offsets and flip first (three draws, always), then,
 * only when turned on, the random resized crop, the RandAugment ops and random erasing; so with
 * those off the parameters and images are those of the shift-and-flip augmentation alone. */
struct augment_cfg {
    int crop_pad;        /* random crop with zero padding of this many pixels (0: off) */
    int flip;            /* random horizontal flip */
    float rrc_scale_min; /* random resized crop, area fraction in [this, 1] (0: off) */
    int randaug_n;       /* RandAugment ops per image (0: off), at most AUGMENT_MAX_OPS */
    float randaug_m;     /* their magnitude, 0..10 (timm's scale) */
    float randaug_mstd;  /* magnitude noise: normal with this std, clipped to [0, 10] (0: off) */
    float erase_prob;    /* random erasing probability (0: off) */
};

/* RandAugment's ops that make sense for 28x28 grayscale (timm's rand augment subset). */
enum augment_op_kind {
    AUGMENT_OP_ROTATE,       /* arg: degrees, counter-clockwise, about the center */
    AUGMENT_OP_SHEAR_X,      /* arg: shear factor, source x = x + arg * y (PIL, top-left) */
    AUGMENT_OP_SHEAR_Y,      /* arg: shear factor, source y = y + arg * x */
    AUGMENT_OP_TRANSLATE_X,  /* arg: pixels, source x = x + arg */
    AUGMENT_OP_TRANSLATE_Y,  /* arg: pixels, source y = y + arg */
    AUGMENT_OP_AUTOCONTRAST, /* no arg: each channel stretched to [0, 255] */
    AUGMENT_OP_CONTRAST,     /* arg: enhance factor (1: none) */
    AUGMENT_OP_SHARPNESS,    /* arg: enhance factor (1: none) */
    AUGMENT_N_OPS
};
#define AUGMENT_MAX_OPS 8
/* Largest image (h * w * c) the strong augmentations' stack buffers hold. */
#define AUGMENT_MAX_PIXELS (64 * 64 * 3)

struct augment_op {
    int kind;  /* enum augment_op_kind */
    float arg; /* see the enum; sign already drawn */
};
struct augment_params {
    int dx, dy;           /* crop offset in [-crop_pad, crop_pad] */
    int flip;             /* 0 or 1 */
    int ry0, rx0, rh, rw; /* resized crop box in source pixels (rh 0: none) */
    int n_ops;            /* RandAugment ops to apply, in order (those that passed p = 0.5) */
    struct augment_op ops[AUGMENT_MAX_OPS];
    int ey, ex, eh, ew; /* erased box (eh 0: none) */
    struct rng noise;   /* the draws' generator after the box: the erased pixels' noise */
};
/* A 32-bit digest of cfg's strong augmentation (resized crop, RandAugment, erasing), 0 when all
 * are off: what a soft-label file records so that a student replays the teacher's images. */
uint32_t augment_hash(const struct augment_cfg *cfg);
/* torchvision's RandomResizedCrop.get_params: 10 tries of an area fraction in [smin, 1] with a
 * log-uniform aspect ratio in [3/4, 4/3], else the whole image. box = (y0, x0, height, width). */
void augment_crop_box(int box[4], struct rng *r, float smin, int h, int w);
/* Parameters for an h x w image (the crop and erase boxes are in pixels). */
void augment_draw(struct augment_params *p, const struct augment_cfg *cfg, int h, int w,
                  uint64_t seed, int epoch, int sample);
/* Write one normalized float image (h, w, c) from uint8 pixels (h, w, c) under params p:
 * out[y][x] = img[y + dy][x' + dx] with x' = flip ? w - 1 - x : x (crop, then flip, as
 * torchvision orders them), and pixel value 0 where that falls outside the image. With the
 * strong augmentations: the resized crop (bilinear) comes before the shift and flip, the
 * RandAugment ops after them (on [0, 255] values, clipped after each op, not rounded), then
 * normalization, then erasing (timm's RandomErasing on normalized values, per-pixel N(0, 1)).
 * Those need h * w * c <= AUGMENT_MAX_PIXELS (config_load checks it). */
void augment_apply(float *out, const uint8_t *img, int h, int w, int c,
                   const struct augment_params *p);

/* A batch: images (B, h, w, c) normalized floats and labels, of samples idx[0..B-1] at epoch
 * `epoch` under augmentation cfg (NULL: none). Each sample's augmentation is keyed by its data
 * set index idx[i], not by i. Allocation-free: out and labels are caller's. */
void dataset_batch(float *out, int *labels, const struct dataset *d, const int *idx, int B,
                   const struct augment_cfg *cfg, uint64_t seed, int epoch);

#endif
