/* The AVX2 form of softmax (core/ops/simd.h) against its scalar loop, compiled here from the same
 * source with OPS_SIMD 0: the bytes must be equal (a NaN equal to any NaN), since results are
 * pinned by numerics version and the two paths must not tell apart. Rows of every width 1..70 and
 * the attention widths, at scales that reach exp's clamps, with infinities and NaNs in some rows,
 * in place and not; and ops_expf8 against ops_expf on every 17th float bit pattern. */
#include "check.h"
#include "ops/ops.h"
#include "ops/simd.h"
#include "base/rng.h"

#include <stdlib.h>
#include <string.h>

/* The scalar loops: softmax.c without simd.h, its functions renamed. */
#if OPS_SIMD
#define SIMD_LIBRARY 1
#else
#define SIMD_LIBRARY 0
#endif
#undef OPS_SIMD
#define OPS_SIMD 0
#define softmax_forward scalar_softmax_forward
#define softmax_forward_serial scalar_softmax_forward_serial
#define softmax_backward scalar_softmax_backward
#define log_softmax_forward scalar_log_softmax_forward
#include "../core/ops/softmax.c"
#undef softmax_forward
#undef softmax_forward_serial
#undef softmax_backward
#undef log_softmax_forward

#if SIMD_LIBRARY
static struct rng R;

/* Index of the first value where a and b differ (both NaN counts as equal), or -1. */
static long first_difference(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(a + i, b + i, sizeof *a) && !(isnan(a[i]) && isnan(b[i])))
            return (long)i;
    return -1;
}

static void test_expf(void)
{
    enum { CHUNK = 1 << 16, STRIDE = 17 };
    static float x[CHUNK], a[CHUNK], b[CHUNK];
    long bad = -1;
    float at = 0;
    for (uint64_t start = 0; start < (1ull << 32) && bad < 0; start += (uint64_t)STRIDE * CHUNK) {
        for (size_t i = 0; i < CHUNK; i++) {
            uint32_t bits = (uint32_t)(start + (uint64_t)STRIDE * i);
            memcpy(x + i, &bits, sizeof bits);
        }
        for (size_t i = 0; i < CHUNK; i += 8)
            _mm256_storeu_ps(a + i, ops_expf8(_mm256_loadu_ps(x + i)));
        for (size_t i = 0; i < CHUNK; i++)
            b[i] = ops_expf(x[i]);
        bad = first_difference(a, b, CHUNK);
        if (bad >= 0)
            at = x[bad];
    }
    CHECK(bad < 0, "ops_expf8 differs from ops_expf at x = %a", at);
}

/* N rows of width C at scale s; every third row holds a special value when specials is set. */
static void test_softmax_width(int N, int C, float s, int specials)
{
    float *x = check_randn(&R, (size_t)N * C, s);
    float *a = malloc(sizeof(float) * N * C), *b = malloc(sizeof(float) * N * C);
    if (!a || !b)
        abort();
    static const float special[] = {INFINITY, -INFINITY, NAN, 1e30f, -1e30f, 0.0f};
    for (int r = 0; specials && r < N; r += 3)
        x[(size_t)r * C + (r * 7) % C] = special[(r / 3) % 6];
    softmax_forward(a, x, 0.37f, N, C);
    scalar_softmax_forward(b, x, 0.37f, N, C);
    long d = first_difference(a, b, (size_t)N * C);
    CHECK(d < 0, "softmax_forward differs from its scalar loop: width %d, scale %g, value %ld", C,
          s, d);
    memcpy(a, x, sizeof(float) * N * C);
    memcpy(b, x, sizeof(float) * N * C);
    softmax_forward_serial(a, a, 1.0f, N, C);
    scalar_softmax_forward_serial(b, b, 1.0f, N, C);
    d = first_difference(a, b, (size_t)N * C);
    CHECK(d < 0, "softmax_forward_serial in place differs: width %d, scale %g, value %ld", C, s, d);
    free(x), free(a), free(b);
}

static void test_softmax(void)
{
    static const float scales[] = {0.01f, 1.0f, 30.0f, 1000.0f};
    static const int wide[] = {196, 197, 256};
    for (int k = 0; k < 4; k++) {
        for (int C = 1; C <= 70; C++)
            test_softmax_width(37, C, scales[k], k % 2);
        for (int w = 0; w < 3; w++)
            test_softmax_width(37, wide[w], scales[k], k % 2 == 0);
    }
}

#else
/* A C test's skip, as tests/skip.sh records one: listed at the end of make test. */
static void skip_record(const char *reason)
{
    const char *path = getenv("KD_SKIPPED") ? getenv("KD_SKIPPED") : "build/skipped.txt";
    FILE *f = fopen(path, "a");
    if (f)
        fprintf(f, "test_simd\t-\t%s\n", reason), fclose(f);
    printf("SKIP: test_simd: %s\n", reason);
}
#endif

int main(void)
{
#if SIMD_LIBRARY
    rng_init(&R, 13, RNG_STREAM_OTHER, 0, 0);
    test_expf();
    test_softmax();
#else
    skip_record("this CPU has no AVX2 and FMA: the library runs the scalar loops alone");
#endif
    return check_report("test_simd");
}
