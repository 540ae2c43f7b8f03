/* 8-bit PNG images in and out through libpng: writes are atomic (a killed run never leaves a
 * torn file), reads turn every libpng error, bad signature or truncation into a struct kd_err.
 * Pixels are uint8 (h, w, c), row-major. */
#ifndef KD_PNG_H
#define KD_PNG_H

#include <stdint.h>

struct kd_err;

/* Write pixels (h, w, c) as a c = 1 gray, 3 RGB or 4 RGBA PNG at path (via <path>.tmp and
 * rename). Returns 0, KD_ERR_USAGE for a bad shape, or KD_ERR_IO. */
int png_write(const char *path, const uint8_t *pixels, int h, int w, int c, struct kd_err *e);
/* png_write with c = 1 and c = 3. */
int png_write_gray(const char *path, const uint8_t *pixels, int h, int w, struct kd_err *e);
int png_write_rgb(const char *path, const uint8_t *pixels, int h, int w, struct kd_err *e);

/* Read a PNG into a malloc'd (h, w, c) buffer the caller frees. Gray (any bit depth, alpha
 * dropped) gives c = 1; RGB, RGBA and palette give c = 3 (alpha dropped, 16 bits cut to 8).
 * Returns 0, KD_ERR_IO (cannot open) or KD_ERR_FORMAT (not a PNG, corrupt, truncated, or
 * larger than 16384 x 16384); on error *pixels is NULL. */
int png_read(const char *path, uint8_t **pixels, int *h, int *w, int *c, struct kd_err *e);

#endif
