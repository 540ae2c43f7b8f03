/* DC-ViT's compressed structure and the weight copy into compressed or block-dropped models. */
#include "models/vit_compress.h"
#include "base/err.h"
#include "base/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double vit_attn_macs(const struct vit *m)
{
    double T = m->T, C = m->C;
    return T * C * 3 * C + 2 * T * T * C + T * C * C;
}

double vit_mlp_macs(const struct vit *m, int hidden)
{
    return 2.0 * m->T * m->C * hidden;
}

int vit_compress_structure(struct vit_compress *s, const struct vit *m, double removed,
                           int n_blocks, int max_blocks, struct kd_err *e)
{
    /* The first block is never compressed, so its width is the original's. */
    int h0 = m->blocks[0].hidden;
    double attn = vit_attn_macs(m), mlp = vit_mlp_macs(m, h0);
    int n = n_blocks > 0 ? n_blocks : (int)ceil(removed / (attn + mlp) - 1e-9);
    memset(s, 0, sizeof *s);
    if (removed <= 0)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "set dcvit.remove > 0",
                             "dcvit.remove asks to remove no MACs");
    if (n < 1 || n > max_blocks)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0,
                             "lower dcvit.remove or set dcvit.n_blocks within the candidates",
                             "%d blocks to compress, but only %d candidates (first and last "
                             "blocks excluded)",
                             n, max_blocks);
    if (removed < n * attn - 1e-6)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0, "lower dcvit.n_blocks or raise dcvit.remove",
                             "removing %.0f MACs cannot drop the attention of %d blocks "
                             "(%.0f MACs)",
                             removed, n, n * attn);
    double keep = 1.0 - (removed - n * attn) / (n * mlp);
    int hidden = (int)lround(keep * h0);
    if (hidden < 1)
        return kd_err_setfix(e, KD_ERR_CONFIG, "", 0,
                             "raise dcvit.n_blocks by one (the paper's k+1 blocks for k)",
                             "dcvit.remove with %d compressed blocks leaves no MLP unit", n);
    s->n = n;
    s->hidden = hidden;
    s->ratio = (double)hidden / m->C;
    return 0;
}

void vit_compress_layout(struct vit_layout *lay, const struct vit *m, const int *blocks, int nb,
                         int hidden)
{
    memset(lay, 0, sizeof *lay);
    for (int l = 0; l < m->depth && l < VIT_MAX_DEPTH; l++) {
        lay->no_attn[l] = !m->blocks[l].attn;
        lay->hidden[l] = m->blocks[l].hidden;
        lay->heads[l] = m->blocks[l].NH;
    }
    for (int i = 0; i < nb; i++) {
        KD_ASSERT(blocks[i] >= 0 && blocks[i] < m->depth);
        lay->no_attn[blocks[i]] = 1;
        lay->hidden[blocks[i]] = hidden;
    }
}

static void copy_floats(float *dst, const float *src, size_t n)
{
    memcpy(dst, src, sizeof(float) * n);
}

static void copy_linear(struct linear *d, const struct linear *s)
{
    KD_ASSERT(d->in == s->in && d->out == s->out);
    copy_floats(d->w, s->w, (size_t)d->out * d->in);
    if (d->has_bias)
        copy_floats(d->b, s->b, d->out);
}

static void copy_norm(struct norm *d, const struct norm *s)
{
    copy_floats(d->w, s->w, d->C);
    copy_floats(d->b, s->b, d->C);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The MLP of d keeps units keep[0..d->hidden-1] of s's. */
static void copy_mlp_subset(struct block *d, const struct block *s, int src_layer, uint64_t seed)
{
    int H = s->hidden, h = d->hidden, C = d->C;
    int *keep = malloc(sizeof(int) * H);
    KD_ASSERT(keep);
    for (int i = 0; i < H; i++)
        keep[i] = i;
    struct rng r;
    rng_init(&r, seed, RNG_STREAM_OTHER, (uint32_t)src_layer, 0x6463);
    rng_shuffle(&r, keep, H);
    qsort(keep, h, sizeof(int), cmp_int);
    for (int j = 0; j < h; j++) {
        copy_floats(d->fc1.w + (size_t)j * C, s->fc1.w + (size_t)keep[j] * C, C);
        d->fc1.b[j] = s->fc1.b[keep[j]];
    }
    for (int c = 0; c < C; c++)
        for (int j = 0; j < h; j++)
            d->fc2.w[(size_t)c * h + j] = s->fc2.w[(size_t)c * H + keep[j]];
    copy_floats(d->fc2.b, s->fc2.b, C);
    free(keep);
}

void vit_compress_copy(struct vit *dst, const struct vit *src, const int *map, uint64_t seed)
{
    KD_ASSERT(dst->C == src->C && dst->T == src->T && dst->classes == src->classes);
    copy_linear(&dst->patch_embed, &src->patch_embed);
    copy_floats(dst->cls, src->cls, dst->C);
    copy_floats(dst->pos, src->pos, (size_t)dst->T * dst->C);
    for (int l = 0; l < dst->depth; l++) {
        int sl = map ? map[l] : l;
        KD_ASSERT(sl >= 0 && sl < src->depth);
        struct block *d = &dst->blocks[l];
        const struct block *s = &src->blocks[sl];
        KD_ASSERT(d->hidden <= s->hidden && (!d->attn || s->attn));
        if (d->attn) {
            copy_norm(&d->ln1, &s->ln1);
            copy_linear(&d->qkv, &s->qkv);
            copy_linear(&d->proj, &s->proj);
        }
        copy_norm(&d->ln2, &s->ln2);
        if (d->hidden == s->hidden) {
            copy_linear(&d->fc1, &s->fc1);
            copy_linear(&d->fc2, &s->fc2);
        } else {
            copy_mlp_subset(d, s, sl, seed);
        }
    }
    copy_norm(&dst->norm, &src->norm);
    copy_linear(&dst->head, &src->head);
}

size_t vit_param_count(const struct vit *m)
{
    size_t n = 0;
    for (int i = 0; i < m->params.n; i++)
        n += m->params.p[i].n;
    return n;
}
