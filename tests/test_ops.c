/* Every fast kernel in core/ops against its naive twin (or a double-precision formula) on odd
 * shapes, so blocking, tails, strides and padding are all exercised. Gradients start from random
 * values rather than zero, which also checks that backward accumulates. */
#include "base/rng.h"
#include "check.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fast kernels use float sums (sgemm, 8-lane partial sums) while the twins sum in double: over
 * the <= ~300 terms of O(1) here the float result is within a few 1e-7 relative of exact, so
 * 1e-5 absolute + 1e-4 relative leaves ~30x headroom and still catches any indexing bug, whose
 * error is O(1). */
#define ATOL 1e-5
#define RTOL 1e-4

static struct rng R;

static float *fcopy(const float *x, size_t n)
{
    float *p = check_zeros(n);
    memcpy(p, x, sizeof(float) * n);
    return p;
}

#define CLOSE(a, b, n, what)                                                                       \
    do {                                                                                           \
        double w_ = check_close(a, b, n, ATOL, RTOL);                                              \
        CHECK(w_ <= 1, "%s: worst error %.3g of tolerance", what, w_);                             \
    } while (0)

static void test_matmul(int N, int C, int OC, int with_bias)
{
    float *x = check_randn(&R, (size_t)N * C, 1), *w = check_randn(&R, (size_t)OC * C, 0.5f);
    float *b = with_bias ? check_randn(&R, OC, 1) : NULL;
    float *y = check_zeros((size_t)N * OC), *yr = check_zeros((size_t)N * OC);
    matmul_forward(y, x, w, b, N, C, OC);
    matmul_forward_ref(yr, x, w, b, N, C, OC);
    CLOSE(y, yr, (size_t)N * OC, "matmul forward");
    float *res = check_randn(&R, (size_t)N * OC, 1);
    matmul_forward_residual(y, x, w, b, res, N, C, OC);
    for (size_t i = 0; i < (size_t)N * OC; i++)
        yr[i] += res[i];
    CLOSE(y, yr, (size_t)N * OC, "matmul forward residual");
    matmul_forward_residual(res, x, w, b, res, N, C, OC); /* in place over res */
    CLOSE(res, yr, (size_t)N * OC, "matmul forward residual in place");
    free(res);

    float *dy = check_randn(&R, (size_t)N * OC, 1);
    float *dx = check_randn(&R, (size_t)N * C, 1), *dw = check_randn(&R, (size_t)OC * C, 1),
          *db = check_randn(&R, OC, 1);
    float *dxr = fcopy(dx, (size_t)N * C), *dwr = fcopy(dw, (size_t)OC * C), *dbr = fcopy(db, OC);
    matmul_backward(dx, dw, db, dy, x, w, N, C, OC);
    matmul_backward_ref(dxr, dwr, dbr, dy, x, w, N, C, OC);
    CLOSE(dx, dxr, (size_t)N * C, "matmul dinp");
    CLOSE(dw, dwr, (size_t)OC * C, "matmul dweight");
    CLOSE(db, dbr, OC, "matmul dbias");
    /* NULL gradients are skipped and the others still accumulate. */
    matmul_backward(NULL, dw, NULL, dy, x, w, N, C, OC);
    matmul_backward_ref(NULL, dwr, NULL, dy, x, w, N, C, OC);
    CLOSE(dw, dwr, (size_t)OC * C, "matmul dweight alone");
    CLOSE(db, dbr, OC, "matmul dbias untouched");
    /* _set overwrites dinp (here holding NaNs) and still accumulates dweight and dbias. */
    for (size_t i = 0; i < (size_t)N * C; i++)
        dx[i] = NAN, dxr[i] = 0.0f;
    matmul_backward_set(dx, dw, db, dy, x, w, N, C, OC);
    matmul_backward_ref(dxr, dwr, dbr, dy, x, w, N, C, OC);
    CLOSE(dx, dxr, (size_t)N * C, "matmul_backward_set dinp");
    CLOSE(dw, dwr, (size_t)OC * C, "matmul_backward_set dweight");
    CLOSE(db, dbr, OC, "matmul_backward_set dbias");
    free(x), free(w), free(b), free(y), free(yr), free(dy);
    free(dx), free(dw), free(db), free(dxr), free(dwr), free(dbr);
}

