/* The threaded paths of core/ops (parallel.h): ops_sgemm against its naive twin on every
 * transpose and on shapes that split unevenly, and every threaded kernel of a ViT training step
 * at the reference model's real shapes (batch 128, 50 tokens, width 192, 3 heads), run at 1, 2
 * and 3 threads: the results must be identical bit for bit, which is what makes a run's numbers
 * independent of KD_THREADS. */
#include "check.h"
#include "ops/ops.h"
#include "ops/parallel.h"
#include "base/rng.h"
#include "loss/loss_ssl.h"

#include <stdlib.h>
#include <string.h>

static struct rng R;

static float *frand(size_t n, float s)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (!p)
        abort();
    for (size_t i = 0; i < n; i++)
        p[i] = s * rng_normal(&R);
    return p;
}

static float *fcopy(const float *x, size_t n)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (!p)
        abort();
    memcpy(p, x, sizeof(float) * n);
    return p;
}

/* ops_sgemm at 2 threads vs ops_sgemm_ref, C (M, N) with leading dimensions wider than needed. */
static void test_sgemm(int ta, int tb, int M, int N, int K, float beta)
{
    int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
    size_t nc = (size_t)M * ldc;
    float *A = frand(na, 1), *B = frand(nb, 1), *C = frand(nc, 1), *Cr = fcopy(C, nc);
    openblas_set_num_threads(2);
    ops_sgemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C, ldc);
    ops_sgemm_ref(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, beta, Cr, ldc);
    /* float sums over K <= 400 terms of O(1): see test_ops.c for the tolerance argument */
    double w = check_close(C, Cr, nc, 1e-4, 1e-4);
    CHECK(w <= 1, "ops_sgemm ta=%d tb=%d %dx%dx%d: worst error %.3g of tolerance", ta, tb, M, N, K,
          w);
    free(A), free(B), free(C), free(Cr);
}

/* Run `body` (which writes into out[0..n)) at 1 thread, then at 2 and 3, from the same inputs
 * (each run restores the accumulated outputs from `init`); all must match bit for bit. */
#define SAME_AT_ALL_THREADS(what, out, init, n, body)                                              \
    do {                                                                                           \
        float *ref_ = malloc(sizeof(float) * (n));                                                 \
        int same_ = 1;                                                                             \
        for (int t_ = 1; t_ <= 3; t_++) {                                                          \
            openblas_set_num_threads(t_);                                                          \
            memcpy(out, init, sizeof(float) * (n));                                                \
            body;                                                                                  \
            if (t_ == 1)                                                                           \
                memcpy(ref_, out, sizeof(float) * (n));                                            \
            else                                                                                   \
                same_ &= !memcmp(ref_, out, sizeof(float) * (n));                                  \
        }                                                                                          \
        CHECK(same_, "%s: differs between 1, 2 and 3 threads", what);                              \
        free(ref_);                                                                                \
    } while (0)

static void test_linear_threads(int N, int C, int OC)
{
    size_t nx = (size_t)N * C, ny = (size_t)N * OC, nw = (size_t)OC * C;
    float *x = frand(nx, 1), *w = frand(nw, 0.1f), *b = frand(OC, 1), *dy = frand(ny, 1);
    float *y = frand(ny, 1), *y0 = fcopy(y, ny);
    float *dx = frand(nx, 1), *dx0 = fcopy(dx, nx), *dw = frand(nw, 1), *dw0 = fcopy(dw, nw);
    float *db = frand(OC, 1), *db0 = fcopy(db, OC);
    char what[64];
    snprintf(what, sizeof what, "matmul %dx%dx%d forward", N, C, OC);
    SAME_AT_ALL_THREADS(what, y, y0, ny, matmul_forward(y, x, w, b, N, C, OC));
    snprintf(what, sizeof what, "matmul %dx%dx%d forward residual", N, C, OC);
    SAME_AT_ALL_THREADS(what, y, y0, ny, matmul_forward_residual(y, x, w, b, dy, N, C, OC));
    snprintf(what, sizeof what, "matmul %dx%dx%d dinp", N, C, OC);
    SAME_AT_ALL_THREADS(what, dx, dx0, nx, matmul_backward(dx, NULL, NULL, dy, x, w, N, C, OC));
    snprintf(what, sizeof what, "matmul %dx%dx%d dweight", N, C, OC);
    SAME_AT_ALL_THREADS(what, dw, dw0, nw, matmul_backward(NULL, dw, NULL, dy, x, w, N, C, OC));
    snprintf(what, sizeof what, "matmul %dx%dx%d dbias", N, C, OC);
    SAME_AT_ALL_THREADS(what, db, db0, OC, matmul_backward(NULL, NULL, db, dy, x, w, N, C, OC));
    snprintf(what, sizeof what, "matmul %dx%dx%d dinp set", N, C, OC);
    SAME_AT_ALL_THREADS(what, dx, dx0, nx, matmul_backward_set(dx, NULL, NULL, dy, x, w, N, C, OC));
    free(x), free(w), free(b), free(dy), free(y), free(y0);
    free(dx), free(dx0), free(dw), free(dw0), free(db), free(db0);
}

