/* AVX2 forms of ops_expf and its parts (ops.h), for softmax's rows. gcc vectorizes the scalar
 * forms, but in softmax's 16-lane loops its code ran 2.4x slower than these, and softmax was 7%
 * of a small ViT's step (GELU's loop, vectorized by gcc as well as by hand, stays scalar code).
 * Every function here does the operations of its scalar twin in the same order, fused where the
 * twin calls OPS_FMA and nowhere else, so the bits are the same with or without it
 * (tests/test_simd.c). OPS_SIMD is 0 without AVX2 and FMA: the callers keep their scalar loops. */
#ifndef KD_OPS_SIMD_H
#define KD_OPS_SIMD_H

#if defined(__AVX2__) && defined(__FMA__)
#define OPS_SIMD 1
#include <immintrin.h>

#define OPS_V(c) _mm256_set1_ps(c)

/* ops_exp_reduce on 8 lanes: returns p, with n in *n_out. */
static inline __attribute__((always_inline)) __m256 ops_exp_reduce8(__m256 x, __m256 *n_out)
{
    __m256 big = OPS_V(12582912.0f);
    __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, OPS_V(1.44269504088896341f), big), big);
    __m256 r =
        _mm256_fmadd_ps(n, OPS_V(2.12194440e-4f), _mm256_fmadd_ps(n, OPS_V(-0.693359375f), x));
    __m256 p = OPS_V(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, OPS_V(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, OPS_V(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, OPS_V(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, OPS_V(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, OPS_V(5.0000001201e-1f));
    *n_out = n;
    return _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, OPS_V(1.0f)));
}

/* ops_exp2_int on 8 lanes. */
static inline __attribute__((always_inline)) __m256 ops_exp2_int8(__m256 n)
{
    __m256i e = _mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

/* ops_expf on 8 lanes: x < -87 ? -87 : x is max(x, -87) with the NaN kept (second operand). */
static inline __attribute__((always_inline)) __m256 ops_expf8(__m256 x)
{
    x = _mm256_max_ps(OPS_V(-87.0f), x);
    x = _mm256_min_ps(OPS_V(88.0f), x);
    __m256 n, p = ops_exp_reduce8(x, &n);
    /* n >= -126 ? n : -126: a NaN n gives -126, as in the scalar form. */
    return _mm256_mul_ps(p, ops_exp2_int8(_mm256_max_ps(n, OPS_V(-126.0f))));
}

#else
#define OPS_SIMD 0
#endif

#endif
