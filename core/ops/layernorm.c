/* Layer normalization over the last axis of (N, C) rows, optional affine (timm ViT; TinyMIM's
 * feature target has none). Rows are short and stay in L1, so two passes per row (mean, then
 * squared deviations) cost little and avoid the cancellation of the one-pass E[x^2] - E[x]^2. */
#include "ops.h"
#include "parallel.h"

#include <math.h>

/* Sum with 8 independent accumulators: gcc vectorizes this without -ffast-math (a single float
 * accumulator is a serial chain it may not reorder), and the pairwise-ish order is more exact. */
static inline float sum8(const float *restrict x, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += x[i + j];
    float s = 0;
    for (; i < n; i++)
        s += x[i];
    return s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static inline float sqdev8(const float *restrict x, float m, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += (x[i + j] - m) * (x[i + j] - m);
    float s = 0;
    for (; i < n; i++)
        s += (x[i] - m) * (x[i] - m);
    return s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* out (N, C), mean/rstd (N) (either may be NULL in inference), inp (N, C), weight/bias (C) or
 * NULL. out = (inp - mean) * rstd * weight + bias, rstd = 1 / sqrt(biased var + LAYERNORM_EPS). */
void layernorm_forward(float *restrict out, float *restrict mean, float *restrict rstd,
                       const float *restrict inp, const float *restrict weight,
                       const float *restrict bias, int N, int C)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)N * C)))
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float m = sum8(x, C) / C;
        float s = 1.0f / sqrtf(sqdev8(x, m, C) / C + LAYERNORM_EPS);
        if (weight && bias) {
            for (int i = 0; i < C; i++)
                o[i] = (x[i] - m) * s * weight[i] + bias[i];
        } else {
            for (int i = 0; i < C; i++) {
                float y = (x[i] - m) * s;
                o[i] = (weight ? y * weight[i] : y) + (bias ? bias[i] : 0.0f);
            }
        }
        if (mean)
            mean[n] = m;
        if (rstd)
            rstd[n] = s;
    }
}

/* The textbook definition in double: mean, biased variance, normalize, scale and shift. */
void layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp,
                           const float *weight, const float *bias, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        double m = 0, v = 0;
        for (int i = 0; i < C; i++)
            m += x[i];
        m /= C;
        for (int i = 0; i < C; i++)
            v += (x[i] - m) * (x[i] - m);
        v /= C;
        double s = 1.0 / sqrt(v + (double)LAYERNORM_EPS);
        for (int i = 0; i < C; i++)
            out[(size_t)n * C + i] =
                (float)((x[i] - m) * s * (weight ? weight[i] : 1.0) + (bias ? bias[i] : 0.0));
        if (mean)
            mean[n] = (float)m;
        if (rstd)
            rstd[n] = (float)s;
    }
}

/* dweight (C) += sum_n dout * xhat; dbias (C) += sum_n dout. Each thread owns a block of columns
 * and runs over all rows in order: the serial summation order at any thread count. */
static void layernorm_backward_params(float *restrict dweight, float *restrict dbias,
                                      const float *restrict dout, const float *restrict inp,
                                      const float *restrict mean, const float *restrict rstd, int N,
                                      int C)
{
    int nt = ops_threads_for((size_t)N * C);
    nt = C < 32 * nt ? 1 : nt;
    OPS_OMP(parallel num_threads(nt))
    {
        size_t lo, hi;
        ops_split((size_t)C, ops_thread_id(), nt, 16, &lo, &hi);
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C;
            const float *d = dout + (size_t)n * C;
            float m = mean[n], s = rstd[n];
            if (dweight)
                for (size_t k = lo; k < hi; k++)
                    dweight[k] += d[k] * (x[k] - m) * s;
            if (dbias)
                for (size_t k = lo; k < hi; k++)
                    dbias[k] += d[k];
        }
    }
}

/* With xhat = (x - mean) * rstd and g = dout * weight:
 * dinp += rstd * (g - mean(g) - xhat * mean(g * xhat)); dweight += dout * xhat; dbias += dout. */
void layernorm_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                        const float *restrict dout, const float *restrict inp,
                        const float *restrict weight, const float *restrict mean,
                        const float *restrict rstd, int N, int C)
{
    if (dweight || dbias)
        layernorm_backward_params(dweight, dbias, dout, inp, mean, rstd, N, C);
    if (!dinp)
        return;
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)N * C)))
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float *d = dout + (size_t)n * C;
        float m = mean[n], s = rstd[n];
        float acc_g[8] = {0}, acc_gx[8] = {0};
        float sg = 0, sgx = 0;
        int i = 0;
        /* Both row sums, 8 lanes each (see sum8). */
        for (; i + 8 <= C; i += 8) {
            for (int j = 0; j < 8; j++) {
                float xh = (x[i + j] - m) * s;
                float g = weight ? d[i + j] * weight[i + j] : d[i + j];
                acc_g[j] += g;
                acc_gx[j] += g * xh;
            }
        }
        for (; i < C; i++) {
            float xh = (x[i] - m) * s;
            float g = weight ? d[i] * weight[i] : d[i];
            sg += g;
            sgx += g * xh;
        }
        for (int j = 0; j < 8; j++) {
            sg += acc_g[j];
            sgx += acc_gx[j];
        }
        float *dx = dinp + (size_t)n * C;
        float mg = sg / C, mgx = sgx / C;
        for (int k = 0; k < C; k++) {
            float xh = (x[k] - m) * s;
            float g = weight ? d[k] * weight[k] : d[k];
            dx[k] += s * (g - mg - xh * mgx);
        }
    }
}

/* The same formula in double, one quantity at a time. */
void layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const float *mean,
                            const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float *d = dout + (size_t)n * C;
        double mg = 0, mgx = 0;
        for (int i = 0; i < C; i++) {
            double xh = (x[i] - (double)mean[n]) * rstd[n];
            double g = (double)d[i] * (weight ? weight[i] : 1.0);
            mg += g / C;
            mgx += g * xh / C;
            if (dweight)
                dweight[i] += (float)(d[i] * xh);
            if (dbias)
                dbias[i] += d[i];
        }
        for (int i = 0; dinp && i < C; i++) {
            double xh = (x[i] - (double)mean[n]) * rstd[n];
            double g = (double)d[i] * (weight ? weight[i] : 1.0);
            dinp[(size_t)n * C + i] += (float)(rstd[n] * (g - mg - xh * mgx));
        }
    }
}
