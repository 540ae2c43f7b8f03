/* Fully connected layer over rows: the ViT's qkv, projection, MLP and head. */
#include "nn/nn.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>

void linear_init(struct linear *l, struct params *ps, const char *name, int in, int out,
                 int has_bias)
{
    l->in = in;
    l->out = out;
    l->has_bias = has_bias;
    l->init = ps->init;
    l->b = l->gb = NULL;
    l->frozen = 0;
    params_add(ps, &l->w, &l->gw, 1, name, "weight", out, in, 0, 0);
    if (has_bias)
        params_add(ps, &l->b, &l->gb, 0, name, "bias", out, 0, 0, 0);
}

void linear_reset(struct linear *l, struct rng *r)
{
    size_t n = (size_t)l->out * l->in;
    if (l->init == WEIGHT_INIT_TIMM) {
        init_trunc_normal(l->w, n, 0.02f, r);
        if (l->b)
            memset(l->b, 0, sizeof(float) * l->out);
        return;
    }
    float bound = 1.0f / sqrtf((float)l->in);
    init_uniform(l->w, n, bound, r);
    if (l->b)
        init_uniform(l->b, l->out, bound, r);
}

void init_uniform(float *w, size_t n, float bound, struct rng *r)
{
    for (size_t i = 0; i < n; i++)
        w[i] = bound * (2.0f * rng_uniform(r) - 1.0f);
}

void linear_forward(const struct linear *l, float *y, const float *x, int N)
{
    matmul_forward(y, x, l->w, l->b, N, l->in, l->out);
}

void linear_forward_residual(const struct linear *l, float *y, const float *x, const float *res,
                             int N)
{
    matmul_forward_residual(y, x, l->w, l->b, res, N, l->in, l->out);
}

/* A frozen layer's weight and bias gradients would never be read (the optimizer, the gradient
 * norm and the NaN check skip frozen parameters): their GEMM is a third of a backward pass. */
void linear_backward(struct linear *l, float *dx, const float *dy, const float *x, int N)
{
    matmul_backward(dx, l->frozen ? NULL : l->gw, l->frozen ? NULL : l->gb, dy, x, l->w, N, l->in,
                    l->out);
}

void linear_backward_set(struct linear *l, float *dx, const float *dy, const float *x, int N)
{
    matmul_backward_set(dx, l->frozen ? NULL : l->gw, l->frozen ? NULL : l->gb, dy, x, l->w, N,
                        l->in, l->out);
}

void linear_sync_frozen(struct linear *l, const struct params *ps)
{
    l->frozen = params_slot_frozen(ps, &l->w) && (!l->b || params_slot_frozen(ps, &l->b));
}

void init_trunc_normal(float *w, size_t n, float s, struct rng *r)
{
    for (size_t i = 0; i < n; i++) {
        float v;
        do
            v = rng_normal(r) * s;
        while (v < -2.0f || v > 2.0f);
        w[i] = v;
    }
}
