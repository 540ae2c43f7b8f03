/* TinyViT: wiring of the conv stem, MBConv stage, TinyViT-block stages, patch merging and head.
 * The layers are in core/nn (conv_bn, mbconv, window_attn, tinyvit_block, patch_merge). */
#include "models/tinyvit.h"
#include "ops/ops.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tinyvit_check(const struct tinyvit_spec *c, struct kd_err *e)
{
    int n = c->n_dims;
    if (n < 1 || n > TINYVIT_MAX_STAGES)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "give 1 to 6 stages (TinyViT has 4)",
                             "model.stage_dims has %d entries", n);
    if (c->n_depths != n || c->n_heads != n || c->n_windows != n)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0,
                             "give model.stage_dims, stage_depths, stage_heads and windows one "
                             "entry per stage each",
                             "TinyViT stage lists differ in length: dims %d, depths %d, heads "
                             "%d, windows %d",
                             n, c->n_depths, c->n_heads, c->n_windows);
    if (c->dims[0] < 2)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "use a stage-1 width of 2 or more",
                             "model.stage_dims[0] = %d is too narrow for the stem", c->dims[0]);
    for (int i = 1; i < n; i++)
        if (c->dims[i] % c->heads[i] != 0)
            return kd_err_setfix(e, KD_ERR_CONFIG, "", 0,
                                 "pick a head count that divides the stage width",
                                 "stage %d: model.stage_heads %d does not divide "
                                 "model.stage_dims %d",
                                 i + 1, c->heads[i], c->dims[i]);
    return 0;
}

/* Shapes, units and parameter registration, in TinyViT's module order. */
static int tinyvit_register(struct tinyvit *m, const struct tinyvit_spec *c)
{
    struct params *ps = &m->params;
    int total = 0, n_blocks = 0, u = 0, g = 0;
    for (int i = 0; i < m->stages; i++)
        total += m->depths[i];
    for (int i = 1; i < m->stages; i++)
        n_blocks += m->depths[i];
    m->n_units = total + m->stages - 1;
    m->mb = calloc(m->depths[0], sizeof *m->mb);
    m->blocks = calloc(n_blocks ? n_blocks : 1, sizeof *m->blocks);
    m->units = calloc(m->n_units, sizeof *m->units);
    if (!m->mb || !m->blocks || !m->units)
        return -1;
    params_begin(ps);
    ps->init = c->init;
    int C0 = m->dims[0];
    conv_bn_init(&m->stem0, ps, "patch_embed.seq.0", m->in_ch, C0 / 2, 3, 2, 0, 1.0f);
    conv_bn_init(&m->stem1, ps, "patch_embed.seq.2", C0 / 2, C0, 3, m->img >= 112 ? 2 : 1, 0, 1.0f);
    m->stem_side = conv_bn_out(&m->stem0, m->img);
    m->side[0] = conv_bn_out(&m->stem1, m->stem_side);
    for (int i = 0, nb = 0; i < m->stages; i++) {
        for (int d = 0; d < m->depths[i]; d++, g++, u++) {
            char name[64];
            snprintf(name, sizeof name, "layers.%d.blocks.%d", i, d);
            /* TinyViT: torch.linspace(0, drop_path_rate, sum(depths)) over all blocks. */
            float dp = total > 1 ? c->drop_path * g / (total - 1) : 0.0f;
            struct tinyvit_unit *t = &m->units[u];
            *t = (struct tinyvit_unit){i ? TV_BLOCK : TV_MBCONV, i ? nb : d, i, m->side[i], g};
            if (i == 0)
                mbconv_init(&m->mb[d], ps, name, m->dims[0], 4.0f, dp);
            else
                tinyvit_block_init(&m->blocks[nb++], ps, name, m->dims[i], m->heads[i],
                                   m->windows[i], c->mlp_ratio, dp);
        }
        if (i + 1 < m->stages) {
            char name[64];
            snprintf(name, sizeof name, "layers.%d.downsample", i);
            patch_merge_init(&m->merge[i], ps, name, m->dims[i], m->dims[i + 1]);
            m->units[u++] = (struct tinyvit_unit){TV_MERGE, i, i, m->side[i], -1};
            m->side[i + 1] = patch_merge_out(m->side[i]);
        }
    }
    norm_init(&m->norm_head, ps, "norm_head", m->dims[m->stages - 1]);
    linear_init(&m->head, ps, "head", m->dims[m->stages - 1], m->classes, 1);
    return 0;
}

