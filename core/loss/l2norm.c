/* Row-wise L2 normalization and its backward (the Jacobian of x / ||x|| is
 * (I - u u^T) / ||x|| with u = x / ||x||). */
#include "loss/loss_ssl.h"

#include <math.h>

void l2norm_forward(float *out, float *norms, const float *inp, int N, int D)
{
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * D;
        double ss = 0;
        for (int j = 0; j < D; j++)
            ss += (double)x[j] * x[j];
        float n = (float)sqrt(ss);
        n = n > 1e-12f ? n : 1e-12f;
        norms[i] = n;
        for (int j = 0; j < D; j++)
            out[(size_t)i * D + j] = x[j] / n;
    }
}

void l2norm_backward(float *dinp, const float *dout, const float *out, const float *norms, int N,
                     int D)
{
    for (int i = 0; i < N; i++) {
        const float *u = out + (size_t)i * D, *g = dout + (size_t)i * D;
        float dot = 0;
        for (int j = 0; j < D; j++)
            dot += u[j] * g[j];
        for (int j = 0; j < D; j++)
            dinp[(size_t)i * D + j] += (g[j] - u[j] * dot) / norms[i];
    }
}
