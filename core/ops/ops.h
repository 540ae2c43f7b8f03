/* Math kernels, one family per file. Conventions (llm.c):
 * - arguments: outputs, then buffers saved for backward, then const inputs, then shape ints;
 * - tensors are flat row-major float arrays; token tensors are (B, T, C), images are NHWC;
 * - *_backward ACCUMULATES (+=) into every gradient it is given; a NULL gradient is skipped;
 * - every fast kernel has a naive *_ref twin that tests compare against. */
#ifndef KD_OPS_H
#define KD_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

/* a * b + c, fused where the CPU has FMA: ISO C mode (-std=c11) forbids gcc to contract a * b + c
 * by itself, and the unfused polynomials below ran at half speed (GELU cost as much as a GEMM's
 * packing). Without FMA it is the plain expression, not libm's slow software fmaf. */
#ifdef __FMA__
#define OPS_FMA(a, b, c) fmaf(a, b, c)
#else
#define OPS_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* exp(x) for float, within 2 ulp of expf over [-87, 88] (inputs outside are clamped there), in
 * straight-line code that gcc vectorizes: libm's expf is a call per element, which made GELU and
 * softmax as slow as the matmuls around them. Cephes' range reduction x = n ln2 + r and degree-6
 * polynomial; 2^n is built in the exponent bits. NaN gives NaN, so NaN guards still see it. */
/* exp(x) = p * 2^n for x in [-87, 88]: returns p, with n in *n. Cephes' range reduction and
 * degree-6 polynomial, shared by ops_expf and GELU's one-sided exp. */
static inline __attribute__((always_inline)) float ops_exp_reduce(float x, float *n_out)
{
    /* Round to nearest by adding and removing 1.5 * 2^23 (floorf would not vectorize). */
    float n = OPS_FMA(x, 1.44269504088896341f, 12582912.0f) - 12582912.0f;
    float r = OPS_FMA(n, 2.12194440e-4f, OPS_FMA(n, -0.693359375f, x));
    float p = 1.9875691500e-4f;
    p = OPS_FMA(p, r, 1.3981999507e-3f);
    p = OPS_FMA(p, r, 8.3334519073e-3f);
    p = OPS_FMA(p, r, 4.1665795894e-2f);
    p = OPS_FMA(p, r, 1.6666665459e-1f);
    p = OPS_FMA(p, r, 5.0000001201e-1f);
    *n_out = n;
    return OPS_FMA(p, r * r, r + 1.0f);
}

/* 2^n for an integral n in [-126, 127], built in the exponent bits. */
static inline __attribute__((always_inline)) float ops_exp2_int(float n)
{
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof(scale));
    return scale;
}

static inline float ops_expf(float x)
{
    /* Two one-sided clamps compile to vmaxps/vminps, which keep a NaN x (as they are ordered). */
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n, p = ops_exp_reduce(x, &n);
    /* A NaN input stays NaN through p; this keeps the int conversion defined for it. */
    return p * ops_exp2_int(n >= -126.0f ? n : -126.0f);
}

/* ---- gemm.c: row-major C (M, N) = alpha op(A) op(B) + beta C, as cblas_sgemm(CblasRowMajor,
 * ta ? CblasTrans : CblasNoTrans, ...), with the output split over the ops' threads (each slice
 * single-threaded OpenBLAS); the same bits at any thread count. Every sgemm of the ops goes
 * through it. */
void ops_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc);
void ops_sgemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc);
/* ops_sgemm on the calling thread alone (inside a parallel region: attention's heads). Both
 * take ops_sgemm_ref's path when KD_GEMM=ref is set (the same bytes on every CPU). */
void ops_sgemm_serial(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc);
/* 0 when KD_GEMM is ref (every product by ops_sgemm_ref) or blas (every product by OpenBLAS,
 * ops_sgemm_small's too), else 1. */
