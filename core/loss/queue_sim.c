/* Embedding-vs-queue similarities and their backward, the steps InfoNCE and SEED share. */
#include "loss/loss_ssl.h"

#include "ops/ops.h"

void queue_sim_forward(float *s, const float *a, const float *pos, const float *queue, int B, int K,
                       int D)
{
    int L = K + 1;
    for (int b = 0; b < B; b++) {
        float dot = 0;
        for (int j = 0; j < D; j++)
            dot += a[(size_t)b * D + j] * pos[(size_t)b * D + j];
        s[(size_t)b * L] = dot;
    }
    ops_sgemm(0, 1, B, K, D, 1.0f, a, D, queue, D, 0.0f, s + 1, L);
}

void queue_sim_backward(float *dz, float *dzn, const float *ds, const float *pos,
                        const float *queue, const float *zn, const float *norms, int B, int K,
                        int D)
{
    int L = K + 1;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++)
            dzn[(size_t)b * D + j] = ds[(size_t)b * L] * pos[(size_t)b * D + j];
    ops_sgemm(0, 0, B, D, K, 1.0f, ds + 1, L, queue, D, 1.0f, dzn, D);
    l2norm_backward(dz, dzn, zn, norms, B, D);
}
