/* Smooth-L1 (Huber with torch's beta convention), mean over elements: TinyMIM's feature
 * distillation baseline (beta 2.0). */
#include "loss/loss.h"
#include "loss/loss_table.h"

#include <math.h>

float smooth_l1_loss(float *dpred, const float *pred, const float *target, float beta, float weight,
                     size_t n)
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

/* The table's "feature" (loss_table.h: LOSS_FEATURE): TinyMIM's beta 2.0, no scratch. */
size_t smooth_l1_work(const struct loss_in *in)
{
    return 0;
}

double smooth_l1_forward(const struct loss_in *in)
{
    return smooth_l1_loss(in->ds, in->s, in->t, 2.0f, in->weight, (size_t)in->rows * in->D);
}
