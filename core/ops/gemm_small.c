/* ops_sgemm_small: the products of attention's (batch, head) pairs (T x T x hd, T and hd up to
 * 64) without OpenBLAS. At such sizes OpenBLAS packs both operands and zeroes C (beta = 0) on
 * every call, and these calls ran at a third of the rate of the ViT's linear layers. Here a
 * register tile of up to 6 rows x 16 columns of C runs over k, broadcasting A's elements (read
 * in place, transposed or not) against rows of B; a B given transposed is transposed first into
 * this thread's buffer (8 x 8 blocks in registers). Each element of C is one chain of fused
 * multiply-adds over k in order, so the tiling never changes a bit. Larger shapes, KD_GEMM=ref
 * or blas (gemm.c) and CPUs without AVX2 and FMA take ops_sgemm_serial. */
#include "ops.h"
#include "simd.h"

/* The largest side of a product taken here. */
#define SMALL_MAX 64

#if OPS_SIMD
/* Lanes j < n of a 16-lane row as two masks. */
static inline void tail_masks(int n, __m256i *m0, __m256i *m1)
{
    __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
    *m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), idx);
}

/* c[0..8 NV) (lanes < n when !full) = alpha acc (+ beta c). */
static inline __attribute__((always_inline)) void row_store(float *c, int NV, __m256 acc0,
                                                            __m256 acc1, int full, __m256i m0,
                                                            __m256i m1, float alpha, float beta)
{
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    __m256 c0 = _mm256_mul_ps(va, acc0), c1 = _mm256_mul_ps(va, acc1);
    if (beta != 0.0f) { /* beta 0 never reads C, which may hold anything */
        c0 = _mm256_fmadd_ps(vb, full ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, m0), c0);
        if (NV == 2)
            c1 = _mm256_fmadd_ps(vb, full ? _mm256_loadu_ps(c + 8) : _mm256_maskload_ps(c + 8, m1),
                                 c1);
    }
    if (full)
        _mm256_storeu_ps(c, c0);
    else
        _mm256_maskstore_ps(c, m0, c0);
    if (NV == 2 && full)
        _mm256_storeu_ps(c + 8, c1);
    else if (NV == 2)
        _mm256_maskstore_ps(c + 8, m1, c1);
}

/* Rows [0, MR) x columns [0, 8 NV) of C (lanes < n when !full) = alpha A B + beta C, where
 * A's element (r, k) is A[r sr + k sk] and B is (K, 8 NV) with row stride ldb. MR <= 6 and NV
 * are constants where this is inlined; the accumulators are named, not an array, so that they
 * stay in registers. */
#define ACC_ROW(r)                                                                                 \
    if (MR > r) {                                                                                  \
        __m256 a = _mm256_broadcast_ss(A + (size_t)(r)*sr + (size_t)k * sk);                       \
        c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);                                                 \
        if (NV == 2)                                                                               \
            c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);                                             \
    }
#define STORE_ROW(r)                                                                               \
    if (MR > r)                                                                                    \
        row_store(C + (size_t)(r)*ldc, NV, c##r##0, c##r##1, full, m0, m1, alpha, beta);

static inline __attribute__((always_inline)) void tile(int MR, int NV, int full, int n, int K,
                                                       float alpha, const float *A, size_t sr,
                                                       size_t sk, const float *B, int ldb,
                                                       float beta, float *C, int ldc)
{
    __m256i m0 = _mm256_set1_epi32(-1), m1 = m0;
    if (!full)
        tail_masks(n, &m0, &m1);
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb;
        __m256 b0 = full ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, m0), b1 = b0;
        if (NV == 2)
            b1 = full ? _mm256_loadu_ps(b + 8) : _mm256_maskload_ps(b + 8, m1);
        ACC_ROW(0) ACC_ROW(1) ACC_ROW(2) ACC_ROW(3) ACC_ROW(4) ACC_ROW(5)
    }
    STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3) STORE_ROW(4) STORE_ROW(5)
}

