/* KL(softmax(target) || softmax(logits)), summed over classes and averaged over rows:
 * TinyMIM's class-token distillation baseline, temperature 1. */
#include "loss/loss.h"
#include "ops/ops.h"

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
