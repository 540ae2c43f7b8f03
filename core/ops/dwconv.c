/* Depthwise 2-D convolution over NHWC images (TinyViT's local conv, ConvNeXt-style teachers).
 * Channels are the contiguous axis, so kernels run over blocks of channels (one a thread, up to
 * DW_MAX_CB: ops_channel_block) with the block's weights transposed to (K*K, block) on the stack:
 * every inner loop is then a unit-stride multiply-add that vectorizes, and no scratch is needed
 * from the caller. Blocks are independent (each writes its own channels, and every sum keeps its
 * order of pixels and taps), so threads split them: the same bits at any thread count. */
#include "ops.h"
#include "conv_taps.h"
#include "parallel.h"
#include "base/err.h"

#include <string.h>

#define DW_MAX_CB 128 /* channels per block at most: 81 KiB of stack in the backward */
#define DW_MAXKK 81   /* K up to 9 */

/* wt (K*K, cb) = weight[c0 .. c0+cb) (C, K*K) transposed. */
static void dw_load(float (*wt)[DW_MAX_CB], const float *weight, int c0, int cb, int KK)
{
    for (int c = 0; c < cb; c++)
        for (int k = 0; k < KK; k++)
            wt[k][c] = weight[(size_t)(c0 + c) * KK + k];
}

/* out (B, OH, OW, C), inp (B, H, W, C), weight (C, K, K), bias (C) or NULL. */
void dwconv_forward(float *restrict out, const float *restrict inp, const float *restrict weight,
                    const float *restrict bias, int B, int H, int W, int C, int K, int stride,
                    int pad)
{
    int OH = conv_out(H, K, stride, pad), OW = conv_out(W, K, stride, pad), KK = K * K;
    KD_ASSERT(KK <= DW_MAXKK);
    size_t n = (size_t)B * H * W * C;
    int block = ops_channel_block(C, n, DW_MAX_CB);
    OPS_OMP(parallel for schedule(static)
                num_threads(ops_threads_for_parts(n, (C + block - 1) / block)))
    for (int c0 = 0; c0 < C; c0 += block) {
        int cb = C - c0 < block ? C - c0 : block;
        float wt[DW_MAXKK][DW_MAX_CB];
        dw_load(wt, weight, c0, cb, KK);
        for (int b = 0; b < B; b++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    float acc[DW_MAX_CB];
                    for (int c = 0; c < cb; c++)
                        acc[c] = bias ? bias[c0 + c] : 0.0f;
                    struct conv_taps t = conv_taps_at(oh, ow, H, W, K, stride, pad);
                    for (int kh = t.kh0; kh < t.kh1; kh++) {
                        int ih = oh * stride - pad + kh;
                        for (int kw = t.kw0; kw < t.kw1; kw++) {
                            int iw = ow * stride - pad + kw;
                            const float *x = inp + (((size_t)b * H + ih) * W + iw) * C + c0;
                            const float *w = wt[kh * K + kw];
                            for (int c = 0; c < cb; c++)
                                acc[c] += x[c] * w[c];
                        }
                    }
                    memcpy(out + (((size_t)b * OH + oh) * OW + ow) * C + c0, acc,
                           sizeof(float) * cb);
                }
    }
}

/* out[b, oh, ow, c] = bias[c] + sum over (kh, kw) in the image of
 * inp[b, oh*stride - pad + kh, ow*stride - pad + kw, c] * weight[c, kh, kw]. */
void dwconv_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int B,
                        int H, int W, int C, int K, int stride, int pad)
{
    int OH = conv_out(H, K, stride, pad), OW = conv_out(W, K, stride, pad);
    for (int b = 0; b < B; b++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int c = 0; c < C; c++) {
                    double s = bias ? bias[c] : 0.0;
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++) {
                            int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                            if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                s += (double)inp[(((size_t)b * H + ih) * W + iw) * C + c] *
                                     weight[((size_t)c * K + kh) * K + kw];
                        }
                    out[(((size_t)b * OH + oh) * OW + ow) * C + c] = (float)s;
                }
}

/* dinp (B, H, W, C), dweight (C, K, K), dbias (C) accumulate; any may be NULL. The block's
 * weight gradient is summed on the stack in (K*K, block) order and added once at the end. */
void dwconv_backward(float *restrict dinp, float *restrict dweight, float *restrict dbias,
                     const float *restrict dout, const float *restrict inp,
                     const float *restrict weight, int B, int H, int W, int C, int K, int stride,
                     int pad)
{
    int OH = conv_out(H, K, stride, pad), OW = conv_out(W, K, stride, pad), KK = K * K;
    KD_ASSERT(KK <= DW_MAXKK);
    size_t n = (size_t)B * H * W * C;
    int block = ops_channel_block(C, n, DW_MAX_CB);
    OPS_OMP(parallel for schedule(static)
                num_threads(ops_threads_for_parts(n, (C + block - 1) / block)))
    for (int c0 = 0; c0 < C; c0 += block) {
        int cb = C - c0 < block ? C - c0 : block;
        float wt[DW_MAXKK][DW_MAX_CB], dwt[DW_MAXKK][DW_MAX_CB];
        dw_load(wt, weight, c0, cb, KK);
        for (int k = 0; k < KK; k++)
            memset(dwt[k], 0, sizeof(float) * cb);
        for (int b = 0; b < B; b++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    const float *d = dout + (((size_t)b * OH + oh) * OW + ow) * C + c0;
                    if (dbias)
                        for (int c = 0; c < cb; c++)
                            dbias[c0 + c] += d[c];
                    struct conv_taps t = conv_taps_at(oh, ow, H, W, K, stride, pad);
                    for (int kh = t.kh0; kh < t.kh1; kh++) {
                        int ih = oh * stride - pad + kh;
                        for (int kw = t.kw0; kw < t.kw1; kw++) {
                            int iw = ow * stride - pad + kw;
                            size_t xi = (((size_t)b * H + ih) * W + iw) * C + c0;
                            int k = kh * K + kw;
                            if (dinp)
                                for (int c = 0; c < cb; c++)
                                    dinp[xi + c] += d[c] * wt[k][c];
                            for (int c = 0; c < cb; c++)
                                dwt[k][c] += d[c] * inp[xi + c];
                        }
                    }
                }
        for (int c = 0; c < cb && dweight; c++)
            for (int k = 0; k < KK; k++)
                dweight[(size_t)(c0 + c) * KK + k] += dwt[k][c];
    }
}
