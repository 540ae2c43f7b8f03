/* Model inversion with Adam on the pixels: CE toward targets + TV + L2, jitter and flips. */
#include "train/invert.h"
#include "models/vit.h"
#include "loss/loss.h"
#include "base/err.h"
#include "base/rng.h"
#include "io/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TV_EPS 1e-6f

void invert_targets(int *targets, int n, int K, uint64_t seed)
{
    int *perm = malloc(sizeof(int) * K);
    KD_ASSERT(perm);
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_OTHER, 0, 0x7467);
    for (int i = 0; i < n; i++) {
        if (i % K == 0) {
            for (int k = 0; k < K; k++)
                perm[k] = k;
            rng_shuffle(&r, perm, K);
        }
        targets[i] = perm[i % K];
    }
    free(perm);
}

/* d/dd of (d^2 + eps)^0.3 is 0.6 d (d^2 + eps)^-0.7. */
static double tv_term(float d, float *g)
{
    double s = (double)d * d + TV_EPS;
    *g = (float)(0.6 * d * pow(s, -0.7));
    return pow(s, 0.3);
}

double invert_tv(float *dx, const float *x, int h, int w, int c, float weight)
{
    double tv = 0;
    float g;
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++)
            for (int ch = 0; ch < c; ch++) {
                size_t i = ((size_t)y * w + xx) * c + ch;
                if (xx + 1 < w) {
                    tv += tv_term(x[i + c] - x[i], &g);
                    if (dx)
                        dx[i + c] += weight * g, dx[i] -= weight * g;
                }
                if (y + 1 < h) {
                    size_t j = i + (size_t)w * c;
                    tv += tv_term(x[j] - x[i], &g);
                    if (dx)
                        dx[j] += weight * g, dx[i] -= weight * g;
                }
            }
    return tv;
}

double invert_l2(float *dx, const float *x, size_t n, float weight)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    double norm = sqrt(s);
    if (dx && norm > 0)
        for (size_t i = 0; i < n; i++)
            dx[i] += (float)(weight * x[i] / norm);
    return norm;
}

void invert_jitter(float *out, const float *in, int S, int ch, int dy, int dx, int flip, int back)
{
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int sy = ((y - dy) % S + S) % S, sx = ((x - dx) % S + S) % S;
            if (flip)
                sx = S - 1 - sx;
            for (int c = 0; c < ch; c++) {
                size_t o = ((size_t)y * S + x) * ch + c, i = ((size_t)sy * S + sx) * ch + c;
                if (back)
                    out[i] += in[o];
                else
                    out[o] = in[i];
            }
        }
}

static float invert_lr(const struct invert_cfg *c, int it)
{
    if (it < c->warmup)
        return c->lr * (it + 1) / c->warmup;
    double t = (double)(it - c->warmup) / (c->iters - c->warmup > 0 ? c->iters - c->warmup : 1);
    return (float)(c->lr * 0.5 * (1 + cos(M_PI * t)));
}

