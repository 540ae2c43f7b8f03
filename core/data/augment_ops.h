/* The pixel work of the strong augmentations (augment.c): RandAugment's ops on float images
 * (h, w, c) holding [0, 255] values, the random resized crop and random erasing. Each follows
 * PIL / torchvision / timm as named below, in float and without rounding to uint8 between ops.
 * Public so that tests can check each op against hand-computed pixels. Allocation-free. */
#ifndef KD_AUGMENT_OPS_H
#define KD_AUGMENT_OPS_H

#include <stdint.h>

struct rng;

/* The inverse map of a geometric op (enum augment_op_kind) as PIL's affine data: an output
 * pixel center (x + 0.5, y + 0.5) samples the source at (m[0] X + m[1] Y + m[2],
 * m[3] X + m[4] Y + m[5]). Rotation is about the image center (PIL's Image.rotate). */
void augment_affine_matrix(float m[6], int kind, float arg, int h, int w);
/* out = in under the inverse map m: bilinear, the image extended by zeros (zero fill). */
void augment_affine(float *out, const float *in, int h, int w, int c, const float m[6]);
/* PIL's ImageOps.autocontrast (cutoff 0): each channel mapped linearly from [min, max] to
 * [0, 255]; a flat channel is left alone. In place. */
void augment_autocontrast(float *v, int h, int w, int c);
/* PIL's ImageEnhance.Contrast: blend with the mean gray level (rounded as PIL does), factor f,
 * clipped to [0, 255]. In place. */
void augment_contrast(float *v, int h, int w, int c, float f);
/* PIL's ImageEnhance.Sharpness: blend with the image under PIL's SMOOTH filter (3x3, center
 * weight 5, others 1, over 13; border pixels kept), factor f, clipped to [0, 255]. */
void augment_sharpness(float *out, const float *in, int h, int w, int c, float f);
/* torchvision's resized_crop with bilinear interpolation (half-pixel centers, edges clamped to
 * the crop, no antialias): the box (y0, x0, ch, cw) of img scaled to h x w, as [0, 255]. */
void augment_resized_crop(float *out, const uint8_t *img, int h, int w, int c, int y0, int x0,
                          int ch, int cw);
/* timm's RandomErasing, mode 'pixel': the box (y0, x0, eh, ew) of v filled with N(0, 1) draws
 * of noise, row by row, channels innermost. */
void augment_erase(float *v, int h, int w, int c, int y0, int x0, int eh, int ew,
                   struct rng *noise);

#endif
