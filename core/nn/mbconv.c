/* TinyViT's MBConv, the inverted-residual block of stage 1: expand 1x1, depthwise 3x3, project
 * 1x1, each Conv2d_BN, GELU between, per-sample drop-path on the branch, GELU after the sum. */
#include "nn/tinyvit_layers.h"
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>

void mbconv_init(struct mbconv *m, struct params *ps, const char *name, int C, float ratio,
                 float drop_path)
{
    char sub[64];
    m->C = C;
    m->hidden = (int)(C * ratio);
    m->drop_path = drop_path;
    snprintf(sub, sizeof sub, "%s.conv1", name);
    conv_bn_init(&m->conv1, ps, sub, C, m->hidden, 1, 1, 0, 1.0f);
    snprintf(sub, sizeof sub, "%s.conv2", name);
    conv_bn_init(&m->conv2, ps, sub, m->hidden, m->hidden, 3, 1, 1, 1.0f);
    snprintf(sub, sizeof sub, "%s.conv3", name);
    /* BN weight 0: the block starts as GELU(x), as TinyViT's bn_weight_init=0.0. */
    conv_bn_init(&m->conv3, ps, sub, m->hidden, C, 1, 1, 0, 0.0f);
}

void mbconv_reset(struct mbconv *m, struct rng *r)
{
    conv_bn_reset(&m->conv1, r);
    conv_bn_reset(&m->conv2, r);
    conv_bn_reset(&m->conv3, r);
}

void mbconv_plan_acts(const struct mbconv *m, struct plan *pl, struct mbconv_acts *a, int B, int H,
                      int W)
{
    size_t px = (size_t)B * H * W;
    memset(a, 0, sizeof *a);
    conv_bn_plan_acts(&m->conv1, pl, &a->a1, B, H, W);
    conv_bn_plan_acts(&m->conv2, pl, &a->a2, B, H, W);
    conv_bn_plan_acts(&m->conv3, pl, &a->a3, B, H, W);
    plan_add(pl, &a->c1, px * m->hidden);
    plan_add(pl, &a->g1, px * m->hidden);
    plan_add(pl, &a->c2, px * m->hidden);
    plan_add(pl, &a->g2, px * m->hidden);
    plan_add(pl, &a->c3, px * m->C);
    plan_add(pl, &a->s, px * m->C);
    plan_add(pl, &a->dp_buf, B);
}

static size_t max3(size_t a, size_t b, size_t c)
{
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* Backward: ds, dbranch (B,H,W,C); two (B,H,W,hidden) ping-pong buffers; the conv_bn scratch. */
size_t mbconv_scratch_floats(const struct mbconv *m, int B, int H, int W)
{
    size_t px = (size_t)B * H * W;
    return 2 * px * m->C + 2 * px * m->hidden +
           max3(conv_bn_scratch_floats(&m->conv1, B, H, W),
                conv_bn_scratch_floats(&m->conv2, B, H, W),
                conv_bn_scratch_floats(&m->conv3, B, H, W));
}

void mbconv_forward(struct mbconv *m, float *y, struct mbconv_acts *a, float *scratch,
                    const float *x, int B, int H, int W, int training, uint64_t seed, int step,
                    int layer)
{
    size_t px = (size_t)B * H * W, M = (size_t)H * W * m->C;
    conv_bn_forward(&m->conv1, a->c1, &a->a1, scratch, x, B, H, W, training);
    gelu_forward(a->g1, a->c1, px * m->hidden);
    conv_bn_forward(&m->conv2, a->c2, &a->a2, scratch, a->g1, B, H, W, training);
    gelu_forward(a->g2, a->c2, px * m->hidden);
    conv_bn_forward(&m->conv3, a->c3, &a->a3, scratch, a->g2, B, H, W, training);
    a->dp = tv_droppath_draw(a->dp_buf, m->drop_path, seed, step, layer, 0, B, training);
    if (a->dp)
        for (int b = 0; b < B; b++)
            for (size_t i = 0; i < M; i++)
                a->s[b * M + i] = x[b * M + i] + a->dp[b] * a->c3[b * M + i];
    else
        add_forward(a->s, x, a->c3, px * m->C);
    gelu_forward(y, a->s, px * m->C);
}

void mbconv_backward(struct mbconv *m, float *dx, float *scratch, const float *dy, const float *x,
                     const struct mbconv_acts *a, int B, int H, int W)
{
    size_t px = (size_t)B * H * W, nc = px * m->C, nh = px * m->hidden, M = (size_t)H * W * m->C;
    float *ds = scratch, *dbr = ds + nc, *dp = dbr + nc, *dq = dp + nh, *cs = dq + nh;
    gelu_backward_set(ds, dy, a->s, nc);
    add_forward(dx, dx, ds, nc);
    if (a->dp)
        for (int b = 0; b < B; b++)
            for (size_t i = 0; i < M; i++)
                dbr[b * M + i] = ds[b * M + i] * a->dp[b];
    else
        memcpy(dbr, ds, sizeof(float) * nc);
    memset(dp, 0, sizeof(float) * nh);
    conv_bn_backward(&m->conv3, dp, cs, dbr, a->g2, &a->a3, B, H, W); /* dp = d g2 */
    gelu_backward_set(dq, dp, a->c2, nh);                             /* dq = d c2 */
    memset(dp, 0, sizeof(float) * nh);
    conv_bn_backward(&m->conv2, dp, cs, dq, a->g1, &a->a2, B, H, W); /* dp = d g1 */
    gelu_backward_set(dq, dp, a->c1, nh);                            /* dq = d c1 */
    conv_bn_backward(&m->conv1, dx, cs, dq, x, &a->a1, B, H, W);
}

double mbconv_macs(const struct mbconv *m, int H, int W)
{
    return conv_bn_macs(&m->conv1, H, W) + conv_bn_macs(&m->conv2, H, W) +
           conv_bn_macs(&m->conv3, H, W);
}
