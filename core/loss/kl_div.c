/* KL(softmax(target) || softmax(logits)), summed over classes and averaged over rows:
 * TinyMIM's class-token distillation baseline, temperature 1; and, in double, DC-ViT's score of
 * a compressed candidate against the original's class distribution. */
#include "loss/loss.h"
#include "loss/loss_table.h"
#include "ops/ops.h"
#include "base/err.h"

#include <math.h>

float kl_div_loss(float *dlogits, float *scratch, const float *logits, const float *target,
                  float weight, int B, int K)
{
    double total = 0;
    float *ls = scratch, *lt = scratch + K;
    for (int b = 0; b < B; b++) {
        log_softmax_forward(ls, logits + (size_t)b * K, 1.0f, 1, K);
        log_softmax_forward(lt, target + (size_t)b * K, 1.0f, 1, K);
        for (int k = 0; k < K; k++) {
            float pt = expf(lt[k]);
            total += (double)pt * (lt[k] - ls[k]);
            if (dlogits)
                dlogits[(size_t)b * K + k] += weight * (expf(ls[k]) - pt) / B;
        }
    }
    return (float)(total / B);
}

/* The table's "cls" (loss_table.h: LOSS_LOGITS). */
size_t kl_div_work(const struct loss_in *in)
{
    return 2 * (size_t)in->D;
}

double kl_div_forward(const struct loss_in *in)
{
    return kl_div_loss(in->ds, in->work, in->s, in->t, in->weight, in->rows, in->D);
}

static void softmax_row(double *p, const float *z, int K)
{
    double mx = z[0], s = 0;
    for (int k = 1; k < K; k++)
        mx = z[k] > mx ? z[k] : mx;
    for (int k = 0; k < K; k++)
        s += p[k] = exp(z[k] - mx);
    for (int k = 0; k < K; k++)
        p[k] /= s;
}

double kl_div_add(double acc, const float *logits, const float *target, int B, int K)
{
    double p[KL_DIV_ADD_MAX_K], q[KL_DIV_ADD_MAX_K];
    KD_ASSERT(K <= KL_DIV_ADD_MAX_K);
    for (int b = 0; b < B; b++) {
        softmax_row(p, target + (size_t)b * K, K);
        softmax_row(q, logits + (size_t)b * K, K);
        for (int k = 0; k < K; k++)
            acc += p[k] * (log(p[k] + 1e-12) - log(q[k] + 1e-12));
    }
    return acc;
}
