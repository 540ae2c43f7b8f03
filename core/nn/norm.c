/* LayerNorm layer: pre-norm of every transformer block and the final norm. */
#include "nn/nn.h"
#include "ops/ops.h"

#include <string.h>

void norm_init(struct norm *n, struct params *ps, const char *name, int C)
{
    n->C = C;
    n->frozen = 0;
    params_add(ps, &n->w, &n->gw, 0, name, "weight", C, 0, 0, 0);
    params_add(ps, &n->b, &n->gb, 0, name, "bias", C, 0, 0, 0);
}

void norm_reset(struct norm *n)
{
    for (int i = 0; i < n->C; i++)
        n->w[i] = 1.0f;
    memset(n->b, 0, sizeof(float) * n->C);
}

void norm_forward(const struct norm *n, float *y, struct norm_acts *a, const float *x, int N)
{
    layernorm_forward(y, a->mean, a->rstd, x, n->w, n->b, N, n->C);
}

void norm_backward(struct norm *n, float *dx, const float *dy, const float *x,
                   const struct norm_acts *a, int N)
{
    layernorm_backward(dx, n->frozen ? NULL : n->gw, n->frozen ? NULL : n->gb, dy, x, n->w, a->mean,
                       a->rstd, N, n->C);
}

void norm_sync_frozen(struct norm *n, const struct params *ps)
{
    n->frozen = params_slot_frozen(ps, &n->w) && params_slot_frozen(ps, &n->b);
}
