/* SEED plus the student's own MoCo-v2 loss (SEED Table 4, "SEED + MoCo"): the SEED loss
 * against the teacher's queue, and key_weight times InfoNCE of the student's embeddings against
 * its EMA copy's keys of a second view and the queue of those keys. */
#include "loss/loss_ssl.h"
#include "loss/loss_table.h"

size_t seed_moco_work(const struct loss_in *in)
{
    return seed_queue_work_floats(in->rows, in->K, in->D) +
           infonce_work_floats(in->rows, in->K, in->D);
}

double seed_moco_forward(const struct loss_in *in)
{
    float l = seed_queue_loss(in->ds, in->work, in->s, in->t, in->queue, in->tau_s, in->tau_t,
                              in->weight, in->rows, in->K, in->D);
    float *work2 = in->work + seed_queue_work_floats(in->rows, in->K, in->D);
    l += infonce_loss(in->ds, work2, in->s, in->keys, in->key_queue, in->tau,
                      in->weight * in->key_weight, in->rows, in->K, in->D) *
         in->key_weight;
    return l;
}
