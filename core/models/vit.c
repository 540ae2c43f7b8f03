/* The isotropic ViT: wiring of patch embedding, tokens, blocks, final norm and head. */
#include "models/vit.h"
#include "ops/ops.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vit_register(struct vit *m, const struct vit_spec *spec, const struct vit_layout *lay)
{
    struct params *ps = &m->params;
    params_begin(ps);
    ps->init = spec->init;
    linear_init(&m->patch_embed, ps, "patch_embed.proj", m->PPC, m->C, 1);
    /* timm's patch embedding is an nn.Conv2d, which its init leaves at PyTorch's default */
    m->patch_embed.init = WEIGHT_INIT_TORCH;
    params_add(ps, &m->cls, &m->gcls, 0, "", "cls_token", 1, 1, m->C, 0);
    params_add(ps, &m->pos, &m->gpos, 0, "", "pos_embed", 1, m->T, m->C, 0);
    int hidden = (int)(spec->mlp_ratio * m->C + 0.5f);
    for (int l = 0; l < m->depth; l++) {
        char name[32];
        snprintf(name, sizeof name, "blocks.%d", l);
        /* timm: drop-path rate grows linearly from 0 to drop_path over the depth. */
        float dp = m->depth > 1 ? spec->drop_path * l / (m->depth - 1) : spec->drop_path;
        int h = lay && lay->hidden[l] ? lay->hidden[l] : hidden;
        int nh = lay && lay->heads[l] ? lay->heads[l] : spec->heads;
        block_init(&m->blocks[l], ps, name, m->C, nh, h, !(lay && lay->no_attn[l]), dp);
    }
    norm_init(&m->norm, ps, "norm", m->C);
    linear_init(&m->head, ps, "head", m->C, m->classes, 1);
}

static void vit_plan(struct vit *m)
{
    struct plan *pl = &m->acts;
    size_t B = m->Bmax, BTC = B * m->T * m->C;
    plan_begin(pl);
    plan_add(pl, &m->patches, B * m->NP * m->PPC);
    plan_add(pl, &m->emb, B * m->NP * m->C);
    for (int l = 0; l <= m->depth; l++)
        plan_add(pl, &m->resid[l], BTC);
    for (int l = 0; l < m->depth; l++)
        block_plan_acts(&m->blocks[l], pl, &m->ba[l], m->Bmax, m->T);
    plan_add(pl, &m->feat, BTC);
    plan_add(pl, &m->feat_s.mean, B * m->T);
    plan_add(pl, &m->feat_s.rstd, B * m->T);
    plan_add(pl, &m->pooled, B * m->C);
    plan_add(pl, &m->logits, B * m->classes);
    int hidden = 0;
    for (int l = 0; l < m->depth; l++)
        hidden = m->blocks[l].hidden > hidden ? m->blocks[l].hidden : hidden;
    block_plan_scratch(pl, &m->bs, m->C, hidden, m->Bmax, m->T);
    plan_add(pl, &m->d_a, BTC);
    plan_add(pl, &m->d_b, BTC);
    plan_add(pl, &m->d_pooled, B * m->C);
}

int vit_init(struct vit *m, const struct vit_spec *spec, int Bmax, struct kd_err *e)
{
    return vit_init_layout(m, spec, NULL, Bmax, e);
}

