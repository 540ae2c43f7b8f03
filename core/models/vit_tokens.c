/* The ViT over a subset of its patch tokens and in partial passes: MAE's encoder on the visible
 * patches, masked-input distillation, a teacher run up to its target block, and a student whose
 * gradient enters at one block's qkv (TinyMIM's relations). Same parameters and buffers as
 * vit_forward; only the token count Tk = n_keep + 1 is smaller. */
#include "models/vit.h"
#include "ops/ops.h"
#include "base/err.h"

#include <string.h>

/* Copy patch p of one image (S, S, ch) into out (P*P*ch), pixels in (py, px, ch) order. */
static void patch_copy(float *out, const float *img, int S, int P, int ch, int p)
{
    int G = S / P, gy = p / G, gx = p % G, row = P * ch;
    for (int py = 0; py < P; py++)
        memcpy(out + (size_t)py * row, img + ((size_t)(gy * P + py) * S + gx * P) * ch,
               sizeof(float) * row);
}

void vit_patchify(const struct vit *m, float *out, const float *images, int B)
{
    size_t img = (size_t)m->img * m->img * m->in_ch;
    for (int b = 0; b < B; b++)
        for (int p = 0; p < m->NP; p++)
            patch_copy(out + ((size_t)b * m->NP + p) * m->PPC, images + b * img, m->img, m->patch,
                       m->in_ch, p);
}

/* Patch index of token j (0-based among the patch tokens) of sample b. */
static inline int kept(const int *keep, int n_keep, int b, int j)
{
    return keep ? keep[(size_t)b * n_keep + j] : j;
}

void vit_forward_tokens(struct vit *m, const float *images, const int *keep, int n_keep,
                        int n_blocks, int B, int training, uint64_t seed, int step)
{
    int C = m->C, Tk = n_keep + 1;
    size_t img = (size_t)m->img * m->img * m->in_ch;
    KD_ASSERT(B <= m->Bmax && n_keep >= 1 && n_keep <= m->NP && n_blocks <= m->depth);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < n_keep; j++)
            patch_copy(m->patches + ((size_t)b * n_keep + j) * m->PPC, images + b * img, m->img,
                       m->patch, m->in_ch, kept(keep, n_keep, b, j));
    linear_forward(&m->patch_embed, m->emb, m->patches, B * n_keep);
    float *x = m->resid[0];
    for (int b = 0; b < B; b++) {
        float *xb = x + (size_t)b * Tk * C;
        add_forward(xb, m->cls, m->pos, C);
        for (int j = 0; j < n_keep; j++)
            add_forward(xb + (size_t)(j + 1) * C, m->emb + ((size_t)b * n_keep + j) * C,
                        m->pos + (size_t)(kept(keep, n_keep, b, j) + 1) * C, C);
    }
    for (int l = 0; l < n_blocks; l++) {
        block_draw_droppath(&m->blocks[l], &m->ba[l], seed, step, l, B, training);
        block_forward(&m->blocks[l], m->resid[l + 1], &m->ba[l], m->resid[l], B, Tk);
    }
    if (n_blocks == m->depth)
        norm_forward(&m->norm, m->feat, &m->feat_s, m->resid[m->depth], B * Tk);
}

/* From dy = d(resid[top]) down through blocks top-1 .. 0 and the embeddings. */
static void backward_below(struct vit *m, float *dy, int top, const int *keep, int n_keep, int B)
{
    int C = m->C, Tk = n_keep + 1;
    size_t BTC = (size_t)B * Tk * C;
    float *dx = dy == m->d_a ? m->d_b : m->d_a;
    for (int l = top - 1; l >= 0; l--) {
        memset(dx, 0, sizeof(float) * BTC);
        block_backward(&m->blocks[l], dx, dy, m->resid[l], &m->ba[l], &m->bs, B, Tk);
        float *t = dy;
        dy = dx;
        dx = t;
    }
    int cls_trains = !params_slot_frozen(&m->params, &m->cls);
    int pos_trains = !params_slot_frozen(&m->params, &m->pos);
    for (int b = 0; b < B; b++) {
        const float *db = dy + (size_t)b * Tk * C;
        if (cls_trains)
            add_forward(m->gcls, m->gcls, db, C);
        for (int j = -1; pos_trains && j < n_keep; j++) {
            float *gp = m->gpos + (size_t)(j < 0 ? 0 : kept(keep, n_keep, b, j) + 1) * C;
            add_forward(gp, gp, db + (size_t)(j + 1) * C, C);
        }
        memcpy(m->emb + (size_t)b * n_keep * C, db + C, sizeof(float) * n_keep * C);
    }
    /* emb is no longer needed in this step: it now holds d(emb). */
    linear_backward(&m->patch_embed, NULL, m->emb, m->patches, B * n_keep);
}

void vit_backward_tokens(struct vit *m, const float *d_feat, const int *keep, int n_keep, int B)
{
    vit_sync_frozen(m);
    size_t BTC = (size_t)B * (n_keep + 1) * m->C;
    memset(m->d_a, 0, sizeof(float) * BTC);
    norm_backward(&m->norm, m->d_a, d_feat, m->resid[m->depth], &m->feat_s, B * (n_keep + 1));
    backward_below(m, m->d_a, m->depth, keep, n_keep, B);
}

void vit_backward_from_qkv(struct vit *m, int layer, const float *d_qkv, const int *keep,
                           int n_keep, int B)
{
    int Tk = n_keep + 1;
    vit_sync_frozen(m);
    memset(m->d_a, 0, sizeof(float) * B * Tk * m->C);
    block_backward_from_qkv(&m->blocks[layer], m->d_a, d_qkv, m->resid[layer], &m->ba[layer],
                            &m->bs, B, Tk);
    backward_below(m, m->d_a, layer, keep, n_keep, B);
}
