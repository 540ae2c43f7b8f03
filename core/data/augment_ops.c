/* RandAugment's ops, the resized crop and erasing on float images (see augment_ops.h). The
 * geometric ops share one bilinear sampler with zero fill; the enhance ops blend with a
 * degenerate image as PIL's ImageEnhance does. */
#include "data/augment_ops.h"
#include "data/dataset.h"
#include "base/rng.h"

#include <math.h>
#include <stddef.h>

static float clip255(float v)
{
    return v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
}

void augment_affine_matrix(float m[6], int kind, float arg, int h, int w)
{
    double a[6] = {1, 0, 0, 0, 1, 0};
    if (kind == AUGMENT_OP_ROTATE) {
        /* PIL: angle -> -radians, matrix (cos, sin, -sin, cos) about the center */
        double t = -arg * M_PI / 180.0, cx = w / 2.0, cy = h / 2.0;
        double co = cos(t), si = sin(t);
        a[0] = co, a[1] = si, a[3] = -si, a[4] = co;
        a[2] = cx - co * cx - si * cy;
        a[5] = cy + si * cx - co * cy;
    } else if (kind == AUGMENT_OP_SHEAR_X) {
        a[1] = arg;
    } else if (kind == AUGMENT_OP_SHEAR_Y) {
        a[3] = arg;
    } else if (kind == AUGMENT_OP_TRANSLATE_X) {
        a[2] = arg;
    } else if (kind == AUGMENT_OP_TRANSLATE_Y) {
        a[5] = arg;
    }
    for (int i = 0; i < 6; i++)
        m[i] = (float)a[i];
}

static float pixel_or_zero(const float *in, int h, int w, int c, int y, int x, int k)
{
    return y < 0 || y >= h || x < 0 || x >= w ? 0.0f : in[((size_t)y * w + x) * c + k];
}

void augment_affine(float *out, const float *in, int h, int w, int c, const float m[6])
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float X = x + 0.5f, Y = y + 0.5f;
            float sx = m[0] * X + m[1] * Y + m[2] - 0.5f, sy = m[3] * X + m[4] * Y + m[5] - 0.5f;
            float *o = out + ((size_t)y * w + x) * c;
            if (!(sx > -1.0f && sx < (float)w && sy > -1.0f && sy < (float)h)) {
                for (int k = 0; k < c; k++)
                    o[k] = 0.0f;
                continue;
            }
            float fx = floorf(sx), fy = floorf(sy), ax = sx - fx, ay = sy - fy;
            int x0 = (int)fx, y0 = (int)fy;
            for (int k = 0; k < c; k++) {
                float a = pixel_or_zero(in, h, w, c, y0, x0, k);
                float b = pixel_or_zero(in, h, w, c, y0, x0 + 1, k);
                float d = pixel_or_zero(in, h, w, c, y0 + 1, x0, k);
                float e = pixel_or_zero(in, h, w, c, y0 + 1, x0 + 1, k);
                float top = a + (b - a) * ax, bot = d + (e - d) * ax;
                o[k] = clip255(top + (bot - top) * ay);
            }
        }
}

void augment_autocontrast(float *v, int h, int w, int c)
{
    size_t n = (size_t)h * w;
    for (int k = 0; k < c; k++) {
        float lo = v[k], hi = v[k];
        for (size_t i = 0; i < n; i++) {
            float u = v[i * c + k];
            lo = u < lo ? u : lo;
            hi = u > hi ? u : hi;
        }
        if (!(hi > lo))
            continue;
        float s = 255.0f / (hi - lo);
        for (size_t i = 0; i < n; i++)
            v[i * c + k] = clip255((v[i * c + k] - lo) * s);
    }
}

void augment_contrast(float *v, int h, int w, int c, float f)
{
    size_t n = (size_t)h * w * c;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    float mean = floorf((float)(s / (double)n) + 0.5f);
    for (size_t i = 0; i < n; i++)
        v[i] = clip255(mean + f * (v[i] - mean));
}

void augment_sharpness(float *out, const float *in, int h, int w, int c, float f)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                size_t at = ((size_t)y * w + x) * c + k;
                if (y == 0 || x == 0 || y == h - 1 || x == w - 1) {
                    out[at] = in[at];
                    continue;
                }
                float s = 4.0f * in[at];
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                        s += in[((size_t)(y + dy) * w + x + dx) * c + k];
                float deg = s / 13.0f;
                out[at] = clip255(deg + f * (in[at] - deg));
            }
}

void augment_resized_crop(float *out, const uint8_t *img, int h, int w, int c, int y0, int x0,
                          int ch, int cw)
{
    float sy = (float)ch / h, sx = (float)cw / w;
    for (int y = 0; y < h; y++) {
        float fy = (y + 0.5f) * sy - 0.5f;
        fy = fy < 0 ? 0 : fy > ch - 1 ? (float)(ch - 1) : fy;
        int ya = (int)fy, yb = ya + 1 < ch ? ya + 1 : ya;
        float ay = fy - ya;
        const uint8_t *r0 = img + (size_t)(y0 + ya) * w * c, *r1 = img + (size_t)(y0 + yb) * w * c;
        for (int x = 0; x < w; x++) {
            float fx = (x + 0.5f) * sx - 0.5f;
            fx = fx < 0 ? 0 : fx > cw - 1 ? (float)(cw - 1) : fx;
            int xa = (int)fx, xb = xa + 1 < cw ? xa + 1 : xa;
            float ax = fx - xa;
            for (int k = 0; k < c; k++) {
                float a = r0[(x0 + xa) * c + k], b = r0[(x0 + xb) * c + k];
                float d = r1[(x0 + xa) * c + k], e = r1[(x0 + xb) * c + k];
                float top = a + (b - a) * ax, bot = d + (e - d) * ax;
                out[((size_t)y * w + x) * c + k] = top + (bot - top) * ay;
            }
        }
    }
}

void augment_erase(float *v, int h, int w, int c, int y0, int x0, int eh, int ew, struct rng *noise)
{
    for (int y = y0; y < y0 + eh && y < h; y++)
        for (int x = x0; x < x0 + ew && x < w; x++)
            for (int k = 0; k < c; k++)
                v[((size_t)y * w + x) * c + k] = rng_normal(noise);
}