int vit_init_layout(struct vit *m, const struct vit_spec *spec, const struct vit_layout *layout,
                    int Bmax, struct kd_err *e)
{
    memset(m, 0, sizeof *m);
    if (spec->img % spec->patch != 0) {
        kd_err_set(e, KD_ERR_CONFIG, "", 0, "model.patch %d does not divide model.img %d",
                   spec->patch, spec->img);
        return kd_err_fix(e, "pick a patch size that divides the image");
    }
    if (spec->dim % spec->heads != 0) {
        kd_err_set(e, KD_ERR_CONFIG, "", 0, "model.heads %d does not divide model.dim %d",
                   spec->heads, spec->dim);
        return kd_err_fix(e, "pick a head count that divides the width");
    }
    for (int l = 0; layout && l < spec->depth && l < VIT_MAX_DEPTH; l++)
        if (layout->heads[l] && spec->dim % layout->heads[l] != 0)
            return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "pick a head count that divides it",
                                 "block %d: %d heads do not divide model.dim %d", l,
                                 layout->heads[l], spec->dim);
    if (spec->depth > VIT_MAX_DEPTH)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "use at most 64 blocks",
                             "model.depth %d is too deep", spec->depth);
    m->img = spec->img;
    m->in_ch = spec->in_ch;
    m->patch = spec->patch;
    m->grid = spec->img / spec->patch;
    m->NP = m->grid * m->grid;
    m->PPC = spec->patch * spec->patch * spec->in_ch;
    m->T = m->NP + 1;
    m->C = spec->dim;
    m->depth = spec->depth;
    m->classes = spec->classes;
    m->Bmax = Bmax;
    m->blocks = calloc(m->depth, sizeof *m->blocks);
    m->ba = calloc(m->depth, sizeof *m->ba);
    m->resid = calloc(m->depth + 1, sizeof *m->resid);
    if (!m->blocks || !m->ba || !m->resid)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    vit_register(m, spec, layout);
    int rc = params_alloc(&m->params, e);
    if (rc)
        return rc;
    vit_plan(m);
    return plan_alloc(&m->acts, e);
}

void vit_free(struct vit *m)
{
    params_free(&m->params);
    plan_free(&m->acts);
    free(m->blocks);
    free(m->ba);
    free(m->resid);
    memset(m, 0, sizeof *m);
}

void vit_reset(struct vit *m, uint64_t seed)
{
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_INIT, 0, 0);
    linear_reset(&m->patch_embed, &r);
    init_trunc_normal(m->cls, m->C, 0.02f, &r);
    init_trunc_normal(m->pos, (size_t)m->T * m->C, 0.02f, &r);
    for (int l = 0; l < m->depth; l++)
        block_reset(&m->blocks[l], &r);
    norm_reset(&m->norm);
    linear_reset(&m->head, &r);
}

/* (B, img, img, ch) -> (B, NP, P*P*ch), each patch's pixels in (py, px, ch) order. */
static void patchify(float *out, const float *img, int B, int S, int P, int ch)
{
    int G = S / P, row = P * ch;
    for (int b = 0; b < B; b++)
        for (int gy = 0; gy < G; gy++)
            for (int gx = 0; gx < G; gx++)
                for (int py = 0; py < P; py++) {
                    const float *src = img + (((size_t)b * S + gy * P + py) * S + gx * P) * ch;
                    memcpy(out, src, sizeof(float) * row);
                    out += row;
                }
}

void vit_forward(struct vit *m, const float *images, int B, int training, uint64_t seed, int step)
{
    int T = m->T, C = m->C;
    KD_ASSERT(B <= m->Bmax);
    patchify(m->patches, images, B, m->img, m->patch, m->in_ch);
    linear_forward(&m->patch_embed, m->emb, m->patches, B * m->NP);
    float *x = m->resid[0];
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * C;
        add_forward(xb, m->cls, m->pos, C);
        add_forward(xb + C, m->emb + (size_t)b * m->NP * C, m->pos + C, (size_t)m->NP * C);
    }
    for (int l = 0; l < m->depth; l++) {
        block_draw_droppath(&m->blocks[l], &m->ba[l], seed, step, l, B, training);
        block_forward(&m->blocks[l], m->resid[l + 1], &m->ba[l], m->resid[l], B, T);
    }
    norm_forward(&m->norm, m->feat, &m->feat_s, m->resid[m->depth], B * T);
    for (int b = 0; b < B; b++)
        memcpy(m->pooled + (size_t)b * C, m->feat + (size_t)b * T * C, sizeof(float) * C);
    linear_forward(&m->head, m->logits, m->pooled, B);
}

void vit_sync_frozen(struct vit *m)
{
    linear_sync_frozen(&m->patch_embed, &m->params);
    for (int l = 0; l < m->depth; l++)
        block_sync_frozen(&m->blocks[l], &m->params);
    norm_sync_frozen(&m->norm, &m->params);
    linear_sync_frozen(&m->head, &m->params);
}

