/* Fully connected matmul over rows, out = inp @ weight^T + bias: the ViT's qkv, projection, MLP
 * and head. The fast path is one ops_sgemm (threaded, gemm.c) per product; the _ref twins are
 * the plain loops. */
#include "ops.h"
#include "parallel.h"

#include <string.h>

/* out (N, OC), inp (N, C), weight (OC, C), bias (OC) or NULL. */
void matmul_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                    const float *restrict bias, int N, int C, int OC)
{
    if (N <= 0 || OC <= 0)
        return;
    if (C <= 0) {
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++)
                out[(size_t)n * OC + o] = bias ? bias[o] : 0.0f;
        return;
    }
    /* Seeding out with the bias and letting sgemm add (beta = 1) saves a second pass. */
    float beta = 0.0f;
    if (bias) {
        OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)N * OC)))
        for (int n = 0; n < N; n++)
            memcpy(out + (size_t)n * OC, bias, sizeof(float) * OC);
        beta = 1.0f;
    }
    ops_sgemm(0, 1, N, OC, C, 1.0f, inp, C, weight, C, beta, out, OC);
}

/* out = res + bias + inp @ weight^T, res (N, OC). out is preloaded with res + bias and sgemm adds
 * (beta = 1): one pass instead of the bias copy plus a separate residual add. out may be res. */
void matmul_forward_residual(float *out, const float *inp, const float *weight, const float *bias,
                             const float *res, int N, int C, int OC)
{
    if (N <= 0 || OC <= 0)
        return;
    OPS_OMP(parallel for schedule(static) num_threads(ops_threads_for((size_t)N * OC)))
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * OC;
        const float *r = res + (size_t)n * OC;
        for (int k = 0; k < OC; k++)
            o[k] = r[k] + (bias ? bias[k] : 0.0f);
    }
    if (C > 0)
        ops_sgemm(0, 1, N, OC, C, 1.0f, inp, C, weight, C, 1.0f, out, OC);
}

/* (N, OC) = (N, C) (OC, C)^T: one dot product per output, accumulated in double. */
void matmul_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int N,
                        int C, int OC)
{
    for (int n = 0; n < N; n++) {
        for (int o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int c = 0; c < C; c++)
                s += (double)inp[(size_t)n * C + c] * weight[(size_t)o * C + c];
            out[(size_t)n * OC + o] = (float)s;
        }
    }
}

/* dinp (N, C) = dinp_beta * dinp + dout @ weight; dweight (OC, C) += dout^T @ inp; dbias (OC) +=
 * column sums of dout (N, OC). NULL gradients are skipped. */
static void matmul_backward_beta(float *restrict dinp, float *restrict dweight,
                                 float *restrict dbias, const float *restrict dout,
                                 const float *restrict inp, const float *restrict weight, int N,
                                 int C, int OC, float dinp_beta)
{
    if (N <= 0 || OC <= 0) {
        if (dinp && dinp_beta == 0.0f && N > 0 && C > 0)
            memset(dinp, 0, sizeof(float) * N * C);
        return;
    }
    if (dinp && C > 0)
        ops_sgemm(0, 0, N, C, OC, 1.0f, dout, OC, weight, C, dinp_beta, dinp, C);
    if (dweight && C > 0)
        ops_sgemm(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
    if (dbias) {
        /* Each thread owns a block of columns and sums all rows in order (the serial order, so
         * the same bits at any thread count), row by row so the inner loop is contiguous. */
        int nt = ops_threads_for((size_t)N * OC);
        nt = OC < 32 * nt ? 1 : nt;
        OPS_OMP(parallel num_threads(nt))
        {
            size_t lo, hi;
            ops_split((size_t)OC, ops_thread_id(), nt, 16, &lo, &hi);
            for (int n = 0; n < N; n++) {
                const float *d = dout + (size_t)n * OC;
                for (size_t o = lo; o < hi; o++)
                    dbias[o] += d[o];
            }
        }
    }
}

void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC)
{
    matmul_backward_beta(dinp, dweight, dbias, dout, inp, weight, N, C, OC, 1.0f);
}

/* beta = 0: sgemm then never reads dinp, so no zeroing pass is needed before it. */
void matmul_backward_set(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int N, int C, int OC)
{
    matmul_backward_beta(dinp, dweight, dbias, dout, inp, weight, N, C, OC, 0.0f);
}

void matmul_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int N, int C, int OC)
{
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < C && dinp; c++) {
            double s = 0;
            for (int o = 0; o < OC; o++)
                s += (double)dout[(size_t)n * OC + o] * weight[(size_t)o * C + c];
            dinp[(size_t)n * C + c] += (float)s;
        }
    }
    for (int o = 0; o < OC; o++) {
        for (int c = 0; c < C && dweight; c++) {
            double s = 0;
            for (int n = 0; n < N; n++)
                s += (double)dout[(size_t)n * OC + o] * inp[(size_t)n * C + c];
            dweight[(size_t)o * C + c] += (float)s;
        }
        if (dbias) {
            double s = 0;
            for (int n = 0; n < N; n++)
                s += dout[(size_t)n * OC + o];
            dbias[o] += (float)s;
        }
    }
}
