/* Cosine distance between student and teacher embeddings, 1 - cos, a Table 4 alternative. */
#include "loss/loss_ssl.h"
#include "loss/loss_table.h"

size_t embed_cosine_work_floats(int B, int D)
{
    return 2 * (size_t)B * D + B;
}

float embed_cosine_loss(float *dzs, float *work, const float *zs, const float *zt, float weight,
                        int B, int D)
{
    float *zn = work, *norms = zn + (size_t)B * D, *dzn = norms + B;
    l2norm_forward(zn, norms, zs, B, D);
    double total = 0;
    for (int b = 0; b < B; b++) {
        double c = 0;
        for (int j = 0; j < D; j++)
            c += (double)zn[(size_t)b * D + j] * zt[(size_t)b * D + j];
        total += 1.0 - c;
    }
    for (size_t i = 0; i < (size_t)B * D; i++)
        dzn[i] = -weight * zt[i] / B;
    if (dzs)
        l2norm_backward(dzs, dzn, zn, norms, B, D);
    return (float)(total / B);
}

/* The table's "cosine" (loss_table.h: LOSS_EMBED). */
size_t embed_cosine_work(const struct loss_in *in)
{
    return embed_cosine_work_floats(in->rows, in->D);
}

double embed_cosine_forward(const struct loss_in *in)
{
    return embed_cosine_loss(in->ds, in->work, in->s, in->t, in->weight, in->rows, in->D);
}
