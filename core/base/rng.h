/* Counter-based random numbers (Philox-style 4x32 with 10 rounds): every draw is a pure function
 * of (seed, stream, epoch, sample, counter), so an augmentation or an init replays the same
 * whatever way a job was split or resumed. No global state. */
#ifndef KD_RNG_H
#define KD_RNG_H

#include <stdint.h>

/* Streams keep unrelated uses of one seed apart. */
enum rng_stream {
    RNG_STREAM_INIT = 1,     /* parameter initialization */
    RNG_STREAM_SHUFFLE = 2,  /* epoch order */
    RNG_STREAM_AUGMENT = 3,  /* per-sample augmentation */
    RNG_STREAM_DROPPATH = 4, /* stochastic depth */
    RNG_STREAM_MASK = 5,     /* MAE masks */
    RNG_STREAM_SUBSET = 6,   /* subset and few-shot selection */
    RNG_STREAM_OTHER = 7,
};

/* A generator: a fixed key and a running counter. Cheap to copy; copying forks it. */
struct rng {
    uint32_t key[2]; /* from seed and stream */
    uint32_t ctr[4]; /* ctr[0] runs; ctr[1..3] = epoch, sample, user */
    uint32_t buf[4]; /* the last block's outputs */
    int left;        /* outputs of buf not yet used */
};

/* A generator for (seed, stream, epoch, sample). */
void rng_init(struct rng *r, uint64_t seed, uint32_t stream, uint32_t epoch, uint32_t sample);
uint32_t rng_u32(struct rng *r);
/* Uniform in [0, 1) with 24 random bits. */
float rng_uniform(struct rng *r);
/* Standard normal (Box-Muller). */
float rng_normal(struct rng *r);
/* Uniform integer in [0, n). */
uint32_t rng_below(struct rng *r, uint32_t n);
/* In-place Fisher-Yates shuffle of n ints. */
void rng_shuffle(struct rng *r, int *v, int n);

#endif
