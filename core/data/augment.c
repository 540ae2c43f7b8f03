/* Per-sample augmentation: parameters drawn from rng(seed, AUGMENT, epoch, sample), then a
 * shift-with-zero-fill (random crop of a zero-padded image), a horizontal flip and normalization;
 * optionally a random resized crop first (MAE's pretraining), RandAugment ops and random erasing
 * (TinyViT's / DeiT's recipe, via timm), whose pixel work is in augment_ops.c. Drawing is
 * separate from applying so tests and soft-label replay can inspect the parameters. */
#include "dataset.h"
#include "data/augment_ops.h"

#include "base/err.h"
#include "base/rng.h"

#include <math.h>
#include <string.h>

/* timm's RandAugment: each chosen op applies with probability 0.5; magnitudes on a 0..10 scale
 * map to at most 30 degrees, shear 0.3, translation 0.45 of the side, enhance factor 1 +- 0.9
 * (the "increasing" variants of TinyViT's rand-m9-mstd0.5-inc1). */
#define RANDAUG_P 0.5f
#define RANDAUG_LEVELS 10.0f
/* timm's RandomErasing defaults: area fraction [0.02, 1/3], aspect ratio [0.3, 1/0.3] drawn
 * log-uniform, 10 tries, one box. */
#define ERASE_AREA_MIN 0.02
#define ERASE_AREA_MAX (1.0 / 3.0)
#define ERASE_ASPECT_MIN 0.3

void augment_crop_box(int box[4], struct rng *r, float smin, int h, int w)
{
    double area = (double)h * w, lr0 = log(3.0 / 4.0), lr1 = log(4.0 / 3.0);
    for (int t = 0; t < 10; t++) {
        double target = area * (smin + (1.0 - smin) * rng_uniform(r));
        double ratio = exp(lr0 + (lr1 - lr0) * rng_uniform(r));
        int cw = (int)lround(sqrt(target * ratio)), ch = (int)lround(sqrt(target / ratio));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            box[0] = (int)rng_below(r, (uint32_t)(h - ch + 1));
            box[1] = (int)rng_below(r, (uint32_t)(w - cw + 1));
            box[2] = ch;
            box[3] = cw;
            return;
        }
    }
    box[0] = box[1] = 0;
    box[2] = h;
    box[3] = w;
}

static void draw_resized_crop(struct augment_params *p, struct rng *r, float smin, int h, int w)
{
    int box[4];
    augment_crop_box(box, r, smin, h, w);
    p->ry0 = box[0];
    p->rx0 = box[1];
    p->rh = box[2];
    p->rw = box[3];
}

/* One RandAugment op: always four draws (op, apply, magnitude noise, sign). */
static void draw_op(struct augment_params *p, struct rng *r, const struct augment_cfg *cfg, int h,
                    int w)
{
    int kind = (int)rng_below(r, AUGMENT_N_OPS);
    float u = rng_uniform(r), z = rng_normal(r);
    int neg = (int)(rng_u32(r) >> 31);
    if (u >= RANDAUG_P || p->n_ops >= AUGMENT_MAX_OPS)
        return;
    float m = cfg->randaug_m + (cfg->randaug_mstd > 0 ? cfg->randaug_mstd * z : 0.0f);
    float lvl = (m < 0 ? 0 : m > RANDAUG_LEVELS ? RANDAUG_LEVELS : m) / RANDAUG_LEVELS;
    float arg = 0;
    switch (kind) {
    case AUGMENT_OP_ROTATE: arg = 30.0f * lvl; break;
    case AUGMENT_OP_SHEAR_X:
    case AUGMENT_OP_SHEAR_Y: arg = 0.3f * lvl; break;
    case AUGMENT_OP_TRANSLATE_X: arg = 0.45f * lvl * (float)w; break;
    case AUGMENT_OP_TRANSLATE_Y: arg = 0.45f * lvl * (float)h; break;
    case AUGMENT_OP_CONTRAST:
    case AUGMENT_OP_SHARPNESS: arg = 0.9f * lvl; break;
    default: break;
    }
    arg = neg ? -arg : arg;
    if (kind == AUGMENT_OP_CONTRAST || kind == AUGMENT_OP_SHARPNESS)
        arg += 1.0f;
    p->ops[p->n_ops++] = (struct augment_op){kind, arg};
}

/* timm's RandomErasing box; p->noise then continues the same generator for the fill. */
static void draw_erase(struct augment_params *p, struct rng *r, float prob, int h, int w)
{
    if (rng_uniform(r) >= prob)
        return;
    double area = (double)h * w, la = log(ERASE_ASPECT_MIN), lb = -la;
    for (int t = 0; t < 10; t++) {
        double target =
            area * (ERASE_AREA_MIN + (ERASE_AREA_MAX - ERASE_AREA_MIN) * rng_uniform(r));
        double ratio = exp(la + (lb - la) * rng_uniform(r));
        int eh = (int)lround(sqrt(target * ratio)), ew = (int)lround(sqrt(target / ratio));
        if (eh > 0 && ew > 0 && eh < h && ew < w) {
            p->ey = (int)rng_below(r, (uint32_t)(h - eh + 1));
            p->ex = (int)rng_below(r, (uint32_t)(w - ew + 1));
            p->eh = eh;
            p->ew = ew;
            p->noise = *r;
            return;
        }
    }
}

