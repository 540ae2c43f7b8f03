/* Multi-head self-attention core, softmax(Q K^T * scale + bias) V, without the projections.
 * Q, K and V are read in place from the packed qkv activation (row stride 3C), so the fast path
 * is three sgemm calls per (batch, head) forward and four backward, with no head-split copies. */
#include "ops.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* gcc 12 at -O2 vectorizes only loops whose trip count is a known multiple of the vector width
 * ("very cheap" cost model); these kernels' loops over C or n need the ordinary one. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

size_t attention_scratch_floats(int T)
{
    return (size_t)T * T; /* dP / dS of one (batch, head) */
}

/* out (B, T, C), att (B, NH, T, T), qkv (B, T, 3C), bias (NH, T, T) or NULL. */
void attention_forward(float *restrict out, float *restrict att, const float *restrict qkv,
                       const float *restrict bias, int B, int T, int C, int NH)
{
    int hd = C / NH, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)hd);
    size_t TT = (size_t)T * T;
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            const float *q = qkv + (size_t)b * T * ld + (size_t)h * hd;
            float *a = att + ((size_t)b * NH + h) * TT;
            /* Scores land in att with scale as sgemm's alpha; the bias is preloaded and added
             * through beta = 1, so neither costs a pass of its own. */
            float beta = 0.0f;
            if (bias) {
                memcpy(a, bias + (size_t)h * TT, sizeof(float) * TT);
                beta = 1.0f;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, scale, q, ld, q + C,
                        ld, beta, a, T);
            softmax_forward(a, a, 1.0f, T, T);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, a, T,
                        q + 2 * C, ld, 0.0f, out + (size_t)b * T * C + (size_t)h * hd, C);
        }
    }
}

/* For each (b, h, i): s_j = scale * q_i . k_j + bias_ij, p = softmax(s), out_i = sum_j p_j v_j. */
void attention_forward_ref(float *out, float *att, const float *qkv, const float *bias,
                           int B, int T, int C, int NH)
{
    int hd = C / NH;
    size_t ld = 3 * (size_t)C, TT = (size_t)T * T;
    double scale = 1.0 / sqrt((double)hd);
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            const float *base = qkv + (size_t)b * T * ld + (size_t)h * hd;
            float *a = att + ((size_t)b * NH + h) * TT;
            for (int i = 0; i < T; i++) {
                const float *q = base + i * ld;
                float *p = a + (size_t)i * T;
                double m = -INFINITY, sum = 0;
                for (int j = 0; j < T; j++) {
                    const float *k = base + j * ld + C;
                    double s = 0;
                    for (int d = 0; d < hd; d++)
                        s += (double)q[d] * k[d];
                    s = s * scale + (bias ? bias[(size_t)h * TT + (size_t)i * T + j] : 0.0);
                    p[j] = (float)s;
                    m = s > m ? s : m;
                }
                for (int j = 0; j < T; j++)
                    sum += exp(p[j] - m);
                for (int j = 0; j < T; j++)
                    p[j] = (float)(exp(p[j] - m) / sum);
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int j = 0; j < T; j++)
                        o += (double)p[j] * base[j * ld + 2 * C + d];
                    out[((size_t)b * T + i) * C + (size_t)h * hd + d] = (float)o;
                }
            }
        }
    }
}

/* dqkv (B, T, 3C) and dbias (NH, T, T) accumulate; either may be NULL. Per (b, h), with P = att:
 * dV += P^T dO; dP = dO V^T; dS = P * (dP - rowsum(dP * P)); dbias += dS;
 * dQ += scale dS K; dK += scale dS^T Q. scratch holds dP, then dS in place. */
void attention_backward(float *restrict dqkv, float *restrict dbias, float *restrict scratch,
                        const float *restrict dout, const float *restrict qkv,
                        const float *restrict att, int B, int T, int C, int NH)
{
    int hd = C / NH, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)hd);
    size_t TT = (size_t)T * T;
    float *ds = scratch;
    if (!dqkv && !dbias)
        return;
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            size_t off = (size_t)b * T * ld + (size_t)h * hd;
            const float *q = qkv + off, *k = q + C, *v = q + 2 * C;
            const float *p = att + ((size_t)b * NH + h) * TT;
            const float *dO = dout + (size_t)b * T * C + (size_t)h * hd;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1.0f, dO, C, v, ld,
                        0.0f, ds, T);
            if (dqkv)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, 1.0f, p, T, dO, C,
                            1.0f, dqkv + off + 2 * C, ld);
            for (int i = 0; i < T; i++) {
                const float *pi = p + (size_t)i * T;
                float *di = ds + (size_t)i * T;
                float dot = 0;
                for (int j = 0; j < T; j++)
                    dot += di[j] * pi[j];
                for (int j = 0; j < T; j++)
                    di[j] = pi[j] * (di[j] - dot);
            }
            if (dbias) {
                float *db = dbias + (size_t)h * TT;
                for (size_t j = 0; j < TT; j++)
                    db[j] += ds[j];
            }
            if (!dqkv)
                continue;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, scale, ds, T, k, ld,
                        1.0f, dqkv + off, ld);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, scale, ds, T, q, ld,
                        1.0f, dqkv + off + C, ld);
        }
    }
}

/* The same chain rule with plain loops and no scratch: dP entries are recomputed on the fly. */
void attention_backward_ref(float *dqkv, float *dbias, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH)
{
    int hd = C / NH;
    size_t ld = 3 * (size_t)C, TT = (size_t)T * T;
    double scale = 1.0 / sqrt((double)hd);
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            size_t off = (size_t)b * T * ld + (size_t)h * hd;
            const float *p = att + ((size_t)b * NH + h) * TT;
            for (int i = 0; i < T; i++) {
                const float *dO = dout + ((size_t)b * T + i) * C + (size_t)h * hd;
                const float *q = qkv + off + i * ld;
                double dot = 0;
                for (int j = 0; j < T; j++) {
                    double dp = 0;
                    for (int d = 0; d < hd; d++)
                        dp += (double)dO[d] * qkv[off + j * ld + 2 * C + d];
                    dot += dp * p[(size_t)i * T + j];
                }
                for (int j = 0; j < T; j++) {
                    const float *k = qkv + off + j * ld + C;
                    double pij = p[(size_t)i * T + j], dp = 0;
                    for (int d = 0; d < hd; d++)
                        dp += (double)dO[d] * k[C + d];
                    double ds = pij * (dp - dot);
                    if (dbias)
                        dbias[(size_t)h * TT + (size_t)i * T + j] += (float)ds;
                    if (!dqkv)
                        continue;
                    for (int d = 0; d < hd; d++) {
                        dqkv[off + i * ld + d] += (float)(scale * ds * k[d]);
                        dqkv[off + j * ld + C + d] += (float)(scale * ds * q[d]);
                        dqkv[off + j * ld + 2 * C + d] += (float)(pij * dO[d]);
                    }
                }
            }
        }
    }
}
