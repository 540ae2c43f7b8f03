/* MAE's decoder: wiring of embedding, mask tokens, sin-cos positions, blocks, norm and the
 * pixel predictor (see mae_decoder.h). */
#include "models/mae_decoder.h"
#include "ops/ops.h"
#include "base/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mae_decoder_init(struct mae_decoder *d, int C_enc, int dim, int depth, int heads,
                     float mlp_ratio, int NP, int PPC, int Bmax, struct kd_err *e)
{
    memset(d, 0, sizeof *d);
    if (dim % heads != 0 || dim % 4 != 0)
        return kd_err_setfix(
            e, KD_ERR_CONFIG, "", 0, "pick a width that is a multiple of 4 and of the heads",
            "tinymim.decoder_heads %d / tinymim.decoder_dim %d do not fit", heads, dim);
    d->C_enc = C_enc, d->C = dim, d->depth = depth, d->NH = heads;
    d->NP = NP, d->PPC = PPC, d->T = NP + 1, d->Bmax = Bmax;
    d->blocks = calloc(depth, sizeof *d->blocks);
    d->ba = calloc(depth, sizeof *d->ba);
    d->resid = calloc(depth + 1, sizeof *d->resid);
    if (!d->blocks || !d->ba || !d->resid)
        return kd_err_set(e, KD_ERR_NOMEM, "", 0, "out of memory");
    struct params *ps = &d->params;
    params_begin(ps);
    linear_init(&d->embed, ps, "decoder.embed", C_enc, dim, 1);
    params_add(ps, &d->mask_token, &d->gmask, 0, "decoder", "mask_token", 1, 1, dim, 0);
    params_add(ps, &d->pos, &d->gpos, 0, "decoder", "pos_embed", 1, d->T, dim, 0);
    ps->p[ps->n - 1].frozen = 1;
    int hidden = (int)(mlp_ratio * dim + 0.5f);
    for (int l = 0; l < depth; l++) {
        char name[40];
        snprintf(name, sizeof name, "decoder.blocks.%d", l);
        block_init(&d->blocks[l], ps, name, dim, heads, hidden, 1, 0.0f);
    }
    norm_init(&d->norm, ps, "decoder.norm", dim);
    linear_init(&d->pred, ps, "decoder.pred", dim, PPC, 1);
    int rc = params_alloc(ps, e);
    if (rc)
        return rc;
    struct plan *pl = &d->acts;
    size_t BTC = (size_t)Bmax * d->T * dim;
    plan_begin(pl);
    plan_add(pl, &d->x_emb, BTC);
    for (int l = 0; l <= depth; l++)
        plan_add(pl, &d->resid[l], BTC);
    for (int l = 0; l < depth; l++)
        block_plan_acts(&d->blocks[l], pl, &d->ba[l], Bmax, d->T);
    plan_add(pl, &d->feat, BTC);
    plan_add(pl, &d->feat_s.mean, (size_t)Bmax * d->T);
    plan_add(pl, &d->feat_s.rstd, (size_t)Bmax * d->T);
    plan_add(pl, &d->out, (size_t)Bmax * NP * PPC);
    block_plan_scratch(pl, &d->bs, dim, hidden, Bmax, d->T);
    plan_add(pl, &d->d_a, BTC);
    plan_add(pl, &d->d_b, BTC);
    plan_add(pl, &d->d_xemb, BTC);
    return plan_alloc(pl, e);
}

void mae_decoder_free(struct mae_decoder *d)
{
    params_free(&d->params);
    plan_free(&d->acts);
    free(d->blocks);
    free(d->ba);
    free(d->resid);
    memset(d, 0, sizeof *d);
}

/* MAE's get_2d_sincos_pos_embed with a zero CLS row: the first half of the channels encodes
 * the column, the second the row, each as [sin(pos w_i), cos(pos w_i)], w_i = 10000^(-i/(C/4)). */
static void sincos_2d(float *pos, int grid, int C)
{
    int q = C / 4;
    memset(pos, 0, sizeof(float) * C);
    for (int gy = 0; gy < grid; gy++)
        for (int gx = 0; gx < grid; gx++) {
            float *row = pos + (size_t)(1 + gy * grid + gx) * C;
            for (int i = 0; i < q; i++) {
                double w = pow(10000.0, -(double)i / q);
                row[i] = (float)sin(gx * w);
                row[q + i] = (float)cos(gx * w);
                row[2 * q + i] = (float)sin(gy * w);
                row[3 * q + i] = (float)cos(gy * w);
            }
        }
}