static void test_layernorm(int N, int C, int affine)
{
    size_t n = (size_t)N * C;
    float *x = check_randn(&R, n, 2), *w = affine ? check_randn(&R, C, 1) : NULL,
          *b = affine ? check_randn(&R, C, 1) : NULL;
    for (size_t i = 0; i < n; i++)
        x[i] += 3.0f; /* an offset mean, where a one-pass variance would lose digits */
    float *y = check_zeros(n), *yr = check_zeros(n), *m = check_zeros(N), *mr = check_zeros(N),
          *s = check_zeros(N), *sr = check_zeros(N);
    layernorm_forward(y, m, s, x, w, b, N, C);
    layernorm_forward_ref(yr, mr, sr, x, w, b, N, C);
    CLOSE(y, yr, n, "layernorm forward");
    CLOSE(m, mr, N, "layernorm mean");
    CLOSE(s, sr, N, "layernorm rstd");

    float *dy = check_randn(&R, n, 1), *dx = check_randn(&R, n, 1), *dw = check_randn(&R, C, 1),
          *db = check_randn(&R, C, 1);
    float *dxr = fcopy(dx, n), *dwr = fcopy(dw, C), *dbr = fcopy(db, C);
    layernorm_backward(dx, affine ? dw : NULL, affine ? db : NULL, dy, x, w, m, s, N, C);
    layernorm_backward_ref(dxr, affine ? dwr : NULL, affine ? dbr : NULL, dy, x, w, m, s, N, C);
    CLOSE(dx, dxr, n, "layernorm dinp");
    CLOSE(dw, dwr, C, "layernorm dweight");
    CLOSE(db, dbr, C, "layernorm dbias");
    free(x), free(w), free(b), free(y), free(yr), free(m), free(mr), free(s), free(sr);
    free(dy), free(dx), free(dw), free(db), free(dxr), free(dwr), free(dbr);
}

static void test_gelu(void)
{
    enum { n = 1001 };
    float *x = check_randn(&R, n, 3), *y = check_zeros(n), *yr = check_zeros(n);
    float *dy = check_randn(&R, n, 1), *dx = check_randn(&R, n, 1), *dxr = fcopy(dx, n);
    x[0] = 0, x[1] = -10, x[2] = 10, x[3] = 1e-4f;
    for (int i = 0; i < n; i++) {
        double v = x[i], cdf = 0.5 * (1 + erf(v / sqrt(2.0)));
        yr[i] = (float)(v * cdf);
        dxr[i] += (float)(dy[i] * (cdf + v * exp(-0.5 * v * v) / sqrt(2 * M_PI)));
    }
    gelu_forward(y, x, n);
    gelu_backward(dx, dy, x, n);
    CLOSE(y, yr, n, "gelu forward");
    CLOSE(dx, dxr, n, "gelu backward");
    /* _set overwrites, also in place over dout */
    float *ds = fcopy(dy, n);
    memset(dxr, 0, sizeof(float) * n);
    gelu_backward(dxr, dy, x, n); /* from zero: the value _set must give */
    gelu_backward_set(ds, ds, x, n);
    CLOSE(ds, dxr, n, "gelu_backward_set in place");
    free(ds);
    gelu_forward(x, x, n); /* in place */
    CLOSE(x, yr, n, "gelu in place");
    free(x), free(y), free(yr), free(dy), free(dx), free(dxr);

    /* A dense sweep at an absolute 1e-6: GELU via libm's erff is itself ~4.5e-7 off exact here,
     * so this pins the vectorized erf to float quality, not just to "close". */
    enum { m = 40001 };
    static float xs[m], ys[m], gs[m], ones[m];
    double worst = 0, worst_d = 0;
    for (int i = 0; i < m; i++)
        xs[i] = -10.0f + 20.0f * i / (m - 1), ones[i] = 1.0f, gs[i] = 0.0f;
    gelu_forward(ys, xs, m);
    gelu_backward(gs, ones, xs, m);
    for (int i = 0; i < m; i++) {
        double v = xs[i], cdf = 0.5 * (1 + erf(v / sqrt(2.0)));
        worst = fmax(worst, fabs(ys[i] - v * cdf));
        worst_d = fmax(worst_d, fabs(gs[i] - (cdf + v * exp(-0.5 * v * v) / sqrt(2 * M_PI))));
    }
    CHECK(worst <= 1e-6, "gelu sweep: max abs error %.3g", worst);
    CHECK(worst_d <= 1e-6, "gelu derivative sweep: max abs error %.3g", worst_d);
}