static void test_rowwise_threads(int N, int C)
{
    size_t n = (size_t)N * C;
    float *x = frand(n, 2), *w = frand(C, 1), *b = frand(C, 1), *d = frand(n, 1);
    float *y = frand(n, 1), *y0 = fcopy(y, n), *dx = frand(n, 1), *dx0 = fcopy(dx, n);
    float *mean = malloc(sizeof(float) * N), *rstd = malloc(sizeof(float) * N);
    float *dw = frand(C, 1), *dw0 = fcopy(dw, C), *db = frand(C, 1), *db0 = fcopy(db, C);
    SAME_AT_ALL_THREADS("layernorm forward", y, y0, n,
                        layernorm_forward(y, mean, rstd, x, w, b, N, C));
    SAME_AT_ALL_THREADS("layernorm dinp", dx, dx0, n,
                        layernorm_backward(dx, NULL, NULL, d, x, w, mean, rstd, N, C));
    SAME_AT_ALL_THREADS("layernorm dweight", dw, dw0, C,
                        layernorm_backward(NULL, dw, NULL, d, x, w, mean, rstd, N, C));
    SAME_AT_ALL_THREADS("layernorm dbias", db, db0, C,
                        layernorm_backward(NULL, NULL, db, d, x, w, mean, rstd, N, C));
    SAME_AT_ALL_THREADS("gelu forward", y, y0, n, gelu_forward(y, x, n));
    SAME_AT_ALL_THREADS("gelu backward", dx, dx0, n, gelu_backward(dx, d, x, n));
    SAME_AT_ALL_THREADS("gelu backward set", dx, dx0, n, gelu_backward_set(dx, d, x, n));
    SAME_AT_ALL_THREADS("softmax forward", y, y0, n, softmax_forward(y, x, 0.7f, N, C));
    SAME_AT_ALL_THREADS("softmax backward", dx, dx0, n, softmax_backward(dx, d, y, 0.7f, N, C));
    SAME_AT_ALL_THREADS("add", y, y0, n, add_forward(y, x, d, n));
    free(x), free(w), free(b), free(d), free(y), free(y0), free(dx), free(dx0);
    free(mean), free(rstd), free(dw), free(dw0), free(db), free(db0);
}

static void test_attention_threads(int B, int T, int C, int NH, int with_bias)
{
    size_t nq = (size_t)B * T * 3 * C, no = (size_t)B * T * C, na = (size_t)B * NH * T * T;
    size_t nb = (size_t)NH * T * T;
    float *qkv = frand(nq, 1), *bias = with_bias ? frand(nb, 1) : NULL;
    float *y = frand(no, 1), *y0 = fcopy(y, no), *a = malloc(sizeof(float) * na);
    float *dy = frand(no, 1), *dq = frand(nq, 1), *dq0 = fcopy(dq, nq);
    float *db = frand(nb, 1), *db0 = fcopy(db, nb);
    float *scratch = malloc(sizeof(float) * attention_scratch_floats(T));
    SAME_AT_ALL_THREADS("attention forward", y, y0, no,
                        attention_forward(y, a, qkv, bias, B, T, C, NH));
    SAME_AT_ALL_THREADS("attention dqkv", dq, dq0, nq,
                        attention_backward(dq, NULL, scratch, dy, qkv, a, B, T, C, NH));
    SAME_AT_ALL_THREADS("attention dqkv set", dq, dq0, nq,
                        attention_backward_set(dq, scratch, dy, qkv, a, B, T, C, NH));
    if (with_bias)
        SAME_AT_ALL_THREADS("attention dbias", db, db0, nb,
                            attention_backward(dq, db, scratch, dy, qkv, a, B, T, C, NH));
    free(qkv), free(bias), free(y), free(y0), free(a), free(dy), free(dq), free(dq0);
    free(db), free(db0), free(scratch);
}

/* SEED's and InfoNCE's embedding-vs-queue products (B, K) at the full-scale queue: one GEMM
 * too wide to split by rows for some B, which OpenBLAS's own threads must not split either. */
