/* Parameter registry and buffer plans: register, then allocate once. */
#include "params.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_FLOATS 16 /* 64 bytes: every tensor starts on a cache line */

static size_t aligned(size_t n)
{
    return (n + ALIGN_FLOATS - 1) & ~(size_t)(ALIGN_FLOATS - 1);
}

void params_begin(struct params *ps)
{
    memset(ps, 0, sizeof *ps);
}

void params_add(struct params *ps, float **w, float **g, int decay, const char *prefix,
                const char *name, int d0, int d1, int d2, int d3)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 64;
        ps->p = realloc(ps->p, ps->cap * sizeof *ps->p);
        KD_ASSERT(ps->p);
    }
    struct param *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s%s%s", prefix, prefix[0] ? "." : "", name);
    p->w = w;
    p->g = g;
    p->decay = decay;
    int dims[4] = {d0, d1, d2, d3};
    p->n = 1;
    for (int i = 0; i < 4 && dims[i] > 0; i++) {
        p->shape[p->ndim++] = dims[i];
        p->n *= (size_t)dims[i];
    }
    ps->total += aligned(p->n);
}

int params_alloc(struct params *ps, struct kd_err *e)
{
    size_t bytes = ps->total * sizeof(float);
    if (arena_init(&ps->values, bytes) || arena_init(&ps->grads, bytes))
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory for %zu parameters", ps->total);
    for (int i = 0; i < ps->n; i++) {
        struct param *p = &ps->p[i];
        *p->w = arena_floats(&ps->values, aligned(p->n));
        if (p->g)
            *p->g = arena_floats(&ps->grads, aligned(p->n));
        else
            arena_floats(&ps->grads, aligned(p->n));
    }
    return 0;
}

void params_free(struct params *ps)
{
    arena_free(&ps->values);
    arena_free(&ps->grads);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

void params_zero_grad(struct params *ps)
{
    if (ps->grads.base)
        memset(ps->grads.base, 0, ps->grads.used);
}

struct param *params_find(struct params *ps, const char *name)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].name, name) == 0)
            return &ps->p[i];
    return NULL;
}

int params_slot_frozen(const struct params *ps, float *const *slot)
{
    for (int i = 0; i < ps->n; i++)
        if (ps->p[i].w == slot)
            return ps->p[i].frozen;
    return 0;
}

float *params_values(struct params *ps)
{
    return (float *)ps->values.base;
}

float *params_grads(struct params *ps)
{
    return (float *)ps->grads.base;
}

void params_view(struct params *view, struct params *const *sets, int n_sets)
{
    memset(view, 0, sizeof *view);
    for (int s = 0; s < n_sets; s++)
        view->n += sets[s]->n;
    view->p = calloc(view->n ? view->n : 1, sizeof *view->p);
    KD_ASSERT(view->p);
    view->cap = view->n;
    int at = 0;
    for (int s = 0; s < n_sets; s++) {
        memcpy(view->p + at, sets[s]->p, sizeof *view->p * sets[s]->n);
        at += sets[s]->n;
        view->total += sets[s]->total;
    }
}

void params_view_free(struct params *view)
{
    free(view->p);
    memset(view, 0, sizeof *view);
}

void plan_begin(struct plan *pl)
{
    memset(pl, 0, sizeof *pl);
}

void plan_add(struct plan *pl, float **slot, size_t n)
{
    if (pl->n == pl->cap) {
        pl->cap = pl->cap ? 2 * pl->cap : 64;
        pl->items = realloc(pl->items, pl->cap * sizeof *pl->items);
        KD_ASSERT(pl->items);
    }
    pl->items[pl->n].slot = slot;
    pl->items[pl->n].n = n;
    pl->n++;
    pl->total += aligned(n);
}

int plan_alloc(struct plan *pl, struct kd_err *e)
{
    if (arena_init(&pl->arena, pl->total * sizeof(float)))
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory for %zu MB of buffers",
                          pl->total * sizeof(float) >> 20);
    for (int i = 0; i < pl->n; i++)
        *pl->items[i].slot = arena_floats(&pl->arena, aligned(pl->items[i].n));
    return 0;
}

void plan_free(struct plan *pl)
{
    arena_free(&pl->arena);
    free(pl->items);
    memset(pl, 0, sizeof *pl);
}
