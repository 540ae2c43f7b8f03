/* The pre-norm transformer block: attention branch and MLP branch, each with a residual and
 * per-sample stochastic depth. The attention-free variant is DC-ViT's compressed block. */
#include "nn/nn.h"
#include "ops/ops.h"

#include <stdio.h>
#include <string.h>

void block_init(struct block *b, struct params *ps, const char *name, int C, int NH, int hidden,
                int attn, float drop_path)
{
    char sub[64];
    b->C = C;
    b->NH = NH;
    b->hidden = hidden;
    b->attn = attn;
    b->drop_path = drop_path;
    if (attn) {
        snprintf(sub, sizeof sub, "%s.norm1", name);
        norm_init(&b->ln1, ps, sub, C);
        snprintf(sub, sizeof sub, "%s.attn.qkv", name);
        linear_init(&b->qkv, ps, sub, C, 3 * C, 1);
        snprintf(sub, sizeof sub, "%s.attn.proj", name);
        linear_init(&b->proj, ps, sub, C, C, 1);
    }
    snprintf(sub, sizeof sub, "%s.norm2", name);
    norm_init(&b->ln2, ps, sub, C);
    snprintf(sub, sizeof sub, "%s.mlp.fc1", name);
    linear_init(&b->fc1, ps, sub, C, hidden, 1);
    snprintf(sub, sizeof sub, "%s.mlp.fc2", name);
    linear_init(&b->fc2, ps, sub, hidden, C, 1);
}

void block_sync_frozen(struct block *b, const struct params *ps)
{
    norm_sync_frozen(&b->ln1, ps);
    linear_sync_frozen(&b->qkv, ps);
    linear_sync_frozen(&b->proj, ps);
    norm_sync_frozen(&b->ln2, ps);
    linear_sync_frozen(&b->fc1, ps);
    linear_sync_frozen(&b->fc2, ps);
}

void block_reset(struct block *b, struct rng *r)
{
    if (b->attn) {
        norm_reset(&b->ln1);
        linear_reset(&b->qkv, r);
        linear_reset(&b->proj, r);
    }
    norm_reset(&b->ln2);
    linear_reset(&b->fc1, r);
    linear_reset(&b->fc2, r);
}

void block_plan_acts(const struct block *b, struct plan *pl, struct block_acts *a, int B, int T)
{
    size_t BT = (size_t)B * T, C = b->C;
    memset(a, 0, sizeof *a);
    if (b->attn) {
        plan_add(pl, &a->ln1, BT * C);
        plan_add(pl, &a->ln1_s.mean, BT);
        plan_add(pl, &a->ln1_s.rstd, BT);
        plan_add(pl, &a->qkv, BT * 3 * C);
        plan_add(pl, &a->att, (size_t)B * b->NH * T * T);
        plan_add(pl, &a->atty, BT * C);
    }
    plan_add(pl, &a->x1, BT * C);
    plan_add(pl, &a->ln2, BT * C);
    plan_add(pl, &a->ln2_s.mean, BT);
    plan_add(pl, &a->ln2_s.rstd, BT);
    plan_add(pl, &a->h, BT * b->hidden);
    plan_add(pl, &a->hg, BT * b->hidden);
    plan_add(pl, &a->dp_buf, 2 * (size_t)B);
}

void block_plan_scratch(struct plan *pl, struct block_scratch *s, int C, int hidden, int B, int T)
{
    size_t BT = (size_t)B * T;
    plan_add(pl, &s->d_ln, BT * C);
    plan_add(pl, &s->d_qkv, BT * 3 * C);
    plan_add(pl, &s->d_atty, BT * C);
    plan_add(pl, &s->d_x1, BT * C);
    plan_add(pl, &s->d_branch, BT * C);
    plan_add(pl, &s->d_hg, BT * hidden);
    plan_add(pl, &s->att, attention_scratch_floats(T));
}

