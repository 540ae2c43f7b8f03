/* Backward of embedding-vs-queue similarities, the step InfoNCE and SEED share. */
#include "loss/loss_ssl.h"

#include <cblas.h>

void queue_sim_backward(float *dz, float *dzn, const float *ds, const float *pos,
                        const float *queue, const float *zn, const float *norms, int B, int K,
                        int D)
{
    int L = K + 1;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++)
            dzn[(size_t)b * D + j] = ds[(size_t)b * L] * pos[(size_t)b * D + j];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, K, 1.0f, ds + 1, L, queue, D,
                1.0f, dzn, D);
    l2norm_backward(dz, dzn, zn, norms, B, D);
}
