/* Cross-entropy with label smoothing: the supervised loss of teachers and baselines. */
#include "loss/loss.h"

#include <math.h>
#include <stddef.h>

float ce_loss(float *dlogits, const float *logits, const int *labels, float smoothing, float weight,
              int B, int K)
{
    double total = 0;
    float off = smoothing / K, on = 1.0f - smoothing + off;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        float mx = z[0];
        for (int k = 1; k < K; k++)
            mx = z[k] > mx ? z[k] : mx;
        double sum = 0, zsum = 0;
        for (int k = 0; k < K; k++) {
            sum += exp((double)z[k] - mx);
            zsum += z[k];
        }
        double lse = mx + log(sum);
        /* -sum_k t_k (z_k - lse) with t = off everywhere plus (on - off) at the label */
        total += lse - off * zsum - (on - off) * z[labels[b]];
        if (!dlogits)
            continue;
        float *d = dlogits + (size_t)b * K, s = weight / B;
        for (int k = 0; k < K; k++) {
            float p = (float)exp((double)z[k] - lse);
            d[k] += s * (p - (k == labels[b] ? on : off));
        }
    }
    return (float)(total / B);
}

int ce_correct(const float *logits, const int *labels, int B, int K)
{
    int correct = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (z[k] > z[best])
                best = k;
        correct += best == labels[b];
    }
    return correct;
}