void block_forward(const struct block *b, float *y, struct block_acts *a, const float *x, int B,
                   int T)
{
    int N = B * T;
    size_t M = (size_t)T * b->C;
    if (b->attn) {
        norm_forward(&b->ln1, a->ln1, &a->ln1_s, x, N);
        linear_forward(&b->qkv, a->qkv, a->ln1, N);
        attention_forward(a->atty, a->att, a->qkv, NULL, B, T, b->C, b->NH);
        /* Without drop path the residual rides in sgemm's C (one pass less). */
        if (a->dp1) {
            linear_forward(&b->proj, a->x1, a->atty, N);
            droppath_residual_forward(a->x1, x, a->x1, a->dp1, B, M);
        } else {
            linear_forward_residual(&b->proj, a->x1, a->atty, x, N);
        }
    } else {
        memcpy(a->x1, x, sizeof(float) * N * b->C);
    }
    norm_forward(&b->ln2, a->ln2, &a->ln2_s, a->x1, N);
    linear_forward(&b->fc1, a->h, a->ln2, N);
    gelu_forward(a->hg, a->h, (size_t)N * b->hidden);
    if (a->dp2) {
        linear_forward(&b->fc2, y, a->hg, N);
        droppath_residual_forward(y, a->x1, y, a->dp2, B, M);
    } else {
        linear_forward_residual(&b->fc2, y, a->hg, a->x1, N);
    }
}

/* dx = (set ? 0 : dx) + d(loss)/dx. Every internal gradient is written by its first
 * contribution (beta = 0 GEMMs, *_set ops) instead of zeroed and then accumulated into: the
 * zeroing passes cost as much as the GELU (README "Performance"). Without drop path the branch
 * gradient is dy itself, so it is not copied. */
static void block_backward_impl(struct block *b, float *dx, const float *dy, const float *x,
                                const struct block_acts *a, struct block_scratch *s, int B, int T,
                                int set)
{
    int N = B * T, C = b->C;
    size_t M = (size_t)T * C, NC = (size_t)N * C;
    /* MLP branch: y = x1 + dp2 * fc2(gelu(fc1(ln2(x1)))). d_x1 is dx itself when dx is
     * overwritten (it is d(x1) until LN1's backward adds the attention branch's part). */
    float *d_x1 = set ? dx : s->d_x1;
    const float *d_br = dy;
    memcpy(d_x1, dy, sizeof(float) * NC);
    if (a->dp2) {
        droppath_backward_set(s->d_branch, dy, a->dp2, B, M);
        d_br = s->d_branch;
    }
    linear_backward_set(&b->fc2, s->d_hg, d_br, a->hg, N);
    gelu_backward_set(s->d_hg, s->d_hg, a->h, (size_t)N * b->hidden);
    linear_backward_set(&b->fc1, s->d_ln, s->d_hg, a->ln2, N);
    norm_backward(&b->ln2, d_x1, s->d_ln, a->x1, &a->ln2_s, N);
    if (!set)
        add_forward(dx, dx, d_x1, NC);
    if (!b->attn)
        return;
    /* attention branch: x1 = x + dp1 * proj(attention(qkv(ln1(x)))) */
    d_br = d_x1;
    if (a->dp1) {
        droppath_backward_set(s->d_branch, d_x1, a->dp1, B, M);
        d_br = s->d_branch;
    }
    linear_backward_set(&b->proj, s->d_atty, d_br, a->atty, N);
    attention_backward_set(s->d_qkv, s->att, s->d_atty, a->qkv, a->att, B, T, C, b->NH);
    linear_backward_set(&b->qkv, s->d_ln, s->d_qkv, a->ln1, N);
    norm_backward(&b->ln1, dx, s->d_ln, x, &a->ln1_s, N);
}

void block_backward(struct block *b, float *dx, const float *dy, const float *x,
                    const struct block_acts *a, struct block_scratch *s, int B, int T)
{
    block_backward_impl(b, dx, dy, x, a, s, B, T, 0);
}

void block_backward_set(struct block *b, float *dx, const float *dy, const float *x,
                        const struct block_acts *a, struct block_scratch *s, int B, int T)
{
    block_backward_impl(b, dx, dy, x, a, s, B, T, 1);
}

void block_draw_droppath(const struct block *b, struct block_acts *a, uint64_t seed, int step,
                         int layer, int B, int training)
{
    a->dp1 = a->dp2 = NULL;
    if (!training || b->drop_path <= 0.0f)
        return;
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_DROPPATH, (uint32_t)step, (uint32_t)layer);
    float keep = 1.0f - b->drop_path;
    for (int i = 0; i < 2 * B; i++)
        a->dp_buf[i] = rng_uniform(&r) < keep ? 1.0f / keep : 0.0f;
    a->dp1 = b->attn ? a->dp_buf : NULL;
    a->dp2 = a->dp_buf + B;
}

void block_backward_from_qkv(struct block *b, float *dx, const float *d_qkv, const float *x,
                             const struct block_acts *a, struct block_scratch *s, int B, int T)
{
    int N = B * T;
    linear_backward_set(&b->qkv, s->d_ln, d_qkv, a->ln1, N);
    norm_backward(&b->ln1, dx, s->d_ln, x, &a->ln1_s, N);
}
