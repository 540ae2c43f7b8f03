/* Mean squared error between two sets of feature vectors: DC-ViT's fine-tuning objective (the
 * compressed model's final tokens against the original's) and its held-out measure. Sums run
 * in double in index order, so a sum split over batches adds up to the same bits. */
#include "loss/loss.h"

double feature_sq_err_add(double acc, const float *pred, const float *target, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        acc += (double)d * d;
    }
    return acc;
}

double feature_mse_loss(float *dpred, const float *pred, const float *target, float weight,
                        size_t n)
{
    for (size_t i = 0; dpred && i < n; i++)
        dpred[i] += weight * 2.0f * (pred[i] - target[i]) / (float)n;
    return feature_sq_err_add(0.0, pred, target, n) / n;
}
