/* Arenas: one block per role (parameters, gradients, moments, activations, scratch). Sizes are
 * computed first, the block is allocated once, and nothing is allocated inside the step loop. */
#ifndef KD_ARENA_H
#define KD_ARENA_H

#include <stddef.h>

struct arena {
    char *base;   /* 64-byte aligned block, zeroed at creation */
    size_t cap;   /* bytes */
    size_t used;  /* bytes handed out */
    int counting; /* 1: only count sizes (base is NULL) */
};

/* A counting arena: arena_alloc returns NULL but adds up sizes, for the sizing pass. */
void arena_init_counting(struct arena *a);
/* Allocate cap bytes at once; returns 0 or KD_ERR_NOMEM. */
int arena_init(struct arena *a, size_t cap);
/* n floats, 64-byte aligned, zeroed. Aborts on overflow: sizes were computed beforehand. */
float *arena_floats(struct arena *a, size_t n);
void *arena_alloc(struct arena *a, size_t bytes);
void arena_free(struct arena *a);

/* Count of heap allocations made through arena_init; tests check it does not grow in a step. */
extern long kd_alloc_count;

#endif
