/* SEED's loss (jacobswan1/SEED seed/builder.py): the student's and the teacher's similarity
 * distributions over [own teacher embedding; queue], soft cross-entropy from teacher to student.
 * As tau_t -> 0 the target is one-hot on column 0 and this is InfoNCE with zt as the positive. */
#include "loss/loss_ssl.h"
#include "loss/loss_table.h"

#include <math.h>
#include <string.h>

size_t seed_queue_work_floats(int B, int K, int D)
{
    return 2 * (size_t)B * D + B + 2 * (size_t)B * (K + 1);
}

/* Row-wise softmax (log_p 0) or log-softmax (log_p 1) of x / tau, in place, sums in double. */
static void softmax_rows(float *x, float tau, int B, int L, int log_p)
{
    for (int b = 0; b < B; b++) {
        float *row = x + (size_t)b * L;
        /* All in double: at tau_t = 1e-4 the scaled similarities are ~1e4, where float and
         * double divisions differ by more than the softmax can absorb. */
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < L; j++)
            mx = (double)row[j] / tau > mx ? (double)row[j] / tau : mx;
        for (int j = 0; j < L; j++)
            sum += exp((double)row[j] / tau - mx);
        double lse = mx + log(sum);
        for (int j = 0; j < L; j++)
            row[j] = log_p ? (float)((double)row[j] / tau - lse)
                           : (float)exp((double)row[j] / tau - lse);
    }
}

float seed_queue_loss(float *dzs, float *work, const float *zs, const float *zt, const float *queue,
                      float tau_s, float tau_t, float weight, int B, int K, int D)
{
    int L = K + 1;
    float *zn = work, *norms = zn + (size_t)B * D, *pt = norms + B, *ps = pt + (size_t)B * L;
    float *dzn = ps + (size_t)B * L;
    l2norm_forward(zn, norms, zs, B, D);
    queue_sim_forward(pt, zt, zt, queue, B, K, D);
    queue_sim_forward(ps, zn, zt, queue, B, K, D);
    softmax_rows(pt, tau_t, B, L, 0);
    softmax_rows(ps, tau_s, B, L, 1);
    double total = 0;
    float g = weight / (tau_s * B);
    for (size_t i = 0; i < (size_t)B * L; i++) {
        if (pt[i] > 0)
            total -= (double)pt[i] * ps[i];
        /* d(loss)/d(student similarity) = (p_S - p_T) / (tau_s B) */
        ps[i] = g * (expf(ps[i]) - pt[i]);
    }
    if (dzs)
        queue_sim_backward(dzs, dzn, ps, zt, queue, zn, norms, B, K, D);
    return (float)(total / B);
}

/* The table's "seed" (loss_table.h: LOSS_EMBED | LOSS_QUEUE). */
size_t seed_queue_work(const struct loss_in *in)
{
    return seed_queue_work_floats(in->rows, in->K, in->D);
}

double seed_queue_forward(const struct loss_in *in)
{
    return seed_queue_loss(in->ds, in->work, in->s, in->t, in->queue, in->tau_s, in->tau_t,
                           in->weight, in->rows, in->K, in->D);
}