static uint32_t fnv_float(uint32_t h, float v)
{
    uint32_t b;
    memcpy(&b, &v, 4);
    for (int i = 0; i < 4; i++)
        h = (h ^ ((b >> (8 * i)) & 0xffu)) * 16777619u;
    return h;
}

uint32_t augment_hash(const struct augment_cfg *cfg)
{
    int ra = cfg->randaug_n > 0;
    if (cfg->rrc_scale_min <= 0 && !ra && cfg->erase_prob <= 0)
        return 0;
    uint32_t h = 2166136261u;
    h = fnv_float(h, cfg->rrc_scale_min > 0 ? cfg->rrc_scale_min : 0.0f);
    h = fnv_float(h, (float)cfg->randaug_n);
    h = fnv_float(h, ra ? cfg->randaug_m : 0.0f);
    h = fnv_float(h, ra ? cfg->randaug_mstd : 0.0f);
    h = fnv_float(h, cfg->erase_prob > 0 ? cfg->erase_prob : 0.0f);
    return h ? h : 1;
}

void augment_draw(struct augment_params *p, const struct augment_cfg *cfg, int h, int w,
                  uint64_t seed, int epoch, int sample)
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
    /* The strong augmentations draw after these, and only when on. */
    if (cfg->rrc_scale_min > 0)
        draw_resized_crop(p, &r, cfg->rrc_scale_min, h, w);
    for (int i = 0; i < cfg->randaug_n; i++)
        draw_op(p, &r, cfg, h, w);
    if (cfg->erase_prob > 0)
        draw_erase(p, &r, cfg->erase_prob, h, w);
}

/* out[y][x] = src[y + dy][x' + dx] (x' flipped when asked), 0 outside: augment_apply's crop
 * and flip on a float source. */
static void shift_flip(float *out, const float *src, int h, int w, int c,
                       const struct augment_params *p)
{
    for (int y = 0; y < h; y++) {
        int sy = y + p->dy;
        float *row = out + (size_t)y * w * c;
        for (int x = 0; x < w; x++) {
            int sx = (p->flip ? w - 1 - x : x) + p->dx;
            int in = sy >= 0 && sy < h && sx >= 0 && sx < w;
            for (int k = 0; k < c; k++)
                row[x * c + k] = in ? src[((size_t)sy * w + sx) * c + k] : 0.0f;
        }
    }
}

/* The RandAugment ops of p in order on v (h, w, c) of [0, 255] values; tmp is as large. */
static void apply_ops(float *v, float *tmp, int h, int w, int c, const struct augment_params *p)
{
    size_t n = (size_t)h * w * c;
    for (int i = 0; i < p->n_ops; i++) {
        const struct augment_op *o = &p->ops[i];
        if (o->kind == AUGMENT_OP_AUTOCONTRAST) {
            augment_autocontrast(v, h, w, c);
        } else if (o->kind == AUGMENT_OP_CONTRAST) {
            augment_contrast(v, h, w, c, o->arg);
        } else if (o->kind == AUGMENT_OP_SHARPNESS) {
            augment_sharpness(tmp, v, h, w, c, o->arg);
            memcpy(v, tmp, n * sizeof(float));
        } else {
            float m[6];
            augment_affine_matrix(m, o->kind, o->arg, h, w);
            augment_affine(tmp, v, h, w, c, m);
            memcpy(v, tmp, n * sizeof(float));
        }
    }
}

/* The strong path: resized crop, shift and flip, ops, normalization, erasing. */
static void apply_strong(float *out, const uint8_t *img, int h, int w, int c, float mean, float std,
                         const struct augment_params *p)
{
    size_t n = (size_t)h * w * c;
    KD_ASSERT(n <= AUGMENT_MAX_PIXELS);
    float base[AUGMENT_MAX_PIXELS], tmp[AUGMENT_MAX_PIXELS];
    if (p->rh > 0)
        augment_resized_crop(base, img, h, w, c, p->ry0, p->rx0, p->rh, p->rw);
    else
        for (size_t i = 0; i < n; i++)
            base[i] = (float)img[i];
    shift_flip(out, base, h, w, c, p);
    apply_ops(out, tmp, h, w, c, p);
    for (size_t i = 0; i < n; i++)
        out[i] = (out[i] / 255.0f - mean) / std;
    if (p->eh > 0) {
        struct rng noise = p->noise;
        augment_erase(out, h, w, c, p->ey, p->ex, p->eh, p->ew, &noise);
    }
}

void augment_apply(float *out, const uint8_t *img, int h, int w, int c,
                   const struct augment_params *p)
{
    float mean = c == 1 ? FMNIST_MEAN : AUGMENT_MEAN_OTHER;
    float std = c == 1 ? FMNIST_STD : AUGMENT_STD_OTHER;
    if (p->rh > 0 || p->n_ops > 0 || p->eh > 0) {
        apply_strong(out, img, h, w, c, mean, std, p);
        return;
    }
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
