/* Row-wise softmax and log-softmax over (N, C), max-subtracted so large logits cannot overflow.
 * scale multiplies the input first (a temperature 1/T for distillation losses), fused into the
 * same pass instead of a separate scaled copy. */
#include "ops.h"
#include "parallel.h"

#include <math.h>

/* One row: o (C) = softmax(scale * x); o may alias x. The max and the sum run in 16 lanes that
 * gcc vectorizes (one float accumulator is a serial chain it may not reorder): attention calls
 * this on every (T, T) score block. */
static inline void softmax_row(float *o, const float *x, float scale, int C)
{
    float mx[16], acc[16];
    int i = 0;
    for (int j = 0; j < 16; j++)
        mx[j] = -INFINITY, acc[j] = 0.0f;
    for (; i + 16 <= C; i += 16)
        for (int j = 0; j < 16; j++) {
            float v = scale * x[i + j];
            mx[j] = v > mx[j] ? v : mx[j];
        }
    float m = -INFINITY;
    for (; i < C; i++) {
        float v = scale * x[i];
        m = v > m ? v : m;
    }
    for (int j = 0; j < 16; j++)
        m = mx[j] > m ? mx[j] : m;
    for (i = 0; i + 16 <= C; i += 16)
        for (int j = 0; j < 16; j++) {
            float e = ops_expf(scale * x[i + j] - m);
            o[i + j] = e;
            acc[j] += e;
        }
    float sum = 0;
    for (; i < C; i++) {
        float e = ops_expf(scale * x[i] - m);
        o[i] = e;
        sum += e;
    }
    for (int j = 0; j < 16; j++)
        sum += acc[j];
    float inv = 1.0f / sum;
    for (i = 0; i < C; i++)
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
