/* Philox4x32-10 (Salmon et al., SC'11): a keyed bijection on a 128-bit counter. Its outputs pass
 * BigCrush, and its being counter-based is what makes per-sample replay free. */
#include "rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void philox_block(const uint32_t key_in[2], const uint32_t ctr_in[4], uint32_t out[4])
{
    uint32_t k0 = key_in[0], k1 = key_in[1];
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void rng_init(struct rng *r, uint64_t seed, uint32_t stream, uint32_t epoch, uint32_t sample)
{
    r->key[0] = (uint32_t)seed ^ (stream * 0x85EBCA6Bu);
    r->key[1] = (uint32_t)(seed >> 32) ^ (stream * 0xC2B2AE35u) ^ 0x27D4EB2Fu;
    r->ctr[0] = 0;
    r->ctr[1] = epoch;
    r->ctr[2] = sample;
    r->ctr[3] = stream;
    r->left = 0;
}

uint32_t rng_u32(struct rng *r)
{
    if (r->left == 0) {
        philox_block(r->key, r->ctr, r->buf);
        r->ctr[0]++;
        r->left = 4;
    }
    return r->buf[4 - r->left--];
}

float rng_uniform(struct rng *r)
{
    return (float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float rng_normal(struct rng *r)
{
    /* 1 - u keeps the log argument in (0, 1]. */
    float u1 = 1.0f - rng_uniform(r);
    float u2 = rng_uniform(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    /* Lemire's multiply-shift; the bias (< n / 2^32) is negligible for our n. */
    return (uint32_t)(((uint64_t)rng_u32(r) * n) >> 32);
}

void rng_shuffle(struct rng *r, int *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)i + 1);
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}