/* ops_expf against exp in double over its whole range: within 2 ulp, as its comment promises. */
static void test_expf(void)
{
    double worst = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -87.0f + 175.0f * i / 200000;
        double r = exp((double)x);
        float ulp = nextafterf((float)r, INFINITY) - (float)r;
        worst = fmax(worst, fabs(ops_expf(x) - r) / ulp);
    }
    CHECK(worst <= 2, "ops_expf: max error %.3g ulp", worst);
    CHECK(ops_expf(-1000.0f) >= 0 && ops_expf(-1000.0f) < 1e-37f, "ops_expf underflow clamp");
    CHECK(isfinite(ops_expf(1000.0f)), "ops_expf overflow clamp");
    CHECK(isnan(ops_expf(NAN)), "ops_expf NaN must propagate");
}

static void test_softmax(int N, int C, float scale, float spread)
{
    size_t n = (size_t)N * C;
    float *x = check_randn(&R, n, spread), *y = check_zeros(n), *yr = check_zeros(n),
          *ly = check_zeros(n), *lyr = check_zeros(n);
    float *dy = check_randn(&R, n, 1), *dx = check_randn(&R, n, 1), *dxr = fcopy(dx, n);
    for (int r = 0; r < N; r++) {
        const float *xr = x + (size_t)r * C;
        double m = -INFINITY, sum = 0, dot = 0;
        for (int i = 0; i < C; i++)
            m = fmax(m, (double)scale * xr[i]);
        for (int i = 0; i < C; i++)
            sum += exp((double)scale * xr[i] - m);
        for (int i = 0; i < C; i++) {
            yr[(size_t)r * C + i] = (float)(exp((double)scale * xr[i] - m) / sum);
            lyr[(size_t)r * C + i] = (float)((double)scale * xr[i] - m - log(sum));
        }
        for (int i = 0; i < C; i++)
            dot += (double)dy[(size_t)r * C + i] * yr[(size_t)r * C + i];
        for (int i = 0; i < C; i++) {
            size_t k = (size_t)r * C + i;
            dxr[k] += (float)(scale * yr[k] * (dy[k] - dot));
        }
    }
    softmax_forward(y, x, scale, N, C);
    log_softmax_forward(ly, x, scale, N, C);
    softmax_backward(dx, dy, y, scale, N, C);
    CLOSE(y, yr, n, "softmax forward");
    CLOSE(ly, lyr, n, "log_softmax forward");
    CLOSE(dx, dxr, n, "softmax backward");
    softmax_forward(x, x, scale, N, C);
    CLOSE(x, yr, n, "softmax in place");
    free(x), free(y), free(yr), free(ly), free(lyr), free(dy), free(dx), free(dxr);
}

/* ops_sgemm_small against ops_sgemm_ref: every transpose, beta 0 (C holding NaN, never read),
 * 1 and 0.5, strides wider than the rows, tails of the 4 x 16 tile and shapes past 64 (OpenBLAS).
 * Rows computed apart are the same bits as within the whole (the tiling changes no rounding). */
static void test_gemm_small(int M, int N, int K)
{
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int bi = 0; bi < 3; bi++) {
                float beta = betas[bi];
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
                float *A = check_randn(&R, (size_t)(ta ? K : M) * lda + 1, 1);
                float *B = check_randn(&R, (size_t)(tb ? N : K) * ldb + 1, 1);
                float *C = check_randn(&R, (size_t)M * ldc, 1);
                if (beta == 0.0f)
                    for (size_t i = 0; i < (size_t)M * ldc; i++)
                        C[i] = NAN;
                float *Cr = fcopy(C, (size_t)M * ldc), *Cp = fcopy(C, (size_t)M * ldc);
                ops_sgemm_small(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, C, ldc);
                ops_sgemm_ref(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, Cr, ldc);
                int kept = 1; /* the columns past N are left as they were */
                for (int i = 0; i < M; i++)
                    for (int j = N; j < ldc; j++) {
                        size_t at = (size_t)i * ldc + j;
                        kept &= memcmp(C + at, Cp + at, sizeof(float)) == 0;
                        C[at] = Cr[at] = 0.0f;
                    }
                char what[96];
                snprintf(what, sizeof what, "gemm_small %dx%dx%d ta %d tb %d beta %g", M, N, K, ta,
                         tb, beta);
                CLOSE(C, Cr, (size_t)M * ldc, what);
                CHECK(kept, "%s: wrote past column N", what);
                for (int i = 0; i < M; i++) /* one row at a time: the 1-row tile */
                    ops_sgemm_small(ta, tb, 1, N, K, 0.7f, ta ? A + i : A + (size_t)i * lda, lda, B,
                                    ldb, beta, Cp + (size_t)i * ldc, ldc);
                /* (OpenBLAS's are not: past 64 rows, and under KD_GEMM=blas) */
                int same = 1, small = M <= 64 && ops_gemm_small_on();
                for (int i = 0; i < M && small; i++)
                    same &=
                        memcmp(C + (size_t)i * ldc, Cp + (size_t)i * ldc, sizeof(float) * N) == 0;
                CHECK(same, "%s: rows computed one at a time differ in their bits", what);
                free(A), free(B), free(C), free(Cr), free(Cp);
            }
}

