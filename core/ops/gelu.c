/* GELU, the exact erf form of torch.nn.GELU() (not the tanh approximation), so weights exported
 * from PyTorch give the same logits. Forward and backward use the same formula: a gradient check
 * elsewhere once failed 20 tests because the two used different approximations. */
#include "ops.h"

#include <math.h>

#define GELU_INV_SQRT2 0.70710678118654752f
#define GELU_INV_SQRT_2PI 0.39894228040143268f

/* out (n) = x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2. out may alias inp. */
void gelu_forward(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + erff(x * GELU_INV_SQRT2));
    }
}

/* dinp (n) += dout * (Phi(x) + x * phi(x)), phi the standard normal density. */
void gelu_backward(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                   size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float cdf = 0.5f * (1.0f + erff(x * GELU_INV_SQRT2));
        float pdf = GELU_INV_SQRT_2PI * expf(-0.5f * x * x);
        dinp[i] += dout[i] * (cdf + x * pdf);
    }
}