int ops_gemm_small_on(void);
/* ---- gemm_small.c: ops_sgemm_serial for products whose M, N and K are at most 64 (attention's
 * pairs), without OpenBLAS's packing; another order of rounding than OpenBLAS's, the same at any
 * tiling. Other shapes, KD_GEMM=ref or blas and CPUs without AVX2 go to ops_sgemm_serial. */
void ops_sgemm_small(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);

/* ---- matmul.c: out (N, OC) = inp (N, C) @ weight^T + bias; weight (OC, C), bias (OC) or NULL */
void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int N,
                    int C, int OC);
void matmul_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int N,
                        int C, int OC);
/* out (N, OC) = res (N, OC) + matmul_forward(inp, weight, bias): a residual branch's last layer.
 * out may alias res. Twin: matmul_forward_ref, then add res. */
void matmul_forward_residual(float *out, const float *inp, const float *weight, const float *bias,
                             const float *res, int N, int C, int OC);
/* dinp (N, C), dweight (OC, C), dbias (OC); any may be NULL. */
void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC);
void matmul_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int N, int C, int OC);
/* The same, but dinp is overwritten (=), not accumulated: a layer's input gradient then needs no
 * zeroing pass. dweight, dbias accumulate as above. Twin: zero dinp, then matmul_backward_ref. */
void matmul_backward_set(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int N, int C, int OC);

/* ---- layernorm.c: per row of (N, C); mean, rstd (N) saved (may be NULL when no backward
 * follows); eps 1e-6 (timm ViT) */
#define LAYERNORM_EPS 1e-6f
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                       const float *bias, int N, int C);
void layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp,
                           const float *weight, const float *bias, int N, int C);
/* weight/bias may be NULL (no affine: TinyMIM's feature target); then dweight/dbias are too. */
void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const float *mean, const float *rstd,
                        int N, int C);
void layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const float *mean,
                            const float *rstd, int N, int C);

/* ---- gelu.c: exact erf GELU, as torch.nn.GELU(), so exported weights give the same logits */
void gelu_forward(float *out, const float *inp, size_t n);
void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);
/* dinp (n) = dout * GELU'(inp), overwritten; dinp may alias dout (in place, no zeroing). */
void gelu_backward_set(float *dinp, const float *dout, const float *inp, size_t n);

/* ---- relu.c: out (n) = max(inp, 0) (out may alias inp); backward accumulates
 * dinp += dout where inp > 0 (the derivative at 0 is taken as 0, as torch does); for the SSL
 * projection heads (models/heads.c) */
void relu_forward(float *out, const float *inp, size_t n);
void relu_backward(float *dinp, const float *dout, const float *inp, size_t n);

/* ---- softmax.c: row-wise over (N, C), max-subtracted; scale multiplies inp first; the forwards
 * allow out == inp (in place) */
void softmax_forward(float *out, const float *inp, float scale, int N, int C);
/* The same, on the calling thread only (for callers already running one thread per task). */
void softmax_forward_serial(float *out, const float *inp, float scale, int N, int C);
void softmax_backward(float *dinp, const float *dout, const float *out, float scale, int N, int C);
/* log-softmax, for losses: out (N, C) */
void log_softmax_forward(float *out, const float *inp, float scale, int N, int C);

/* ---- attention.c: multi-head self-attention core (no projections).
 * qkv (B, T, 3C) = [Q | K | V] along the last axis, head h using columns h*hd .. h*hd+hd-1 of
 * each; out (B, T, C); att (B, NH, T, T) the softmax probabilities, saved for backward and read
 * by relation distillation. bias (NH, T, T) is added to the scaled scores (TinyViT's attention
 * bias) or NULL. scale = hd^-0.5. */
void attention_forward(float *out, float *att, const float *qkv, const float *bias, int B, int T,
                       int C, int NH);
void attention_forward_ref(float *out, float *att, const float *qkv, const float *bias, int B,
                           int T, int C, int NH);
/* dqkv (B, T, 3C) or NULL; dbias (NH, T, T) or NULL; scratch: attention_scratch_floats(T)
 * floats (T*T), contents not kept. */
