/* Row-wise softmax and log-softmax over (N, C), max-subtracted so large logits cannot overflow.
 * scale multiplies the input first (a temperature 1/T for distillation losses), fused into the
 * same pass instead of a separate scaled copy. */
#include "ops.h"
#include "parallel.h"
#include "simd.h"

#include <math.h>

/* One row: o (C) = softmax(scale * x); o may alias x. The max and the sum run in 16 lanes (one
 * float accumulator is a serial chain), then the lanes are folded in order: attention calls this
 * on every (T, T) score block. With AVX2 the 16 lanes are two vectors (simd.h): the same
 * operations in the same order, so the same bits. */
static inline void softmax_row(float *o, const float *x, float scale, int C)
{
    float mx[16], acc[16];
    int i = 0;
#if OPS_SIMD
    __m256 vscale = OPS_V(scale), mx0 = OPS_V(-INFINITY), mx1 = mx0;
    /* v > mx ? v : mx is max(v, mx): maxps returns its second operand on NaN, as that does. */
    for (; i + 16 <= C; i += 16) {
        mx0 = _mm256_max_ps(_mm256_mul_ps(vscale, _mm256_loadu_ps(x + i)), mx0);
        mx1 = _mm256_max_ps(_mm256_mul_ps(vscale, _mm256_loadu_ps(x + i + 8)), mx1);
    }
    _mm256_storeu_ps(mx, mx0);
    _mm256_storeu_ps(mx + 8, mx1);
#else
    for (int j = 0; j < 16; j++)
        mx[j] = -INFINITY;
    for (; i + 16 <= C; i += 16)
        for (int j = 0; j < 16; j++) {
            float v = scale * x[i + j];
            mx[j] = v > mx[j] ? v : mx[j];
        }
#endif
    float m = -INFINITY;
    for (; i < C; i++) {
        float v = scale * x[i];
        m = v > m ? v : m;
    }
    for (int j = 0; j < 16; j++)
        m = mx[j] > m ? mx[j] : m;
    i = 0;
#if OPS_SIMD
    __m256 vm = OPS_V(m), acc0 = _mm256_setzero_ps(), acc1 = acc0;
    for (; i + 16 <= C; i += 16) {
        __m256 e0 = ops_expf8(_mm256_sub_ps(_mm256_mul_ps(vscale, _mm256_loadu_ps(x + i)), vm));
        __m256 e1 = ops_expf8(_mm256_sub_ps(_mm256_mul_ps(vscale, _mm256_loadu_ps(x + i + 8)), vm));
        _mm256_storeu_ps(o + i, e0);
        _mm256_storeu_ps(o + i + 8, e1);
        acc0 = _mm256_add_ps(acc0, e0);
        acc1 = _mm256_add_ps(acc1, e1);
    }
    _mm256_storeu_ps(acc, acc0);
    _mm256_storeu_ps(acc + 8, acc1);
#else
    for (int j = 0; j < 16; j++)
        acc[j] = 0.0f;
    for (; i + 16 <= C; i += 16)
        for (int j = 0; j < 16; j++) {
            float e = ops_expf(scale * x[i + j] - m);
            o[i + j] = e;
            acc[j] += e;
        }
#endif
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