static void test_attention(int B, int T, int C, int NH, int with_bias)
{
    size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C, na = (size_t)B * NH * T * T;
    size_t nb = (size_t)NH * T * T;
    float *qkv = check_randn(&R, nq, 1), *bias = with_bias ? check_randn(&R, nb, 1) : NULL;
    float *y = check_zeros(no), *yr = check_zeros(no), *a = check_zeros(na), *ar = check_zeros(na);
    attention_forward(y, a, qkv, bias, B, T, C, NH);
    attention_forward_ref(yr, ar, qkv, bias, B, T, C, NH);
    CLOSE(y, yr, no, "attention forward");
    CLOSE(a, ar, na, "attention probabilities");

    float *dy = check_randn(&R, no, 1), *dq = check_randn(&R, nq, 1), *db = check_randn(&R, nb, 1);
    float *dqr = fcopy(dq, nq), *dbr = fcopy(db, nb);
    float *scratch = check_zeros(attention_scratch_floats(T));
    attention_backward(dq, with_bias ? db : NULL, scratch, dy, qkv, a, B, T, C, NH);
    attention_backward_ref(dqr, with_bias ? dbr : NULL, dy, qkv, a, B, T, C, NH);
    CLOSE(dq, dqr, nq, "attention dqkv");
    CLOSE(db, dbr, nb, "attention dbias");
    attention_backward(NULL, db, scratch, dy, qkv, a, B, T, C, NH);
    attention_backward_ref(NULL, dbr, dy, qkv, a, B, T, C, NH);
    CLOSE(db, dbr, nb, "attention dbias alone");
    for (size_t i = 0; i < nq; i++)
        dq[i] = NAN, dqr[i] = 0.0f;
    attention_backward_set(dq, scratch, dy, qkv, a, B, T, C, NH);
    attention_backward_ref(dqr, NULL, dy, qkv, a, B, T, C, NH);
    CLOSE(dq, dqr, nq, "attention_backward_set dqkv");
    free(qkv), free(bias), free(y), free(yr), free(a), free(ar);
    free(dy), free(dq), free(db), free(dqr), free(dbr), free(scratch);
}

static void test_conv(int B, int H, int W, int IC, int OC, int K, int stride, int pad)
{
    int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1;
    size_t ni = (size_t)B * H * W * IC, nw = (size_t)OC * K * K * IC;
    size_t no = (size_t)B * OH * OW * OC;
    float *x = check_randn(&R, ni, 1), *w = check_randn(&R, nw, 0.3f), *b = check_randn(&R, OC, 1);
    float *col = check_zeros(conv_col_floats(B, H, W, IC, K, stride, pad));
    float *y = check_zeros(no), *yr = check_zeros(no);
    conv_forward(y, col, x, w, b, B, H, W, IC, OC, K, stride, pad);
    conv_forward_ref(yr, x, w, b, B, H, W, IC, OC, K, stride, pad);
    CLOSE(y, yr, no, "conv forward");
    conv_forward(y, col, x, w, NULL, B, H, W, IC, OC, K, stride, pad);
    conv_forward_ref(yr, x, w, NULL, B, H, W, IC, OC, K, stride, pad);
    CLOSE(y, yr, no, "conv forward without bias");

    float *dy = check_randn(&R, no, 1), *dx = check_randn(&R, ni, 1), *dw = check_randn(&R, nw, 1),
          *db = check_randn(&R, OC, 1);
    float *dxr = fcopy(dx, ni), *dwr = fcopy(dw, nw), *dbr = fcopy(db, OC);
    memset(col, 0xff, sizeof(float) * conv_col_floats(B, H, W, IC, K, stride, pad)); /* NaNs */
    conv_backward(dx, dw, db, col, dy, x, w, B, H, W, IC, OC, K, stride, pad);
    conv_backward_ref(dxr, dwr, dbr, dy, x, w, B, H, W, IC, OC, K, stride, pad);
    CLOSE(dx, dxr, ni, "conv dinp");
    CLOSE(dw, dwr, nw, "conv dweight");
    CLOSE(db, dbr, OC, "conv dbias");
    conv_backward(dx, NULL, NULL, col, dy, x, w, B, H, W, IC, OC, K, stride, pad);
    conv_backward_ref(dxr, NULL, NULL, dy, x, w, B, H, W, IC, OC, K, stride, pad);
    CLOSE(dx, dxr, ni, "conv dinp alone");
    free(x), free(w), free(b), free(col), free(y), free(yr);
    free(dy), free(dx), free(dw), free(db), free(dxr), free(dwr), free(dbr);
}

