/* Elementwise ops with no state: residual adds and stochastic depth (DropPath). The drop
 * decision is made by the caller from the counter-based RNG, so this file holds no randomness. */
#include "ops.h"

/* gcc 12 at -O2 vectorizes only loops whose trip count is a known multiple of the vector width
 * ("very cheap" cost model); these kernels' loops over C or n need the ordinary one. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

/* out (n) = a + b. No restrict: out may alias a or b (residual adds run in place). */
void add_forward(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

/* out (B, M) = x * scale[b], scale[b] in {0, 1 / (1 - p)}; out may alias x. */
void droppath_forward(float *out, const float *x, const float *scale, int B, size_t M)
{
    for (int b = 0; b < B; b++) {
        float s = scale[b];
        const float *xb = x + (size_t)b * M;
        float *ob = out + (size_t)b * M;
        for (size_t i = 0; i < M; i++)
            ob[i] = xb[i] * s;
    }
}

/* dx (B, M) += dout * scale[b]; a dropped sample (scale 0) is skipped outright. */
void droppath_backward(float *restrict dx, const float *restrict dout, const float *restrict scale,
                       int B, size_t M)
{
    for (int b = 0; b < B; b++) {
        float s = scale[b];
        if (s == 0.0f)
            continue;
        float *d = dx + (size_t)b * M;
        const float *g = dout + (size_t)b * M;
        for (size_t i = 0; i < M; i++)
            d[i] += g[i] * s;
    }
}