static void test_queue_sim_threads(int B, int K, int D)
{
    size_t L = (size_t)K + 1, ns = (size_t)B * L, nd = (size_t)B * D;
    float *a = frand(nd, 0.1f), *pos = frand(nd, 0.1f), *q = frand((size_t)K * D, 0.1f);
    float *s = frand(ns, 1), *s0 = fcopy(s, ns), *ds = frand(ns, 1), *norms = frand(B, 1);
    float *dz = frand(nd, 1), *dz0 = fcopy(dz, nd), *dzn = frand(nd, 1);
    for (int b = 0; b < B; b++)
        norms[b] = 1.0f + norms[b] * norms[b];
    char what[64];
    snprintf(what, sizeof what, "queue_sim %dx%dx%d forward", B, K, D);
    SAME_AT_ALL_THREADS(what, s, s0, ns, queue_sim_forward(s, a, pos, q, B, K, D));
    snprintf(what, sizeof what, "queue_sim %dx%dx%d backward", B, K, D);
    SAME_AT_ALL_THREADS(what, dz, dz0, nd,
                        queue_sim_backward(dz, dzn, ds, pos, q, a, norms, B, K, D));
    free(a), free(pos), free(q), free(s), free(s0), free(ds), free(norms), free(dz), free(dz0);
    free(dzn);
}

/* TinyViT's local convolution and MBConv's batch norms: threads split blocks of channels. */
static void test_conv_threads(int B, int H, int W, int C, int K)
{
    size_t n = (size_t)B * H * W * C, nw = (size_t)C * K * K, N = (size_t)B * H * W;
    float *x = frand(n, 1), *w = frand(nw, 0.3f), *b = frand(C, 1), *d = frand(n, 1);
    float *y = frand(n, 1), *y0 = fcopy(y, n), *dx = frand(n, 1), *dx0 = fcopy(dx, n);
    float *dw = frand(nw, 1), *dw0 = fcopy(dw, nw), *dbn = frand(C, 1), *dbn0 = fcopy(dbn, C);
    float *mean = malloc(sizeof(float) * C), *rstd = malloc(sizeof(float) * C);
    float *rm = frand(C, 1), *rm0 = fcopy(rm, C), *rv = frand(C, 1);
    SAME_AT_ALL_THREADS("dwconv forward", y, y0, n,
                        dwconv_forward(y, x, w, b, B, H, W, C, K, 1, K / 2));
    SAME_AT_ALL_THREADS("dwconv dinp", dx, dx0, n,
                        dwconv_backward(dx, NULL, NULL, d, x, w, B, H, W, C, K, 1, K / 2));
    SAME_AT_ALL_THREADS("dwconv dweight", dw, dw0, nw,
                        dwconv_backward(NULL, dw, NULL, d, x, w, B, H, W, C, K, 1, K / 2));
    SAME_AT_ALL_THREADS("batchnorm forward", y, y0, n,
                        batchnorm_forward(y, mean, rstd, NULL, NULL, x, b, w, (int)N, C, 0.1f, 1));
    SAME_AT_ALL_THREADS("batchnorm running mean", rm, rm0, C,
                        batchnorm_forward(y, mean, rstd, rm, rv, x, b, w, (int)N, C, 0.1f, 1));
    SAME_AT_ALL_THREADS("batchnorm dinp", dx, dx0, n,
                        batchnorm_backward(dx, NULL, NULL, d, x, b, mean, rstd, (int)N, C));
    SAME_AT_ALL_THREADS("batchnorm dweight", dbn, dbn0, C,
                        batchnorm_backward(NULL, dbn, NULL, d, x, b, mean, rstd, (int)N, C));
    free(x), free(w), free(b), free(d), free(y), free(y0), free(dx), free(dx0), free(dw), free(dw0);
    free(dbn), free(dbn0), free(mean), free(rstd), free(rm), free(rm0), free(rv);
}

int main(void)
{
    rng_init(&R, 99, RNG_STREAM_OTHER, 0, 0);
    int saved = openblas_get_num_threads();
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            test_sgemm(ta, tb, 333, 97, 61, 0.0f); /* split rows, 333 = 20 tiles + 13 */
            test_sgemm(ta, tb, 90, 301, 77, 1.0f); /* wide: too few rows to split */
            test_sgemm(ta, tb, 7, 5, 3, 0.5f);     /* too small to split */
        }
    /* the reference ViT's products: qkv, proj, fc1, fc2, patch embedding, head */
    test_linear_threads(6400, 192, 576);
    test_linear_threads(6400, 192, 192);
    test_linear_threads(6400, 192, 768);
    test_linear_threads(6400, 768, 192);
    test_linear_threads(6272, 16, 192);
    test_linear_threads(128, 192, 10);
    test_linear_threads(1001, 37, 301); /* odd sizes */
    test_rowwise_threads(6400, 192);
    test_rowwise_threads(1001, 37);
    test_attention_threads(128, 50, 192, 3, 0);
    test_attention_threads(16, 49, 96, 3, 1); /* TinyViT windows with their attention bias */
    test_conv_threads(64, 14, 14, 64, 3);     /* TinyViT-5M/2's first stage */
    test_conv_threads(32, 7, 7, 101, 5);      /* odd channels: a partial last block */
    test_queue_sim_threads(128, 4096, 128);
    test_queue_sim_threads(64, 4096, 128);
    openblas_set_num_threads(saved);
    return check_report("test_ops_parallel");
}
