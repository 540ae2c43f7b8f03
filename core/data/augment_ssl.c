/* MoCo-v2 augmentation at Fashion-MNIST scale (see augment_ssl.h). The crop follows
 * torchvision's RandomResizedCrop.get_params (10 tries of area and log-uniform aspect ratio in
 * [3/4, 4/3], else the whole image); the blur sigma range is scaled to 28-pixel images. */
#include "data/augment_ssl.h"
#include "data/dataset.h"
#include "base/rng.h"
#include "base/err.h"

#include <math.h>
#include <string.h>

static void draw_crop(struct ssl_view_params *p, struct rng *r, float smin, int h, int w)
{
    int box[4];
    augment_crop_box(box, r, smin, h, w);
    p->y0 = (float)box[0];
    p->x0 = (float)box[1];
    p->ch = (float)box[2];
    p->cw = (float)box[3];
}

void ssl_augment_draw(struct ssl_view_params *p, const struct ssl_augment_cfg *cfg, int h, int w,
                      uint64_t seed, int epoch, int sample, int view)
{
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_SSL_AUGMENT, (uint32_t)epoch, (uint32_t)(sample * 2 + view));
    memset(p, 0, sizeof *p);
    draw_crop(p, &r, cfg->crop_min, h, w);
    /* The photometric draws have their own stream, so the crop's variable number of tries
     * never shifts them. */
    struct rng s;
    rng_init(&s, seed, RNG_STREAM_SSL_PHOTO, (uint32_t)epoch, (uint32_t)(sample * 2 + view));
    float uf = rng_uniform(&s), uj = rng_uniform(&s), ub = rng_uniform(&s);
    float uc = rng_uniform(&s), uo = rng_uniform(&s), ubl = rng_uniform(&s), us = rng_uniform(&s);
    p->flip = cfg->flip && uf < 0.5f;
    p->bright = p->contrast = 1.0f;
    if (uj < cfg->jitter_p) {
        p->bright = 1.0f - cfg->jitter + 2.0f * cfg->jitter * ub;
        p->contrast = 1.0f - cfg->jitter + 2.0f * cfg->jitter * uc;
        p->contrast_first = uo < 0.5f;
    }
    if (ubl < cfg->blur_p)
        p->sigma = 0.1f + (cfg->blur_sigma - 0.1f) * us;
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* Bilinear sample of the crop into out (h, w, c) as [0, 1] values, flipped when asked. */
static void resized_crop(float *out, const uint8_t *img, int h, int w, int c,
                         const struct ssl_view_params *p)
{
    float sy = p->ch / h, sx = p->cw / w;
    for (int y = 0; y < h; y++) {
        float fy = p->y0 + (y + 0.5f) * sy - 0.5f;
        fy = fy < 0 ? 0 : fy > h - 1 ? (float)(h - 1) : fy;
        int y0 = (int)fy, y1 = y0 + 1 < h ? y0 + 1 : y0;
        float ay = fy - y0;
        for (int x = 0; x < w; x++) {
            int xs = p->flip ? w - 1 - x : x;
            float fx = p->x0 + (xs + 0.5f) * sx - 0.5f;
            fx = fx < 0 ? 0 : fx > w - 1 ? (float)(w - 1) : fx;
            int x0 = (int)fx, x1 = x0 + 1 < w ? x0 + 1 : x0;
            float ax = fx - x0;
            for (int k = 0; k < c; k++) {
                const uint8_t *r0 = img + (size_t)y0 * w * c, *r1 = img + (size_t)y1 * w * c;
                float a = r0[x0 * c + k], b = r0[x1 * c + k];
                float d = r1[x0 * c + k], e = r1[x1 * c + k];
                float top = a + (b - a) * ax, bot = d + (e - d) * ax;
                out[((size_t)y * w + x) * c + k] = (top + (bot - top) * ay) / 255.0f;
            }
        }
    }
}

static void brightness(float *v, size_t n, float f)
{
    for (size_t i = 0; i < n; i++)
        v[i] = clamp01(v[i] * f);
}

/* torchvision adjust_contrast: blend with the image's mean gray level. */
static void contrast(float *v, size_t n, float f)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    float mean = (float)(s / n);
    for (size_t i = 0; i < n; i++)
        v[i] = clamp01(f * v[i] + (1.0f - f) * mean);
}

static int reflect(int i, int n)
{
    if (i < 0)
        i = -i;
    if (i >= n)
        i = 2 * n - 2 - i;
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Separable 5x5 Gaussian, reflect borders; tmp holds h*w*c floats. */
static void blur(float *v, float *tmp, int h, int w, int c, float sigma)
{
    float k[5], s = 0;
    for (int i = 0; i < 5; i++)
        s += k[i] = expf(-(float)((i - 2) * (i - 2)) / (2.0f * sigma * sigma));
    for (int i = 0; i < 5; i++)
        k[i] /= s;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                float a = 0;
                for (int i = 0; i < 5; i++)
                    a += k[i] * v[((size_t)y * w + reflect(x + i - 2, w)) * c + ch];
                tmp[((size_t)y * w + x) * c + ch] = a;
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                float a = 0;
                for (int i = 0; i < 5; i++)
                    a += k[i] * tmp[((size_t)reflect(y + i - 2, h) * w + x) * c + ch];
                v[((size_t)y * w + x) * c + ch] = a;
            }
}

void ssl_augment_apply(float *out, const uint8_t *img, int h, int w, int c,
                       const struct ssl_view_params *p)
{
    size_t n = (size_t)h * w * c;
    KD_ASSERT(n <= SSL_AUG_MAX_PIXELS);
    float tmp[SSL_AUG_MAX_PIXELS];
    resized_crop(out, img, h, w, c, p);
    if (p->contrast_first)
        contrast(out, n, p->contrast);
    if (p->bright != 1.0f)
        brightness(out, n, p->bright);
    if (!p->contrast_first && p->contrast != 1.0f)
        contrast(out, n, p->contrast);
    if (p->sigma > 0)
        blur(out, tmp, h, w, c, p->sigma);
    float mean = c == 1 ? FMNIST_MEAN : AUGMENT_MEAN_OTHER;
    float std = c == 1 ? FMNIST_STD : AUGMENT_STD_OTHER;
    for (size_t i = 0; i < n; i++)
        out[i] = (out[i] - mean) / std;
}

void ssl_batch(float *out, const struct dataset *d, const int *idx, int B,
               const struct ssl_augment_cfg *cfg, uint64_t seed, int epoch, int view)
{
    size_t img = (size_t)d->h * d->w * d->c;
    for (int i = 0; i < B; i++) {
        struct ssl_view_params p;
        ssl_augment_draw(&p, cfg, d->h, d->w, seed, epoch, idx[i], view);
        ssl_augment_apply(out + i * img, d->pixels + (size_t)idx[i] * img, d->h, d->w, d->c, &p);
    }
}