/* One Adam step of the images [a, a + B): returns summed stats into s. */
static void invert_batch(struct vit *m, float *img, float *mom, float *vel, const int *targets,
                         int a, int B, int it, const struct invert_cfg *c, uint64_t seed, float *xj,
                         float *dxj, float *grad, float *dlogits, struct invert_stats *s)
{
    int S = m->img, ch = m->in_ch, K = m->classes;
    size_t P = (size_t)S * S * ch;
    int dys[256], dxs[256], fl[256];
    for (int b = 0; b < B; b++) {
        struct rng r;
        rng_init(&r, seed, RNG_STREAM_OTHER, (uint32_t)(it + 2), (uint32_t)(a + b));
        int J = c->jitter;
        dys[b] = J ? (int)rng_below(&r, 2 * J + 1) - J : 0;
        dxs[b] = J ? (int)rng_below(&r, 2 * J + 1) - J : 0;
        fl[b] = c->flip ? (int)rng_below(&r, 2) : 0;
        invert_jitter(xj + b * P, img + (a + b) * P, S, ch, dys[b], dxs[b], fl[b], 0);
    }
    vit_forward(m, xj, B, 0, 0, 0);
    memset(dlogits, 0, sizeof(float) * B * K);
    float ce = ce_loss(dlogits, m->logits, targets + a, 0.0f, 1.0f, B, K);
    s->ce += ce * B;
    s->acc += ce_correct(m->logits, targets + a, B, K);
    memset(dxj, 0, sizeof(float) * B * P);
    params_zero_grad(&m->params);
    vit_backward_images(m, dxj, dlogits, NULL, B);
    memset(grad, 0, sizeof(float) * B * P);
    for (int b = 0; b < B; b++) {
        float *g = grad + b * P, *x = img + (a + b) * P;
        invert_jitter(g, dxj + b * P, S, ch, dys[b], dxs[b], fl[b], 1);
        s->tv += invert_tv(g, x, S, S, ch, c->tv / B);
        s->l2 += invert_l2(g, x, P, c->l2 / B);
    }
    float lr = invert_lr(c, it);
    double bc1 = 1 - pow(c->beta1, it + 1), bc2 = 1 - pow(c->beta2, it + 1);
    for (size_t i = 0; i < B * P; i++) {
        size_t k = a * P + i;
        mom[k] = c->beta1 * mom[k] + (1 - c->beta1) * grad[i];
        vel[k] = c->beta2 * vel[k] + (1 - c->beta2) * grad[i] * grad[i];
        float v = img[k] - lr * (float)(mom[k] / bc1 / (sqrt(vel[k] / bc2) + 1e-8));
        img[k] = v < c->lo ? c->lo : v > c->hi ? c->hi : v;
    }
}

int invert_run(struct vit *m, float *images, const int *targets, const struct invert_cfg *c,
               uint64_t seed, void (*cb)(void *ctx, int iter, const struct invert_stats *s),
               void *ctx, struct kd_err *e)
{
    size_t P = (size_t)m->img * m->img * m->in_ch, N = (size_t)c->n * P;
    int Bm = m->Bmax < 256 ? m->Bmax : 256;
    float *mom = calloc(N, sizeof(float)), *vel = calloc(N, sizeof(float));
    float *xj = malloc(sizeof(float) * Bm * P), *dxj = malloc(sizeof(float) * Bm * P);
    float *grad = malloc(sizeof(float) * Bm * P);
    float *dlogits = malloc(sizeof(float) * Bm * m->classes);
    int rc = 0;
    if (!mom || !vel || !xj || !dxj || !grad || !dlogits) {
        rc = kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory for %d synthetic images", c->n);
        goto out;
    }
    for (int i = 0; i < c->n; i++) {
        struct rng r;
        rng_init(&r, seed, RNG_STREAM_OTHER, 1, (uint32_t)i);
        for (size_t j = 0; j < P; j++) {
            float v = rng_normal(&r);
            images[i * P + j] = v < c->lo ? c->lo : v > c->hi ? c->hi : v;
        }
    }
    for (int it = 0; it < c->iters; it++) {
        struct invert_stats s = {0};
        for (int a = 0; a < c->n; a += Bm) {
            int B = c->n - a < Bm ? c->n - a : Bm;
            invert_batch(m, images, mom, vel, targets, a, B, it, c, seed, xj, dxj, grad, dlogits,
                         &s);
        }
        s.ce /= c->n, s.tv /= c->n, s.l2 /= c->n, s.acc /= c->n;
        s.loss = s.ce + c->tv * s.tv + c->l2 * s.l2;
        progress_step((float)s.loss, c->n);
        if (cb)
            cb(ctx, it, &s);
    }
out:
    free(mom);
    free(vel);
    free(xj);
    free(dxj);
    free(grad);
    free(dlogits);
    return rc;
}
