/* ops_sgemm: row-major sgemm split over the ops' thread pool (parallel.h), one slice of C's rows
 * per thread, each computed by a single-threaded OpenBLAS call. The result must be the same bit
 * for bit at any thread count (tests/test_ops_parallel.c checks it on the ViT's shapes), and
 * OpenBLAS 0.3.21 keeps an element's rounding under a split only in some directions: a cut
 * between rows of C is exact at multiples of 16 with the AVX-512 kernels (SkylakeX, Cooperlake)
 * but only at multiples of 24 with the Haswell and Zen kernels, and a cut between columns is
 * never exact with those. So only rows are split, in multiples of 48, which serves both. */
#include "ops.h"
#include "parallel.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <unistd.h>
/* libgomp's idle threads spin (~300k rounds) before they sleep. On a machine that other jobs
 * share, a spinning thread burns the time slice its partner needs: a training step at 2 threads
 * ran 1.7x slower than with passive waiting (README "Performance"). Our parallel regions are
 * long (0.1 ms and up), so waking a sleeping thread costs under 1% on an idle machine. libgomp
 * reads OMP_WAIT_POLICY once, when it loads, before main() and before libc has installed the
 * environment that setenv() would change; so this runs first of all (.preinit_array) and, when
 * neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, executes the program again with
 * OMP_WAIT_POLICY=passive added (a few milliseconds, once). */
static void ops_wait_policy(int argc, char **argv, char **envp)
{
    static char *env[1024];
    static char passive[] = "OMP_WAIT_POLICY=passive";
    int n = 0;
    for (; envp && envp[n]; n++) {
        if (!strncmp(envp[n], "OMP_WAIT_POLICY=", 16) || !strncmp(envp[n], "GOMP_SPINCOUNT=", 15))
            return;
        if (n >= 1022)
            return;
        env[n] = envp[n];
    }
    env[n] = passive;
    env[n + 1] = NULL;
    if (argc > 0 && argv && argv[0])
        execve("/proc/self/exe", argv, env); /* on failure: carry on with libgomp's default */
}
__attribute__((section(".preinit_array"),
               used)) static void (*ops_preinit)(int, char **, char **) = ops_wait_policy;
#endif

/* OpenBLAS (0.3.21, AVX-512 targets) sends calls with M*N*K <= 100^3 to separate "small matrix"
 * kernels that round differently; a slice is therefore never made smaller than that, so a call
 * takes the same kernel path whether or not it was split. */
#define GEMM_SMALL_MNK 1.0e6
/* Rows of C per slice: a multiple of 16 (AVX-512 kernels) and of 24 (Haswell, Zen kernels). */
#define GEMM_SPLIT_ROWS 48

/* KD_GEMM in the environment: "ref", every sgemm by ops_sgemm_ref, whose bytes are the same on
 * every CPU (OpenBLAS's differ from one kernel family to the next); slow, for tests that pin
 * results (tests/test_numerics.sh). "blas": OpenBLAS for attention's small products too
 * (ops_sgemm_small), the rounding of results made before it; make bench times both ways. */
enum { GEMM_FAST, GEMM_REF, GEMM_BLAS };
static int gemm_mode(void)
{
    static int mode = -1;
    if (mode < 0) {
        const char *s = getenv("KD_GEMM");
        mode = !s                   ? GEMM_FAST
               : !strcmp(s, "ref")  ? GEMM_REF
               : !strcmp(s, "blas") ? GEMM_BLAS
                                    : GEMM_FAST;
    }
    return mode;
}

static int gemm_reference(void)
{
    return gemm_mode() == GEMM_REF;
}

int ops_gemm_small_on(void)
{
    return gemm_mode() == GEMM_FAST;
}

void ops_sgemm_serial(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *B, int ldb, float beta, float *C, int ldc)
{
    if (gemm_reference()) {
        ops_sgemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
                K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void ops_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (gemm_reference()) {
        ops_sgemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    int nt = ops_threads();
    double mnk = (double)M * N * K;
    while (nt > 1 && (mnk / nt <= GEMM_SMALL_MNK || M < GEMM_SPLIT_ROWS * nt))
        nt--;
    /* OpenBLAS's own threads split a call by columns too, which is not exact (above): every
     * call, split or not, runs OpenBLAS single-threaded. */
    int saved = openblas_get_num_threads();
    if (saved > 1)
        openblas_set_num_threads(1);
    if (nt <= 1) {
        ops_sgemm_serial(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else {
        OPS_OMP(parallel num_threads(nt))
        {
            size_t lo, hi;
            ops_split((size_t)M, ops_thread_id(), nt, GEMM_SPLIT_ROWS, &lo, &hi);
            if (hi > lo)
                ops_sgemm_serial(ta, tb, (int)(hi - lo), N, K, alpha, ta ? A + lo : A + lo * lda,
                                 lda, B, ldb, beta, C + lo * ldc, ldc);
        }
    }
    if (saved > 1)
        openblas_set_num_threads(saved);
}

/* C (M, N) = alpha sum_k op(A)[m][k] op(B)[k][n] + beta C, in double. */
void ops_sgemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                   const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k]) *
                     (tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n]);
            float *c = C + (size_t)m * ldc + n;
            *c = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
}
