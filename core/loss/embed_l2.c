/* Plain l2 between the student's normalized embedding and the teacher's: the simplest
 * distillation baseline of SEED's Table 4. */
#include "loss/loss_ssl.h"

size_t embed_l2_work_floats(int B, int D)
{
    return 2 * (size_t)B * D + B;
}

float embed_l2_loss(float *dzs, float *work, const float *zs, const float *zt, float weight,
                    int B, int D)
{
    float *zn = work, *norms = zn + (size_t)B * D, *dzn = norms + B;
    l2norm_forward(zn, norms, zs, B, D);
    double total = 0;
    for (size_t i = 0; i < (size_t)B * D; i++) {
        float d = zn[i] - zt[i];
        total += (double)d * d;
        dzn[i] = 2.0f * weight * d / B;
    }
    if (dzs)
        l2norm_backward(dzs, dzn, zn, norms, B, D);
    return (float)(total / B);
}
