/* InfoNCE with a queue of negatives (MoCo v1/v2: moco/builder.py computes l_pos = q.k,
 * l_neg = q.queue, logits / T, cross-entropy with label 0). */
#include "loss/loss_ssl.h"

#include <math.h>
#include <string.h>

size_t infonce_work_floats(int B, int K, int D)
{
    return 2 * (size_t)B * D + B + (size_t)B * (K + 1);
}

float infonce_loss(float *dq, float *work, const float *q, const float *k, const float *queue,
                   float tau, float weight, int B, int K, int D)
{
    int L = K + 1;
    float *qn = work, *norms = qn + (size_t)B * D, *lg = norms + B, *dqn = lg + (size_t)B * L;
    l2norm_forward(qn, norms, q, B, D);
    queue_sim_forward(lg, qn, k, queue, B, K, D);
    double total = 0;
    float g = weight / (tau * B);
    for (int b = 0; b < B; b++) {
        float *row = lg + (size_t)b * L;
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < L; j++)
            mx = (double)row[j] / tau > mx ? (double)row[j] / tau : mx;
        for (int j = 0; j < L; j++)
            sum += exp((double)row[j] / tau - mx);
        total += mx + log(sum) - (double)row[0] / tau;
        /* row becomes d(loss)/d(similarity): (p - onehot) / (tau B), scaled by weight. */
        for (int j = 0; j < L; j++)
            row[j] = g * ((float)(exp((double)row[j] / tau - mx) / sum) - (j == 0));
    }
    if (dq)
        queue_sim_backward(dq, dqn, lg, k, queue, qn, norms, B, K, D);
    return (float)(total / B);
}
