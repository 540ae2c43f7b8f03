/* Per-sample augmentation: parameters drawn from rng(seed, AUGMENT, epoch, sample), then a
 * shift-with-zero-fill (random crop of a zero-padded image), a horizontal flip and normalization.
 * Drawing is separate from applying so tests and soft-label replay can inspect the parameters. */
#include "dataset.h"

#include "base/rng.h"

#include <string.h>

void augment_draw(struct augment_params *p, const struct augment_cfg *cfg, uint64_t seed, int epoch,
                  int sample)
{
    memset(p, 0, sizeof *p);
    if (!cfg)
        return;
    /* Always three draws in a fixed order: turning flip on or off leaves the crops unchanged. */
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_AUGMENT, (uint32_t)epoch, (uint32_t)sample);
    int pad = cfg->crop_pad > 0 ? cfg->crop_pad : 0;
    uint32_t ux = rng_u32(&r), uy = rng_u32(&r), uf = rng_u32(&r);
    p->dx = (int)(((uint64_t)ux * (uint32_t)(2 * pad + 1)) >> 32) - pad;
    p->dy = (int)(((uint64_t)uy * (uint32_t)(2 * pad + 1)) >> 32) - pad;
    p->flip = cfg->flip ? (int)(uf >> 31) : 0;
}

void augment_apply(float *out, const uint8_t *img, int h, int w, int c,
                   const struct augment_params *p)
{
    float mean = c == 1 ? FMNIST_MEAN : AUGMENT_MEAN_OTHER;
    float std = c == 1 ? FMNIST_STD : AUGMENT_STD_OTHER;
    float lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = ((float)v / 255.0f - mean) / std;
    for (int y = 0; y < h; y++) {
        int sy = y + p->dy;
        float *row = out + (size_t)y * w * c;
        for (int x = 0; x < w; x++) {
            int sx = (p->flip ? w - 1 - x : x) + p->dx;
            if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
                for (int k = 0; k < c; k++)
                    row[x * c + k] = lut[0];
                continue;
            }
            const uint8_t *src = img + ((size_t)sy * w + sx) * c;
            for (int k = 0; k < c; k++)
                row[x * c + k] = lut[src[k]];
        }
    }
}
