/* Multi-head self-attention core, softmax(Q K^T * scale + bias) V, without the projections.
 * Q, K and V are read in place from the packed qkv activation (row stride 3C), so the fast path
 * is two products per (batch, head) forward and four backward, with no head-split copies.
 * These products are small (T x T x hd), so the (batch, head) pairs are spread over the ops'
 * threads (parallel.h), each computing its own (ops_sgemm_small: its kernel up to 64, else
 * single-threaded OpenBLAS): one pair's work is never split, so the result does not depend on
 * the thread count. */
#include "ops.h"
#include "parallel.h"

#include <math.h>
#include <string.h>

size_t attention_scratch_floats(int T)
{
    return (size_t)T * T * OPS_MAX_THREADS; /* dP / dS of one (batch, head) per thread */
}

/* Threads for B * NH pairs of T x T x hd work: 1 when the whole is too small to split. */
static int attention_threads(int pairs, int T, int hd)
{
    int nt = ops_threads();
    if ((double)pairs * T * T * hd < 1.0e6 || pairs < nt)
        return 1;
    return nt;
}

/* One (b, h) pair of the forward; q points at its Q columns in qkv, a at its (T, T) block. */
static void attention_forward_pair(float *o, float *a, const float *q, const float *bias, int T,
                                   int C, int hd, float scale)
{
    int ld = 3 * C;
    size_t TT = (size_t)T * T;
    /* Scores land in att with scale as sgemm's alpha; the bias is preloaded and added through
     * beta = 1, so neither costs a pass of its own. */
    float beta = 0.0f;
    if (bias) {
        memcpy(a, bias, sizeof(float) * TT);
        beta = 1.0f;
    }
    ops_sgemm_small(0, 1, T, T, hd, scale, q, ld, q + C, ld, beta, a, T);
    softmax_forward_serial(a, a, 1.0f, T, T);
    ops_sgemm_small(0, 0, T, hd, T, 1.0f, a, T, q + 2 * C, ld, 0.0f, o, C);
}

/* out (B, T, C), att (B, NH, T, T), qkv (B, T, 3C), bias (NH, T, T) or NULL. */
void attention_forward(float *restrict out, float *restrict att, const float *restrict qkv,
                       const float *restrict bias, int B, int T, int C, int NH)
{
    int hd = C / NH, ld = 3 * C, pairs = B * NH;
    float scale = 1.0f / sqrtf((float)hd);
    size_t TT = (size_t)T * T;
    int nt = attention_threads(pairs, T, hd), saved = openblas_get_num_threads();
    if (saved > 1) /* OpenBLAS's own threads would split a pair's GEMMs: see gemm.c */
        openblas_set_num_threads(1);
    OPS_OMP(parallel for schedule(static) num_threads(nt))
    for (int p = 0; p < pairs; p++) {
        int b = p / NH, h = p % NH;
        attention_forward_pair(out + (size_t)b * T * C + (size_t)h * hd, att + (size_t)p * TT,
                               qkv + (size_t)b * T * ld + (size_t)h * hd,
                               bias ? bias + (size_t)h * TT : NULL, T, C, hd, scale);
    }
    if (saved > 1)
        openblas_set_num_threads(saved);
}

/* For each (b, h, i): s_j = scale * q_i . k_j + bias_ij, p = softmax(s), out_i = sum_j p_j v_j. */
void attention_forward_ref(float *out, float *att, const float *qkv, const float *bias, int B,
                           int T, int C, int NH)
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

/* One (b, h) pair of the backward (see attention_backward); ds (T, T) is this thread's scratch,
 * db (T, T) this head's slice of dbias or NULL, dq this pair's Q columns in dqkv or NULL. */
static void attention_backward_pair(float *dq, float *db, float *ds, const float *dO,
                                    const float *q, const float *p, int T, int C, int hd,
                                    float scale, float beta)
{
    int ld = 3 * C;
    const float *k = q + C, *v = q + 2 * C;
    size_t TT = (size_t)T * T;
    ops_sgemm_small(0, 1, T, T, hd, 1.0f, dO, C, v, ld, 0.0f, ds, T);
    if (dq)
        ops_sgemm_small(1, 0, T, hd, T, 1.0f, p, T, dO, C, beta, dq + 2 * C, ld);
    for (int i = 0; i < T; i++) {
        const float *pi = p + (size_t)i * T;
        float *di = ds + (size_t)i * T;
        float dot = 0;
        for (int j = 0; j < T; j++)
            dot += di[j] * pi[j];
        for (int j = 0; j < T; j++)
            di[j] = pi[j] * (di[j] - dot);
    }
    if (db)
        for (size_t j = 0; j < TT; j++)
            db[j] += ds[j];
    if (!dq)
        return;
    ops_sgemm_small(0, 0, T, hd, T, scale, ds, T, k, ld, beta, dq, ld);
    ops_sgemm_small(1, 0, T, hd, T, scale, ds, T, q, ld, beta, dq + C, ld);
}

/* dqkv (B, T, 3C) and dbias (NH, T, T) accumulate; either may be NULL. Per (b, h), with P = att:
 * dV += P^T dO; dP = dO V^T; dS = P * (dP - rowsum(dP * P)); dbias += dS;
 * dQ += scale dS K; dK += scale dS^T Q. Each thread keeps dP, then dS in place, in its own T x T
 * of scratch. Pairs are split over threads; with dbias, whole heads are (a head's dbias then
 * sums its batch in order, whatever the thread count). */
static void attention_backward_beta(float *restrict dqkv, float *restrict dbias,
                                    float *restrict scratch, const float *restrict dout,
                                    const float *restrict qkv, const float *restrict att, int B,
                                    int T, int C, int NH, float beta)
{
    int hd = C / NH, ld = 3 * C;
    float scale = 1.0f / sqrtf((float)hd);
    size_t TT = (size_t)T * T;
    if (!dqkv && !dbias)
        return;
    int items = dbias ? NH : B * NH, per = dbias ? B : 1;
    int nt = attention_threads(B * NH, T, hd), saved = openblas_get_num_threads();
    nt = nt > items ? items : nt;
    if (saved > 1) /* OpenBLAS's own threads would split a pair's GEMMs: see gemm.c */
        openblas_set_num_threads(1);
    OPS_OMP(parallel for schedule(static) num_threads(nt))
    for (int it = 0; it < items; it++) {
        float *ds = scratch + (size_t)ops_thread_id() * TT;
        for (int r = 0; r < per; r++) {
            int b = dbias ? r : it / NH, h = dbias ? it : it % NH;
            size_t off = (size_t)b * T * ld + (size_t)h * hd;
            attention_backward_pair(dqkv ? dqkv + off : NULL, dbias ? dbias + (size_t)h * TT : NULL,
                                    ds, dout + (size_t)b * T * C + (size_t)h * hd, qkv + off,
                                    att + ((size_t)b * NH + h) * TT, T, C, hd, scale, beta);
        }
    }
    if (saved > 1)
        openblas_set_num_threads(saved);
}

void attention_backward(float *dqkv, float *dbias, float *scratch, const float *dout,
                        const float *qkv, const float *att, int B, int T, int C, int NH)
{
    attention_backward_beta(dqkv, dbias, scratch, dout, qkv, att, B, T, C, NH, 1.0f);
}

/* Every element of dqkv gets exactly one product per (b, h) (dQ, dK, dV columns of that head),
 * so beta = 0 there overwrites all of it. */
void attention_backward_set(float *dqkv, float *scratch, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH)
{
    attention_backward_beta(dqkv, NULL, scratch, dout, qkv, att, B, T, C, NH, 0.0f);
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