size_t attention_scratch_floats(int T);
void attention_backward(float *dqkv, float *dbias, float *scratch, const float *dout,
                        const float *qkv, const float *att, int B, int T, int C, int NH);
/* The same without dbias, dqkv overwritten (=) instead of accumulated: no zeroing pass. */
void attention_backward_set(float *dqkv, float *scratch, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH);
void attention_backward_ref(float *dqkv, float *dbias, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH);

/* ---- conv.c: 2-D convolution, NHWC, via im2col + sgemm.
 * inp (B, H, W, IC); weight (OC, KH, KW, IC); bias (OC) or NULL; out (B, OH, OW, OC) with
 * OH = (H + 2 pad - KH) / stride + 1. col: conv_col_floats(...) floats of scratch, which
 * conv_forward fills with the im2col matrix; conv_backward rebuilds what it needs in it, so col
 * need not survive from the forward. It is 0 (col may be NULL) for a 1x1, stride 1, pad 0 conv,
 * which needs no im2col. */
size_t conv_col_floats(int B, int H, int W, int IC, int K, int stride, int pad);
void conv_forward(float *out, float *col, const float *inp, const float *weight, const float *bias,
                  int B, int H, int W, int IC, int OC, int K, int stride, int pad);
void conv_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int B,
                      int H, int W, int IC, int OC, int K, int stride, int pad);
void conv_backward(float *dinp, float *dweight, float *dbias, float *col, const float *dout,
                   const float *inp, const float *weight, int B, int H, int W, int IC, int OC,
                   int K, int stride, int pad);
void conv_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout,
                       const float *inp, const float *weight, int B, int H, int W, int IC, int OC,
                       int K, int stride, int pad);

/* ---- dwconv.c: depthwise conv, NHWC; weight (C, K, K) as torch's (C, 1, K, K); bias (C)|NULL;
 * K <= 9; out (B, OH, OW, C) with OH as for conv */
void dwconv_forward(float *out, const float *inp, const float *weight, const float *bias, int B,
                    int H, int W, int C, int K, int stride, int pad);
void dwconv_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int B,
                        int H, int W, int C, int K, int stride, int pad);
void dwconv_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int B, int H, int W, int C, int K, int stride, int pad);

/* ---- batchnorm.c: over (N, C) rows (N = B*H*W for NHWC). training: batch statistics, saved
 * mean/rstd (C), running stats updated with momentum (torch convention, eps 1e-5; either may be
 * NULL to skip the update); eval: running statistics (mean/rstd are then filled from them).
 * weight/bias (C) or NULL. */
#define BATCHNORM_EPS 1e-5f
void batchnorm_forward(float *out, float *mean, float *rstd, float *running_mean,
                       float *running_var, const float *inp, const float *weight, const float *bias,
                       int N, int C, float momentum, int training);
/* Backward of the training-mode forward. */
void batchnorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const float *mean, const float *rstd,
                        int N, int C);

/* ---- pool.c: token mean (B, T, C) -> (B, C), and its backward */
void meanpool_forward(float *out, const float *inp, int B, int T, int C);
void meanpool_backward(float *dinp, const float *dout, int B, int T, int C);

/* ---- elementwise.c */
/* out = a + b over n (out may alias a or b). */
void add_forward(float *out, const float *a, const float *b, size_t n);
/* Stochastic depth: out (B, M) = x * keep[b] / (1 - p) per sample; keep (B) of 0/1 floats
 * already scaled: scale[b] in {0, 1/(1-p)}. Backward: dx += dout * scale[b]. */
void droppath_forward(float *out, const float *x, const float *scale, int B, size_t M);
void droppath_backward(float *dx, const float *dout, const float *scale, int B, size_t M);
/* A residual through stochastic depth: out (B, M) = res + scale[b] * branch (scale NULL: 1; out
 * may alias branch), and its branch gradient's first write: dx = dout * scale[b] (NULL: copy). */
void droppath_residual_forward(float *out, const float *res, const float *branch,
                               const float *scale, int B, size_t M);
void droppath_backward_set(float *dx, const float *dout, const float *scale, int B, size_t M);

#endif