/* Channels of unit u's output. */
static int unit_out_ch(const struct tinyvit *m, const struct tinyvit_unit *t)
{
    return t->kind == TV_MERGE ? m->dims[t->stage + 1] : m->dims[t->stage];
}

static int unit_out_side(const struct tinyvit_unit *t)
{
    return t->kind == TV_MERGE ? patch_merge_out(t->side) : t->side;
}

static size_t unit_scratch(const struct tinyvit *m, const struct tinyvit_unit *t, int B)
{
    int s = t->side;
    if (t->kind == TV_MBCONV)
        return mbconv_scratch_floats(&m->mb[t->idx], B, s, s);
    if (t->kind == TV_BLOCK)
        return tinyvit_block_scratch_floats(&m->blocks[t->idx], B, s, s);
    return patch_merge_scratch_floats(&m->merge[t->idx], B, s, s);
}

static size_t zmax(size_t a, size_t b)
{
    return a > b ? a : b;
}

static void tinyvit_plan(struct tinyvit *m)
{
    struct plan *pl = &m->acts;
    int B = m->Bmax, ss = m->stem_side, s0 = m->side[0], CL = m->dims[m->stages - 1];
    size_t stem = (size_t)B * ss * ss * (m->dims[0] / 2);
    size_t big = (size_t)B * s0 * s0 * m->dims[0];
    size_t scr = zmax(conv_bn_scratch_floats(&m->stem0, B, m->img, m->img),
                      conv_bn_scratch_floats(&m->stem1, B, ss, ss));
    plan_begin(pl);
    plan_add(pl, &m->images, (size_t)B * m->img * m->img * m->in_ch);
    conv_bn_plan_acts(&m->stem0, pl, &m->stem0_a, B, m->img, m->img);
    conv_bn_plan_acts(&m->stem1, pl, &m->stem1_a, B, ss, ss);
    plan_add(pl, &m->stem0_y, stem);
    plan_add(pl, &m->stem0_g, stem);
    plan_add(pl, &m->x[0], big);
    for (int u = 0; u < m->n_units; u++) {
        const struct tinyvit_unit *t = &m->units[u];
        int s = t->side, os = unit_out_side(t);
        size_t out = (size_t)B * os * os * unit_out_ch(m, t);
        plan_add(pl, &m->x[u + 1], out);
        big = zmax(big, out);
        scr = zmax(scr, unit_scratch(m, t, B));
        if (t->kind == TV_MBCONV)
            mbconv_plan_acts(&m->mb[t->idx], pl, &m->mba[t->idx], B, s, s);
        else if (t->kind == TV_BLOCK)
            tinyvit_block_plan_acts(&m->blocks[t->idx], pl, &m->ba[t->idx], B, s, s);
        else
            patch_merge_plan_acts(&m->merge[t->idx], pl, &m->ma[t->idx], B, s, s);
    }
    plan_add(pl, &m->pooled, (size_t)B * CL);
    plan_add(pl, &m->pooled_n, (size_t)B * CL);
    plan_add(pl, &m->head_s.mean, B);
    plan_add(pl, &m->head_s.rstd, B);
    plan_add(pl, &m->logits, (size_t)B * m->classes);
    plan_add(pl, &m->scratch, scr);
    plan_add(pl, &m->d_a, zmax(big, stem));
    plan_add(pl, &m->d_b, zmax(big, stem));
    plan_add(pl, &m->d_pooled, (size_t)B * CL);
    plan_add(pl, &m->d_pooled_n, (size_t)B * CL);
}