static void test_dwconv(int B, int H, int W, int C, int K, int stride, int pad)
{
    int OH = (H + 2 * pad - K) / stride + 1, OW = (W + 2 * pad - K) / stride + 1, KK = K * K;
    size_t ni = (size_t)B * H * W * C, no = (size_t)B * OH * OW * C;
    float *x = check_randn(&R, ni, 1), *w = check_randn(&R, (size_t)C * KK, 0.5f),
          *b = check_randn(&R, C, 1);
    float *y = check_zeros(no), *yr = check_zeros(no);
    dwconv_forward(y, x, w, b, B, H, W, C, K, stride, pad);
    dwconv_forward_ref(yr, x, w, b, B, H, W, C, K, stride, pad);
    CLOSE(y, yr, no, "dwconv forward");

    /* Backward against the forward's sum differentiated in place, in double. */
    float *dy = check_randn(&R, no, 1), *dx = check_randn(&R, ni, 1),
          *dw = check_randn(&R, (size_t)C * KK, 1);
    float *db = check_randn(&R, C, 1);
    float *dxr = fcopy(dx, ni), *dwr = fcopy(dw, (size_t)C * KK), *dbr = fcopy(db, C);
    double *gx = calloc(ni, sizeof(double)), *gw = calloc((size_t)C * KK, sizeof(double));
    double *gb = calloc(C, sizeof(double));
    for (int bb = 0; bb < B; bb++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++)
                for (int c = 0; c < C; c++) {
                    double d = dy[(((size_t)bb * OH + oh) * OW + ow) * C + c];
                    gb[c] += d;
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++) {
                            int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                continue;
                            size_t xi = (((size_t)bb * H + ih) * W + iw) * C + c;
                            gx[xi] += d * w[(size_t)c * KK + kh * K + kw];
                            gw[(size_t)c * KK + kh * K + kw] += d * x[xi];
                        }
                }
    for (size_t i = 0; i < ni; i++)
        dxr[i] += (float)gx[i];
    for (size_t i = 0; i < (size_t)C * KK; i++)
        dwr[i] += (float)gw[i];
    for (int c = 0; c < C; c++)
        dbr[c] += (float)gb[c];
    dwconv_backward(dx, dw, db, dy, x, w, B, H, W, C, K, stride, pad);
    CLOSE(dx, dxr, ni, "dwconv dinp");
    CLOSE(dw, dwr, (size_t)C * KK, "dwconv dweight");
    CLOSE(db, dbr, C, "dwconv dbias");
    free(x), free(w), free(b), free(y), free(yr), free(dy), free(dx), free(dw), free(db);
    free(dxr), free(dwr), free(dbr), free(gx), free(gw), free(gb);
}

