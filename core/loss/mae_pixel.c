/* MAE's reconstruction loss (facebookresearch/mae models_mae.py forward_loss): mean squared
 * error per patch over its pixels, averaged over the masked patches only; with norm_pix the
 * target is each patch's pixels normalized by their mean and unbiased variance (eps 1e-6). */
#include "loss/loss.h"

#include <math.h>

float mae_pixel_loss(float *dpred, const float *pred, const float *target, const float *mask,
                     int norm_pix, float weight, int B, int NP, int PPC)
{
    double total = 0, n_masked = 0;
    for (size_t i = 0; i < (size_t)B * NP; i++)
        n_masked += mask[i];
    if (n_masked == 0)
        return 0;
    for (size_t i = 0; i < (size_t)B * NP; i++) {
        if (mask[i] == 0)
            continue;
        const float *t = target + i * PPC, *p = pred + i * PPC;
        double mean = 0, var = 0;
        if (norm_pix) {
            for (int k = 0; k < PPC; k++)
                mean += t[k];
            mean /= PPC;
            for (int k = 0; k < PPC; k++)
                var += (t[k] - mean) * (t[k] - mean);
            var /= PPC > 1 ? PPC - 1 : 1;
        }
        float rs = norm_pix ? (float)(1.0 / sqrt(var + 1e-6)) : 1.0f, m = (float)mean;
        double se = 0;
        for (int k = 0; k < PPC; k++) {
            float d = p[k] - (t[k] - m) * rs;
            se += (double)d * d;
            if (dpred)
                dpred[i * PPC + k] += weight * mask[i] * 2.0f * d / (float)(PPC * n_masked);
        }
        total += mask[i] * se / PPC;
    }
    return (float)(total / n_masked);
}