int tinyvit_init(struct tinyvit *m, const struct tinyvit_spec *spec, int Bmax, struct kd_err *e)
{
    memset(m, 0, sizeof *m);
    int rc = tinyvit_check(spec, e);
    if (rc)
        return rc;
    m->img = spec->img;
    m->in_ch = spec->in_ch;
    m->classes = spec->classes;
    m->Bmax = Bmax;
    m->stages = spec->n_dims;
    for (int i = 0; i < m->stages; i++) {
        m->dims[i] = spec->dims[i];
        m->depths[i] = spec->depths[i];
        m->heads[i] = spec->heads[i];
        m->windows[i] = spec->windows[i];
    }
    if (tinyvit_register(m, spec))
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    m->x = calloc(m->n_units + 1, sizeof *m->x);
    m->mba = calloc(m->depths[0], sizeof *m->mba);
    m->ba = calloc(m->n_units, sizeof *m->ba);
    if (!m->x || !m->mba || !m->ba)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    rc = params_alloc(&m->params, e);
    if (rc)
        return rc;
    tinyvit_plan(m);
    return plan_alloc(&m->acts, e);
}

void tinyvit_free(struct tinyvit *m)
{
    params_free(&m->params);
    plan_free(&m->acts);
    free(m->mb);
    free(m->blocks);
    free(m->units);
    free(m->x);
    free(m->mba);
    free(m->ba);
    memset(m, 0, sizeof *m);
}

void tinyvit_reset(struct tinyvit *m, uint64_t seed)
{
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_INIT, 0, 0);
    conv_bn_reset(&m->stem0, &r);
    conv_bn_reset(&m->stem1, &r);
    for (int u = 0; u < m->n_units; u++) {
        const struct tinyvit_unit *t = &m->units[u];
        if (t->kind == TV_MBCONV)
            mbconv_reset(&m->mb[t->idx], &r);
        else if (t->kind == TV_BLOCK)
            tinyvit_block_reset(&m->blocks[t->idx], &r);
        else
            patch_merge_reset(&m->merge[t->idx], &r);
    }
    norm_reset(&m->norm_head);
    linear_reset(&m->head, &r);
}

void tinyvit_forward(struct tinyvit *m, const float *images, int B, int training, uint64_t seed,
                     int step)
{
    KD_ASSERT(B <= m->Bmax);
    int ss = m->stem_side, CL = m->dims[m->stages - 1];
    /* A copy, so the backward's stem weight gradient does not depend on the caller's buffer. */
    memcpy(m->images, images, sizeof(float) * B * m->img * m->img * m->in_ch);
    conv_bn_forward(&m->stem0, m->stem0_y, &m->stem0_a, m->scratch, m->images, B, m->img, m->img,
                    training);
    gelu_forward(m->stem0_g, m->stem0_y, (size_t)B * ss * ss * (m->dims[0] / 2));
    conv_bn_forward(&m->stem1, m->x[0], &m->stem1_a, m->scratch, m->stem0_g, B, ss, ss, training);
    for (int u = 0; u < m->n_units; u++) {
        const struct tinyvit_unit *t = &m->units[u];
        int s = t->side;
        if (t->kind == TV_MBCONV)
            mbconv_forward(&m->mb[t->idx], m->x[u + 1], &m->mba[t->idx], m->scratch, m->x[u], B, s,
                           s, training, seed, step, t->layer);
        else if (t->kind == TV_BLOCK)
            tinyvit_block_forward(&m->blocks[t->idx], m->x[u + 1], &m->ba[t->idx], m->scratch,
                                  m->x[u], B, s, s, training, seed, step, t->layer);
        else
            patch_merge_forward(&m->merge[t->idx], m->x[u + 1], &m->ma[t->idx], m->scratch, m->x[u],
                                B, s, s, training);
    }
    int sl = m->side[m->stages - 1];
    meanpool_forward(m->pooled, m->x[m->n_units], B, sl * sl, CL);
    norm_forward(&m->norm_head, m->pooled_n, &m->head_s, m->pooled, B);
    linear_forward(&m->head, m->logits, m->pooled_n, B);
}

