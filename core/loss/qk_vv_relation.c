/* TinyMIM's relation distillation (paper Eq. 4-9; OliverRensu/TinyMIM vit.py return_relation):
 * per sample and head, over all tokens (CLS included), R_XY = softmax(X Y^T * s) with
 * s = head_dim^-0.5 of that model, for the pairs QK (the attention map itself) and VV, or
 * QQ, KK, VV (Table 7). The loss is KL(R_teacher || R_student) summed over keys and averaged
 * over batch, heads and queries, summed over the pairs with equal weights. */
#include "loss/loss.h"
#include "loss/loss_table.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>

static const int pair_x[4] = {0, 2, 0, 1}, pair_y[4] = {1, 2, 0, 1}; /* QK VV QQ KK */

size_t relation_scratch_floats(int T, int hd_max)
{
    return (size_t)4 * T * T + (size_t)4 * T * hd_max;
}

/* Rows of one head: out (T, hd) from qkv (T, 3C) at column `col`. */
static void head_gather(float *out, const float *qkv, int T, int C3, int col, int hd)
{
    for (int t = 0; t < T; t++)
        memcpy(out + (size_t)t * hd, qkv + (size_t)t * C3 + col, sizeof(float) * hd);
}

/* logp (T, T) = log_softmax(X Y^T * s) */
static void relation_log(float *logp, const float *X, const float *Y, int T, int hd, float s)
{
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) {
            float acc = 0;
            for (int d = 0; d < hd; d++)
                acc += X[(size_t)i * hd + d] * Y[(size_t)j * hd + d];
            logp[(size_t)i * T + j] = acc;
        }
    log_softmax_forward(logp, logp, s, T, T);
}

/* One (sample, head, pair): returns sum over queries of KL; accumulates c * d/d(student X, Y)
 * into the student's qkv gradient rows. */
static double relation_one(float *d_sqkv, float *sc, const float *s_qkv, const float *t_qkv, int p,
                           int h, int T, int Cs, int Ct, int NH, float c)
{
    int hs = Cs / NH, ht = Ct / NH, hmax = hs > ht ? hs : ht;
    float *lt = sc, *ls = sc + (size_t)T * T, *dz = sc + (size_t)2 * T * T;
    float *X = sc + (size_t)4 * T * T, *Y = X + (size_t)T * hmax;
    float *dX = Y + (size_t)T * hmax, *dY = dX + (size_t)T * hmax;
    head_gather(X, t_qkv, T, 3 * Ct, pair_x[p] * Ct + h * ht, ht);
    head_gather(Y, t_qkv, T, 3 * Ct, pair_y[p] * Ct + h * ht, ht);
    relation_log(lt, X, Y, T, ht, 1.0f / sqrtf((float)ht));
    head_gather(X, s_qkv, T, 3 * Cs, pair_x[p] * Cs + h * hs, hs);
    head_gather(Y, s_qkv, T, 3 * Cs, pair_y[p] * Cs + h * hs, hs);
    float s = 1.0f / sqrtf((float)hs);
    relation_log(ls, X, Y, T, hs, s);
    double kl = 0;
    for (size_t i = 0; i < (size_t)T * T; i++) {
        float pt = expf(lt[i]);
        kl += pt > 0 ? (double)pt * (lt[i] - ls[i]) : 0.0;
        /* d KL / d logits = p_s - p_t (rows of p_t sum to 1); times s for the raw dot */
        dz[i] = c * s * (expf(ls[i]) - pt);
    }
    if (!d_sqkv)
        return kl;
    memset(dX, 0, sizeof(float) * 2 * T * hmax);
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) {
            float g = dz[(size_t)i * T + j];
            for (int d = 0; d < hs; d++) {
                dX[(size_t)i * hs + d] += g * Y[(size_t)j * hs + d];
                dY[(size_t)j * hs + d] += g * X[(size_t)i * hs + d];
            }
        }
    int cx = pair_x[p] * Cs + h * hs, cy = pair_y[p] * Cs + h * hs;
    for (int t = 0; t < T; t++)
        for (int d = 0; d < hs; d++) {
            d_sqkv[(size_t)t * 3 * Cs + cx + d] += dX[(size_t)t * hs + d];
            d_sqkv[(size_t)t * 3 * Cs + cy + d] += dY[(size_t)t * hs + d];
        }
    return kl;
}

float relation_loss(float *d_sqkv, float *scratch, const float *s_qkv, const float *t_qkv,
                    int pairs, float weight, int B, int T, int Cs, int Ct, int NH)
{
    double total = 0, norm = (double)B * NH * T;
    float c = (float)(weight / norm);
    for (int b = 0; b < B; b++)
        for (int p = 0; p < 4; p++) {
            if (!(pairs & (1 << p)))
                continue;
            for (int h = 0; h < NH; h++)
                total += relation_one(d_sqkv ? d_sqkv + (size_t)b * T * 3 * Cs : NULL, scratch,
                                      s_qkv + (size_t)b * T * 3 * Cs,
                                      t_qkv + (size_t)b * T * 3 * Ct, p, h, T, Cs, Ct, NH, c);
        }
    return (float)(total / norm);
}

/* The table's "relation" (loss_table.h: LOSS_RELATION). */
size_t relation_work(const struct loss_in *in)
{
    return relation_scratch_floats(in->T, (in->Cs > in->Ct ? in->Cs : in->Ct) / in->heads);
}

double relation_forward(const struct loss_in *in)
{
    return relation_loss(in->ds, in->work, in->s, in->t, in->pairs, in->weight, in->rows, in->T,
                         in->Cs, in->Ct, in->heads);
}