static void test_batchnorm(int N, int C)
{
    size_t n = (size_t)N * C;
    float mom = 0.1f;
    float *x = check_randn(&R, n, 2), *w = check_randn(&R, C, 1), *b = check_randn(&R, C, 1),
          *y = check_zeros(n), *yr = check_zeros(n);
    float *m = check_zeros(C), *s = check_zeros(C), *mr = check_zeros(C), *sr = check_zeros(C);
    float *rm = check_randn(&R, C, 1), *rv = check_zeros(C), *rmr = check_zeros(C),
          *rvr = check_zeros(C);
    for (int c = 0; c < C; c++)
        rv[c] = 1.0f + 0.5f * c / C;
    for (size_t i = 0; i < n; i++)
        x[i] += (float)(i % C); /* per-channel offsets */
    for (int c = 0; c < C; c++) {
        double mu = 0, var = 0;
        for (int r = 0; r < N; r++)
            mu += x[(size_t)r * C + c];
        mu /= N;
        for (int r = 0; r < N; r++)
            var += (x[(size_t)r * C + c] - mu) * (x[(size_t)r * C + c] - mu);
        var /= N;
        mr[c] = (float)mu;
        sr[c] = (float)(1 / sqrt(var + BATCHNORM_EPS));
        rmr[c] = (float)((1 - mom) * rm[c] + mom * mu);
        rvr[c] = (float)((1 - mom) * rv[c] + mom * var * N / (N - 1)); /* unbiased, as torch */
        for (int r = 0; r < N; r++) {
            size_t k = (size_t)r * C + c;
            yr[k] = (float)((x[k] - mu) / sqrt(var + BATCHNORM_EPS) * w[c] + b[c]);
        }
    }
    batchnorm_forward(y, m, s, rm, rv, x, w, b, N, C, mom, 1);
    CLOSE(y, yr, n, "batchnorm train forward");
    CLOSE(m, mr, C, "batchnorm mean");
    CLOSE(s, sr, C, "batchnorm rstd");
    CLOSE(rm, rmr, C, "batchnorm running_mean");
    CLOSE(rv, rvr, C, "batchnorm running_var");

    float *dy = check_randn(&R, n, 1), *dx = check_randn(&R, n, 1), *dw = check_randn(&R, C, 1),
          *db = check_randn(&R, C, 1);
    float *dxr = fcopy(dx, n), *dwr = fcopy(dw, C), *dbr = fcopy(db, C);
    for (int c = 0; c < C; c++) {
        double sd = 0, sdx = 0;
        for (int r = 0; r < N; r++) {
            size_t k = (size_t)r * C + c;
            sd += dy[k];
            sdx += dy[k] * (x[k] - (double)mr[c]) * sr[c];
        }
        dbr[c] += (float)sd;
        dwr[c] += (float)sdx;
        for (int r = 0; r < N; r++) {
            size_t k = (size_t)r * C + c;
            double xh = (x[k] - (double)mr[c]) * sr[c];
            dxr[k] += (float)(w[c] * sr[c] * (dy[k] - sd / N - xh * sdx / N));
        }
    }
    batchnorm_backward(dx, dw, db, dy, x, w, m, s, N, C);
    CLOSE(dx, dxr, n, "batchnorm dinp");
    CLOSE(dw, dwr, C, "batchnorm dweight");
    CLOSE(db, dbr, C, "batchnorm dbias");

    /* Eval: running statistics, left unchanged. */
    memcpy(rmr, rm, sizeof(float) * C);
    memcpy(rvr, rv, sizeof(float) * C);
    for (size_t k = 0; k < n; k++) {
        int c = (int)(k % C);
        yr[k] = (float)((x[k] - rm[c]) / sqrt(rv[c] + BATCHNORM_EPS) * w[c] + b[c]);
    }
    batchnorm_forward(y, m, s, rm, rv, x, w, b, N, C, mom, 0);
    CLOSE(y, yr, n, "batchnorm eval forward");
    CHECK(!memcmp(rm, rmr, sizeof(float) * C) && !memcmp(rv, rvr, sizeof(float) * C),
          "batchnorm eval changed running stats");
    free(x), free(w), free(b), free(y), free(yr), free(m), free(s), free(mr), free(sr);
    free(rm), free(rv), free(rmr), free(rvr);
    free(dy), free(dx), free(dw), free(db), free(dxr), free(dwr), free(dbr);
}