/* One strip of 8 NV columns (n of them valid) over all M rows: tiles of 6 rows, then the rest. */
static inline __attribute__((always_inline)) void strip(int NV, int full, int n, int M, int K,
                                                        float alpha, const float *A, size_t sr,
                                                        size_t sk, const float *B, int ldb,
                                                        float beta, float *C, int ldc)
{
    int i = 0;
    for (; i + 6 <= M; i += 6)
        tile(6, NV, full, n, K, alpha, A + i * sr, sr, sk, B, ldb, beta, C + (size_t)i * ldc, ldc);
    const float *a = A + i * sr;
    float *c = C + (size_t)i * ldc;
    switch (M - i) {
    case 5: tile(5, NV, full, n, K, alpha, a, sr, sk, B, ldb, beta, c, ldc); break;
    case 4: tile(4, NV, full, n, K, alpha, a, sr, sk, B, ldb, beta, c, ldc); break;
    case 3: tile(3, NV, full, n, K, alpha, a, sr, sk, B, ldb, beta, c, ldc); break;
    case 2: tile(2, NV, full, n, K, alpha, a, sr, sk, B, ldb, beta, c, ldc); break;
    case 1: tile(1, NV, full, n, K, alpha, a, sr, sk, B, ldb, beta, c, ldc); break;
    default: break;
    }
}

/* Row-major C (M, N) = alpha A B + beta C, A's element (m, k) at A[m sr + k sk], B (K, N). */
static void small_kernel(int M, int N, int K, float alpha, const float *A, size_t sr, size_t sk,
                         const float *B, int ldb, float beta, float *C, int ldc)
{
    int j = 0;
    for (; j + 16 <= N; j += 16)
        strip(2, 1, 16, M, K, alpha, A, sr, sk, B + j, ldb, beta, C + j, ldc);
    int n = N - j;
    if (n > 8)
        strip(2, 0, n, M, K, alpha, A, sr, sk, B + j, ldb, beta, C + j, ldc);
    else if (n == 8)
        strip(1, 1, 8, M, K, alpha, A, sr, sk, B + j, ldb, beta, C + j, ldc);
    else if (n > 0)
        strip(1, 0, n, M, K, alpha, A, sr, sk, B + j, ldb, beta, C + j, ldc);
}

/* dst (cols, rows) with row stride ldd = src (rows, cols)^T, src row stride ld: 8 x 8 blocks
 * through registers, the edges one element at a time. */
static void transpose(float *dst, int ldd, const float *src, int rows, int cols, int ld)
{
    int r = 0;
    for (; r + 8 <= rows; r += 8) {
        int c = 0;
        for (; c + 8 <= cols; c += 8) {
            __m256 x[8], t[8];
            for (int i = 0; i < 8; i++)
                x[i] = _mm256_loadu_ps(src + (size_t)(r + i) * ld + c);
            for (int i = 0; i < 8; i += 2) {
                t[i] = _mm256_unpacklo_ps(x[i], x[i + 1]);
                t[i + 1] = _mm256_unpackhi_ps(x[i], x[i + 1]);
            }
            for (int i = 0; i < 8; i += 4) {
                x[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
                x[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
                x[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
                x[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
            }
            for (int i = 0; i < 4; i++) {
                t[i] = _mm256_permute2f128_ps(x[i], x[i + 4], 0x20);
                t[i + 4] = _mm256_permute2f128_ps(x[i], x[i + 4], 0x31);
            }
            for (int i = 0; i < 8; i++) /* t[i]: column c + i */
                _mm256_storeu_ps(dst + (size_t)(c + i) * ldd + r, t[i]);
        }
        for (; c < cols; c++)
            for (int i = 0; i < 8; i++)
                dst[(size_t)c * ldd + r + i] = src[(size_t)(r + i) * ld + c];
    }
    for (; r < rows; r++)
        for (int c = 0; c < cols; c++)
            dst[(size_t)c * ldd + r] = src[(size_t)r * ld + c];
}
#endif

void ops_sgemm_small(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
#if OPS_SIMD
    /* B^T of one product, per thread: attention calls this from every thread of its pool */
    static _Thread_local float bt[SMALL_MAX * SMALL_MAX] __attribute__((aligned(32)));
    if (ops_gemm_small_on() && M <= SMALL_MAX && N <= SMALL_MAX && K <= SMALL_MAX && M > 0 &&
        N > 0) {
        if (tb) {
            transpose(bt, N, B, N, K, ldb);
            B = bt, ldb = N;
        }
        small_kernel(M, N, K, alpha, A, ta ? 1 : (size_t)lda, ta ? (size_t)lda : 1, B, ldb, beta, C,
                     ldc);
        return;
    }
#endif
    ops_sgemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