void mae_decoder_reset(struct mae_decoder *d, uint64_t seed)
{
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_INIT, 1, 0);
    linear_reset(&d->embed, &r);
    init_trunc_normal(d->mask_token, d->C, 0.02f, &r);
    int grid = (int)(sqrt((double)d->NP) + 0.5);
    sincos_2d(d->pos, grid, d->C);
    for (int l = 0; l < d->depth; l++)
        block_reset(&d->blocks[l], &r);
    norm_reset(&d->norm);
    linear_reset(&d->pred, &r);
}

void mae_decoder_forward(struct mae_decoder *d, const float *latent, const int *keep, int n_keep,
                         int B)
{
    int C = d->C, T = d->T, Tk = n_keep + 1;
    KD_ASSERT(B <= d->Bmax);
    linear_forward(&d->embed, d->x_emb, latent, B * Tk);
    float *x = d->resid[0];
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * T * C;
        const float *eb = d->x_emb + (size_t)b * Tk * C;
        for (int t = 1; t < T; t++)
            memcpy(xb + (size_t)t * C, d->mask_token, sizeof(float) * C);
        memcpy(xb, eb, sizeof(float) * C);
        for (int j = 0; j < n_keep; j++)
            memcpy(xb + (size_t)(keep[(size_t)b * n_keep + j] + 1) * C, eb + (size_t)(j + 1) * C,
                   sizeof(float) * C);
        add_forward(xb, xb, d->pos, (size_t)T * C);
    }
    for (int l = 0; l < d->depth; l++) {
        d->ba[l].dp1 = d->ba[l].dp2 = NULL;
        block_forward(&d->blocks[l], d->resid[l + 1], &d->ba[l], d->resid[l], B, T);
    }
    norm_forward(&d->norm, d->feat, &d->feat_s, d->resid[d->depth], B * T);
    for (int b = 0; b < B; b++)
        linear_forward(&d->pred, d->out + (size_t)b * d->NP * d->PPC,
                       d->feat + ((size_t)b * T + 1) * C, d->NP);
}

void mae_decoder_backward(struct mae_decoder *d, float *d_latent, const float *d_out,
                          const float *latent, const int *keep, int n_keep, int B)
{
    int C = d->C, T = d->T, Tk = n_keep + 1;
    size_t BTC = (size_t)B * T * C;
    float *dfeat = d->d_b, *dy = d->d_a, *dx = d->d_b;
    memset(dfeat, 0, sizeof(float) * BTC);
    for (int b = 0; b < B; b++)
        linear_backward(&d->pred, dfeat + ((size_t)b * T + 1) * C,
                        d_out + (size_t)b * d->NP * d->PPC, d->feat + ((size_t)b * T + 1) * C,
                        d->NP);
    memset(dy, 0, sizeof(float) * BTC);
    norm_backward(&d->norm, dy, dfeat, d->resid[d->depth], &d->feat_s, B * T);
    for (int l = d->depth - 1; l >= 0; l--) {
        memset(dx, 0, sizeof(float) * BTC);
        block_backward(&d->blocks[l], dx, dy, d->resid[l], &d->ba[l], &d->bs, B, T);
        float *t = dy;
        dy = dx;
        dx = t;
    }
    /* dy = d(resid[0]); the position embedding is frozen (no gradient kept). */
    for (int b = 0; b < B; b++) {
        const float *db = dy + (size_t)b * T * C;
        float *de = d->d_xemb + (size_t)b * Tk * C;
        int is_kept[T];
        memset(is_kept, 0, sizeof is_kept);
        memcpy(de, db, sizeof(float) * C);
        for (int j = 0; j < n_keep; j++) {
            int p = keep[(size_t)b * n_keep + j];
            is_kept[p + 1] = 1;
            memcpy(de + (size_t)(j + 1) * C, db + (size_t)(p + 1) * C, sizeof(float) * C);
        }
        for (int t = 1; t < T; t++)
            if (!is_kept[t])
                add_forward(d->gmask, d->gmask, db + (size_t)t * C, C);
    }
    memset(d_latent, 0, sizeof(float) * B * Tk * d->C_enc);
    linear_backward(&d->embed, d_latent, d->d_xemb, latent, B * Tk);
}

void mae_mask_draw(int *keep, float *mask, int NP, int n_keep, uint64_t seed, int epoch, int sample)
{
    int perm[NP];
    struct rng r;
    for (int p = 0; p < NP; p++)
        perm[p] = p;
    rng_init(&r, seed, RNG_STREAM_MASK, (uint32_t)epoch, (uint32_t)sample);
    rng_shuffle(&r, perm, NP);
    if (mask)
        for (int p = 0; p < NP; p++)
            mask[p] = 1.0f;
    int n = 0;
    for (int p = 0; p < NP && n < n_keep; p++) {
        int visible = 0;
        for (int j = 0; j < n_keep && !visible; j++)
            visible = perm[j] == p;
        if (visible) {
            keep[n++] = p;
            if (mask)
                mask[p] = 0.0f;
        }
    }
}
