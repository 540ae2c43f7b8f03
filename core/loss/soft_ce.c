/* Soft cross-entropy against a target distribution: logit distillation with temperature 1. */
#include "loss/loss.h"

#include <math.h>
#include <stddef.h>

float soft_ce_loss(float *dlogits, const float *logits, const float *probs, float weight, int B,
                   int K)
{
    double total = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K, *p = probs + (size_t)b * K;
        float mx = z[0];
        for (int k = 1; k < K; k++)
            mx = z[k] > mx ? z[k] : mx;
        double sum = 0, psum = 0, pz = 0;
        for (int k = 0; k < K; k++) {
            sum += exp((double)z[k] - mx);
            psum += p[k];
            pz += (double)p[k] * z[k];
        }
        double lse = mx + log(sum);
        total += psum * lse - pz;
        if (!dlogits)
            continue;
        float *d = dlogits + (size_t)b * K, s = weight / B;
        for (int k = 0; k < K; k++)
            d[k] += s * ((float)(exp((double)z[k] - lse) * psum) - p[k]);
    }
    return (float)(total / B);
}