void vit_backward(struct vit *m, const float *d_logits, const float *d_feat, int B)
{
    int T = m->T, C = m->C;
    vit_sync_frozen(m);
    size_t BTC = (size_t)B * T * C;
    float *d_feat_all = m->d_b; /* gradient w.r.t. feat, then reused */
    if (d_feat)
        memcpy(d_feat_all, d_feat, sizeof(float) * BTC);
    else
        memset(d_feat_all, 0, sizeof(float) * BTC);
    if (d_logits) {
        memset(m->d_pooled, 0, sizeof(float) * B * C);
        linear_backward(&m->head, m->d_pooled, d_logits, m->pooled, B);
        for (int b = 0; b < B; b++)
            add_forward(d_feat_all + (size_t)b * T * C, d_feat_all + (size_t)b * T * C,
                        m->d_pooled + (size_t)b * C, C);
    }
    float *dy = m->d_a, *dx = m->d_b;
    memset(dy, 0, sizeof(float) * BTC);
    norm_backward(&m->norm, dy, d_feat_all, m->resid[m->depth], &m->feat_s, B * T);
    for (int l = m->depth - 1; l >= 0; l--) {
        block_backward_set(&m->blocks[l], dx, dy, m->resid[l], &m->ba[l], &m->bs, B, T);
        float *t = dy;
        dy = dx;
        dx = t;
    }
    /* dy is now d(resid[0]): tokens = [cls; patch embeddings] + pos */
    int cls_trains = !params_slot_frozen(&m->params, &m->cls);
    int pos_trains = !params_slot_frozen(&m->params, &m->pos);
    for (int b = 0; b < B; b++) {
        const float *db = dy + (size_t)b * T * C;
        if (cls_trains)
            add_forward(m->gcls, m->gcls, db, C);
        if (pos_trains)
            add_forward(m->gpos, m->gpos, db, (size_t)T * C);
        memcpy(m->emb + (size_t)b * m->NP * C, db + C, sizeof(float) * m->NP * C);
    }
    /* emb is no longer needed in this step: it now holds d(emb). */
    linear_backward(&m->patch_embed, NULL, m->emb, m->patches, B * m->NP);
}

/* Adjoint of patchify: d_img (B, img, img, ch) += d_patches (B, NP, P*P*ch). */
static void unpatchify_add(float *d_img, const float *d_patches, int B, int S, int P, int ch)
{
    int G = S / P, row = P * ch;
    for (int b = 0; b < B; b++)
        for (int gy = 0; gy < G; gy++)
            for (int gx = 0; gx < G; gx++)
                for (int py = 0; py < P; py++) {
                    float *dst = d_img + (((size_t)b * S + gy * P + py) * S + gx * P) * ch;
                    add_forward(dst, dst, d_patches, row);
                    d_patches += row;
                }
}

void vit_backward_images(struct vit *m, float *d_images, const float *d_logits, const float *d_feat,
                         int B)
{
    vit_backward(m, d_logits, d_feat, B);
    /* vit_backward leaves d(emb) in m->emb; the patches are no longer needed: d(patches). */
    size_t n = (size_t)B * m->NP * m->PPC;
    memset(m->patches, 0, sizeof(float) * n);
    matmul_backward(m->patches, NULL, NULL, m->emb, NULL, m->patch_embed.w, B * m->NP, m->PPC,
                    m->C);
    unpatchify_add(d_images, m->patches, B, m->img, m->patch, m->in_ch);
}

double vit_macs(const struct vit *m)
{
    double T = m->T, C = m->C, macs = (double)m->NP * m->PPC * C;
    for (int l = 0; l < m->depth; l++) {
        const struct block *b = &m->blocks[l];
        if (b->attn)
            macs += T * C * 3 * C + 2 * T * T * C + T * C * C;
        macs += 2 * T * C * b->hidden;
    }
    return macs + C * m->classes;
}
