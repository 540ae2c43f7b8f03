/* Row-wise softmax and log-softmax over (N, C), max-subtracted so large logits cannot overflow.
 * scale multiplies the input first (a temperature 1/T for distillation losses), fused into the
 * same pass instead of a separate scaled copy. */
#include "ops.h"
#include "parallel.h"

#include <math.h>

/* One row: o (C) = softmax(scale * x); o may alias x. */
static inline void softmax_row(float *o, const float *x, float scale, int C)
{
    float m = -INFINITY;
    for (int i = 0; i < C; i++) {
        float v = scale * x[i];
        m = v > m ? v : m;
    }
    float sum = 0;
    for (int i = 0; i < C; i++) {
        float e = ops_expf(scale * x[i] - m);
        o[i] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < C; i++)
        o[i] *= inv;
}

/* out (N, C) = softmax(scale * inp) per row. out may alias inp. */
void softmax_forward(float *out, const float *inp, float scale, int N, int C)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)N * C)))
    for (int n = 0; n < N; n++)
        softmax_row(out + (size_t)n * C, inp + (size_t)n * C, scale, C);
}

/* The same rows on the calling thread only (attention calls it from its own workers). */
void softmax_forward_serial(float *out, const float *inp, float scale, int N, int C)
{
    for (int n = 0; n < N; n++)
        softmax_row(out + (size_t)n * C, inp + (size_t)n * C, scale, C);
}

/* dinp (N, C) += scale * out * (dout - sum_j dout_j out_j), with out the forward's result. */
void softmax_backward(float *restrict dinp, const float *restrict dout, const float *restrict out,
                      float scale, int N, int C)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)N * C)))
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C;
        const float *p = out + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float dot = 0;
        for (int i = 0; i < C; i++)
            dot += d[i] * p[i];
        for (int i = 0; i < C; i++)
            dx[i] += scale * p[i] * (d[i] - dot);
    }
}

/* out (N, C) = scale * inp - logsumexp(scale * inp) per row; out may alias inp. */
void log_softmax_forward(float *out, const float *inp, float scale, int N, int C)
{
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)N * C)))
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        float m = -INFINITY;
        for (int i = 0; i < C; i++) {
            float v = scale * x[i];
            m = v > m ? v : m;
        }
        float sum = 0;
        for (int i = 0; i < C; i++)
            sum += ops_expf(scale * x[i] - m);
        float lse = m + logf(sum);
        for (int i = 0; i < C; i++)
            o[i] = scale * x[i] - lse;
    }
}
