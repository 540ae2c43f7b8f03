/* TinyViT's PatchMerging between stages: 1x1 conv to the next width, 3x3 depthwise stride 2,
 * 1x1 conv, each Conv2d_BN, GELU after the first two. Halves the side (rounding up). */
#include "nn/tinyvit_layers.h"
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>

void patch_merge_init(struct patch_merge *p, struct params *ps, const char *name, int Cin, int Cout)
{
    char sub[64];
    p->Cin = Cin;
    p->Cout = Cout;
    snprintf(sub, sizeof sub, "%s.conv1", name);
    conv_bn_init(&p->conv1, ps, sub, Cin, Cout, 1, 1, 0, 1.0f);
    snprintf(sub, sizeof sub, "%s.conv2", name);
    conv_bn_init(&p->conv2, ps, sub, Cout, Cout, 3, 2, 1, 1.0f);
    snprintf(sub, sizeof sub, "%s.conv3", name);
    conv_bn_init(&p->conv3, ps, sub, Cout, Cout, 1, 1, 0, 1.0f);
}

void patch_merge_reset(struct patch_merge *p, struct rng *r)
{
    conv_bn_reset(&p->conv1, r);
    conv_bn_reset(&p->conv2, r);
    conv_bn_reset(&p->conv3, r);
}

int patch_merge_out(int n)
{
    return (n + 2 - 3) / 2 + 1;
}

void patch_merge_plan_acts(const struct patch_merge *p, struct plan *pl, struct patch_merge_acts *a,
                           int B, int H, int W)
{
    int OH = patch_merge_out(H), OW = patch_merge_out(W);
    size_t n1 = (size_t)B * H * W * p->Cout, n2 = (size_t)B * OH * OW * p->Cout;
    memset(a, 0, sizeof *a);
    conv_bn_plan_acts(&p->conv1, pl, &a->a1, B, H, W);
    conv_bn_plan_acts(&p->conv2, pl, &a->a2, B, H, W);
    conv_bn_plan_acts(&p->conv3, pl, &a->a3, B, OH, OW);
    plan_add(pl, &a->c1, n1);
    plan_add(pl, &a->g1, n1);
    plan_add(pl, &a->c2, n2);
    plan_add(pl, &a->g2, n2);
}

/* Backward: two (B, H, W, Cout) buffers, then the largest conv_bn scratch. */
size_t patch_merge_scratch_floats(const struct patch_merge *p, int B, int H, int W)
{
    int OH = patch_merge_out(H), OW = patch_merge_out(W);
    size_t s1 = conv_bn_scratch_floats(&p->conv1, B, H, W);
    size_t s2 = conv_bn_scratch_floats(&p->conv2, B, H, W);
    size_t s3 = conv_bn_scratch_floats(&p->conv3, B, OH, OW);
    size_t m = s1 > s2 ? s1 : s2;
    return 2 * (size_t)B * H * W * p->Cout + (m > s3 ? m : s3);
}

void patch_merge_forward(struct patch_merge *p, float *y, struct patch_merge_acts *a,
                         float *scratch, const float *x, int B, int H, int W, int training)
{
    int OH = patch_merge_out(H), OW = patch_merge_out(W);
    size_t n1 = (size_t)B * H * W * p->Cout, n2 = (size_t)B * OH * OW * p->Cout;
    conv_bn_forward(&p->conv1, a->c1, &a->a1, scratch, x, B, H, W, training);
    gelu_forward(a->g1, a->c1, n1);
    conv_bn_forward(&p->conv2, a->c2, &a->a2, scratch, a->g1, B, H, W, training);
    gelu_forward(a->g2, a->c2, n2);
    conv_bn_forward(&p->conv3, y, &a->a3, scratch, a->g2, B, OH, OW, training);
}

void patch_merge_backward(struct patch_merge *p, float *dx, float *scratch, const float *dy,
                          const float *x, const struct patch_merge_acts *a, int B, int H, int W)
{
    int OH = patch_merge_out(H), OW = patch_merge_out(W);
    size_t n1 = (size_t)B * H * W * p->Cout, n2 = (size_t)B * OH * OW * p->Cout;
    float *da = scratch, *db = da + n1, *cs = db + n1;
    memset(da, 0, sizeof(float) * n2);
    conv_bn_backward(&p->conv3, da, cs, dy, a->g2, &a->a3, B, OH, OW); /* da = d g2 */
    memset(db, 0, sizeof(float) * n2);
    gelu_backward(db, da, a->c2, n2); /* db = d c2 */
    memset(da, 0, sizeof(float) * n1);
    conv_bn_backward(&p->conv2, da, cs, db, a->g1, &a->a2, B, H, W); /* da = d g1 */
    memset(db, 0, sizeof(float) * n1);
    gelu_backward(db, da, a->c1, n1); /* db = d c1 */
    conv_bn_backward(&p->conv1, dx, cs, db, x, &a->a1, B, H, W);
}

double patch_merge_macs(const struct patch_merge *p, int H, int W)
{
    int OH = patch_merge_out(H), OW = patch_merge_out(W);
    return conv_bn_macs(&p->conv1, H, W) + conv_bn_macs(&p->conv2, H, W) +
           conv_bn_macs(&p->conv3, OH, OW);
}
