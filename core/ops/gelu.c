/* GELU, the exact erf form of torch.nn.GELU() (not the tanh approximation), so weights exported
 * from PyTorch give the same logits. Forward and backward share one Phi(x) (gelu_cdf): a gradient
 * check elsewhere once failed 20 tests because the two used different approximations. */
#include "ops.h"
#include "parallel.h"

#include <math.h>

#define GELU_INV_SQRT2 0.70710678118654752f
#define GELU_INV_SQRT_2PI 0.39894228040143268f

/* Phi(x) = (1 + erf(x / sqrt 2)) / 2 and e = exp(-x^2 / 2), which the backward's density reuses.
 * erf is Abramowitz-Stegun 7.1.26 (absolute error <= 1.5e-7, below float resolution near 1; the
 * same formula PyTorch's vectorized CPU erf uses), written branch-free so the loops vectorize:
 * libm's erff is a call per element and cost as much as the MLP matmul beside it. */
/* ops_expf for x <= 0 only: one clamp instead of three selects (each costs masked ops on every
 * vector; GELU ran 15% faster without them). A NaN is clamped too, to -87: t below carries the
 * NaN to GELU's result, and n stays in [-126, 0], so the int conversion is always defined. */
static inline __attribute__((always_inline)) float gelu_exp_neg(float x)
{
    x = x >= -87.0f ? x : -87.0f;
    float n, p = ops_exp_reduce(x, &n);
    return p * ops_exp2_int(n);
}

static inline __attribute__((always_inline)) float gelu_cdf(float x, float *e)
{
    float z = fabsf(x) * GELU_INV_SQRT2;
    float t = 1.0f / OPS_FMA(0.3275911f, z, 1.0f);
    float p = 1.061405429f;
    p = OPS_FMA(p, t, -1.453152027f);
    p = OPS_FMA(p, t, 1.421413741f);
    p = OPS_FMA(p, t, -0.284496736f);
    p = OPS_FMA(p, t, 0.254829592f);
    *e = gelu_exp_neg(-z * z);
    float half_erfc = 0.5f * p * t * *e; /* (1 - erf(z)) / 2 */
    return x < 0 ? half_erfc : 1.0f - half_erfc;
}

/* out (n) = x * Phi(x). out may alias inp. */
void gelu_forward(float *out, const float *inp, size_t n)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for(n)))
    for (size_t i = 0; i < n; i++) {
        float e, x = inp[i];
        out[i] = x * gelu_cdf(x, &e);
    }
}

/* dinp (n) += dout * (Phi(x) + x * phi(x)), phi the standard normal density. */
void gelu_backward(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                   size_t n)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for(n)))
    for (size_t i = 0; i < n; i++) {
        float e, x = inp[i];
        float cdf = gelu_cdf(x, &e);
        dinp[i] += dout[i] * (cdf + x * GELU_INV_SQRT_2PI * e);
    }
}

/* Overwrites instead of adding: no restrict, dinp may be dout (the MLP's backward runs in place).
 */
void gelu_backward_set(float *dinp, const float *dout, const float *inp, size_t n)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for(n)))
    for (size_t i = 0; i < n; i++) {
        float e, x = inp[i];
        float cdf = gelu_cdf(x, &e);
        dinp[i] = dout[i] * (cdf + x * GELU_INV_SQRT_2PI * e);
    }
}
