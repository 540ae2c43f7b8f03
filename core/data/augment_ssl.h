/* Self-supervised augmentation (MoCo-v2's recipe at 28x28): random resized crop (bilinear),
 * horizontal flip, brightness/contrast jitter, Gaussian blur. Two views per image, each drawn
 * from rng(seed, RNG_STREAM_SSL_AUGMENT and _PHOTO, epoch, sample * 2 + view), so any view
 * replays bit for bit whatever the batch or job split. Drawing and applying are separate
 * (tests inspect the parameters); applying is allocation-free. */
#ifndef KD_AUGMENT_SSL_H
#define KD_AUGMENT_SSL_H

#include <stdint.h>

struct dataset;

/* Streams of rng.h's enum are shared; SSL draws use values far from them. */
#define RNG_STREAM_SSL_AUGMENT 0x55100001u
#define RNG_STREAM_SSL_QUEUE 0x55100002u /* initial queue contents */
#define RNG_STREAM_SSL_PROBE 0x55100003u /* linear probe order and init */
#define RNG_STREAM_SSL_PHOTO 0x55100004u /* flip, jitter and blur draws of a view */

/* Largest image (h * w * c) the blur's stack buffer holds. */
#define SSL_AUG_MAX_PIXELS (64 * 64 * 3)

struct ssl_augment_cfg {
    float crop_min;   /* crop area fraction drawn in [crop_min, 1] (MoCo-v2: 0.2) */
    int flip;         /* random horizontal flip */
    float jitter;     /* brightness and contrast factors in [1 - jitter, 1 + jitter] */
    float jitter_p;   /* probability of the jitter (MoCo-v2: 0.8) */
    float blur_p;     /* probability of the blur (MoCo-v2: 0.5) */
    float blur_sigma; /* sigma drawn in [0.1, blur_sigma], pixels; 5x5 kernel */
};

struct ssl_view_params {
    float y0, x0, ch, cw; /* crop box in source pixels: top, left, height, width */
    int flip;             /* 0 or 1 */
    float bright;         /* brightness factor (1: none) */
    float contrast;       /* contrast factor (1: none) */
    int contrast_first;   /* torchvision applies the jitter's parts in a random order */
    float sigma;          /* blur sigma, 0: no blur */
};

/* Parameters of view `view` (0 or 1) of sample `sample` at `epoch` for an h x w image. */
void ssl_augment_draw(struct ssl_view_params *p, const struct ssl_augment_cfg *cfg, int h, int w,
                      uint64_t seed, int epoch, int sample, int view);
/* One normalized float image out (h, w, c) from uint8 img (h, w, c) under p: crop resized to
 * h x w (bilinear, half-pixel centers, edge clamp), flip, jitter on [0, 1] values with
 * clamping, blur (reflect borders), then the (x - mean) / std of dataset.h. h*w*c must be
 * <= SSL_AUG_MAX_PIXELS. */
void ssl_augment_apply(float *out, const uint8_t *img, int h, int w, int c,
                       const struct ssl_view_params *p);
/* A batch of one view: out (B, h, w, c) for samples idx[0..B-1] (keyed by data set index). */
void ssl_batch(float *out, const struct dataset *d, const int *idx, int B,
               const struct ssl_augment_cfg *cfg, uint64_t seed, int epoch, int view);

#endif