static void unit_backward(struct tinyvit *m, int u, float *dx, const float *dy, int B)
{
    const struct tinyvit_unit *t = &m->units[u];
    int s = t->side;
    if (t->kind == TV_MBCONV)
        mbconv_backward(&m->mb[t->idx], dx, m->scratch, dy, m->x[u], &m->mba[t->idx], B, s, s);
    else if (t->kind == TV_BLOCK)
        tinyvit_block_backward(&m->blocks[t->idx], dx, m->scratch, dy, m->x[u], &m->ba[t->idx], B,
                               s, s);
    else
        patch_merge_backward(&m->merge[t->idx], dx, m->scratch, dy, m->x[u], &m->ma[t->idx], B, s,
                             s);
}

/* Size in floats of x[u] for B images (u = 0: the stem output). */
static size_t map_floats(const struct tinyvit *m, int u, int B)
{
    if (u == 0)
        return (size_t)B * m->side[0] * m->side[0] * m->dims[0];
    const struct tinyvit_unit *t = &m->units[u - 1];
    int os = unit_out_side(t);
    return (size_t)B * os * os * unit_out_ch(m, t);
}

void tinyvit_backward(struct tinyvit *m, const float *d_logits, int B)
{
    int CL = m->dims[m->stages - 1], sl = m->side[m->stages - 1], ss = m->stem_side;
    float *dy = m->d_a, *dx = m->d_b;
    memset(m->d_pooled_n, 0, sizeof(float) * B * CL);
    linear_backward(&m->head, m->d_pooled_n, d_logits, m->pooled_n, B);
    memset(m->d_pooled, 0, sizeof(float) * B * CL);
    norm_backward(&m->norm_head, m->d_pooled, m->d_pooled_n, m->pooled, &m->head_s, B);
    memset(dy, 0, sizeof(float) * map_floats(m, m->n_units, B));
    meanpool_backward(dy, m->d_pooled, B, sl * sl, CL);
    for (int u = m->n_units - 1; u >= 0; u--) {
        memset(dx, 0, sizeof(float) * map_floats(m, u, B));
        unit_backward(m, u, dx, dy, B);
        float *tmp = dy;
        dy = dx;
        dx = tmp;
    }
    size_t ns = (size_t)B * ss * ss * (m->dims[0] / 2);
    memset(dx, 0, sizeof(float) * ns);
    conv_bn_backward(&m->stem1, dx, m->scratch, dy, m->stem0_g, &m->stem1_a, B, ss, ss);
    memset(dy, 0, sizeof(float) * ns);
    gelu_backward(dy, dx, m->stem0_y, ns);
    conv_bn_backward(&m->stem0, NULL, m->scratch, dy, m->images, &m->stem0_a, B, m->img, m->img);
}

double tinyvit_macs(const struct tinyvit *m)
{
    double macs = conv_bn_macs(&m->stem0, m->img, m->img) +
                  conv_bn_macs(&m->stem1, m->stem_side, m->stem_side);
    for (int u = 0; u < m->n_units; u++) {
        const struct tinyvit_unit *t = &m->units[u];
        if (t->kind == TV_MBCONV)
            macs += mbconv_macs(&m->mb[t->idx], t->side, t->side);
        else if (t->kind == TV_BLOCK)
            macs += tinyvit_block_macs(&m->blocks[t->idx], t->side, t->side);
        else
            macs += patch_merge_macs(&m->merge[t->idx], t->side, t->side);
    }
    return macs + (double)m->dims[m->stages - 1] * m->classes;
}