static void test_small_ops(int B, int T, int C)
{
    size_t n = (size_t)B * T * C;
    float *x = check_randn(&R, n, 1), *y = check_zeros((size_t)B * C),
          *yr = check_zeros((size_t)B * C);
    float *dy = check_randn(&R, (size_t)B * C, 1), *dx = check_randn(&R, n, 1), *dxr = fcopy(dx, n);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int t = 0; t < T; t++)
                s += x[((size_t)b * T + t) * C + c];
            yr[(size_t)b * C + c] = (float)(s / T);
            for (int t = 0; t < T; t++)
                dxr[((size_t)b * T + t) * C + c] += dy[(size_t)b * C + c] / (float)T;
        }
    meanpool_forward(y, x, B, T, C);
    meanpool_backward(dx, dy, B, T, C);
    CLOSE(y, yr, (size_t)B * C, "meanpool forward");
    CLOSE(dx, dxr, n, "meanpool backward");

    /* add and droppath are exact in float: compare bit for bit. */
    float *a = check_randn(&R, n, 1), *s = check_zeros(n), *scale = check_zeros(B),
          *g = check_randn(&R, n, 1), *gr = fcopy(g, n);
    int ok = 1;
    add_forward(s, a, x, n);
    for (size_t i = 0; i < n; i++)
        ok &= s[i] == a[i] + x[i];
    add_forward(a, a, x, n); /* in place */
    ok &= !memcmp(a, s, sizeof(float) * n);
    CHECK(ok, "add_forward");
    for (int b = 0; b < B; b++)
        scale[b] = b % 2 ? 0.0f : 1.0f / 0.75f;
    droppath_forward(s, x, scale, B, (size_t)T * C);
    ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= s[i] == x[i] * scale[i / ((size_t)T * C)];
    CHECK(ok, "droppath forward");
    float *dout = check_randn(&R, n, 1);
    droppath_backward(g, dout, scale, B, (size_t)T * C);
    ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= g[i] == gr[i] + dout[i] * scale[i / ((size_t)T * C)];
    CHECK(ok, "droppath backward");
    free(x), free(y), free(yr), free(dy), free(dx), free(dxr);
    free(a), free(s), free(scale), free(g), free(gr), free(dout);
}

int main(void)
{
    rng_init(&R, 1234, RNG_STREAM_OTHER, 0, 0);
    test_matmul(7, 13, 5, 1);
    test_matmul(7, 13, 5, 0);
    test_matmul(67, 97, 35, 1); /* past OpenBLAS's small-matrix path */
    test_matmul(1, 1, 1, 1);
    test_layernorm(7, 13, 1);
    test_layernorm(7, 13, 0);
    test_layernorm(5, 67, 1); /* 8-lane sums plus a tail */
    test_gelu();
    test_expf();
    test_softmax(7, 13, 1.0f, 1);
    test_softmax(5, 31, 0.25f, 200); /* logits up to ~1000: overflows without max-subtraction */
    test_softmax(3, 10, -1.5f, 2);
    test_attention(2, 5, 12, 3, 0);
    test_attention(2, 5, 12, 3, 1);
    test_attention(3, 7, 18, 3, 1);
    test_attention(1, 17, 32, 2, 0);
    test_attention(2, 50, 64, 2, 1); /* a ViT-t's pairs: T 50, hd 32 */
    test_attention(1, 65, 64, 1, 0); /* past ops_sgemm_small's 64: OpenBLAS */
    test_gemm_small(50, 50, 32);
    test_gemm_small(50, 32, 50);
    test_gemm_small(7, 9, 5);
    test_gemm_small(4, 16, 1);
    test_gemm_small(1, 17, 64);
    test_gemm_small(64, 64, 64);
    test_gemm_small(65, 20, 30);       /* OpenBLAS */
    test_gemm_small(3, 5, 0);          /* K 0: C = beta C */
    test_conv(2, 7, 6, 3, 5, 3, 2, 1); /* stride 2, pad 1, odd sizes */
    test_conv(2, 7, 7, 4, 5, 3, 1, 1);
    test_conv(1, 8, 12, 3, 7, 4, 4, 0); /* patch embedding */
    test_conv(2, 5, 3, 13, 7, 1, 1, 0); /* 1x1: the no-im2col path */
    test_conv(1, 5, 4, 2, 3, 1, 2, 0);  /* 1x1 strided: im2col */
    test_conv(1, 4, 5, 2, 3, 2, 1, 3);  /* padding wider than the kernel */
    test_dwconv(2, 7, 6, 37, 3, 2, 1);  /* two channel blocks, the second partial */
    test_dwconv(1, 9, 8, 13, 7, 1, 3);
    test_dwconv(2, 5, 5, 64, 3, 1, 1);
    test_batchnorm(29, 13);
    test_batchnorm(50, 70); /* two channel blocks */
    test_small_ops(3, 5, 13);
    return check_report("test_ops");
}
