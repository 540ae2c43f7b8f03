/* Smooth-L1 (Huber with torch's beta convention), mean over elements: TinyMIM's feature
 * distillation baseline (beta 2.0). */
#include "loss/loss.h"

#include <math.h>

float smooth_l1_loss(float *dpred, const float *pred, const float *target, float beta,
                     float weight, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i], a = fabsf(d);
        total += a < beta ? 0.5 * d * d / beta : a - 0.5 * beta;
        if (dpred)
            dpred[i] += weight * (a < beta ? d / beta : (d > 0 ? 1.0f : -1.0f)) / (float)n;
    }
    return (float)(total / n);
}
