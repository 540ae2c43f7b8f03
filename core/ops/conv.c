/* Dense 2-D convolution over NHWC images (patch embeddings, TinyViT's conv stem, CNN teachers).
 * im2col turns it into one sgemm: each output pixel becomes a row of K*K*IC input values in the
 * weight's (kh, kw, ic) order, so weight (OC, KH, KW, IC) is used as an (OC, K*K*IC) matrix.
 * A 1x1, stride 1, unpadded conv needs no im2col: the image already is that matrix. */
#include "ops.h"
#include "conv_taps.h"

#include <string.h>

static inline int conv_is_direct(int K, int stride, int pad)
{
    return K == 1 && stride == 1 && pad == 0;
}

size_t conv_col_floats(int B, int H, int W, int IC, int K, int stride, int pad)
{
    if (conv_is_direct(K, stride, pad))
        return 0;
    return (size_t)B * conv_out(H, K, stride, pad) * conv_out(W, K, stride, pad) * K * K * IC;
}

/* col (B*OH*OW, K*K*IC) from inp (B, H, W, IC); padding reads as zero. */
static void conv_im2col(float *restrict col, const float *restrict inp, int B, int H, int W, int IC,
                        int K, int stride, int pad)
{
    int OH = conv_out(H, K, stride, pad), OW = conv_out(W, K, stride, pad);
    size_t kic = (size_t)K * IC;
    for (int b = 0; b < B; b++) {
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                float *row = col + (((size_t)b * OH + oh) * OW + ow) * K * kic;
                int kw0, kw1;
                conv_run(ow, W, K, stride, pad, &kw0, &kw1);
                for (int kh = 0; kh < K; kh++) {
                    float *dst = row + kh * kic;
                    int ih = oh * stride - pad + kh;
                    if (ih < 0 || ih >= H || kw0 == kw1) {
                        memset(dst, 0, sizeof(float) * kic);
                        continue;
                    }
                    int iw = ow * stride - pad + kw0;
                    memset(dst, 0, sizeof(float) * kw0 * IC);
                    memcpy(dst + (size_t)kw0 * IC, inp + (((size_t)b * H + ih) * W + iw) * IC,
                           sizeof(float) * (kw1 - kw0) * IC);
                    memset(dst + (size_t)kw1 * IC, 0, sizeof(float) * (K - kw1) * IC);
                }
            }
        }
    }
}

/* dinp (B, H, W, IC) += the col gradient scattered back; padding positions are dropped. */
static void conv_col2im_add(float *restrict dinp, const float *restrict col, int B, int H, int W,
                            int IC, int K, int stride, int pad)
{
    int OH = conv_out(H, K, stride, pad), OW = conv_out(W, K, stride, pad);
    size_t kic = (size_t)K * IC;
    for (int b = 0; b < B; b++) {
        for (int oh = 0; oh < OH; oh++) {
            for (int ow = 0; ow < OW; ow++) {
                const float *row = col + (((size_t)b * OH + oh) * OW + ow) * K * kic;
                int kw0, kw1;
                conv_run(ow, W, K, stride, pad, &kw0, &kw1);
                for (int kh = 0; kh < K; kh++) {
                    int ih = oh * stride - pad + kh;
                    if (ih < 0 || ih >= H)
                        continue;
                    const float *src = row + kh * kic + (size_t)kw0 * IC;
                    float *dst = dinp + (((size_t)b * H + ih) * W + ow * stride - pad + kw0) * IC;
                    size_t len = (size_t)(kw1 - kw0) * IC;
                    for (size_t i = 0; i < len; i++)
                        dst[i] += src[i];
                }
            }
        }
    }
}

/* out (B, OH, OW, OC) = im2col(inp) @ weight^T + bias. col: conv_col_floats() floats (may be
 * NULL when that is 0); it holds the im2col matrix on return. */
void conv_forward(float *out, float *col, const float *inp, const float *weight, const float *bias,
                  int B, int H, int W, int IC, int OC, int K, int stride, int pad)
{
    int M = B * conv_out(H, K, stride, pad) * conv_out(W, K, stride, pad);
    const float *a = inp;
    if (!conv_is_direct(K, stride, pad)) {
        conv_im2col(col, inp, B, H, W, IC, K, stride, pad);
        a = col;
    }
    matmul_forward(out, a, weight, bias, M, K * K * IC, OC);
}

