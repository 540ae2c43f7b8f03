/* Elementwise ops with no state: residual adds and stochastic depth (DropPath). The drop
 * decision is made by the caller from the counter-based RNG, so this file holds no randomness. */
#include "ops.h"
#include "parallel.h"

#include <string.h>

/* out (n) = a + b. No restrict: out may alias a or b (residual adds run in place). */
void add_forward(float *out, const float *a, const float *b, size_t n)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for(n)))
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

/* out (B, M) = x * scale[b], scale[b] in {0, 1 / (1 - p)}; out may alias x. */
void droppath_forward(float *out, const float *x, const float *scale, int B, size_t M)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)B * M)))
    for (int b = 0; b < B; b++) {
        float s = scale[b];
        const float *xb = x + (size_t)b * M;
        float *ob = out + (size_t)b * M;
        for (size_t i = 0; i < M; i++)
            ob[i] = xb[i] * s;
    }
}

/* out (B, M) = res + scale[b] * branch per sample (scale NULL: 1); out may alias branch. */
void droppath_residual_forward(float *out, const float *res, const float *branch,
                               const float *scale, int B, size_t M)
{
    if (!scale) {
        add_forward(out, res, branch, (size_t)B * M);
        return;
    }
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)B * M)))
    for (int b = 0; b < B; b++) {
        float s = scale[b];
        for (size_t i = (size_t)b * M; i < (size_t)(b + 1) * M; i++)
            out[i] = res[i] + s * branch[i];
    }
}

/* dx (B, M) = dout * scale[b] (scale NULL: a copy): the first contribution to dx. */
void droppath_backward_set(float *dx, const float *dout, const float *scale, int B, size_t M)
{
    if (!scale) {
        memcpy(dx, dout, sizeof(float) * (size_t)B * M);
        return;
    }
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)B * M)))
    for (int b = 0; b < B; b++) {
        float s = scale[b];
        for (size_t i = (size_t)b * M; i < (size_t)(b + 1) * M; i++)
            dx[i] = dout[i] * s;
    }
}

/* dx (B, M) += dout * scale[b]; a dropped sample (scale 0) is skipped outright. */
void droppath_backward(float *restrict dx, const float *restrict dout, const float *restrict scale,
                       int B, size_t M)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)B * M)))
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
