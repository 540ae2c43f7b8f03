/* Batch normalization over the rows of (N, C) (N = B*H*W for NHWC), as torch.nn.BatchNorm:
 * the biased batch variance normalizes, the unbiased one enters running_var, and
 * running = (1 - momentum) * running + momentum * batch. Per-channel sums over N (up to ~10^5
 * rows) are kept in double, in blocks of channels on the stack (one a thread, up to BN_MAX_CB:
 * ops_channel_block), so no scratch is needed. Blocks are independent (a channel's sums run over
 * its rows in order, whatever the block), so threads split them: the same bits at any thread
 * count and block size. */
#include "ops.h"
#include "parallel.h"

#include <math.h>

#define BN_MAX_CB 512 /* channels per block at most: 14 KiB of stack */

/* Batch mean and biased variance of channels [c0, c0 + cb), two passes for accuracy. */
static void bn_stats(double *restrict m, double *restrict v, const float *restrict inp, int N,
                     int C, int c0, int cb)
{
    for (int c = 0; c < cb; c++)
        m[c] = v[c] = 0;
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C + c0;
        for (int c = 0; c < cb; c++)
            m[c] += x[c];
    }
    for (int c = 0; c < cb; c++)
        m[c] /= N;
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C + c0;
        for (int c = 0; c < cb; c++)
            v[c] += (x[c] - m[c]) * (x[c] - m[c]);
    }
    for (int c = 0; c < cb; c++)
        v[c] /= N;
}

/* out (N, C); mean, rstd (C) always written (batch statistics in training, running ones in
 * eval); running_mean/var (C) updated in training unless NULL; weight/bias (C) or NULL. */
void batchnorm_forward(float *restrict out, float *restrict mean, float *restrict rstd,
                       float *restrict running_mean, float *restrict running_var,
                       const float *restrict inp, const float *restrict weight,
                       const float *restrict bias, int N, int C, float momentum, int training)
{
    int block = ops_channel_block(C, (size_t)N * C, BN_MAX_CB);
    OPS_OMP(parallel for schedule(static)
                num_threads(ops_threads_for_parts((size_t)N * C, (C + block - 1) / block)))
    for (int c0 = 0; c0 < C; c0 += block) {
        int cb = C - c0 < block ? C - c0 : block;
        float *m = mean + c0, *s = rstd + c0;
        if (training) {
            double bm[BN_MAX_CB], bv[BN_MAX_CB];
            bn_stats(bm, bv, inp, N, C, c0, cb);
            for (int c = 0; c < cb; c++) {
                m[c] = (float)bm[c];
                s[c] = (float)(1.0 / sqrt(bv[c] + BATCHNORM_EPS));
                if (!running_mean || !running_var)
                    continue;
                /* torch stores the unbiased variance; with one row there is none. */
                double unbiased = N > 1 ? bv[c] * N / (N - 1) : bv[c];
                running_mean[c0 + c] = (1 - momentum) * running_mean[c0 + c] + momentum * bm[c];
                running_var[c0 + c] = (1 - momentum) * running_var[c0 + c] + momentum * unbiased;
            }
        } else {
            for (int c = 0; c < cb; c++) {
                m[c] = running_mean[c0 + c];
                s[c] = 1.0f / sqrtf(running_var[c0 + c] + BATCHNORM_EPS);
            }
        }
        /* Fold the affine into one scale and shift per channel: out = x * a + t. */
        float a[BN_MAX_CB], t[BN_MAX_CB];
        for (int c = 0; c < cb; c++) {
            a[c] = s[c] * (weight ? weight[c0 + c] : 1.0f);
            t[c] = (bias ? bias[c0 + c] : 0.0f) - m[c] * a[c];
        }
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C + c0;
            float *o = out + (size_t)n * C + c0;
            for (int c = 0; c < cb; c++)
                o[c] = x[c] * a[c] + t[c];
        }
    }
}

/* Training-mode backward, xhat = (x - mean) * rstd, per channel over the N rows:
 * dbias += sum dout; dweight += sum dout * xhat;
 * dinp += weight * rstd * (dout - sum(dout) / N - xhat * sum(dout * xhat) / N). */
void batchnorm_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                        const float *restrict dout, const float *restrict inp,
                        const float *restrict weight, const float *restrict mean,
                        const float *restrict rstd, int N, int C)
{
    int block = ops_channel_block(C, (size_t)N * C, BN_MAX_CB);
    OPS_OMP(parallel for schedule(static)
                num_threads(ops_threads_for_parts((size_t)N * C, (C + block - 1) / block)))
    for (int c0 = 0; c0 < C; c0 += block) {
        int cb = C - c0 < block ? C - c0 : block;
        const float *m = mean + c0, *s = rstd + c0;
        double sd[BN_MAX_CB], sdx[BN_MAX_CB];
        for (int c = 0; c < cb; c++)
            sd[c] = sdx[c] = 0;
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C + c0;
            const float *d = dout + (size_t)n * C + c0;
            for (int c = 0; c < cb; c++) {
                sd[c] += d[c];
                sdx[c] += d[c] * ((x[c] - m[c]) * s[c]);
            }
        }
        for (int c = 0; c < cb; c++) {
            if (dbias)
                dbias[c0 + c] += (float)sd[c];
            if (dweight)
                dweight[c0 + c] += (float)sdx[c];
        }
        if (!dinp)
            continue;
        float k[BN_MAX_CB], mdo[BN_MAX_CB], mdx[BN_MAX_CB];
        for (int c = 0; c < cb; c++) {
            k[c] = s[c] * (weight ? weight[c0 + c] : 1.0f);
            mdo[c] = (float)(sd[c] / N);
            mdx[c] = (float)(sdx[c] / N);
        }
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C + c0;
            const float *d = dout + (size_t)n * C + c0;
            float *dx = dinp + (size_t)n * C + c0;
            for (int c = 0; c < cb; c++)
                dx[c] += k[c] * (d[c] - mdo[c] - (x[c] - m[c]) * s[c] * mdx[c]);
        }
    }
}