/* out[b, oh, ow, o] = bias[o] + sum over (kh, kw, ic) in the image of
 * inp[b, oh*stride - pad + kh, ow*stride - pad + kw, ic] * weight[o, kh, kw, ic]. */
void conv_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int B,
                      int H, int W, int IC, int OC, int K, int stride, int pad)
{
    int OH = conv_out(H, K, stride, pad), OW = conv_out(W, K, stride, pad);
    for (int b = 0; b < B; b++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int o = 0; o < OC; o++) {
                    double s = bias ? bias[o] : 0.0;
                    struct conv_taps t = conv_taps_at(oh, ow, H, W, K, stride, pad);
                    for (int kh = t.kh0; kh < t.kh1; kh++) {
                        int ih = oh * stride - pad + kh;
                        for (int kw = t.kw0; kw < t.kw1; kw++) {
                            int iw = ow * stride - pad + kw;
                            const float *x = inp + (((size_t)b * H + ih) * W + iw) * IC;
                            const float *w = weight + (((size_t)o * K + kh) * K + kw) * IC;
                            for (int ic = 0; ic < IC; ic++)
                                s += (double)x[ic] * w[ic];
                        }
                    }
                    out[(((size_t)b * OH + oh) * OW + ow) * OC + o] = (float)s;
                }
}

/* dinp (B, H, W, IC), dweight (OC, K, K, IC), dbias (OC) accumulate; any may be NULL.
 * col is scratch as in conv_forward: the im2col matrix is rebuilt here (one copy, cheap next to
 * the sgemm), so the caller need not keep the forward's col alive; then col is overwritten with
 * the col gradient dout @ weight before it is scattered back into dinp. */
void conv_backward(float *dinp, float *dweight, float *dbias, float *col, const float *dout,
                   const float *inp, const float *weight, int B, int H, int W, int IC, int OC,
                   int K, int stride, int pad)
{
    int M = B * conv_out(H, K, stride, pad) * conv_out(W, K, stride, pad);
    int KKIC = K * K * IC;
    if (M <= 0 || OC <= 0)
        return;
    if (conv_is_direct(K, stride, pad)) {
        matmul_backward(dinp, dweight, dbias, dout, inp, weight, M, KKIC, OC);
        return;
    }
    if (dweight || dbias) {
        if (dweight)
            conv_im2col(col, inp, B, H, W, IC, K, stride, pad);
        matmul_backward(NULL, dweight, dbias, dout, col, weight, M, KKIC, OC);
    }
    if (dinp) {
        ops_sgemm(0, 0, M, KKIC, OC, 1.0f, dout, OC, weight, KKIC, 0.0f, col, KKIC);
        conv_col2im_add(dinp, col, B, H, W, IC, K, stride, pad);
    }
}

/* The forward's sum differentiated term by term, in the same loop order. */
void conv_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                       const float *inp, const float *weight, int B, int H, int W, int IC, int OC,
                       int K, int stride, int pad)
{
    int OH = conv_out(H, K, stride, pad), OW = conv_out(W, K, stride, pad);
    for (int b = 0; b < B; b++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int o = 0; o < OC; o++) {
                    float d = dout[(((size_t)b * OH + oh) * OW + ow) * OC + o];
                    if (dbias)
                        dbias[o] += d;
                    struct conv_taps t = conv_taps_at(oh, ow, H, W, K, stride, pad);
                    for (int kh = t.kh0; kh < t.kh1; kh++) {
                        int ih = oh * stride - pad + kh;
                        for (int kw = t.kw0; kw < t.kw1; kw++) {
                            int iw = ow * stride - pad + kw;
                            size_t xi = (((size_t)b * H + ih) * W + iw) * IC;
                            size_t wi = (((size_t)o * K + kh) * K + kw) * IC;
                            for (int ic = 0; ic < IC; ic++) {
                                if (dinp)
                                    dinp[xi + ic] += d * weight[wi + ic];
                                if (dweight)
                                    dweight[wi + ic] += d * inp[xi + ic];
                            }
                        }
                    }
                }
}
