/* Plain l2 between the student's normalized embedding and the teacher's: the simplest
 * distillation baseline of SEED's Table 4. */
#include "loss/loss_ssl.h"
#include "loss/loss_table.h"

size_t embed_l2_work_floats(int B, int D)
{
    return 2 * (size_t)B * D + B;
}

float embed_l2_loss(float *dzs, float *work, const float *zs, const float *zt, float weight, int B,
                    int D)
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

/* The table's "l2" (loss_table.h: LOSS_EMBED). */
size_t embed_l2_work(const struct loss_in *in)
{
    return embed_l2_work_floats(in->rows, in->D);
}

double embed_l2_forward(const struct loss_in *in)
{
    return embed_l2_loss(in->ds, in->work, in->s, in->t, in->weight, in->rows, in->D);
}
