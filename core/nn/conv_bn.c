/* TinyViT's Conv2d_BN: a bias-free convolution (dense or depthwise) followed by BatchNorm2d,
 * the unit of its stem, MBConv blocks, local convs and patch merging. Training mode normalizes
 * with batch statistics and updates the running ones; eval mode uses the running ones. */
#include "nn/tinyvit_layers.h"
#include "ops/ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void conv_bn_init(struct conv_bn *l, struct params *ps, const char *name, int IC, int OC, int K,
                  int stride, int depthwise, float bn_init)
{
    char sub[64];
    l->IC = IC;
    l->OC = OC;
    l->K = K;
    l->stride = stride;
    l->pad = K / 2;
    l->dw = depthwise;
    l->bn_init = bn_init;
    snprintf(sub, sizeof sub, "%s.c", name);
    if (depthwise)
        params_add(ps, &l->w, &l->gw, 1, sub, "weight", OC, 1, K, K);
    else if (K == 1)
        params_add(ps, &l->w, &l->gw, 1, sub, "weight", OC, IC, 1, 1);
    else
        params_add(ps, &l->w, &l->gw, 1, sub, "weight", OC, K, K, IC);
    snprintf(sub, sizeof sub, "%s.bn", name);
    params_add(ps, &l->bw, &l->gbw, 0, sub, "weight", OC, 0, 0, 0);
    params_add(ps, &l->bb, &l->gbb, 0, sub, "bias", OC, 0, 0, 0);
    params_add(ps, &l->rmean, &l->grm, 0, sub, "running_mean", OC, 0, 0, 0);
    ps->p[ps->n - 1].frozen = 1;
    params_add(ps, &l->rvar, &l->grv, 0, sub, "running_var", OC, 0, 0, 0);
    ps->p[ps->n - 1].frozen = 1;
    params_add(ps, &l->nbt, &l->gnbt, 0, sub, "num_batches_tracked", 1, 0, 0, 0);
    ps->p[ps->n - 1].frozen = 1;
}

void conv_bn_reset(struct conv_bn *l, struct rng *r)
{
    int fan_in = l->K * l->K * (l->dw ? 1 : l->IC);
    size_t n = (size_t)l->OC * l->K * l->K * (l->dw ? 1 : l->IC);
    init_uniform(l->w, n, 1.0f / sqrtf((float)fan_in), r);
    for (int c = 0; c < l->OC; c++) {
        l->bw[c] = l->bn_init;
        l->bb[c] = 0.0f;
        l->rmean[c] = 0.0f;
        l->rvar[c] = 1.0f;
    }
    l->nbt[0] = 0.0f;
}

int conv_bn_out(const struct conv_bn *l, int n)
{
    return (n + 2 * l->pad - l->K) / l->stride + 1;
}

void conv_bn_plan_acts(const struct conv_bn *l, struct plan *pl, struct conv_bn_acts *a, int B,
                       int H, int W)
{
    memset(a, 0, sizeof *a);
    plan_add(pl, &a->conv, (size_t)B * conv_bn_out(l, H) * conv_bn_out(l, W) * l->OC);
    plan_add(pl, &a->mean, l->OC);
    plan_add(pl, &a->rstd, l->OC);
}

static size_t conv_bn_col(const struct conv_bn *l, int B, int H, int W)
{
    return l->dw ? 0 : conv_col_floats(B, H, W, l->IC, l->K, l->stride, l->pad);
}

/* Backward: the BN input gradient (B, OH, OW, OC), then the im2col buffer. */
size_t conv_bn_scratch_floats(const struct conv_bn *l, int B, int H, int W)
{
    return (size_t)B * conv_bn_out(l, H) * conv_bn_out(l, W) * l->OC + conv_bn_col(l, B, H, W);
}

void conv_bn_forward(struct conv_bn *l, float *y, struct conv_bn_acts *a, float *scratch,
                     const float *x, int B, int H, int W, int training)
{
    int OH = conv_bn_out(l, H), OW = conv_bn_out(l, W);
    if (l->dw)
        dwconv_forward(a->conv, x, l->w, NULL, B, H, W, l->OC, l->K, l->stride, l->pad);
    else
        conv_forward(a->conv, scratch, x, l->w, NULL, B, H, W, l->IC, l->OC, l->K, l->stride,
                     l->pad);
    a->training = training;
    /* The first updates average cumulatively (1, 1/2, ... down to the momentum), so the running
     * statistics hold no trace of their initial values after a few steps; with torch's fixed
     * 0.1, 15 steps (a smoke run) keep 20% of the initial variance 1 and eval mode is off. */
    float momentum = TV_BN_MOMENTUM;
    if (training) {
        float cum = 1.0f / (l->nbt[0] + 1.0f);
        momentum = cum > momentum ? cum : momentum;
        l->nbt[0] += 1.0f;
    }
    batchnorm_forward(y, a->mean, a->rstd, l->rmean, l->rvar, a->conv, l->bw, l->bb, B * OH * OW,
                      l->OC, momentum, training);
}

/* Eval-mode BN is an affine map per channel: dx = dy * w * rstd. */
static void bn_eval_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                             const float *w, const float *mean, const float *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C, *x = inp + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        for (int c = 0; c < C; c++) {
            db[c] += d[c];
            dw[c] += d[c] * (x[c] - mean[c]) * rstd[c];
            dx[c] += d[c] * w[c] * rstd[c];
        }
    }
}

void conv_bn_backward(struct conv_bn *l, float *dx, float *scratch, const float *dy, const float *x,
                      const struct conv_bn_acts *a, int B, int H, int W)
{
    int OH = conv_bn_out(l, H), OW = conv_bn_out(l, W), N = B * OH * OW;
    float *dconv = scratch, *col = scratch + (size_t)N * l->OC;
    memset(dconv, 0, sizeof(float) * N * l->OC);
    if (a->training)
        batchnorm_backward(dconv, l->gbw, l->gbb, dy, a->conv, l->bw, a->mean, a->rstd, N, l->OC);
    else
        bn_eval_backward(dconv, l->gbw, l->gbb, dy, a->conv, l->bw, a->mean, a->rstd, N, l->OC);
    if (l->dw)
        dwconv_backward(dx, l->gw, NULL, dconv, x, l->w, B, H, W, l->OC, l->K, l->stride, l->pad);
    else
        conv_backward(dx, l->gw, NULL, col, dconv, x, l->w, B, H, W, l->IC, l->OC, l->K, l->stride,
                      l->pad);
}

double conv_bn_macs(const struct conv_bn *l, int H, int W)
{
    double px = (double)conv_bn_out(l, H) * conv_bn_out(l, W);
    return px * l->OC * l->K * l->K * (l->dw ? 1 : l->IC);
}
