/* Bump allocator over one aligned block. */
#include "arena.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

long kd_alloc_count;

void arena_init_counting(struct arena *a)
{
    a->base = NULL;
    a->cap = 0;
    a->used = 0;
    a->counting = 1;
}

int arena_init(struct arena *a, size_t cap)
{
    a->counting = 0;
    a->used = 0;
    a->cap = cap;
    a->base = NULL;
    if (cap == 0)
        return 0;
    a->base = aligned_alloc(64, (cap + 63) & ~(size_t)63);
    if (!a->base)
        return KD_ERR_NOMEM;
    memset(a->base, 0, cap);
    kd_alloc_count++;
    return 0;
}

void *arena_alloc(struct arena *a, size_t bytes)
{
    size_t at = (a->used + 63) & ~(size_t)63;
    a->used = at + bytes;
    if (a->counting)
        return NULL;
    KD_ASSERT(a->used <= a->cap);
    return a->base + at;
}

float *arena_floats(struct arena *a, size_t n)
{
    return arena_alloc(a, n * sizeof(float));
}

void arena_free(struct arena *a)
{
    free(a->base);
    a->base = NULL;
    a->cap = a->used = 0;
}
