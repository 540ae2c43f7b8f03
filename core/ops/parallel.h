/* Threading inside the ops (OpenMP), private to core/ops. One pool serves everything: the
 * elementwise and row-wise kernels split their rows, ops_sgemm splits a GEMM's output into one
 * slice per thread and runs OpenBLAS single-threaded on each, and attention runs one (batch,
 * head) per thread. OpenBLAS's own pool then stays asleep, so two pools never spin against each
 * other on the same cores. The thread count follows OpenBLAS's (kd_runtime_setup sets it from
 * KD_THREADS, Slurm or make -j), so `KD_THREADS=1` means one thread everywhere.
 * Determinism: every split writes disjoint outputs and every reduction keeps its serial order
 * (row sums inside one thread; column sums over all rows, split by columns), so a result is the
 * same bit for bit at any thread count. Without OpenMP (clang's fuzz build) all of it is serial. */
#ifndef KD_OPS_PARALLEL_H
#define KD_OPS_PARALLEL_H

#include <stddef.h>

#ifdef _OPENMP
#include <omp.h>
#define OPS_PRAGMA(x) _Pragma(#x)
#define OPS_OMP(...) OPS_PRAGMA(omp __VA_ARGS__)
#else
#define OPS_OMP(...)
#endif

/* Upper bound on threads used by the ops: per-thread scratch (attention) is sized by it. */
#define OPS_MAX_THREADS 16

/* Below this many floats touched, an elementwise kernel runs on one thread: waking the pool
 * costs a few microseconds, what ~16K floats of streaming work take. */
#define OPS_PAR_MIN 32768

/* OpenBLAS extensions, declared here because the system cblas.h may be netlib's. */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

/* Threads the ops may use now: OpenBLAS's setting, at most OPS_MAX_THREADS, 1 without OpenMP. */
static inline int ops_threads(void)
{
#ifdef _OPENMP
    int n = openblas_get_num_threads();
    return n < 1 ? 1 : n > OPS_MAX_THREADS ? OPS_MAX_THREADS : n;
#else
    return 1;
#endif
}

/* Threads for work over n floats: 1 when it is too small to be worth splitting. */
static inline int ops_threads_for(size_t n)
{
    return n < OPS_PAR_MIN ? 1 : ops_threads();
}

/* The same for work over n floats in `parts` independent pieces (blocks of channels): at most
 * one thread a piece. */
static inline int ops_threads_for_parts(size_t n, int parts)
{
    int t = ops_threads_for(n);
    return t < parts ? t : parts;
}

/* Channels per block for kernels over NHWC rows that split channels among threads (batchnorm,
 * depthwise conv): one block a thread, so that each walks whole rows of its channels in memory
 * order (blocks narrower than a row stride through memory and run several times slower), at
 * most `cap` (what the kernel keeps on its stack) and a multiple of 8 floats. n: floats touched. */
static inline int ops_channel_block(int C, size_t n, int cap)
{
    int t = ops_threads_for(n), cb = (C + t - 1) / t;
    cb = (cb + 7) / 8 * 8;
    return cb < cap ? cb : cap;
}

static inline int ops_thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* [lo, hi) of n items for part t of p, contiguous, in multiples of `align` items. */
static inline void ops_split(size_t n, int t, int p, size_t align, size_t *lo, size_t *hi)
{
    size_t blocks = (n + align - 1) / align;
    size_t b0 = blocks * t / p, b1 = blocks * (t + 1) / p;
    *lo = b0 * align < n ? b0 * align : n;
    *hi = b1 * align < n ? b1 * align : n;
}

#endif
